//! The bash plugin and calls between plugins (the conformance suite is tests/bash-conformance).

use crate::util::Env;

#[test]
fn bash_runs_in_work_and_calls_python_with_the_same_files() {
    let script = r#"echo hi > greeting.txt
mkdir -p sub && cd sub
cat > calc.py <<'EOF'
import os, sys
print(os.getcwd(), sys.argv[1:], sys.stdin.read().strip().upper())
open("from_python.txt", "w").write("written by python")
EOF
echo piped | python3 calc.py a b
cd ..
python3 -c 'print(open("greeting.txt").read().strip())'
cat sub/from_python.txt; echo
python4 2>&1 || echo "status $?"
"#;
    let r = Env::new().bash(script, &[]);
    assert_eq!(r.status(), "OK", "{r:?}");
    assert_eq!(
        r.out(),
        "/work/sub ['a', 'b'] PIPED\nhi\nwritten by python\nmain.sh: line 12: python4: command not found\nstatus 127\n"
    );
    let paths: Vec<&str> = r.json["files"]
        .as_array()
        .unwrap()
        .iter()
        .map(|f| f["path"].as_str().unwrap())
        .collect();
    assert_eq!(
        paths,
        vec!["greeting.txt", "sub/calc.py", "sub/from_python.txt"]
    );
}

#[test]
fn bash_limits() {
    let env = Env::new();
    let r = env.bash("while true; do :; done", &["--max-runtime-seconds", "2"]);
    assert_eq!(r.status(), "TIMEOUT", "{r:?}");
    let r = env.bash("echo start; sleep 100", &["--max-runtime-seconds", "3"]);
    assert_eq!((r.status(), r.out()), ("TIMEOUT", "start\n"), "{r:?}");
    assert!(r.duration_ms() < 5_000, "{}", r.duration_ms());
    let r = env.bash("s=x; while true; do s=$s$s; done", &[]);
    assert_eq!(r.status(), "MEMORY_LIMIT", "{r:?}");
    let r = env.bash("yes | head -c 100000000", &[]);
    assert_eq!(r.status(), "OUTPUT_LIMIT", "{r:?}");
    assert_eq!(r.out().len(), 1024 * 1024);
    let r = env.bash("echo 'foo", &[]);
    assert_eq!(
        (r.status(), r.json["exit_code"].as_i64()),
        ("ERROR", Some(2)),
        "{r:?}"
    );
    assert!(r.err().contains("main.sh"), "{r:?}");
}

#[test]
fn a_python_time_out_inside_bash_ends_the_whole_run() {
    let r = Env::new().bash(
        "echo before\npython3 -c 'while True: pass'\necho after",
        &["--max-runtime-seconds", "2"],
    );
    assert_eq!(r.status(), "TIMEOUT", "{r:?}");
    assert_eq!(r.out(), "before\n");
}

#[test]
fn bash_filters_stream_so_a_long_pipeline_fits_the_default_memory() {
    // 5,000,000 lines (38.9 MB) through wc, cut and uniq: the filters read a piece at a time, so
    // this stays far below the default 256 MiB (before, `wc` held the whole stream and the run
    // ended with MEMORY_LIMIT).
    let env = Env::new();
    let r = env.bash("seq 1 5000000 | wc -l", &[]);
    assert_eq!((r.status(), r.out()), ("OK", "5000000\n"), "{r:?}");
    let r = env.bash("seq 1 3000000 | uniq | cut -c1 | uniq -c | wc -l", &[]);
    assert_eq!((r.status(), r.out()), ("OK", "57\n"), "{r:?}");
}

/// A run limit that leaves the memory limit as the only one these tests meet.
const SLOW: &[&str] = &["--max-runtime-seconds", "300"];

/// An environment whose operator allows [`SLOW`] runs.
fn slow_env() -> Env {
    Env::new().with("CODE_EVAL_VALVE_OVERRIDE_MAX_RUNTIME_SECONDS", "300")
}

#[test]
fn bash_sed_awk_and_tail_stream_so_five_million_lines_fit_the_default_memory() {
    // sed and awk run their line loops as the lines arrive (sed keeps one line of lookahead for
    // `$`), tail keeps only its last lines: before, each of these held the whole 38.9 MB stream,
    // several times over, and ended with MEMORY_LIMIT at the default 256 MiB. The memory limit
    // is the default; the time limit is generous, as these take tens of seconds on a busy machine.
    let env = slow_env();
    let r = env.bash("seq 1 5000000 | sed 's/1/x/' | tail -1", SLOW);
    assert_eq!((r.status(), r.out()), ("OK", "5000000\n"), "{r:?}");
    let r = env.bash("seq 1 5000000 | awk '{s+=$1} END{print s}'", SLOW);
    assert_eq!((r.status(), r.out()), ("OK", "12500002500000\n"), "{r:?}");
    let r = env.bash("seq 1 5000000 | awk 'NR%1000000==0'", SLOW);
    assert_eq!(
        (r.status(), r.out()),
        ("OK", "1000000\n2000000\n3000000\n4000000\n5000000\n"),
        "{r:?}"
    );
    // `$` and a range still see the end of the stream.
    let r = env.bash("seq 1 5000000 | sed -n '4999999,$p'", SLOW);
    assert_eq!((r.status(), r.out()), ("OK", "4999999\n5000000\n"), "{r:?}");
}

#[test]
fn a_sed_awk_pipeline_fits_in_less_memory_than_its_whole_input() {
    // 64 MiB of linear memory in all (the module itself takes 33 MiB: its stack) for a 38.9 MB
    // stream through sed, awk and tail: it fits only if no stage holds the stream.
    let env = slow_env();
    let r = env.bash(
        "seq 1 5000000 | sed 's/^/n/' | awk '{ print substr($1, 2) * 2 }' | tail -n 1",
        &[SLOW, &["--max-ram-mb", "64"]].concat(),
    );
    assert_eq!((r.status(), r.out()), ("OK", "10000000\n"), "{r:?}");
    // A program that needs the whole input still gets it: N joins every line into one.
    let r = env.bash(
        "seq 1 5000000 | sed ':a;N;$!ba;s/\\n/+/g' | wc -c",
        &[SLOW, &["--max-ram-mb", "64"]].concat(),
    );
    assert_eq!(r.status(), "MEMORY_LIMIT", "{r:?}");
}

#[test]
fn bash_functions_recurse_a_thousand_deep_and_runaway_recursion_is_an_ordinary_error() {
    let env = Env::new();
    let r = env.bash(
        "down() { if (( $1 == 0 )); then echo bottom; else down $(( $1 - 1 )); fi; }\ndown 1000\necho after",
        &[],
    );
    assert_eq!((r.status(), r.out()), ("OK", "bottom\nafter\n"), "{r:?}");
    // Unbounded recursion ends with bash's status 2 and a message, not a trap of the host.
    let r = env.bash("f() { f; }\necho start\nf\necho never", &[]);
    assert_eq!(
        (r.status(), r.json["exit_code"].as_i64(), r.out()),
        ("ERROR", Some(2), "start\n"),
        "{r:?}"
    );
    assert!(r.err().contains("maximum function depth exceeded"), "{r:?}");
}

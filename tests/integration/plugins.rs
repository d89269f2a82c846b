//! Plugin artifacts and the precompiled-module cache are checked, never trusted blindly.

use std::io::Write;

use nestbox::plugin::Registry;

use crate::util::{Env, copy_plugin, copy_python_plugin, cwasm_in, repo, sha256_hex};

/// Code that prints "ran" in the plugin's language.
fn prints_ran(plugin: &str) -> &'static str {
    if plugin == "python" {
        "print('ran')"
    } else {
        "echo ran"
    }
}

#[test]
fn a_tampered_runtime_is_refused_and_nothing_runs_for_every_plugin() {
    let installed = Registry::load(&repo().join("plugins")).unwrap();
    assert!(installed.plugins.len() >= 2, "{installed:?}");
    for p in &installed.plugins {
        let name = p.manifest.name.as_str();
        let pinned = p.manifest.artifact.sha256.clone();
        assert!(
            !pinned.is_empty(),
            "the {name} plugin's runtime is not pinned in its manifest"
        );
        let dir = tempfile::tempdir().unwrap();
        let wasm = copy_plugin(name, dir.path()).join(&p.manifest.artifact.path);
        let mut bytes = std::fs::read(&wasm).unwrap();
        let last = bytes.len() - 1;
        bytes[last] ^= 0xff;
        // A new file (the copy may be a hard link to the real runtime).
        std::fs::remove_file(&wasm).unwrap();
        std::fs::write(&wasm, &bytes).unwrap();
        let cache = tempfile::tempdir().unwrap();
        let r = Env::new()
            .with("NESTBOX_PLUGINS_DIR", dir.path().to_str().unwrap())
            .with("NESTBOX_CACHE_DIR", cache.path().to_str().unwrap())
            .run(&["--lang", name, "--code", prints_ran(name)]);
        assert_eq!(r.status(), "SANDBOX_ERROR", "{name}: {r:?}");
        assert_eq!(r.out(), "", "{name}");
        let m = r.message();
        assert!(m.contains(wasm.to_str().unwrap()), "{name}: {m}");
        assert!(m.contains(&format!("{pinned} is expected")), "{name}: {m}");
        assert!(m.contains(&sha256_hex(&bytes)), "{name}: {m}");
        assert!(m.contains("nothing was run"), "{name}: {m}");
    }
}

#[test]
fn a_tampered_module_keeping_its_size_and_time_is_rebuilt_not_loaded() {
    let dir = tempfile::tempdir().unwrap();
    copy_plugin("bash", dir.path());
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
    let cwasm = cwasm_in(cache.path(), "bash");
    let before = std::fs::metadata(&cwasm).unwrap();
    let mut bytes = std::fs::read(&cwasm).unwrap();
    let mid = bytes.len() / 3;
    bytes[mid] ^= 0x01;
    // Rewritten in place, same size, modification time put back: only the change time and the
    // content tell.
    let mut f = std::fs::OpenOptions::new()
        .write(true)
        .open(&cwasm)
        .unwrap();
    f.write_all(&bytes).unwrap();
    f.set_modified(before.modified().unwrap()).unwrap();
    drop(f);
    let after = std::fs::metadata(&cwasm).unwrap();
    assert_eq!(
        (after.len(), after.modified().unwrap()),
        (before.len(), before.modified().unwrap())
    );
    let r = env.bash("echo 2", &[]);
    assert_eq!((r.status(), r.out()), ("OK", "2\n"), "{r:?}");
    assert!(r.notices().contains("corrupt"), "{}", r.notices());
    assert_ne!(
        std::fs::read(&cwasm).unwrap(),
        bytes,
        "the tampered module was replaced"
    );
}

#[test]
fn a_preopen_symlinked_out_of_the_plugin_folder_is_refused_in_both_modes() {
    let dir = tempfile::tempdir().unwrap();
    let plugin = copy_python_plugin(dir.path());
    // The boot files are gone with the real folder; the symlink would show the host's `/`.
    std::fs::remove_dir_all(plugin.join("boot")).unwrap();
    std::os::unix::fs::symlink("/", plugin.join("boot")).unwrap();
    let cache = tempfile::tempdir().unwrap();
    let env = Env::new()
        .with("NESTBOX_PLUGINS_DIR", dir.path().to_str().unwrap())
        .with("NESTBOX_CACHE_DIR", cache.path().to_str().unwrap());
    for extra in [&[][..], &["--no-gvisor"][..]] {
        let r = env.python("import os\nprint(os.listdir('/boot'))", extra);
        assert_eq!(r.status(), "SANDBOX_ERROR", "{extra:?}: {r:?}");
        assert_eq!(r.out(), "", "{extra:?}: nothing ran");
        let m = r.message();
        assert!(m.contains(plugin.join("boot").to_str().unwrap()), "{m}");
        assert!(m.contains("outside the plugin's folder"), "{m}");
    }
}

#[test]
fn a_symlink_inside_a_preopen_is_refused() {
    let dir = tempfile::tempdir().unwrap();
    let plugin = copy_python_plugin(dir.path());
    std::fs::create_dir_all(plugin.join("boot/lib")).unwrap();
    std::os::unix::fs::symlink("/etc", plugin.join("boot/lib/etc")).unwrap();
    let r = Env::new()
        .with("NESTBOX_PLUGINS_DIR", dir.path().to_str().unwrap())
        .python(
            "import os\nprint(os.listdir('/boot/lib/etc'))",
            &["--no-gvisor"],
        );
    assert_eq!(r.status(), "SANDBOX_ERROR", "{r:?}");
    assert_eq!(r.out(), "");
    let m = r.message();
    assert!(m.contains("holds a symlink"), "{m}");
    assert!(
        m.contains(plugin.join("boot/lib/etc").to_str().unwrap()),
        "{m}"
    );
}

#[test]
fn a_runtime_replaced_after_preparing_is_hashed_again_and_refused() {
    let dir = tempfile::tempdir().unwrap();
    let plugin = copy_plugin("bash", dir.path());
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
    assert_eq!(env.bash("echo 1", &[]).status(), "OK");
    // Same size, different content, after the module was compiled.
    let wasm = plugin.join("bash.wasm");
    let mut bytes = std::fs::read(&wasm).unwrap();
    bytes[100] ^= 1;
    // A new file (the copy may be a hard link to the real runtime).
    std::fs::remove_file(&wasm).unwrap();
    std::fs::write(&wasm, &bytes).unwrap();
    let r = env.bash("echo 1", &[]);
    assert_eq!(r.status(), "SANDBOX_ERROR", "{r:?}");
    assert!(r.message().contains("has SHA-256"), "{}", r.message());
    let verify = env.output(&["plugins", "verify"], None);
    assert_eq!(verify.status.code(), Some(1));
    assert!(String::from_utf8_lossy(&verify.stderr).contains("bash"));
}

#[test]
fn a_missing_runtime_says_how_to_get_it() {
    let dir = tempfile::tempdir().unwrap();
    let plugin = copy_python_plugin(dir.path());
    std::fs::remove_file(plugin.join("runtime/python-snapshot.wasm")).unwrap();
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
    copy_plugin("bash", dir.path());
    let cache = tempfile::tempdir().unwrap();
    let env = Env::new()
        .with("NESTBOX_PLUGINS_DIR", dir.path().to_str().unwrap())
        .with("NESTBOX_CACHE_DIR", cache.path().to_str().unwrap());
    let first = env.bash("echo 1", &[]);
    assert_eq!(first.status(), "OK", "{first:?}");
    assert!(
        first.notices().contains("not prepared yet"),
        "{}",
        first.notices()
    );
    let cwasm = cwasm_in(cache.path(), "bash");
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
    let r = env.bash("echo 2", &[]);
    assert_eq!((r.status(), r.out()), ("OK", "2\n"), "{r:?}");
    assert!(r.notices().contains("corrupt"), "{}", r.notices());
    let again = env.bash("echo 3", &[]);
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
    assert!(text.contains("879bdb628a1a799dc3a6d1a645fee0f88944bf4cdf5e1628e0e1d2b4b33d28d3"));
}

//! `nestbox gvisor install` against a local server, and the update check.

use std::os::unix::fs::PermissionsExt;

use crate::util::{Env, HttpServer, sha512_hex};

const FAKE_RUNSC: &[u8] = b"#!/bin/sh\necho 'runsc version release-20991231.0'\n";

fn install(env: &Env, dir: &std::path::Path, extra: &[&str]) -> std::process::Output {
    let mut args = vec!["gvisor", "install", "--dir", dir.to_str().unwrap()];
    args.extend_from_slice(extra);
    env.output(&args, None)
}

#[test]
fn installs_a_file_that_matches_the_pinned_checksum() {
    let server = HttpServer::serve(FAKE_RUNSC.to_vec());
    let dir = tempfile::tempdir().unwrap();
    let target = dir.path().join("gvisor");
    let sha = sha512_hex(FAKE_RUNSC);
    let url = server.url();
    let out = install(
        &Env::new(),
        &target,
        &[
            "--url-base",
            &url,
            "--release",
            "20991231.0",
            "--sha512",
            &sha,
        ],
    );
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert!(
        out.status.success(),
        "{stdout} {}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert!(stdout.contains("SHA-512 verified"), "{stdout}");
    let installed = target.join("runsc");
    assert_eq!(std::fs::read(&installed).unwrap(), FAKE_RUNSC);
    let mode = std::fs::metadata(&installed).unwrap().permissions().mode();
    assert_eq!(mode & 0o777, 0o755);
    let requests = server.requests.lock().unwrap().clone();
    assert_eq!(
        requests,
        vec![format!(
            "GET /20991231.0/{}/runsc HTTP/1.1",
            std::env::consts::ARCH
        )]
    );
    // Nothing but runsc is left in the directory (the download had a random temporary name).
    let names: Vec<String> = std::fs::read_dir(&target)
        .unwrap()
        .flatten()
        .map(|e| e.file_name().to_string_lossy().into_owned())
        .collect();
    assert_eq!(names, vec!["runsc"]);
}

#[test]
fn a_tampered_download_is_refused_and_not_installed() {
    let server = HttpServer::serve(b"#!/bin/sh\necho evil\n".to_vec());
    let dir = tempfile::tempdir().unwrap();
    let sha = sha512_hex(FAKE_RUNSC);
    let url = server.url();
    let out = install(
        &Env::new(),
        dir.path(),
        &[
            "--url-base",
            &url,
            "--release",
            "20991231.0",
            "--sha512",
            &sha,
        ],
    );
    assert_eq!(out.status.code(), Some(6));
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(err.contains("was NOT installed"), "{err}");
    assert!(err.contains(&sha), "{err}");
    assert_eq!(
        std::fs::read_dir(dir.path()).unwrap().count(),
        0,
        "no file left behind"
    );
}

#[test]
fn the_built_in_pin_refuses_what_a_mirror_serves_instead() {
    let server = HttpServer::serve(FAKE_RUNSC.to_vec());
    let dir = tempfile::tempdir().unwrap();
    let url = server.url();
    let out = install(&Env::new(), dir.path(), &["--url-base", &url]);
    let err = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(6), "{err}");
    assert!(err.contains("pinned for release 20260817.0"), "{err}");
    assert!(!dir.path().join("runsc").exists());
}

#[test]
fn downloads_go_through_the_proxy_in_the_environment() {
    // The "proxy" is our server: a request through a proxy names the absolute URL.
    let proxy = HttpServer::serve(FAKE_RUNSC.to_vec());
    let dir = tempfile::tempdir().unwrap();
    let sha = sha512_hex(FAKE_RUNSC);
    let env = Env::new().with("HTTP_PROXY", proxy.url());
    let out = install(
        &env,
        dir.path(),
        &[
            "--url-base",
            "http://gvisor-mirror.invalid/releases",
            "--release",
            "20991231.0",
            "--sha512",
            &sha,
        ],
    );
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let requests = proxy.requests.lock().unwrap().clone();
    assert!(
        requests[0].starts_with("GET http://gvisor-mirror.invalid/releases/20991231.0/"),
        "{requests:?}"
    );
}

#[test]
fn the_update_check_is_cached_and_shown_and_silent_offline() {
    let server = HttpServer::serve(br#"{"tag_name": "release-20991231.0"}"#.to_vec());
    let env = Env::new()
        .with("CODE_EVAL_VALVE_OVERRIDE_CHECK_FOR_UPDATES", "true")
        .with("NESTBOX_UPDATE_URL", format!("{}/latest", server.url()));
    let out = env.output(&["update-check"], None);
    assert!(out.status.success());
    assert!(String::from_utf8_lossy(&out.stdout).contains("release-20991231.0"));
    let r = env.python("print(1)", &[]);
    assert_eq!(r.status(), "OK", "{r:?}");
    assert!(
        r.notices()
            .contains("gVisor release-20991231.0 is available"),
        "{}",
        r.notices()
    );

    // Offline: the check answers nothing, quietly, and runs are unaffected.
    let offline = Env::new()
        .with("CODE_EVAL_VALVE_OVERRIDE_CHECK_FOR_UPDATES", "true")
        .with("NESTBOX_UPDATE_URL", "http://127.0.0.1:9/latest");
    let out = offline.output(&["update-check"], None);
    assert!(out.status.success());
    assert!(String::from_utf8_lossy(&out.stdout).contains("offline"));
    let r = offline.python("print(1)", &[]);
    assert_eq!(r.status(), "OK", "{r:?}");
    assert!(!r.notices().contains("available"), "{}", r.notices());
    let cached: serde_json::Value = serde_json::from_slice(
        &std::fs::read(offline.state_dir().join("update-check.json")).unwrap(),
    )
    .unwrap();
    assert!(cached["latest"].is_null());
    assert!(cached["checked_at"].as_u64().unwrap() > 0);
}

//! `--keep-files-for`: per-user storage through the real binary.

use crate::util::storage_env;

#[test]
fn files_are_kept_per_user_with_urls_and_links_are_not_followed() {
    let root = tempfile::tempdir().unwrap();
    let env = storage_env(root.path());
    let r = env.bash(
        "echo secret-of-alice > a.txt; ln -s /etc/passwd link; ln -s ../../etc up; echo ok",
        &["--keep-files-for", "alice"],
    );
    assert_eq!(r.status(), "OK", "{r:?}");
    let files = r.json["files"].as_array().unwrap();
    assert_eq!(files.len(), 1, "only the regular file: {files:?}");
    let url = files[0]["url"].as_str().unwrap();
    assert!(
        url.starts_with("/files/user_files/") && url.ends_with("/a.txt"),
        "{url}"
    );
    let on_disk = root.path().join(url.strip_prefix("/files/").unwrap());
    assert_eq!(
        std::fs::read_to_string(on_disk).unwrap(),
        "secret-of-alice\n"
    );

    let r = env.python(
        "open('b.txt', 'w').write('bob')",
        &["--keep-files-for", "bob"],
    );
    let bob_url = r.json["files"][0]["url"].as_str().unwrap().to_string();
    let user_dir = |u: &str| u.split('/').nth(3).unwrap().to_string();
    assert_ne!(
        user_dir(url),
        user_dir(&bob_url),
        "users never share a folder"
    );
}

#[test]
fn quotas_evict_the_same_users_oldest_and_refuse_an_oversized_run() {
    let root = tempfile::tempdir().unwrap();
    let env = storage_env(root.path())
        .with("CODE_EVAL_VALVE_OVERRIDE_MAX_FILES_PER_USER", "2")
        .with("CODE_EVAL_VALVE_OVERRIDE_MAX_FILES_PER_EXECUTION", "3");
    let keep = |user: &str, name: &str| {
        env.python(
            &format!("open('{name}', 'w').write('{name}')"),
            &["--keep-files-for", user],
        )
    };
    let first = keep("carol", "one.txt");
    keep("dave", "dave.txt");
    keep("carol", "two.txt");
    let third = keep("carol", "three.txt");
    assert!(third.notices().contains("oldest"), "{}", third.notices());
    let first_path = root.path().join(
        first.json["files"][0]["url"]
            .as_str()
            .unwrap()
            .strip_prefix("/files/")
            .unwrap(),
    );
    assert!(!first_path.exists(), "carol's oldest was evicted");
    let dave = std::fs::read_dir(root.path().join("user_files"))
        .unwrap()
        .count();
    assert_eq!(dave, 2, "two users' folders");

    let r = env.python(
        "for i in range(4):\n    open(f'f{i}', 'w').write('x')",
        &["--keep-files-for", "carol"],
    );
    assert_eq!(r.status(), "STORAGE_ERROR", "{r:?}");
    assert_eq!(r.code, 7);
    assert!(
        r.message().contains("MAX_FILES_PER_EXECUTION"),
        "{}",
        r.message()
    );
}

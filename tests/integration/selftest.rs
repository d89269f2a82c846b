//! `nestbox self-test` and `nestbox doctor` on this host.

use crate::util::Env;

#[test]
fn self_test_passes_every_check_in_the_reference_style() {
    let out = Env::new().output(&["self-test"], None);
    let text = String::from_utf8_lossy(&out.stdout);
    assert!(out.status.success(), "{text}");
    for name in [
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
    ] {
        assert!(
            text.contains(&format!("⏳ Running self-test: {name}")),
            "{text}"
        );
        assert!(
            text.contains(&format!("✔ Self-test {name} passed.")),
            "{text}"
        );
    }
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

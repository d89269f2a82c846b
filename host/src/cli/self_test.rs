//! `nestbox self-test`, in the reference project's output style.

use clap::Args;

use crate::execute::Nestbox;
use crate::self_test::{self, Verdict};
use crate::settings::LoadedSettings;

#[derive(Debug, Args)]
pub struct SelfTestArgs {
    /// Print the outcomes as JSON (progress lines go to stderr).
    #[arg(long)]
    json: bool,
}

pub fn main(loaded: LoadedSettings, args: SelfTestArgs) -> i32 {
    let nestbox = match Nestbox::open(loaded) {
        Ok(n) => n,
        Err(e) => {
            eprintln!("nestbox: {e}");
            return 6;
        }
    };
    let json = args.json;
    let say = move |line: String| {
        if json {
            eprintln!("{line}");
        } else {
            println!("{line}");
        }
    };
    let outcomes = super::runtime().block_on(self_test::run(
        &nestbox,
        &|name| say(format!("⏳ Running self-test: {name}")),
        &|o| match o.verdict {
            Verdict::Passed => say(format!("✔ Self-test {} passed.", o.name)),
            Verdict::Skipped => say(format!("⏭ Self-test {} skipped: {}", o.name, o.detail)),
            Verdict::Failed => say(format!("✘ Self-test {} failed: {}", o.name, o.detail)),
        },
    ));
    let failed = outcomes
        .iter()
        .filter(|o| o.verdict == Verdict::Failed)
        .count();
    let skipped = outcomes
        .iter()
        .filter(|o| o.verdict == Verdict::Skipped)
        .count();
    if json {
        println!(
            "{}",
            serde_json::to_string_pretty(&outcomes).unwrap_or_default()
        );
    }
    if failed > 0 {
        say(format!("❌ {failed} self-test(s) failed."));
        1
    } else if skipped > 0 {
        say(format!(
            "✅ All self-tests that could run passed ({skipped} skipped)."
        ));
        0
    } else {
        say("✅ All self-tests passed, good to go!".to_string());
        0
    }
}

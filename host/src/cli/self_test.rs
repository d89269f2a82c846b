//! `nestbox self-test`, in the reference project's output style, one section per wall.

use clap::Args;
use serde::Serialize;

use super::outcome::CommandResult;
use crate::execute::Nestbox;
use crate::result::Status;
use crate::self_test::{self, Outcome, Verdict, Wall};
use crate::settings::LoadedSettings;

#[derive(Debug, Args)]
pub struct SelfTestArgs {
    /// Print the outcomes as JSON, by section (progress lines go to stderr).
    #[arg(long)]
    json: bool,
    /// Only these walls (repeatable): outer (gVisor, judged by a native probe), inner (Wasmtime
    /// alone, judged by the canaries), both (every test through both walls). Default: all three.
    #[arg(long, value_enum)]
    wall: Vec<Wall>,
}

#[derive(Serialize)]
struct Section<'a> {
    wall: Wall,
    title: &'static str,
    outcomes: Vec<&'a Outcome>,
}

pub fn main(loaded: LoadedSettings, args: SelfTestArgs) -> CommandResult {
    let nestbox = Nestbox::open(loaded)?;
    let walls = if args.wall.is_empty() {
        Wall::ALL.to_vec()
    } else {
        args.wall.clone()
    };
    let json = args.json;
    let say = move |line: String| {
        if json {
            eprintln!("{line}");
        } else {
            println!("{line}");
        }
    };
    let outcomes = super::runtime()?.block_on(self_test::run(
        &nestbox,
        &walls,
        &|wall| say(format!("── {} ──", wall.title())),
        &|name| say(format!("⏳ Running self-test: {name}")),
        &|o| match o.verdict {
            Verdict::Passed => say(format!("✔ Self-test {} passed.", o.name)),
            Verdict::Skipped => say(format!("⏭ Self-test {} skipped: {}", o.name, o.detail)),
            Verdict::Failed => say(format!("✘ Self-test {} failed: {}", o.name, o.detail)),
        },
    ));
    let count = |v: Verdict| outcomes.iter().filter(|o| o.verdict == v).count();
    let (failed, skipped) = (count(Verdict::Failed), count(Verdict::Skipped));
    if json {
        let sections: Vec<Section> = Wall::ALL
            .into_iter()
            .filter(|w| walls.contains(w))
            .map(|wall| Section {
                wall,
                title: wall.title(),
                outcomes: outcomes.iter().filter(|o| o.wall == wall).collect(),
            })
            .collect();
        println!(
            "{}",
            serde_json::to_string_pretty(&serde_json::json!({ "sections": sections }))
                .unwrap_or_default()
        );
    }
    if failed > 0 {
        say(format!("❌ {failed} self-test(s) failed."));
        Ok(Status::Error)
    } else if skipped > 0 {
        say(format!(
            "✅ All self-tests that could run passed ({skipped} skipped)."
        ));
        Ok(Status::Ok)
    } else {
        say("✅ All self-tests passed, good to go!".to_string());
        Ok(Status::Ok)
    }
}

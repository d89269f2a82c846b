//! `nestbox doctor`.

use clap::Args;

use super::outcome::CommandResult;
use crate::doctor::{self, Level};
use crate::result::Status;
use crate::settings::LoadedSettings;

#[derive(Debug, Args)]
pub struct DoctorArgs {
    /// Print the checks as JSON.
    #[arg(long)]
    json: bool,
    /// Skip the final check that runs code through the sandbox.
    #[arg(long)]
    no_probe: bool,
}

pub fn main(loaded: LoadedSettings, args: DoctorArgs) -> CommandResult {
    let checks = super::runtime()?.block_on(doctor::run(&loaded, !args.no_probe));
    let failed = checks.iter().any(|c| c.level == Level::Fail);
    if args.json {
        println!(
            "{}",
            serde_json::to_string_pretty(&checks).unwrap_or_default()
        );
    } else {
        for c in &checks {
            let mark = match c.level {
                Level::Ok => "✔",
                Level::Warn => "!",
                Level::Fail => "✘",
            };
            println!("{mark} {}: {}", c.name, c.detail);
            if let Some(fix) = &c.fix {
                println!("    fix: {fix}");
            }
        }
        if failed {
            println!("\nnestbox cannot run code safely here until the ✘ items are fixed.");
        } else {
            println!("\nAll essential checks passed.");
        }
    }
    Ok(if failed { Status::Error } else { Status::Ok })
}

//! `nestbox gvisor install` and the hidden `nestbox update-check`.

use std::io::IsTerminal;
use std::path::PathBuf;
use std::sync::Mutex;

use clap::{Args, Subcommand};
use indicatif::{ProgressBar, ProgressStyle};

use super::outcome::{CliError, CommandResult};
use crate::result::Status;
use crate::sandbox::install::{self, DownloadProgress, PINNED_RELEASE, Pin};
use crate::sandbox::runsc::INSTALL_DIR;
use crate::sandbox::updates;
use crate::settings::LoadedSettings;

#[derive(Debug, Subcommand)]
pub enum GvisorCommand {
    /// Download gVisor's runsc (the pinned release, checked against the SHA-512 pinned in
    /// nestbox) and install it where nestbox finds it.
    Install(InstallArgs),
}

#[derive(Debug, Args)]
pub struct InstallArgs {
    /// Where to install runsc (a root-owned directory).
    #[arg(long, value_name = "DIR", default_value = INSTALL_DIR)]
    dir: PathBuf,
    /// Download from this base URL instead (a mirror); the pinned checksum still applies.
    #[arg(long, value_name = "URL")]
    url_base: Option<String>,
    /// Install another release than the pinned one; needs --sha512 from a source you trust.
    #[arg(long, value_name = "RELEASE", requires = "sha512")]
    release: Option<String>,
    /// The SHA-512 of that release's runsc for this architecture.
    #[arg(long, value_name = "HEX", requires = "release")]
    sha512: Option<String>,
}

pub fn main(loaded: LoadedSettings, cmd: GvisorCommand) -> CommandResult {
    match cmd {
        GvisorCommand::Install(args) => install_main(&loaded, args),
    }
}

fn install_main(loaded: &LoadedSettings, args: InstallArgs) -> CommandResult {
    let pin =
        Pin::choose(args.release.as_deref(), args.sha512.as_deref()).map_err(CliError::Pin)?;
    let base = args
        .url_base
        .unwrap_or_else(|| loaded.settings.gvisor_url_base.clone());
    println!(
        "Installing gVisor runsc release {}{} for {} into {}",
        pin.release,
        if pin.release == PINNED_RELEASE {
            " (pinned)"
        } else {
            " (operator pin)"
        },
        pin.arch,
        args.dir.display()
    );
    let progress = Bar::default();
    let path = super::runtime()?
        .block_on(install::install(&pin, &base, &args.dir, &progress))
        .map_err(CliError::Install)?;
    println!("✔ installed {} (SHA-512 verified)", path.display());
    Ok(Status::Ok)
}

/// A byte progress bar on a terminal, a line otherwise.
#[derive(Default)]
struct Bar(Mutex<Option<ProgressBar>>);

impl DownloadProgress for Bar {
    fn started(&self, url: &str, total: Option<u64>) {
        if std::io::stderr().is_terminal() {
            let bar = ProgressBar::new(total.unwrap_or(0));
            bar.set_style(
                ProgressStyle::with_template("{bar:40} {bytes}/{total_bytes} {msg}")
                    .unwrap_or_else(|_| ProgressStyle::default_bar()),
            );
            *self.0.lock().unwrap_or_else(|e| e.into_inner()) = Some(bar);
        } else {
            eprintln!("downloading {url}...");
        }
    }

    fn advanced(&self, bytes: u64) {
        if let Some(b) = self.0.lock().unwrap_or_else(|e| e.into_inner()).as_ref() {
            b.set_position(bytes);
        }
    }

    fn finished(&self) {
        if let Some(b) = self.0.lock().unwrap_or_else(|e| e.into_inner()).take() {
            b.finish_and_clear();
        }
    }
}

/// The detached checker started by runs when CHECK_FOR_UPDATES is due.
pub fn update_check(loaded: LoadedSettings) -> CommandResult {
    let url = std::env::var("NESTBOX_UPDATE_URL").unwrap_or_else(|_| updates::LATEST_URL.into());
    match super::runtime()?.block_on(updates::check_now(&loaded.settings.state_dir, &url))? {
        Some(latest) => println!("latest gVisor release: {latest}"),
        None => println!(
            "could not learn the latest gVisor release (offline?); will try again in 3 days"
        ),
    }
    Ok(Status::Ok)
}

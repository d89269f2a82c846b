//! The command line: clap definitions and dispatch. One module per subcommand.

mod doctor;
mod gvisor;
mod outcome;
mod plugins;
mod progress;
mod run;
mod self_test;
mod serve;
mod terminal;

use std::path::PathBuf;
use std::process::ExitCode;

use clap::{Parser, Subcommand};

use crate::result::Status;
use crate::settings::{self, LoadedSettings, ProcessEnv};
use outcome::{CliError, CommandResult};

const ABOUT: &str = "Run untrusted code behind two walls: a fresh gVisor sandbox outside, \
Wasmtime inside, with hard limits on time, CPU, memory, output and disk, and no network.";

const LONG_ABOUT: &str = "\
Run untrusted code behind two walls: a fresh gVisor sandbox outside, Wasmtime inside.

Each language is a WebAssembly plugin (plugins/<name>/plugin.toml). Every run gets a new
sandbox, an empty /work directory, a private /tmp, no network, and the operator's limits.

Examples:
  nestbox run --lang python --code 'print(\"hi\")'
  echo 'ls -l; echo done' | nestbox run --lang bash
  nestbox run --lang py --file analysis.py --input-file data.csv --json
  nestbox plugins prepare        # compile every plugin once, ahead of time
  nestbox doctor                 # check this host and say how to fix what is wrong

Settings: flags, then environment variables (CODE_EVAL_VALVE_OVERRIDE_<NAME> for the
reference's valves, NESTBOX_<NAME> for nestbox's own), then /etc/nestbox/config.toml or
--config FILE. See `nestbox settings` for all of them and their current values.";

#[derive(Debug, Parser)]
#[command(name = "nestbox", version, about = ABOUT, long_about = LONG_ABOUT)]
pub struct Cli {
    /// A TOML config file with operator settings (default: $NESTBOX_CONFIG, else
    /// /etc/nestbox/config.toml when it exists).
    #[arg(long, global = true, value_name = "FILE")]
    config: Option<PathBuf>,

    #[command(subcommand)]
    command: Command,
}

#[derive(Debug, Subcommand)]
enum Command {
    /// Run code in a fresh sandbox and print its output (or a JSON result with --json).
    Run(run::RunArgs),
    /// List, prepare (precompile) or verify the installed language plugins.
    #[command(subcommand)]
    Plugins(plugins::PluginsCommand),
    /// Serve runs over a local API from a warm pool of single-use sandboxes (tens of ms each).
    Serve(serve::ServeArgs),
    /// Check this host: root, cgroups, runsc, confinement, plugins, and a real sandboxed run.
    Doctor(doctor::DoctorArgs),
    /// Prove each wall on its own (a native probe in gVisor, the canaries in Wasmtime alone), then
    /// both (the reference's six plus the canaries through the real sandbox).
    SelfTest(self_test::SelfTestArgs),
    /// Install gVisor (runsc) from a pinned, checksum-verified release.
    #[command(subcommand)]
    Gvisor(gvisor::GvisorCommand),
    /// Show every operator setting, where to set it, and its current value.
    Settings {
        /// Print the README's settings table (key, environment variable, default) instead.
        #[arg(long, conflicts_with = "json")]
        markdown: bool,
        /// One JSON object: {"settings": [{"key", "env", "value"}]}.
        #[arg(long)]
        json: bool,
    },
    /// List the statuses `nestbox run --json` can report, with their exit codes.
    Statuses {
        /// As a JSON list of {"status", "exit_code"}.
        #[arg(long)]
        json: bool,
    },
    /// Tools for looking inside: `nestbox debug bundle` writes the OCI bundle a run would use.
    #[command(subcommand, hide = true)]
    Debug(DebugCommand),
    /// Internal: look for a newer gVisor release (started in the background by runs).
    #[command(hide = true)]
    UpdateCheck,
    /// Internal: the agent nestbox runs inside each gVisor sandbox (see the README's contract).
    #[command(hide = true)]
    Guest {
        /// The plugin to load before the job arrives.
        #[arg(long, required_unless_present = "probe", conflicts_with = "probe")]
        plugin: Option<String>,
        /// Instead of running a job, report what the sandbox lets a native program see and do
        /// (one JSON line), then wait for stdin to close. For the isolation tests and self-test.
        #[arg(long)]
        probe: bool,
        /// With --probe: a host address to try to connect to (repeatable).
        #[arg(long, requires = "probe", value_name = "ADDR:PORT")]
        connect: Vec<std::net::SocketAddr>,
    },
}

#[derive(Debug, Subcommand)]
enum DebugCommand {
    /// Write the OCI bundle (config.json and root skeleton) a run would use, to inspect it or to
    /// time `runsc run` with it. Prints the bundle's path.
    Bundle {
        /// The plugin whose run to reproduce.
        #[arg(long)]
        lang: String,
        /// Where to write it (`bundle/`, `work/`, `scratch/` are created inside).
        #[arg(long)]
        out: PathBuf,
        /// Replace the sandbox's command (for example `/nestbox --version`).
        #[arg(last = true)]
        command: Vec<String>,
    },
}

/// Parse the command line, run the command, return the process exit code.
pub fn main() -> ExitCode {
    let cli = Cli::parse();
    dispatch(cli.config.as_deref(), cli.command).unwrap_or_else(outcome::failed)
}

fn dispatch(config: Option<&std::path::Path>, command: Command) -> Result<ExitCode, CliError> {
    let status = match command {
        Command::Run(args) => run::run(config, args)?,
        Command::Plugins(cmd) => plugins::main(load(config)?, cmd)?,
        Command::Serve(args) => serve::main(load(config)?, args)?,
        Command::Doctor(args) => doctor::main(load(config)?, args)?,
        Command::SelfTest(args) => self_test::main(load(config)?, args)?,
        Command::Gvisor(cmd) => gvisor::main(load(config)?, cmd)?,
        Command::Debug(DebugCommand::Bundle { lang, out, command }) => {
            debug_bundle(load(config)?, &lang, &out, command)?
        }
        Command::UpdateCheck => gvisor::update_check(load(config)?)?,
        Command::Settings { markdown: true, .. } => {
            print!("{}", settings::markdown_table());
            Status::Ok
        }
        Command::Settings {
            markdown: false,
            json,
        } => show_settings(load(config)?, json)?,
        Command::Statuses { json } => show_statuses(json),
        Command::Guest {
            plugin,
            probe,
            connect,
        } => {
            // The in-sandbox agent's exit code belongs to the host <-> guest contract, not to
            // the CLI's statuses: it is passed through.
            let code = match plugin {
                Some(plugin) if !probe => crate::sandbox::guest::main(&plugin),
                _ => crate::sandbox::probe::inside::main(&connect),
            };
            return Ok(ExitCode::from(
                u8::try_from(code.clamp(0, 255)).unwrap_or(u8::MAX),
            ));
        }
    };
    Ok(outcome::exit_code(status))
}

/// Load the operator's settings for a command.
fn load(config: Option<&std::path::Path>) -> Result<LoadedSettings, CliError> {
    Ok(settings::load(config, &ProcessEnv)?)
}

fn debug_bundle(
    loaded: LoadedSettings,
    lang: &str,
    out: &std::path::Path,
    command: Vec<String>,
) -> CommandResult {
    let nestbox = crate::execute::Nestbox::open(loaded)?;
    let command = (!command.is_empty()).then_some(command);
    let path = runtime()?.block_on(nestbox.write_bundle(lang, out, command))?;
    println!("{}", path.display());
    Ok(Status::Ok)
}

fn show_statuses(json: bool) -> Status {
    let statuses = Status::ALL;
    if json {
        let list: Vec<_> = statuses
            .iter()
            .map(|s| serde_json::json!({"status": s.as_str(), "exit_code": s.exit_code()}))
            .collect();
        println!("{}", serde_json::Value::from(list));
    } else {
        for s in statuses {
            println!("{} {s}", s.exit_code());
        }
    }
    Status::Ok
}

fn show_settings(loaded: LoadedSettings, json: bool) -> CommandResult {
    if json {
        let list: Vec<_> = settings::describe(&loaded.settings)
            .into_iter()
            .map(
                |(key, value)| serde_json::json!({"key": key.name, "env": key.env, "value": value}),
            )
            .collect();
        println!("{}", serde_json::json!({ "settings": list }));
        return Ok(Status::Ok);
    }
    if let Some(p) = &loaded.config_file {
        println!("config file: {}", p.display());
    } else {
        println!(
            "config file: none ({} does not exist)",
            settings::DEFAULT_CONFIG_PATH
        );
    }
    for (key, value) in settings::describe(&loaded.settings) {
        let from = loaded
            .origins
            .get(key.name)
            .map(|o| o.to_string())
            .unwrap_or_else(|| "the default".into());
        println!(
            "{} = {value}\n    env {}; from {from}; default {}",
            key.name, key.env, key.shown_default
        );
        for line in key.doc.lines() {
            println!("    {}", line.trim());
        }
    }
    Ok(Status::Ok)
}

/// Build a single-threaded runtime for a command. Wasmtime's async calls and timers need it.
fn runtime() -> Result<tokio::runtime::Runtime, CliError> {
    Ok(crate::runtime::current_thread()?)
}

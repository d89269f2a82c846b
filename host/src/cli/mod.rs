//! The command line: clap definitions and dispatch. One module per subcommand.

mod doctor;
mod gvisor;
mod plugins;
mod progress;
mod run;
mod self_test;
mod serve;
mod terminal;

use std::path::PathBuf;
use std::process::ExitCode;

use clap::{Parser, Subcommand};

use crate::settings::{self, LoadedSettings, ProcessEnv};

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
    let code = match cli.command {
        Command::Run(args) => run::run(cli.config.as_deref(), args),
        Command::Plugins(cmd) => with_settings(cli.config.as_deref(), |s| plugins::main(s, cmd)),
        Command::Serve(args) => with_settings(cli.config.as_deref(), |s| serve::main(s, args)),
        Command::Doctor(args) => with_settings(cli.config.as_deref(), |s| doctor::main(s, args)),
        Command::SelfTest(args) => {
            with_settings(cli.config.as_deref(), |s| self_test::main(s, args))
        }
        Command::Gvisor(cmd) => with_settings(cli.config.as_deref(), |s| gvisor::main(s, cmd)),
        Command::Debug(DebugCommand::Bundle { lang, out, command }) => {
            with_settings(cli.config.as_deref(), |s| {
                debug_bundle(s, &lang, &out, command)
            })
        }
        Command::UpdateCheck => with_settings(cli.config.as_deref(), gvisor::update_check),
        Command::Settings { json } => {
            with_settings(cli.config.as_deref(), |s| show_settings(s, json))
        }
        Command::Statuses { json } => show_statuses(json),
        Command::Guest {
            plugin,
            probe,
            connect,
        } => match plugin {
            Some(plugin) if !probe => crate::sandbox::guest::main(&plugin),
            _ => crate::sandbox::probe::inside::main(&connect),
        },
    };
    ExitCode::from(code.clamp(0, 255) as u8)
}

/// Load settings or print why they are wrong (exit code 2).
fn with_settings(config: Option<&std::path::Path>, f: impl FnOnce(LoadedSettings) -> i32) -> i32 {
    match settings::load(config, &ProcessEnv) {
        Ok(s) => f(s),
        Err(e) => {
            eprintln!("nestbox: {e}");
            2
        }
    }
}

fn debug_bundle(
    loaded: LoadedSettings,
    lang: &str,
    out: &std::path::Path,
    command: Vec<String>,
) -> i32 {
    let nestbox = match crate::execute::Nestbox::open(loaded) {
        Ok(n) => n,
        Err(e) => {
            eprintln!("nestbox: {e}");
            return 6;
        }
    };
    let command = (!command.is_empty()).then_some(command);
    match runtime().block_on(nestbox.write_bundle(lang, out, command)) {
        Ok(path) => {
            println!("{}", path.display());
            0
        }
        Err(e) => {
            eprintln!("nestbox: {e}");
            6
        }
    }
}

fn show_statuses(json: bool) -> i32 {
    let statuses = crate::result::Status::ALL;
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
    0
}

fn show_settings(loaded: LoadedSettings, json: bool) -> i32 {
    if json {
        let list: Vec<_> = settings::describe(&loaded.settings)
            .into_iter()
            .map(|(key, env, value)| serde_json::json!({"key": key, "env": env, "value": value}))
            .collect();
        println!("{}", serde_json::json!({ "settings": list }));
        return 0;
    }
    if let Some(p) = &loaded.config_file {
        println!("config file: {}", p.display());
    } else {
        println!(
            "config file: none ({} does not exist)",
            settings::DEFAULT_CONFIG_PATH
        );
    }
    for (key, env, value) in settings::describe(&loaded.settings) {
        let from = loaded
            .origins
            .get(key)
            .map(|o| o.to_string())
            .unwrap_or_else(|| "the default".into());
        println!("{key} = {value}\n    env {env}; from {from}");
    }
    0
}

/// Build a single-threaded runtime for a command. Wasmtime's async calls and timers need it.
/// Without one no command can do anything: say why and exit 6 (nothing ran).
fn runtime() -> tokio::runtime::Runtime {
    match crate::runtime::current_thread() {
        Ok(runtime) => runtime,
        Err(e) => {
            eprintln!("nestbox: {e}");
            std::process::exit(6)
        }
    }
}

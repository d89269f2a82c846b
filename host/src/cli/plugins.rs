//! `nestbox plugins list|prepare|verify`.

use std::io::Write;

use clap::{Args, Subcommand};
use serde::Serialize;

use super::outcome::{CliError, CommandResult};
use super::progress::Compiling;
use crate::engine;
use crate::execute::SetupError;
use crate::plugin::cache::{ModuleCache, Rebuild};
use crate::plugin::manifest::Package;
use crate::plugin::{Plugin, Registry, artifact};
use crate::result::Status;
use crate::settings::LoadedSettings;

#[derive(Debug, Subcommand)]
pub enum PluginsCommand {
    /// Show the installed plugins, their aliases and whether they are ready to run.
    List {
        /// Print JSON instead of a table.
        #[arg(long)]
        json: bool,
    },
    /// Compile plugins to native code once, so runs only load them (a few seconds each).
    Prepare(PrepareArgs),
    /// Hash every plugin's runtime against its manifest and check the precompiled modules.
    Verify,
}

#[derive(Debug, Args)]
pub struct PrepareArgs {
    /// Plugins to prepare (names or aliases); all when none are given.
    names: Vec<String>,
    /// Compile again even when the cached module is up to date.
    #[arg(long)]
    force: bool,
}

#[derive(Serialize)]
struct Row {
    name: String,
    version: String,
    aliases: Vec<String>,
    description: String,
    state: String,
    ready: bool,
    /// What the runtime has besides its standard library (only plugins that list it).
    #[serde(skip_serializing_if = "Option::is_none")]
    packages: Option<Vec<Package>>,
}

pub fn main(loaded: LoadedSettings, cmd: PluginsCommand) -> CommandResult {
    let registry = Registry::locate(loaded.settings.plugins_dir.as_deref())
        .and_then(|d| Registry::load(&d))?;
    let engine = engine::new_engine().map_err(|e| SetupError::Engine(format!("{e:#}")))?;
    let cache = ModuleCache::new(&loaded.settings.cache_dir);
    for broken in &registry.broken {
        eprintln!("nestbox: {broken}");
    }
    let status = match cmd {
        PluginsCommand::List { json } => list(&registry, &cache, &engine, json),
        PluginsCommand::Prepare(args) => prepare(&registry, &cache, &engine, args)?,
        PluginsCommand::Verify => verify(&registry, &cache, &engine),
    };
    Ok(if registry.broken.is_empty() {
        status
    } else {
        Status::Error
    })
}

fn state(cache: &ModuleCache, engine: &wasmtime::Engine, p: &Plugin) -> (bool, String) {
    match cache.check(engine, p) {
        Ok(Ok(_)) => (true, "ready".into()),
        Ok(Err(Rebuild::Missing)) => (false, "not prepared: run `nestbox plugins prepare`".into()),
        Ok(Err(why)) => (false, format!("{why}: run `nestbox plugins prepare`")),
        Err(e) => (false, e.to_string()),
    }
}

/// The plugin's package list; an unreadable one is reported and left out (the plugin still runs).
fn packages(p: &Plugin) -> Option<Vec<Package>> {
    let file = p.dir.join(p.manifest.packages.as_ref()?);
    let parsed: Result<Vec<Package>, Box<dyn std::error::Error>> = std::fs::read(&file)
        .map_err(Into::into)
        .and_then(|b| serde_json::from_slice(&b).map_err(Into::into));
    match parsed {
        Ok(list) => Some(list),
        Err(e) => {
            eprintln!(
                "nestbox: the {} plugin's package list {} cannot be read ({e}); regenerate it with scripts/python-packages.sh",
                p.manifest.name,
                file.display()
            );
            None
        }
    }
}

fn list(registry: &Registry, cache: &ModuleCache, engine: &wasmtime::Engine, json: bool) -> Status {
    let rows: Vec<Row> = registry
        .plugins
        .iter()
        .map(|p| {
            let (ready, state) = state(cache, engine, p);
            Row {
                name: p.manifest.name.clone(),
                version: p.manifest.version.clone(),
                aliases: p.manifest.names().skip(1).map(String::from).collect(),
                description: p.manifest.description.clone(),
                state,
                ready,
                packages: packages(p),
            }
        })
        .collect();
    // A reader that stops early (`| head`) is not an error: stop writing quietly.
    let mut out = std::io::stdout().lock();
    if json {
        let _ = writeln!(
            out,
            "{}",
            serde_json::to_string_pretty(&rows).unwrap_or_default()
        );
        return Status::Ok;
    }
    let mut text = format!("plugins in {}:\n", registry.dir.display());
    if rows.is_empty() {
        text.push_str("  (none)\n");
    }
    for r in rows {
        let aliases = if r.aliases.is_empty() {
            String::new()
        } else {
            format!(" (also {})", r.aliases.join(", "))
        };
        text.push_str(&format!(
            "  {} {}{aliases}: {}\n",
            r.name, r.version, r.state
        ));
        if !r.description.is_empty() {
            text.push_str(&format!("      {}\n", r.description));
        }
    }
    let _ = out.write_all(text.as_bytes());
    Status::Ok
}

fn prepare(
    registry: &Registry,
    cache: &ModuleCache,
    engine: &wasmtime::Engine,
    args: PrepareArgs,
) -> CommandResult {
    let mut chosen: Vec<&Plugin> = Vec::new();
    for name in &args.names {
        match registry.find(name) {
            Some(p) => chosen.push(p),
            None => {
                return Err(CliError::UnknownPlugin {
                    name: name.clone(),
                    installed: registry.names_and_aliases(),
                });
            }
        }
    }
    if args.names.is_empty() {
        chosen = registry.plugins.iter().collect();
    }
    let progress = Compiling::default();
    let mut failed = 0;
    for p in chosen {
        let name = &p.manifest.name;
        let outcome = if args.force {
            cache
                .build(engine, p, Rebuild::Forced, &progress)
                .map(|_| true)
        } else {
            cache.check(engine, p).and_then(|c| match c {
                Ok(_) => Ok(false),
                Err(why) => cache.build(engine, p, why, &progress).map(|_| true),
            })
        };
        match outcome {
            Ok(true) => println!("✔ {name} prepared in {}", cache.dir().display()),
            Ok(false) => println!("✔ {name} already prepared (up to date)"),
            Err(e) => {
                eprintln!("✘ {name}: {e}");
                failed += 1;
            }
        }
    }
    Ok(some_failed(failed))
}

fn verify(registry: &Registry, cache: &ModuleCache, engine: &wasmtime::Engine) -> Status {
    let mut failed = 0;
    for p in &registry.plugins {
        let name = &p.manifest.name;
        match artifact::verify(p) {
            Ok((sha, _)) => println!(
                "✔ {name}: {} has SHA-256 {sha}",
                p.artifact_path().display()
            ),
            Err(e) => {
                eprintln!("✘ {name}: {e}");
                failed += 1;
                continue;
            }
        }
        match cache.verify_full(engine, p) {
            Ok(()) => println!("✔ {name}: precompiled module hashed in full, matches its record"),
            Err(why) => {
                eprintln!("✘ {name}: precompiled module {why}: run `nestbox plugins prepare`");
                failed += 1;
            }
        }
    }
    some_failed(failed)
}

/// ERROR when any plugin failed (each said why), else OK.
fn some_failed(failed: usize) -> Status {
    if failed > 0 {
        Status::Error
    } else {
        Status::Ok
    }
}

//! How a subcommand ends. Every subcommand returns [`CommandResult`]: the [`Status`] it ended with,
//! or a [`CliError`] that knows its own status. The process exit code comes from one mapping,
//! [`Status::exit_code`] (the README's "Exit codes"), in [`exit_code`]; no subcommand picks a
//! number itself.

use std::process::ExitCode;

use thiserror::Error;

use crate::execute::{SetupError, WriteBundleError};
use crate::plugin::RegistryError;
use crate::result::Status;
use crate::runtime::RuntimeError;
use crate::sandbox::install::InstallError;
use crate::sandbox::updates::UpdateCheckError;
use crate::server::ServeError;
use crate::server::token::TokenError;
use crate::settings::SettingsError;

/// What a subcommand returns: `Ok` with how it ended (OK, or ERROR when some of its checks
/// failed and it said which), or why it could not do its job.
pub type CommandResult = Result<Status, CliError>;

/// Why a subcommand could not do its job. Each names what failed and how to fix it; the status
/// (and so the exit code) follows from the kind.
#[derive(Debug, Error)]
pub enum CliError {
    /// The settings are wrong: nothing was done.
    #[error(transparent)]
    Settings(#[from] SettingsError),
    /// A flag's value is wrong (such as a half-given pin).
    #[error(transparent)]
    Pin(InstallError),
    #[error(transparent)]
    Token(#[from] TokenError),
    #[error("no plugin named {name:?}; installed: {installed}")]
    UnknownPlugin { name: String, installed: String },
    /// nestbox could not set itself up: nothing ran.
    #[error(transparent)]
    Setup(#[from] SetupError),
    #[error(transparent)]
    Registry(#[from] RegistryError),
    #[error(transparent)]
    Runtime(#[from] RuntimeError),
    #[error(transparent)]
    Install(InstallError),
    #[error(transparent)]
    Serve(#[from] ServeError),
    /// Boxed: it is far larger than the others.
    #[error(transparent)]
    Bundle(Box<WriteBundleError>),
    /// The background update check could not ask (runs are not affected).
    #[error("update check: {0}")]
    UpdateCheck(#[from] UpdateCheckError),
}

impl From<WriteBundleError> for CliError {
    fn from(e: WriteBundleError) -> CliError {
        CliError::Bundle(Box::new(e))
    }
}

impl CliError {
    /// The status this failure ends the process with.
    pub fn status(&self) -> Status {
        match self {
            CliError::Settings(_)
            | CliError::Pin(_)
            | CliError::Token(_)
            | CliError::UnknownPlugin { .. } => Status::InvalidInput,
            CliError::Serve(e) if e.is_bad_flags() => Status::InvalidInput,
            CliError::Setup(_)
            | CliError::Registry(_)
            | CliError::Runtime(_)
            | CliError::Install(_)
            | CliError::Serve(_)
            | CliError::Bundle(_) => Status::SandboxError,
            CliError::UpdateCheck(_) => Status::Error,
        }
    }
}

/// The one mapping from how a command ended to the process exit code.
pub fn exit_code(status: Status) -> ExitCode {
    ExitCode::from(status.exit_code())
}

/// Say why a command failed (on stderr) and give its exit code.
pub fn failed(e: CliError) -> ExitCode {
    eprintln!("nestbox: {e}");
    exit_code(e.status())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn exit_codes_follow_the_readme() {
        let codes: Vec<(Status, u8)> = Status::ALL
            .into_iter()
            .map(|s| (s, s.exit_code()))
            .collect();
        let readme = include_str!("../../../README.md");
        let line = readme
            .lines()
            .find(|l| l.starts_with("Exit codes of `nestbox run`"))
            .expect("the README documents the exit codes");
        let next = readme
            .lines()
            .skip_while(|l| !l.starts_with("Exit codes of `nestbox run`"))
            .take(2)
            .collect::<Vec<_>>()
            .join(" ");
        for (status, code) in codes {
            assert!(
                next.contains(&format!("{code} {status}")),
                "{line}: {status}"
            );
        }
    }

    #[test]
    fn a_failure_exits_with_its_status() {
        let e = CliError::UnknownPlugin {
            name: "cobol".into(),
            installed: "python".into(),
        };
        assert_eq!(e.status(), Status::InvalidInput);
        assert!(e.to_string().contains("cobol"), "{e}");
    }
}

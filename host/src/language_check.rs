//! Each language's own check, read from its manifest's `[selftest]`: a tiny program and the
//! exact stdout it must print, and optionally a program with a syntax error that must end as
//! ERROR. `nestbox doctor`, `nestbox self-test` and `nestbox serve`'s readiness run these, so
//! adding a plugin folder with a manifest is all it takes for them to cover it.

use crate::job::Job;
use crate::plugin::manifest::SelfTest;
use crate::plugin::{Plugin, Registry};
use crate::result::{RunResult, Status};

/// The wall-clock limit of a check's run: start-up only, with room for a busy host.
const CHECK_SECONDS: f64 = 20.0;

/// Why a check failed, in words for the operator: what it saw instead of what it expects, or
/// which part of its own setup failed (a check fails closed).
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{0}")]
pub struct Failure(pub String);

/// One language's working-program check.
#[derive(Debug, Clone)]
pub struct LanguageCheck {
    /// The plugin's name.
    pub language: String,
    selftest: SelfTest,
}

impl LanguageCheck {
    /// The check of `plugin`, when its manifest has a `[selftest]`.
    pub fn of(plugin: &Plugin) -> Option<LanguageCheck> {
        Some(LanguageCheck {
            language: plugin.manifest.name.clone(),
            selftest: plugin.manifest.selftest.clone()?,
        })
    }

    /// Every installed plugin's check, in the registry's order.
    pub fn all(registry: &Registry) -> Vec<LanguageCheck> {
        registry.plugins.iter().filter_map(Self::of).collect()
    }

    /// The check `nestbox serve`'s readiness runs: the first installed plugin that has one.
    pub fn for_readiness(registry: &Registry) -> Option<LanguageCheck> {
        registry.plugins.iter().find_map(Self::of)
    }

    /// The job that runs the working program.
    pub fn job(&self) -> Job {
        self.job_for(&self.selftest.code)
    }

    /// Did the working program print exactly what the manifest expects?
    pub fn judge(&self, r: &RunResult) -> Result<(), Failure> {
        expect(r, Status::Ok)?;
        if r.stdout == self.selftest.expect {
            Ok(())
        } else {
            Err(Failure(format!(
                "the {} plugin's [selftest] expects stdout {:?}, got {:?}",
                self.language, self.selftest.expect, r.stdout
            )))
        }
    }

    /// The job that runs the program with a syntax error, when the manifest gives one.
    pub fn syntax_error_job(&self) -> Option<Job> {
        Some(self.job_for(&self.selftest.syntax_error.as_ref()?.code))
    }

    /// Did the program with a syntax error fail as the manifest says?
    pub fn judge_syntax_error(&self, r: &RunResult) -> Result<(), Failure> {
        expect(r, Status::Error)?;
        let Some(bad) = &self.selftest.syntax_error else {
            return Ok(());
        };
        if let Some(want) = &bad.stderr_contains
            && !r.stderr.contains(want.as_str())
        {
            return Err(Failure(format!("no {want:?} in stderr {:?}", r.stderr)));
        }
        if let Some(want) = bad.exit_code
            && r.exit_code != Some(want)
        {
            return Err(Failure(format!(
                "exit code {:?}, the {} plugin's [selftest.syntax_error] expects {want}",
                r.exit_code, self.language
            )));
        }
        Ok(())
    }

    fn job_for(&self, code: &str) -> Job {
        Job {
            language: self.language.clone(),
            code: code.to_string(),
            max_runtime_seconds: Some(CHECK_SECONDS),
            ..Default::default()
        }
    }
}

/// The result has `status`, or a failure quoting what happened instead.
pub fn expect(r: &RunResult, status: Status) -> Result<(), Failure> {
    if r.status == status {
        Ok(())
    } else {
        Err(Failure(format!(
            "expected {status}, got {}: {} (stderr: {})",
            r.status,
            r.message,
            r.stderr.lines().last().unwrap_or("")
        )))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::plugin::manifest::{Manifest, tests::SAMPLE};

    fn check(extra: &str) -> LanguageCheck {
        let text = format!("{SAMPLE}\n{extra}");
        let manifest = Manifest::parse(&text, std::path::Path::new("plugin.toml")).unwrap();
        LanguageCheck::of(&Plugin {
            manifest,
            dir: "/nonexistent".into(),
        })
        .expect("the manifest has a [selftest]")
    }

    fn ran(status: Status, stdout: &str, stderr: &str, exit_code: Option<i32>) -> RunResult {
        RunResult {
            stdout: stdout.into(),
            stderr: stderr.into(),
            exit_code,
            ..RunResult::not_run(status, String::new())
        }
    }

    #[test]
    fn the_manifest_says_what_passes() {
        let c = check(
            "[selftest]\ncode = \"print(42)\"\nexpect = \"42\\n\"\n\
             [selftest.syntax_error]\ncode = \"print(\"\nstderr_contains = \"SyntaxError\"\nexit_code = 1\n",
        );
        assert_eq!(c.job().code, "print(42)");
        assert_eq!(c.job().language, "python");
        assert!(c.judge(&ran(Status::Ok, "42\n", "", Some(0))).is_ok());
        let wrong = c.judge(&ran(Status::Ok, "41\n", "", Some(0))).unwrap_err();
        assert!(wrong.0.contains("\"41\\n\""), "{wrong}");
        assert!(c.judge(&ran(Status::Error, "42\n", "", Some(1))).is_err());
        assert_eq!(c.syntax_error_job().unwrap().code, "print(");
        let bad = ran(
            Status::Error,
            "",
            "SyntaxError: '(' was never closed",
            Some(1),
        );
        assert!(c.judge_syntax_error(&bad).is_ok());
        let other = ran(Status::Error, "", "NameError", Some(1));
        assert!(c.judge_syntax_error(&other).is_err());
        let code = ran(Status::Error, "", "SyntaxError", Some(2));
        assert!(c.judge_syntax_error(&code).is_err());
    }

    #[test]
    fn a_manifest_without_a_selftest_has_no_check() {
        let manifest = Manifest::parse(SAMPLE, std::path::Path::new("plugin.toml")).unwrap();
        let plugin = Plugin {
            manifest,
            dir: "/nonexistent".into(),
        };
        assert!(LanguageCheck::of(&plugin).is_none());
    }
}

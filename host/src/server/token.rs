//! The server's bearer token: where it comes from, its minimum length, and a comparison that
//! takes the same time whatever the guess. The token is never printed: its `Debug` is redacted
//! and no error quotes it.

use std::os::unix::fs::OpenOptionsExt;
use std::path::{Path, PathBuf};

use sha2::{Digest, Sha256};
use subtle::ConstantTimeEq;

/// The shortest token accepted, from any source.
pub const MIN_TOKEN_CHARS: usize = 16;

/// The environment variable that may hold the token.
pub const TOKEN_ENV: &str = "NESTBOX_SERVER_TOKEN";

#[derive(Debug, thiserror::Error)]
pub enum TokenError {
    #[error("reading the token file {path}: {source}; fix the path or its permissions")]
    Read {
        path: PathBuf,
        #[source]
        source: std::io::Error,
    },
    #[error(
        "the token from {from} is shorter than {MIN_TOKEN_CHARS} characters; use a long random \
         token, such as the output of `head -c 32 /dev/urandom | base64`"
    )]
    TooShort { from: String },
    #[error("writing a new token to {path}: {source}; check that the state directory is writable")]
    Write {
        path: PathBuf,
        #[source]
        source: std::io::Error,
    },
}

/// The server's token. Only its SHA-256 is compared, so neither the time taken nor the length of
/// the comparison depends on how long the token is or how much of a guess matches.
#[derive(Clone)]
pub struct Token {
    digest: [u8; 32],
}

impl Token {
    fn new(text: &str) -> Token {
        Token {
            digest: Sha256::digest(text.as_bytes()).into(),
        }
    }

    /// True when `given` is the token, in constant time.
    pub fn matches(&self, given: &str) -> bool {
        let digest: [u8; 32] = Sha256::digest(given.as_bytes()).into();
        digest.ct_eq(&self.digest).into()
    }
}

impl std::fmt::Debug for Token {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("Token(<redacted>)")
    }
}

/// Where the token came from.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum TokenSource {
    File(PathBuf),
    Env,
    /// Read from, or generated into, `<state>/serve.token`.
    StateDir(PathBuf),
}

/// Read or create the server's token: `--token-file`, else NESTBOX_SERVER_TOKEN, else
/// `<state>/serve.token` (created with a new random token, mode 0600, when missing or too short).
pub fn load(
    file: Option<&Path>,
    env: Option<String>,
    state_dir: &Path,
) -> Result<(Token, TokenSource), TokenError> {
    if let Some(path) = file {
        let text = std::fs::read_to_string(path).map_err(|source| TokenError::Read {
            path: path.to_path_buf(),
            source,
        })?;
        let token = checked(text.trim(), || format!("the token file {}", path.display()))?;
        return Ok((token, TokenSource::File(path.to_path_buf())));
    }
    if let Some(text) = env
        && !text.trim().is_empty()
    {
        let token = checked(text.trim(), || TOKEN_ENV.to_string())?;
        return Ok((token, TokenSource::Env));
    }
    let path = default_path(state_dir);
    if let Ok(text) = std::fs::read_to_string(&path)
        && text.trim().chars().count() >= MIN_TOKEN_CHARS
    {
        return Ok((Token::new(text.trim()), TokenSource::StateDir(path)));
    }
    let text = format!(
        "{}{}",
        uuid::Uuid::new_v4().simple(),
        uuid::Uuid::new_v4().simple()
    );
    write_new(&path, &text).map_err(|source| TokenError::Write {
        path: path.clone(),
        source,
    })?;
    Ok((Token::new(&text), TokenSource::StateDir(path)))
}

fn checked(text: &str, from: impl FnOnce() -> String) -> Result<Token, TokenError> {
    if text.chars().count() < MIN_TOKEN_CHARS {
        return Err(TokenError::TooShort { from: from() });
    }
    Ok(Token::new(text))
}

fn write_new(path: &Path, text: &str) -> std::io::Result<()> {
    use std::io::Write;
    if let Some(dir) = path.parent() {
        std::fs::create_dir_all(dir)?;
    }
    let mut f = std::fs::OpenOptions::new()
        .write(true)
        .create(true)
        .truncate(true)
        .mode(0o600)
        .open(path)?;
    f.write_all(text.as_bytes())
}

/// Where `nestbox serve` keeps a token it generated (clients read it from there too).
pub fn default_path(state_dir: &Path) -> PathBuf {
    state_dir.join("serve.token")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_source_needs_sixteen_characters() {
        let dir = tempfile::tempdir().unwrap();
        let file = dir.path().join("t");
        std::fs::write(&file, "short\n").unwrap();
        let err = load(Some(&file), None, dir.path()).unwrap_err();
        assert!(matches!(err, TokenError::TooShort { .. }), "{err}");
        assert!(!err.to_string().contains("short\n"));
        let err = load(None, Some("tiny-secret".into()), dir.path()).unwrap_err();
        assert!(err.to_string().contains(TOKEN_ENV), "{err}");
        assert!(!err.to_string().contains("tiny-secret"), "{err}");

        let (t, from) = load(None, Some(" 0123456789abcdef ".into()), dir.path()).unwrap();
        assert_eq!(from, TokenSource::Env);
        assert!(t.matches("0123456789abcdef"));
        assert!(!t.matches("0123456789abcdeX"));
        assert!(!t.matches(""));
        assert_eq!(format!("{t:?}"), "Token(<redacted>)");
    }

    #[test]
    fn a_generated_token_is_private_and_reused() {
        use std::os::unix::fs::PermissionsExt;
        let dir = tempfile::tempdir().unwrap();
        let (first, from) = load(None, None, dir.path()).unwrap();
        let path = default_path(dir.path());
        assert_eq!(from, TokenSource::StateDir(path.clone()));
        let mode = std::fs::metadata(&path).unwrap().permissions().mode();
        assert_eq!(mode & 0o777, 0o600);
        let text = std::fs::read_to_string(&path).unwrap();
        assert!(first.matches(&text));
        let (again, _) = load(None, None, dir.path()).unwrap();
        assert!(again.matches(&text));
    }
}

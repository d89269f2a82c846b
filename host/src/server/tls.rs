//! TLS for the server's TCP listeners (`--tls-cert`, `--tls-key`): a PEM certificate chain and
//! its PEM private key, loaded and checked against each other before the server starts, served
//! with rustls (ring provider, TLS 1.2 and 1.3, HTTP/1.1 only).

use std::path::{Path, PathBuf};
use std::sync::Arc;

use rustls_pki_types::pem::PemObject;
use rustls_pki_types::{CertificateDer, PrivateKeyDer};
use tokio_rustls::TlsAcceptor;

/// The two PEM files.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TlsFiles {
    pub cert: PathBuf,
    pub key: PathBuf,
}

#[derive(Debug, thiserror::Error)]
pub enum TlsError {
    #[error(
        "--tls-cert and --tls-key go together: {given} was given without {missing}; give both \
         (TLS on) or neither"
    )]
    Half {
        given: &'static str,
        missing: &'static str,
    },
    #[error("reading the {what} {path}: {source}; fix the path or its permissions")]
    Read {
        what: &'static str,
        path: PathBuf,
        #[source]
        source: std::io::Error,
    },
    #[error("the {what} {path} is not valid PEM: {source}; it must hold {expected}")]
    Pem {
        what: &'static str,
        path: PathBuf,
        expected: &'static str,
        #[source]
        source: rustls_pki_types::pem::Error,
    },
    #[error(
        "the --tls-cert {path} holds no certificate; it must hold PEM `BEGIN CERTIFICATE` \
         blocks, the server's own first"
    )]
    NoCertificate { path: PathBuf },
    #[error(
        "the --tls-cert {cert} and the --tls-key {key} cannot be used together (the key does not \
         belong to the certificate, or its type is not supported): {source}"
    )]
    Mismatch {
        cert: PathBuf,
        key: PathBuf,
        #[source]
        source: rustls::Error,
    },
}

impl TlsFiles {
    /// Both flags or neither.
    pub fn from_flags(
        cert: Option<PathBuf>,
        key: Option<PathBuf>,
    ) -> Result<Option<TlsFiles>, TlsError> {
        match (cert, key) {
            (Some(cert), Some(key)) => Ok(Some(TlsFiles { cert, key })),
            (None, None) => Ok(None),
            (Some(_), None) => Err(TlsError::Half {
                given: "--tls-cert",
                missing: "--tls-key",
            }),
            (None, Some(_)) => Err(TlsError::Half {
                given: "--tls-key",
                missing: "--tls-cert",
            }),
        }
    }

    /// Load and check both files into an acceptor.
    pub fn acceptor(&self) -> Result<TlsAcceptor, TlsError> {
        let certs = read_certs(&self.cert)?;
        let key = read_key(&self.key)?;
        let provider = Arc::new(rustls::crypto::ring::default_provider());
        let mut config = rustls::ServerConfig::builder_with_provider(provider)
            .with_safe_default_protocol_versions()
            .and_then(|b| b.with_no_client_auth().with_single_cert(certs, key))
            .map_err(|source| TlsError::Mismatch {
                cert: self.cert.clone(),
                key: self.key.clone(),
                source,
            })?;
        config.alpn_protocols = vec![b"http/1.1".to_vec()];
        Ok(TlsAcceptor::from(Arc::new(config)))
    }
}

fn read(what: &'static str, path: &Path) -> Result<Vec<u8>, TlsError> {
    std::fs::read(path).map_err(|source| TlsError::Read {
        what,
        path: path.to_path_buf(),
        source,
    })
}

fn read_certs(path: &Path) -> Result<Vec<CertificateDer<'static>>, TlsError> {
    let pem = read("--tls-cert", path)?;
    let certs = CertificateDer::pem_slice_iter(&pem)
        .collect::<Result<Vec<_>, _>>()
        .map_err(|source| TlsError::Pem {
            what: "--tls-cert",
            path: path.to_path_buf(),
            expected: "PEM `BEGIN CERTIFICATE` blocks",
            source,
        })?;
    if certs.is_empty() {
        return Err(TlsError::NoCertificate {
            path: path.to_path_buf(),
        });
    }
    Ok(certs)
}

fn read_key(path: &Path) -> Result<PrivateKeyDer<'static>, TlsError> {
    let pem = read("--tls-key", path)?;
    PrivateKeyDer::from_pem_slice(&pem).map_err(|source| TlsError::Pem {
        what: "--tls-key",
        path: path.to_path_buf(),
        expected: "one PEM private key (`BEGIN PRIVATE KEY`, `BEGIN EC PRIVATE KEY` or \
                   `BEGIN RSA PRIVATE KEY`)",
        source,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A self-signed P-256 certificate for 127.0.0.1 and its key, made by the openssl CLI.
    fn pair(dir: &Path, name: &str) -> TlsFiles {
        let files = TlsFiles {
            cert: dir.join(format!("{name}.crt")),
            key: dir.join(format!("{name}.key")),
        };
        let out = std::process::Command::new("openssl")
            .args(["req", "-x509", "-newkey", "ec", "-pkeyopt"])
            .args(["ec_paramgen_curve:prime256v1", "-nodes", "-days", "2"])
            .args(["-subj", "/CN=nestbox-test"])
            .args(["-addext", "subjectAltName=IP:127.0.0.1"])
            .arg("-keyout")
            .arg(&files.key)
            .arg("-out")
            .arg(&files.cert)
            .output()
            .expect("the openssl command");
        assert!(out.status.success(), "{out:?}");
        files
    }

    fn refused(files: &TlsFiles) -> TlsError {
        match files.acceptor() {
            Ok(_) => panic!("{files:?} was accepted"),
            Err(e) => e,
        }
    }

    #[test]
    fn both_flags_or_neither() {
        assert_eq!(TlsFiles::from_flags(None, None).unwrap(), None);
        let err = TlsFiles::from_flags(Some("c".into()), None).unwrap_err();
        assert!(err.to_string().contains("without --tls-key"), "{err}");
        let err = TlsFiles::from_flags(None, Some("k".into())).unwrap_err();
        assert!(err.to_string().contains("without --tls-cert"), "{err}");
    }

    #[test]
    fn a_matching_pair_loads_and_bad_files_are_named() {
        let dir = tempfile::tempdir().unwrap();
        let a = pair(dir.path(), "a");
        let b = pair(dir.path(), "b");
        a.acceptor().unwrap();

        let missing = TlsFiles {
            cert: dir.path().join("nope.crt"),
            key: a.key.clone(),
        };
        let err = refused(&missing).to_string();
        assert!(
            err.contains("--tls-cert") && err.contains("nope.crt"),
            "{err}"
        );

        let swapped = TlsFiles {
            cert: a.key.clone(),
            key: a.cert.clone(),
        };
        let err = refused(&swapped).to_string();
        assert!(
            err.contains("a.key") && err.contains("no certificate"),
            "{err}"
        );

        let garbage = dir.path().join("garbage.pem");
        std::fs::write(&garbage, "not a key\n").unwrap();
        let err = refused(&TlsFiles {
            cert: a.cert.clone(),
            key: garbage,
        })
        .to_string();
        assert!(
            err.contains("--tls-key") && err.contains("garbage.pem"),
            "{err}"
        );

        let mismatched = TlsFiles {
            cert: a.cert.clone(),
            key: b.key.clone(),
        };
        let err = refused(&mismatched);
        assert!(matches!(err, TlsError::Mismatch { .. }), "{err}");
        assert!(err.to_string().contains("does not belong"), "{err}");
    }
}

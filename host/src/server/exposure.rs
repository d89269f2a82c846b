//! Which TCP addresses `nestbox serve` may listen on. Loopback is always allowed; any other
//! address (0.0.0.0 and :: included) only with a token the operator chose (`--token-file` or
//! NESTBOX_SERVER_TOKEN), never the one generated into the state directory, which only local
//! clients can read. Without TLS such a listener works but is warned about: the token and the
//! code would cross the network in clear.

use std::net::SocketAddr;

use super::token::{TOKEN_ENV, TokenSource};

#[derive(Debug, thiserror::Error)]
pub enum ExposureError {
    #[error(
        "--listen {addr} is not a loopback address, so other machines could reach the server, \
         and no token was chosen for it; give one with --token-file FILE or {TOKEN_ENV} (16 \
         characters or more; the token nestbox generates into the state directory is only for \
         local clients), or listen on 127.0.0.1 or ::1"
    )]
    NeedsToken { addr: SocketAddr },
}

/// Refuse a non-loopback address without a chosen token; return the warnings to log.
pub fn check(
    listen: &[SocketAddr],
    token: &TokenSource,
    tls: bool,
) -> Result<Vec<String>, ExposureError> {
    let chosen = matches!(token, TokenSource::File(_) | TokenSource::Env);
    let mut warnings = Vec::new();
    for &addr in listen.iter().filter(|a| !a.ip().is_loopback()) {
        if !chosen {
            return Err(ExposureError::NeedsToken { addr });
        }
        if !tls {
            warnings.push(format!(
                "--listen {addr} is not a loopback address and has no TLS: the bearer token and \
                 every job cross the network in clear; give --tls-cert and --tls-key unless the \
                 network itself is encrypted (a service mesh, WireGuard)"
            ));
        }
    }
    Ok(warnings)
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::path::PathBuf;

    fn addrs(list: &[&str]) -> Vec<SocketAddr> {
        list.iter().map(|a| a.parse().unwrap()).collect()
    }

    #[test]
    fn loopback_needs_nothing_more() {
        let state = TokenSource::StateDir(PathBuf::from("/s/serve.token"));
        let w = check(&addrs(&["127.0.0.1:8089", "[::1]:8089"]), &state, false).unwrap();
        assert!(w.is_empty(), "{w:?}");
        assert!(check(&[], &state, false).unwrap().is_empty());
    }

    #[test]
    fn any_other_address_needs_a_chosen_token() {
        let state = TokenSource::StateDir(PathBuf::from("/s/serve.token"));
        for a in ["0.0.0.0:8089", "[::]:8089", "10.1.2.3:80", "[fe80::1]:1"] {
            let err = check(&addrs(&["127.0.0.1:1", a]), &state, true).unwrap_err();
            let text = err.to_string();
            assert!(text.contains(&format!("--listen {a}")), "{text}");
            assert!(text.contains("--token-file"), "{text}");
            assert!(text.contains(TOKEN_ENV), "{text}");
        }
        for chosen in [TokenSource::Env, TokenSource::File(PathBuf::from("/t"))] {
            assert!(
                check(&addrs(&["0.0.0.0:8089"]), &chosen, true)
                    .unwrap()
                    .is_empty()
            );
        }
    }

    #[test]
    fn a_clear_text_network_listener_is_warned_about() {
        let w = check(
            &addrs(&["0.0.0.0:80", "127.0.0.1:81"]),
            &TokenSource::Env,
            false,
        )
        .unwrap();
        assert_eq!(w.len(), 1, "{w:?}");
        assert!(
            w[0].contains("0.0.0.0:80") && w[0].contains("--tls-cert"),
            "{w:?}"
        );
    }
}

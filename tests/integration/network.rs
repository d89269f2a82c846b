//! `nestbox serve --listen` on TCP: two servers side by side with their own tokens, TLS on and
//! off, the refusal of a network address without a chosen token, bad TLS files, the per-IP rate
//! limit, and a TLS client's hang-up cancelling its execution. Servers accept on 127.0.0.1 only;
//! 0.0.0.0 is bound only to check that the server refuses or starts.

use std::path::{Path, PathBuf};
use std::process::{Child, Stdio};
use std::sync::Arc;
use std::time::{Duration, Instant};

use serde_json::Value;
use tokio::io::AsyncWriteExt;

use crate::server::serve_refused;
use crate::util::Env;

const TOKEN_A: &str = "network-token-aaaaaaaaaaaaaaaa";
const TOKEN_B: &str = "network-token-bbbbbbbbbbbbbbbb";

/// A `nestbox serve` with a token file and one TCP address, stopped (SIGTERM) when dropped.
struct TcpServer {
    env: Env,
    child: Option<Child>,
    /// `http://127.0.0.1:PORT` or `https://...`.
    url: String,
}

impl TcpServer {
    fn start(token: &str, listen: &str, extra: &[&str]) -> TcpServer {
        let env = Env::new();
        let token_file = env.state_dir().join("token");
        std::fs::write(&token_file, token).unwrap();
        let tls = extra.contains(&"--tls-cert");
        let pool: &[&str] = if extra.contains(&"--pool") {
            &[]
        } else {
            &["--pool", "1"]
        };
        let mut child = env
            .cmd()
            .args(["serve", "--listen", listen])
            .args(pool)
            .arg("--socket")
            .arg(env.state_dir().join("api.sock"))
            .arg("--token-file")
            .arg(&token_file)
            .args(extra)
            .stdout(Stdio::null())
            .stderr(std::fs::File::create(env.state_dir().join("serve.log")).unwrap())
            .spawn()
            .unwrap();
        let deadline = Instant::now() + Duration::from_secs(90);
        // Ready once /readyz answers 200 on the unix socket (the TCP port is bound before).
        let socket = env.state_dir().join("api.sock");
        while !ready(&socket) {
            if Instant::now() > deadline || child.try_wait().unwrap().is_some() {
                let _ = child.kill();
                let _ = child.wait();
                panic!("the server did not become ready:\n{}", log(&env));
            }
            std::thread::sleep(Duration::from_millis(100));
        }
        let scheme = if tls { "https" } else { "http" };
        TcpServer {
            url: format!("{scheme}://{listen}"),
            env,
            child: Some(child),
        }
    }

    fn log(&self) -> String {
        log(&self.env)
    }
}

impl Drop for TcpServer {
    fn drop(&mut self) {
        if let Some(mut c) = self.child.take() {
            let _ = nix::sys::signal::kill(
                nix::unistd::Pid::from_raw(c.id() as i32),
                nix::sys::signal::SIGTERM,
            );
            let deadline = Instant::now() + Duration::from_secs(30);
            while Instant::now() < deadline {
                if let Ok(Some(_)) = c.try_wait() {
                    return;
                }
                std::thread::sleep(Duration::from_millis(50));
            }
            let _ = c.kill();
            let _ = c.wait();
        }
    }
}

fn log(env: &Env) -> String {
    std::fs::read_to_string(env.state_dir().join("serve.log")).unwrap_or_default()
}

fn ready(socket: &Path) -> bool {
    use std::io::{Read, Write};
    let Ok(mut s) = std::os::unix::net::UnixStream::connect(socket) else {
        return false;
    };
    let _ = s.set_read_timeout(Some(Duration::from_secs(10)));
    if s.write_all(b"GET /readyz HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n")
        .is_err()
    {
        return false;
    }
    let mut out = String::new();
    let _ = s.read_to_string(&mut out);
    out.starts_with("HTTP/1.1 200")
}

/// A free loopback port (bound and released; the server binds it next).
fn free_addr() -> String {
    let l = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    l.local_addr().unwrap().to_string()
}

/// A self-signed certificate for 127.0.0.1 and its key, made by the openssl CLI.
fn self_signed(dir: &Path, name: &str) -> (PathBuf, PathBuf) {
    let (cert, key) = (
        dir.join(format!("{name}.crt")),
        dir.join(format!("{name}.key")),
    );
    let out = std::process::Command::new("openssl")
        .args(["req", "-x509", "-newkey", "ec", "-pkeyopt"])
        .args(["ec_paramgen_curve:prime256v1", "-nodes", "-days", "2"])
        .args(["-subj", "/CN=nestbox-test"])
        .args(["-addext", "subjectAltName=IP:127.0.0.1"])
        .args(["-addext", "basicConstraints=critical,CA:FALSE"])
        .arg("-keyout")
        .arg(&key)
        .arg("-out")
        .arg(&cert)
        .output()
        .expect("the openssl command");
    assert!(out.status.success(), "{out:?}");
    (cert, key)
}

fn runtime() -> tokio::runtime::Runtime {
    tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .unwrap()
}

/// One request with reqwest (trusting only `ca` for https); status, Retry-After and body, or
/// the client's error.
fn request(
    method: &str,
    url: &str,
    token: Option<&str>,
    body: Option<Value>,
    ca: Option<&Path>,
) -> Result<(u16, Option<String>, String), reqwest::Error> {
    runtime().block_on(async {
        let mut client = reqwest::Client::builder()
            .timeout(Duration::from_secs(120))
            .tls_built_in_root_certs(false);
        if let Some(ca) = ca {
            let pem = std::fs::read(ca).unwrap();
            client = client.add_root_certificate(reqwest::Certificate::from_pem(&pem).unwrap());
        }
        let client = client.build()?;
        let mut req = client.request(method.parse().unwrap(), url);
        if let Some(t) = token {
            req = req.bearer_auth(t);
        }
        if let Some(b) = body {
            req = req.json(&b);
        }
        let resp = req.send().await?;
        let code = resp.status().as_u16();
        let retry = resp
            .headers()
            .get("retry-after")
            .map(|v| v.to_str().unwrap_or("").to_string());
        Ok((code, retry, resp.text().await?))
    })
}

fn print_hi() -> Value {
    serde_json::json!({"language": "python", "code": "print('hi')"})
}

/// `nestbox serve ARGS` on a socket in the state dir, expected to refuse to start (see
/// [`serve_refused`]).
fn refused(env: &Env, args: &[&str]) -> (Option<i32>, String) {
    let socket = env.state_dir().join("api.sock");
    let mut all = vec!["--socket", socket.to_str().unwrap()];
    all.extend_from_slice(args);
    serve_refused(env, &all)
}

#[test]
fn two_tcp_servers_each_take_only_their_own_token_with_and_without_tls() {
    let dir = tempfile::tempdir().unwrap();
    let (cert, key) = self_signed(dir.path(), "b");
    let plain = TcpServer::start(TOKEN_A, &free_addr(), &[]);
    let tls = TcpServer::start(
        TOKEN_B,
        &free_addr(),
        &[
            "--tls-cert",
            cert.to_str().unwrap(),
            "--tls-key",
            key.to_str().unwrap(),
        ],
    );
    assert!(plain.url.starts_with("http://") && tls.url.starts_with("https://"));
    for (server, right, wrong, ca) in [
        (&plain, TOKEN_A, TOKEN_B, None),
        (&tls, TOKEN_B, TOKEN_A, Some(cert.as_path())),
    ] {
        let run = format!("{}/v1/run", server.url);
        let (code, _, body) = request("POST", &run, Some(right), Some(print_hi()), ca).unwrap();
        assert_eq!(code, 200, "{body}\n{}", server.log());
        let result: Value = serde_json::from_str(&body).unwrap();
        assert_eq!(result["status"], "OK", "{result}");
        assert_eq!(result["stdout"], "hi\n", "{result}");
        let (code, _, body) = request("POST", &run, Some(wrong), Some(print_hi()), ca).unwrap();
        assert_eq!(code, 401, "{body}");
        let (code, _, _) = request("POST", &run, None, Some(print_hi()), ca).unwrap();
        assert_eq!(code, 401);
        let health = format!("{}/healthz", server.url);
        assert_eq!(request("GET", &health, None, None, ca).unwrap().0, 200);
    }
    // The TLS port speaks only TLS, with its own certificate: plain HTTP gets no answer, and a
    // client that does not trust the certificate refuses it.
    let plain_to_tls = tls.url.replace("https://", "http://") + "/healthz";
    assert!(request("GET", &plain_to_tls, None, None, None).is_err());
    let other = self_signed(dir.path(), "other").0;
    let health = format!("{}/healthz", tls.url);
    assert!(request("GET", &health, None, None, Some(&other)).is_err());
    // A plain server is not reachable as https.
    let tls_to_plain = plain.url.replace("http://", "https://") + "/healthz";
    assert!(request("GET", &tls_to_plain, None, None, Some(&cert)).is_err());
}

#[test]
fn a_network_address_needs_a_chosen_token() {
    // No --token-file and no NESTBOX_SERVER_TOKEN: the token would be the generated one.
    let env = Env::new();
    let (code, stderr) = refused(&env, &["--pool", "0", "--listen", "0.0.0.0:0"]);
    assert_eq!(code, Some(2), "{stderr}");
    assert!(
        stderr.contains("--listen 0.0.0.0:0 is not a loopback address"),
        "{stderr}"
    );
    assert!(
        stderr.contains("--token-file FILE or NESTBOX_SERVER_TOKEN"),
        "{stderr}"
    );
    let (code, stderr) = refused(&env, &["--pool", "0", "--listen", "[::]:0"]);
    assert_eq!(code, Some(2), "{stderr}");
    assert!(stderr.contains("--listen [::]:0"), "{stderr}");

    // With a chosen token it starts (and warns that without TLS the token is sent in clear).
    let server = TcpServer::start(TOKEN_A, "0.0.0.0:0", &["--pool", "0"]);
    let log = server.log();
    assert!(log.contains("has no TLS"), "{log}");
}

#[test]
fn bad_tls_files_refuse_the_start_and_name_the_file() {
    let dir = tempfile::tempdir().unwrap();
    let (cert, key) = self_signed(dir.path(), "a");
    let (_, other_key) = self_signed(dir.path(), "b");
    let env = Env::new();
    let token = env.state_dir().join("token");
    std::fs::write(&token, TOKEN_A).unwrap();
    let base = [
        "--pool",
        "0",
        "--listen",
        "127.0.0.1:0",
        "--token-file",
        token.to_str().unwrap(),
    ];
    let cases: [(Vec<&str>, &str); 3] = [
        (
            vec!["--tls-cert", cert.to_str().unwrap()],
            "--tls-cert was given without --tls-key",
        ),
        (
            vec![
                "--tls-cert",
                cert.to_str().unwrap(),
                "--tls-key",
                "/nonexistent/k.pem",
            ],
            "reading the --tls-key /nonexistent/k.pem",
        ),
        (
            vec![
                "--tls-cert",
                cert.to_str().unwrap(),
                "--tls-key",
                other_key.to_str().unwrap(),
            ],
            "does not belong to the certificate",
        ),
    ];
    for (args, expected) in cases {
        let all: Vec<&str> = base.iter().copied().chain(args).collect();
        let (code, stderr) = refused(&env, &all);
        assert_eq!(code, Some(2), "{all:?}: {stderr}");
        assert!(stderr.contains(expected), "{all:?}: {stderr}");
    }
    // The right pair is accepted (checked by the server start in the test above too).
    let _ = key;
}

#[test]
fn the_rate_limit_answers_429_after_the_burst() {
    let addr = free_addr();
    let server = TcpServer::start(
        TOKEN_A,
        &addr,
        &["--rate-limit-per-ip", "1/h", "--rate-limit-burst", "2"],
    );
    let plugins = format!("{}/v1/plugins", server.url);
    for _ in 0..2 {
        let (code, _, body) = request("GET", &plugins, Some(TOKEN_A), None, None).unwrap();
        assert_eq!(code, 200, "{body}");
    }
    let (code, retry, body) = request("GET", &plugins, Some(TOKEN_A), None, None).unwrap();
    assert_eq!(code, 429, "{body}");
    let retry: u64 = retry.expect("Retry-After").parse().unwrap();
    assert!((3000..=3600).contains(&retry), "{retry}");
    let result: Value = serde_json::from_str(&body).unwrap();
    assert!(
        result["message"]
            .as_str()
            .unwrap()
            .contains("too many requests from this address"),
        "{result}"
    );
    // Without the token it is refused all the same, before the token is looked at.
    assert_eq!(request("GET", &plugins, None, None, None).unwrap().0, 429);
    // Probes are never limited.
    let health = format!("{}/healthz", server.url);
    assert_eq!(request("GET", &health, None, None, None).unwrap().0, 200);
    // The unix socket has no limit: its /metrics counts the refusals.
    let metrics = unix_get(&server.env.state_dir().join("api.sock"), "/metrics");
    assert!(
        metrics.contains("nestbox_rate_limited_requests_total 2"),
        "{metrics}"
    );
}

fn unix_get(socket: &Path, path: &str) -> String {
    use std::io::{Read, Write};
    let mut s = std::os::unix::net::UnixStream::connect(socket).unwrap();
    s.set_read_timeout(Some(Duration::from_secs(60))).unwrap();
    write!(
        s,
        "GET {path} HTTP/1.1\r\nHost: x\r\nAuthorization: Bearer {TOKEN_A}\r\nConnection: close\r\n\r\n"
    )
    .unwrap();
    let mut out = String::new();
    s.read_to_string(&mut out).unwrap();
    out
}

#[test]
fn a_tls_client_that_hangs_up_cancels_its_execution() {
    let dir = tempfile::tempdir().unwrap();
    let (cert, key) = self_signed(dir.path(), "c");
    let addr = free_addr();
    let server = TcpServer::start(
        TOKEN_A,
        &addr,
        &[
            "--tls-cert",
            cert.to_str().unwrap(),
            "--tls-key",
            key.to_str().unwrap(),
        ],
    );
    let body = serde_json::json!({"language": "python", "code": "import time\ntime.sleep(60)"})
        .to_string();
    runtime().block_on(async {
        let mut roots = rustls::RootCertStore::empty();
        let pem = std::fs::read(&cert).unwrap();
        use rustls_pki_types::pem::PemObject;
        for c in rustls_pki_types::CertificateDer::pem_slice_iter(&pem) {
            roots.add(c.unwrap()).unwrap();
        }
        let config = rustls::ClientConfig::builder_with_provider(Arc::new(
            rustls::crypto::ring::default_provider(),
        ))
        .with_safe_default_protocol_versions()
        .unwrap()
        .with_root_certificates(roots)
        .with_no_client_auth();
        let tcp = tokio::net::TcpStream::connect(&addr).await.unwrap();
        let name = rustls_pki_types::ServerName::try_from("127.0.0.1").unwrap();
        let mut tls = tokio_rustls::TlsConnector::from(Arc::new(config))
            .connect(name, tcp)
            .await
            .unwrap();
        let request = format!(
            "POST /v1/run HTTP/1.1\r\nHost: x\r\nAuthorization: Bearer {TOKEN_A}\r\nContent-Type: application/json\r\nContent-Length: {}\r\n\r\n{body}",
            body.len()
        );
        tls.write_all(request.as_bytes()).await.unwrap();
        tls.flush().await.unwrap();
        tokio::time::sleep(Duration::from_millis(1500)).await;
        // close_notify, then the TCP close.
        tls.shutdown().await.unwrap();
    });
    let socket = server.env.state_dir().join("api.sock");
    let deadline = Instant::now() + Duration::from_secs(20);
    let mut metrics = String::new();
    while Instant::now() < deadline {
        metrics = unix_get(&socket, "/metrics");
        if metrics.contains("nestbox_running_executions 0")
            && metrics.contains(r#"status="CANCELLED"} 1"#)
        {
            return;
        }
        std::thread::sleep(Duration::from_millis(100));
    }
    panic!(
        "the execution was not cancelled: {metrics}\n{}",
        server.log()
    );
}

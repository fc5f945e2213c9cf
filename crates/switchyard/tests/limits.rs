//! `switchyard serve` as a process facing hostile clients (issue 7): idle
//! connections cannot exhaust its memory, a connection cap holds, idle
//! connections are closed, and the admin token is checked at start.

use std::io::{BufRead, BufReader, Read, Write};
use std::net::TcpStream;
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

const TOKEN: &str = "limits-test-token-0123456789";

/// A `serve` child over a fresh SQLite file; killed when dropped.
struct Serve {
    child: Child,
    addr: String,
    dir: std::path::PathBuf,
}

impl Drop for Serve {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
        let _ = std::fs::remove_dir_all(&self.dir);
    }
}

static NEXT: std::sync::atomic::AtomicUsize = std::sync::atomic::AtomicUsize::new(0);

fn scratch(kind: &str) -> std::path::PathBuf {
    let n = NEXT.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
    std::env::temp_dir().join(format!("switchyard-{kind}-{}-{n}", std::process::id()))
}

fn serve(env: &[(&str, &str)]) -> Serve {
    let dir = scratch("limits");
    std::fs::create_dir_all(&dir).expect("dir");
    let db = dir.join("shop.db");
    let mut cmd = Command::new(env!("CARGO_BIN_EXE_switchyard"));
    cmd.args(["serve", "--db", db.to_str().expect("path"), "--listen", "127.0.0.1:0"])
        .env("SWITCHYARD_API_TOKEN", TOKEN)
        .env("SWITCHYARD_LOG", "error")
        .stdout(Stdio::piped())
        .stderr(Stdio::null());
    for (k, v) in env {
        cmd.env(k, v);
    }
    let mut child = cmd.spawn().expect("start serve");
    let stdout = child.stdout.take().expect("stdout");
    let (tx, rx) = std::sync::mpsc::channel();
    std::thread::spawn(move || {
        for line in BufReader::new(stdout).lines().map_while(Result::ok) {
            if let Some(rest) = line.strip_prefix("Switchyard serving http://") {
                let _ = tx.send(rest.split('/').next().unwrap_or_default().to_owned());
            }
        }
    });
    let addr = rx.recv_timeout(Duration::from_secs(30)).expect("serve printed its address");
    Serve { child, addr, dir }
}

fn rss_kib(pid: u32) -> u64 {
    let status = std::fs::read_to_string(format!("/proc/{pid}/status")).expect("proc status");
    status
        .lines()
        .find_map(|l| l.strip_prefix("VmRSS:"))
        .and_then(|v| v.trim().trim_end_matches("kB").trim().parse().ok())
        .expect("VmRSS")
}

/// One authenticated GET over a new connection: the status code.
fn get(addr: &str, path: &str) -> Option<u16> {
    get_with(addr, path, TOKEN)
}

fn get_with(addr: &str, path: &str, token: &str) -> Option<u16> {
    let mut s = TcpStream::connect(addr).ok()?;
    s.set_read_timeout(Some(Duration::from_secs(10))).ok()?;
    let req = format!("GET {path} HTTP/1.1\r\nHost: x\r\nAuthorization: Bearer {token}\r\nConnection: close\r\n\r\n");
    s.write_all(req.as_bytes()).ok()?;
    let mut text = String::new();
    s.read_to_string(&mut text).ok()?;
    text.get(9..12)?.parse().ok()
}

/// Whether the server has closed this connection (EOF or reset).
fn closed_by_server(s: &mut TcpStream) -> bool {
    s.set_read_timeout(Some(Duration::from_millis(200))).expect("timeout");
    let mut buf = [0u8; 64];
    match s.read(&mut buf) {
        Ok(0) => true,
        Ok(_) => false,
        Err(e) => !matches!(e.kind(), std::io::ErrorKind::WouldBlock | std::io::ErrorKind::TimedOut),
    }
}

/// Regression: 200 idle connections took the server from 18 MB to 212 MB
/// (3,000 to 2.9 GB), and idle connections stayed open forever.
#[test]
fn two_thousand_idle_connections_keep_memory_bounded_and_are_closed() {
    let server = serve(&[("SWITCHYARD_HEADER_TIMEOUT_SECS", "3"), ("SWITCHYARD_MAX_CONNECTIONS", "5000")]);
    assert_eq!(get(&server.addr, "/api/v1/orders"), Some(200));
    let before = rss_kib(server.child.id());
    let mut idle: Vec<TcpStream> = (0..2000).map(|_| TcpStream::connect(&server.addr).expect("connect")).collect();
    // Half of them start a request and stop in the middle of the headers.
    for s in idle.iter_mut().step_by(2) {
        s.write_all(b"GET /api/v1/orders HTTP/1.1\r\nHost: x\r\n").expect("write");
    }
    std::thread::sleep(Duration::from_millis(500));
    let started = Instant::now();
    assert_eq!(get(&server.addr, "/api/v1/orders"), Some(200), "a real request is served beside them");
    assert!(started.elapsed() < Duration::from_secs(2), "promptly: {:?}", started.elapsed());
    let during = rss_kib(server.child.id());
    let grown = during.saturating_sub(before);
    eprintln!("RSS before {before} KiB, with 2,000 idle connections {during} KiB (+{grown} KiB)");
    assert!(grown < 40 * 1024, "2,000 idle connections cost {grown} KiB (want < 40 MiB)");
    // Past the header timeout every one of them has been closed by the server.
    std::thread::sleep(Duration::from_secs(4));
    let open = idle.iter_mut().map(closed_by_server).filter(|closed| !closed).count();
    assert_eq!(open, 0, "idle connections still open after the header timeout");
    assert_eq!(get(&server.addr, "/api/v1/orders"), Some(200));
}

/// The connection cap: connections past `max_connections` are closed on
/// arrival, and served again once the idle ones are gone.
#[test]
fn connections_past_the_cap_are_closed_and_the_server_recovers() {
    let server = serve(&[("SWITCHYARD_HEADER_TIMEOUT_SECS", "2"), ("SWITCHYARD_MAX_CONNECTIONS", "20")]);
    let mut held: Vec<TcpStream> = (0..20).map(|_| TcpStream::connect(&server.addr).expect("connect")).collect();
    std::thread::sleep(Duration::from_millis(300));
    let mut extra = TcpStream::connect(&server.addr).expect("the kernel still accepts");
    let _ = extra.write_all(b"GET /healthz HTTP/1.1\r\nHost: x\r\n\r\n");
    assert!(closed_by_server(&mut extra), "a connection past the cap is closed");
    std::thread::sleep(Duration::from_secs(3));
    assert!(held.iter_mut().all(closed_by_server), "the idle ones timed out");
    assert_eq!(get(&server.addr, "/api/v1/orders"), Some(200), "and new clients are served again");
}

fn serve_output(token: &str) -> (Option<i32>, String) {
    let dir = scratch("token");
    std::fs::create_dir_all(&dir).expect("dir");
    let db = dir.join("shop.db");
    let mut child = Command::new(env!("CARGO_BIN_EXE_switchyard"))
        .args(["serve", "--db", db.to_str().expect("path"), "--listen", "127.0.0.1:0"])
        .env("SWITCHYARD_API_TOKEN", token)
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("start");
    // A refused token exits at once; an accepted one serves until killed.
    let deadline = Instant::now() + Duration::from_secs(10);
    let code = loop {
        if let Some(status) = child.try_wait().expect("wait") {
            break status.code();
        }
        if Instant::now() > deadline {
            let _ = child.kill();
            let _ = child.wait();
            break None;
        }
        std::thread::sleep(Duration::from_millis(50));
    };
    let mut text = String::new();
    if let Some(mut e) = child.stderr.take() {
        let _ = e.read_to_string(&mut text);
    }
    let _ = std::fs::remove_dir_all(&dir);
    (code, text)
}

/// Regression: a one-character admin token was accepted, and a numeric
/// one stopped the start with an error that printed it.
#[test]
fn short_admin_tokens_are_refused_at_start_without_echoing_them() {
    for token in ["q", "8675309", "true", "hunter2hunter2!"] {
        let (code, text) = serve_output(token);
        assert_eq!(code, Some(1), "{token:?} is refused: {text}");
        assert!(text.contains("too short") && text.contains("16"), "{text}");
        assert!(!text.contains(token), "the error repeats the secret {token:?}: {text}");
    }
}

/// A numeric token (leading zeros and all) is a string like any other.
#[test]
fn a_numeric_admin_token_is_read_as_a_string() {
    let token = "00123456789012345678";
    let server = serve(&[("SWITCHYARD_API_TOKEN", token)]);
    assert_eq!(get_with(&server.addr, "/api/v1/orders", token), Some(200));
    assert_eq!(get_with(&server.addr, "/api/v1/orders", "123456789012345678"), Some(401));
}

//! A real SMTP server on a loopback port, for tests: it speaks enough of
//! RFC 5321 for a real client (EHLO/HELO, AUTH PLAIN, MAIL, RCPT, DATA with
//! dot-unstuffing, RSET, NOOP, QUIT) over TCP, keeps every message it
//! accepted, and answers as scripted when told to (a refused recipient, a
//! server that is busy for a while). [`Mail`] reads what arrived: unfolded
//! headers and the text and HTML parts, quoted-printable or base64
//! decoded.

use std::collections::VecDeque;
use std::net::SocketAddr;
use std::sync::{Arc, Mutex, MutexGuard};

use base64::Engine as _;
use tokio::io::{AsyncBufReadExt, AsyncWriteExt, BufReader};
use tokio::net::{TcpListener, TcpStream};

/// One message the server accepted.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Mail {
    /// `MAIL FROM` and `RCPT TO` addresses, without brackets.
    pub from: String,
    pub to: Vec<String>,
    /// The user name of `AUTH PLAIN`, if the client signed in.
    pub user: Option<String>,
    /// The message as sent (dot-unstuffed), CRLF line ends.
    pub data: String,
}

#[derive(Default)]
struct Inner {
    mails: Vec<Mail>,
    /// Answers given to the next `RCPT TO`s instead of 250.
    refusals: VecDeque<String>,
    /// Answered to every `RCPT TO` while set.
    refuse_all: Option<String>,
    /// `(user, password)` accepted by `AUTH PLAIN`; none: any.
    login: Option<(String, String)>,
}

/// The running server (stopped when dropped).
pub struct SmtpStandIn {
    addr: SocketAddr,
    inner: Arc<Mutex<Inner>>,
    task: tokio::task::JoinHandle<()>,
}

impl Drop for SmtpStandIn {
    fn drop(&mut self) {
        self.task.abort();
    }
}

fn lock(m: &Mutex<Inner>) -> MutexGuard<'_, Inner> {
    m.lock().unwrap_or_else(|p| p.into_inner())
}

impl SmtpStandIn {
    /// Listens on 127.0.0.1, a free port.
    pub async fn start() -> std::io::Result<SmtpStandIn> {
        let listener = TcpListener::bind("127.0.0.1:0").await?;
        let addr = listener.local_addr()?;
        let inner = Arc::new(Mutex::new(Inner::default()));
        let shared = inner.clone();
        let task = tokio::spawn(async move {
            while let Ok((stream, _)) = listener.accept().await {
                let shared = shared.clone();
                tokio::spawn(async move {
                    let _ = session(stream, shared).await;
                });
            }
        });
        Ok(SmtpStandIn { addr, inner, task })
    }

    pub fn port(&self) -> u16 {
        self.addr.port()
    }

    /// Every message accepted so far, oldest first.
    pub fn mails(&self) -> Vec<Mail> {
        lock(&self.inner).mails.clone()
    }

    /// The next `n` recipients are answered with `reply` (e.g. `451 4.3.0
    /// busy` or `550 5.1.1 no such user`).
    pub fn refuse_next(&self, n: usize, reply: &str) {
        let mut g = lock(&self.inner);
        for _ in 0..n {
            g.refusals.push_back(reply.to_owned());
        }
    }

    /// Every recipient is answered with `reply` until [`Self::accept_all`].
    pub fn refuse_all(&self, reply: &str) {
        lock(&self.inner).refuse_all = Some(reply.to_owned());
    }

    pub fn accept_all(&self) {
        let mut g = lock(&self.inner);
        g.refuse_all = None;
        g.refusals.clear();
    }

    /// Only this user name and password sign in (`535` otherwise).
    pub fn require_login(&self, user: &str, password: &str) {
        lock(&self.inner).login = Some((user.to_owned(), password.to_owned()));
    }
}

async fn session(stream: TcpStream, inner: Arc<Mutex<Inner>>) -> std::io::Result<()> {
    let (read, mut write) = stream.into_split();
    let mut lines = BufReader::new(read);
    write.write_all(b"220 standin.local ESMTP ready\r\n").await?;
    let (mut from, mut to, mut user): (Option<String>, Vec<String>, Option<String>) = (None, Vec::new(), None);
    let mut line = String::new();
    loop {
        line.clear();
        if lines.read_line(&mut line).await? == 0 {
            return Ok(());
        }
        let cmd = line.trim_end_matches(['\r', '\n']);
        let upper = cmd.to_ascii_uppercase();
        let reply: String = if upper.starts_with("EHLO") {
            "250-standin.local\r\n250-8BITMIME\r\n250-AUTH PLAIN\r\n250 SMTPUTF8".into()
        } else if upper.starts_with("HELO") {
            "250 standin.local".into()
        } else if upper.starts_with("AUTH PLAIN") {
            let raw = cmd.get(10..).unwrap_or("").trim();
            let decoded = base64::engine::general_purpose::STANDARD.decode(raw).unwrap_or_default();
            let parts: Vec<String> =
                decoded.split(|b| *b == 0).map(|p| String::from_utf8_lossy(p).into_owned()).collect();
            let (u, p) = (parts.get(1).cloned().unwrap_or_default(), parts.get(2).cloned().unwrap_or_default());
            let ok = lock(&inner).login.as_ref().is_none_or(|(lu, lp)| *lu == u && *lp == p);
            if ok {
                user = Some(u);
                "235 2.7.0 authenticated".into()
            } else {
                "535 5.7.8 bad credentials".into()
            }
        } else if upper.starts_with("MAIL FROM:") {
            from = Some(address(&cmd[10..]));
            to.clear();
            "250 2.1.0 ok".into()
        } else if upper.starts_with("RCPT TO:") {
            let scripted = {
                let mut g = lock(&inner);
                g.refuse_all.clone().or_else(|| g.refusals.pop_front())
            };
            match scripted {
                Some(r) => r,
                None => {
                    to.push(address(&cmd[8..]));
                    "250 2.1.5 ok".into()
                }
            }
        } else if upper == "DATA" {
            if from.is_none() || to.is_empty() {
                "503 5.5.1 need MAIL and RCPT first".into()
            } else {
                write.write_all(b"354 end with <CRLF>.<CRLF>\r\n").await?;
                let mut data = String::new();
                loop {
                    let mut l = String::new();
                    if lines.read_line(&mut l).await? == 0 {
                        return Ok(());
                    }
                    if l == ".\r\n" || l == ".\n" {
                        break;
                    }
                    // Dot-unstuffing: a line that began with "." was sent as "..".
                    data.push_str(l.strip_prefix('.').unwrap_or(&l));
                }
                let mail = Mail {
                    from: from.take().unwrap_or_default(),
                    to: std::mem::take(&mut to),
                    user: user.clone(),
                    data,
                };
                lock(&inner).mails.push(mail);
                "250 2.0.0 queued".into()
            }
        } else if upper == "RSET" {
            (from, to) = (None, Vec::new());
            "250 2.0.0 ok".into()
        } else if upper == "NOOP" {
            "250 2.0.0 ok".into()
        } else if upper == "QUIT" {
            write.write_all(b"221 2.0.0 bye\r\n").await?;
            return Ok(());
        } else {
            "502 5.5.2 not implemented".into()
        };
        write.write_all(format!("{reply}\r\n").as_bytes()).await?;
    }
}

fn address(raw: &str) -> String {
    let raw = raw.trim();
    let inner = raw.split_once('<').and_then(|(_, r)| r.split_once('>')).map_or(raw, |(a, _)| a);
    inner.trim().to_owned()
}

impl Mail {
    /// Headers of a part, unfolded, as (lower-case name, value).
    fn headers(head: &str) -> Vec<(String, String)> {
        let mut out: Vec<(String, String)> = Vec::new();
        for line in head.split("\r\n") {
            if line.starts_with([' ', '\t']) {
                if let Some(last) = out.last_mut() {
                    last.1.push(' ');
                    last.1.push_str(line.trim());
                }
            } else if let Some((name, value)) = line.split_once(':') {
                out.push((name.trim().to_ascii_lowercase(), value.trim().to_owned()));
            }
        }
        out
    }

    /// A header of the message (first of that name), unfolded.
    pub fn header(&self, name: &str) -> Option<String> {
        let head = self.data.split_once("\r\n\r\n").map_or(self.data.as_str(), |(h, _)| h);
        let name = name.to_ascii_lowercase();
        Self::headers(head).into_iter().find(|(n, _)| *n == name).map(|(_, v)| v)
    }

    pub fn subject(&self) -> Option<String> {
        self.header("subject")
    }

    /// The decoded body of the first part whose type starts with `mime`
    /// (`text/plain`, `text/html`).
    pub fn part(&self, mime: &str) -> Option<String> {
        leaf_parts(&self.data).into_iter().find(|(ty, _)| ty.starts_with(mime)).map(|(_, body)| body)
    }

    pub fn text(&self) -> Option<String> {
        self.part("text/plain")
    }

    pub fn html(&self) -> Option<String> {
        self.part("text/html")
    }
}

/// (content type, decoded body) of every non-multipart part.
fn leaf_parts(entity: &str) -> Vec<(String, String)> {
    let (head, body) = entity.split_once("\r\n\r\n").unwrap_or((entity, ""));
    let headers = Mail::headers(head);
    let get = |n: &str| headers.iter().find(|(k, _)| k == n).map(|(_, v)| v.clone()).unwrap_or_default();
    let ty = get("content-type");
    if ty.to_ascii_lowercase().starts_with("multipart/") {
        let Some(boundary) = ty.split(';').find_map(|p| p.trim().strip_prefix("boundary=")) else {
            return Vec::new();
        };
        let boundary = format!("--{}", boundary.trim_matches('"'));
        return body
            .split(boundary.as_str())
            .skip(1)
            .filter(|p| !p.starts_with("--"))
            .flat_map(|p| leaf_parts(p.trim_start_matches("\r\n")))
            .collect();
    }
    let ty = if ty.is_empty() { "text/plain".to_owned() } else { ty.to_ascii_lowercase() };
    let decoded = match get("content-transfer-encoding").to_ascii_lowercase().as_str() {
        "quoted-printable" => quoted_printable(body),
        "base64" => {
            let compact: String = body.chars().filter(|c| !c.is_whitespace()).collect();
            let bytes = base64::engine::general_purpose::STANDARD.decode(compact).unwrap_or_default();
            String::from_utf8_lossy(&bytes).into_owned()
        }
        _ => body.to_owned(),
    };
    vec![(ty, decoded)]
}

fn quoted_printable(body: &str) -> String {
    let soft = body.replace("=\r\n", "");
    let b = soft.as_bytes();
    let mut out = Vec::with_capacity(b.len());
    let mut i = 0;
    while i < b.len() {
        if b[i] == b'=' {
            let hex = soft.get(i + 1..i + 3).and_then(|h| u8::from_str_radix(h, 16).ok());
            if let Some(byte) = hex {
                out.push(byte);
                i += 3;
                continue;
            }
        }
        out.push(b[i]);
        i += 1;
    }
    String::from_utf8_lossy(&out).into_owned()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn multipart_quoted_printable_and_base64_parts_are_decoded() {
        let data = "Subject: Your order\r\n  has shipped\r\nContent-Type: multipart/alternative; \
                    boundary=\"XyZ\"\r\n\r\n--XyZ\r\nContent-Type: text/plain; charset=utf-8\r\n\
                    Content-Transfer-Encoding: quoted-printable\r\n\r\nTrack: 1Z9=\r\n99 caf=C3=A9\r\n--XyZ\r\n\
                    Content-Type: text/html; charset=utf-8\r\nContent-Transfer-Encoding: base64\r\n\r\n\
                    PGI+aGk8L2I+\r\n--XyZ--\r\n";
        let m = Mail { from: "a@x.y".into(), to: vec![], user: None, data: data.into() };
        assert_eq!(m.subject().as_deref(), Some("Your order has shipped"));
        assert_eq!(m.text().as_deref(), Some("Track: 1Z999 café\r\n"));
        assert_eq!(m.html().as_deref(), Some("<b>hi</b>"));
        assert_eq!(address(" <ann@example.com> SIZE=100"), "ann@example.com");
    }
}

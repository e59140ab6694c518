//! The inspector's server side: the page at `/` shows its own connection as the
//! server saw it, in every mode (the page itself is `inspector.html`).
//!
//! A page opens two WebSockets. The first goes to [`EVENTS_PATH`], the *report*
//! channel: the server makes a fresh random token for it and sends it there. The
//! page then opens its *subject* connection, the one echo, broadcast or exec mode
//! serves, with `?inspect=TOKEN` in its URL. The server taps that connection (and
//! only that one: a token binds once) and reports on the report channel:
//!
//! - the handshake: the request head as received, each step of the accept
//!   derivation from [`stdws::explain`] (what `--explain` prints), and the 101
//!   answer rebuilt with the functions that wrote it;
//! - every frame both ways, from [`stdws::tap`]: FIN, RSV, opcode, MASK, length,
//!   masking key, the first payload bytes as they crossed the wire and unmasked,
//!   the text, and a close frame's code and meaning.
//!
//! A page learns nothing of another's connection: the token exists only on its own
//! report channel, and a connection without a live token is not tapped at all.
//! Browsers cannot send pings, so the page asks on its report channel and the server
//! pings the subject connection; the pong the browser answers shows as a row.

use super::json::push_string;
use super::push_hex;
use std::fmt::Write as _;
use std::net::SocketAddr;
use std::sync::{Arc, Mutex, MutexGuard};
use stdws::frame::apply_mask;
use stdws::handshake::{hixie76, rfc6455};
use stdws::http::{Head, Response};
use stdws::tap::{Direction, FrameCallback, FrameEvent};
use stdws::{
    CloseCode, HandlerResult, MessageRef, Request, SharedTcpStream, Variant, WebSocket, Writer,
};

/// The page, one self-contained file.
pub const PAGE: &str = include_str!("inspector.html");

/// Where the page is served whatever `--staticdir` serves (and at `/` without it).
pub const PAGE_PATH: &str = "/.stdws/inspector";

/// The report channel's path.
pub const EVENTS_PATH: &str = "/.stdws/events";

/// The query parameter that presents a token on the subject connection.
const TOKEN_PARAMETER: &str = "inspect=";

/// The page's answer to a plain GET or HEAD.
pub fn page() -> Response {
    Response::new(200)
        .header("Content-Type", "text/html; charset=utf-8")
        .header("Cache-Control", "no-store")
        .body(PAGE.as_bytes().to_vec())
}

/// The page at `/` and at [`PAGE_PATH`], 404 elsewhere: plain HTTP without
/// `--staticdir`.
pub fn serve_page(head: &Head) -> Response {
    match head.path() {
        "/" | "/index.html" | PAGE_PATH => page(),
        _ => Response::error(404, "not found"),
    }
}

type SubjectWriter = Writer<SharedTcpStream>;

/// One page's report channel and what it watches.
struct Session {
    token: String,
    report: SubjectWriter,
    /// The subject connection's peer, once it presented the token.
    subject: Option<SocketAddr>,
    /// The subject connection's writer, while its mode runs: for the ping.
    writer: Option<SubjectWriter>,
}

/// Every open report channel. (A `Vec`, searched: a handful at a time, and no
/// `HashMap` code in the binary.)
#[derive(Default)]
pub struct Inspector {
    sessions: Mutex<Vec<Session>>,
}

/// A subject connection's writer, lent to the inspector while its mode runs; the
/// loan ends when this is dropped.
pub struct Attached<'a> {
    inspector: &'a Inspector,
    token: String,
}

impl Drop for Attached<'_> {
    fn drop(&mut self) {
        let mut sessions = self.inspector.lock();
        if let Some(s) = sessions.iter_mut().find(|s| s.token == self.token) {
            s.writer = None;
        }
    }
}

impl Inspector {
    fn lock(&self) -> MutexGuard<'_, Vec<Session>> {
        self.sessions.lock().unwrap_or_else(|p| p.into_inner())
    }

    /// Serves a report channel: sends its token, pings the subject when asked,
    /// forgets the session when the page goes.
    pub fn serve_events(&self, ws: WebSocket<SharedTcpStream>) -> HandlerResult {
        let (mut reader, report) = ws.split()?;
        let token = super::hex(&stdws::random::Random::new().nonce());
        let announce = format!("{{\"type\":\"token\",\"token\":\"{token}\"}}");
        // Registered before the page hears of it, so its connection finds it.
        self.lock().push(Session {
            token: token.clone(),
            report: report.clone(),
            subject: None,
            writer: None,
        });
        let _ = report.send_ref(MessageRef::Text(&announce));
        while let Ok(message) = reader.read_ref() {
            if message == MessageRef::Text("ping") {
                let writer = (self.lock().iter())
                    .find(|s| s.token == token)
                    .and_then(|s| s.writer.clone());
                if let Some(w) = writer {
                    let _ = w.send_ref(MessageRef::Ping(b"from the inspector"));
                }
            }
        }
        self.lock().retain(|s| s.token != token);
        Ok(())
    }

    /// The tap for a connection that presents a live, unused token: it reports the
    /// handshake now and every frame from here on to that token's page. `None` for
    /// every other connection, which then runs untapped.
    pub fn tap_for(&self, request: &Request) -> Option<Arc<FrameCallback>> {
        let token = presented(request)?;
        let peer = request.peer?;
        let report = {
            let mut sessions = self.lock();
            let session = sessions
                .iter_mut()
                .find(|s| s.token == token && s.subject.is_none())?;
            session.subject = Some(peer);
            session.report.clone()
        };
        let _ = report.send_ref(MessageRef::Text(&handshake_report(request)));
        Some(Arc::new(move |e: &FrameEvent| {
            let _ = report.send_ref(MessageRef::Text(&frame_report(e)));
        }))
    }

    /// Lends the subject connection's writer to its page (for the ping), if the
    /// connection is being inspected.
    pub fn attach(&self, request: &Request, writer: &SubjectWriter) -> Option<Attached<'_>> {
        let token = presented(request)?;
        let peer = request.peer?;
        let mut sessions = self.lock();
        let session = sessions
            .iter_mut()
            .find(|s| s.token == token && s.subject == Some(peer))?;
        session.writer = Some(writer.clone());
        Some(Attached {
            inspector: self,
            token: token.to_string(),
        })
    }
}

/// The token a connection presents in its query, if any.
fn presented(request: &Request) -> Option<&str> {
    (request.head.query().split('&')).find_map(|p| p.strip_prefix(TOKEN_PARAMETER))
}

/// `{"type":"handshake",...}`: the request head as received, the derivation, the
/// 101 as the server wrote it.
fn handshake_report(request: &Request) -> String {
    let head = &request.head;
    let mut text = format!(
        "{} {} HTTP/{}.{}\r\n",
        head.method, head.target, head.version.0, head.version.1
    );
    for h in &head.headers {
        text.push_str(&h.name);
        text.push_str(": ");
        text.push_str(&h.value);
        text.push_str("\r\n");
    }
    let mut out = String::from("{\"type\":\"handshake\",\"head\":");
    push_string(&mut out, &text);
    if let Some(e) = stdws::explain::for_request(request) {
        out.push_str(",\"title\":");
        push_string(&mut out, &e.title);
        out.push_str(",\"steps\":[");
        for (i, step) in e.steps.iter().enumerate() {
            out.push_str(if i == 0 { "[" } else { ",[" });
            push_string(&mut out, &step.label);
            out.push(',');
            push_string(&mut out, &step.value);
            out.push(']');
        }
        out.push(']');
    }
    out.push_str(",\"answer\":");
    push_string(&mut out, &answer_101(request));
    out.push('}');
    out
}

/// The 101 the server sent, rebuilt with the same functions (RFC 6455 §4.2.2;
/// hixie-76 §5.2, whose 16 answer bytes are shown escaped).
fn answer_101(request: &Request) -> String {
    let head = &request.head;
    let protocol = request.protocol.as_deref();
    let bytes = match request.variant {
        Variant::Rfc6455 => {
            let key = head.header("Sec-WebSocket-Key").unwrap_or("");
            rfc6455::response(key, protocol, request.extensions.as_deref())
        }
        Variant::Hixie76 => {
            let number = |name| hixie76::key_number(head.header(name).unwrap_or("")).unwrap_or(0);
            let (n1, n2) = (number("Sec-WebSocket-Key1"), number("Sec-WebSocket-Key2"));
            let answer = hixie76::challenge_response(n1, n2, &request.key3.unwrap_or_default());
            let origin = head.header("Origin").unwrap_or("null");
            let host = head.header("Host").unwrap_or("");
            let location = format!("ws://{host}{}", head.target);
            hixie76::response(origin, &location, protocol, &answer)
        }
    };
    let mut shown = String::with_capacity(bytes.len());
    for &b in &bytes {
        match b {
            b'\r' | b'\n' => shown.push(char::from(b)),
            b => shown.extend(std::ascii::escape_default(b).map(char::from)),
        }
    }
    shown
}

/// `{"type":"frame",...}`: one frame, its payload's first bytes as on the wire and
/// unmasked (with [`apply_mask`], as the server's reader unmasks).
fn frame_report(e: &FrameEvent) -> String {
    let mut data = e.preview.clone();
    if let Some(key) = e.mask {
        apply_mask(&mut data, key, 0);
    }
    let dir = match e.direction {
        Direction::In => "in",
        Direction::Out => "out",
    };
    let mut out = format!(
        "{{\"type\":\"frame\",\"dir\":\"{dir}\",\"fin\":{},\"rsv\":{},\"op\":{},\"name\":\"{}\",\"mask\":{},\"len\":{},\"key\":\"",
        u8::from(e.fin),
        e.rsv,
        e.opcode_bits,
        e.opcode,
        u8::from(e.masked),
        e.len,
    );
    if let Some(key) = e.mask {
        push_hex(&mut out, &key);
    }
    out.push_str("\",\"wire\":\"");
    push_hex(&mut out, &e.preview);
    out.push_str("\",\"data\":\"");
    push_hex(&mut out, &data);
    out.push('"');
    let is_close = e.opcode == "close" && e.variant == Variant::Rfc6455;
    let text = if is_close {
        data.get(2..).unwrap_or(&[])
    } else {
        &data[..]
    };
    if matches!(e.opcode, "text" | "ping" | "pong") || is_close {
        let valid = match std::str::from_utf8(text) {
            Ok(t) => t,
            Err(err) => std::str::from_utf8(&text[..err.valid_up_to()]).unwrap_or(""),
        };
        out.push_str(",\"text\":");
        push_string(&mut out, valid);
    }
    if is_close && data.len() >= 2 {
        let code = CloseCode(u16::from_be_bytes([data[0], data[1]]));
        let _ = write!(
            out,
            ",\"code\":{},\"meaning\":\"{}\"",
            code.0,
            code.meaning()
        );
    }
    out.push('}');
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_masked_close_is_reported_unmasked_with_its_meaning() {
        let key = [1, 2, 3, 4];
        let mut wire = vec![0x0F, 0xA1, b'b', b'y']; // 4001 "by"
        apply_mask(&mut wire, key, 0);
        let event = FrameEvent {
            direction: Direction::In,
            variant: Variant::Rfc6455,
            opcode: "close",
            fin: true,
            len: 4,
            masked: true,
            opcode_bits: 8,
            rsv: 0,
            mask: Some(key),
            preview: wire,
            message: None,
        };
        let r = frame_report(&event);
        assert!(
            r.contains("\"key\":\"01020304\",\"wire\":\"0ea3617d\",\"data\":\"0fa16279\""),
            "{r}"
        );
        assert!(
            r.ends_with(",\"text\":\"by\",\"code\":4001,\"meaning\":\"private use (4000-4999)\"}"),
            "{r}"
        );
    }

    #[test]
    fn only_a_live_unused_token_is_tapped() {
        use std::net::{TcpListener, TcpStream};
        let inspector = Inspector::default();
        let listener = TcpListener::bind("127.0.0.1:0").unwrap();
        let mut page = TcpStream::connect(listener.local_addr().unwrap()).unwrap();
        let (ours, _) = listener.accept().unwrap();
        let ws = WebSocket::new(
            SharedTcpStream::new(ours),
            Variant::Rfc6455,
            stdws::Role::Server,
        );
        let (_reader, report) = ws.split().unwrap();
        inspector.lock().push(Session {
            token: "t0k".into(),
            report,
            subject: None,
            writer: None,
        });
        let request = |target: &str| {
            let wire = format!(
                "GET {target} HTTP/1.1\r\nHost: h\r\nSec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\n\r\n"
            );
            let stdws::http::Parsed::Complete(head, _) =
                stdws::http::parse_head(wire.as_bytes(), 10).unwrap()
            else {
                panic!("a whole head")
            };
            Request {
                head,
                variant: Variant::Rfc6455,
                protocol: None,
                peer: Some(SocketAddr::from(([127, 0, 0, 1], 1))),
                key3: None,
                deflate: None,
                extensions: None,
            }
        };
        assert!(inspector.tap_for(&request("/?inspect=nope")).is_none());
        assert!(inspector.tap_for(&request("/")).is_none());
        assert!(inspector.tap_for(&request("/?a=1&inspect=t0k")).is_some());
        assert!(
            inspector.tap_for(&request("/?inspect=t0k")).is_none(),
            "bound once"
        );
        let mut got = vec![0u8; 4096];
        let n = std::io::Read::read(&mut page, &mut got).unwrap();
        let text = String::from_utf8_lossy(&got[..n]);
        assert!(text.contains("\"type\":\"handshake\""), "{text}");
        assert!(
            text.contains("Sec-WebSocket-Accept: s3pPLMBiTxaQ9kYGzzhZRbK+xOo="),
            "{text}"
        );
    }
}

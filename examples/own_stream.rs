//! Upgrading a stream the embedder accepted itself: no `stdws::Server`, just the
//! protocol pieces on a `TcpStream` from your own listener (the same works for a TLS
//! stream, a Unix socket, or anything `Read + Write`).
//!
//!     cargo run --example own_stream                 # ws://127.0.0.1:9003/
//!     cargo run --example own_stream -- 127.0.0.1:0  # any free port
//!
//! Plain GET requests get a short text page; upgrades get a WebSocket that answers
//! every text message in upper case.

use std::io::Write;
use std::net::{TcpListener, TcpStream};
use std::time::Duration;
use stdws::handshake::{self, HandshakeError, Options};
use stdws::http::Response;
use stdws::{Limits, Message, Role, WebSocket};

fn main() -> std::io::Result<()> {
    let addr = std::env::args().nth(1).unwrap_or("127.0.0.1:9003".into());
    let listener = TcpListener::bind(addr)?;
    eprintln!("own_stream on ws://{}/", listener.local_addr()?);
    for stream in listener.incoming() {
        let stream = stream?;
        std::thread::spawn(move || {
            if let Err(e) = serve(stream) {
                eprintln!("connection ended: {e}");
            }
        });
    }
    Ok(())
}

fn serve(mut stream: TcpStream) -> Result<(), Box<dyn std::error::Error>> {
    // Bound the handshake: a client that never finishes its head is dropped.
    stream.set_read_timeout(Some(Duration::from_secs(10)))?;
    let options = Options {
        protocols: vec!["shout".into()],
        ..Options::default()
    };
    let upgraded = match handshake::accept(&mut stream, &options) {
        Ok(upgraded) => upgraded,
        // Not a WebSocket request: the embedder answers it however it likes.
        Err(HandshakeError::NotUpgrade(head)) => {
            let page = format!(
                "{} {}: connect a WebSocket here\n",
                head.method, head.target
            );
            Response::new(200)
                .header("Content-Type", "text/plain; charset=utf-8")
                .header("Connection", "close")
                .body(page.into_bytes())
                .write_to(&mut stream, head.method == "HEAD")?;
            return Ok(());
        }
        // Refusals (400, 403, 426...) have already been answered.
        Err(e) => return Err(e.into()),
    };
    stream.set_read_timeout(None)?;
    let request = upgraded.request;
    eprintln!("{} upgraded ({})", request.path(), request.variant);
    // `leftover` holds any bytes the client sent right behind its head.
    let mut ws = WebSocket::with_limits(
        stream,
        request.variant,
        Role::Server,
        Limits::default(),
        &upgraded.leftover,
    );
    loop {
        match ws.read() {
            Ok(Message::Text(t)) => ws.send(Message::text(t.to_uppercase()))?,
            Ok(Message::Binary(b)) => ws.send(Message::Binary(b))?,
            // Pings were answered by read(); the close reply too.
            Ok(Message::Close(_)) | Err(stdws::Error::Closed) => break,
            Ok(_) => {}
            Err(e) => return Err(e.into()),
        }
    }
    // The server closes TCP first (RFC 6455 §7.1.1).
    let mut stream = ws.get_ref();
    stream.flush()?;
    stream.shutdown(std::net::Shutdown::Both)?;
    Ok(())
}

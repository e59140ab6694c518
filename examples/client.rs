//! A command-line client: connects, sends each argument as a text message, prints
//! each answer, and closes with 1000.
//!
//!     cargo run --example echo_server &
//!     cargo run --example client -- ws://127.0.0.1:9001/ hello "wide world"
//!
//! Options through the environment: `PROTOCOLS=chat,superchat` offers subprotocols,
//! `HIXIE76=1` speaks the 2010 draft instead of RFC 6455.

use stdws::client::{connect_with, ClientOptions};
use stdws::{CloseCode, Message, Variant};

fn main() -> Result<(), Box<dyn std::error::Error>> {
    let mut args = std::env::args().skip(1);
    let url = args
        .next()
        .ok_or("usage: client ws://HOST:PORT/PATH [MESSAGE...]")?;
    let options = ClientOptions {
        protocols: std::env::var("PROTOCOLS")
            .map(|p| p.split(',').map(|s| s.trim().to_string()).collect())
            .unwrap_or_default(),
        variant: if std::env::var_os("HIXIE76").is_some() {
            Variant::Hixie76
        } else {
            Variant::Rfc6455
        },
        ..ClientOptions::default()
    };
    let connected = connect_with(&url, &options)?;
    eprintln!(
        "connected to {url} ({}, subprotocol {})",
        connected.socket.variant(),
        connected.protocol.as_deref().unwrap_or("none")
    );
    let mut ws = connected.socket;
    for text in args {
        ws.send(Message::text(text))?;
        match ws.read()? {
            Message::Text(t) => println!("{t}"),
            other => println!("{other:?}"),
        }
    }
    ws.close(CloseCode::NORMAL, "")?;
    // Read until the server's close answer: the closing handshake is complete.
    loop {
        match ws.read() {
            Ok(Message::Close(frame)) => {
                eprintln!("closed: {frame:?}");
                return Ok(());
            }
            Ok(_) => {}
            Err(stdws::Error::Closed) => return Ok(()),
            Err(e) => return Err(e.into()),
        }
    }
}

//! Drives stdws's client through Autobahn|Testsuite's fuzzingserver (`wstest -m
//! fuzzingserver`), which tests clients: reads the number of cases, echoes every text
//! and binary message of each case until the suite closes, then asks for the reports.
//!
//!     cargo run --release --example autobahn_client -- ws://127.0.0.1:9301 [AGENT] [--deflate]
//!
//! With `--deflate` the client offers permessage-deflate (RFC 7692), as the suite's
//! cases 12.* and 13.* need.

use stdws::client::{connect_with, ClientOptions};
use stdws::{Limits, Message};

fn main() -> Result<(), Box<dyn std::error::Error>> {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let deflate = args.iter().any(|a| a == "--deflate");
    let mut plain = args.iter().filter(|a| !a.starts_with("--"));
    let base = plain
        .next()
        .ok_or("usage: autobahn_client URL [AGENT] [--deflate]")?;
    let agent = plain.next().map_or("stdws", |a| a.as_str());
    let options = ClientOptions {
        deflate,
        limits: Limits::default(),
        ..ClientOptions::default()
    };

    let mut counter = connect_with(&format!("{base}/getCaseCount"), &options)?.socket;
    let count: usize = match counter.read()? {
        Message::Text(n) => n.trim().parse()?,
        other => return Err(format!("expected the case count, got {other:?}").into()),
    };
    for case in 1..=count {
        let url = format!("{base}/runCase?case={case}&agent={agent}");
        let Ok(connected) = connect_with(&url, &options) else {
            eprintln!("case {case}: handshake failed");
            continue;
        };
        let mut ws = connected.socket;
        loop {
            match ws.read() {
                Ok(m @ (Message::Text(_) | Message::Binary(_))) => {
                    if ws.send(m).is_err() {
                        break;
                    }
                }
                Ok(Message::Close(_)) | Err(_) => break,
                Ok(_) => {}
            }
        }
        if case % 50 == 0 {
            eprintln!("{case} of {count} cases");
        }
    }
    let mut reports = connect_with(&format!("{base}/updateReports?agent={agent}"), &options)?;
    let _ = reports.socket.close(stdws::CloseCode::NORMAL, "");
    let _ = reports.socket.read();
    Ok(())
}

//! What an idle compressing connection costs a server: compare.sh's idle scenario,
//! on connections that negotiated permessage-deflate and exchanged compressed
//! messages both ways first (`scripts/deflate-memory.sh` runs it).
//!
//! ```text
//! deflate_idle --port P --pid PID [--n 2000 --messages 2 --short
//!              --offer "permessage-deflate; client_max_window_bits"]
//! ```
//!
//! Each of `n` connections offers `--offer` (Chrome's by default; `bare` for the
//! `permessage-deflate` of Firefox and Safari), sends `--messages` chat-like JSON
//! messages, compressed if the server accepted the offer, and checks each echo: its
//! RSV1 (compressed when the extension was agreed) and its inflated bytes. Then the
//! connection sits idle, and the server's VmRSS growth over all of them, per
//! connection, is printed as one `RESULT` line. A server that declines the offer
//! (no `--deflate`) gives the plain figure to compare with. `--short` sends 16-byte
//! messages, which the server inflates but echoes plain (too short to compress).
//!
//! The handshake and frames are written by hand here, and DEFLATE done with the
//! crate's [`Compressor`] and [`Inflater`], so that the offer is exactly the one asked
//! for. Connections go to 127.0.0.1 only, and the run is bounded in count and time.

use std::io::{Read, Write};
use std::net::TcpStream;
use std::process::ExitCode;
use std::thread;
use std::time::{Duration, Instant};
use stdws::deflate::extension::check_answer;
use stdws::deflate::{Compressor, Inflater, Parameters};
use stdws::frame::{apply_mask, encode_header, Opcode, MAX_HEADER_LEN};

type Res<T> = Result<T, String>;

/// Chrome's offer.
const CHROME: &str = "permessage-deflate; client_max_window_bits";

fn main() -> ExitCode {
    match run(&std::env::args().skip(1).collect::<Vec<_>>()) {
        Ok(line) => {
            println!("RESULT deflate_idle {line}");
            ExitCode::SUCCESS
        }
        Err(e) => {
            eprintln!("deflate_idle: FAILED: {e}");
            ExitCode::FAILURE
        }
    }
}

/// The value after `--name`, if given.
fn option<'a>(args: &'a [String], name: &str) -> Option<&'a str> {
    let at = args.iter().position(|a| a == name)?;
    args.get(at + 1).map(String::as_str)
}

fn number(args: &[String], name: &str, default: usize) -> Res<usize> {
    option(args, name).map_or(Ok(default), |v| {
        v.parse()
            .map_err(|_| format!("{name}: '{v}' is not a number"))
    })
}

fn run(args: &[String]) -> Res<String> {
    let port: u16 = option(args, "--port")
        .and_then(|p| p.parse().ok())
        .ok_or("--port is required")?;
    let pid = number(args, "--pid", 0)?;
    if pid == 0 {
        return Err("--pid is required".into());
    }
    let n = number(args, "--n", 2000)?.clamp(1, 20_000);
    let messages = number(args, "--messages", 2)?.clamp(1, 100);
    let short = args.iter().any(|a| a == "--short");
    let offer = match option(args, "--offer") {
        None => CHROME,
        Some("bare") => "permessage-deflate",
        Some(offer) => offer,
    };
    let deadline = Instant::now() + Duration::from_secs(300);
    let before = rss_kib(pid)?;
    let mut conns = Vec::with_capacity(n);
    let (mut compressed_in, mut compressed_out, mut answer) = (0, 0, String::new());
    for i in 0..n {
        if Instant::now() > deadline {
            return Err(format!("only {i} connections in time"));
        }
        let mut stream = TcpStream::connect(("127.0.0.1", port))
            .map_err(|e| format!("conn {i}: {e} (ulimit -n?)"))?;
        stream
            .set_read_timeout(Some(Duration::from_secs(10)))
            .map_err(|e| e.to_string())?;
        let (params, header) = handshake(&mut stream, port, offer)?;
        answer = header;
        let mut inflater = params.map(|p| Inflater::new(p.server_max_window_bits, true));
        for m in 0..messages {
            let mut text = chat(i, m);
            if short {
                text.truncate(16);
            }
            let sent_compressed = send(&mut stream, &text, params.as_ref(), i)?;
            compressed_out += usize::from(sent_compressed);
            let (rsv1, payload) = receive(&mut stream)?;
            let echo = match (rsv1, inflater.as_mut()) {
                (false, _) => payload,
                (true, Some(inflater)) => {
                    compressed_in += 1;
                    let mut out = Vec::new();
                    inflater
                        .inflate_message(&payload, &mut out, 1 << 20)
                        .map_err(|e| format!("conn {i}: echo does not inflate: {e}"))?;
                    out
                }
                (true, None) => return Err(format!("conn {i}: RSV1 without the extension")),
            };
            if echo != text {
                return Err(format!("conn {i}: message {m} not echoed"));
            }
        }
        conns.push(stream);
    }
    thread::sleep(Duration::from_secs(2));
    let after = rss_kib(pid)?;
    Ok(format!(
        "kib_conn={:.2} rss_mib={:.0} conns={n} compressed_out={compressed_out} \
         compressed_in={compressed_in} offer=\"{offer}\" answer=\"{answer}\"",
        (after as f64 - before as f64) / n as f64,
        after as f64 / 1024.0
    ))
}

/// A chat message as JSON, different for every connection and message.
fn chat(conn: usize, seq: usize) -> Vec<u8> {
    format!(
        "{{\"type\":\"message\",\"room\":\"general\",\"user\":\"user{conn}\",\"seq\":{seq},\
         \"text\":\"Hello everyone, this is message {seq} from connection {conn}; \
         the meeting moved to three o'clock.\",\"ts\":{}}}",
        1_700_000_000 + conn * 100 + seq
    )
    .into_bytes()
}

/// The upgrade with `offer`; the agreed parameters (`None`: declined) and the
/// server's `Sec-WebSocket-Extensions` answer.
fn handshake(stream: &mut TcpStream, port: u16, offer: &str) -> Res<(Option<Parameters>, String)> {
    let request = format!(
        "GET / HTTP/1.1\r\nHost: 127.0.0.1:{port}\r\nUpgrade: websocket\r\n\
         Connection: Upgrade\r\nSec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\n\
         Sec-WebSocket-Version: 13\r\nSec-WebSocket-Extensions: {offer}\r\n\r\n"
    );
    stream
        .write_all(request.as_bytes())
        .map_err(|e| e.to_string())?;
    let mut head = Vec::new();
    let mut byte = [0u8];
    while !head.ends_with(b"\r\n\r\n") {
        if head.len() > 4096 {
            return Err("response head too long".into());
        }
        stream.read_exact(&mut byte).map_err(|e| e.to_string())?;
        head.push(byte[0]);
    }
    let head = String::from_utf8_lossy(&head).into_owned();
    if !head.starts_with("HTTP/1.1 101") {
        return Err(format!("no 101: {head}"));
    }
    let answer: Vec<&str> = head
        .lines()
        .filter_map(|l| l.split_once(':'))
        .filter(|(name, _)| name.eq_ignore_ascii_case("sec-websocket-extensions"))
        .map(|(_, value)| value.trim())
        .collect();
    let params = check_answer(&answer).map_err(|e| format!("answer {answer:?}: {e:?}"))?;
    Ok((params, answer.join(", ")))
}

/// Sends `text` as one masked text frame, compressed (RSV1) when `params` says the
/// extension was agreed; whether it was.
fn send(stream: &mut TcpStream, text: &[u8], params: Option<&Parameters>, i: usize) -> Res<bool> {
    let mut payload = match params {
        // Compressed alone, which a client may always do: no history to keep here.
        Some(p) => {
            let mut wire = Vec::new();
            Compressor::new(p.client_max_window_bits, false).compress_message(text, &mut wire);
            wire
        }
        None => text.to_vec(),
    };
    let key = (i as u32).wrapping_mul(0x9E37_79B9).to_be_bytes();
    let mut header = [0u8; MAX_HEADER_LEN];
    let len = encode_header(
        &mut header,
        true,
        Opcode::Text,
        payload.len() as u64,
        Some(key),
    );
    if params.is_some() {
        header[0] |= 0x40;
    }
    apply_mask(&mut payload, key, 0);
    let mut frame = header[..len].to_vec();
    frame.extend_from_slice(&payload);
    stream.write_all(&frame).map_err(|e| e.to_string())?;
    Ok(params.is_some())
}

/// One unfragmented text frame from the server: its RSV1 and payload.
fn receive(stream: &mut TcpStream) -> Res<(bool, Vec<u8>)> {
    let mut head = [0u8; 2];
    stream.read_exact(&mut head).map_err(|e| e.to_string())?;
    if head[0] & 0xbf != 0x81 || head[1] & 0x80 != 0 {
        return Err(format!("unexpected frame header {head:02x?}"));
    }
    let len = match head[1] {
        126 => {
            let mut ext = [0u8; 2];
            stream.read_exact(&mut ext).map_err(|e| e.to_string())?;
            usize::from(u16::from_be_bytes(ext))
        }
        127 => return Err("echo too long".into()),
        n => usize::from(n),
    };
    let mut payload = vec![0u8; len];
    stream.read_exact(&mut payload).map_err(|e| e.to_string())?;
    Ok((head[0] & 0x40 != 0, payload))
}

fn rss_kib(pid: usize) -> Res<u64> {
    let status = std::fs::read_to_string(format!("/proc/{pid}/status"))
        .map_err(|e| format!("/proc/{pid}/status: {e}"))?;
    status
        .lines()
        .find_map(|l| l.strip_prefix("VmRSS:"))
        .and_then(|v| v.trim().trim_end_matches("kB").trim().parse().ok())
        .ok_or_else(|| "no VmRSS".to_string())
}

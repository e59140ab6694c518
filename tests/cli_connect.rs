//! `stdws --connect`: the client on the command line against stdws itself and against
//! servers written here with the library (a slow one, one that fails, one that
//! reflects the request) or by hand (one that drops the connection). Every payload is
//! unique to the run; every exit status is checked.

mod cli_support;

use cli_support::{wait_to_finish, Stdws};
use std::io::{Read, Write};
use std::net::TcpListener;
use std::process::{Command, Stdio};
use std::thread;
use std::time::{Duration, SystemTime};
use stdws::{Config, Message, Server};

/// A token no other run shares.
fn unique() -> String {
    let t = SystemTime::now()
        .duration_since(SystemTime::UNIX_EPOCH)
        .unwrap();
    format!("{}-{}", std::process::id(), t.as_nanos())
}

/// Runs `stdws ARGS` with `stdin` as its input (closed once written): exit code,
/// stdout bytes, stderr text. It must end within [`WAIT`].
fn client(args: &[&str], stdin: &[u8]) -> (i32, Vec<u8>, String) {
    let mut child = Command::new(env!("CARGO_BIN_EXE_stdws"))
        .args(args)
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("run stdws");
    let input = stdin.to_vec();
    let mut pipe = child.stdin.take().unwrap();
    let writer = thread::spawn(move || {
        let _ = pipe.write_all(&input);
    });
    let mut stdout = child.stdout.take().unwrap();
    let out = thread::spawn(move || {
        let mut v = Vec::new();
        let _ = stdout.read_to_end(&mut v);
        v
    });
    let mut stderr = child.stderr.take().unwrap();
    let err = thread::spawn(move || {
        let mut s = String::new();
        let _ = stderr.read_to_string(&mut s);
        s
    });
    let status = wait_to_finish(&mut child, args);
    writer.join().unwrap();
    let (out, err) = (out.join().unwrap(), err.join().unwrap());
    (status.code().unwrap_or(-1), out, err)
}

fn quiet() -> Config {
    Config {
        log: false,
        ..Config::default()
    }
}

#[test]
fn lines_echo_back_and_a_clean_close_exits_0() {
    let mut server = Stdws::start(&[]);
    let token = unique();
    let lines: Vec<String> = (0..300)
        .map(|i| format!("line {i} ünïcode ✓ {token}"))
        .collect();
    let input = lines.join("\n") + "\n";
    let url = format!("ws://{}/cli-{token}", server.addr);
    let (code, out, err) = client(&["-c", &url], input.as_bytes());
    assert_eq!((code, err.as_str()), (0, ""));
    assert_eq!(String::from_utf8(out).unwrap(), input);
    let closed = format!("/cli-{token} rfc6455 closed sent=1000 received=1000");
    assert!(
        server.wait_for_log(|l| l.contains(&closed)).is_some(),
        "{:#?}",
        server.log()
    );
}

#[test]
fn replies_that_come_after_stdin_ended_are_still_printed() {
    // The server waits before it reads anything, so the client's stdin has ended and
    // its close has gone long before the first reply.
    let server = Server::bind("127.0.0.1:0", quiet())
        .unwrap()
        .on_connection(|mut ws, _| {
            thread::sleep(Duration::from_millis(500));
            while let Ok(Message::Text(t)) = ws.read() {
                ws.send(Message::text(format!("late: {t}")))?;
            }
            Ok(())
        })
        .spawn()
        .unwrap();
    let token = unique();
    let input = format!("a {token}\nb {token}\r\nc {token}");
    let url = format!("ws://{}/", server.local_addr());
    let (code, out, err) = client(&["--connect", &url], input.as_bytes());
    assert_eq!((code, err.as_str()), (0, ""));
    assert_eq!(
        String::from_utf8(out).unwrap(),
        format!("late: a {token}\nlate: b {token}\nlate: c {token}\n")
    );
}

#[test]
fn a_slow_program_s_replies_are_not_cut_off_by_the_close() {
    // stdws's exec mode answers a close at once and ends the program, as it may
    // (RFC 6455 §5.5.1): the client must not close while replies are still coming.
    let server = Stdws::start(&[
        "--",
        "sh",
        "-c",
        "while read l; do sleep 0.1; echo \"got $l\"; done",
    ]);
    let token = unique();
    let input: String = (0..5).map(|i| format!("{i} {token}\n")).collect();
    let url = format!("ws://{}/", server.addr);
    let (code, out, err) = client(&["-c", &url, "--lingerms", "1500"], input.as_bytes());
    assert_eq!((code, err.as_str()), (0, ""));
    let expected: String = (0..5).map(|i| format!("got {i} {token}\n")).collect();
    assert_eq!(String::from_utf8(out).unwrap(), expected);
}

#[test]
fn binary_stdin_round_trips_as_bytes_or_hex() {
    let server = Stdws::start(&[]);
    let url = format!("ws://{}/bin", server.addr);
    let token = unique();
    let input: Vec<u8> = (0..300_000u32)
        .map(|i| {
            (i.wrapping_mul(2_654_435_761) >> 13) as u8 ^ token.as_bytes()[i as usize % token.len()]
        })
        .collect();
    let (code, out, err) = client(&["-c", &url, "--binary"], &input);
    assert_eq!((code, err.as_str()), (0, ""));
    assert!(out == input, "the bytes came back different");

    let (code, out, _) = client(&["-c", &url, "--binary", "--hex"], &[0x00, 0xFF, 0x10]);
    assert_eq!((code, out.as_slice()), (0, &b"00ff10\n"[..]));
}

#[test]
fn a_refused_handshake_prints_its_status_line_and_exits_1() {
    let server = Stdws::start(&["--origin", "http://allowed.example"]);
    let url = format!("ws://{}/", server.addr);
    let (code, out, err) = client(&["-c", &url, "--origin", "http://evil.example"], b"x\n");
    assert_eq!(code, 1);
    assert!(out.is_empty());
    assert_eq!(err, "stdws: handshake refused: HTTP/1.1 403 Forbidden\n");
    let (code, out, _) = client(&["-c", &url, "--origin", "http://allowed.example"], b"ok\n");
    assert_eq!((code, out.as_slice()), (0, &b"ok\n"[..]));
}

#[test]
fn a_close_other_than_1000_exits_1_with_its_code() {
    let server = Server::bind("127.0.0.1:0", quiet())
        .unwrap()
        .on_connection(|mut ws, _| {
            let first = ws.read()?;
            ws.send(first)?;
            Err("the handler gives up".into()) // the server closes with 1011
        })
        .spawn()
        .unwrap();
    let token = unique();
    let url = format!("ws://{}/", server.local_addr());
    let (code, out, err) = client(&["-c", &url], format!("{token}\n").as_bytes());
    assert_eq!(code, 1);
    assert_eq!(out, format!("{token}\n").into_bytes());
    assert!(
        err.starts_with("stdws: the server closed with 1011 (internal error)"),
        "{err}"
    );
}

#[test]
fn a_connection_dropped_without_a_close_exits_1() {
    // A hand-written server: a correct 101, then it reads one frame and hangs up.
    let listener = TcpListener::bind("127.0.0.1:0").unwrap();
    let addr = listener.local_addr().unwrap();
    thread::spawn(move || {
        let (mut s, _) = listener.accept().unwrap();
        let mut head = Vec::new();
        let mut byte = [0u8; 1];
        while !head.ends_with(b"\r\n\r\n") {
            s.read_exact(&mut byte).unwrap();
            head.push(byte[0]);
        }
        let head = String::from_utf8(head).unwrap();
        let key = head
            .lines()
            .find_map(|l| l.strip_prefix("Sec-WebSocket-Key: "))
            .unwrap();
        let answer = format!(
            "HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n\
             Sec-WebSocket-Accept: {}\r\n\r\n",
            stdws::accept_key(key)
        );
        s.write_all(answer.as_bytes()).unwrap();
        let mut frame = [0u8; 8];
        let _ = s.read(&mut frame);
        let _ = s.shutdown(std::net::Shutdown::Both);
    });
    let (code, _, err) = client(&["-c", &format!("ws://{addr}/")], b"hi\n");
    assert_eq!(code, 1);
    assert!(
        err.starts_with("stdws: connection lost before the server's close"),
        "{err}"
    );
}

#[test]
fn unusable_targets_and_options_exit_2_or_1() {
    let (code, _, err) = client(&["-c", "http://127.0.0.1:1/"], b"");
    assert_eq!(code, 2, "{err}");
    let (code, _, err) = client(&["-c", "ws://127.0.0.1:1/", "-H", "Host: x"], b"");
    assert_eq!(code, 2, "{err}");
    let free = TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap();
    let (code, _, err) = client(&["-c", &format!("ws://{free}/")], b"");
    assert_eq!(code, 1);
    assert!(
        err.starts_with("stdws: cannot connect to 127.0.0.1:"),
        "{err}"
    );
}

#[test]
fn subprotocol_origin_and_extra_headers_reach_the_server() {
    let config = Config {
        protocols: vec!["chat".into()],
        ..quiet()
    };
    let server = Server::bind("127.0.0.1:0", config)
        .unwrap()
        .on_connection(|mut ws, request| {
            let seen = format!(
                "{} {} {}",
                request.protocol.as_deref().unwrap_or("-"),
                request.head.header("Origin").unwrap_or("-"),
                request.head.header("X-Test").unwrap_or("-")
            );
            ws.send(Message::text(seen))?;
            while ws.read().is_ok() {}
            Ok(())
        })
        .spawn()
        .unwrap();
    let token = unique();
    let url = format!("ws://{}/", server.local_addr());
    let header = format!("X-Test: t-{token}");
    let args = [
        "-c",
        &url,
        "--protocol",
        "v2.chat,chat",
        "--origin",
        "http://o.example",
        "-H",
        &header,
    ];
    let (code, out, err) = client(&args, b"");
    assert_eq!((code, err.as_str()), (0, ""));
    assert_eq!(
        String::from_utf8(out).unwrap(),
        format!("chat http://o.example t-{token}\n")
    );
}

#[test]
fn hixie76_as_a_client() {
    let mut server = Stdws::start(&[]);
    let token = unique();
    let input = format!("old {token}\ndraft ✓ {token}\n");
    let url = format!("ws://{}/old-{token}", server.addr);
    let (code, out, err) = client(&["-c", &url, "--hixie76"], input.as_bytes());
    assert_eq!((code, err.as_str()), (0, ""));
    assert_eq!(String::from_utf8(out).unwrap(), input);
    let closed = format!("/old-{token} hixie76 closed");
    assert!(server.wait_for_log(|l| l.contains(&closed)).is_some());
}

#[test]
fn trace_shows_the_nonce_the_accept_and_each_masking_key() {
    let server = Stdws::start(&[]);
    let token = unique();
    let url = format!("ws://{}/", server.addr);
    let (code, out, err) = client(&["-c", &url, "--trace"], format!("{token}\n").as_bytes());
    assert_eq!(code, 0, "{err}");
    assert_eq!(out, format!("{token}\n").into_bytes());
    let after = |prefix: &str| {
        err.lines()
            .find_map(|l| l.strip_prefix(prefix))
            .unwrap_or_else(|| panic!("no {prefix:?} in {err}"))
            .to_string()
    };
    let key = after("stdws: trace > Sec-WebSocket-Key: ");
    let accept = stdws::accept_key(&key);
    assert_eq!(after("stdws: trace expected accept: "), accept);
    assert_eq!(
        after("stdws: trace received accept: "),
        format!("{accept} (matches)")
    );
    assert!(after("stdws: trace nonce: 16 random bytes ").ends_with(&key));
    let sent = after(&format!(
        "stdws: trace frame -> rfc6455 text fin=1 len={} masked=1 key=",
        token.len()
    ));
    assert_eq!(sent.len(), 8, "a 4-byte key in hex: {sent}");
    assert!(err.contains(&format!(
        "stdws: trace frame <- rfc6455 text fin=1 len={} masked=0\n",
        token.len()
    )));
    assert!(err.contains("stdws: trace frame <- rfc6455 close fin=1 len=2 masked=0\n"));
}

//! The `stdws` binary: arguments, the built-in page, and echo for both variants.

mod common;

use common::*;
use std::io::{BufRead, BufReader, Write};
use std::net::{SocketAddr, TcpListener};
use std::process::{Child, Command, Stdio};

const BIN: &str = env!("CARGO_BIN_EXE_stdws");

/// A running `stdws`, killed when dropped.
struct Running(Child, SocketAddr);

impl Drop for Running {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

fn start(extra: &[&str]) -> Running {
    let port = TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port();
    let mut child = Command::new(BIN)
        .args(["--port", &port.to_string()])
        .args(extra)
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    let mut stderr = BufReader::new(child.stderr.take().unwrap());
    let mut line = String::new();
    stderr.read_line(&mut line).unwrap();
    assert!(line.contains("listening"), "{line}");
    // Keep draining the log so the server never blocks on a full pipe.
    std::thread::spawn(move || std::io::copy(&mut stderr, &mut std::io::sink()));
    Running(child, SocketAddr::from(([127, 0, 0, 1], port)))
}

#[test]
fn help_and_version() {
    let out = Command::new(BIN).arg("--help").output().unwrap();
    assert!(out.status.success());
    let text = String::from_utf8(out.stdout).unwrap();
    assert!(
        text.contains("--port N") && text.contains("(default 9001)"),
        "{text}"
    );
    let out = Command::new(BIN).arg("--version").output().unwrap();
    assert_eq!(
        String::from_utf8(out.stdout).unwrap(),
        format!("stdws {}\n", env!("CARGO_PKG_VERSION"))
    );
}

#[test]
fn bad_arguments_exit_2_with_one_line() {
    for args in [
        &["--bogus"][..],
        &["--port", "99999"],
        &["--port"],
        &["--port=abc"],
    ] {
        let out = Command::new(BIN).args(args).output().unwrap();
        assert_eq!(out.status.code(), Some(2), "{args:?}");
        let err = String::from_utf8(out.stderr).unwrap();
        assert_eq!(err.lines().count(), 1, "{err}");
        assert!(err.starts_with("stdws: "), "{err}");
    }
}

#[test]
fn page_at_root_and_echo_on_every_path_for_both_variants() {
    let server = start(&[]);
    let mut s = connect(server.1);
    s.write_all(b"GET / HTTP/1.1\r\nHost: x\r\n\r\n").unwrap();
    let (status, head, body) = read_response(&mut s);
    assert_eq!(status, 200);
    assert!(head.contains("Content-Type: text/html"));
    assert!(String::from_utf8(body).unwrap().contains("new WebSocket("));

    let mut s = open_rfc(server.1, "/some/where?x=1");
    s.write_all(&masked(0x2, b"\x00\x01binary")).unwrap();
    assert_eq!(read_frame(&mut s), (true, 0x2, b"\x00\x01binary".to_vec()));

    let mut h = open_hixie(server.1, "/else");
    h.write_all(b"\x00hixie\xFF").unwrap();
    let mut got = [0u8; 7];
    std::io::Read::read_exact(&mut h, &mut got).unwrap();
    assert_eq!(&got, b"\x00hixie\xFF");
}

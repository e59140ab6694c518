//! Raw TCP echo, the reference that `scripts/bench.sh` measures stdws against: no
//! WebSocket at all, one thread per connection, bytes sent back as they arrive.
//!
//! ```text
//! cargo run --release --example tcp_echo -- --port 9002
//! ```
//!
//! It is what the loopback can do with the same threading model, so a WebSocket echo
//! server's large-message throughput is quoted as a fraction of it. The copy buffer
//! is 1 MiB, allocated zeroed: the kernel maps its pages only when a read first
//! touches them, so an idle connection costs its thread's stack and one page.

use std::io::{ErrorKind, Read, Write};
use std::net::{TcpListener, TcpStream};
use std::thread;

/// Bytes moved per system call at most.
const BUFFER_SIZE: usize = 1 << 20;

/// Stack size of a connection thread, the same as stdws's default.
const STACK_SIZE: usize = 128 * 1024;

fn main() {
    let args: Vec<String> = std::env::args().collect();
    let port: u16 = args
        .iter()
        .position(|a| a == "--port")
        .and_then(|i| args.get(i + 1))
        .and_then(|p| p.parse().ok())
        .unwrap_or(9002);
    let listener = match TcpListener::bind(("127.0.0.1", port)) {
        Ok(l) => l,
        Err(e) => {
            eprintln!("tcp_echo: cannot listen on 127.0.0.1:{port}: {e}");
            std::process::exit(1);
        }
    };
    for stream in listener.incoming() {
        match stream {
            Ok(stream) => {
                let spawned = thread::Builder::new()
                    .stack_size(STACK_SIZE)
                    .spawn(move || echo(stream));
                if let Err(e) = spawned {
                    eprintln!("tcp_echo: cannot start a thread: {e}");
                }
            }
            Err(e) => eprintln!("tcp_echo: accept: {e}"),
        }
    }
}

/// Echoes until the peer closes or an error ends the connection.
fn echo(mut stream: TcpStream) {
    let _ = stream.set_nodelay(true);
    let mut buf = vec![0u8; BUFFER_SIZE];
    loop {
        let n = match stream.read(&mut buf) {
            Ok(0) => return,
            Ok(n) => n,
            Err(e) if e.kind() == ErrorKind::Interrupted => continue,
            Err(_) => return,
        };
        if stream.write_all(&buf[..n]).is_err() {
            return;
        }
    }
}

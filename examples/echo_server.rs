//! The shortest useful stdws server: every message comes back as it was sent.
//!
//!     cargo run --example echo_server            # ws://127.0.0.1:9001/
//!     cargo run --example echo_server -- 127.0.0.1:9100
//!
//! The default handler of [`stdws::Server`] already echoes; this spells it out.

fn main() -> std::io::Result<()> {
    let addr = std::env::args().nth(1).unwrap_or("127.0.0.1:9001".into());
    let server = stdws::Server::bind(addr, stdws::Config::default())?
        .on_connection(|ws, _request| Ok(stdws::echo(ws)?));
    eprintln!("echo on ws://{}/", server.local_addr()?);
    server.run()
}

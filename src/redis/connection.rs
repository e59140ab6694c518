//! One connection to Redis: opened with a bounded wait, logged in (`AUTH`), on its
//! database (`SELECT`), checked (`PING`), then used for commands whose replies are
//! read with a timeout, so a server that stops answering costs a bounded wait and an
//! error, never a hung thread.

use super::resp::{write_command, Limits, Reply, RespReader};
use super::target::Target;
use std::io::{self, Write};
use std::net::{TcpStream, ToSocketAddrs};
use std::time::Duration;

/// An open, logged-in connection.
#[derive(Debug)]
pub struct Connection {
    stream: TcpStream,
    reader: RespReader,
    /// The next command's bytes, kept to be reused.
    out: Vec<u8>,
}

/// A reply the server sent as an error (`-ERR ...`, `-NOAUTH ...`, `-WRONGPASS ...`).
fn refused(command: &str, message: &[u8]) -> io::Error {
    io::Error::new(
        io::ErrorKind::PermissionDenied,
        format!(
            "redis refused {command}: {}",
            String::from_utf8_lossy(message)
        ),
    )
}

fn unexpected(command: &str) -> io::Error {
    io::Error::new(
        io::ErrorKind::InvalidData,
        format!("redis: unexpected answer to {command}"),
    )
}

impl Connection {
    /// Connects to `target` (each of its addresses in turn, up to `timeout` each),
    /// sets `timeout` on reads and writes, then `AUTH` (if a password is given),
    /// `SELECT` (if the database is not 0) and `PING`.
    pub fn open(target: &Target, timeout: Duration, limits: Limits) -> io::Result<Connection> {
        let mut last = io::Error::new(io::ErrorKind::NotFound, "redis: host has no address");
        let mut stream = None;
        for addr in (target.host.as_str(), target.port).to_socket_addrs()? {
            match TcpStream::connect_timeout(&addr, timeout) {
                Ok(s) => {
                    stream = Some(s);
                    break;
                }
                Err(e) => last = e,
            }
        }
        let stream = stream.ok_or(last)?;
        stream.set_nodelay(true)?;
        stream.set_read_timeout(Some(timeout))?;
        stream.set_write_timeout(Some(timeout))?;
        let mut connection = Connection {
            stream,
            reader: RespReader::new(limits),
            out: Vec::new(),
        };
        if let Some(password) = &target.password {
            let reply = match &target.user {
                Some(user) => connection.call(&[b"AUTH", user.as_bytes(), password.as_bytes()]),
                None => connection.call(&[b"AUTH", password.as_bytes()]),
            }?;
            connection.expect_ok("AUTH", &reply)?;
        }
        if target.db != 0 {
            let reply = connection.call(&[b"SELECT", target.db.to_string().as_bytes()])?;
            connection.expect_ok("SELECT", &reply)?;
        }
        match connection.call(&[b"PING"])? {
            Reply::Status(s) if s == b"PONG" => Ok(connection),
            _ => Err(unexpected("PING")),
        }
    }

    fn expect_ok(&self, command: &str, reply: &Reply) -> io::Result<()> {
        match reply {
            Reply::Status(s) if s == b"OK" => Ok(()),
            _ => Err(unexpected(command)),
        }
    }

    /// Sends one command, without waiting for its reply.
    pub fn send(&mut self, args: &[&[u8]]) -> io::Result<()> {
        self.out.clear();
        write_command(&mut self.out, args);
        self.stream.write_all(&self.out)
    }

    /// The next reply; a read timeout comes back as that error, with any partial
    /// reply kept for the next call.
    pub fn receive(&mut self) -> io::Result<Reply> {
        self.reader.read(&mut self.stream)
    }

    /// Sends one command and reads its reply; an error reply becomes an
    /// `io::ErrorKind::PermissionDenied` error carrying the server's message.
    pub fn call(&mut self, args: &[&[u8]]) -> io::Result<Reply> {
        self.send(args)?;
        match self.receive()? {
            Reply::Error(message) => Err(refused(
                &String::from_utf8_lossy(args.first().copied().unwrap_or_default()),
                &message,
            )),
            reply => Ok(reply),
        }
    }

    /// `PUBLISH channel payload`: how many subscribers (connections, across the
    /// whole server) received it.
    pub fn publish(&mut self, channel: &[u8], payload: &[u8]) -> io::Result<u64> {
        match self.call(&[b"PUBLISH", channel, payload])? {
            Reply::Integer(n) if n >= 0 => Ok(n as u64),
            _ => Err(unexpected("PUBLISH")),
        }
    }

    /// Changes how long a read waits.
    pub fn set_read_timeout(&self, timeout: Duration) -> io::Result<()> {
        self.stream.set_read_timeout(Some(timeout))
    }
}

//! What a stream must offer beyond `Read + Write`: a second handle for
//! [split](super::WebSocket::split), and a write time limit for the relay.

use std::io;
use std::time::Duration;

/// Streams that can be duplicated into a second handle on the same connection, so a
/// WebSocket can be [split](crate::WebSocket::split) into a reader and a writer.
pub trait TryClone: Sized {
    /// Another handle on the same underlying connection.
    fn try_clone(&self) -> io::Result<Self>;
}

impl TryClone for std::net::TcpStream {
    fn try_clone(&self) -> io::Result<Self> {
        std::net::TcpStream::try_clone(self)
    }
}

#[cfg(unix)]
impl TryClone for std::os::unix::net::UnixStream {
    fn try_clone(&self) -> io::Result<Self> {
        std::os::unix::net::UnixStream::try_clone(self)
    }
}

/// Streams whose writes can be given a time limit (`SO_SNDTIMEO` on sockets). A relay
/// uses a short one to notice a peer that has stopped reading
/// ([`Writer::relay_piece`](crate::Writer::relay_piece)); the usual limit is restored after each write.
pub trait WriteTimeout {
    /// The current limit; `None` waits for ever.
    fn write_timeout(&self) -> io::Result<Option<Duration>>;
    /// Sets the limit; a zero duration is an error, as for [`std::net::TcpStream`].
    fn set_write_timeout(&self, limit: Option<Duration>) -> io::Result<()>;
}

impl WriteTimeout for std::net::TcpStream {
    fn write_timeout(&self) -> io::Result<Option<Duration>> {
        std::net::TcpStream::write_timeout(self)
    }
    fn set_write_timeout(&self, limit: Option<Duration>) -> io::Result<()> {
        std::net::TcpStream::set_write_timeout(self, limit)
    }
}

#[cfg(unix)]
impl WriteTimeout for std::os::unix::net::UnixStream {
    fn write_timeout(&self) -> io::Result<Option<Duration>> {
        std::os::unix::net::UnixStream::write_timeout(self)
    }
    fn set_write_timeout(&self, limit: Option<Duration>) -> io::Result<()> {
        std::os::unix::net::UnixStream::set_write_timeout(self, limit)
    }
}

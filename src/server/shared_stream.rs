//! A TCP connection shared by the reader, the writer and the shutdown list.

use crate::socket::{TryClone, WriteTimeout};
use crate::tap::Tap;
use std::io::{self, Read, Write};
use std::net::TcpStream;
use std::sync::Arc;
use std::time::Duration;

/// A TCP connection shared by reference count: the reader, the writer and the
/// server's shutdown list all hold the same socket, with one file descriptor.
///
/// It may carry a [`Tap`] that watches the bytes pass (`--trace`); without one, the
/// only cost is one `Option` check per system call.
#[derive(Debug, Clone)]
pub struct SharedTcpStream(Arc<TcpStream>, Option<Arc<Tap>>);

impl SharedTcpStream {
    /// Wraps a stream.
    pub fn new(stream: TcpStream) -> SharedTcpStream {
        SharedTcpStream(Arc::new(stream), None)
    }

    /// Another handle on the same stream whose bytes, both ways, are shown to `tap`.
    pub fn with_tap(&self, tap: Tap) -> SharedTcpStream {
        SharedTcpStream(self.0.clone(), Some(Arc::new(tap)))
    }
}

impl std::ops::Deref for SharedTcpStream {
    type Target = TcpStream;
    fn deref(&self) -> &TcpStream {
        &self.0
    }
}

impl Read for SharedTcpStream {
    fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
        let n = (&*self.0).read(buf)?;
        if let Some(tap) = &self.1 {
            tap.incoming(&buf[..n]);
        }
        Ok(n)
    }
}

impl Write for SharedTcpStream {
    fn write(&mut self, buf: &[u8]) -> io::Result<usize> {
        let n = (&*self.0).write(buf)?;
        if let Some(tap) = &self.1 {
            tap.outgoing(&buf[..n]);
        }
        Ok(n)
    }
    fn write_vectored(&mut self, bufs: &[io::IoSlice<'_>]) -> io::Result<usize> {
        let n = (&*self.0).write_vectored(bufs)?;
        if let Some(tap) = &self.1 {
            let mut left = n;
            for b in bufs {
                let take = left.min(b.len());
                tap.outgoing(&b[..take]);
                left -= take;
            }
        }
        Ok(n)
    }
    fn flush(&mut self) -> io::Result<()> {
        Ok(())
    }
}

impl WriteTimeout for SharedTcpStream {
    fn write_timeout(&self) -> io::Result<Option<Duration>> {
        self.0.write_timeout()
    }
    fn set_write_timeout(&self, limit: Option<Duration>) -> io::Result<()> {
        self.0.set_write_timeout(limit)
    }
}

impl TryClone for SharedTcpStream {
    fn try_clone(&self) -> io::Result<SharedTcpStream> {
        Ok(self.clone())
    }
}

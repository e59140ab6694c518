//! RESP2, the Redis serialization protocol, both ways.
//!
//! A command goes to the server as an array of bulk strings, each prefixed by its
//! length, so any bytes (binary payloads included) cross intact:
//!
//! ```text
//! *3\r\n$7\r\nPUBLISH\r\n$4\r\nroom\r\n$2\r\nhi\r\n
//! ```
//!
//! A reply is one of five types, told apart by its first byte: `+` a status line,
//! `-` an error line, `:` an integer, `$` a bulk string (`$-1` is null), `*` an array
//! of replies (`*-1` is null). Lines end with CRLF.
//!
//! The reader is the part a broken or hostile server could abuse, so every length it
//! believes is bounded ([`Limits`]): a bulk string longer than `max_bulk`, an array of
//! more than `max_items`, arrays nested deeper than [`MAX_DEPTH`], or a line longer
//! than [`MAX_LINE`] is an error, and the bytes buffered while a reply is incomplete
//! never exceed what the largest allowed reply needs. A read timeout on the stream
//! surfaces as that error kind, with what was read so far kept for the next call.

use std::io::{self, Read};

/// The longest status, error or length line accepted, CRLF included.
pub const MAX_LINE: usize = 4096;

/// How deeply arrays may nest; pub/sub needs one level.
pub const MAX_DEPTH: usize = 3;

/// What a reply may hold.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Limits {
    /// The longest bulk string, in bytes.
    pub max_bulk: usize,
    /// The most elements in one array.
    pub max_items: usize,
}

/// One RESP2 reply.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Reply {
    /// `+OK`: a status line, without its `+` and CRLF.
    Status(Vec<u8>),
    /// `-ERR ...`: the server refused the command.
    Error(Vec<u8>),
    /// `:42`.
    Integer(i64),
    /// `$n` and n bytes; `None` for the null bulk string `$-1`.
    Bulk(Option<Vec<u8>>),
    /// `*n` and n replies; `None` for the null array `*-1`.
    Array(Option<Vec<Reply>>),
}

/// Appends the command `args` to `out`, as an array of bulk strings.
pub fn write_command(out: &mut Vec<u8>, args: &[&[u8]]) {
    push_header(out, b'*', args.len());
    for arg in args {
        push_header(out, b'$', arg.len());
        out.extend_from_slice(arg);
        out.extend_from_slice(b"\r\n");
    }
}

/// `*3\r\n`, `$5\r\n`: a type byte, a length in decimal, CRLF.
fn push_header(out: &mut Vec<u8>, kind: u8, n: usize) {
    let mut digits = [0u8; 20];
    let mut at = digits.len();
    let mut n = n;
    loop {
        at -= 1;
        digits[at] = b'0' + (n % 10) as u8;
        n /= 10;
        if n == 0 {
            break;
        }
    }
    out.push(kind);
    out.extend_from_slice(&digits[at..]);
    out.extend_from_slice(b"\r\n");
}

fn malformed(why: &'static str) -> io::Error {
    io::Error::new(io::ErrorKind::InvalidData, why)
}

/// Parses one reply from the start of `input`: the reply and the bytes it took, or
/// `None` if `input` ends before the reply does.
pub fn parse(input: &[u8], limits: &Limits) -> io::Result<Option<(Reply, usize)>> {
    parse_at(input, 0, limits, 0)
}

fn parse_at(
    input: &[u8],
    at: usize,
    limits: &Limits,
    depth: usize,
) -> io::Result<Option<(Reply, usize)>> {
    let Some((line, next)) = line(input, at)? else {
        return Ok(None);
    };
    let (&kind, rest) = line
        .split_first()
        .ok_or_else(|| malformed("redis: empty line"))?;
    let reply = match kind {
        b'+' => Reply::Status(rest.to_vec()),
        b'-' => Reply::Error(rest.to_vec()),
        b':' => Reply::Integer(integer(rest)?),
        b'$' => {
            let Some(len) = length(rest, limits.max_bulk, "redis: bulk string over the limit")?
            else {
                return Ok(Some((Reply::Bulk(None), next)));
            };
            let end = next + len;
            if input.len() < end + 2 {
                return Ok(None);
            }
            if &input[end..end + 2] != b"\r\n" {
                return Err(malformed("redis: bulk string not followed by CRLF"));
            }
            return Ok(Some((
                Reply::Bulk(Some(input[next..end].to_vec())),
                end + 2,
            )));
        }
        b'*' => {
            if depth == MAX_DEPTH {
                return Err(malformed("redis: arrays nested too deeply"));
            }
            let Some(n) = length(rest, limits.max_items, "redis: array over the limit")? else {
                return Ok(Some((Reply::Array(None), next)));
            };
            let mut items = Vec::with_capacity(n);
            let mut at = next;
            for _ in 0..n {
                let Some((item, after)) = parse_at(input, at, limits, depth + 1)? else {
                    return Ok(None);
                };
                items.push(item);
                at = after;
            }
            return Ok(Some((Reply::Array(Some(items)), at)));
        }
        _ => return Err(malformed("redis: unknown reply type")),
    };
    Ok(Some((reply, next)))
}

/// The line starting at `at`, without its CRLF, and where the next one starts.
fn line(input: &[u8], at: usize) -> io::Result<Option<(&[u8], usize)>> {
    let rest = &input[at.min(input.len())..];
    let window = &rest[..rest.len().min(MAX_LINE)];
    match window.iter().position(|&b| b == b'\r' || b == b'\n') {
        Some(end) if window[end] == b'\n' => Err(malformed("redis: bare LF in a line")),
        Some(end) if end + 1 == window.len() => Ok(None),
        Some(end) if window[end + 1] == b'\n' => Ok(Some((&window[..end], at + end + 2))),
        Some(_) => Err(malformed("redis: bare CR in a line")),
        None if window.len() == MAX_LINE => Err(malformed("redis: line too long")),
        None => Ok(None),
    }
}

/// A signed decimal integer, as `:` replies carry.
fn integer(digits: &[u8]) -> io::Result<i64> {
    let (negative, digits) = match digits.split_first() {
        Some((b'-', rest)) => (true, rest),
        _ => (false, digits),
    };
    if digits.is_empty() || digits.len() > 19 || !digits.iter().all(u8::is_ascii_digit) {
        return Err(malformed("redis: not an integer"));
    }
    let n = digits
        .iter()
        .try_fold(0i64, |n, &d| {
            n.checked_mul(10)?.checked_add(i64::from(d - b'0'))
        })
        .ok_or_else(|| malformed("redis: integer out of range"))?;
    Ok(if negative { -n } else { n })
}

/// A length of a bulk string or an array: `None` for -1 (null), an error beyond `max`.
fn length(digits: &[u8], max: usize, too_long: &'static str) -> io::Result<Option<usize>> {
    match integer(digits)? {
        -1 => Ok(None),
        n if n < 0 => Err(malformed("redis: negative length")),
        n if n as u64 > max as u64 => Err(malformed(too_long)),
        n => Ok(Some(n as usize)),
    }
}

/// Reads replies from a stream, buffering at most what the largest allowed reply
/// needs.
#[derive(Debug)]
pub struct RespReader {
    buffer: Vec<u8>,
    limits: Limits,
}

/// Bytes read from the stream at a time.
const CHUNK: usize = 16 * 1024;

impl RespReader {
    /// An empty reader for replies within `limits`.
    pub fn new(limits: Limits) -> RespReader {
        RespReader {
            buffer: Vec::new(),
            limits,
        }
    }

    /// The most bytes buffered for one reply: its largest bulk string, plus a line
    /// for each element of the largest array (generous for pub/sub's three items).
    fn capacity(&self) -> usize {
        self.limits.max_bulk + MAX_LINE * (self.limits.max_items + 2)
    }

    /// The next reply: parsed from what is buffered, or after reading more. A read
    /// timeout returns that error and keeps the partial reply for the next call.
    pub fn read(&mut self, stream: &mut dyn Read) -> io::Result<Reply> {
        loop {
            if let Some((reply, used)) = parse(&self.buffer, &self.limits)? {
                self.buffer.drain(..used);
                if self.buffer.is_empty() && self.buffer.capacity() > 4 * CHUNK {
                    // A large message is over: give its memory back.
                    self.buffer = Vec::new();
                }
                return Ok(reply);
            }
            let room = self.capacity().saturating_sub(self.buffer.len());
            if room == 0 {
                return Err(malformed("redis: reply larger than the limits allow"));
            }
            // Straight into the buffer's tail, not through a chunk on the stack: the
            // publisher runs on members' threads, and every stack page a connection's
            // thread touches stays with it for as long as the connection is open.
            let old = self.buffer.len();
            self.buffer.resize(old + room.min(CHUNK), 0);
            let read = stream.read(&mut self.buffer[old..]);
            self.buffer.truncate(old + *read.as_ref().unwrap_or(&0));
            if read? == 0 {
                return Err(io::Error::new(
                    io::ErrorKind::UnexpectedEof,
                    "redis: connection closed",
                ));
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const LIMITS: Limits = Limits {
        max_bulk: 64,
        max_items: 4,
    };

    fn one(input: &[u8]) -> io::Result<Option<(Reply, usize)>> {
        parse(input, &LIMITS)
    }

    fn bulk(b: &[u8]) -> Reply {
        Reply::Bulk(Some(b.to_vec()))
    }

    #[test]
    fn commands_are_arrays_of_bulk_strings() {
        let mut out = Vec::new();
        write_command(&mut out, &[b"PUBLISH", b"r", b"\r\n\0\xff"]);
        assert_eq!(
            out,
            b"*3\r\n$7\r\nPUBLISH\r\n$1\r\nr\r\n$4\r\n\r\n\0\xff\r\n"
        );
        out.clear();
        write_command(&mut out, &[b"PING", &[b'x'; 1234]]);
        assert!(out.starts_with(b"*2\r\n$4\r\nPING\r\n$1234\r\nxx"));
    }

    #[test]
    fn every_reply_type() {
        assert_eq!(
            one(b"+OK\r\n").unwrap(),
            Some((Reply::Status(b"OK".to_vec()), 5))
        );
        assert_eq!(
            one(b"-ERR wrong\r\nrest").unwrap(),
            Some((Reply::Error(b"ERR wrong".to_vec()), 12))
        );
        assert_eq!(one(b":-42\r\n").unwrap(), Some((Reply::Integer(-42), 6)));
        assert_eq!(one(b"$-1\r\n").unwrap(), Some((Reply::Bulk(None), 5)));
        assert_eq!(one(b"*-1\r\n").unwrap(), Some((Reply::Array(None), 5)));
        assert_eq!(one(b"$0\r\n\r\n").unwrap(), Some((bulk(b""), 6)));
        // Binary-safe: CR, LF and NUL inside a bulk string are data.
        assert_eq!(
            one(b"$4\r\n\r\n\0\n\r\n").unwrap(),
            Some((bulk(b"\r\n\0\n"), 10))
        );
        let message = b"*3\r\n$7\r\nmessage\r\n$2\r\nch\r\n$3\r\nabc\r\n";
        assert_eq!(
            one(message).unwrap(),
            Some((
                Reply::Array(Some(vec![bulk(b"message"), bulk(b"ch"), bulk(b"abc")])),
                message.len()
            ))
        );
    }

    #[test]
    fn truncated_replies_wait_for_more_at_every_cut() {
        let whole: &[u8] = b"*3\r\n$9\r\nsubscribe\r\n$4\r\nroom\r\n:1\r\n";
        for cut in 0..whole.len() {
            assert_eq!(one(&whole[..cut]).unwrap(), None, "cut at {cut}");
        }
        assert_eq!(one(whole).unwrap().unwrap().1, whole.len());
    }

    #[test]
    fn malformed_replies_are_errors() {
        for bad in [
            &b"?what\r\n"[..],
            b"\r\n",
            b":12a\r\n",
            b":\r\n",
            b":-\r\n",
            b":99999999999999999999\r\n",
            b"+OK\n",
            b"+O\rK\r\n",
            b"$-2\r\n",
            b"$3\r\nabcd\r\n",
            b"$ 3\r\nabc\r\n",
            b"*-5\r\n",
            b"*1\r\n?\r\n",
        ] {
            let got = one(bad);
            assert!(
                matches!(&got, Err(e) if e.kind() == io::ErrorKind::InvalidData),
                "{:?} gave {got:?}",
                String::from_utf8_lossy(bad)
            );
        }
    }

    #[test]
    fn oversized_replies_are_refused_before_their_bytes_arrive() {
        // Only the header has come: the length alone is refused, nothing waited for.
        assert!(one(b"$65\r\n").is_err());
        assert!(one(b"$9223372036854775807\r\n").is_err());
        assert!(one(b"*5\r\n").is_err());
        assert!(
            one(b"*1\r\n*1\r\n*1\r\n*0\r\n").is_err(),
            "nested four deep"
        );
        assert!(one(b"*1\r\n*1\r\n*0\r\n").unwrap().is_some());
        let long_line = [b'+'; MAX_LINE + 10];
        assert!(one(&long_line).is_err());
        assert_eq!(one(&long_line[..100]).unwrap(), None);
    }

    /// Hands out its bytes a few at a time, then times out once, then ends.
    struct Trickle<'a> {
        bytes: &'a [u8],
        step: usize,
        timed_out: bool,
    }

    impl Read for Trickle<'_> {
        fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
            if self.bytes.is_empty() && !self.timed_out {
                self.timed_out = true;
                return Err(io::ErrorKind::WouldBlock.into());
            }
            let n = self.step.min(buf.len()).min(self.bytes.len());
            buf[..n].copy_from_slice(&self.bytes[..n]);
            self.bytes = &self.bytes[n..];
            Ok(n)
        }
    }

    #[test]
    fn the_reader_keeps_a_partial_reply_across_a_timeout() {
        let mut reader = RespReader::new(LIMITS);
        let mut stream = Trickle {
            bytes: b":1\r\n$5\r\nhel",
            step: 3,
            timed_out: false,
        };
        assert_eq!(reader.read(&mut stream).unwrap(), Reply::Integer(1));
        let err = reader.read(&mut stream).unwrap_err();
        assert_eq!(err.kind(), io::ErrorKind::WouldBlock);
        let mut rest = Trickle {
            bytes: b"lo\r\n",
            step: 1,
            timed_out: true,
        };
        assert_eq!(reader.read(&mut rest).unwrap(), bulk(b"hello"));
        let eof = reader.read(&mut rest).unwrap_err();
        assert_eq!(eof.kind(), io::ErrorKind::UnexpectedEof);
    }

    #[test]
    fn the_reader_never_buffers_past_its_limits() {
        // An endless status line, with no CRLF: refused once MAX_LINE bytes are in.
        let endless = vec![b'+'; 10 * MAX_LINE];
        let mut reader = RespReader::new(LIMITS);
        let mut stream: &[u8] = &endless;
        assert!(reader.read(&mut stream).is_err());
        assert!(reader.buffer.len() <= reader.capacity());
        assert!(stream.len() >= endless.len() - reader.capacity());
    }
}

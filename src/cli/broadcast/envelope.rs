//! What a room's message looks like on the Redis channel: the message's bytes after
//! a short header that says what kind of message it is, whether the sender's
//! instance delivered it to its own members already, and who sent it (instance and
//! member), so that the sender's own instance can leave the sender out when the
//! message comes back from Redis.
//!
//! ```text
//! T r 0123456789abcdef 0000000000000007 hello
//! | | |                |                +- the payload, as sent (binary-safe)
//! | | |                +- the member's id on its instance (16 hex digits)
//! | | +- the instance's id, random per process (16 hex digits)
//! | +- r: its instance delivers it when Redis hands it back;
//! |    d: its instance delivered it directly (the room was not yet subscribed)
//! +- T text, B binary
//! ```
//!
//! (No spaces in the real thing: 34 bytes of header.)

use stdws::{Message, MessageRef};

/// Bytes before the payload.
pub const HEADER: usize = 2 + 16 + 16;

/// Who sent a message, and whether its instance delivered it already.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Sender {
    /// The instance's random id.
    pub instance: u64,
    /// The member's id on that instance.
    pub member: u64,
    /// Its own instance delivered it directly, not through Redis.
    pub direct: bool,
}

/// Writes `message` (text or binary) from `sender` into `out`, replacing what was
/// there; false for a control message, which rooms do not relay.
pub fn seal(out: &mut Vec<u8>, message: MessageRef<'_>, sender: Sender) -> bool {
    let (kind, payload) = match message {
        MessageRef::Text(t) => (b'T', t.as_bytes()),
        MessageRef::Binary(b) => (b'B', b),
        _ => return false,
    };
    out.clear();
    out.push(kind);
    out.push(if sender.direct { b'd' } else { b'r' });
    push_hex16(out, sender.instance);
    push_hex16(out, sender.member);
    out.extend_from_slice(payload);
    true
}

/// The sender and the message of an envelope taken from Redis; `None` if it is not
/// one (too short, unknown kind, bad digits, text that is not UTF-8).
pub fn open(mut envelope: Vec<u8>) -> Option<(Sender, Message)> {
    if envelope.len() < HEADER {
        return None;
    }
    let direct = match envelope[1] {
        b'd' => true,
        b'r' => false,
        _ => return None,
    };
    let sender = Sender {
        instance: hex16(&envelope[2..18])?,
        member: hex16(&envelope[18..34])?,
        direct,
    };
    let kind = envelope[0];
    envelope.drain(..HEADER);
    let message = match kind {
        b'T' => Message::Text(String::from_utf8(envelope).ok()?),
        b'B' => Message::Binary(envelope),
        _ => return None,
    };
    Some((sender, message))
}

fn push_hex16(out: &mut Vec<u8>, n: u64) {
    const DIGITS: &[u8; 16] = b"0123456789abcdef";
    for shift in (0..16).rev() {
        out.push(DIGITS[((n >> (shift * 4)) & 15) as usize]);
    }
}

fn hex16(digits: &[u8]) -> Option<u64> {
    digits.iter().try_fold(0u64, |n, &d| {
        let v = char::from(d).to_digit(16)?;
        Some(n << 4 | u64::from(v))
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn round_trip_text_and_binary() {
        let sender = Sender {
            instance: 0x0123_4567_89ab_cdef,
            member: 7,
            direct: false,
        };
        let mut out = vec![9; 3];
        assert!(seal(&mut out, MessageRef::Text("héllo"), sender));
        assert_eq!(
            &out[..HEADER],
            b"Tr0123456789abcdef0000000000000007".as_slice()
        );
        assert_eq!(open(out.clone()), Some((sender, Message::text("héllo"))));
        let direct = Sender {
            direct: true,
            ..sender
        };
        assert!(seal(
            &mut out,
            MessageRef::Binary(&[0, 13, 10, 255]),
            direct
        ));
        assert_eq!(
            open(out.clone()),
            Some((direct, Message::binary(vec![0, 13, 10, 255])))
        );
        assert!(!seal(&mut out, MessageRef::Ping(b"x"), sender));
    }

    #[test]
    fn what_is_not_an_envelope() {
        let good = b"Tr0123456789abcdef0000000000000007hi".to_vec();
        assert!(open(good.clone()).is_some());
        for (at, byte) in [(0, b'X'), (1, b'x'), (5, b'g'), (30, b' ')] {
            let mut bad = good.clone();
            bad[at] = byte;
            assert_eq!(open(bad), None, "byte {at} changed");
        }
        assert_eq!(open(good[..HEADER - 1].to_vec()), None);
        let mut not_utf8 = good.clone();
        not_utf8.push(0xff);
        assert_eq!(open(not_utf8), None);
    }
}

//! UTF-8 checked as bytes arrive, so invalid text fails the connection at once
//! (RFC 6455 §8.1: "When an endpoint is to interpret a byte stream as UTF-8 but finds
//! that the byte stream is not, in fact, a valid UTF-8 stream, that endpoint MUST
//! _Fail the WebSocket Connection_").

/// Tracks how much of a growing text buffer is known to be valid.
///
/// Each call checks only the bytes that arrived since the last call, plus the at most
/// three bytes of a code point that was cut at the end of the previous piece. The
/// standard library's decoder tells "invalid" (`error_len() == Some`) apart from
/// "incomplete, but could still become valid" (`error_len() == None`), which is
/// exactly the fail-fast rule.
///
/// ```
/// use stdws::utf8::Utf8Progress;
/// let mut text = Vec::new();
/// let mut progress = Utf8Progress::default();
/// text.extend_from_slice(&[0xE2, 0x82]);          // first two bytes of '€'
/// assert!(progress.check(&text).is_ok());         // incomplete, not invalid
/// assert!(!progress.is_complete(&text));
/// text.push(0xAC);
/// assert!(progress.check(&text).is_ok());
/// assert!(progress.is_complete(&text));
/// text.extend_from_slice(&[0xF4, 0x90]);          // above U+10FFFF: invalid already
/// assert!(progress.check(&text).is_err());
/// ```
#[derive(Debug, Default, Clone, Copy)]
pub struct Utf8Progress {
    valid_up_to: usize,
}

/// The bytes received so far can no longer begin a valid UTF-8 text.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct InvalidUtf8;

impl Utf8Progress {
    /// Checks `text[self.valid_up_to..]`; `text` must be the same buffer, grown.
    pub fn check(&mut self, text: &[u8]) -> Result<(), InvalidUtf8> {
        match std::str::from_utf8(&text[self.valid_up_to..]) {
            Ok(_) => {
                self.valid_up_to = text.len();
                Ok(())
            }
            Err(e) if e.error_len().is_none() => {
                self.valid_up_to += e.valid_up_to();
                Ok(())
            }
            Err(_) => Err(InvalidUtf8),
        }
    }

    /// Whether the whole of `text` is valid: false if it ends inside a code point.
    pub fn is_complete(&self, text: &[u8]) -> bool {
        self.valid_up_to == text.len()
    }

    /// Starts over for a new message.
    pub fn reset(&mut self) {
        self.valid_up_to = 0;
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_split_of_valid_text_passes_and_completes() {
        let text = "κόσμε € 𝄞 hello".as_bytes();
        for cut in 0..=text.len() {
            let mut p = Utf8Progress::default();
            p.check(&text[..cut]).unwrap();
            p.check(text).unwrap();
            assert!(p.is_complete(text), "cut at {cut}");
        }
    }

    #[test]
    fn invalid_byte_fails_before_the_rest_arrives() {
        // Autobahn 6.4.1's shape: a valid start, then an impossible byte mid-message.
        let mut buf = "κόσμε".as_bytes().to_vec();
        let mut p = Utf8Progress::default();
        p.check(&buf).unwrap();
        buf.extend_from_slice(&[0xF4, 0x90, 0x80, 0x80]);
        assert_eq!(p.check(&buf), Err(InvalidUtf8));
    }

    #[test]
    fn surrogates_and_overlongs_fail() {
        for bad in [&[0xED, 0xA0][..], &[0xC0], &[0xE0, 0x80], &[0xFF]] {
            let mut p = Utf8Progress::default();
            assert_eq!(p.check(bad), Err(InvalidUtf8), "{bad:02x?}");
        }
    }
}

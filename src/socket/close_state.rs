//! Which close frames have gone each way (RFC 6455 §7.1): shared by the reader, the
//! writer and the server, which reads it for its log line and its last word.

use crate::message::CloseCode;
use std::sync::atomic::{AtomicU32, Ordering};

/// Which close frames have gone each way, shared by both halves of a connection (and
/// read by the server for its log line and its last word).
#[derive(Debug, Default)]
pub struct CloseState {
    sent: AtomicU32,
    received: AtomicU32,
}

/// Stored in the atomics: 0 for "not yet", otherwise this bit plus the code (0 for a
/// close without a code).
const PRESENT: u32 = 1 << 16;

fn encode_code(code: Option<CloseCode>) -> u32 {
    PRESENT | u32::from(code.map_or(0, |c| c.0))
}

fn decode_code(v: u32) -> Option<Option<CloseCode>> {
    if v & PRESENT == 0 {
        None
    } else {
        let code = (v & 0xFFFF) as u16;
        Some((code != 0).then_some(CloseCode(code)))
    }
}

impl CloseState {
    /// Records that a close frame is being sent; false if one was sent already.
    pub(super) fn mark_sent(&self, code: Option<CloseCode>) -> bool {
        self.sent
            .compare_exchange(0, encode_code(code), Ordering::AcqRel, Ordering::Acquire)
            .is_ok()
    }

    pub(super) fn mark_received(&self, code: Option<CloseCode>) {
        self.received.store(encode_code(code), Ordering::Release);
    }

    /// The close we sent: `None` if none yet, `Some(None)` for one without a code.
    pub fn sent(&self) -> Option<Option<CloseCode>> {
        decode_code(self.sent.load(Ordering::Acquire))
    }

    /// The close we received, in the same form.
    pub fn received(&self) -> Option<Option<CloseCode>> {
        decode_code(self.received.load(Ordering::Acquire))
    }
}

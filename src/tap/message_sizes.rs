//! The tap's view of permessage-deflate (RFC 7692): for each compressed message seen
//! going one way, its size on the wire and its size inflated.
//!
//! The tap has no access to the connection's own inflater, so it keeps one of its
//! own per direction, made at the first compressed frame it sees and fed the same
//! payload bytes, unmasked; what it inflates is counted and thrown away. It uses the
//! largest window (2^15) and keeps its history: a stream valid under a smaller
//! window, or without context takeover, decodes to the same bytes with it, so the
//! tap need not know what was negotiated (RSV1 can only mean permessage-deflate,
//! the one extension stdws speaks). That costs about 60 KiB per direction, on
//! tapped connections that compress only.

use crate::deflate::{InflateError, Inflater, Status, MESSAGE_TAIL};

/// One compressed message's sizes, reported with the frame that ends it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct MessageSizes {
    /// Payload bytes of all its frames, as on the wire (without the 4 bytes RFC
    /// 7692 §7.2.1 removes).
    pub compressed: u64,
    /// Bytes it inflated to, or why it could not be inflated.
    pub inflated: Result<u64, InflateError>,
}

/// Follows one direction's compressed messages.
#[derive(Debug, Default)]
pub(super) struct Follower {
    inflater: Option<Box<Inflater>>,
    /// Where inflated bytes go to be counted.
    scratch: Vec<u8>,
    /// Payload bytes being unmasked.
    unmasked: Vec<u8>,
    /// The message in progress: its sizes so far.
    current: Option<MessageSizes>,
}

impl Follower {
    /// A data frame began with RSV1 set: a compressed message starts.
    pub fn start(&mut self) {
        let inflater = self
            .inflater
            .get_or_insert_with(|| Box::new(Inflater::new(15, true)));
        let inflated = match inflater.finish_message() {
            // A message cut off by the peer's close leaves the inflater mid-block.
            Err(InflateError::UnexpectedEnd) => {
                inflater.reset();
                Ok(0)
            }
            Err(e) => Err(e),
            Ok(()) => Ok(0),
        };
        self.current = Some(MessageSizes {
            compressed: 0,
            inflated,
        });
    }

    /// A data frame began without RSV1 set: a plain message, nothing to follow.
    pub fn plain(&mut self) {
        self.current = None;
    }

    /// Whether a compressed message is in progress.
    pub fn following(&self) -> bool {
        self.current.is_some()
    }

    /// Payload bytes of the message in progress, masked with `mask` from `offset`.
    pub fn feed(&mut self, bytes: &[u8], mask: Option<[u8; 4]>, offset: u64) {
        let Some(sizes) = self.current.as_mut() else {
            return;
        };
        sizes.compressed += bytes.len() as u64;
        self.unmasked.clear();
        self.unmasked.extend_from_slice(bytes);
        if let Some(key) = mask {
            crate::frame::apply_mask(&mut self.unmasked, key, (offset % 4) as usize);
        }
        if let Some(inflater) = self.inflater.as_mut() {
            let input = std::mem::take(&mut self.unmasked);
            inflate(inflater, &input, &mut self.scratch, sizes);
            self.unmasked = input;
        }
    }

    /// The final frame's payload has passed: the message's sizes.
    pub fn finish(&mut self) -> Option<MessageSizes> {
        let mut sizes = self.current.take()?;
        if let Some(inflater) = self.inflater.as_mut() {
            inflate(inflater, &MESSAGE_TAIL, &mut self.scratch, &mut sizes);
            if sizes.inflated.is_ok() {
                if let Err(e) = inflater.finish_message() {
                    sizes.inflated = Err(e);
                }
            }
        }
        Some(sizes)
    }
}

/// Inflates `input`, counting the bytes it gives in `sizes` (until an error).
fn inflate(
    inflater: &mut Inflater,
    mut input: &[u8],
    scratch: &mut Vec<u8>,
    sizes: &mut MessageSizes,
) {
    let Ok(total) = sizes.inflated.as_mut() else {
        return;
    };
    scratch.resize(16 * 1024, 0);
    loop {
        match inflater.inflate(input, scratch) {
            Ok(p) => {
                *total += p.produced as u64;
                input = &input[p.consumed..];
                if p.status != Status::OutputFull {
                    return;
                }
            }
            Err(e) => {
                sizes.inflated = Err(e);
                return;
            }
        }
    }
}

//! permessage-deflate (RFC 7692): DEFLATE (RFC 1951) for WebSocket messages, and the
//! negotiation of its parameters.
//!
//! Everything here is bytes in, bytes out: no socket, no thread, no message type.
//! The framing layer decides which messages are compressed (RSV1) and feeds their
//! payloads through.
//!
//! **DEFLATE in one paragraph.** A stream is a series of blocks, each starting with
//! 3 bits: BFINAL (the last block) and BTYPE: stored (raw bytes after a length),
//! fixed (Huffman codes that the RFC defines) or dynamic (Huffman codes sent as code
//! lengths at the start of the block). Inside a Huffman block, each symbol is a literal
//! byte, the end of the block, or the length of a match that repeats bytes from up to
//! 32 KiB back (LZ77), followed by the match's distance. Bits are packed least
//! significant first, Huffman codes most significant first.
//!
//! **What RFC 7692 adds.** Each message is compressed on its own, ending with a sync
//! flush (an empty stored block) whose 4 bytes `00 00 ff ff` are removed before
//! sending and put back before inflating ([`MESSAGE_TAIL`]); BFINAL is never set by
//! stdws. The window (`*_max_window_bits`, 8..=15) limits how far back a distance may
//! reach, and "context takeover" says whether that history carries over from one
//! message to the next.
//!
//! | file | its one job |
//! |---|---|
//! | [`bits`] | bits least significant first, read from slices cut anywhere, written onto a `Vec` |
//! | [`alphabet`] | length and distance codes with their extra bits (§3.2.5), the fixed code (§3.2.6) |
//! | [`code_lengths`] | a dynamic block's header: HLIT, HDIST, HCLEN and the code lengths (§3.2.7) |
//! | [`huffman`] | canonical codes from code lengths (§3.2.2): decoding tables, length-limited codes |
//! | [`inflate`] | the resumable inflater: [`Inflater`] |
//! | [`compress`] | the compressor (LZ77 with hash chains): [`Compressor`] |
//! | [`disassemble`] | a stream taken apart for reading: blocks, codes, literals, matches (`--explain deflate`) |
//! | [`extension_list`] | the `Sec-WebSocket-Extensions` list grammar (RFC 6455 §9.1), parsed |
//! | [`extension`] | `Sec-WebSocket-Extensions` negotiation (RFC 7692 §5, §7.1): [`Parameters`] |
//!
//! ```
//! use stdws::deflate::{Compressor, Inflater};
//! let mut compressor = Compressor::new(15, true);
//! let mut inflater = Inflater::new(15, true);
//! let (mut wire, mut text) = (Vec::new(), Vec::new());
//! compressor.compress_message(b"Hello", &mut wire);
//! assert_eq!(wire, [0xf2, 0x48, 0xcd, 0xc9, 0xc9, 0x07, 0x00]); // RFC 7692 §7.2.3.1
//! inflater.inflate_message(&wire, &mut text, 1 << 20)?;
//! assert_eq!(text, b"Hello");
//! # Ok::<(), stdws::deflate::InflateError>(())
//! ```

pub mod alphabet;
pub mod bits;
pub mod code_lengths;
pub mod compress;
pub mod disassemble;
pub mod extension;
pub mod extension_list;
pub mod huffman;
pub mod inflate;

use std::fmt;

pub use compress::Compressor;
pub use extension::Parameters;
pub use inflate::{Inflater, Progress, Status, Window};

/// The end of an empty stored block, `00 00 ff ff` (LEN 0, NLEN 0xffff): a sender
/// removes it from each compressed message, a receiver appends it before inflating
/// (RFC 7692 §7.2.1, §7.2.2).
pub const MESSAGE_TAIL: [u8; 4] = [0x00, 0x00, 0xff, 0xff];

/// What was wrong with a DEFLATE stream (RFC 1951), or why inflating stopped.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum InflateError {
    /// A block header with BTYPE 11, which is reserved (§3.2.3).
    InvalidBlockType,
    /// A stored block whose NLEN is not the one's complement of LEN (§3.2.4).
    StoredLengthMismatch,
    /// HLIT above 286: more literal/length codes than the alphabet has (§3.2.7).
    TooManyLengthCodes,
    /// HDIST above 30: more distance codes than the alphabet has (§3.2.7).
    TooManyDistanceCodes,
    /// Code lengths that claim more codes than the code space holds (§3.2.2).
    OverSubscribedCode,
    /// Code lengths that leave part of the code space unused (§3.2.2).
    IncompleteCode,
    /// Code length 16 ("copy the previous length") with no previous length (§3.2.7).
    RepeatWithoutLength,
    /// A code length repeat that runs past HLIT + HDIST lengths (§3.2.7).
    RepeatPastEnd,
    /// A dynamic block whose literal/length code has no end-of-block code (256).
    MissingEndOfBlock,
    /// Bits that match no code of an incomplete (single-code) code.
    InvalidCode,
    /// Literal/length symbol 286 or 287, which never occur in data (§3.2.6).
    InvalidLengthCode,
    /// Distance symbol 30 or 31, which never occur in data (§3.2.6).
    InvalidDistanceCode,
    /// A distance reaching before the start of the history: past the window, or
    /// past the bytes produced so far (§3.2.5; RFC 7692 §7.1.2).
    DistanceTooFarBack,
    /// The message ended in the middle of a block.
    UnexpectedEnd,
    /// The message inflates to more bytes than the caller's limit.
    OutputLimit,
}

impl fmt::Display for InflateError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            InflateError::InvalidBlockType => "invalid block type 11",
            InflateError::StoredLengthMismatch => "stored block LEN and NLEN disagree",
            InflateError::TooManyLengthCodes => "more than 286 literal/length codes",
            InflateError::TooManyDistanceCodes => "more than 30 distance codes",
            InflateError::OverSubscribedCode => "over-subscribed Huffman code",
            InflateError::IncompleteCode => "incomplete Huffman code",
            InflateError::RepeatWithoutLength => "code length repeat with no previous length",
            InflateError::RepeatPastEnd => "code length repeat past the last length",
            InflateError::MissingEndOfBlock => "no end-of-block code",
            InflateError::InvalidCode => "bits that match no code",
            InflateError::InvalidLengthCode => "invalid literal/length code 286 or 287",
            InflateError::InvalidDistanceCode => "invalid distance code 30 or 31",
            InflateError::DistanceTooFarBack => "distance too far back",
            InflateError::UnexpectedEnd => "message ended inside a block",
            InflateError::OutputLimit => "inflated message over the size limit",
        })
    }
}

impl std::error::Error for InflateError {}

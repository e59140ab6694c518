//! DEFLATE working memory shared by all connections: lent for one message, then
//! given back.
//!
//! Between messages a direction needs at most its history (with context takeover);
//! everything else an inflater or compressor holds (code tables, hash heads and
//! chains, a block's tokens, the input and output buffers) matters only while a
//! message is being read or sent. stdws runs a thread per connection, so working
//! memory kept per thread would be kept per connection: instead this process-wide
//! stock lends it. A connection takes a piece at the start of a message and gives it
//! back at the end, so the memory in use follows the messages in flight, not the
//! connections open. At most [`IDLE_KEPT`] pieces of each kind wait between uses;
//! more are freed. The buffers inflated messages are delivered in are lent the same
//! way, from the first inflated byte until the message has been handled, and so are
//! the records of a direction's state to connections that keep none between
//! messages ([`super::kept`]).

use super::{Compression, Decompression, Direction, INPUT_CHUNK};
use crate::deflate::{Compressor, Inflater};
use std::sync::{Mutex, MutexGuard};

/// How many unused pieces of each kind are kept for the next message.
pub const IDLE_KEPT: usize = 16;

/// What a compressed message is read with: an inflater (its code tables, and the
/// history of a message that refers to no earlier one) and the buffer for the
/// compressed bytes read but not yet inflated.
#[derive(Debug)]
pub(crate) struct ReadScratch {
    pub(crate) inflater: Inflater,
    pub(crate) input: Vec<u8>,
}

impl ReadScratch {
    /// Bytes it holds: what the connection using it is charged.
    pub(crate) fn memory(&self) -> usize {
        self.inflater.memory() + INPUT_CHUNK
    }
}

/// What a message is compressed with: a compressor and the buffer for its output.
#[derive(Debug)]
pub(crate) struct WriteScratch {
    pub(crate) compressor: Compressor,
    pub(crate) out: Vec<u8>,
}

impl WriteScratch {
    /// Bytes it holds beside an output of up to `retained` bytes.
    pub(crate) fn memory(&self, retained: usize) -> usize {
        self.compressor.memory() + retained
    }
}

/// Boxed, as a connection holds what it borrows: a box moves in and out of the stock
/// without copying or allocating.
#[allow(clippy::vec_box)]
static READERS: Mutex<Vec<Box<ReadScratch>>> = Mutex::new(Vec::new());
static MESSAGES: Mutex<Vec<Vec<u8>>> = Mutex::new(Vec::new());
/// Boxed, as [`READERS`].
#[allow(clippy::vec_box)]
static WRITERS: Mutex<Vec<Box<WriteScratch>>> = Mutex::new(Vec::new());

fn lock<T>(stock: &Mutex<Vec<T>>) -> MutexGuard<'_, Vec<T>> {
    stock
        .lock()
        .unwrap_or_else(|poisoned| poisoned.into_inner())
}

/// Keeps `piece` for the next message, or frees it if enough are kept.
fn give<T>(stock: &Mutex<Vec<T>>, piece: T) {
    let mut idle = lock(stock);
    if idle.len() < IDLE_KEPT {
        idle.push(piece);
    }
}

/// An inflater and input buffer, from the stock or new.
pub(crate) fn take_reader() -> Box<ReadScratch> {
    let idle = lock(&READERS).pop();
    idle.unwrap_or_else(new_reader)
}

/// A new inflater, out of line: every page of stack a connection's thread touches
/// stays in its memory for as long as the thread lives, so the first message's
/// building (the inflater's tables go straight to the heap, [`Inflater::new`]) is
/// kept out of the frame of every later message.
#[cold]
#[inline(never)]
fn new_reader() -> Box<ReadScratch> {
    Box::new(ReadScratch {
        inflater: Inflater::new(15, true),
        input: Vec::with_capacity(INPUT_CHUNK),
    })
}

/// Gives an inflater and input buffer back.
pub(crate) fn give_reader(piece: Box<ReadScratch>) {
    give(&READERS, piece);
}

/// A compressor with a window of `window_bits`, from the stock or new.
pub(crate) fn take_writer(window_bits: u8) -> Box<WriteScratch> {
    let mut idle = lock(&WRITERS);
    match idle
        .iter()
        .position(|w| w.compressor.window_bits() == window_bits)
    {
        Some(at) => idle.swap_remove(at),
        None => {
            drop(idle);
            new_writer(window_bits)
        }
    }
}

/// A new compressor, out of line, as [`new_reader`].
#[cold]
#[inline(never)]
fn new_writer(window_bits: u8) -> Box<WriteScratch> {
    Box::new(WriteScratch {
        compressor: Compressor::new(window_bits, true),
        out: Vec::new(),
    })
}

/// Gives a compressor and its output buffer back.
pub(crate) fn give_writer(piece: Box<WriteScratch>) {
    give(&WRITERS, piece);
}

/// Records of a direction's state ([`super::kept`]), for connections that keep none
/// between messages. Boxed as the connections hold them, so that one moves in and out
/// of the stock without allocating.
#[allow(clippy::vec_box)]
static DECOMPRESSIONS: Mutex<Vec<Box<Decompression>>> = Mutex::new(Vec::new());
#[allow(clippy::vec_box)]
static COMPRESSIONS: Mutex<Vec<Box<Compression>>> = Mutex::new(Vec::new());

/// A box from `stock` holding `fresh`, or a new one: a record moves in and out of a
/// stock without allocating once the stock holds one.
fn take_record<T>(stock: &Mutex<Vec<Box<T>>>, fresh: T) -> Box<T> {
    match lock(stock).pop() {
        Some(mut record) => {
            *record = fresh;
            record
        }
        None => Box::new(fresh),
    }
}

/// A record for reading one message from a peer compressing as `direction`.
pub(crate) fn take_decompression(direction: Direction) -> Box<Decompression> {
    take_record(&DECOMPRESSIONS, Decompression::new(direction))
}

/// Gives a reading record back, its message done.
pub(crate) fn give_decompression(record: Box<Decompression>) {
    give(&DECOMPRESSIONS, record);
}

/// A record for sending one message compressed as `direction`.
pub(crate) fn take_compression(direction: Direction) -> Box<Compression> {
    take_record(&COMPRESSIONS, Compression::new(direction))
}

/// Gives a sending record back, its message sent.
pub(crate) fn give_compression(record: Box<Compression>) {
    give(&COMPRESSIONS, record);
}

/// The largest message buffer kept in the stock.
pub const KEPT_MESSAGE_BUFFER: usize = 64 * 1024;

/// A buffer for an inflated message (empty, with some capacity when one is in stock):
/// a connection that keeps no DEFLATE state between messages would otherwise keep
/// the buffer of its last message, or leave it, freed, in its thread's malloc cache.
pub(crate) fn take_message_buffer() -> Vec<u8> {
    lock(&MESSAGES).pop().unwrap_or_default()
}

/// Gives an inflated message's buffer back (emptied), or frees it if it is large.
pub(crate) fn give_message_buffer(mut buffer: Vec<u8>) {
    if buffer.capacity() <= KEPT_MESSAGE_BUFFER {
        buffer.clear();
        give(&MESSAGES, buffer);
    }
}

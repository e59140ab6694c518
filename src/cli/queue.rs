//! A bounded queue between two threads, as broadcast mode needs one for each room
//! member: the room only ever *tries* to add (a full queue means the member reads too
//! slowly), and the member's writer thread waits to take. It is bounded twice: in
//! items, and in the bytes they hold (the sizes the offering side gives), so a few
//! huge messages cannot pile up gigabytes behind one slow reader.
//!
//! Each side holds an [`End`]; dropping either end closes the queue. The taker then
//! gets what is still queued and then `None`, and every later offer is refused. That
//! is what the standard library's `sync_channel` does; this is a `VecDeque` under a
//! lock with a condition variable, because the channel would bring its whole
//! machinery into the binary for this one use.

use std::collections::VecDeque;
use std::sync::{Arc, Condvar, Mutex, MutexGuard};

/// The queue both ends share.
#[derive(Debug)]
pub struct Queue<T> {
    state: Mutex<State<T>>,
    changed: Condvar,
    capacity: usize,
    max_bytes: usize,
}

#[derive(Debug)]
struct State<T> {
    /// Each item with the size it was offered with.
    items: VecDeque<(T, usize)>,
    /// The sizes of the items waiting, added up.
    bytes: usize,
    closed: bool,
}

/// What became of an offered item.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Offer {
    /// It waits in the queue.
    Queued,
    /// The queue holds `capacity` items already, or the item would take it past its
    /// bytes; the item was not added.
    Full,
    /// The other end is gone; the item was not added.
    Closed,
}

/// One end of a [`Queue`]; dropping it closes the queue.
#[derive(Debug)]
pub struct End<T>(Arc<Queue<T>>);

/// An empty queue for at most `capacity` items (at least one) holding at most
/// `max_bytes` together (an empty queue takes any one item, however large), and its
/// two ends: the one that offers and the one that takes.
pub fn bounded<T>(capacity: usize, max_bytes: usize) -> (End<T>, End<T>) {
    let queue = Arc::new(Queue {
        state: Mutex::new(State {
            items: VecDeque::new(),
            bytes: 0,
            closed: false,
        }),
        changed: Condvar::new(),
        capacity: capacity.max(1),
        max_bytes,
    });
    (End(queue.clone()), End(queue))
}

impl<T> Queue<T> {
    fn lock(&self) -> MutexGuard<'_, State<T>> {
        // No code runs under this lock that could panic half-way through a change.
        self.state.lock().unwrap_or_else(|p| p.into_inner())
    }
}

impl<T> End<T> {
    /// Adds `item`, which holds `bytes`, unless the queue is full or closed; never
    /// waits.
    pub fn offer(&self, item: T, bytes: usize) -> Offer {
        let mut state = self.0.lock();
        if state.closed {
            return Offer::Closed;
        }
        let too_many_bytes = !state.items.is_empty() && state.bytes + bytes > self.0.max_bytes;
        if state.items.len() >= self.0.capacity || too_many_bytes {
            return Offer::Full;
        }
        state.items.push_back((item, bytes));
        state.bytes += bytes;
        drop(state);
        self.0.changed.notify_one();
        Offer::Queued
    }

    /// Drops every item waiting, at once: what an overflowed member will never be sent
    /// should not hold memory while its writer is still blocked on its socket.
    pub fn clear(&self) {
        let mut state = self.0.lock();
        state.bytes = 0;
        let items = std::mem::take(&mut state.items);
        drop(state);
        drop(items);
    }

    /// The oldest item, waiting for one; `None` once the queue is closed and empty.
    pub fn take(&self) -> Option<T> {
        let state = self.0.lock();
        let mut state = self
            .0
            .changed
            .wait_while(state, |s| s.items.is_empty() && !s.closed)
            .unwrap_or_else(|p| p.into_inner());
        let (item, bytes) = state.items.pop_front()?;
        state.bytes -= bytes;
        Some(item)
    }
}

impl<T> Drop for End<T> {
    fn drop(&mut self) {
        self.0.lock().closed = true;
        self.0.changed.notify_all();
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::thread;

    #[test]
    fn bounded_and_in_order() {
        let (tx, rx) = bounded(2, 100);
        assert_eq!(tx.offer(1, 1), Offer::Queued);
        assert_eq!(tx.offer(2, 1), Offer::Queued);
        assert_eq!(tx.offer(3, 1), Offer::Full);
        assert_eq!(rx.take(), Some(1));
        assert_eq!(tx.offer(3, 1), Offer::Queued);
        assert_eq!((rx.take(), rx.take()), (Some(2), Some(3)));
    }

    #[test]
    fn bounded_in_bytes_but_one_item_always_fits() {
        let (tx, rx) = bounded(10, 100);
        assert_eq!(
            tx.offer("huge", 500),
            Offer::Queued,
            "an empty queue takes it"
        );
        assert_eq!(tx.offer("small", 1), Offer::Full);
        assert_eq!(rx.take(), Some("huge"));
        assert_eq!(tx.offer("a", 60), Offer::Queued);
        assert_eq!(tx.offer("b", 40), Offer::Queued);
        assert_eq!(tx.offer("c", 1), Offer::Full, "100 bytes are waiting");
        assert_eq!(rx.take(), Some("a"));
        assert_eq!(
            tx.offer("c", 60),
            Offer::Queued,
            "taking gave the bytes back"
        );
        tx.clear();
        assert_eq!(
            tx.offer("d", 100),
            Offer::Queued,
            "clearing gave them all back"
        );
        drop(tx);
        assert_eq!((rx.take(), rx.take()), (Some("d"), None));
    }

    #[test]
    fn closing_either_end() {
        let (tx, rx) = bounded(4, 100);
        assert_eq!(tx.offer("last", 1), Offer::Queued);
        let taker = thread::spawn(move || (rx.take(), rx.take()));
        drop(tx);
        assert_eq!(taker.join().unwrap(), (Some("last"), None));

        let (tx, rx) = bounded(4, 100);
        drop(rx);
        assert_eq!(tx.offer(1, 1), Offer::Closed);
    }
}

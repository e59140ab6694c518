//! A bounded queue between two threads, as broadcast mode needs one for each room
//! member: the room only ever *tries* to add (a full queue means the member reads too
//! slowly), and the member's writer thread waits to take.
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
}

#[derive(Debug)]
struct State<T> {
    items: VecDeque<T>,
    closed: bool,
}

/// What became of an offered item.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Offer {
    /// It waits in the queue.
    Queued,
    /// The queue holds `capacity` items already; the item was not added.
    Full,
    /// The other end is gone; the item was not added.
    Closed,
}

/// One end of a [`Queue`]; dropping it closes the queue.
#[derive(Debug)]
pub struct End<T>(Arc<Queue<T>>);

/// An empty queue for at most `capacity` items (at least one), and its two ends: the
/// one that offers and the one that takes.
pub fn bounded<T>(capacity: usize) -> (End<T>, End<T>) {
    let queue = Arc::new(Queue {
        state: Mutex::new(State {
            items: VecDeque::new(),
            closed: false,
        }),
        changed: Condvar::new(),
        capacity: capacity.max(1),
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
    /// Adds `item` unless the queue is full or closed; never waits.
    pub fn offer(&self, item: T) -> Offer {
        let mut state = self.0.lock();
        if state.closed {
            return Offer::Closed;
        }
        if state.items.len() >= self.0.capacity {
            return Offer::Full;
        }
        state.items.push_back(item);
        drop(state);
        self.0.changed.notify_one();
        Offer::Queued
    }

    /// The oldest item, waiting for one; `None` once the queue is closed and empty.
    pub fn take(&self) -> Option<T> {
        let state = self.0.lock();
        let mut state = self
            .0
            .changed
            .wait_while(state, |s| s.items.is_empty() && !s.closed)
            .unwrap_or_else(|p| p.into_inner());
        state.items.pop_front()
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
        let (tx, rx) = bounded(2);
        assert_eq!(tx.offer(1), Offer::Queued);
        assert_eq!(tx.offer(2), Offer::Queued);
        assert_eq!(tx.offer(3), Offer::Full);
        assert_eq!(rx.take(), Some(1));
        assert_eq!(tx.offer(3), Offer::Queued);
        assert_eq!((rx.take(), rx.take()), (Some(2), Some(3)));
    }

    #[test]
    fn closing_either_end() {
        let (tx, rx) = bounded(4);
        assert_eq!(tx.offer("last"), Offer::Queued);
        let taker = thread::spawn(move || (rx.take(), rx.take()));
        drop(tx);
        assert_eq!(taker.join().unwrap(), (Some("last"), None));

        let (tx, rx) = bounded(4);
        drop(rx);
        assert_eq!(tx.offer(1), Offer::Closed);
    }
}

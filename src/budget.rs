//! The memory budget: one pool of bytes for everything the server holds on behalf of
//! its peers beyond each connection's small allowance (messages still arriving, the
//! echo's stalled relay, broadcast queues).
//!
//! Without it, every limit is per connection: 64 MiB per message on each of 16,384
//! connections is a terabyte, and forty clients that each send most of a large message
//! and never finish it are enough to have a small host's kernel kill the process, and
//! every connection with it. With it, a connection that needs more than is free
//! *waits without reading*: its peer's sends then stall in TCP flow control, which
//! costs nothing. If nothing is given back within a time limit, or if every byte in
//! use is held by connections that are themselves waiting (so nothing can ever be
//! given back), the request is refused and the connection is closed with 1013 (Try
//! Again Later, RFC 6455 §7.4.1 as registered with IANA): one connection loses, never
//! the process.
//!
//! Each connection draws through an [`Account`], which knows how much it holds, so
//! that whatever a connection still holds when it ends goes back to the pool.
//!
//! A large message's buffer is not kept by its connection once the message has been
//! delivered (an idle connection holds nothing of the pool), nor freed: it waits as a
//! *spare* for the next large message, on any connection ([`Share::spare`]). A
//! stream of 1 MiB messages so reuses a few buffers instead of asking the system for
//! fresh, zeroed pages each time. Spares are counted in the budget like everything
//! else, and are the first thing freed when someone needs the room.
//!
//! ```
//! use stdws::budget::{Budget, Refusal};
//! use std::time::Duration;
//! let budget = Budget::new(1000);
//! let (a, b) = (budget.account(), budget.account());
//! a.reserve(600, Duration::ZERO)?;
//! // B would have to wait for A, and A is not waiting for anything: B times out.
//! assert_eq!(b.reserve(600, Duration::from_millis(10)), Err(Refusal::TimedOut));
//! drop(a); // A's connection ends; what it held goes back.
//! b.reserve(600, Duration::ZERO)?;
//! assert_eq!(budget.used(), 600);
//! # Ok::<(), Refusal>(())
//! ```

use std::fmt;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Condvar, Mutex, MutexGuard};
use std::time::{Duration, Instant};

/// A pool of bytes shared by every connection of a server.
#[derive(Debug)]
pub struct Budget {
    limit: usize,
    state: Mutex<State>,
    freed: Condvar,
}

#[derive(Debug, Default)]
struct State {
    /// Bytes held by all accounts together, and by the spares.
    used: usize,
    /// Bytes held by accounts that have a thread waiting for more. When these are
    /// all the bytes in use, nothing can be given back: waiting is pointless.
    held_by_waiters: usize,
    /// Buffers of finished large messages, kept for the next ones.
    spares: Vec<Vec<u8>>,
}

/// Most spare buffers kept; a larger one than [`SPARE_MAX_LEN`] is freed instead.
const SPARES: usize = 8;

/// The largest buffer kept as a spare.
pub const SPARE_MAX_LEN: usize = 2 << 20;

impl State {
    fn spare_bytes(&self) -> usize {
        self.spares.iter().map(Vec::len).sum()
    }

    /// Frees spares until `bytes` more fit under `limit` (or none are left); whether
    /// they fit.
    fn make_room(&mut self, bytes: usize, limit: usize) -> bool {
        while self.used + bytes > limit {
            let Some(spare) = self.spares.pop() else {
                return false;
            };
            self.used -= spare.len();
        }
        true
    }
}

/// Why a reservation was refused: the connection should close with 1013.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Refusal {
    /// More than the whole budget was asked for.
    TooLarge,
    /// Nothing was given back within the time limit.
    TimedOut,
    /// Every byte in use is held by a connection that is itself waiting for more.
    Deadlock,
}

impl fmt::Display for Refusal {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            Refusal::TooLarge => "more than the whole memory budget was needed",
            Refusal::TimedOut => "the memory budget stayed full for the time limit",
            Refusal::Deadlock => "the memory budget is held by connections that all wait",
        })
    }
}

impl std::error::Error for Refusal {}

impl Budget {
    /// A pool of `limit` bytes.
    pub fn new(limit: usize) -> Arc<Budget> {
        Arc::new(Budget {
            limit,
            state: Mutex::new(State::default()),
            freed: Condvar::new(),
        })
    }

    /// The size of the pool.
    pub fn limit(&self) -> usize {
        self.limit
    }

    /// Bytes held now by all accounts together (spare buffers not included).
    pub fn used(&self) -> usize {
        let state = self.lock();
        state.used - state.spare_bytes()
    }

    /// Bytes kept in spare buffers for the next large messages.
    pub fn spare_bytes(&self) -> usize {
        self.lock().spare_bytes()
    }

    /// A new account, holding nothing yet: one per connection (or per shared queue).
    pub fn account(self: &Arc<Budget>) -> Account {
        Account(Arc::new(AccountState {
            budget: self.clone(),
            held: AtomicUsize::new(0),
            waiting: AtomicUsize::new(0),
        }))
    }

    fn lock(&self) -> MutexGuard<'_, State> {
        // Nothing under this lock can panic half-way through a change.
        self.state.lock().unwrap_or_else(|p| p.into_inner())
    }
}

/// One connection's share of a [`Budget`]. Cheap to clone: the clones are the same
/// account (a connection's reader and writer threads both draw on it). When the last
/// clone is dropped, whatever it still holds goes back to the pool.
#[derive(Debug, Clone)]
pub struct Account(Arc<AccountState>);

/// The counters are changed only under the budget's lock; atomics make them
/// readable without it.
#[derive(Debug)]
struct AccountState {
    budget: Arc<Budget>,
    held: AtomicUsize,
    /// Threads waiting in [`Account::reserve`] on this account.
    waiting: AtomicUsize,
}

impl Account {
    /// Takes `bytes` from the pool, waiting at most `patience` for them to be free.
    /// Refused at once if `bytes` is more than the whole pool, or if waiting could
    /// not help: every byte in use is held by accounts that are waiting too.
    pub fn reserve(&self, bytes: usize, patience: Duration) -> Result<(), Refusal> {
        if bytes == 0 {
            return Ok(());
        }
        let budget = &self.0.budget;
        if bytes > budget.limit {
            return Err(Refusal::TooLarge);
        }
        let mut state = budget.lock();
        if state.make_room(bytes, budget.limit) {
            self.take(&mut state, bytes);
            return Ok(());
        }
        let deadline = Instant::now() + patience;
        self.start_waiting(&mut state);
        let outcome = loop {
            if state.make_room(bytes, budget.limit) {
                break Ok(());
            }
            if state.held_by_waiters == state.used {
                break Err(Refusal::Deadlock);
            }
            let left = deadline.saturating_duration_since(Instant::now());
            if left.is_zero() {
                break Err(Refusal::TimedOut);
            }
            state = budget
                .freed
                .wait_timeout(state, left)
                .unwrap_or_else(|p| p.into_inner())
                .0;
        };
        self.stop_waiting(&mut state);
        if outcome.is_ok() {
            self.take(&mut state, bytes);
        }
        outcome
    }

    /// Gives `bytes` back to the pool (at most what the account holds).
    pub fn release(&self, bytes: usize) {
        if bytes == 0 {
            return;
        }
        let budget = &self.0.budget;
        let mut state = budget.lock();
        let bytes = bytes.min(self.held());
        self.0.held.fetch_sub(bytes, Ordering::Relaxed);
        state.used -= bytes;
        if self.waiting() > 0 {
            state.held_by_waiters -= bytes;
        }
        drop(state);
        budget.freed.notify_all();
    }

    /// Bytes this account holds now.
    pub fn held(&self) -> usize {
        self.0.held.load(Ordering::Relaxed)
    }

    /// The pool this account draws on.
    pub fn budget(&self) -> &Arc<Budget> {
        &self.0.budget
    }

    fn waiting(&self) -> usize {
        self.0.waiting.load(Ordering::Relaxed)
    }

    fn take(&self, state: &mut State, bytes: usize) {
        self.0.held.fetch_add(bytes, Ordering::Relaxed);
        state.used += bytes;
        if self.waiting() > 0 {
            state.held_by_waiters += bytes;
        }
    }

    fn start_waiting(&self, state: &mut State) {
        if self.0.waiting.fetch_add(1, Ordering::Relaxed) == 0 {
            state.held_by_waiters += self.held();
        }
    }

    fn stop_waiting(&self, state: &mut State) {
        if self.0.waiting.fetch_sub(1, Ordering::Relaxed) == 1 {
            state.held_by_waiters -= self.held();
        }
    }
}

impl Drop for AccountState {
    fn drop(&mut self) {
        let held = *self.held.get_mut();
        if held > 0 {
            self.budget.lock().used -= held;
            self.budget.freed.notify_all();
        }
    }
}

/// A connection's draw on the pool for one of its buffers: the first `allowance`
/// bytes are its own, so ordinary short messages never touch the pool; only growth
/// beyond them is drawn, waiting at most `patience`.
#[derive(Debug, Clone)]
pub struct Share {
    /// The connection's account.
    pub account: Account,
    /// Bytes of the buffer that are the connection's own, outside the pool.
    pub allowance: usize,
    /// How long a growing buffer may wait for the pool.
    pub patience: Duration,
}

impl Share {
    /// Draws what a buffer needs to grow from `from` to `to` bytes.
    pub fn grow(&self, from: usize, to: usize) -> Result<(), Refusal> {
        let needed = self.beyond_allowance(to) - self.beyond_allowance(from.min(to));
        self.account.reserve(needed, self.patience)
    }

    /// Gives back what a buffer shrinking from `from` to `to` bytes no longer needs.
    pub fn shrink(&self, from: usize, to: usize) {
        let freed = self.beyond_allowance(from) - self.beyond_allowance(to.min(from));
        self.account.release(freed);
    }

    /// A spare buffer for a message about to grow beyond the allowance to `len`
    /// bytes, if one is kept and the budget covers it: already allocated and
    /// initialised, so it needs neither fresh pages nor zeroing. Its length is its
    /// size, at least `len`; what it holds beyond the allowance is now this
    /// connection's.
    pub fn spare(&self, len: usize) -> Option<Vec<u8>> {
        let budget = self.account.budget();
        let mut state = budget.lock();
        let at = state.spares.iter().position(|s| s.len() >= len)?;
        let spare = state.spares.swap_remove(at);
        // The pool held all of it; the connection holds what is beyond its allowance.
        state.used -= spare.len();
        let drawn = self.beyond_allowance(spare.len());
        self.account.take(&mut state, drawn);
        Some(spare)
    }

    /// Takes back a finished message's buffer (of its full length, which the account
    /// held beyond the allowance): kept as a spare if there is room, freed otherwise.
    pub fn keep_spare(&self, buffer: Vec<u8>) {
        let budget = self.account.budget();
        let held = self.beyond_allowance(buffer.len());
        let mut state = budget.lock();
        let bytes = held.min(self.account.held());
        self.account.0.held.fetch_sub(bytes, Ordering::Relaxed);
        state.used -= bytes;
        if self.account.waiting() > 0 {
            state.held_by_waiters -= bytes;
        }
        let keep = state.spares.len() < SPARES
            && buffer.len() <= SPARE_MAX_LEN
            && state.used + buffer.len() <= budget.limit;
        if keep {
            state.used += buffer.len();
            state.spares.push(buffer);
        }
        drop(state);
        budget.freed.notify_all();
    }

    fn beyond_allowance(&self, bytes: usize) -> usize {
        bytes.saturating_sub(self.allowance)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::thread;

    #[test]
    fn a_waiter_gets_what_another_gives_back() {
        let budget = Budget::new(100);
        let (a, b) = (budget.account(), budget.account());
        a.reserve(80, Duration::ZERO).unwrap();
        let waiter = thread::spawn(move || {
            let got = b.reserve(50, Duration::from_secs(20));
            (got, b)
        });
        // The waiter cannot have it until A gives some back.
        thread::sleep(Duration::from_millis(50));
        assert_eq!(budget.used(), 80);
        a.release(40);
        let (got, b) = waiter.join().unwrap();
        assert_eq!((got, b.held()), (Ok(()), 50));
        assert_eq!(budget.used(), 90);
        drop(b);
        assert_eq!(
            budget.used(),
            40,
            "a connection's end gives back what it held"
        );
    }

    #[test]
    fn when_every_holder_waits_the_last_one_in_is_refused_at_once() {
        let budget = Budget::new(100);
        let (a, b) = (budget.account(), budget.account());
        a.reserve(50, Duration::ZERO).unwrap();
        b.reserve(50, Duration::ZERO).unwrap();
        let a_waits = {
            let a = a.clone();
            thread::spawn(move || a.reserve(10, Duration::from_secs(20)))
        };
        // Wait until A is seen waiting, then B asks too: nothing can ever be freed.
        while budget.lock().held_by_waiters != 50 {
            thread::sleep(Duration::from_millis(1));
        }
        let started = Instant::now();
        assert_eq!(
            b.reserve(10, Duration::from_secs(20)),
            Err(Refusal::Deadlock)
        );
        assert!(started.elapsed() < Duration::from_secs(5));
        // B's connection closes (1013), its bytes go back, and A gets its share.
        drop(b);
        assert_eq!(a_waits.join().unwrap(), Ok(()));
        assert_eq!((a.held(), budget.used()), (60, 60));
    }

    #[test]
    fn a_finished_buffer_is_kept_as_a_spare_and_freed_when_room_is_needed() {
        let budget = Budget::new(1000);
        let share = |account| Share {
            account,
            allowance: 100,
            patience: Duration::ZERO,
        };
        let (a, b) = (share(budget.account()), share(budget.account()));
        a.grow(0, 400).unwrap();
        assert_eq!(a.account.held(), 300, "beyond the allowance");
        a.keep_spare(vec![7; 400]);
        assert_eq!(
            (a.account.held(), budget.used(), budget.spare_bytes()),
            (0, 0, 400)
        );
        // B reuses it, bytes and all, and holds what is beyond its allowance.
        let spare = b.spare(300).expect("a spare of 400 bytes");
        assert_eq!((spare.len(), spare[0]), (400, 7));
        assert_eq!((b.account.held(), budget.spare_bytes()), (300, 0));
        b.keep_spare(spare);
        // A needs 900: the spare is freed to make room, without waiting.
        a.grow(0, 1000).unwrap();
        assert_eq!(
            (a.account.held(), budget.used(), budget.spare_bytes()),
            (900, 900, 0)
        );
    }

    #[test]
    fn too_large_and_timed_out() {
        let budget = Budget::new(100);
        let a = budget.account();
        assert_eq!(a.reserve(101, Duration::ZERO), Err(Refusal::TooLarge));
        a.reserve(100, Duration::ZERO).unwrap();
        // A non-waiting holder (another account) holds it all: B waits, then gives up.
        let b = budget.account();
        let started = Instant::now();
        assert_eq!(
            b.reserve(1, Duration::from_millis(30)),
            Err(Refusal::TimedOut)
        );
        assert!(started.elapsed() >= Duration::from_millis(30));
        a.release(1000);
        assert_eq!((a.held(), budget.used()), (0, 0));
    }
}

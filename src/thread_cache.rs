//! Connection threads that wait a little after their connection ends, so the next
//! connection can run on them instead of on a new thread.
//!
//! The model stays one OS thread per connection: a cached thread serves exactly one
//! connection at a time. What the cache saves is the cost of creating and ending a
//! thread, which dominates a short connection: `clone`, the guard page, the signal
//! stack the standard library maps for each thread (and unmaps at its end, which
//! makes the kernel interrupt every other core to flush their page tables), and
//! the wake-up of a brand-new task. Handing a connection to a waiting thread costs
//! one lock and one wake-up.
//!
//! One consequence for handlers: a `thread_local!` value set while serving one
//! connection is still there when the same thread serves the next.

use std::collections::VecDeque;
use std::io;
use std::sync::{Arc, Condvar, Mutex, MutexGuard};
use std::thread;
use std::time::Duration;

/// Work for one connection thread.
type Job = Box<dyn FnOnce() + Send>;

/// At most this many threads wait for work; a thread finding this many already
/// waiting ends instead. Enough to absorb a burst of short connections, small enough
/// that the memory their stacks have touched stays modest after a burst.
const MAX_IDLE: usize = 64;

/// A waiting thread ends after this long without work, so a server that goes quiet
/// is back to one thread per open connection within this time.
const IDLE_LIFETIME: Duration = Duration::from_secs(2);

/// Starts jobs on waiting threads when there are any, on new threads otherwise.
#[derive(Debug)]
pub(crate) struct ThreadCache {
    stack_size: usize,
    queue: Arc<Queue>,
}

#[derive(Debug, Default)]
struct Queue {
    state: Mutex<State>,
    work: Condvar,
}

#[derive(Default)]
struct State {
    jobs: VecDeque<Job>,
    /// Threads blocked in [`Queue::next_job`], waiting for work.
    idle: usize,
}

impl std::fmt::Debug for State {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("State")
            .field("jobs", &self.jobs.len())
            .field("idle", &self.idle)
            .finish()
    }
}

impl ThreadCache {
    /// A cache whose new threads get `stack_size` bytes of stack.
    pub(crate) fn new(stack_size: usize) -> ThreadCache {
        ThreadCache {
            stack_size,
            queue: Arc::new(Queue::default()),
        }
    }

    /// Runs `job` on a waiting thread, or on a new one if none is free.
    pub(crate) fn spawn(&self, job: impl FnOnce() + Send + 'static) -> io::Result<()> {
        let mut state = self.queue.lock();
        if state.idle > state.jobs.len() {
            state.jobs.push_back(Box::new(job));
            drop(state);
            self.queue.work.notify_one();
            return Ok(());
        }
        drop(state);
        let queue = self.queue.clone();
        // Boxed, as `Server::spawn` boxes its thread: `Builder::spawn` is generic over
        // its closure, and every closure type would compile std's thread start-up
        // into the binary once more (`cli::spawn_named` in the binary says the same).
        let run: Job = Box::new(move || {
            job();
            while let Some(next) = queue.next_job() {
                next();
            }
        });
        thread::Builder::new()
            .stack_size(self.stack_size)
            .spawn(run)
            .map(drop)
    }
}

impl Queue {
    fn lock(&self) -> MutexGuard<'_, State> {
        // Jobs run outside the lock, so a poisoned lock only means a panic between
        // two lines of bookkeeping; the state is still consistent.
        self.state.lock().unwrap_or_else(|p| p.into_inner())
    }

    /// Waits for the next job; `None` when this thread should end.
    fn next_job(&self) -> Option<Job> {
        let mut state = self.lock();
        if state.idle >= MAX_IDLE {
            return None;
        }
        state.idle += 1;
        let (mut state, _) = self
            .work
            .wait_timeout_while(state, IDLE_LIFETIME, |s| s.jobs.is_empty())
            .unwrap_or_else(|p| p.into_inner());
        state.idle -= 1;
        state.jobs.pop_front()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::collections::HashSet;
    use std::sync::mpsc;

    #[test]
    fn a_finished_thread_runs_the_next_job() {
        let cache = ThreadCache::new(64 * 1024);
        let (tx, rx) = mpsc::channel();
        let mut threads = HashSet::new();
        for i in 0..20 {
            let tx = tx.clone();
            cache
                .spawn(move || tx.send((i, thread::current().id())).unwrap())
                .unwrap();
            let (got, id) = rx.recv().unwrap();
            assert_eq!(got, i);
            threads.insert(id);
            // Wait until the thread is back in the cache before handing out more work.
            while cache.queue.lock().idle == 0 {
                thread::yield_now();
            }
        }
        assert_eq!(threads.len(), 1);
    }

    #[test]
    fn busy_threads_are_not_waited_for() {
        let cache = ThreadCache::new(64 * 1024);
        let (release_tx, release_rx) = mpsc::channel::<()>();
        let (done_tx, done_rx) = mpsc::channel();
        cache
            .spawn(move || {
                let _ = release_rx.recv();
            })
            .unwrap();
        // The first job is still blocked, so this one needs a thread of its own.
        cache.spawn(move || done_tx.send(()).unwrap()).unwrap();
        done_rx.recv().unwrap();
        drop(release_tx);
    }
}

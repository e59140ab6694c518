//! Randomness without a crate: the client's nonce (RFC 6455 §4.1) and masking keys
//! (§5.3) come from the standard library's `RandomState`.
//!
//! `RandomState::new()` draws its SipHash keys from the operating system's random
//! source (once per thread, then incremented per instance). Hashing a counter through
//! keyed SipHash-1-3 gives values an observer cannot predict without the keys: enough
//! for masking, whose purpose is to stop a script from choosing the bytes a proxy
//! sees (§10.3), and for the handshake nonce. It is not a general-purpose CSPRNG.

use std::collections::hash_map::RandomState;
use std::hash::BuildHasher;

/// A stream of unpredictable 64-bit values.
#[derive(Debug)]
pub struct Random {
    keys: RandomState,
    counter: u64,
}

impl Default for Random {
    fn default() -> Random {
        Random::new()
    }
}

impl Random {
    /// A new generator with fresh keys from the OS.
    pub fn new() -> Random {
        Random {
            keys: RandomState::new(),
            counter: 0,
        }
    }

    /// The next value.
    pub fn next_u64(&mut self) -> u64 {
        self.counter = self.counter.wrapping_add(1);
        self.keys.hash_one(self.counter)
    }

    /// A masking key for one frame.
    pub fn mask(&mut self) -> [u8; 4] {
        let v = self.next_u64().to_le_bytes();
        [v[0], v[1], v[2], v[3]]
    }

    /// 16 random bytes: the nonce behind `Sec-WebSocket-Key`.
    pub fn nonce(&mut self) -> [u8; 16] {
        let mut out = [0u8; 16];
        out[..8].copy_from_slice(&self.next_u64().to_le_bytes());
        out[8..].copy_from_slice(&self.next_u64().to_le_bytes());
        out
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn consecutive_nonces_and_generators_differ() {
        let mut a = Random::new();
        let mut b = Random::new();
        let (x, y, z) = (a.nonce(), a.nonce(), b.nonce());
        assert_ne!(x, y);
        assert_ne!(x, z);
    }
}

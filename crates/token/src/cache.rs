//! [`VerifiedCache`]: skip signature verification for tokens seen recently.
//!
//! Entries are keyed by the SHA-256 of the token, so the cache never holds a token. Every hit
//! re-checks the principal's expiry (plus the issuer's leeway, recorded at insert), so a cached
//! token stops working exactly when an uncached one would. The cache is sharded: each shard is a
//! `Mutex` held only for a map operation, so there is no global lock on the request path.
//!
//! Clear the cache (or build a new one) when the issuer configuration changes; a principal
//! verified under the old configuration otherwise stays valid until it expires.

use std::collections::{HashMap, VecDeque};
use std::fmt;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex, MutexGuard};

use sha2::{Digest, Sha256};

use crate::principal::Principal;

/// Maximum number of shards; fewer when the capacity is small.
const SHARDS: usize = 16;

type Key = [u8; 32];

struct Entry {
    principal: Arc<Principal>,
    /// Accepted while `now < valid_until` (expiry plus leeway).
    valid_until: u64,
    /// Insertion sequence number, to recognise stale eviction-queue slots.
    seq: u64,
}

#[derive(Default)]
struct Shard {
    map: HashMap<Key, Entry>,
    /// Insertion order for FIFO eviction; may hold stale `(key, seq)` pairs, skipped on pop.
    order: VecDeque<(Key, u64)>,
    next_seq: u64,
    capacity: usize,
}

impl Shard {
    fn clear(&mut self) {
        self.map.clear();
        self.order.clear();
    }

    fn evict_one(&mut self) {
        while let Some((key, seq)) = self.order.pop_front() {
            if self.map.get(&key).is_some_and(|e| e.seq == seq) {
                self.map.remove(&key);
                return;
            }
        }
    }

    fn insert(&mut self, key: Key, principal: Arc<Principal>, valid_until: u64) {
        if self.capacity == 0 {
            return;
        }
        let seq = self.next_seq;
        self.next_seq = self.next_seq.wrapping_add(1);
        if !self.map.contains_key(&key) {
            while self.map.len() >= self.capacity {
                let before = self.map.len();
                self.evict_one();
                if self.map.len() == before {
                    // Queue exhausted without finding a live entry: cannot happen when the
                    // queue is maintained, but never loop forever.
                    break;
                }
            }
        }
        self.map.insert(
            key,
            Entry {
                principal,
                valid_until,
                seq,
            },
        );
        self.order.push_back((key, seq));
        // Stale slots (replaced or expired entries) accumulate; compact when they dominate.
        if self.order.len() > 2 * self.capacity + 16 {
            let map = &self.map;
            self.order
                .retain(|(k, s)| map.get(k).is_some_and(|e| e.seq == *s));
        }
    }
}

/// A bounded, concurrent cache of verified principals keyed by the token's SHA-256.
///
/// Evicts in insertion order when a shard is full; expired entries are dropped when looked up.
/// A poisoned shard (a panic elsewhere while it was locked) is emptied and reused, never
/// propagated.
pub struct VerifiedCache {
    shards: Box<[Mutex<Shard>]>,
    capacity: usize,
    hits: AtomicU64,
    misses: AtomicU64,
}

impl fmt::Debug for VerifiedCache {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("VerifiedCache")
            .field("capacity", &self.capacity)
            .field("shards", &self.shards.len())
            .field("stats", &self.stats())
            .finish()
    }
}

/// Counters of a [`VerifiedCache`].
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct CacheStats {
    /// Lookups that returned a principal.
    pub hits: u64,
    /// Lookups that found nothing or an expired entry.
    pub misses: u64,
    /// Entries currently held (expired ones included until looked up or evicted).
    pub entries: usize,
}

impl VerifiedCache {
    /// A cache holding at most `capacity` principals. Capacity 0 disables caching.
    pub fn new(capacity: usize) -> Self {
        let shard_count = capacity.clamp(1, SHARDS);
        let base = capacity / shard_count;
        let extra = capacity % shard_count;
        let shards = (0..shard_count)
            .map(|i| {
                Mutex::new(Shard {
                    capacity: base + usize::from(i < extra),
                    ..Shard::default()
                })
            })
            .collect();
        VerifiedCache {
            shards,
            capacity,
            hits: AtomicU64::new(0),
            misses: AtomicU64::new(0),
        }
    }

    /// The configured capacity.
    pub fn capacity(&self) -> usize {
        self.capacity
    }

    fn key(token: &str) -> Key {
        Sha256::digest(token.as_bytes()).into()
    }

    fn shard(&self, key: &Key) -> Option<MutexGuard<'_, Shard>> {
        let index = usize::from(key.first().copied().unwrap_or(0)) % self.shards.len().max(1);
        let mutex = self.shards.get(index)?;
        Some(lock(mutex))
    }

    /// The principal cached for `token`, if its expiry plus leeway is still after `now`.
    /// An expired entry is removed and `None` returned.
    pub fn get(&self, token: &str, now: u64) -> Option<Arc<Principal>> {
        let key = Self::key(token);
        let found = self.shard(&key).and_then(|mut shard| {
            let valid_until = shard.map.get(&key)?.valid_until;
            if now < valid_until {
                shard.map.get(&key).map(|e| Arc::clone(&e.principal))
            } else {
                shard.map.remove(&key);
                None
            }
        });
        let counter = if found.is_some() {
            &self.hits
        } else {
            &self.misses
        };
        counter.fetch_add(1, Ordering::Relaxed);
        found
    }

    /// Cache `principal` for `token`, valid until its `expires_at` plus `leeway_secs`.
    /// Returns false (and caches nothing) when the principal has no expiry or the cache has
    /// capacity 0.
    pub fn insert(&self, token: &str, principal: Arc<Principal>, leeway_secs: u64) -> bool {
        let Some(expires_at) = principal.expires_at else {
            return false;
        };
        if self.capacity == 0 {
            return false;
        }
        let key = Self::key(token);
        match self.shard(&key) {
            Some(mut shard) => {
                shard.insert(key, principal, expires_at.saturating_add(leeway_secs));
                true
            }
            None => false,
        }
    }

    /// Forget `token`; returns whether it was cached.
    pub fn remove(&self, token: &str) -> bool {
        let key = Self::key(token);
        self.shard(&key)
            .is_some_and(|mut shard| shard.map.remove(&key).is_some())
    }

    /// Forget everything (call on issuer configuration reload).
    pub fn clear(&self) {
        for shard in self.shards.iter() {
            lock(shard).clear();
        }
    }

    /// Number of entries held (including expired ones not yet looked up).
    pub fn len(&self) -> usize {
        self.shards.iter().map(|s| lock(s).map.len()).sum()
    }

    /// True when no entry is held.
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    /// Hit/miss counters and the current size.
    pub fn stats(&self) -> CacheStats {
        CacheStats {
            hits: self.hits.load(Ordering::Relaxed),
            misses: self.misses.load(Ordering::Relaxed),
            entries: self.len(),
        }
    }
}

/// Lock a shard; a poisoned shard is emptied (its state may be half-updated) and recovered.
fn lock(mutex: &Mutex<Shard>) -> MutexGuard<'_, Shard> {
    match mutex.lock() {
        Ok(guard) => guard,
        Err(poisoned) => {
            let mut guard = poisoned.into_inner();
            guard.clear();
            mutex.clear_poison();
            guard
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn principal(exp: Option<u64>) -> Arc<Principal> {
        Arc::new(Principal {
            issuer: "idp".into(),
            subject: "s".into(),
            user: None,
            client_id: None,
            scopes: vec![],
            expires_at: exp,
            issued_at: None,
            claims: serde_json::Map::new(),
        })
    }

    #[test]
    fn hit_until_expiry_plus_leeway() {
        let c = VerifiedCache::new(10);
        assert!(c.insert("t", principal(Some(100)), 5));
        assert!(c.get("t", 50).is_some());
        assert!(c.get("t", 104).is_some());
        assert!(c.get("t", 105).is_none());
        // Expired entries are removed on lookup.
        assert!(c.is_empty());
        assert!(c.get("t", 50).is_none());
        let s = c.stats();
        assert_eq!((s.hits, s.misses), (2, 2));
    }

    #[test]
    fn no_expiry_no_caching() {
        let c = VerifiedCache::new(10);
        assert!(!c.insert("t", principal(None), 0));
        assert!(c.get("t", 0).is_none());
        let off = VerifiedCache::new(0);
        assert!(!off.insert("t", principal(Some(100)), 0));
        assert!(off.get("t", 0).is_none());
    }

    #[test]
    fn bounded() {
        for cap in [1, 3, 16, 17, 100] {
            let c = VerifiedCache::new(cap);
            for i in 0..1000 {
                c.insert(&format!("token-{i}"), principal(Some(1000)), 0);
                assert!(c.len() <= cap, "cap {cap}: {}", c.len());
            }
            assert!(
                c.get("token-999", 0).is_some(),
                "newest survives (cap {cap})"
            );
        }
    }

    #[test]
    fn queue_does_not_grow_without_bound() {
        let c = VerifiedCache::new(4);
        for round in 0..10_000u64 {
            c.insert("same", principal(Some(round + 1)), 0);
            assert!(c.get("same", round + 1).is_none());
        }
        for shard in c.shards.iter() {
            let s = lock(shard);
            assert!(s.order.len() <= 2 * s.capacity + 17);
        }
    }

    #[test]
    fn remove_and_clear() {
        // Large enough that "a" and "b" cannot evict each other from a shard.
        let c = VerifiedCache::new(1000);
        c.insert("a", principal(Some(100)), 0);
        c.insert("b", principal(Some(100)), 0);
        assert!(c.remove("a"));
        assert!(!c.remove("a"));
        assert_eq!(c.len(), 1);
        c.clear();
        assert!(c.is_empty());
    }

    #[test]
    fn poisoned_shard_is_recovered() {
        let c = Arc::new(VerifiedCache::new(1));
        c.insert("a", principal(Some(100)), 0);
        let c2 = Arc::clone(&c);
        let _ = std::thread::spawn(move || {
            let _guard = lock(&c2.shards[0]);
            panic!("poison the shard");
        })
        .join();
        assert!(c.shards[0].is_poisoned());
        // No panic; the shard was emptied and works again.
        assert!(c.get("a", 0).is_none());
        assert!(c.insert("a", principal(Some(100)), 0));
        assert!(c.get("a", 0).is_some());
    }

    #[test]
    fn concurrent_use() {
        let c = Arc::new(VerifiedCache::new(64));
        let threads: Vec<_> = (0..8)
            .map(|t| {
                let c = Arc::clone(&c);
                std::thread::spawn(move || {
                    for i in 0..500 {
                        let tok = format!("tok-{}", (i * 7 + t) % 100);
                        if c.get(&tok, 10).is_none() {
                            c.insert(&tok, principal(Some(1000)), 0);
                        }
                    }
                })
            })
            .collect();
        for t in threads {
            t.join().unwrap();
        }
        assert!(c.len() <= 64);
    }
}

//! A hot-swappable policy: readers take a snapshot, a reload swaps atomically.

use std::sync::Arc;

use arc_swap::ArcSwap;

use crate::Policy;

/// Holds the current [`Policy`]. A request takes one snapshot with [`PolicyHandle::current`]
/// and decides with it to the end, even if a reload swaps a new policy in meanwhile.
#[derive(Debug)]
pub struct PolicyHandle {
    current: ArcSwap<Policy>,
}

impl PolicyHandle {
    pub fn new(policy: Policy) -> Self {
        PolicyHandle {
            current: ArcSwap::from_pointee(policy),
        }
    }

    /// The policy in force now.
    pub fn current(&self) -> Arc<Policy> {
        self.current.load_full()
    }

    /// Replaces the policy; returns the previous one.
    pub fn swap(&self, policy: Policy) -> Arc<Policy> {
        self.current.swap(Arc::new(policy))
    }
}

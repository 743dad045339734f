//! Rate limits: `[[rate_limits]]` enforced per client or per user, per mount and operation, as a
//! GCRA (the `governor` crate) keyed by the caller.
//!
//! **Across instances.** Every instance enforces its share of a limit: with `[server] instances =
//! n`, a limit of `requests` per window becomes `max(1, requests / n)` per window on each
//! instance (the burst likewise). Behind a load balancer that spreads a caller's requests over the
//! instances, the caller gets close to the configured rate; whatever the spread, the total can
//! never exceed it (each instance admits at most its share). A caller whose requests all reach one
//! instance gets that instance's share only. The limits need no shared state, so they hold when
//! the database is unreachable and cost no round trip; `docs/operations.md` discusses the
//! accuracy.
//!
//! **Across reloads.** A rule whose settings did not change keeps its counters through a reload.
//!
//! **Memory.** One entry per caller seen recently; entries whose limit has fully recovered are
//! dropped by [`RateLimits::housekeeping`], which the server runs every minute.

use std::num::NonZeroU32;
use std::sync::Arc;
use std::time::Duration;

use governor::clock::{Clock, DefaultClock};
use governor::{DefaultKeyedRateLimiter, Quota, RateLimiter};

use crate::config::{RateLimit, RatePer};

/// A refusal: which limit, and how long until the caller may try again.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Limited {
    pub limit: String,
    /// Whole seconds (at least 1), for `Retry-After`.
    pub retry_after_secs: u64,
}

struct Rule {
    limit: RateLimit,
    /// The per-instance quota this rule was built with, so a reload can tell a changed rule.
    quota: Quota,
    limiter: Arc<DefaultKeyedRateLimiter<String>>,
}

/// The rate limits of one runtime.
pub struct RateLimits {
    rules: Vec<Rule>,
    clock: DefaultClock,
}

impl std::fmt::Debug for RateLimits {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("RateLimits")
            .field(
                "rules",
                &self.rules.iter().map(|r| &r.limit.name).collect::<Vec<_>>(),
            )
            .finish()
    }
}

/// The quota one instance enforces for `limit` when `instances` share it.
pub fn instance_quota(limit: &RateLimit, instances: u32) -> Quota {
    let n = instances.max(1);
    let requests = (limit.requests / n).max(1);
    let burst = (limit.burst / n).max(1);
    let period = limit.window / requests;
    let burst = NonZeroU32::new(burst).unwrap_or(NonZeroU32::MIN);
    Quota::with_period(period.max(Duration::from_nanos(1)))
        .unwrap_or_else(|| Quota::per_second(NonZeroU32::MIN))
        .allow_burst(burst)
}

impl RateLimits {
    /// The limiters for `limits`, each enforcing its share of `instances`.
    pub fn new(limits: &[RateLimit], instances: u32) -> Self {
        RateLimits {
            rules: limits
                .iter()
                .map(|l| {
                    let quota = instance_quota(l, instances);
                    Rule {
                        limit: l.clone(),
                        quota,
                        limiter: Arc::new(RateLimiter::keyed(quota)),
                    }
                })
                .collect(),
            clock: DefaultClock::default(),
        }
    }

    /// Takes over the counters of `old`'s rules that are unchanged (same settings and quota).
    pub fn adopt(&mut self, old: &RateLimits) {
        for rule in &mut self.rules {
            if let Some(o) = old
                .rules
                .iter()
                .find(|o| o.limit == rule.limit && o.quota == rule.quota)
            {
                rule.limiter = Arc::clone(&o.limiter);
            }
        }
    }

    /// Whether there are any limits.
    pub fn is_empty(&self) -> bool {
        self.rules.is_empty()
    }

    /// Counts one request of the caller to `api`/`operation` against every limit that applies;
    /// the first limit exhausted refuses it. A request without a user counts for its client
    /// under a per-user limit, and one without either for the key `anonymous`.
    pub fn check(
        &self,
        api: &str,
        operation: &str,
        client: Option<&str>,
        user: Option<&str>,
    ) -> Result<(), Limited> {
        for rule in &self.rules {
            if !rule.limit.applies(api, operation) {
                continue;
            }
            let key = match (rule.limit.per, user, client) {
                (RatePer::User, Some(u), _) => format!("user:{u}"),
                (_, _, Some(c)) => format!("client:{c}"),
                _ => "anonymous".to_owned(),
            };
            if let Err(not_until) = rule.limiter.check_key(&key) {
                let wait = not_until.wait_time_from(self.clock.now());
                let secs = wait.as_secs() + u64::from(wait.subsec_nanos() > 0);
                return Err(Limited {
                    limit: rule.limit.name.clone(),
                    retry_after_secs: secs.max(1),
                });
            }
        }
        Ok(())
    }

    /// Forgets callers whose limits have fully recovered; returns the callers still tracked.
    pub fn housekeeping(&self) -> usize {
        self.rules
            .iter()
            .map(|r| {
                r.limiter.retain_recent();
                r.limiter.shrink_to_fit();
                r.limiter.len()
            })
            .sum()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use sluis_rights::Glob;

    fn limit(per: RatePer, requests: u32, secs: u64) -> RateLimit {
        RateLimit {
            name: "brp-per-user".into(),
            apis: vec!["brp".into()],
            operations: vec![Glob::new("brp.personen.*")],
            per,
            requests,
            window: Duration::from_secs(secs),
            burst: requests,
        }
    }

    #[test]
    fn a_user_gets_the_burst_then_a_retry_after() {
        let l = RateLimits::new(&[limit(RatePer::User, 3, 60)], 1);
        for _ in 0..3 {
            l.check("brp", "brp.personen.Raadpleeg", Some("app"), Some("ann"))
                .unwrap();
        }
        let e = l
            .check("brp", "brp.personen.Raadpleeg", Some("app"), Some("ann"))
            .unwrap_err();
        assert_eq!(e.limit, "brp-per-user");
        // One request per 20 s comes back.
        assert!((19..=20).contains(&e.retry_after_secs), "{e:?}");
        // Another user of the same application has a count of their own...
        l.check("brp", "brp.personen.Raadpleeg", Some("app"), Some("bob"))
            .unwrap();
        // ...and other mounts and operations are not counted.
        for _ in 0..10 {
            l.check(
                "datasets",
                "brp.personen.Raadpleeg",
                Some("app"),
                Some("ann"),
            )
            .unwrap();
            l.check("brp", "dataset.list", Some("app"), Some("ann"))
                .unwrap();
        }
    }

    #[test]
    fn a_per_client_limit_counts_all_users_and_a_missing_user_counts_for_the_client() {
        let l = RateLimits::new(&[limit(RatePer::Client, 2, 60)], 1);
        l.check("brp", "brp.personen.X", Some("app"), Some("ann"))
            .unwrap();
        l.check("brp", "brp.personen.X", Some("app"), Some("bob"))
            .unwrap();
        assert!(l.check("brp", "brp.personen.X", Some("app"), None).is_err());
        let u = RateLimits::new(&[limit(RatePer::User, 1, 60)], 1);
        u.check("brp", "brp.personen.X", Some("app"), None).unwrap();
        assert!(u.check("brp", "brp.personen.X", Some("app"), None).is_err());
        u.check("brp", "brp.personen.X", None, None).unwrap();
        assert!(u.check("brp", "brp.personen.X", None, None).is_err());
    }

    #[test]
    fn instances_share_a_limit_and_never_exceed_it_together() {
        let cfg = [limit(RatePer::User, 10, 60)];
        let instances: Vec<RateLimits> = (0..3).map(|_| RateLimits::new(&cfg, 3)).collect();
        let mut admitted = 0;
        for i in 0..30 {
            if instances[i % 3]
                .check("brp", "brp.personen.X", Some("app"), Some("ann"))
                .is_ok()
            {
                admitted += 1;
            }
        }
        // 10 / 3 = 3 per instance: 9 in all, never more than the configured 10.
        assert_eq!(admitted, 9);
    }

    #[test]
    fn unchanged_rules_keep_their_counts_through_a_reload() {
        let cfg = [limit(RatePer::User, 1, 60)];
        let old = RateLimits::new(&cfg, 1);
        old.check("brp", "brp.personen.X", None, Some("ann"))
            .unwrap();
        let mut new = RateLimits::new(&cfg, 1);
        new.adopt(&old);
        assert!(
            new.check("brp", "brp.personen.X", None, Some("ann"))
                .is_err()
        );
        let changed = [limit(RatePer::User, 2, 60)];
        let mut fresh = RateLimits::new(&changed, 1);
        fresh.adopt(&old);
        fresh
            .check("brp", "brp.personen.X", None, Some("ann"))
            .unwrap();
        assert_eq!(old.housekeeping(), 1);
    }
}

//! The [`Detector`]: the rules evaluated record by record, in log order, in bounded memory.
//!
//! Most rules raise an alert the moment a record completes a finding (a watch-list lookup, the
//! tenth refusal in an hour), so the server can deliver it within seconds. Rules that compare a
//! whole period with peers or with earlier periods (D1, D8) are evaluated when the period ends:
//! when the first record of a later period arrives, or when [`Detector::advance`] is told the
//! time has passed it (the server does so every minute; a backfill at its end).
//!
//! Every alert's id is derived from the rule, who, the period and the subject, so evaluating the
//! same history twice (the server, then a backfill) raises the same ids, and [`Detector::seen`]
//! lets a caller tell the detector which alerts already exist.

use std::collections::{HashMap, VecDeque};
use std::sync::Arc;

use sha2::{Digest, Sha256};
use sluis_audit::{
    AccessRecord, AlertRecord, Decision, Entry, MAX_EVIDENCE, ProcessingRecord, Severity,
    SubjectRole,
};

use crate::clock::Local;
use crate::rules::{OpClass, PeriodKind, Rules};

const MINUTE_MS: u64 = 60_000;
const DAY_MS: u64 = 86_400_000;

/// Counters of what the detector has done (for metrics and the backfill summary).
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct DetectStats {
    /// Entries observed.
    pub entries: u64,
    /// Alerts raised.
    pub alerts: u64,
    /// Alerts not raised again because one with the same id exists.
    pub duplicates: u64,
    /// Requests, subjects and users forgotten to stay within the limits.
    pub evicted: u64,
}

/// A record referenced as evidence.
#[derive(Debug, Clone)]
struct Ev {
    seq: u64,
    trace: Arc<str>,
}

#[derive(Debug, Clone, Default)]
struct Evidence {
    items: Vec<Ev>,
    subjects: Vec<String>,
}

impl Evidence {
    fn push(&mut self, ev: Ev) {
        if self.items.len() < MAX_EVIDENCE {
            self.items.push(ev);
        }
    }

    fn subject(&mut self, s: &str) {
        if self.subjects.len() < MAX_EVIDENCE && !self.subjects.iter().any(|x| x == s) {
            self.subjects.push(s.to_owned());
        }
    }
}

/// A count within one period (day, week, month), reset when the period changes.
#[derive(Debug, Clone, Default)]
struct PeriodCount {
    period: i64,
    count: u64,
    raised: bool,
    evidence: Evidence,
}

impl PeriodCount {
    /// Counts one more in `period`; returns the new count.
    fn add(&mut self, period: i64, ev: Ev) -> u64 {
        if self.period != period {
            *self = PeriodCount {
                period,
                ..PeriodCount::default()
            };
        }
        self.count += 1;
        self.evidence.push(ev);
        self.count
    }
}

/// Events in a sliding window, at most `cap` remembered.
#[derive(Debug, Clone, Default)]
struct Window {
    items: VecDeque<(u64, Ev)>,
}

impl Window {
    /// Adds an event at `t`, forgets those older than `len_ms`, returns how many remain.
    fn add(&mut self, t: u64, ev: Ev, len_ms: u64, cap: u64) -> u64 {
        self.items.push_back((t, ev));
        while let Some((first, _)) = self.items.front() {
            if first.saturating_add(len_ms) <= t {
                self.items.pop_front();
            } else {
                break;
            }
        }
        while self.items.len() as u64 > cap {
            self.items.pop_front();
        }
        self.items.len() as u64
    }

    /// Takes the window's events (after an alert, so the next needs a full count again).
    fn take(&mut self) -> (u64, Evidence) {
        let first = self.items.front().map_or(0, |(t, _)| *t);
        let mut ev = Evidence::default();
        for (_, e) in self.items.drain(..) {
            ev.push(e);
        }
        (first, ev)
    }
}

/// What the detector remembers about one request (from its access record).
#[derive(Debug, Clone)]
struct Request {
    seq: u64,
    time_ms: u64,
    user: Arc<str>,
    app: Option<Arc<str>>,
    class: OpClass,
    /// The token held a scope exempting it from D12.
    exempt: bool,
    /// Request-level rules have counted it (on its first processing record).
    counted: bool,
    consulted: u64,
    bulk_raised: bool,
    too_many_counted: bool,
}

#[derive(Debug, Default)]
struct UserState {
    last_seen_ms: u64,
    app: Option<Arc<str>>,
    scopes: u64,
    scope_changes: Window,
    d1_period: i64,
    d1_total: u64,
    d1_searches: u64,
    d1_evidence: Evidence,
    d2: PeriodCount,
    d3: PeriodCount,
    d3_jump_raised: bool,
    /// Earlier active periods' counts, newest last.
    d3_history: VecDeque<u64>,
    d6: PeriodCount,
    d10: Window,
    d11_address: Window,
    d11_too_many: Window,
    d11_limited: Window,
}

#[derive(Debug, Default)]
struct SubjectUser {
    /// (day, lookups that day), oldest first.
    days: VecDeque<(i64, u64)>,
    evidence: VecDeque<Ev>,
}

#[derive(Debug, Default)]
struct SubjectState {
    last_ms: u64,
    users: HashMap<Arc<str>, SubjectUser>,
}

#[derive(Debug, Default)]
struct UnitState {
    month: i64,
    count: u64,
    history: VecDeque<u64>,
}

/// The rules over a stream of log entries.
#[derive(Debug)]
pub struct Detector {
    rules: Arc<Rules>,
    traces: HashMap<Arc<str>, Request>,
    trace_order: VecDeque<Arc<str>>,
    users: HashMap<Arc<str>, UserState>,
    subjects: HashMap<String, SubjectState>,
    units: HashMap<Arc<str>, UnitState>,
    /// Alert ids raised (or known to exist), with when they may be forgotten.
    raised: HashMap<String, u64>,
    /// The latest local time observed.
    now: Option<Local>,
    now_ms: u64,
    stats: DetectStats,
    out: Vec<AlertRecord>,
}

/// An alert's id: the first 16 bytes of SHA-256 over its identifying parts, in hex.
fn alert_id(parts: &[&str]) -> String {
    let mut h = Sha256::new();
    for p in parts {
        h.update(p.as_bytes());
        h.update([0x1f]);
    }
    h.finalize()
        .iter()
        .take(16)
        .map(|b| format!("{b:02x}"))
        .collect()
}

/// What an alert is about, before it gets its id and evidence.
struct Finding<'a> {
    rule: &'static str,
    name: &'static str,
    severity: Severity,
    /// The parts that make the finding unique (besides rule and name).
    key: &'a [&'a str],
    time_ms: u64,
    user: Option<&'a str>,
    app: Option<&'a str>,
    unit: Option<&'a str>,
    period: (u64, u64),
    summary: String,
    count: u64,
}

impl Detector {
    /// A detector with no history.
    pub fn new(rules: Arc<Rules>) -> Detector {
        Detector {
            rules,
            traces: HashMap::new(),
            trace_order: VecDeque::new(),
            users: HashMap::new(),
            subjects: HashMap::new(),
            units: HashMap::new(),
            raised: HashMap::new(),
            now: None,
            now_ms: 0,
            stats: DetectStats::default(),
            out: Vec::new(),
        }
    }

    /// The rules in force.
    pub fn rules(&self) -> &Rules {
        &self.rules
    }

    /// Replaces the rules (a reload), keeping what has been observed.
    pub fn set_rules(&mut self, rules: Arc<Rules>) {
        self.rules = rules;
    }

    /// What the detector has done so far.
    pub fn stats(&self) -> DetectStats {
        self.stats
    }

    /// How many requests, subjects and users the detector currently remembers.
    pub fn tracked(&self) -> (usize, usize, usize) {
        (self.traces.len(), self.subjects.len(), self.users.len())
    }

    /// Tells the detector that an alert with this id exists (read back from the store), so the
    /// same finding is not raised again.
    pub fn seen(&mut self, id: &str, time_ms: u64) {
        self.raised
            .insert(id.to_owned(), time_ms.saturating_add(400 * DAY_MS));
    }

    /// Observes one stored entry (in log order); returns the alerts it completes.
    pub fn observe(&mut self, seq: u64, time_ms: u64, entry: &Entry) -> Vec<AlertRecord> {
        self.stats.entries += 1;
        self.advance(time_ms);
        match entry {
            // The reviewers' own pages are recorded and searchable, but they are the
            // supervision, not the processing it supervises.
            Entry::Access(a) if a.api == "ui" => {}
            Entry::Access(a) => self.access(seq, time_ms, a),
            Entry::Processing(p) => self.processing(seq, time_ms, p),
            Entry::Alert(a) => self.seen(&a.id, a.time_ms),
            Entry::Purge(_) | Entry::Handling(_) => {}
        }
        std::mem::take(&mut self.out)
    }

    /// Moves the clock to `now_ms` without a record: closes the periods that ended before it
    /// and returns the alerts that closing raises.
    pub fn tick(&mut self, now_ms: u64) -> Vec<AlertRecord> {
        self.advance(now_ms);
        std::mem::take(&mut self.out)
    }

    fn advance(&mut self, time_ms: u64) {
        if time_ms < self.now_ms {
            // Entries of several chains interleave slightly out of time order: a late one is
            // counted in the current period.
            return;
        }
        let local = self.rules.clock.local(time_ms);
        let before = self.now.replace(local);
        self.now_ms = time_ms;
        let Some(before) = before else { return };
        let d1 = self.rules.non_bsn_search.period;
        if local.period(d1) != before.period(d1) {
            self.close_d1(before.period(d1));
        }
        if local.month != before.month {
            self.close_trend(before.month);
        }
        if local.day != before.day {
            self.forget_expired(time_ms);
        }
    }

    fn raise(&mut self, f: Finding<'_>, evidence: &Evidence) {
        let mut parts: Vec<&str> = vec![f.rule, f.name];
        parts.extend_from_slice(f.key);
        let id = alert_id(&parts);
        if self.raised.contains_key(&id) {
            self.stats.duplicates += 1;
            return;
        }
        self.raised
            .insert(id.clone(), f.period.1.max(f.time_ms).saturating_add(DAY_MS));
        self.stats.alerts += 1;
        self.out.push(AlertRecord {
            id,
            rule: f.rule.to_owned(),
            name: f.name.to_owned(),
            severity: f.severity,
            time_ms: f.time_ms,
            user: f.user.map(str::to_owned),
            application: f.app.map(str::to_owned),
            unit: f.unit.map(str::to_owned),
            period_from_ms: f.period.0,
            period_to_ms: f.period.1,
            summary: f.summary,
            count: f.count,
            evidence_seqs: evidence.items.iter().map(|e| e.seq).collect(),
            trace_ids: evidence.items.iter().map(|e| e.trace.to_string()).collect(),
            subjects: evidence.subjects.clone(),
        });
    }

    fn unit_of(&self, user: &str, app: Option<&str>) -> Option<Arc<str>> {
        match self.rules.users.get(user).and_then(|u| u.unit.as_deref()) {
            Some(u) => Some(Arc::from(u)),
            None => app.map(|a| Arc::from(format!("app:{a}"))),
        }
    }

    fn user_state(&mut self, user: &Arc<str>) -> &mut UserState {
        if !self.users.contains_key(user) && self.users.len() >= self.rules.limits.max_users {
            let evict = self.rules.limits.max_users / 10 + 1;
            let mut by_age: Vec<(u64, Arc<str>)> = self
                .users
                .iter()
                .map(|(k, v)| (v.last_seen_ms, k.clone()))
                .collect();
            by_age.sort_unstable_by_key(|(t, _)| *t);
            for (_, k) in by_age.into_iter().take(evict) {
                self.users.remove(&k);
                self.stats.evicted += 1;
            }
        }
        self.users.entry(user.clone()).or_default()
    }

    // -----------------------------------------------------------------------------------------
    // access records

    fn access(&mut self, seq: u64, time_ms: u64, a: &AccessRecord) {
        let user: Arc<str> = match (&a.user, &a.client_id) {
            (Some(u), _) => Arc::from(u.as_str()),
            (None, Some(c)) => Arc::from(format!("client:{c}")),
            (None, None) => return,
        };
        let app: Option<Arc<str>> = a
            .application
            .as_deref()
            .or(a.client_id.as_deref())
            .map(Arc::from);
        let trace: Arc<str> = Arc::from(a.trace_id.as_str());
        let ev = Ev {
            seq,
            trace: trace.clone(),
        };
        let exempt = self.rules.users.get(&*user).is_some_and(|u| u.out_of_scope)
            || a.scopes
                .iter()
                .any(|s| self.rules.scope.exempt_scopes.iter().any(|x| x == s));
        let class = self.rules.classify(&a.operation);
        self.remember(
            trace,
            Request {
                seq,
                time_ms,
                user: user.clone(),
                app: app.clone(),
                class,
                exempt,
                counted: false,
                consulted: 0,
                bulk_raised: false,
                too_many_counted: false,
            },
        );
        if a.user.is_some() {
            self.hygiene(time_ms, &user, app.as_deref(), &a.scopes, &ev);
        }
        let rules = self.rules.clone();
        let st = self.user_state(&user);
        st.last_seen_ms = time_ms;
        st.app = app.clone();
        if rules.probing.enabled && a.decision == Decision::Deny && a.status == 403 {
            let r = &rules.probing;
            let n = st.d10.add(
                time_ms,
                ev.clone(),
                r.window_minutes * MINUTE_MS,
                r.max_denials,
            );
            if n >= r.max_denials {
                let (first, evidence) = st.d10.take();
                let first_s = first.to_string();
                self.raise(
                    Finding {
                        rule: "D10",
                        name: "probing",
                        severity: r.severity.into(),
                        key: &[&user, &first_s],
                        time_ms,
                        user: Some(&user),
                        app: app.as_deref(),
                        unit: None,
                        period: (first, time_ms.saturating_add(1)),
                        summary: format!(
                            "{n} geweigerde verzoeken (403) binnen {} minuten",
                            r.window_minutes
                        ),
                        count: n,
                    },
                    &evidence,
                );
            }
        }
        let st = self.user_state(&user);
        if rules.bulk_search.enabled && a.status == 429 {
            let r = &rules.bulk_search;
            let n = st.d11_limited.add(
                time_ms,
                ev,
                r.window_minutes * MINUTE_MS,
                r.max_rate_limited,
            );
            if n >= r.max_rate_limited {
                let (first, evidence) = st.d11_limited.take();
                let first_s = first.to_string();
                self.raise(
                    Finding {
                        rule: "D11",
                        name: "bulk_search",
                        severity: r.severity.into(),
                        key: &["rate-limited", &user, &first_s],
                        time_ms,
                        user: Some(&user),
                        app: app.as_deref(),
                        unit: None,
                        period: (first, time_ms.saturating_add(1)),
                        summary: format!(
                            "{n} keer begrensd (429) binnen {} minuten",
                            r.window_minutes
                        ),
                        count: n,
                    },
                    &evidence,
                );
            }
        }
    }

    fn remember(&mut self, trace: Arc<str>, req: Request) {
        if self.traces.insert(trace.clone(), req).is_none() {
            self.trace_order.push_back(trace);
        }
        while self.trace_order.len() > self.rules.limits.max_traces {
            if let Some(old) = self.trace_order.pop_front() {
                self.traces.remove(&old);
                self.stats.evicted += 1;
            }
        }
    }

    /// D9 on an access record of a known user.
    fn hygiene(
        &mut self,
        time_ms: u64,
        user: &Arc<str>,
        app: Option<&str>,
        scopes: &[String],
        ev: &Ev,
    ) {
        let rules = self.rules.clone();
        let r = &rules.account_hygiene;
        if !r.enabled {
            return;
        }
        let local = rules.clock.local(time_ms);
        let month = local.month.to_string();
        let evidence = Evidence {
            items: vec![ev.clone()],
            subjects: Vec::new(),
        };
        let directory = rules.users.get(&**user);
        if directory.is_none() && r.unknown_users && !rules.users.is_empty() {
            self.raise(
                Finding {
                    rule: "D9",
                    name: "account_hygiene",
                    severity: r.severity.into(),
                    key: &["unknown", user, &month],
                    time_ms,
                    user: Some(user),
                    app,
                    unit: None,
                    period: rules.clock.bounds(PeriodKind::Month, local.month),
                    summary:
                        "een gebruiker die niet in het gebruikersoverzicht staat deed verzoeken"
                            .into(),
                    count: 1,
                },
                &evidence,
            );
        }
        if let (Some(d), Some(app)) = (directory, app)
            && !d.applications.is_empty()
            && !d.applications.contains(app)
        {
            self.raise(
                Finding {
                    rule: "D9",
                    name: "account_hygiene",
                    severity: r.severity.into(),
                    key: &["application", user, app, &month],
                    time_ms,
                    user: Some(user),
                    app: Some(app),
                    unit: d.unit.as_deref(),
                    period: rules.clock.bounds(PeriodKind::Month, local.month),
                    summary: format!(
                        "gebruikte toepassing {app:?}, die niet bij de rol van de gebruiker hoort"
                    ),
                    count: 1,
                },
                &evidence,
            );
        }
        let mut sorted: Vec<&String> = scopes.iter().collect();
        sorted.sort();
        let mut h = Sha256::new();
        for s in sorted {
            h.update(s.as_bytes());
            h.update([0]);
        }
        let digest = h.finalize();
        let scope_hash = digest
            .iter()
            .take(8)
            .fold(0u64, |acc, b| (acc << 8) | u64::from(*b));
        let st = self.user_state(user);
        let dormant = st.last_seen_ms > 0
            && time_ms.saturating_sub(st.last_seen_ms) >= r.dormant_days * DAY_MS;
        let since = st.last_seen_ms;
        let changed = st.last_seen_ms > 0 && st.scopes != scope_hash;
        st.scopes = scope_hash;
        let mut changes = None;
        if changed {
            let n = st.scope_changes.add(
                time_ms,
                ev.clone(),
                r.window_days * DAY_MS,
                r.max_scope_changes,
            );
            if n >= r.max_scope_changes {
                changes = Some((n, st.scope_changes.take()));
            }
        }
        if dormant {
            let day = local.day.to_string();
            let days = time_ms.saturating_sub(since) / DAY_MS;
            self.raise(
                Finding {
                    rule: "D9",
                    name: "account_hygiene",
                    severity: r.severity.into(),
                    key: &["dormant", user, &day],
                    time_ms,
                    user: Some(user),
                    app,
                    unit: directory.and_then(|d| d.unit.as_deref()),
                    period: (since, time_ms.saturating_add(1)),
                    summary: format!(
                        "een account dat {days} dagen niet gebruikt was, werd weer actief"
                    ),
                    count: 1,
                },
                &evidence,
            );
        }
        if let Some((n, (first, evidence))) = changes {
            let first_s = first.to_string();
            self.raise(
                Finding {
                    rule: "D9",
                    name: "account_hygiene",
                    severity: r.severity.into(),
                    key: &["scopes", user, &first_s],
                    time_ms,
                    user: Some(user),
                    app,
                    unit: directory.and_then(|d| d.unit.as_deref()),
                    period: (first, time_ms.saturating_add(1)),
                    summary: format!(
                        "de toegekende scopes veranderden {n} keer binnen {} dagen",
                        r.window_days
                    ),
                    count: n,
                },
                &evidence,
            );
        }
    }

    // -----------------------------------------------------------------------------------------
    // processing records

    fn processing(&mut self, seq: u64, time_ms: u64, p: &ProcessingRecord) {
        let trace: Arc<str> = Arc::from(p.trace_id.as_str());
        if !self.traces.contains_key(&trace) {
            // The access record was not seen (evicted, or an export that starts mid-request):
            // the calling application stands in for the user.
            let Some(client) = p
                .foreign_processor
                .as_deref()
                .or(p.client_app_id.as_deref())
            else {
                return;
            };
            let class = self.rules.classify(&p.name);
            self.remember(
                trace.clone(),
                Request {
                    seq,
                    time_ms,
                    user: Arc::from(format!("client:{client}")),
                    app: Some(Arc::from(client)),
                    class,
                    exempt: false,
                    counted: false,
                    consulted: 0,
                    bulk_raised: false,
                    too_many_counted: false,
                },
            );
        }
        let Some(req) = self.traces.get_mut(&trace) else {
            return;
        };
        let first = !req.counted;
        req.counted = true;
        let too_many =
            p.upstream_error_code.as_deref() == Some("tooManyResults") && !req.too_many_counted;
        if too_many {
            req.too_many_counted = true;
        }
        let consulted =
            p.data_subject_id.is_some() && p.subject_role == Some(SubjectRole::Geraadpleegd);
        if consulted {
            req.consulted += 1;
        }
        let req = req.clone();
        let ev = Ev {
            seq,
            trace: trace.clone(),
        };
        let access_ev = Ev {
            seq: req.seq,
            trace: trace.clone(),
        };
        if first {
            self.request_counted(&req, &access_ev);
        }
        if too_many {
            self.too_many(&req, time_ms, ev.clone());
        }
        if let Some(subject) = p.data_subject_id.as_deref() {
            self.subject_rules(&req, time_ms, p, subject, consulted, &ev);
        }
    }

    /// D1 (counting), D2, D3, D11 (address walks): once per request that processed data.
    fn request_counted(&mut self, req: &Request, ev: &Ev) {
        let rules = self.rules.clone();
        let local = rules.clock.local(req.time_ms);
        let user = req.user.clone();
        let app = req.app.clone();
        let unit = self.unit_of(&user, app.as_deref());
        if let Some(unit) = &unit
            && rules.trend.enabled
        {
            let u = self.units.entry(unit.clone()).or_default();
            if u.month != local.month {
                if u.count > 0 {
                    // A month that ended without a tick (a backfill): its total joins the history.
                    push_bounded(&mut u.history, u.count, rules.trend.baseline_months);
                }
                u.month = local.month;
                u.count = 0;
            }
            u.count += 1;
        }
        let st = self.user_state(&user);
        st.last_seen_ms = st.last_seen_ms.max(req.time_ms);
        // D1 counts.
        let d1_period = local.period(rules.non_bsn_search.period);
        if st.d1_period != d1_period {
            st.d1_period = d1_period;
            st.d1_total = 0;
            st.d1_searches = 0;
            st.d1_evidence = Evidence::default();
        }
        st.d1_total += 1;
        if req.class.is_search() {
            st.d1_searches += 1;
            st.d1_evidence.push(ev.clone());
        }
        // D2.
        let mut d2 = None;
        if rules.office_hours.enabled && local.after_hours {
            let n = st.d2.add(local.day, ev.clone());
            if n >= rules.office_hours.min_lookups && !st.d2.raised {
                st.d2.raised = true;
                d2 = Some((n, st.d2.evidence.clone()));
            }
        }
        // D3.
        let mut d3 = Vec::new();
        if rules.volume.enabled {
            let r = &rules.volume;
            let period = local.period(r.period);
            if st.d3.period != period && st.d3.count > 0 {
                push_bounded(&mut st.d3_history, st.d3.count, r.baseline_periods);
                st.d3_jump_raised = false;
            }
            let n = st.d3.add(period, ev.clone());
            if n >= r.max_requests && !st.d3.raised {
                st.d3.raised = true;
                d3.push((
                    "ceiling",
                    n,
                    format!("{n} verzoeken op één {}", period_word(r.period)),
                    st.d3.evidence.clone(),
                ));
            }
            if st.d3_history.len() >= r.baseline_periods && !st.d3_jump_raised {
                let mean = st.d3_history.iter().sum::<u64>() as f64 / st.d3_history.len() as f64;
                if n >= r.min_volume && n as f64 > r.jump_factor * mean {
                    st.d3_jump_raised = true;
                    d3.push((
                        "jump",
                        n,
                        format!(
                            "{n} verzoeken op één {}, tegen een gemiddelde van {mean:.0} over de laatste {} actieve {} van de gebruiker",
                            period_word(r.period),
                            st.d3_history.len(),
                            period_plural(r.period)
                        ),
                        st.d3.evidence.clone(),
                    ));
                }
            }
        }
        // D11 address walks.
        let mut d11 = None;
        if rules.bulk_search.enabled && req.class == OpClass::AddressSearch {
            let r = &rules.bulk_search;
            let n = st.d11_address.add(
                req.time_ms,
                ev.clone(),
                r.window_minutes * MINUTE_MS,
                r.max_address_searches,
            );
            if n >= r.max_address_searches {
                d11 = Some((n, st.d11_address.take()));
            }
        }
        let day = local.day.to_string();
        if let Some((n, evidence)) = d2 {
            self.raise(
                Finding {
                    rule: "D2",
                    name: "office_hours",
                    severity: rules.office_hours.severity.into(),
                    key: &[&user, &day],
                    time_ms: req.time_ms,
                    user: Some(&user),
                    app: app.as_deref(),
                    unit: None,
                    period: rules.clock.bounds(PeriodKind::Day, local.day),
                    summary: format!(
                        "opvraging buiten kantoortijd ({:02}:{:02} uur)",
                        local.minute / 60,
                        local.minute % 60
                    ),
                    count: n,
                },
                &evidence,
            );
        }
        for (kind, n, summary, evidence) in d3 {
            let period = local.period(rules.volume.period).to_string();
            self.raise(
                Finding {
                    rule: "D3",
                    name: "volume",
                    severity: rules.volume.severity.into(),
                    key: &[kind, &user, &period],
                    time_ms: req.time_ms,
                    user: Some(&user),
                    app: app.as_deref(),
                    unit: None,
                    period: rules
                        .clock
                        .bounds(rules.volume.period, local.period(rules.volume.period)),
                    summary,
                    count: n,
                },
                &evidence,
            );
        }
        if let Some((n, (first, evidence))) = d11 {
            let first_s = first.to_string();
            self.raise(
                Finding {
                    rule: "D11",
                    name: "bulk_search",
                    severity: rules.bulk_search.severity.into(),
                    key: &["address", &user, &first_s],
                    time_ms: req.time_ms,
                    user: Some(&user),
                    app: app.as_deref(),
                    unit: None,
                    period: (first, req.time_ms.saturating_add(1)),
                    summary: format!(
                        "{n} zoekvragen op adres binnen {} minuten",
                        rules.bulk_search.window_minutes
                    ),
                    count: n,
                },
                &evidence,
            );
        }
    }

    /// D11: repeated `tooManyResults`.
    fn too_many(&mut self, req: &Request, time_ms: u64, ev: Ev) {
        let rules = self.rules.clone();
        let r = &rules.bulk_search;
        if !r.enabled {
            return;
        }
        let st = self.user_state(&req.user);
        let n = st.d11_too_many.add(
            time_ms,
            ev,
            r.window_minutes * MINUTE_MS,
            r.max_too_many_results,
        );
        if n >= r.max_too_many_results {
            let (first, evidence) = st.d11_too_many.take();
            let first_s = first.to_string();
            self.raise(
                Finding {
                    rule: "D11",
                    name: "bulk_search",
                    severity: r.severity.into(),
                    key: &["too-many-results", &req.user, &first_s],
                    time_ms,
                    user: Some(&req.user),
                    app: req.app.as_deref(),
                    unit: None,
                    period: (first, time_ms.saturating_add(1)),
                    summary: format!(
                        "{n} zoekvragen met tooManyResults binnen {} minuten",
                        r.window_minutes
                    ),
                    count: n,
                },
                &evidence,
            );
        }
    }

    /// D4, D5, D6, D7, D11 (many subjects at once), D12, D13: per processed subject.
    fn subject_rules(
        &mut self,
        req: &Request,
        time_ms: u64,
        p: &ProcessingRecord,
        subject: &str,
        consulted: bool,
        ev: &Ev,
    ) {
        let rules = self.rules.clone();
        let local = rules.clock.local(time_ms);
        let day = local.day.to_string();
        let day_bounds = rules.clock.bounds(PeriodKind::Day, local.day);
        let user = req.user.clone();
        let app = req.app.as_deref();
        let directory = rules.users.get(&*user);
        let unit = directory.and_then(|d| d.unit.as_deref());
        let one = |subject: &str| Evidence {
            items: vec![ev.clone()],
            subjects: vec![subject.to_owned()],
        };
        let subject_lc = subject.to_ascii_lowercase();

        // D5.
        if rules.watch_list.enabled
            && let Some(w) = rules.watch.get(&subject_lc)
        {
            self.raise(
                Finding {
                    rule: "D5",
                    name: "watch_list",
                    severity: w.severity,
                    key: &[&user, &subject_lc, &day],
                    time_ms,
                    user: Some(&user),
                    app,
                    unit,
                    period: day_bounds,
                    summary: format!(
                        "gegevens van een persoon op bewaaklijst {:?} zijn verwerkt",
                        w.list
                    ),
                    count: 1,
                },
                &one(subject),
            );
        }
        // D7.
        if rules.self_family.enabled
            && let Some(d) = directory
        {
            let relation = if d.own.contains(&subject_lc) {
                Some("zichzelf")
            } else if d.relatives.contains(&subject_lc) {
                Some("een familielid")
            } else if d.neighbours.contains(&subject_lc) {
                Some("een buur")
            } else {
                None
            };
            if let Some(relation) = relation {
                self.raise(
                    Finding {
                        rule: "D7",
                        name: "self_family",
                        severity: rules.self_family.severity.into(),
                        key: &[&user, &subject_lc, &day],
                        time_ms,
                        user: Some(&user),
                        app,
                        unit,
                        period: day_bounds,
                        summary: format!("de gebruiker verwerkte de gegevens van {relation}"),
                        count: 1,
                    },
                    &one(subject),
                );
            }
        }
        // D12.
        if rules.scope.enabled && !req.exempt {
            for flag in p
                .flags
                .iter()
                .filter(|f| rules.scope.flags.iter().any(|x| x == *f))
            {
                self.raise(
                    Finding {
                        rule: "D12",
                        name: "scope",
                        severity: rules.scope.severity.into(),
                        key: &[&user, flag, &day],
                        time_ms,
                        user: Some(&user),
                        app,
                        unit,
                        period: day_bounds,
                        summary: format!(
                            "een persoon met kenmerk {flag} is geleverd aan een gebruiker zonder uitdrukkelijk recht op zulke personen"
                        ),
                        count: 1,
                    },
                    &one(subject),
                );
            }
        }
        // D13.
        if rules.sensitive.enabled {
            let r = &rules.sensitive;
            let needs = directory.is_some_and(|d| d.sensitive_fields)
                || app.is_some_and(|a| r.expected_applications.iter().any(|x| x == a));
            if !needs {
                let sensitive: Vec<&str> = p
                    .fields_delivered
                    .iter()
                    .filter(|f| {
                        r.fields.iter().any(|s| {
                            f.as_str() == s
                                || f.strip_prefix(s.as_str())
                                    .is_some_and(|rest| rest.starts_with('.'))
                        })
                    })
                    .map(String::as_str)
                    .collect();
                if !sensitive.is_empty() {
                    self.raise(
                        Finding {
                            rule: "D13",
                            name: "sensitive",
                            severity: r.severity.into(),
                            key: &["fields", &user, &day],
                            time_ms,
                            user: Some(&user),
                            app,
                            unit,
                            period: day_bounds,
                            summary: format!(
                                "gevoelige gegevens geleverd aan een gebruiker wiens rol ze niet nodig heeft: {}",
                                sensitive.join(", ")
                            ),
                            count: 1,
                        },
                        &one(subject),
                    );
                }
            }
            for flag in p.flags.iter().filter(|f| r.flags.iter().any(|x| x == *f)) {
                self.raise(
                    Finding {
                        rule: "D13",
                        name: "sensitive",
                        severity: r.severity.into(),
                        key: &["flag", &user, flag, &day],
                        time_ms,
                        user: Some(&user),
                        app,
                        unit,
                        period: day_bounds,
                        summary: format!(
                            "gegevens van een persoon met kenmerk {flag} zijn verwerkt"
                        ),
                        count: 1,
                    },
                    &one(subject),
                );
            }
        }
        if !consulted {
            return;
        }
        // D11: one request for many subjects.
        let r = &rules.bulk_search;
        if r.enabled
            && req.consulted >= r.max_subjects_per_request
            && let Some(stored) = self.traces.get_mut(&*ev.trace)
            && !stored.bulk_raised
        {
            stored.bulk_raised = true;
            let evidence = Evidence {
                items: vec![Ev {
                    seq: req.seq,
                    trace: ev.trace.clone(),
                }],
                subjects: Vec::new(),
            };
            self.raise(
                Finding {
                    rule: "D11",
                    name: "bulk_search",
                    severity: r.severity.into(),
                    key: &["many-subjects", &ev.trace],
                    time_ms,
                    user: Some(&user),
                    app,
                    unit,
                    period: (req.time_ms, time_ms.saturating_add(1)),
                    summary: format!("één verzoek vroeg {} personen op", req.consulted),
                    count: req.consulted,
                },
                &evidence,
            );
        }
        // D6.
        if rules.case_binding.enabled && p.case_ref.as_deref().is_none_or(str::is_empty) {
            let st = self.user_state(&user);
            let n = st.d6.add(local.day, ev.clone());
            st.d6.evidence.subject(subject);
            if n >= rules.case_binding.min_lookups && !st.d6.raised {
                st.d6.raised = true;
                let evidence = st.d6.evidence.clone();
                self.raise(
                    Finding {
                        rule: "D6",
                        name: "case_binding",
                        severity: rules.case_binding.severity.into(),
                        key: &[&user, &day],
                        time_ms,
                        user: Some(&user),
                        app,
                        unit,
                        period: day_bounds,
                        summary: format!("{n} opvragingen zonder zaak- of dossierverwijzing"),
                        count: n,
                    },
                    &evidence,
                );
            }
        }
        // D4.
        if rules.subject_frequency.enabled {
            self.frequency(&user, app, unit, time_ms, local, subject, ev);
        }
    }

    #[allow(
        clippy::too_many_arguments,
        reason = "the parts of one observation, passed apart to avoid cloning the request"
    )]
    fn frequency(
        &mut self,
        user: &Arc<str>,
        app: Option<&str>,
        unit: Option<&str>,
        time_ms: u64,
        local: Local,
        subject: &str,
        ev: &Ev,
    ) {
        let rules = self.rules.clone();
        let r = &rules.subject_frequency;
        if !self.subjects.contains_key(subject) && self.subjects.len() >= rules.limits.max_subjects
        {
            self.evict_subjects();
        }
        let window_days = i64::try_from(r.window_days).unwrap_or(i64::MAX);
        let s = self.subjects.entry(subject.to_owned()).or_default();
        s.last_ms = time_ms;
        let oldest = local.day.saturating_sub(window_days - 1);
        s.users.retain(|_, su| {
            while su.days.front().is_some_and(|(d, _)| *d < oldest) {
                su.days.pop_front();
            }
            !su.days.is_empty()
        });
        let su = s.users.entry(user.clone()).or_default();
        match su.days.back_mut() {
            Some((d, n)) if *d == local.day => *n += 1,
            _ => su.days.push_back((local.day, 1)),
        }
        su.evidence.push_back(ev.clone());
        while su.evidence.len() > MAX_EVIDENCE {
            su.evidence.pop_front();
        }
        let lookups: u64 = su.days.iter().map(|(_, n)| *n).sum();
        let days = su.days.len() as u64;
        let first_day = su.days.front().map_or(local.day, |(d, _)| *d);
        let user_evidence = Evidence {
            items: su.evidence.iter().cloned().collect(),
            subjects: vec![subject.to_owned()],
        };
        let distinct = s.users.len() as u64;
        let users_evidence = Evidence {
            items: s
                .users
                .values()
                .filter_map(|u| u.evidence.back().cloned())
                .take(MAX_EVIDENCE)
                .collect(),
            subjects: vec![subject.to_owned()],
        };
        let bucket = (local.day.div_euclid(window_days.max(1))).to_string();
        let period = (
            rules.clock.bounds(PeriodKind::Day, first_day).0,
            rules.clock.bounds(PeriodKind::Day, local.day).1,
        );
        let window_period = (
            rules.clock.bounds(PeriodKind::Day, oldest).0,
            rules.clock.bounds(PeriodKind::Day, local.day).1,
        );
        if lookups == r.max_lookups_per_user {
            self.raise(
                Finding {
                    rule: "D4",
                    name: "subject_frequency",
                    severity: r.severity.into(),
                    key: &["lookups", user, subject, &bucket],
                    time_ms,
                    user: Some(user),
                    app,
                    unit,
                    period,
                    summary: format!(
                        "één persoon {lookups} keer opgevraagd door dezelfde gebruiker binnen {} dagen",
                        r.window_days
                    ),
                    count: lookups,
                },
                &user_evidence,
            );
        }
        if days == r.max_days_per_user {
            self.raise(
                Finding {
                    rule: "D4",
                    name: "subject_frequency",
                    severity: r.severity.into(),
                    key: &["days", user, subject, &bucket],
                    time_ms,
                    user: Some(user),
                    app,
                    unit,
                    period,
                    summary: format!(
                        "één persoon door dezelfde gebruiker opgevraagd op {days} verschillende dagen binnen {} dagen",
                        r.window_days
                    ),
                    count: lookups,
                },
                &user_evidence,
            );
        }
        if distinct == r.max_distinct_users {
            self.raise(
                Finding {
                    rule: "D4",
                    name: "subject_frequency",
                    severity: r.severity.into(),
                    key: &["users", subject, &bucket],
                    time_ms,
                    user: None,
                    app: None,
                    unit: None,
                    period: window_period,
                    summary: format!(
                        "één persoon opgevraagd door {distinct} verschillende gebruikers binnen {} dagen",
                        r.window_days
                    ),
                    count: distinct,
                },
                &users_evidence,
            );
        }
    }

    fn evict_subjects(&mut self) {
        let evict = self.rules.limits.max_subjects / 10 + 1;
        let mut by_age: Vec<(u64, String)> = self
            .subjects
            .iter()
            .map(|(k, v)| (v.last_ms, k.clone()))
            .collect();
        by_age.sort_unstable_by_key(|(t, _)| *t);
        for (_, k) in by_age.into_iter().take(evict) {
            self.subjects.remove(&k);
            self.stats.evicted += 1;
        }
    }

    // -----------------------------------------------------------------------------------------
    // period ends

    /// D1 at the end of a period: each user's share of non-BSN searches against their peers.
    fn close_d1(&mut self, period: i64) {
        let rules = self.rules.clone();
        let r = &rules.non_bsn_search;
        if !r.enabled {
            return;
        }
        let peer_of = |user: &str, st: &UserState| -> String {
            match rules.users.get(user) {
                Some(d) => d
                    .peer_group
                    .clone()
                    .or_else(|| d.unit.clone())
                    .unwrap_or_else(|| "-".into()),
                None => st
                    .app
                    .as_deref()
                    .map_or_else(|| "-".into(), |a| format!("app:{a}")),
            }
        };
        let mut groups: HashMap<String, Vec<f64>> = HashMap::new();
        let mut judged = Vec::new();
        for (user, st) in &self.users {
            if st.d1_period != period || st.d1_total < r.min_requests {
                continue;
            }
            let share = st.d1_searches as f64 / st.d1_total as f64;
            let group = peer_of(user, st);
            groups.entry(group.clone()).or_default().push(share);
            judged.push((user.clone(), group, share));
        }
        let medians: HashMap<String, (f64, usize)> = groups
            .into_iter()
            .map(|(g, mut v)| {
                v.sort_by(f64::total_cmp);
                let n = v.len();
                let m = if n % 2 == 1 {
                    v.get(n / 2).copied().unwrap_or(0.0)
                } else {
                    (v.get(n / 2 - 1).copied().unwrap_or(0.0)
                        + v.get(n / 2).copied().unwrap_or(0.0))
                        / 2.0
                };
                (g, (m, n))
            })
            .collect();
        let bounds = rules.clock.bounds(r.period, period);
        let period_s = period.to_string();
        judged.sort_by(|a, b| a.0.cmp(&b.0));
        for (user, group, share) in judged {
            let (median, peers) = medians.get(&group).copied().unwrap_or((share, 1));
            let above_peers = peers > 1 && share - median >= r.margin;
            if share < r.min_share || !(above_peers || share >= r.max_share) {
                continue;
            }
            let Some(st) = self.users.get(&user) else {
                continue;
            };
            let evidence = st.d1_evidence.clone();
            let (searches, total, app) = (st.d1_searches, st.d1_total, st.app.clone());
            self.raise(
                Finding {
                    rule: "D1",
                    name: "non_bsn_search",
                    severity: r.severity.into(),
                    key: &[&user, &period_s],
                    time_ms: bounds.1.saturating_sub(1),
                    user: Some(&user),
                    app: app.as_deref(),
                    unit: rules.users.get(&*user).and_then(|d| d.unit.as_deref()),
                    period: bounds,
                    summary: format!(
                        "{searches} van {total} verzoeken ({:.0}%) zochten op andere gegevens dan het BSN; de mediaan van de {peers} gebruiker(s) in vergelijkingsgroep {group:?} is {:.0}%",
                        share * 100.0,
                        median * 100.0
                    ),
                    count: searches,
                },
                &evidence,
            );
        }
    }

    /// D8 at the end of a month: each unit's total against its mean of earlier months.
    fn close_trend(&mut self, month: i64) {
        let rules = self.rules.clone();
        let r = &rules.trend;
        if !r.enabled {
            return;
        }
        let bounds = rules.clock.bounds(PeriodKind::Month, month);
        let month_s = month.to_string();
        let mut found = Vec::new();
        for (unit, u) in &mut self.units {
            if u.month != month {
                continue;
            }
            let total = u.count;
            if u.history.len() >= r.baseline_months {
                let mean = u.history.iter().sum::<u64>() as f64 / u.history.len() as f64;
                let big = total.max(mean as u64);
                if big >= r.min_volume && mean > 0.0 {
                    let dev = (total as f64 - mean) / mean;
                    if dev.abs() >= r.deviation {
                        found.push((unit.clone(), total, mean, dev));
                    }
                }
            }
            push_bounded(&mut u.history, total, r.baseline_months);
            u.count = 0;
            u.month = month + 1;
        }
        found.sort_by(|a, b| a.0.cmp(&b.0));
        for (unit, total, mean, dev) in found {
            self.raise(
                Finding {
                    rule: "D8",
                    name: "trend",
                    severity: r.severity.into(),
                    key: &[&unit, &month_s],
                    time_ms: bounds.1.saturating_sub(1),
                    user: None,
                    app: None,
                    unit: Some(&unit),
                    period: bounds,
                    summary: format!(
                        "{total} verzoeken deze maand, {:+.0}% tegen het gemiddelde van {mean:.0} over de {} maanden ervoor",
                        dev * 100.0,
                        r.baseline_months
                    ),
                    count: total,
                },
                &Evidence::default(),
            );
        }
    }

    /// Forgets alert ids past their period, and subjects outside every window (daily).
    fn forget_expired(&mut self, now_ms: u64) {
        self.raised.retain(|_, until| *until > now_ms);
        let window = self
            .rules
            .subject_frequency
            .window_days
            .saturating_mul(DAY_MS);
        self.subjects
            .retain(|_, s| s.last_ms.saturating_add(window) > now_ms);
    }
}

fn push_bounded(v: &mut VecDeque<u64>, x: u64, cap: usize) {
    v.push_back(x);
    while v.len() > cap {
        v.pop_front();
    }
}

fn period_plural(kind: PeriodKind) -> &'static str {
    match kind {
        PeriodKind::Day => "dagen",
        PeriodKind::Week => "weken",
        PeriodKind::Month => "maanden",
    }
}

fn period_word(kind: PeriodKind) -> &'static str {
    match kind {
        PeriodKind::Day => "dag",
        PeriodKind::Week => "week",
        PeriodKind::Month => "maand",
    }
}

/// The alerts `entries` raise when evaluated from scratch, then with the clock moved to
/// `end_ms` (so the periods that ended before it are judged): a backfill.
pub fn evaluate<'a>(
    rules: Arc<Rules>,
    entries: impl IntoIterator<Item = (u64, u64, &'a Entry)>,
    end_ms: u64,
) -> (Vec<AlertRecord>, DetectStats) {
    let mut d = Detector::new(rules);
    let mut out = Vec::new();
    for (seq, time_ms, e) in entries {
        out.extend(d.observe(seq, time_ms, e));
    }
    out.extend(d.tick(end_ms));
    (out, d.stats())
}

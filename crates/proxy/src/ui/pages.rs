//! The pages: what each reads from the store and how it is shown.

use std::collections::HashMap;
use std::sync::{Arc, Mutex};

use askama::Template;
use sluis_audit::{
    AlertRecord, AuditStore, Decision, Entry, EntryKind, HandlingAction, HandlingRecord, Overview,
    OverviewRequest, QueryFilter, StoredEntry, bsn_is_valid, local_day_end_ms, local_day_start_ms,
    mask_bsn, now_ms, rfc3339_local,
};
use sluis_detect::{MIN_UNIT_SIZE, MonthReport, ReportBuilder, Rules};

use super::session::Session;
use crate::context::{RequestContext, bounded};
use crate::error::ProxyError;
use crate::record::Page;
use crate::state::Shared;

/// Rows per page of a search.
pub const PAGE_SIZE: usize = 50;
/// Most entries one search request reads when filtering on user or application (which the
/// store has no index for); the page then says how far it got and offers to go on.
pub const MAX_SCAN: usize = 20_000;
/// How far back the inbox looks.
pub const INBOX_DAYS: u64 = 90;
const DAY_MS: u64 = 86_400_000;
/// Closed months' reports kept in memory (they no longer change).
const MAX_CACHED_REPORTS: usize = 36;
/// How long the report of the month in progress is reused before it is computed again.
const CURRENT_MONTH_TTL: std::time::Duration = std::time::Duration::from_secs(300);
/// How long a request waits for a report being computed before it answers "come back soon".
const REPORT_WAIT: std::time::Duration = std::time::Duration::from_millis(700);

/// What the pages keep: the last integrity check and the reports of closed months.
#[derive(Debug, Default)]
pub struct PageState {
    verified: Mutex<Option<Verified>>,
    reports: Mutex<HashMap<String, Computed>>,
}

/// A month's report: computed (when), or being computed (since when).
#[derive(Debug, Clone)]
enum Computed {
    Ready(Arc<MonthReport>, std::time::Instant),
    Running(std::time::Instant),
}

#[derive(Debug, Clone)]
pub struct Verified {
    pub when: String,
    pub ok: bool,
    pub verdict: String,
    pub lines: Vec<String>,
}

/// What every page shows around its content.
pub struct Chrome {
    pub title: String,
    pub user: Option<String>,
    pub csrf: String,
    pub active: &'static str,
}

impl Chrome {
    fn new(title: &str, session: Option<&Session>, active: &'static str) -> Chrome {
        Chrome {
            title: title.to_owned(),
            user: session.map(|s| s.name.clone().unwrap_or_else(|| s.user.clone())),
            csrf: session.map(|s| s.csrf.clone()).unwrap_or_default(),
            active,
        }
    }
}

fn html<T: Template>(t: &T) -> Result<Page, ProxyError> {
    let body = t
        .render()
        .map_err(|e| ProxyError::Internal(format!("page template: {e}")))?;
    Ok(Page {
        status: 200,
        content_type: "text/html; charset=utf-8",
        body,
        headers: Vec::new(),
        decision: Decision::Permit,
        code: None,
    })
}

/// Local time as `YYYY-MM-DD HH:MM:SS`.
fn when(ms: u64) -> String {
    let t = rfc3339_local(ms);
    t.get(..19).unwrap_or(&t).replacen('T', " ", 1)
}

/// Reads the store on a blocking thread.
async fn with_store<T: Send + 'static>(
    shared: &Shared,
    f: impl FnOnce(&mut dyn AuditStore) -> Result<T, sluis_audit::AuditError> + Send + 'static,
) -> Result<T, ProxyError> {
    let open = shared
        .audit_reader
        .clone()
        .ok_or_else(|| ProxyError::AuditUnavailable("this audit store cannot be read".into()))?;
    tokio::task::spawn_blocking(move || {
        let mut store = open()?;
        f(store.as_mut())
    })
    .await
    .map_err(|e| ProxyError::Internal(e.to_string()))?
    .map_err(|e| ProxyError::AuditUnavailable(e.to_string()))
}

/// Every entry matching `filter`, paging through the store.
fn query_all(
    store: &mut dyn AuditStore,
    mut filter: QueryFilter,
) -> Result<Vec<StoredEntry>, sluis_audit::AuditError> {
    let mut out = Vec::new();
    loop {
        let page = store.query(&filter, 1000)?;
        match filter.next_page(&page) {
            Some(next) => filter = next,
            None => break,
        }
        out.extend(page);
    }
    Ok(out)
}

// ---- messages ------------------------------------------------------------------------------

#[derive(Template)]
#[template(path = "ui/message.html")]
struct Message<'a> {
    chrome: Chrome,
    kind: &'a str,
    text: &'a str,
    link: Option<(&'a str, &'a str)>,
}

/// A page with one message (an error, a confirmation).
pub fn message(
    title: &str,
    session: Option<&Session>,
    kind: &str,
    text: &str,
    link: Option<(&str, &str)>,
) -> Page {
    let t = Message {
        chrome: Chrome::new(title, session, ""),
        kind,
        text,
        link,
    };
    html(&t).unwrap_or_else(|_| Page {
        status: 500,
        content_type: "text/plain; charset=utf-8",
        body: text.to_owned(),
        headers: Vec::new(),
        decision: Decision::Error,
        code: Some("internal"),
    })
}

#[derive(Template)]
#[template(path = "ui/demo_signin.html")]
struct DemoSignIn<'a> {
    chrome: Chrome,
    next: &'a str,
}

pub fn demo_sign_in(next: &str) -> Page {
    let t = DemoSignIn {
        chrome: Chrome::new("Aanmelden (demonstratie)", None, ""),
        next,
    };
    html(&t).unwrap_or_else(|e| super::error_page(&e, None))
}

// ---- home and integrity --------------------------------------------------------------------

pub struct CheckpointView {
    pub chain: String,
    pub seq: u64,
    pub when: String,
}

#[derive(Template)]
#[template(path = "ui/home.html")]
struct Home {
    chrome: Chrome,
    open_alerts: usize,
    total_alerts: usize,
    days: u64,
    detection: bool,
    head: Option<(u64, String)>,
    checkpoint: Option<CheckpointView>,
    verified: Option<Verified>,
}

#[derive(Template)]
#[template(path = "ui/integrity.html")]
struct Integrity {
    chrome: Chrome,
    head: Option<(u64, String)>,
    checkpoint: Option<CheckpointView>,
    chains: Vec<CheckpointView>,
    verified: Option<Verified>,
    witness: bool,
}

type HeadAndCheckpoints = (Option<(u64, String)>, Vec<CheckpointView>);

async fn head_and_checkpoints(shared: &Shared) -> Result<HeadAndCheckpoints, ProxyError> {
    with_store(shared, |store| {
        let head = store
            .head()?
            .map(|(s, h)| (s, h.chars().take(16).collect()));
        let mut last: HashMap<String, (u64, u64)> = HashMap::new();
        for (chain, c) in store.chain_checkpoints()? {
            let e = last.entry(chain).or_insert((c.seq, c.time_ms));
            if c.seq >= e.0 {
                *e = (c.seq, c.time_ms);
            }
        }
        let mut chains: Vec<CheckpointView> = last
            .into_iter()
            .map(|(chain, (seq, t))| CheckpointView {
                chain,
                seq,
                when: when(t),
            })
            .collect();
        chains.sort_by(|a, b| a.chain.cmp(&b.chain));
        Ok((head, chains))
    })
    .await
}

fn newest(chains: &[CheckpointView]) -> Option<CheckpointView> {
    chains
        .iter()
        .max_by(|a, b| a.when.cmp(&b.when))
        .map(|c| CheckpointView {
            chain: c.chain.clone(),
            seq: c.seq,
            when: c.when.clone(),
        })
}

fn ui_state(shared: &Shared) -> Result<&super::UiState, ProxyError> {
    shared.ui.as_ref().ok_or(ProxyError::NotFound)
}

fn last_verified(shared: &Shared) -> Result<Option<Verified>, ProxyError> {
    Ok(ui_state(shared)?
        .pages
        .verified
        .lock()
        .unwrap_or_else(|p| p.into_inner())
        .clone())
}

pub async fn home(shared: &Shared, session: &Session) -> Result<Page, ProxyError> {
    let (head, chains) = head_and_checkpoints(shared).await?;
    let inbox = load_inbox(shared).await?;
    let open = inbox.iter().filter(|a| a.open).count();
    let verified = last_verified(shared)?;
    html(&Home {
        chrome: Chrome::new("Overzicht", Some(session), "home"),
        open_alerts: open,
        total_alerts: inbox.len(),
        days: INBOX_DAYS,
        detection: shared.supervisor.is_some(),
        head,
        checkpoint: newest(&chains),
        verified,
    })
}

pub async fn integrity(shared: &Shared, session: &Session) -> Result<Page, ProxyError> {
    let (head, chains) = head_and_checkpoints(shared).await?;
    let verified = last_verified(shared)?;
    html(&Integrity {
        chrome: Chrome::new("Integriteit van het logboek", Some(session), "integriteit"),
        head,
        checkpoint: newest(&chains),
        chains,
        verified,
        witness: shared.audit_settings.witness.is_some(),
    })
}

/// `POST /ui/integriteit`: walks the whole log (and the witness, when configured) and keeps
/// the verdict for the pages.
pub async fn verify(shared: &Shared) -> Result<Page, ProxyError> {
    let keys = crate::auditing::checkpoint_public_keys(&shared.audit_settings)
        .map_err(|e| ProxyError::Internal(format!("audit.checkpoint_key: {e}")))?;
    let witness = shared.audit_settings.witness.clone();
    let report = with_store(shared, move |store| {
        let witnessed = witness
            .as_deref()
            .map(sluis_audit::read_witness)
            .transpose()?;
        let mut report = store.verify(&keys)?;
        if let Some(w) = &witnessed {
            let stored = store.chain_checkpoints()?;
            let states = sluis_audit::chain_states(&report, &stored);
            let found = sluis_audit::check_witness(w, &states, &keys);
            report.problems_total += found.len() as u64;
            report.problems.extend(found);
            report.problems.sort_by_key(|p| p.seq);
        }
        Ok((report, witnessed.map(|w| w.len())))
    })
    .await?;
    let (report, witnessed) = report;
    let mut lines = vec![format!("{} records gelezen", report.entries)];
    if report.signatures_checked {
        lines.push(format!(
            "{} ondertekende checkpoints geverifieerd",
            report.checkpoints_verified
        ));
    } else {
        lines.push("geen sleutel ingesteld: handtekeningen niet gecontroleerd".into());
    }
    if let Some(n) = witnessed {
        lines.push(format!(
            "{n} checkpoints uit het getuigenbestand vergeleken"
        ));
    }
    if let Some(p) = report.purged_up_to {
        lines.push(format!("opgeschoond tot en met nummer {p} (verantwoord)"));
    }
    for p in report.problems.iter().take(20) {
        lines.push(format!(
            "nummer {}: {:?}, {}",
            p.seq,
            p.kind,
            bounded(&p.detail)
        ));
    }
    let ok = report.is_ok();
    let verdict = if ok {
        "intact".to_owned()
    } else {
        format!("NIET intact: {} probleem/problemen", report.problems_total)
    };
    *ui_state(shared)?
        .pages
        .verified
        .lock()
        .unwrap_or_else(|p| p.into_inner()) = Some(Verified {
        when: when(now_ms()),
        ok,
        verdict,
        lines,
    });
    Ok(super::redirect("/ui/integriteit", None))
}

// ---- search --------------------------------------------------------------------------------

#[derive(Default)]
pub struct SearchForm {
    pub bsn: String,
    pub user: String,
    pub application: String,
    pub activity: String,
    pub from: String,
    pub to: String,
}

pub struct Row {
    pub seq: u64,
    pub when: String,
    pub user: String,
    pub application: String,
    pub activity: String,
    pub operation: String,
    pub outcome: String,
    pub trace: String,
}

#[derive(Template)]
#[template(path = "ui/search.html")]
struct Search {
    chrome: Chrome,
    form: SearchForm,
    activities: Vec<(String, String)>,
    error: Option<String>,
    searched: bool,
    by_subject: bool,
    summary: String,
    rows: Vec<Row>,
    next_after: Option<u64>,
    page_size: usize,
}

fn activities(shared: &Shared) -> Vec<(String, String)> {
    let rt = shared.runtime.load();
    rt.config
        .activities
        .iter()
        .map(|a| (a.id.clone(), a.name.clone()))
        .collect()
}

/// A `YYYY-MM-DD` field to the start of that local day (`end`: the start of the next one).
fn day(field: &str, value: &str, end: bool) -> Result<Option<u64>, String> {
    if value.is_empty() {
        return Ok(None);
    }
    let r = if end {
        local_day_end_ms(value)
    } else {
        local_day_start_ms(value)
    };
    r.map(Some)
        .map_err(|_| format!("{field}: vul een datum in als JJJJ-MM-DD"))
}

/// Checks a BSN without ever repeating it.
fn check_bsn(bsn: &str) -> Result<(), String> {
    if bsn.len() != 9 || !bsn.bytes().all(|b| b.is_ascii_digit()) {
        return Err("Een burgerservicenummer heeft 9 cijfers.".into());
    }
    if !bsn_is_valid(bsn) {
        return Err("Dit is geen geldig burgerservicenummer (de elfproef klopt niet): controleer het op een tikfout.".into());
    }
    Ok(())
}

fn outcome(d: Decision, status: u16) -> String {
    match d {
        Decision::Permit => format!("toegestaan ({status})"),
        Decision::Deny => format!("geweigerd ({status})"),
        Decision::Error => format!("fout ({status})"),
    }
}

pub async fn search(
    shared: &Shared,
    session: &Session,
    form: &[(String, String)],
    ctx: &mut RequestContext,
) -> Result<Page, ProxyError> {
    let get = |k: &str| super::param(form, k).unwrap_or("").trim().to_owned();
    let f = SearchForm {
        bsn: get("bsn"),
        user: get("gebruiker"),
        application: get("applicatie"),
        activity: get("activiteit"),
        from: get("van"),
        to: get("tot"),
    };
    let searched = !form.is_empty();
    let after: Option<u64> = super::param(form, "na").and_then(|v| v.parse().ok());
    let mut page = Search {
        chrome: Chrome::new("Zoeken in het logboek", Some(session), "zoeken"),
        activities: activities(shared),
        error: None,
        searched: false,
        by_subject: !f.bsn.is_empty(),
        summary: String::new(),
        rows: Vec::new(),
        next_after: None,
        page_size: PAGE_SIZE,
        form: f,
    };
    if !searched {
        return html(&page);
    }
    let period = day("Van", &page.form.from, false)
        .and_then(|from| day("Tot en met", &page.form.to, true).map(|to| (from, to)));
    let (from_ms, to_ms) = match period {
        Ok(p) => p,
        Err(e) => {
            page.error = Some(e);
            return html(&page);
        }
    };
    let activity = (!page.form.activity.is_empty()).then(|| page.form.activity.clone());
    if page.by_subject {
        if let Err(e) = check_bsn(&page.form.bsn) {
            page.error = Some(e);
            page.form.bsn.clear();
            return html(&page);
        }
        let Some(keys) = &shared.subjects else {
            page.error = Some("Er is geen sleutel voor betrokkenen ingesteld (audit.subject_key): het logboek kent geen betrokkenen.".into());
            return html(&page);
        };
        ctx.trail.flags.push("subject-search".into());
        let pseudonyms = keys.pseudonyms("BSN", &page.form.bsn);
        let (user_f, app_f) = (page.form.user.clone(), page.form.application.clone());
        let (rows, next) = with_store(shared, move |store| {
            subject_rows(
                store,
                &pseudonyms,
                activity,
                from_ms,
                to_ms,
                after,
                &user_f,
                &app_f,
            )
        })
        .await?;
        page.summary = match (rows.len(), next) {
            (0, _) => "Geen verwerkingen van deze betrokkene gevonden.".into(),
            (n, Some(_)) => format!("De eerste {n} verwerkingen van deze betrokkene."),
            (n, None) => format!("{n} verwerking(en) van deze betrokkene."),
        };
        ctx.trail.records = rows.len() as u64;
        page.rows = rows;
        page.next_after = next;
    } else {
        let (user_f, app_f) = (page.form.user.clone(), page.form.application.clone());
        let (rows, next, scanned_to) = with_store(shared, move |store| {
            access_rows(store, activity, from_ms, to_ms, after, &user_f, &app_f)
        })
        .await?;
        page.summary = match (rows.len(), next) {
            (0, None) => "Niets gevonden.".into(),
            (n, None) => format!("{n} verzoek(en) gevonden."),
            (n, Some(_)) if n < PAGE_SIZE => format!(
                "{n} verzoek(en) gevonden tot logboeknummer {}; zoek verder voor de rest.",
                scanned_to
            ),
            (n, Some(_)) => format!("De eerste {n} verzoeken."),
        };
        ctx.trail.records = rows.len() as u64;
        page.rows = rows;
        page.next_after = next;
    }
    page.searched = true;
    html(&page)
}

fn matches(value: Option<&str>, wanted: &str) -> bool {
    wanted.is_empty() || value.is_some_and(|v| v.eq_ignore_ascii_case(wanted))
}

/// A subject's processing records (by pseudonym, through the subject index), each with the
/// user and application of its request.
#[allow(
    clippy::too_many_arguments,
    reason = "the search form's fields, one by one"
)]
fn subject_rows(
    store: &mut dyn AuditStore,
    pseudonyms: &[String],
    activity: Option<String>,
    from_ms: Option<u64>,
    to_ms: Option<u64>,
    after: Option<u64>,
    user: &str,
    application: &str,
) -> Result<(Vec<Row>, Option<u64>), sluis_audit::AuditError> {
    let mut found: Vec<StoredEntry> = Vec::new();
    for p in pseudonyms {
        let filter = QueryFilter {
            subject: Some(p.clone()),
            kind: Some(EntryKind::Processing),
            activity: activity.clone(),
            from_ms,
            to_ms,
            after_seq: after,
            ..QueryFilter::default()
        };
        found.extend(store.query(&filter, PAGE_SIZE * 4)?);
    }
    found.sort_by_key(|e| e.seq);
    let mut rows = Vec::new();
    let mut more = false;
    let mut requests: HashMap<String, (Option<String>, Option<String>)> = HashMap::new();
    for e in &found {
        let Entry::Processing(p) = &e.entry else {
            continue;
        };
        if rows.len() == PAGE_SIZE {
            more = true;
            break;
        }
        let who = match requests.get(&p.trace_id) {
            Some(w) => w.clone(),
            None => {
                let access = store.query(
                    &QueryFilter {
                        trace_id: Some(p.trace_id.clone()),
                        kind: Some(EntryKind::Access),
                        ..QueryFilter::default()
                    },
                    1,
                )?;
                let w = access
                    .first()
                    .and_then(|a| match &a.entry {
                        Entry::Access(a) => Some((a.user.clone(), a.application.clone())),
                        _ => None,
                    })
                    .unwrap_or((None, None));
                requests.insert(p.trace_id.clone(), w.clone());
                w
            }
        };
        let app = who.1.clone().or_else(|| p.client_app_id.clone());
        if !matches(who.0.as_deref(), user) || !matches(app.as_deref(), application) {
            continue;
        }
        rows.push(Row {
            seq: e.seq,
            when: when(e.time_ms),
            user: who.0.unwrap_or_else(|| "–".into()),
            application: app.unwrap_or_else(|| "–".into()),
            activity: p.processing_activity_id.clone(),
            operation: p.name.clone(),
            outcome: p
                .subject_role
                .map(|r| format!("{r:?}").to_lowercase())
                .unwrap_or_else(|| "–".into()),
            trace: p.trace_id.clone(),
        });
    }
    let next = more.then(|| rows.last().map(|r| r.seq)).flatten();
    Ok((rows, next))
}

/// Access records by activity and period, filtered on user and application while reading (at
/// most [`MAX_SCAN`] entries per call). Returns the rows, where to go on, and how far it read.
fn access_rows(
    store: &mut dyn AuditStore,
    activity: Option<String>,
    from_ms: Option<u64>,
    to_ms: Option<u64>,
    after: Option<u64>,
    user: &str,
    application: &str,
) -> Result<(Vec<Row>, Option<u64>, u64), sluis_audit::AuditError> {
    let mut filter = QueryFilter {
        kind: Some(EntryKind::Access),
        activity,
        from_ms,
        to_ms,
        after_seq: after,
        ..QueryFilter::default()
    };
    let mut rows = Vec::new();
    let mut scanned = 0usize;
    let mut last_seq = after.unwrap_or(0);
    loop {
        let batch = if user.is_empty() && application.is_empty() {
            PAGE_SIZE + 1
        } else {
            1000
        };
        let page = store.query(&filter, batch)?;
        if page.is_empty() {
            return Ok((rows, None, last_seq));
        }
        for e in &page {
            scanned += 1;
            let Entry::Access(a) = &e.entry else {
                continue;
            };
            if !matches(a.user.as_deref(), user)
                || !matches(
                    a.application.as_deref().or(a.client_id.as_deref()),
                    application,
                )
            {
                last_seq = e.seq;
                continue;
            }
            if rows.len() == PAGE_SIZE {
                return Ok((rows, Some(last_seq), last_seq));
            }
            last_seq = e.seq;
            rows.push(Row {
                seq: e.seq,
                when: when(e.time_ms),
                user: a.user.clone().unwrap_or_else(|| "–".into()),
                application: a
                    .application
                    .clone()
                    .or_else(|| a.client_id.clone())
                    .unwrap_or_else(|| "–".into()),
                activity: a.processing_activity.clone().unwrap_or_else(|| "–".into()),
                operation: a.operation.clone(),
                outcome: outcome(a.decision, a.status),
                trace: a.trace_id.clone(),
            });
        }
        if scanned >= MAX_SCAN {
            return Ok((rows, Some(last_seq), last_seq));
        }
        match filter.next_page(&page) {
            Some(next) => filter = next,
            None => return Ok((rows, None, last_seq)),
        }
    }
}

// ---- the citizen's overview ----------------------------------------------------------------

#[derive(Template)]
#[template(path = "ui/inzage.html")]
struct OverviewForm {
    chrome: Chrome,
    error: Option<String>,
}

pub fn overview_form(session: &Session, error: Option<String>) -> Page {
    let t = OverviewForm {
        chrome: Chrome::new("Inzageverzoek", Some(session), "inzage"),
        error,
    };
    html(&t).unwrap_or_else(|e| super::error_page(&e, Some(session)))
}

/// `POST /ui/inzage`: the overview letter for one BSN, printable (A4 print stylesheet).
pub async fn overview(
    shared: &Shared,
    session: &Session,
    form: &[(String, String)],
    ctx: &mut RequestContext,
) -> Result<Page, ProxyError> {
    let get = |k: &str| super::param(form, k).unwrap_or("").trim().to_owned();
    let bsn = get("bsn");
    if let Err(e) = check_bsn(&bsn) {
        return Ok(overview_form(session, Some(e)));
    }
    let period = day("Van", &get("van"), false)
        .and_then(|from| day("Tot en met", &get("tot"), true).map(|to| (from, to)));
    let (from_ms, to_ms) = match period {
        Ok(p) => p,
        Err(e) => return Ok(overview_form(session, Some(e))),
    };
    let Some(keys) = &shared.subjects else {
        return Ok(overview_form(
            session,
            Some("Er is geen sleutel voor betrokkenen ingesteld (audit.subject_key).".into()),
        ));
    };
    ctx.trail.flags.push("subject-overview".into());
    let pseudonyms = keys.pseudonyms("BSN", &bsn);
    let rows = with_store(shared, move |store| {
        let mut rows = Vec::new();
        for p in &pseudonyms {
            rows.extend(store.processing_by_subject(
                p,
                from_ms.unwrap_or(0),
                to_ms.unwrap_or(u64::MAX),
            )?);
        }
        rows.sort_by_key(|r| r.0);
        Ok(rows)
    })
    .await?;
    let rt = shared.runtime.load();
    let register = crate::auditing::register_activities(&rt.config.activities);
    let overview = Overview::build(
        &OverviewRequest {
            controller: &rt.config.audit.controller,
            register: &register,
            subject_label: Some(mask_bsn(&bsn)),
            from_ms,
            to_ms,
            generated_ms: now_ms(),
        },
        &rows,
    );
    ctx.trail.records = overview.processings.len() as u64;
    Ok(Page {
        status: 200,
        content_type: "text/html; charset=utf-8",
        body: overview.to_html(),
        headers: Vec::new(),
        decision: Decision::Permit,
        code: None,
    })
}

// ---- alerts --------------------------------------------------------------------------------

pub struct AlertView {
    pub id: String,
    pub seq: u64,
    pub rule: String,
    pub name: String,
    pub title: &'static str,
    pub severity: &'static str,
    pub severity_nl: &'static str,
    pub summary: String,
    pub unit: String,
    pub period: String,
    pub count: u64,
    pub when: String,
    pub status: &'static str,
    pub open: bool,
    pub time_ms: u64,
    pub record: AlertRecord,
    pub history: Vec<HandlingRecord>,
}

pub struct HandlingView {
    pub when: String,
    pub by: String,
    pub action: &'static str,
    pub reason: String,
}

/// The rules' names in Dutch, as the inbox shows them.
fn rule_title(rule: &str) -> &'static str {
    match rule {
        "D1" => "veel zoeken zonder BSN",
        "D2" => "buiten kantoortijd",
        "D3" => "ongewoon veel opvragingen",
        "D4" => "steeds dezelfde persoon",
        "D5" => "persoon op een bewaaklijst",
        "D6" => "geen zaak bij de opvraging",
        "D7" => "zichzelf, familie of buren",
        "D8" => "stijgende lijn",
        "D9" => "accountgebruik",
        "D10" => "aftasten van rechten",
        "D11" => "massaal zoeken",
        "D12" => "buiten de taak",
        "D13" => "bijzondere gegevens",
        _ => "overige regel",
    }
}

fn severity_nl(s: sluis_audit::Severity) -> &'static str {
    match s {
        sluis_audit::Severity::Low => "laag",
        sluis_audit::Severity::Medium => "middel",
        sluis_audit::Severity::High => "hoog",
    }
}

fn action_nl(a: HandlingAction) -> &'static str {
    match a {
        HandlingAction::Acknowledge => "in behandeling genomen",
        HandlingAction::Dismiss => "afgewezen",
        HandlingAction::Escalate => "geëscaleerd",
        HandlingAction::View => "bekeken",
    }
}

fn status_of(history: &[HandlingRecord]) -> (&'static str, bool) {
    match history
        .iter()
        .rev()
        .find(|h| h.action != HandlingAction::View)
        .map(|h| h.action)
    {
        None => ("open", true),
        Some(HandlingAction::Acknowledge) => ("in behandeling", true),
        Some(HandlingAction::Dismiss) => ("afgewezen", false),
        Some(HandlingAction::Escalate) => ("geëscaleerd", false),
        Some(HandlingAction::View) => ("open", true),
    }
}

/// The alerts of the last [`INBOX_DAYS`] with their handling, newest first.
async fn load_inbox(shared: &Shared) -> Result<Vec<AlertView>, ProxyError> {
    let since = now_ms().saturating_sub(INBOX_DAYS * DAY_MS);
    with_store(shared, move |store| {
        let alerts = query_all(
            store,
            QueryFilter {
                kind: Some(EntryKind::Alert),
                from_ms: Some(since),
                ..QueryFilter::default()
            },
        )?;
        let handled = query_all(
            store,
            QueryFilter {
                kind: Some(EntryKind::Handling),
                from_ms: Some(since),
                ..QueryFilter::default()
            },
        )?;
        let mut history: HashMap<String, Vec<HandlingRecord>> = HashMap::new();
        for e in handled {
            if let Entry::Handling(h) = e.entry {
                history.entry(h.alert_id.clone()).or_default().push(h);
            }
        }
        let mut out: Vec<AlertView> = Vec::new();
        let mut seen = std::collections::HashSet::new();
        for e in alerts {
            let Entry::Alert(a) = e.entry else { continue };
            if !seen.insert(a.id.clone()) {
                continue;
            }
            let h = history.remove(&a.id).unwrap_or_default();
            let (status, open) = status_of(&h);
            out.push(AlertView {
                id: a.id.clone(),
                seq: e.seq,
                rule: a.rule.clone(),
                name: a.name.clone(),
                title: rule_title(&a.rule),
                severity: a.severity.as_str(),
                severity_nl: severity_nl(a.severity),
                summary: a.summary.clone(),
                unit: a.unit.clone().unwrap_or_else(|| "–".into()),
                period: format!("{} – {}", when(a.period_from_ms), when(a.period_to_ms)),
                count: a.count,
                when: when(a.time_ms),
                status,
                open,
                time_ms: a.time_ms,
                record: a,
                history: h,
            });
        }
        out.sort_by(|a, b| b.time_ms.cmp(&a.time_ms).then(b.seq.cmp(&a.seq)));
        Ok(out)
    })
    .await
}

#[derive(Template)]
#[template(path = "ui/alerts.html")]
struct Alerts {
    chrome: Chrome,
    status: String,
    rows: Vec<AlertView>,
    days: u64,
}

pub async fn alerts(
    shared: &Shared,
    session: &Session,
    status: Option<&str>,
) -> Result<Page, ProxyError> {
    let status = if status == Some("alle") {
        "alle"
    } else {
        "open"
    };
    let mut rows = load_inbox(shared).await?;
    if status == "open" {
        rows.retain(|a| a.open);
    }
    html(&Alerts {
        chrome: Chrome::new("Meldingen", Some(session), "meldingen"),
        status: status.to_owned(),
        rows,
        days: INBOX_DAYS,
    })
}

#[derive(Template)]
#[template(path = "ui/alert.html")]
struct AlertPage {
    chrome: Chrome,
    a: AlertView,
    identities: bool,
    user: String,
    application: String,
    evidence_seqs: Vec<u64>,
    trace_ids: Vec<String>,
    subjects: Vec<String>,
    history: Vec<HandlingView>,
    error: Option<String>,
}

fn valid_id(id: &str) -> bool {
    !id.is_empty() && id.len() <= 64 && id.bytes().all(|b| b.is_ascii_hexdigit())
}

/// `GET /ui/meldingen/{id}`. A reviewer who may see identities sees who and the evidence, and
/// that look is recorded first (a `view` handling record).
pub async fn alert(
    shared: &Shared,
    session: &Session,
    id: &str,
    error: Option<String>,
    ctx: &mut RequestContext,
) -> Result<Page, ProxyError> {
    if !valid_id(id) {
        return Err(ProxyError::NotFound);
    }
    let inbox = load_inbox(shared).await?;
    let Some(a) = inbox.into_iter().find(|a| a.id == id) else {
        return Err(ProxyError::NotFound);
    };
    ctx.trail.records = 1;
    if session.identities {
        let view = Entry::Handling(HandlingRecord {
            alert_id: a.id.clone(),
            action: HandlingAction::View,
            reason: None,
            by: session.user.clone(),
            time_ms: now_ms(),
        });
        shared
            .audit
            .commit_entries(vec![view])
            .await
            .map_err(|e| ProxyError::AuditUnavailable(e.to_string()))?;
    }
    let history = a
        .history
        .iter()
        .map(|h| HandlingView {
            when: when(h.time_ms),
            by: h.by.clone(),
            action: action_nl(h.action),
            reason: h.reason.clone().unwrap_or_default(),
        })
        .collect();
    let r = a.record.clone();
    html(&AlertPage {
        chrome: Chrome::new(
            &format!("Melding {} {}", a.rule, a.title),
            Some(session),
            "meldingen",
        ),
        identities: session.identities,
        user: r.user.unwrap_or_else(|| "–".into()),
        application: r.application.unwrap_or_else(|| "–".into()),
        evidence_seqs: r.evidence_seqs,
        trace_ids: r.trace_ids,
        subjects: r.subjects,
        history,
        error,
        a,
    })
}

/// `POST /ui/meldingen/{id}`: acknowledge, dismiss (with a reason) or escalate (with a reason),
/// recorded as a handling record before the inbox shows it.
pub async fn handle_alert(
    shared: &Shared,
    session: &Session,
    id: &str,
    form: &[(String, String)],
    ctx: &mut RequestContext,
) -> Result<Page, ProxyError> {
    if !valid_id(id) {
        return Err(ProxyError::NotFound);
    }
    let action = super::param(form, "handeling")
        .and_then(HandlingAction::parse)
        .filter(|a| *a != HandlingAction::View);
    let reason: String = super::param(form, "reden")
        .unwrap_or("")
        .trim()
        .chars()
        .take(1000)
        .collect();
    let problem = match action {
        None => Some("Kies een handeling."),
        Some(a) if a.needs_reason() && reason.is_empty() => {
            Some("Geef een toelichting: die is verplicht bij afwijzen en escaleren.")
        }
        _ => None,
    };
    if let Some(p) = problem {
        let mut page = alert(shared, session, id, Some(p.to_owned()), ctx).await?;
        page.status = 422;
        page.decision = Decision::Deny;
        page.code = Some("invalidForm");
        return Ok(page);
    }
    let Some(action) = action else {
        return Err(ProxyError::NotFound);
    };
    let inbox = load_inbox(shared).await?;
    if !inbox.iter().any(|a| a.id == id) {
        return Err(ProxyError::NotFound);
    }
    ctx.trail.flags.push(format!("alert-{}", action.as_str()));
    let entry = Entry::Handling(HandlingRecord {
        alert_id: id.to_owned(),
        action,
        reason: (!reason.is_empty()).then_some(reason),
        by: session.user.clone(),
        time_ms: now_ms(),
    });
    shared
        .audit
        .commit_entries(vec![entry])
        .await
        .map_err(|e| ProxyError::AuditUnavailable(e.to_string()))?;
    Ok(super::redirect(&format!("/ui/meldingen/{id}"), None))
}

// ---- the monthly report --------------------------------------------------------------------

pub struct Bar {
    pub label: String,
    pub value: u64,
    pub x: u32,
    pub y: u32,
    pub w: u32,
    pub h: u32,
    pub lx: u32,
    pub ly: u32,
    pub vx: u32,
}

pub struct Chart {
    pub id: &'static str,
    pub title: String,
    pub desc: String,
    pub width: u32,
    pub height: u32,
    pub vertical: bool,
    pub bars: Vec<Bar>,
}

fn scale(v: u64, max: u64, len: u32) -> u32 {
    if max == 0 {
        return 0;
    }
    let s = (v as f64 / max as f64 * f64::from(len)).round();
    (s as u32).max(u32::from(v > 0))
}

/// Horizontal bars, at most 12 (the rest summed into the last).
fn hbars(id: &'static str, title: &str, items: &[(String, u64)]) -> Chart {
    const LABEL: u32 = 260;
    const AREA: u32 = 380;
    const ROW: u32 = 26;
    let mut items: Vec<(String, u64)> = items.to_vec();
    if items.len() > 12 {
        let rest: u64 = items.iter().skip(11).map(|(_, n)| n).sum();
        items.truncate(11);
        items.push(("overige".into(), rest));
    }
    let max = items.iter().map(|(_, n)| *n).max().unwrap_or(0);
    let bars = items
        .iter()
        .enumerate()
        .map(|(i, (label, n))| {
            let y = 8 + ROW * i as u32;
            let w = scale(*n, max, AREA);
            Bar {
                label: label.chars().take(36).collect(),
                value: *n,
                x: LABEL,
                y,
                w,
                h: 18,
                lx: 4,
                ly: y + 14,
                vx: LABEL + w + 6,
            }
        })
        .collect::<Vec<_>>();
    let desc = items
        .iter()
        .map(|(l, n)| format!("{l}: {n}"))
        .collect::<Vec<_>>()
        .join("; ");
    Chart {
        id,
        title: title.to_owned(),
        desc: if desc.is_empty() {
            "geen gegevens".into()
        } else {
            desc
        },
        width: LABEL + AREA + 80,
        height: 16 + ROW * bars.len().max(1) as u32,
        vertical: false,
        bars,
    }
}

/// One vertical bar per day.
fn days_chart(r: &MonthReport) -> Chart {
    const AREA: u32 = 160;
    const STEP: u32 = 20;
    let max = r.by_day.iter().map(|(_, n)| *n).max().unwrap_or(0);
    let bars = r
        .by_day
        .iter()
        .map(|(d, n)| {
            let h = scale(*n, max, AREA);
            let x = 10 + STEP * d.saturating_sub(1);
            Bar {
                label: d.to_string(),
                value: *n,
                x,
                y: 8 + AREA - h,
                w: 14,
                h,
                lx: x + 7,
                ly: 8 + AREA + 16,
                vx: 0,
            }
        })
        .collect();
    Chart {
        id: "dag",
        title: "Verzoeken per dag".into(),
        desc: format!("hoogste dag: {max} verzoeken"),
        width: 10 + STEP * 31 + 10,
        height: AREA + 32,
        vertical: true,
        bars,
    }
}

#[derive(Template)]
#[template(path = "ui/report.html")]
struct Report {
    chrome: Chrome,
    r: MonthReport,
    after_hours_pct: String,
    charts: Vec<Chart>,
    min_unit: u64,
}

fn rules(shared: &Shared) -> Result<Arc<Rules>, ProxyError> {
    let rt = shared.runtime.load();
    match &rt.config.detection {
        Some(d) => Ok(Arc::clone(&d.rules)),
        None => sluis_detect::parse_rules("", "the default rules")
            .map(Arc::new)
            .map_err(|e| ProxyError::Internal(e.to_string())),
    }
}

/// Computes a month's report on a blocking thread unless it is being computed already; the
/// result lands in the pages' state.
fn start_report(shared: &Arc<Shared>, rules: &Arc<Rules>, month_index: i64, key: &str) {
    let Ok(state) = ui_state(shared) else { return };
    {
        let mut reports = state
            .pages
            .reports
            .lock()
            .unwrap_or_else(|p| p.into_inner());
        if let Some(Computed::Running(since)) = reports.get(key)
            && since.elapsed() < std::time::Duration::from_secs(600)
        {
            return;
        }
        if reports.len() >= MAX_CACHED_REPORTS {
            reports.retain(|_, c| matches!(c, Computed::Running(_)));
        }
        reports.insert(key.to_owned(), Computed::Running(std::time::Instant::now()));
    }
    let (shared, rules, key) = (Arc::clone(shared), Arc::clone(rules), key.to_owned());
    tokio::spawn(async move {
        let result = with_store(&shared, move |store| {
            let mut b = ReportBuilder::new(&rules, month_index);
            let (from, to) = b.bounds();
            for kind in [EntryKind::Access, EntryKind::Alert] {
                let mut filter = QueryFilter {
                    kind: Some(kind),
                    from_ms: Some(from),
                    to_ms: Some(to),
                    ..QueryFilter::default()
                };
                loop {
                    let page = store.query(&filter, 5000)?;
                    for e in &page {
                        b.add(e.time_ms, &e.entry);
                    }
                    match filter.next_page(&page) {
                        Some(next) => filter = next,
                        None => break,
                    }
                }
            }
            Ok(b.finish())
        })
        .await;
        let Ok(state) = ui_state(&shared) else { return };
        let mut reports = state
            .pages
            .reports
            .lock()
            .unwrap_or_else(|p| p.into_inner());
        match result {
            Ok(r) => {
                reports.insert(key, Computed::Ready(Arc::new(r), std::time::Instant::now()));
            }
            Err(e) => {
                tracing::warn!(month = %key, error = %e, "the monthly report could not be computed");
                reports.remove(&key);
            }
        }
    });
}

/// `GET /ui/rapport?maand=YYYY-MM` (default: last month).
pub async fn report(
    shared: &Arc<Shared>,
    session: &Session,
    month: Option<&str>,
) -> Result<Page, ProxyError> {
    let rules = rules(shared)?;
    let this_month = rules.clock.local(now_ms()).month;
    let month_index = match month.filter(|m| !m.is_empty()) {
        None => this_month - 1,
        Some(m) => match sluis_detect::parse_month(m) {
            Some(i) if i <= this_month => i,
            Some(_) => {
                return Ok(message(
                    "Maandrapport",
                    Some(session),
                    "fout",
                    "Die maand is nog niet begonnen.",
                    Some(("/ui/rapport", "Naar het rapport van vorige maand")),
                ));
            }
            None => {
                return Ok(message(
                    "Maandrapport",
                    Some(session),
                    "fout",
                    "Vul een maand in als JJJJ-MM.",
                    Some(("/ui/rapport", "Naar het rapport van vorige maand")),
                ));
            }
        },
    };
    let key = sluis_detect::month_text(month_index);
    let closed = month_index < this_month;
    let state = ui_state(shared)?;
    let ready = |state: &super::UiState| -> Option<Arc<MonthReport>> {
        match state
            .pages
            .reports
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .get(&key)
        {
            Some(Computed::Ready(r, at)) if closed || at.elapsed() < CURRENT_MONTH_TTL => {
                Some(Arc::clone(r))
            }
            _ => None,
        }
    };
    let mut r = ready(state);
    if r.is_none() {
        start_report(shared, &rules, month_index, &key);
        // A small log's report is there at once; a large one's comes back in a while.
        let waited = std::time::Instant::now();
        while r.is_none() && waited.elapsed() < REPORT_WAIT {
            tokio::time::sleep(std::time::Duration::from_millis(20)).await;
            r = ready(state);
        }
    }
    let Some(r) = r else {
        let mut page = message(
            &format!("Maandrapport {key}"),
            Some(session),
            "info",
            "Het rapport wordt berekend: sluis leest de verzoeken van die maand. Deze pagina ververst zichzelf over enkele seconden.",
            Some((&format!("/ui/rapport?maand={key}"), "Nu verversen")),
        );
        page.body = page.body.replacen(
            "<meta charset=\"utf-8\">",
            &format!("<meta charset=\"utf-8\">\n<meta http-equiv=\"refresh\" content=\"3;url=/ui/rapport?maand={key}\">"),
            1,
        );
        return Ok(page);
    };
    let r = (*r).clone();
    let mix = vec![
        ("opvragen met BSN".to_owned(), r.bsn_lookups),
        ("zoeken op andere gegevens".to_owned(), r.searches),
        ("zoeken op adres".to_owned(), r.address_searches),
        ("overig".to_owned(), r.other),
    ];
    let hours = vec![
        (
            "binnen kantoortijd".to_owned(),
            r.requests.saturating_sub(r.after_hours),
        ),
        ("buiten kantoortijd".to_owned(), r.after_hours),
    ];
    let charts = vec![
        hbars("verwerking", "Verzoeken per verwerking", &r.by_activity),
        hbars("afdeling", "Verzoeken per afdeling", &r.by_unit),
        hbars("uren", "Binnen en buiten kantoortijd", &hours),
        hbars("soort", "Soort zoekvraag", &mix),
        days_chart(&r),
        hbars("regels", "Meldingen per regel", &r.rules_fired),
    ];
    html(&Report {
        chrome: Chrome::new(&format!("Maandrapport {key}"), Some(session), "rapport"),
        after_hours_pct: format!("{:.1}%", r.after_hours_share() * 100.0),
        charts,
        min_unit: MIN_UNIT_SIZE,
        r,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn bars_are_scaled_to_the_largest_and_never_vanish() {
        let c = hbars(
            "t",
            "t",
            &[("a".into(), 100), ("b".into(), 1), ("c".into(), 0)],
        );
        assert_eq!(c.bars[0].w, 380);
        assert_eq!(c.bars[1].w, 4);
        assert_eq!(c.bars[2].w, 0);
        let many: Vec<(String, u64)> = (0..20).map(|i| (format!("u{i}"), 1)).collect();
        let c = hbars("t", "t", &many);
        assert_eq!(c.bars.len(), 12);
        assert_eq!(c.bars[11].value, 9);
    }

    #[test]
    fn a_bsn_is_checked_without_repeating_it() {
        for bad in ["12345678", "1234567890", "12345678a", "123456789"] {
            let e = check_bsn(bad).unwrap_err();
            assert!(!e.contains(bad), "{e}");
        }
        assert!(check_bsn("999993653").is_ok());
    }
}

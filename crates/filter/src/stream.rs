//! The single-pass form of [`HalFilter`]: the upstream body is read once and what the caller may
//! see is written straight to the output, without building a tree of the whole body.
//!
//! Values delivered at `read` are copied byte for byte from the upstream's text; serde_json checks
//! every byte it passes over, so the output is valid JSON whenever the pass completes. Only what
//! changes is parsed: values rendered below `read`, fields with sub-fields, link `href`s and
//! titles, and the display value a `self` title is compared with.
//!
//! The pass gives up whenever the body is anything but the expected shape: invalid JSON, a key
//! twice in one object, no `_embedded` object in a list, a list where an object belongs, nesting
//! deeper than [`MAX_DEPTH`], more than [`MAX_KEYS`] names in an object it tracks. The caller then
//! runs the tree form ([`HalFilter::list`], [`HalFilter::detail`]) on the same body, which decides —
//! its answer or its error. Both forms agree on every body the pass accepts (the property test
//! `single_pass_agrees_with_the_tree_form`). What differs lies in values the pass copies or skips
//! whole, which it scans without building them:
//! - a number keeps the upstream's spelling (`1e2`, an integer beyond 64 bits, even one beyond the
//!   range of a float, which the tree form refuses), where the tree form writes it as a float, and
//!   a string keeps its escapes;
//! - an object inside such a value keeps a key the upstream repeated, where the tree form keeps
//!   the last;
//! - nesting deeper than serde_json's limit of 128 inside such a value is not refused (the scan
//!   does not recurse, so the pass's stack stays bounded).

use std::borrow::Cow;
use std::fmt;
use std::sync::Arc;

use serde::de::{self, DeserializeSeed, Deserializer, IgnoredAny, MapAccess, SeqAccess, Visitor};
use serde_json::value::RawValue;
use serde_json::{Map, Value};
use sluis_policy::{Level, TablePlan, Via};

use crate::{HalFilter, count_nested, expandable, narrow, rendered};

/// Nesting of records in `_embedded` (each level a record's own `_embedded`) the pass follows.
pub const MAX_DEPTH: u32 = 16;
/// Names of one object tracked for duplicates, beyond the fields of a table's plan.
pub const MAX_KEYS: usize = 32;
/// Top-level fields of a table the pass tracks for duplicates (a bit each).
const MAX_FIELDS: usize = 256;

/// The seed of a visitor: the value read with `$how`, handed to the visitor itself.
macro_rules! seed {
    ($t:ty, $v:ty, $how:ident) => {
        impl<'de> DeserializeSeed<'de> for $t {
            type Value = $v;
            fn deserialize<D: Deserializer<'de>>(self, d: D) -> Result<$v, D::Error> {
                d.$how(self)
            }
        }
    };
}

/// The visits of a value that is neither an object nor a list: each answers `$answer`, with the
/// visitor bound to `$this` when one is named. `@values` leaves out `null`.
macro_rules! scalars {
    ($answer:expr) => {
        scalars!(@values _this => $answer);
        fn visit_unit<E: de::Error>(self) -> Result<Self::Value, E> {
            $answer
        }
    };
    ($this:ident => $answer:expr) => {
        scalars!(@values $this => $answer);
        fn visit_unit<E: de::Error>(self) -> Result<Self::Value, E> {
            let $this = self;
            $answer
        }
    };
    (@values $this:ident => $answer:expr) => {
        fn visit_bool<E: de::Error>(self, _: bool) -> Result<Self::Value, E> {
            let $this = self;
            $answer
        }
        fn visit_i64<E: de::Error>(self, _: i64) -> Result<Self::Value, E> {
            let $this = self;
            $answer
        }
        fn visit_u64<E: de::Error>(self, _: u64) -> Result<Self::Value, E> {
            let $this = self;
            $answer
        }
        fn visit_f64<E: de::Error>(self, _: f64) -> Result<Self::Value, E> {
            let $this = self;
            $answer
        }
        fn visit_str<E: de::Error>(self, _: &str) -> Result<Self::Value, E> {
            let $this = self;
            $answer
        }
    };
}

/// The pass's own refusal: never shown, the tree form answers instead.
fn give_up<E: de::Error>() -> E {
    E::custom("the single pass does not take this body")
}

/// Filters a list body in one pass; `None` when the tree form must decide.
pub(crate) fn list(
    f: &mut HalFilter<'_, '_>,
    plan: &TablePlan,
    table_id: &str,
    body: &str,
) -> Option<Vec<u8>> {
    let mut pass = Pass::new(f);
    let mut out = Vec::with_capacity(body.len());
    let mut de = serde_json::Deserializer::from_str(body);
    ListSeed {
        pass: &mut pass,
        plan,
        table_id,
        out: &mut out,
    }
    .deserialize(&mut de)
    .ok()?;
    de.end().ok()?;
    Some(out)
}

/// Filters a detail body in one pass; `None` when the tree form must decide.
pub(crate) fn detail(f: &mut HalFilter<'_, '_>, plan: &TablePlan, body: &str) -> Option<Vec<u8>> {
    let mut pass = Pass::new(f);
    let mut out = Vec::with_capacity(body.len());
    let mut de = serde_json::Deserializer::from_str(body);
    Record {
        pass: &mut pass,
        plan,
        top: true,
        lenient: false,
        out: &mut out,
    }
    .deserialize(&mut de)
    .ok()?;
    de.end().ok()?;
    pass.f.summary.records += 1;
    Some(out)
}

/// State of one pass over one body.
struct Pass<'p, 'a, 'k> {
    f: &'p mut HalFilter<'a, 'k>,
    /// Plans of relation targets, looked up once per body.
    plans: Vec<(String, Arc<TablePlan>)>,
    /// Spare buffers for the data members of records being written.
    spare: Vec<Vec<u8>>,
    /// `_fields` of the request.
    fields: Option<Vec<String>>,
    depth: u32,
    /// The rewriter's public base can be written without escapes.
    plain_base: bool,
    /// Titles written before their record's display value was known (see [`TitleRule::Pending`]).
    pending: Vec<Pending>,
    /// Per plan (by address), the field position of each member of the last record, in order:
    /// records of one table come with their keys in the same order, so the position is found by
    /// one comparison instead of a hash lookup.
    orders: Vec<(usize, Vec<u32>)>,
    /// Per plan (by address), whether the caller sees its title field at `read`.
    titles: Vec<(usize, bool)>,
    /// Per plan (by address) and link name, the title rule of a relation's link (`None`: not an
    /// expandable relation), at most [`MAX_KEYS`] of them.
    link_rules: Vec<(usize, Box<str>, Option<bool>)>,
}

/// A plan's identity for the caches of one pass (plans live for the whole pass).
fn plan_id(plan: &TablePlan) -> usize {
    std::ptr::from_ref(plan) as usize
}

/// No field: the member at this place of the last record was not in the plan.
const UNKNOWN: u32 = u32::MAX;

impl<'p, 'a, 'k> Pass<'p, 'a, 'k> {
    fn new(f: &'p mut HalFilter<'a, 'k>) -> Self {
        let fields = f.fields.clone();
        let plain_base = plain(&f.links.public_base);
        Pass {
            f,
            plans: Vec::new(),
            spare: Vec::new(),
            fields,
            depth: 0,
            plain_base,
            pending: Vec::new(),
            orders: Vec::new(),
            titles: Vec::new(),
            link_rules: Vec::new(),
        }
    }

    /// The rule for the title of a link named `k` that is not `self`: `Some(keep)` when `k` is a
    /// relation the caller may expand (its title kept when the target's display field is
    /// readable), `None` otherwise.
    fn relation_rule<E: de::Error>(
        &mut self,
        plan: &TablePlan,
        k: &str,
    ) -> Result<Option<bool>, E> {
        let id = plan_id(plan);
        if let Some((_, _, rule)) = self
            .link_rules
            .iter()
            .find(|(p, name, _)| *p == id && &**name == k)
        {
            return Ok(*rule);
        }
        let rule = match expandable(plan, k) {
            Some(target) => Some(self.plan::<E>(&target)?.title_readable()),
            None => None,
        };
        if self.link_rules.len() < MAX_KEYS {
            self.link_rules.push((id, k.into(), rule));
        }
        Ok(rule)
    }

    fn plan<E: de::Error>(&mut self, target: &str) -> Result<Arc<TablePlan>, E> {
        if let Some((_, p)) = self.plans.iter().find(|(t, _)| t == target) {
            return Ok(Arc::clone(p));
        }
        let p = self
            .f
            .policy
            .plan(target, self.f.scopes)
            .map_err(|_| give_up::<E>())?;
        self.plans.push((target.to_owned(), Arc::clone(&p)));
        Ok(p)
    }

    fn buffer(&mut self) -> Vec<u8> {
        let mut b = self.spare.pop().unwrap_or_default();
        b.clear();
        b
    }
}

/// An object key, borrowed from the body unless it had escapes.
struct Key<'de>(Cow<'de, str>);

impl<'de> de::Deserialize<'de> for Key<'de> {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        d.deserialize_str(StrVisitor).map(Key)
    }
}

struct StrVisitor;

impl<'de> Visitor<'de> for StrVisitor {
    type Value = Cow<'de, str>;
    fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("a string")
    }
    fn visit_borrowed_str<E: de::Error>(self, v: &'de str) -> Result<Self::Value, E> {
        Ok(Cow::Borrowed(v))
    }
    fn visit_str<E: de::Error>(self, v: &str) -> Result<Self::Value, E> {
        Ok(Cow::Owned(v.to_owned()))
    }
}

/// The names of one object so far, to refuse an object that repeats one. The first few are kept
/// inline: most objects a pass tracks (links, `_embedded`) have only a handful.
#[derive(Default)]
struct Seen<'de> {
    inline: [Option<Cow<'de, str>>; 6],
    more: Vec<Cow<'de, str>>,
}

impl<'de> Seen<'de> {
    fn first<E: de::Error>(&mut self, k: Cow<'de, str>) -> Result<(), E> {
        let mut free = None;
        for slot in &mut self.inline {
            match slot {
                Some(seen) if *seen == k => return Err(give_up()),
                Some(_) => {}
                None => {
                    free = Some(slot);
                    break;
                }
            }
        }
        match free {
            Some(slot) => *slot = Some(k),
            None => {
                if self.more.len() + self.inline.len() >= MAX_KEYS || self.more.contains(&k) {
                    return Err(give_up());
                }
                self.more.push(k);
            }
        }
        Ok(())
    }
}

/// The first `end` bytes of a text, still borrowed from the body when it was.
fn cut(text: Cow<'_, str>, end: usize) -> Cow<'_, str> {
    match text {
        Cow::Borrowed(b) => Cow::Borrowed(b.get(..end).unwrap_or(b)),
        Cow::Owned(mut o) => {
            o.truncate(end);
            Cow::Owned(o)
        }
    }
}

/// True when `s` can be written between quotes as it is.
fn plain(s: &str) -> bool {
    !s.bytes().any(|b| b < 0x20 || b == b'"' || b == b'\\')
}

/// Writes a string taken from the body: as it is when serde_json borrowed it (which it does only
/// for strings without escapes, and a JSON string holds no bare quote or control character),
/// escaped when it was decoded.
#[expect(
    clippy::ptr_arg,
    reason = "whether serde_json borrowed the text is what counts"
)]
fn write_text(out: &mut Vec<u8>, s: &Cow<'_, str>) {
    match s {
        Cow::Borrowed(b) => {
            out.push(b'"');
            out.extend_from_slice(b.as_bytes());
            out.push(b'"');
        }
        Cow::Owned(o) => write_str(out, o),
    }
}

/// Writes `s` as a JSON string.
fn write_str(out: &mut Vec<u8>, s: &str) {
    out.push(b'"');
    write_str_contents(out, s);
    out.push(b'"');
}

/// Writes the escaped contents of a JSON string (without quotes).
fn write_str_contents(out: &mut Vec<u8>, s: &str) {
    const HEX: &[u8; 16] = b"0123456789abcdef";
    let bytes = s.as_bytes();
    let mut start = 0;
    for (i, &b) in bytes.iter().enumerate() {
        let short = match b {
            b'"' => b'"',
            b'\\' => b'\\',
            b'\n' => b'n',
            b'\r' => b'r',
            b'\t' => b't',
            0x08 => b'b',
            0x0c => b'f',
            0x00..=0x1f => b'u',
            _ => continue,
        };
        out.extend_from_slice(bytes.get(start..i).unwrap_or_default());
        out.push(b'\\');
        out.push(short);
        if short == b'u' {
            out.extend_from_slice(b"00");
            out.extend(HEX.get(usize::from(b >> 4)));
            out.extend(HEX.get(usize::from(b & 0xf)));
        }
        start = i + 1;
    }
    out.extend_from_slice(bytes.get(start..).unwrap_or_default());
}

fn write_value<E: de::Error>(out: &mut Vec<u8>, v: &Value) -> Result<(), E> {
    serde_json::to_writer(out, v).map_err(|_| give_up())
}

/// Writes `"k":`, preceded by a comma unless it is the object's first member.
#[expect(
    clippy::ptr_arg,
    reason = "whether serde_json borrowed the key is what counts"
)]
fn write_key(out: &mut Vec<u8>, first: &mut bool, k: &Cow<'_, str>) {
    if !std::mem::take(first) {
        out.push(b',');
    }
    write_text(out, k);
    out.push(b':');
}

/// Runs `seed` over a span of the body captured earlier.
fn reparse<'de, S: DeserializeSeed<'de>, E: de::Error>(
    raw: &'de str,
    seed: S,
) -> Result<S::Value, E> {
    let mut de = serde_json::Deserializer::from_str(raw);
    let v = seed.deserialize(&mut de).map_err(|_| give_up::<E>())?;
    de.end().map_err(|_| give_up::<E>())?;
    Ok(v)
}

/// Whether `_fields` keeps a top-level member, and whether it narrows inside it.
fn kept_by(fields: Option<&[String]>, k: &str) -> (bool, bool) {
    let Some(fs) = fields else {
        return (true, false);
    };
    let keep = fs.iter().any(|f| f.split('.').next() == Some(k));
    let inside = fs
        .iter()
        .any(|f| f.strip_prefix(k).is_some_and(|r| r.starts_with('.')));
    (keep, inside)
}

/// The text DSO shows as a title, from the value's JSON text.
fn title_of<E: de::Error>(raw: &RawValue) -> Result<Option<String>, E> {
    let v: Value = serde_json::from_str(raw.get()).map_err(|_| give_up::<E>())?;
    Ok(rendered(&v))
}

// ---------------------------------------------------------------------------------------------
// Lists

struct ListSeed<'s, 'p, 'a, 'k> {
    pass: &'s mut Pass<'p, 'a, 'k>,
    plan: &'s TablePlan,
    table_id: &'s str,
    out: &'s mut Vec<u8>,
}

seed!(ListSeed<'_, '_, '_, '_>, (), deserialize_map);

impl<'de> Visitor<'de> for ListSeed<'_, '_, '_, '_> {
    type Value = ();
    fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("a HAL list")
    }

    fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<(), A::Error> {
        let ListSeed {
            pass,
            plan,
            table_id,
            out,
        } = self;
        out.push(b'{');
        let mut first = true;
        let mut seen = Seen::default();
        let mut embedded = false;
        while let Some(Key(k)) = map.next_key::<Key<'de>>()? {
            match &*k {
                "_links" => {
                    seen.first(k.clone())?;
                    let raw: &'de RawValue = map.next_value()?;
                    write_key(out, &mut first, &k);
                    if raw.get().starts_with('{') {
                        reparse(
                            raw.get(),
                            PageLinks {
                                pass: &*pass,
                                out: &mut *out,
                            },
                        )?;
                    } else {
                        out.extend_from_slice(raw.get().as_bytes());
                    }
                }
                "page" => {
                    seen.first(k.clone())?;
                    let raw: &'de RawValue = map.next_value()?;
                    write_key(out, &mut first, &k);
                    out.extend_from_slice(raw.get().as_bytes());
                }
                "_embedded" => {
                    seen.first(k.clone())?;
                    write_key(out, &mut first, &k);
                    map.next_value_seed(ListEmbedded {
                        pass: &mut *pass,
                        plan,
                        table_id,
                        out: &mut *out,
                    })?;
                    embedded = true;
                }
                _ => {
                    map.next_value::<IgnoredAny>()?;
                }
            }
        }
        if !embedded {
            return Err(give_up());
        }
        out.push(b'}');
        Ok(())
    }
}

/// The `_links` of a list: page links only, without titles.
struct PageLinks<'s, 'p, 'a, 'k> {
    pass: &'s Pass<'p, 'a, 'k>,
    out: &'s mut Vec<u8>,
}

seed!(PageLinks<'_, '_, '_, '_>, (), deserialize_map);

impl<'de> Visitor<'de> for PageLinks<'_, '_, '_, '_> {
    type Value = ();
    fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("links")
    }

    fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<(), A::Error> {
        let PageLinks { pass, out } = self;
        out.push(b'{');
        let mut first = true;
        let mut seen = Seen::default();
        while let Some(Key(k)) = map.next_key::<Key<'de>>()? {
            seen.first(k.clone())?;
            if matches!(&*k, "self" | "next" | "previous" | "first" | "last") {
                write_key(out, &mut first, &k);
                map.next_value_seed(Link {
                    rewriter: pass.f.links,
                    plain_base: pass.plain_base,
                    title: TitleRule::Drop,
                    pending: &mut Vec::new(),
                    out: &mut *out,
                })?;
            } else {
                map.next_value::<IgnoredAny>()?;
            }
        }
        out.push(b'}');
        Ok(())
    }
}

/// The `_embedded` of a list: the table's records, and expandable relations' lists.
struct ListEmbedded<'s, 'p, 'a, 'k> {
    pass: &'s mut Pass<'p, 'a, 'k>,
    plan: &'s TablePlan,
    table_id: &'s str,
    out: &'s mut Vec<u8>,
}

seed!(ListEmbedded<'_, '_, '_, '_>, (), deserialize_map);

impl<'de> Visitor<'de> for ListEmbedded<'_, '_, '_, '_> {
    type Value = ();
    fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("an _embedded object")
    }

    fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<(), A::Error> {
        let ListEmbedded {
            pass,
            plan,
            table_id,
            out,
        } = self;
        out.push(b'{');
        let mut first = true;
        let mut seen = Seen::default();
        while let Some(Key(k)) = map.next_key::<Key<'de>>()? {
            seen.first(k.clone())?;
            if k == table_id {
                write_key(out, &mut first, &k);
                let kept = map.next_value_seed(Items {
                    pass: &mut *pass,
                    plan,
                    top: true,
                    out: &mut *out,
                })?;
                if !kept {
                    // The table's records must be a list; the tree form says so.
                    return Err(give_up());
                }
            } else if let Some(target) = expandable(plan, &k) {
                let tplan = pass.plan(&target)?;
                let mark = out.len();
                let was_first = first;
                write_key(out, &mut first, &k);
                let kept = map.next_value_seed(Items {
                    pass: &mut *pass,
                    plan: &tplan,
                    top: false,
                    out: &mut *out,
                })?;
                if !kept {
                    out.truncate(mark);
                    first = was_first;
                }
            } else {
                map.next_value::<IgnoredAny>()?;
            }
        }
        out.push(b'}');
        Ok(())
    }
}

/// A list of records, each filtered; `false` (and nothing written) when the value is no list.
struct Items<'s, 'p, 'a, 'k> {
    pass: &'s mut Pass<'p, 'a, 'k>,
    plan: &'s TablePlan,
    /// The requested table's own records (counted as records, narrowed by `_fields`), or a
    /// relation's (counted as embedded).
    top: bool,
    out: &'s mut Vec<u8>,
}

seed!(Items<'_, '_, '_, '_>, bool, deserialize_any);

impl<'de> Visitor<'de> for Items<'_, '_, '_, '_> {
    type Value = bool;
    fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("a list of records")
    }

    fn visit_seq<A: SeqAccess<'de>>(self, mut seq: A) -> Result<bool, A::Error> {
        let Items {
            pass,
            plan,
            top,
            out,
        } = self;
        out.push(b'[');
        let mut n = 0u64;
        loop {
            let mark = out.len();
            if n > 0 {
                out.push(b',');
            }
            let item = seq.next_element_seed(Record {
                pass: &mut *pass,
                plan,
                top,
                lenient: true,
                out: &mut *out,
            })?;
            if item.is_none() {
                out.truncate(mark);
                break;
            }
            n += 1;
        }
        if top {
            pass.f.summary.records += n;
        } else {
            pass.f.summary.embedded += n;
        }
        out.push(b']');
        Ok(true)
    }

    fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<bool, A::Error> {
        while map.next_entry::<IgnoredAny, IgnoredAny>()?.is_some() {}
        Ok(false)
    }
    scalars!(Ok(false));
}

// ---------------------------------------------------------------------------------------------
// Records

/// One record projected through its table's plan.
struct Record<'s, 'p, 'a, 'k> {
    pass: &'s mut Pass<'p, 'a, 'k>,
    plan: &'s TablePlan,
    /// A record of the requested table itself (narrowed by `_fields`).
    top: bool,
    /// A value that is not an object becomes `null` (an item of a list); else the pass gives up.
    lenient: bool,
    out: &'s mut Vec<u8>,
}

seed!(Record<'_, '_, '_, '_>, (), deserialize_any);

impl Record<'_, '_, '_, '_> {
    fn null<E: de::Error>(self) -> Result<(), E> {
        if !self.lenient {
            return Err(give_up());
        }
        self.out.extend_from_slice(b"null");
        Ok(())
    }
}

impl<'de> Visitor<'de> for Record<'_, '_, '_, '_> {
    type Value = ();
    fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("a record")
    }

    fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<(), A::Error> {
        let Record {
            pass,
            plan,
            top,
            out,
            ..
        } = self;
        if plan.fields.len() > MAX_FIELDS {
            return Err(give_up());
        }
        let mut known = [0u64; MAX_FIELDS / 64];
        let mut unknown = Seen::default();
        // The links written aside, whether they were an object, and where this record's pending
        // titles start in `pass.pending`.
        let mut links: Option<(bool, Vec<u8>, usize)> = None;
        let pending_from = pass.pending.len();
        let mut embedded: Option<&'de RawValue> = None;
        let mut title_seen = false;
        let id = plan_id(plan);
        let readable = match pass.titles.iter().find(|(p, _)| *p == id) {
            Some((_, r)) => *r,
            None => {
                let r = plan.title_readable();
                pass.titles.push((id, r));
                r
            }
        };
        let title_field = plan.title_field.as_deref().filter(|_| readable);
        let mut title = None;
        let fields = if top { pass.fields.take() } else { None };
        let mut data = pass.buffer();
        let mut order = pass
            .orders
            .iter_mut()
            .find(|(p, _)| *p == id)
            .map(|(_, o)| std::mem::take(o))
            .unwrap_or_default();
        let mut member = 0usize;
        while let Some(Key(k)) = map.next_key::<Key<'de>>()? {
            if k == "_links" {
                if links.is_some() {
                    return Err(give_up());
                }
                // Written aside now; whether a `self` title stays is settled once the display
                // value is known, which may come later in the record.
                let mut aside = pass.buffer();
                let rule = match title_field {
                    Some(_) if !title_seen => TitleRule::Pending,
                    _ => TitleRule::Equal(title.as_deref()),
                };
                let object = map.next_value_seed(RecordLinks {
                    pass: &mut *pass,
                    plan,
                    title: rule,
                    out: &mut aside,
                })?;
                links = Some((object, aside, pending_from));
                continue;
            }
            if k == "_embedded" {
                if embedded.is_some() {
                    return Err(give_up());
                }
                embedded = Some(map.next_value::<&'de RawValue>()?);
                continue;
            }
            let guess = order
                .get(member)
                .and_then(|&i| plan.fields.get(i as usize).map(|f| (i as usize, f)))
                .filter(|(_, f)| *f.name == *k);
            let found = guess.or_else(|| {
                plan.position(&k)
                    .and_then(|i| plan.fields.get(i).map(|f| (i, f)))
            });
            if member < MAX_FIELDS {
                let at = found.map_or(UNKNOWN, |(i, _)| u32::try_from(i).unwrap_or(UNKNOWN));
                match order.get_mut(member) {
                    Some(o) => *o = at,
                    None => order.push(at),
                }
            }
            member += 1;
            let Some((i, fp)) = found else {
                unknown.first(k.clone())?;
                if plan.access {
                    pass.f.summary.strip(&plan.table, &k);
                }
                map.next_value::<IgnoredAny>()?;
                continue;
            };
            let (word, bit) = (i / 64, 1u64 << (i % 64));
            let Some(w) = known.get_mut(word) else {
                return Err(give_up());
            };
            if *w & bit != 0 {
                return Err(give_up());
            }
            *w |= bit;
            let is_title = title_field == Some(&*k);
            title_seen |= is_title;
            let visible = plan.access && fp.level.is_visible();
            let (keep, inside) = kept_by(fields.as_deref(), &k);
            if visible && fp.children.is_empty() && fp.level == Level::Read && !inside {
                let raw: &'de RawValue = map.next_value()?;
                if is_title {
                    title = title_of(raw)?;
                }
                if keep {
                    data.push(b',');
                    write_text(&mut data, &k);
                    data.push(b':');
                    data.extend_from_slice(raw.get().as_bytes());
                }
            } else if let (true, true, Level::Letters(n)) =
                (visible && keep && !inside, fp.children.is_empty(), fp.level)
            {
                // The common case below `read`, without building a value: the first N characters
                // of a string (anything else is rendered as the projector renders it).
                match map.next_value::<StrOr<'de>>()? {
                    StrOr::Str(text) => {
                        let end = text
                            .char_indices()
                            .nth(n as usize)
                            .map_or(text.len(), |(i, _)| i);
                        data.push(b',');
                        write_text(&mut data, &k);
                        data.push(b':');
                        write_text(&mut data, &cut(text, end));
                    }
                    StrOr::Other(mut v) => {
                        pass.f.projector.project_field(fp, &mut v);
                        data.push(b',');
                        write_text(&mut data, &k);
                        data.push(b':');
                        write_value(&mut data, &v)?;
                    }
                }
            } else if visible && (keep || !fp.children.is_empty()) {
                let mut v: Value = map.next_value()?;
                if is_title {
                    title = rendered(&v);
                }
                count_nested(&plan.table, fp, &v, &mut pass.f.summary);
                if keep {
                    pass.f.projector.project_field(fp, &mut v);
                    if inside && let Some(fs) = fields.as_deref() {
                        let mut one = Map::new();
                        one.insert(k.to_string(), v);
                        narrow(&mut one, fs);
                        v = one.into_iter().next().map_or(Value::Null, |(_, v)| v);
                    }
                    data.push(b',');
                    write_text(&mut data, &k);
                    data.push(b':');
                    write_value(&mut data, &v)?;
                }
            } else if is_title {
                let raw: &'de RawValue = map.next_value()?;
                title = title_of(raw)?;
            } else {
                map.next_value::<IgnoredAny>()?;
            }
        }
        if top {
            pass.fields = fields;
        }
        order.truncate(member);
        match pass.orders.iter_mut().find(|(p, _)| *p == id) {
            Some((_, o)) if o.is_empty() => *o = order,
            Some(_) => {}
            None => pass.orders.push((id, order)),
        }
        out.push(b'{');
        let mut first = true;
        if let Some((object, aside, from)) = links {
            if object {
                write_key(out, &mut first, &Cow::Borrowed("_links"));
                settle_titles(
                    out,
                    &aside,
                    pass.pending.get(from..).unwrap_or_default(),
                    title.as_deref(),
                )?;
            }
            pass.pending.truncate(from);
            pass.spare.push(aside);
        }
        if let Some(raw) = embedded.filter(|r| r.get().starts_with('{')) {
            let mark = out.len();
            let was_first = first;
            write_key(out, &mut first, &Cow::Borrowed("_embedded"));
            if pass.depth >= MAX_DEPTH {
                return Err(give_up());
            }
            pass.depth += 1;
            let kept = reparse(
                raw.get(),
                RecordEmbedded {
                    pass: &mut *pass,
                    plan,
                    out: &mut *out,
                },
            )?;
            pass.depth -= 1;
            if !kept {
                out.truncate(mark);
                first = was_first;
            }
        }
        let members = if first {
            data.get(1..).unwrap_or_default()
        } else {
            data.as_slice()
        };
        out.extend_from_slice(members);
        out.push(b'}');
        pass.spare.push(data);
        Ok(())
    }

    fn visit_seq<A: SeqAccess<'de>>(self, mut seq: A) -> Result<(), A::Error> {
        while seq.next_element::<IgnoredAny>()?.is_some() {}
        self.null()
    }
    scalars!(this => this.null());
}

/// The `_links` of a record: `self`, `schema` when the table was opened by `auth`, and the
/// expandable relations.
///
/// The value is `false` (and nothing written) when `_links` is not an object: the tree form
/// drops it then.
struct RecordLinks<'s, 'p, 'a, 'k> {
    pass: &'s mut Pass<'p, 'a, 'k>,
    plan: &'s TablePlan,
    /// The rule for a `self` title: equal to the record's display value, or pending until it is
    /// known.
    title: TitleRule<'s>,
    out: &'s mut Vec<u8>,
}

seed!(RecordLinks<'_, '_, '_, '_>, bool, deserialize_any);

impl<'de> Visitor<'de> for RecordLinks<'_, '_, '_, '_> {
    type Value = bool;
    fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("links")
    }

    fn visit_seq<A: SeqAccess<'de>>(self, mut seq: A) -> Result<bool, A::Error> {
        while seq.next_element::<IgnoredAny>()?.is_some() {}
        Ok(false)
    }
    scalars!(Ok(false));

    fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<bool, A::Error> {
        let RecordLinks {
            pass,
            plan,
            title,
            out,
        } = self;
        let schema = plan.via.contains(&Via::Auth);
        out.push(b'{');
        let mut first = true;
        let mut seen = Seen::default();
        while let Some(Key(k)) = map.next_key::<Key<'de>>()? {
            seen.first(k.clone())?;
            let rule = if k == "self" {
                Some(title)
            } else if let Some(readable) = pass.relation_rule(plan, &k)? {
                // The target's record is not at hand; its title is kept only when the caller
                // sees the target's display field at `read`.
                Some(TitleRule::Keep(readable))
            } else if k == "schema" && schema {
                Some(TitleRule::Drop)
            } else {
                None
            };
            match rule {
                Some(title) => {
                    write_key(out, &mut first, &k);
                    let rewriter = pass.f.links;
                    map.next_value_seed(Link {
                        rewriter,
                        plain_base: pass.plain_base,
                        title,
                        pending: &mut pass.pending,
                        out: &mut *out,
                    })?;
                }
                None => {
                    map.next_value::<IgnoredAny>()?;
                }
            }
        }
        out.push(b'}');
        Ok(true)
    }
}

/// The `_embedded` of a record: expandable relations only, each projected through its target's
/// plan; `false` when none is left.
struct RecordEmbedded<'s, 'p, 'a, 'k> {
    pass: &'s mut Pass<'p, 'a, 'k>,
    plan: &'s TablePlan,
    out: &'s mut Vec<u8>,
}

seed!(RecordEmbedded<'_, '_, '_, '_>, bool, deserialize_map);

impl<'de> Visitor<'de> for RecordEmbedded<'_, '_, '_, '_> {
    type Value = bool;
    fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("an _embedded object")
    }

    fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<bool, A::Error> {
        let RecordEmbedded { pass, plan, out } = self;
        out.push(b'{');
        let mut first = true;
        let mut seen = Seen::default();
        while let Some(Key(k)) = map.next_key::<Key<'de>>()? {
            seen.first(k.clone())?;
            let Some(target) = expandable(plan, &k) else {
                map.next_value::<IgnoredAny>()?;
                continue;
            };
            let tplan = pass.plan(&target)?;
            write_key(out, &mut first, &k);
            map.next_value_seed(Related {
                pass: &mut *pass,
                plan: &tplan,
                out: &mut *out,
            })?;
        }
        out.push(b'}');
        Ok(!first)
    }
}

/// An embedded relation's value: a list of records, `null`, or one record.
struct Related<'s, 'p, 'a, 'k> {
    pass: &'s mut Pass<'p, 'a, 'k>,
    plan: &'s TablePlan,
    out: &'s mut Vec<u8>,
}

seed!(Related<'_, '_, '_, '_>, (), deserialize_any);

impl<'s, 'p, 'a, 'k> Related<'s, 'p, 'a, 'k> {
    fn one(self) -> Record<'s, 'p, 'a, 'k> {
        self.pass.f.summary.embedded += 1;
        Record {
            pass: self.pass,
            plan: self.plan,
            top: false,
            lenient: true,
            out: self.out,
        }
    }
}

impl<'de> Visitor<'de> for Related<'_, '_, '_, '_> {
    type Value = ();
    fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("related records")
    }

    fn visit_seq<A: SeqAccess<'de>>(self, seq: A) -> Result<(), A::Error> {
        let kept = Items {
            pass: self.pass,
            plan: self.plan,
            top: false,
            out: self.out,
        }
        .visit_seq(seq)?;
        debug_assert!(kept);
        Ok(())
    }
    fn visit_unit<E: de::Error>(self) -> Result<(), E> {
        self.out.extend_from_slice(b"null");
        Ok(())
    }
    fn visit_map<A: MapAccess<'de>>(self, map: A) -> Result<(), A::Error> {
        self.one().visit_map(map)
    }
    scalars!(@values this => this.one().null());
}

// ---------------------------------------------------------------------------------------------
// Links

/// Which `title` of a link survives.
#[derive(Clone, Copy)]
enum TitleRule<'t> {
    /// None.
    Drop,
    /// Every one, or none.
    Keep(bool),
    /// One equal to the record's display value (none when the record shows none).
    Equal(Option<&'t str>),
    /// One equal to the record's display value, which comes later in the record: written, and
    /// noted in [`Pass::pending`] to be settled by [`settle_titles`].
    Pending,
}

impl TitleRule<'_> {
    fn keeps(self, title: &str) -> bool {
        match self {
            TitleRule::Drop | TitleRule::Pending => false,
            TitleRule::Keep(k) => k,
            TitleRule::Equal(t) => t == Some(title),
        }
    }
}

/// A `title` member written before the record's display value was known.
struct Pending {
    /// The member's bytes in the links buffer, with its leading comma unless it came first.
    member: std::ops::Range<usize>,
    /// The title's JSON string in the links buffer.
    value: std::ops::Range<usize>,
    /// It was its link's first member: a comma follows it unless it was the only one.
    first: bool,
}

/// Writes the links buffer, leaving out each pending title that is not the display value.
fn settle_titles<E: de::Error>(
    out: &mut Vec<u8>,
    links: &[u8],
    pending: &[Pending],
    title: Option<&str>,
) -> Result<(), E> {
    let mut at = 0;
    for p in pending {
        let text = links.get(p.value.clone()).unwrap_or_default();
        let keep = match title {
            None => false,
            Some(t) if !text.contains(&b'\\') => {
                text.get(1..text.len().saturating_sub(1)) == Some(t.as_bytes())
            }
            Some(t) => serde_json::from_slice::<String>(text).map_err(|_| give_up::<E>())? == t,
        };
        if keep {
            continue;
        }
        let mut end = p.member.end;
        if p.first && links.get(end) == Some(&b',') {
            end += 1;
        }
        out.extend_from_slice(links.get(at..p.member.start).unwrap_or_default());
        at = end;
    }
    out.extend_from_slice(links.get(at..).unwrap_or_default());
    Ok(())
}

/// A link (or a list of links, or anything else, copied): `href` rewritten to sluis's public URL,
/// `title` kept by its rule.
struct Link<'s, 't> {
    rewriter: &'s crate::LinkRewriter,
    /// The public base needs no escapes (a URL never does; checked once per body).
    plain_base: bool,
    title: TitleRule<'t>,
    pending: &'s mut Vec<Pending>,
    out: &'s mut Vec<u8>,
}

seed!(Link<'_, '_>, (), deserialize_any);

impl<'de> Visitor<'de> for Link<'_, '_> {
    type Value = ();
    fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("a link")
    }

    fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<(), A::Error> {
        let Link {
            rewriter,
            plain_base,
            title,
            pending,
            out,
        } = self;
        out.push(b'{');
        let mut first = true;
        let mut seen = Seen::default();
        while let Some(Key(k)) = map.next_key::<Key<'de>>()? {
            seen.first(k.clone())?;
            match &*k {
                "href" => {
                    write_key(out, &mut first, &k);
                    match map.next_value::<StrOr<'de>>()? {
                        StrOr::Str(h) => match rewriter.split(&h) {
                            Some((base, rest)) => {
                                out.push(b'"');
                                if plain_base {
                                    out.extend_from_slice(base.as_bytes());
                                } else {
                                    write_str_contents(out, base);
                                }
                                if matches!(h, Cow::Borrowed(_)) {
                                    out.extend_from_slice(rest.as_bytes());
                                } else {
                                    write_str_contents(out, rest);
                                }
                                out.push(b'"');
                            }
                            None => write_text(out, &h),
                        },
                        StrOr::Other(v) => write_value(out, &v)?,
                    }
                }
                "title" => {
                    let StrOr::Str(t) = map.next_value::<StrOr<'de>>()? else {
                        continue;
                    };
                    if let TitleRule::Pending = title {
                        let (start, was_first) = (out.len(), first);
                        write_key(out, &mut first, &k);
                        let value = out.len();
                        write_text(out, &t);
                        pending.push(Pending {
                            member: start..out.len(),
                            value: value..out.len(),
                            first: was_first,
                        });
                    } else if title.keeps(&t) {
                        write_key(out, &mut first, &k);
                        write_text(out, &t);
                    }
                }
                _ => {
                    let raw: &'de RawValue = map.next_value()?;
                    write_key(out, &mut first, &k);
                    out.extend_from_slice(raw.get().as_bytes());
                }
            }
        }
        out.push(b'}');
        Ok(())
    }

    fn visit_seq<A: SeqAccess<'de>>(self, mut seq: A) -> Result<(), A::Error> {
        let Link {
            rewriter,
            plain_base,
            title,
            pending,
            out,
        } = self;
        out.push(b'[');
        let mut n = 0usize;
        loop {
            let mark = out.len();
            if n > 0 {
                out.push(b',');
            }
            let item = seq.next_element_seed(Link {
                rewriter,
                plain_base,
                title,
                pending: &mut *pending,
                out: &mut *out,
            })?;
            if item.is_none() {
                out.truncate(mark);
                break;
            }
            n += 1;
        }
        out.push(b']');
        Ok(())
    }

    fn visit_bool<E: de::Error>(self, v: bool) -> Result<(), E> {
        write_value(self.out, &Value::Bool(v))
    }
    fn visit_i64<E: de::Error>(self, v: i64) -> Result<(), E> {
        write_value(self.out, &Value::from(v))
    }
    fn visit_u64<E: de::Error>(self, v: u64) -> Result<(), E> {
        write_value(self.out, &Value::from(v))
    }
    fn visit_f64<E: de::Error>(self, v: f64) -> Result<(), E> {
        write_value(self.out, &Value::from(v))
    }
    fn visit_borrowed_str<E: de::Error>(self, v: &'de str) -> Result<(), E> {
        write_text(self.out, &Cow::Borrowed(v));
        Ok(())
    }
    fn visit_str<E: de::Error>(self, v: &str) -> Result<(), E> {
        write_str(self.out, v);
        Ok(())
    }
    fn visit_unit<E: de::Error>(self) -> Result<(), E> {
        self.out.extend_from_slice(b"null");
        Ok(())
    }
}

/// A value that is read as text when it is a string, and kept whole otherwise.
enum StrOr<'de> {
    Str(Cow<'de, str>),
    Other(Value),
}

impl<'de> de::Deserialize<'de> for StrOr<'de> {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        struct V;
        impl<'de> Visitor<'de> for V {
            type Value = StrOr<'de>;
            fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str("any JSON value")
            }
            fn visit_borrowed_str<E: de::Error>(self, v: &'de str) -> Result<Self::Value, E> {
                Ok(StrOr::Str(Cow::Borrowed(v)))
            }
            fn visit_str<E: de::Error>(self, v: &str) -> Result<Self::Value, E> {
                Ok(StrOr::Str(Cow::Owned(v.to_owned())))
            }
            fn visit_bool<E: de::Error>(self, v: bool) -> Result<Self::Value, E> {
                Ok(StrOr::Other(Value::Bool(v)))
            }
            fn visit_i64<E: de::Error>(self, v: i64) -> Result<Self::Value, E> {
                Ok(StrOr::Other(Value::from(v)))
            }
            fn visit_u64<E: de::Error>(self, v: u64) -> Result<Self::Value, E> {
                Ok(StrOr::Other(Value::from(v)))
            }
            fn visit_f64<E: de::Error>(self, v: f64) -> Result<Self::Value, E> {
                Ok(StrOr::Other(Value::from(v)))
            }
            fn visit_unit<E: de::Error>(self) -> Result<Self::Value, E> {
                Ok(StrOr::Other(Value::Null))
            }
            fn visit_seq<A: SeqAccess<'de>>(self, seq: A) -> Result<Self::Value, A::Error> {
                <Value as de::Deserialize>::deserialize(de::value::SeqAccessDeserializer::new(seq))
                    .map(StrOr::Other)
            }
            fn visit_map<A: MapAccess<'de>>(self, map: A) -> Result<Self::Value, A::Error> {
                <Value as de::Deserialize>::deserialize(de::value::MapAccessDeserializer::new(map))
                    .map(StrOr::Other)
            }
        }
        d.deserialize_any(V)
    }
}

//! URL mapping between the public form (what clients see: sluis's own address) and the
//! upstream form (what the ZGW components store and answer with).
//!
//! ZGW objects point at each other by absolute URL (`zaak`, `zaaktype`, `informatieobject`).
//! Clients must only see sluis's address, and upstreams must only receive their own, so every
//! URL crossing sluis is mapped at a **base**: a pair `(public_base, upstream_base)` of absolute
//! `http(s)://host[:port]/path` URLs without a trailing slash.
//!
//! - A URL is under a base when, after normalizing its scheme and host ([`UrlMap::normalize`]),
//!   it starts with the base at a path boundary: the base is followed by `/`, `?`, `#` or
//!   nothing. `http://zrc/api/v1x` is not under `http://zrc/api/v1`. The base path is compared
//!   case-sensitively (paths are case-sensitive).
//! - The longest matching base wins.
//! - Only whole string values are mapped: a string that merely *contains* a base (in a
//!   sentence, after a space) is left alone.
//! - [`UrlMap::new`] rejects maps that could not be undone: if one public base lies under
//!   another, the upstream bases must be nested the same way (same remainder), and vice versa.
//!   So `to_public(to_upstream(u))` gives back `u` (normalized) for every `u` under a base.

use std::borrow::Cow;

use serde_json::Value;

use crate::error::ZgwError;

/// The mapping between public and upstream bases.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct UrlMap {
    /// `(public, upstream)`, normalized; longest public base first.
    inward: Vec<(String, String)>,
    /// `(upstream, public)`, normalized; longest upstream base first.
    outward: Vec<(String, String)>,
}

impl UrlMap {
    /// A map from `(public_base, upstream_base)` pairs. Each base must be an absolute `http`
    /// or `https` URL with a host, without credentials, query or fragment; the trailing `/` is
    /// dropped, scheme and host are lowercased, a default port is dropped.
    ///
    /// # Errors
    /// [`ZgwError::UrlMap`] naming the pair and the side: an unusable URL, a base given twice,
    /// or nested bases whose other side is not nested the same way.
    pub fn new(pairs: Vec<(String, String)>) -> Result<UrlMap, ZgwError> {
        let mut normalized: Vec<(String, String)> = Vec::with_capacity(pairs.len());
        for (index, (public, upstream)) in pairs.iter().enumerate() {
            let p = base(public).map_err(|message| ZgwError::UrlMap {
                index,
                side: "public",
                message,
            })?;
            let u = base(upstream).map_err(|message| ZgwError::UrlMap {
                index,
                side: "upstream",
                message,
            })?;
            for (j, (op, ou)) in normalized.iter().enumerate() {
                if *op == p {
                    return Err(ZgwError::UrlMap {
                        index,
                        side: "public",
                        message: format!("the same base as pair {j}"),
                    });
                }
                if *ou == u {
                    return Err(ZgwError::UrlMap {
                        index,
                        side: "upstream",
                        message: format!("the same base as pair {j}"),
                    });
                }
                let public_nesting = nesting(op, &p);
                if public_nesting != nesting(ou, &u) {
                    let side = if public_nesting.is_some() {
                        "public"
                    } else {
                        "upstream"
                    };
                    return Err(ZgwError::UrlMap {
                        index,
                        side,
                        message: format!(
                            "nested with pair {j}'s base while the other side is not nested \
                             the same way, so mapped URLs could not be mapped back"
                        ),
                    });
                }
            }
            normalized.push((p, u));
        }
        let mut inward = normalized.clone();
        inward.sort_by(|a, b| b.0.len().cmp(&a.0.len()).then_with(|| a.0.cmp(&b.0)));
        let mut outward: Vec<(String, String)> =
            normalized.into_iter().map(|(p, u)| (u, p)).collect();
        outward.sort_by(|a, b| b.0.len().cmp(&a.0.len()).then_with(|| a.0.cmp(&b.0)));
        Ok(UrlMap { inward, outward })
    }

    /// The `(public, upstream)` pairs, normalized, longest public base first.
    pub fn pairs(&self) -> &[(String, String)] {
        &self.inward
    }

    /// Whether the map has no pairs (then nothing is ever mapped).
    pub fn is_empty(&self) -> bool {
        self.inward.is_empty()
    }

    /// The comparable form of a URL: scheme and host lowercased, the default port (`:80` for
    /// http, `:443` for https) and an empty port dropped, the trailing `/` of the path
    /// stripped (`http://h/a/?q` → `http://h/a?q`); the path, query and fragment are otherwise
    /// kept as they are (paths are case-sensitive). A string that is not `scheme://...` is
    /// returned unchanged.
    ///
    /// Should a path end in several slashes, all are stripped, so that normalizing is
    /// idempotent (`normalize(normalize(u)) == normalize(u)`) and mapping a URL there and
    /// back gives it back.
    pub fn normalize(url: &str) -> String {
        let Some((origin, rest)) = split_origin(url) else {
            return url.to_owned();
        };
        let cut = rest.find(['?', '#']).unwrap_or(rest.len());
        let (path, tail) = rest.split_at(cut);
        let path = path.trim_end_matches('/');
        format!("{origin}{path}{tail}")
    }

    /// The upstream form of a public URL: [`UrlMap::normalize`]d, then its public base
    /// replaced; `None` when it is not under a public base.
    pub fn to_upstream(&self, url: &str) -> Option<String> {
        map_normalized(&self.inward, &normalize_cow(url))
    }

    /// The public form of an upstream URL (as [`UrlMap::to_upstream`], the other way).
    pub fn to_public(&self, url: &str) -> Option<String> {
        map_normalized(&self.outward, &normalize_cow(url))
    }

    /// [`UrlMap::to_upstream`], or, for a URL that is already upstream or foreign, its
    /// normalized self. The form grants are compiled to and objects are compared in.
    pub fn upstream_form(&self, url: &str) -> String {
        self.upstream_key(url).into_owned()
    }

    /// [`UrlMap::upstream_form`] without an allocation when the URL already is in that form
    /// (the common case for values read from the upstream): for lookups.
    pub(crate) fn upstream_key<'a>(&self, url: &'a str) -> Cow<'a, str> {
        let n = normalize_cow(url);
        match map_normalized(&self.inward, &n) {
            Some(mapped) => Cow::Owned(mapped),
            None => n,
        }
    }

    /// Replaces every string value (recursively, in objects and arrays; never keys) that is
    /// an upstream URL by its public form, and returns how many were replaced. Only the
    /// scheme and host of a replaced string are normalized; its path, query and fragment
    /// (including a trailing slash) are kept byte for byte.
    pub fn rewrite_out(&self, v: &mut Value) -> usize {
        rewrite(&self.outward, v)
    }

    /// [`UrlMap::rewrite_out`] the other way: public URLs become upstream URLs.
    pub fn rewrite_in(&self, v: &mut Value) -> usize {
        rewrite(&self.inward, v)
    }

    /// A query string (without or with its leading `?`) with every value that, percent-decoded,
    /// is a public URL replaced by the upstream URL, re-encoded. Comma-separated values
    /// (`zaaktype__in=a,b`) are mapped item by item. Keys, the order of the pairs and every
    /// value that is not mapped are kept byte for byte.
    pub fn rewrite_query_in(&self, query: &str) -> String {
        let (lead, body) = match query.strip_prefix('?') {
            Some(b) => ("?", b),
            None => ("", query),
        };
        let pairs: Vec<String> = body
            .split('&')
            .map(|pair| {
                let Some((key, value)) = pair.split_once('=') else {
                    return pair.to_owned();
                };
                let Some(decoded) = percent_decode(value) else {
                    return pair.to_owned();
                };
                let mut changed = false;
                let items: Vec<String> = decoded
                    .split(',')
                    .map(|item| match map_at(&self.inward, item) {
                        Some(mapped) => {
                            changed = true;
                            mapped
                        }
                        None => item.to_owned(),
                    })
                    .collect();
                if changed {
                    format!("{key}={}", percent_encode(&items.join(",")))
                } else {
                    pair.to_owned()
                }
            })
            .collect();
        format!("{lead}{}", pairs.join("&"))
    }
}

/// Validates and normalizes a base URL.
fn base(url: &str) -> Result<String, String> {
    if url.chars().any(|c| c.is_whitespace() || c.is_control()) {
        return Err("contains whitespace or control characters".into());
    }
    let Some((scheme, after)) = url.split_once("://") else {
        return Err("not an absolute URL (expected http://host/path or https://host/path)".into());
    };
    if !scheme.eq_ignore_ascii_case("http") && !scheme.eq_ignore_ascii_case("https") {
        return Err("the scheme must be http or https".into());
    }
    let cut = after.find(['/', '?', '#']).unwrap_or(after.len());
    let (authority, rest) = after.split_at(cut);
    if authority.contains('@') {
        return Err("must not contain credentials".into());
    }
    let (host, port) = split_host_port(authority);
    if host.is_empty() || host == "[]" {
        return Err("has no host".into());
    }
    if let Some(port) = port {
        if !port.is_empty() && (port.len() > 5 || !port.bytes().all(|b| b.is_ascii_digit())) {
            return Err("has an invalid port".into());
        }
        if port.parse::<u32>().is_ok_and(|p| p > 65_535) {
            return Err("has an invalid port".into());
        }
    }
    if rest.contains(['?', '#']) {
        return Err("must not have a query or fragment".into());
    }
    if rest.contains("//") {
        return Err("has an empty path segment".into());
    }
    Ok(UrlMap::normalize(url))
}

/// If `inner` lies under `outer` (or the other way round) at a path boundary, the remainder
/// and which one is the longer.
fn nesting<'a>(a: &'a str, b: &'a str) -> Option<(bool, &'a str)> {
    if let Some(rest) = b.strip_prefix(a).filter(|r| at_boundary(r)) {
        return Some((true, rest));
    }
    a.strip_prefix(b)
        .filter(|r| at_boundary(r))
        .map(|rest| (false, rest))
}

fn at_boundary(rest: &str) -> bool {
    rest.is_empty() || rest.starts_with(['/', '?', '#'])
}

/// `scheme://authority` normalized, and the rest (path, query, fragment) untouched.
fn split_origin(url: &str) -> Option<(String, &str)> {
    let (scheme, after) = url.split_once("://")?;
    if scheme.is_empty()
        || !scheme
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || matches!(c, '+' | '-' | '.'))
    {
        return None;
    }
    let scheme = scheme.to_ascii_lowercase();
    let cut = after.find(['/', '?', '#']).unwrap_or(after.len());
    let (authority, rest) = after.split_at(cut);
    let (userinfo, hostport) = match authority.rsplit_once('@') {
        Some((u, h)) => (Some(u), h),
        None => (None, authority),
    };
    let (host, port) = split_host_port(hostport);
    let default = match scheme.as_str() {
        "http" => Some("80"),
        "https" => Some("443"),
        _ => None,
    };
    let port = port.filter(|p| !p.is_empty() && Some(*p) != default);
    let mut origin = scheme;
    origin.push_str("://");
    if let Some(u) = userinfo {
        origin.push_str(u);
        origin.push('@');
    }
    origin.push_str(&host.to_ascii_lowercase());
    if let Some(p) = port {
        origin.push(':');
        origin.push_str(p);
    }
    Some((origin, rest))
}

/// `host[:port]` or `[v6]:port` → host and the port text (which may be empty).
fn split_host_port(hostport: &str) -> (&str, Option<&str>) {
    if hostport.starts_with('[') {
        return match hostport.split_once(']') {
            Some((h, rest)) => {
                let host = hostport.get(..h.len() + 1).unwrap_or(hostport);
                (host, rest.strip_prefix(':'))
            }
            None => (hostport, None),
        };
    }
    match hostport.rsplit_once(':') {
        Some((h, p)) => (h, Some(p)),
        None => (hostport, None),
    }
}

/// `s` with its scheme and host normalized, mapped at the first (longest) base it lies under.
fn map_at(table: &[(String, String)], s: &str) -> Option<String> {
    if table.is_empty() {
        return None;
    }
    let (origin, rest) = split_origin(s)?;
    map_normalized(table, &format!("{origin}{rest}"))
}

/// [`map_at`] for a string whose scheme and host are already normalized.
fn map_normalized(table: &[(String, String)], candidate: &str) -> Option<String> {
    table.iter().find_map(|(from, to)| {
        candidate
            .strip_prefix(from.as_str())
            .filter(|r| at_boundary(r))
            .map(|r| format!("{to}{r}"))
    })
}

/// [`UrlMap::normalize`], borrowing when nothing changes.
fn normalize_cow(url: &str) -> Cow<'_, str> {
    let Some((scheme, after)) = url.split_once("://") else {
        return Cow::Borrowed(url);
    };
    let cut = after.find(['/', '?', '#']).unwrap_or(after.len());
    let (authority, rest) = after.split_at(cut);
    let path = rest
        .find(['?', '#'])
        .map_or(rest, |end| rest.get(..end).unwrap_or(rest));
    let default_port = match scheme {
        "http" => ":80",
        "https" => ":443",
        _ => "",
    };
    let unchanged = !scheme.is_empty()
        && scheme
            .bytes()
            .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b"+-.".contains(&b))
        && !authority.bytes().any(|b| b.is_ascii_uppercase())
        && !authority.ends_with(':')
        && (default_port.is_empty() || !authority.ends_with(default_port))
        && !path.ends_with('/');
    if unchanged {
        Cow::Borrowed(url)
    } else {
        Cow::Owned(UrlMap::normalize(url))
    }
}

fn rewrite(table: &[(String, String)], v: &mut Value) -> usize {
    match v {
        Value::String(s) => match map_at(table, s) {
            Some(mapped) => {
                *s = mapped;
                1
            }
            None => 0,
        },
        Value::Array(items) => items.iter_mut().map(|i| rewrite(table, i)).sum(),
        Value::Object(map) => map.values_mut().map(|i| rewrite(table, i)).sum(),
        Value::Null | Value::Bool(_) | Value::Number(_) => 0,
    }
}

/// Form-style decoding (`+` is a space); `None` for a malformed escape or non-UTF-8 bytes.
fn percent_decode(s: &str) -> Option<String> {
    let bytes = s.as_bytes();
    let mut out = Vec::with_capacity(bytes.len());
    let mut i = 0;
    while let Some(&b) = bytes.get(i) {
        match b {
            b'%' => {
                let hi = bytes.get(i + 1).and_then(|c| hex(*c))?;
                let lo = bytes.get(i + 2).and_then(|c| hex(*c))?;
                out.push(hi * 16 + lo);
                i += 3;
            }
            b'+' => {
                out.push(b' ');
                i += 1;
            }
            b => {
                out.push(b);
                i += 1;
            }
        }
    }
    String::from_utf8(out).ok()
}

fn hex(c: u8) -> Option<u8> {
    match c {
        b'0'..=b'9' => Some(c - b'0'),
        b'a'..=b'f' => Some(c - b'a' + 10),
        b'A'..=b'F' => Some(c - b'A' + 10),
        _ => None,
    }
}

/// Encodes everything but unreserved characters and `:`, `/` and `,`.
fn percent_encode(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    for b in s.bytes() {
        if b.is_ascii_alphanumeric() || matches!(b, b'-' | b'.' | b'_' | b'~' | b':' | b'/' | b',')
        {
            out.push(char::from(b));
        } else {
            out.push_str(&format!("%{b:02X}"));
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::*;

    fn map() -> UrlMap {
        UrlMap::new(vec![
            (
                "https://sluis.example/zaken/api/v1".into(),
                "http://zrc:8000/api/v1".into(),
            ),
            (
                "https://sluis.example/documenten/api/v1/".into(),
                "http://drc/api/v1".into(),
            ),
            (
                "https://Sluis.Example:443/catalogi/api/v1".into(),
                "http://ztc:80/catalogi/api/v1".into(),
            ),
        ])
        .unwrap()
    }

    #[test]
    fn normalize() {
        let cases = [
            ("HTTP://ZRC.Example:80/Api/V1/", "http://zrc.example/Api/V1"),
            ("https://h:443/a", "https://h/a"),
            ("https://h:8443/a", "https://h:8443/a"),
            ("http://h:443/a", "http://h:443/a"),
            ("http://h:/a", "http://h/a"),
            ("http://h/", "http://h"),
            ("http://h", "http://h"),
            ("http://h/a/?q=1", "http://h/a?q=1"),
            ("http://h/a//", "http://h/a"),
            ("http://[::1]:80/a", "http://[::1]/a"),
            ("http://[::1]:8080/a", "http://[::1]:8080/a"),
            ("not a url", "not a url"),
            ("/relative/", "/relative/"),
        ];
        for (input, want) in cases {
            assert_eq!(UrlMap::normalize(input), want, "{input}");
        }
    }

    #[test]
    fn normalize_borrows_only_when_nothing_changes() {
        for url in [
            "http://h/a",
            "https://h:8443/a?b/",
            "http://[::1]:8080/a",
            "HTTP://h/a",
            "http://H/a",
            "http://h:80/a",
            "https://h:443",
            "http://h:/a",
            "http://h/a/",
            "http://h/a//?q",
            "x://h/a/",
            "not a url/",
        ] {
            let cow = normalize_cow(url);
            assert_eq!(cow, UrlMap::normalize(url), "{url}");
            assert_eq!(matches!(cow, Cow::Borrowed(_)), cow == url, "{url}");
        }
    }

    #[test]
    fn new_validates() {
        let bad = [
            ("zrc/api/v1", "not an absolute URL"),
            ("ftp://zrc/api", "scheme must be http or https"),
            ("http:///api", "has no host"),
            ("http://user:pw@zrc/api", "must not contain credentials"),
            ("http://zrc/api?x=1", "query or fragment"),
            ("http://zrc/api#f", "query or fragment"),
            ("http://zrc:99999/api", "invalid port"),
            ("http://zrc:x/api", "invalid port"),
            ("http://zrc/a pi", "whitespace"),
            ("http://zrc//api", "empty path segment"),
        ];
        for (url, msg) in bad {
            let err = UrlMap::new(vec![(url.into(), "http://ok/api".into())]).unwrap_err();
            let text = err.to_string();
            assert!(text.contains(msg), "{url}: {text}");
            assert!(text.starts_with("URL map, pair 0 (public base):"), "{text}");
            assert!(!text.contains("pw"), "{text}");
        }
        let dup = UrlMap::new(vec![
            ("http://a/x".into(), "http://u/1".into()),
            ("HTTP://A:80/x/".into(), "http://u/2".into()),
        ])
        .unwrap_err();
        assert!(
            dup.to_string()
                .contains("pair 1 (public base): the same base as pair 0"),
            "{dup}"
        );
        let nested = UrlMap::new(vec![
            ("http://a/x".into(), "http://u/2".into()),
            ("http://a/x/y".into(), "http://u/2/q".into()),
        ])
        .unwrap_err();
        assert!(nested.to_string().contains("nested"), "{nested}");
        // Nested the same way on both sides is fine.
        assert!(
            UrlMap::new(vec![
                ("http://a/x".into(), "http://u/2".into()),
                ("http://a/x/y".into(), "http://u/2/y".into()),
            ])
            .is_ok()
        );
        // Prefixes that are not at a boundary are not nested.
        assert!(
            UrlMap::new(vec![
                ("http://a/x".into(), "http://u/2".into()),
                ("http://a/xy".into(), "http://v/3".into()),
            ])
            .is_ok()
        );
    }

    #[test]
    fn maps_at_path_boundaries_only() {
        let m = map();
        let up = m
            .to_upstream("https://sluis.example/zaken/api/v1/zaken/abc")
            .unwrap();
        assert_eq!(up, "http://zrc:8000/api/v1/zaken/abc");
        assert_eq!(
            m.to_public(&up).unwrap(),
            "https://sluis.example/zaken/api/v1/zaken/abc"
        );
        assert_eq!(
            m.to_upstream("https://SLUIS.example:443/zaken/api/v1")
                .unwrap(),
            "http://zrc:8000/api/v1"
        );
        assert_eq!(
            m.to_upstream("https://sluis.example/zaken/api/v1?x=1")
                .unwrap(),
            "http://zrc:8000/api/v1?x=1"
        );
        assert_eq!(
            m.to_upstream("https://sluis.example/zaken/api/v1x/zaken"),
            None
        );
        assert_eq!(
            m.to_upstream("https://sluis.example/Zaken/api/v1/zaken"),
            None
        );
        assert_eq!(
            m.to_upstream("http://sluis.example/zaken/api/v1/zaken"),
            None
        );
        assert_eq!(m.to_upstream("http://zrc:8000/api/v1/zaken"), None);
        assert_eq!(
            m.to_public("http://zrc:8000/api/v1/zaken/").unwrap(),
            "https://sluis.example/zaken/api/v1/zaken"
        );
        assert_eq!(
            m.to_public("http://ztc/catalogi/api/v1/zaaktypen/1")
                .unwrap(),
            "https://sluis.example/catalogi/api/v1/zaaktypen/1"
        );
        assert_eq!(
            m.upstream_form("https://sluis.example/catalogi/api/v1/zaaktypen/1/"),
            "http://ztc/catalogi/api/v1/zaaktypen/1"
        );
        assert_eq!(
            m.upstream_form("HTTP://ZTC:80/catalogi/api/v1/zaaktypen/1/"),
            "http://ztc/catalogi/api/v1/zaaktypen/1"
        );
        assert_eq!(
            m.upstream_form("https://elsewhere/zaaktypen/1"),
            "https://elsewhere/zaaktypen/1"
        );
    }

    #[test]
    fn longest_base_first() {
        let m = UrlMap::new(vec![
            ("https://s/api".into(), "http://a/api".into()),
            (
                "https://s/api/special".into(),
                "http://a/api/special".into(),
            ),
            ("https://s/other".into(), "http://b/x".into()),
            ("https://s/other/deeper".into(), "http://b/x/deeper".into()),
        ])
        .unwrap();
        assert_eq!(
            m.pairs().first().map(|p| p.0.as_str()),
            Some("https://s/other/deeper")
        );
        assert_eq!(
            m.to_upstream("https://s/other/deeper/1").unwrap(),
            "http://b/x/deeper/1"
        );
        assert_eq!(
            m.to_public("http://b/x/deeper/1").unwrap(),
            "https://s/other/deeper/1"
        );
    }

    #[test]
    fn rewrites_json_values_not_keys() {
        let m = map();
        let mut v = json!({
            "url": "http://zrc:8000/api/v1/zaken/1",
            "zaaktype": "HTTP://ZTC/catalogi/api/v1/zaaktypen/2/",
            "http://zrc:8000/api/v1/key": "x",
            "toelichting": "zie http://zrc:8000/api/v1/zaken/1",
            "rollen": ["http://zrc:8000/api/v1/rollen/3", 4, null, {"deep": ["http://drc/api/v1/eio/5"]}],
            "foreign": "http://zrc:8000/api/v10/zaken/1",
        });
        assert_eq!(m.rewrite_out(&mut v), 4);
        assert_eq!(v["url"], "https://sluis.example/zaken/api/v1/zaken/1");
        assert_eq!(
            v["zaaktype"],
            "https://sluis.example/catalogi/api/v1/zaaktypen/2/"
        );
        assert_eq!(v["http://zrc:8000/api/v1/key"], "x");
        assert_eq!(v["toelichting"], "zie http://zrc:8000/api/v1/zaken/1");
        assert_eq!(
            v["rollen"][3]["deep"][0],
            "https://sluis.example/documenten/api/v1/eio/5"
        );
        assert_eq!(v["foreign"], "http://zrc:8000/api/v10/zaken/1");
        assert_eq!(m.rewrite_in(&mut v), 4);
        assert_eq!(v["url"], "http://zrc:8000/api/v1/zaken/1");
        assert_eq!(v["zaaktype"], "http://ztc/catalogi/api/v1/zaaktypen/2/");
    }

    #[test]
    fn rewrites_query_values() {
        let m = map();
        let q = "zaaktype=https%3A%2F%2Fsluis.example%2Fcatalogi%2Fapi%2Fv1%2Fzaaktypen%2F1&page=2&x&zaak=https://sluis.example/zaken/api/v1/zaken/9&q=a+b%20c";
        assert_eq!(
            m.rewrite_query_in(q),
            "zaaktype=http://ztc/catalogi/api/v1/zaaktypen/1&page=2&x&zaak=http://zrc:8000/api/v1/zaken/9&q=a+b%20c"
        );
        assert_eq!(
            m.rewrite_query_in("?zaaktype__in=https://sluis.example/catalogi/api/v1/zaaktypen/1,https://elsewhere/zt/2"),
            "?zaaktype__in=http://ztc/catalogi/api/v1/zaaktypen/1,https://elsewhere/zt/2"
        );
        // Keys are never mapped; malformed escapes are left alone.
        let keys = "https://sluis.example/zaken/api/v1=1&bad=%zz";
        assert_eq!(m.rewrite_query_in(keys), keys);
        assert_eq!(m.rewrite_query_in(""), "");
        // A mapped value with characters that need escaping is re-encoded.
        assert_eq!(
            m.rewrite_query_in("zaak=https://sluis.example/zaken/api/v1/zaken?a=b%26c"),
            "zaak=http://zrc:8000/api/v1/zaken%3Fa%3Db%26c"
        );
    }

    #[test]
    fn percent_codec() {
        assert_eq!(percent_decode("a%2Fb+c").as_deref(), Some("a/b c"));
        assert_eq!(percent_decode("%"), None);
        assert_eq!(percent_decode("%f"), None);
        assert_eq!(percent_decode("%ff"), None);
        assert_eq!(percent_encode("a b&c=d+é"), "a%20b%26c%3Dd%2B%C3%A9");
    }
}

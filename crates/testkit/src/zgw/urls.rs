//! Resource paths and the parsing of URLs that point back into the fixture.

use super::model::Uuid;

/// The resources that have a URL.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub(crate) enum Kind {
    Zaak,
    Status,
    Rol,
    Resultaat,
    Zaakobject,
    Zio,
    Klantcontact,
    Zaakeigenschap,
    Catalogus,
    Zaaktype,
    Statustype,
    Roltype,
    Resultaattype,
    Eigenschap,
    Iot,
    Document,
    Gebruiksrecht,
    Oio,
    Applicatie,
}

pub(crate) const ZAKEN: &str = "/zaken/api/v1";
pub(crate) const CATALOGI: &str = "/catalogi/api/v1";
pub(crate) const DOCUMENTEN: &str = "/documenten/api/v1";
pub(crate) const AUTORISATIES: &str = "/autorisaties/api/v1";

const COLLECTIONS: &[(Kind, &str, &str)] = &[
    (Kind::Zaak, ZAKEN, "zaken"),
    (Kind::Status, ZAKEN, "statussen"),
    (Kind::Rol, ZAKEN, "rollen"),
    (Kind::Resultaat, ZAKEN, "resultaten"),
    (Kind::Zaakobject, ZAKEN, "zaakobjecten"),
    (Kind::Zio, ZAKEN, "zaakinformatieobjecten"),
    (Kind::Klantcontact, ZAKEN, "klantcontacten"),
    (Kind::Catalogus, CATALOGI, "catalogussen"),
    (Kind::Zaaktype, CATALOGI, "zaaktypen"),
    (Kind::Statustype, CATALOGI, "statustypen"),
    (Kind::Roltype, CATALOGI, "roltypen"),
    (Kind::Resultaattype, CATALOGI, "resultaattypen"),
    (Kind::Eigenschap, CATALOGI, "eigenschappen"),
    (Kind::Iot, CATALOGI, "informatieobjecttypen"),
    (Kind::Document, DOCUMENTEN, "enkelvoudiginformatieobjecten"),
    (Kind::Gebruiksrecht, DOCUMENTEN, "gebruiksrechten"),
    (Kind::Oio, DOCUMENTEN, "objectinformatieobjecten"),
    (Kind::Applicatie, AUTORISATIES, "applicaties"),
];

impl Kind {
    /// `/zaken/api/v1/zaken` and so on (not for zaakeigenschappen, which are nested).
    pub(crate) fn collection(self) -> (&'static str, &'static str) {
        COLLECTIONS
            .iter()
            .find(|(k, _, _)| *k == self)
            .map_or((ZAKEN, "zaken"), |(_, api, name)| (*api, *name))
    }
}

/// `{base}{api}/{collection}/{uuid}`.
pub(crate) fn url(base: &str, kind: Kind, uuid: Uuid) -> String {
    let (api, name) = kind.collection();
    format!("{base}{api}/{name}/{uuid}")
}

/// `{base}/zaken/api/v1/zaken/{zaak}/zaakeigenschappen/{uuid}`.
pub(crate) fn zaakeigenschap_url(base: &str, zaak: Uuid, uuid: Uuid) -> String {
    format!("{base}{ZAKEN}/zaken/{zaak}/zaakeigenschappen/{uuid}")
}

/// Why a URL does not name one of the fixture's objects.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum UrlError {
    /// Not an absolute http(s) URL.
    NotUrl,
    /// Another host: an external reference the fixture cannot resolve.
    Foreign,
    /// This host, but no resource path.
    NoMatch,
}

/// Splits `http://host:port/path?query` into (authority, path).
pub(crate) fn split_url(url: &str) -> Option<(&str, &str)> {
    let rest = url
        .strip_prefix("http://")
        .or_else(|| url.strip_prefix("https://"))?;
    let (authority, path) = match rest.find('/') {
        Some(i) => rest.split_at(i),
        None => (rest, "/"),
    };
    if authority.is_empty() || authority.contains(char::is_whitespace) {
        return None;
    }
    let path = path.split(['?', '#']).next().unwrap_or(path);
    Some((authority, path))
}

/// Whether `s` is an absolute http(s) URL at all (Django's `URLValidator`, roughly).
pub(crate) fn is_url(s: &str) -> bool {
    split_url(s).is_some()
}

/// The (kind, uuid) a URL names, when its authority is one of `hosts`.
pub(crate) fn parse(url: &str, hosts: &[&str]) -> Result<(Kind, Uuid), UrlError> {
    let (authority, path) = split_url(url).ok_or(UrlError::NotUrl)?;
    if !hosts.iter().any(|h| h.eq_ignore_ascii_case(authority)) {
        return Err(UrlError::Foreign);
    }
    parse_path(path).ok_or(UrlError::NoMatch)
}

/// The (kind, uuid) of a resource path.
pub(crate) fn parse_path(path: &str) -> Option<(Kind, Uuid)> {
    let path = path.trim_end_matches('/');
    for (kind, api, name) in COLLECTIONS {
        let Some(rest) = path.strip_prefix(api).and_then(|r| r.strip_prefix('/')) else {
            continue;
        };
        let Some(id) = rest.strip_prefix(name).and_then(|r| r.strip_prefix('/')) else {
            continue;
        };
        if *kind == Kind::Zaak
            && let Some((_, tail)) = id.split_once("/zaakeigenschappen/")
        {
            return Uuid::parse(tail).map(|u| (Kind::Zaakeigenschap, u));
        }
        return Uuid::parse(id).map(|u| (*kind, u));
    }
    None
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_own_urls() {
        let u = Uuid(0x1234_5678_9abc_4def_8123_4567_89ab_cdef);
        let base = "http://127.0.0.1:8000";
        let zaak = url(base, Kind::Zaak, u);
        assert_eq!(parse(&zaak, &["127.0.0.1:8000"]), Ok((Kind::Zaak, u)));
        assert_eq!(parse(&zaak, &["other:1"]), Err(UrlError::Foreign));
        assert_eq!(parse("zaak-1", &["other:1"]), Err(UrlError::NotUrl));
        assert_eq!(
            parse("http://127.0.0.1:8000/", &["127.0.0.1:8000"]),
            Err(UrlError::NoMatch)
        );
        let ze = zaakeigenschap_url(base, u, u);
        assert_eq!(
            parse(&ze, &["127.0.0.1:8000"]),
            Ok((Kind::Zaakeigenschap, u))
        );
        let zt = url(base, Kind::Zaaktype, u);
        assert_eq!(parse(&zt, &["127.0.0.1:8000"]), Ok((Kind::Zaaktype, u)));
    }
}

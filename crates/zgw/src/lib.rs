//! sluis's pure core for the ZGW APIs (Zaken, Documenten, Catalogi, Besluiten): no I/O, no
//! clock, no networking. The proxy's ZGW adapter drives it per request.
//!
//! **The model** (domain `zgw.md` B and C). ZGW authorizes *applications*, not users. A token
//! names a `client_id`; the client belongs to one [`autorisaties::Applicatie`], which is
//! either a superuser (`heeftAlleAutorisaties`) or holds autorisaties: per component a set of
//! scopes, for one zaaktype / informatieobjecttype / besluittype URL, up to a maximum
//! [`va::Vertrouwelijkheid`]. Every operation of an API requires a
//! [`scope::ScopeExpr`] (an OR/AND of scope labels, from the OpenAPI `security` blocks). An
//! operation on an object is allowed when the union of the scopes of the autorisaties that
//! match the object's type and confidentiality satisfies the expression (rule 12); a list
//! first needs the scope somewhere in the component (rule 15) and then returns, per type,
//! objects up to that type's maximum (rule 16).
//!
//! **Per request:**
//!
//! 1. [`ops::route`] turns method + path into an [`ops::Operation`]: resource, action, ids,
//!    the required scope expression and how the object is authorized ([`ops::Main`]).
//! 2. [`urlmap::UrlMap`] maps URLs between sluis's public address and the upstream's, in
//!    bodies and queries (in on the way up, out on the way back).
//! 3. [`autorisaties::Grants`] — compiled once from the Autorisaties API's applicaties by
//!    [`autorisaties::compile`] — answers for the client: [`autorisaties::ClientGrants::any`]
//!    (the scope gate), [`autorisaties::ClientGrants::allows`] (one object),
//!    [`autorisaties::ClientGrants::list_scope`] (the per-type filter for lists and searches).
//!
//! [`rules::Rules`] are sluis's rules beyond the standard: the user's involvement (their rol
//! on the zaak), attribute levels, withheld objects within a zaak, write limits and extra
//! scopes.
//!
//! ```
//! use sluis_zgw::{
//!     Component, ListScope, UrlMap, Vertrouwelijkheid, ZgwError, compile, parse_applicaties,
//!     route,
//! };
//!
//! # fn main() -> Result<(), Box<dyn std::error::Error>> {
//! let urls = UrlMap::new(vec![(
//!     "https://sluis.example/catalogi/api/v1".into(),
//!     "http://ztc:8000/catalogi/api/v1".into(),
//! )])?;
//! let apps = parse_applicaties(br#"[{
//!     "clientIds": ["app-a"], "label": "Applicatie A",
//!     "autorisaties": [{"component": "zrc", "scopes": ["zaken.lezen"],
//!         "zaaktype": "https://sluis.example/catalogi/api/v1/zaaktypen/1",
//!         "maxVertrouwelijkheidaanduiding": "intern"}]
//! }]"#)?;
//! let grants = compile(&apps, &urls).map_err(ZgwError::from)?;
//! let client = grants.client("app-a").ok_or("unknown client")?;
//!
//! let op = route(Component::Zaken, "GET", "/zaken")?;
//! assert!(client.any(op.component, &op.scope)); // rule 15: 403 otherwise
//! match client.list_scope(op.component, &op.scope) {
//!     ListScope::Groups(groups) => {
//!         // One upstream query per group: zaaktype__in = types, max = group.max.
//!         assert_eq!(groups[0].types, ["http://ztc:8000/catalogi/api/v1/zaaktypen/1"]);
//!         assert_eq!(groups[0].max, Some(Vertrouwelijkheid::Intern));
//!     }
//!     ListScope::All | ListScope::Nothing => unreachable!(),
//! }
//!
//! // A zaak as the upstream returns it.
//! let zaaktype = "http://ztc:8000/catalogi/api/v1/zaaktypen/1";
//! let op = route(Component::Zaken, "GET", "/zaken/0a1b2c3d-4e5f-4a6b-8c7d-9e0f1a2b3c4d")?;
//! assert!(client.allows(op.component, &op.scope, zaaktype, Some(Vertrouwelijkheid::Intern)));
//! assert!(!client.allows(op.component, &op.scope, zaaktype, Some(Vertrouwelijkheid::Geheim)));
//! # Ok(())
//! # }
//! ```
//!
//! Everything fails closed: an operation without a declared scope requires
//! [`scope::ScopeExpr::never`]; a missing maximum is a configuration problem, not "no limit";
//! an empty filter lists nothing.

pub mod autorisaties;
pub mod error;
pub mod ops;
pub mod rules;
pub mod scope;
pub mod urlmap;
pub mod va;

pub use autorisaties::{
    Applicatie, Autorisatie, ClientGrants, Grants, ListScope, Problem, TypeGroup, compile,
    compile_with, parse_applicaties, validate, validate_with,
};
pub use error::ZgwError;
pub use ops::{Action, Component, Main, Operation, RouteError, allow, route};
pub use scope::ScopeExpr;
pub use urlmap::UrlMap;
pub use va::Vertrouwelijkheid;

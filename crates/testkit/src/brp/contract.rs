//! A small JSON Schema checker for the BRP Personen OpenAPI document (v2.7.0), for contract
//! tests: does a body conform to the reference `brp/openapi.yaml`?
//!
//! The crate carries no copy of the document. The caller reads it and hands it over as JSON;
//! the checker compiles it once into a [`Spec`]:
//!
//! ```text
//! Spec::from_value(document: serde_json::Value) -> Result<Spec, TestkitError>
//! Spec::check(&self, schema: &str, value: &Value) -> Result<(), Vec<String>>
//! Spec::check_response(&self, body: &Value) -> Result<(), Vec<String>>   // PersonenQueryResponse
//! Spec::document(&self) -> &Value
//! Spec::version(&self) -> Option<&str>                                    // info.version
//! ```
//!
//! `schema` names an entry of `components.schemas` (`Persoon`, `PersoonBeperkt`,
//! `Foutbericht`, ...); `Err` lists every violation with its JSON path (`$.personen[0].naam`).
//!
//! Tests in this workspace find the document through [`crate::reference`]
//! (`require_reference!("brp/openapi.yaml")`, i.e. `$SLUIS_REFERENCE_DIR/brp/openapi.yaml`),
//! convert the YAML to a [`serde_json::Value`] (this crate's `tests/brp_support/mod.rs` does it
//! with `yaml-rust2`, a dev-dependency) and keep one [`Spec`] per test binary in a `OnceLock`.
//! A missing file skips the contract tests (with a printed line); an unreadable or invalid one
//! fails them.
//!
//! ```
//! use serde_json::json;
//! use sluis_testkit::brp::contract::Spec;
//!
//! let document = json!({"openapi": "3.0.3", "info": {"version": "1"}, "components": {"schemas": {
//!     "Naam": {"type": "object", "properties": {"voornamen": {"type": "string", "maxLength": 200}}}
//! }}});
//! let spec = Spec::from_value(document)?;
//! assert!(spec.check("Naam", &json!({"voornamen": "Suzanne"})).is_ok());
//! assert!(spec.check("Naam", &json!({"voornaam": "Suzanne"})).is_err());
//! # Ok::<(), sluis_testkit::TestkitError>(())
//! ```
//!
//! The checker covers what the BRP document uses: `$ref` (to `#/components/schemas/...`),
//! `allOf`, `discriminator` mappings, `type`, `properties`, `required`, `items`,
//! `minItems`/`maxItems`, `pattern` (including a leading negative lookahead), `maxLength`,
//! `minimum`/`maximum`, `enum` and `format: date`. It is stricter than the document in one
//! way: a property the schema does not declare is reported, because the API delivers none.

use std::collections::HashMap;

use regex::Regex;
use serde_json::{Map, Value};

use super::date::BrpDate;
use crate::TestkitError;

const SCHEMA_REF_PREFIX: &str = "#/components/schemas/";

/// An OpenAPI document (as JSON) with its `pattern`s compiled, ready to check bodies.
#[derive(Debug)]
pub struct Spec {
    document: Value,
    patterns: HashMap<String, Pattern>,
}

impl Spec {
    /// Takes the OpenAPI document (the YAML converted to JSON 1:1) and compiles every
    /// `pattern` in it.
    ///
    /// # Errors
    /// [`TestkitError::Spec`] when the document has no `components.schemas` object or uses a
    /// pattern the checker cannot evaluate.
    pub fn from_value(document: Value) -> Result<Self, TestkitError> {
        if !document
            .get("components")
            .and_then(|c| c.get("schemas"))
            .is_some_and(Value::is_object)
        {
            return Err(TestkitError::Spec(
                "no `components.schemas` object; is this an OpenAPI document?".to_owned(),
            ));
        }
        let mut sources = Vec::new();
        collect_patterns(&document, &mut sources);
        let mut patterns = HashMap::new();
        for p in sources {
            if patterns.contains_key(p) {
                continue;
            }
            let compiled = build_pattern(p)
                .ok_or_else(|| TestkitError::Spec(format!("pattern {p} is not supported")))?;
            patterns.insert(p.to_owned(), compiled);
        }
        Ok(Self { document, patterns })
    }

    /// The document as it was handed in.
    pub fn document(&self) -> &Value {
        &self.document
    }

    /// `info.version` of the document (`2.7.0` for the reference).
    pub fn version(&self) -> Option<&str> {
        self.document.get("info")?.get("version")?.as_str()
    }

    /// Checks `value` against `components.schemas.<schema>`; `Err` lists every violation with
    /// its JSON path.
    ///
    /// # Errors
    /// The violations found (or that there is no such schema).
    pub fn check(&self, schema: &str, value: &Value) -> Result<(), Vec<String>> {
        let mut errors = Vec::new();
        match self.schema_by_name(schema) {
            Some(s) => self.check_value(value, s, "$", &mut errors, false),
            None => errors.push(format!("no schema {schema:?} in the document")),
        }
        if errors.is_empty() {
            Ok(())
        } else {
            Err(errors)
        }
    }

    /// Checks a 200 body of `POST /personen` (`PersonenQueryResponse`, chosen by its `type`).
    ///
    /// # Errors
    /// The violations found.
    pub fn check_response(&self, body: &Value) -> Result<(), Vec<String>> {
        self.check("PersonenQueryResponse", body)
    }

    fn schema_by_name(&self, name: &str) -> Option<&Value> {
        self.document.get("components")?.get("schemas")?.get(name)
    }

    fn schema_by_ref(&self, reference: &str) -> Option<&Value> {
        reference
            .strip_prefix(SCHEMA_REF_PREFIX)
            .and_then(|name| self.schema_by_name(name))
    }

    fn resolve<'a>(&'a self, schema: &'a Value) -> &'a Value {
        let mut s = schema;
        for _ in 0..32 {
            match s
                .get("$ref")
                .and_then(Value::as_str)
                .and_then(|r| self.schema_by_ref(r))
            {
                Some(next) => s = next,
                None => break,
            }
        }
        s
    }

    /// The schema and its `allOf` members (recursively), `$ref`s followed.
    fn members<'a>(&'a self, schema: &'a Value, out: &mut Vec<&'a Value>) {
        let s = self.resolve(schema);
        if out.iter().any(|m| std::ptr::eq(*m, s)) {
            return;
        }
        out.push(s);
        if let Some(Value::Array(all)) = s.get("allOf") {
            for m in all {
                self.members(m, out);
            }
        }
    }

    fn check_value(
        &self,
        v: &Value,
        schema: &Value,
        path: &str,
        errors: &mut Vec<String>,
        discriminated: bool,
    ) {
        let s = self.resolve(schema);
        if !discriminated
            && let Some(d) = s.get("discriminator")
            && let Value::Object(obj) = v
        {
            let prop = d
                .get("propertyName")
                .and_then(Value::as_str)
                .unwrap_or("type");
            match obj.get(prop).and_then(Value::as_str) {
                Some(t) => match d
                    .get("mapping")
                    .and_then(|m| m.get(t))
                    .and_then(Value::as_str)
                    .and_then(|r| self.schema_by_ref(r))
                {
                    Some(target) => {
                        self.check_value(v, target, path, errors, true);
                        return;
                    }
                    None => {
                        errors.push(format!("{path}.{prop}: unknown discriminator value {t:?}"));
                    }
                },
                None => errors.push(format!("{path}: missing discriminator {prop:?}")),
            }
        }
        let mut all = Vec::new();
        self.members(s, &mut all);
        for m in &all {
            self.scalar_constraints(v, m, path, errors);
        }
        match v {
            Value::Object(obj) => self.check_object(obj, &all, path, errors),
            Value::Array(items) => {
                for m in &all {
                    if let Some(item_schema) = m.get("items") {
                        for (i, item) in items.iter().enumerate() {
                            self.check_value(
                                item,
                                item_schema,
                                &format!("{path}[{i}]"),
                                errors,
                                false,
                            );
                        }
                    }
                    let n = items.len() as u64;
                    if let Some(min) = m.get("minItems").and_then(Value::as_u64)
                        && n < min
                    {
                        errors.push(format!("{path}: {n} items, minItems {min}"));
                    }
                    if let Some(max) = m.get("maxItems").and_then(Value::as_u64)
                        && n > max
                    {
                        errors.push(format!("{path}: {n} items, maxItems {max}"));
                    }
                }
            }
            _ => {}
        }
    }

    fn check_object(
        &self,
        obj: &Map<String, Value>,
        all: &[&Value],
        path: &str,
        errors: &mut Vec<String>,
    ) {
        let mut props: HashMap<&str, Vec<&Value>> = HashMap::new();
        let mut declared_any = false;
        for m in all {
            if let Some(Value::Object(p)) = m.get("properties") {
                declared_any = true;
                for (k, s) in p {
                    props.entry(k.as_str()).or_default().push(s);
                }
            }
            if let Some(Value::Array(req)) = m.get("required") {
                for r in req.iter().filter_map(Value::as_str) {
                    if !obj.contains_key(r) {
                        errors.push(format!("{path}: required property {r:?} missing"));
                    }
                }
            }
        }
        for (k, child) in obj {
            let child_path = format!("{path}.{k}");
            match props.get(k.as_str()) {
                Some(schemas) => {
                    for s in schemas {
                        self.check_value(child, s, &child_path, errors, false);
                    }
                }
                None if declared_any => {
                    errors.push(format!("{child_path}: property not in the schema"));
                }
                None => {}
            }
        }
    }

    fn scalar_constraints(&self, v: &Value, m: &Value, path: &str, errors: &mut Vec<String>) {
        if let Some(t) = m.get("type").and_then(Value::as_str) {
            let ok = match t {
                "object" => v.is_object(),
                "array" => v.is_array(),
                "string" => v.is_string(),
                "integer" => v.is_i64() || v.is_u64(),
                "number" => v.is_number(),
                "boolean" => v.is_boolean(),
                _ => true,
            };
            if !ok {
                errors.push(format!("{path}: expected {t}, got {v}"));
                return;
            }
        }
        if let Some(Value::Array(options)) = m.get("enum")
            && !options.contains(v)
        {
            errors.push(format!("{path}: {v} not in enum"));
        }
        if let Some(n) = v.as_f64() {
            if let Some(min) = m.get("minimum").and_then(Value::as_f64)
                && n < min
            {
                errors.push(format!("{path}: {n} below minimum {min}"));
            }
            if let Some(max) = m.get("maximum").and_then(Value::as_f64)
                && n > max
            {
                errors.push(format!("{path}: {n} above maximum {max}"));
            }
        }
        let Some(s) = v.as_str() else {
            return;
        };
        if let Some(max) = m.get("maxLength").and_then(Value::as_u64)
            && s.chars().count() as u64 > max
        {
            errors.push(format!("{path}: {s:?} longer than {max}"));
        }
        if m.get("format").and_then(Value::as_str) == Some("date")
            && BrpDate::parse_iso(s).is_none()
        {
            errors.push(format!("{path}: {s:?} is no date"));
        }
        if let Some(p) = m.get("pattern").and_then(Value::as_str) {
            match self.patterns.get(p) {
                Some(re) if re.matches(s) => {}
                Some(_) => errors.push(format!("{path}: {s:?} does not match {p}")),
                None => errors.push(format!("{path}: pattern {p} is not supported")),
            }
        }
    }
}

/// Every string value of a `pattern` key in the document.
fn collect_patterns<'a>(v: &'a Value, out: &mut Vec<&'a str>) {
    match v {
        Value::Object(m) => {
            for (k, v) in m {
                if k == "pattern"
                    && let Some(p) = v.as_str()
                {
                    out.push(p);
                } else {
                    collect_patterns(v, out);
                }
            }
        }
        Value::Array(a) => a.iter().for_each(|v| collect_patterns(v, out)),
        _ => {}
    }
}

/// A pattern with an optional leading negative lookahead (`^(?!0{16})...`), which the `regex`
/// crate does not support: checked as "the lookahead does not match at the start".
#[derive(Debug)]
struct Pattern {
    main: Regex,
    not: Option<Regex>,
}

impl Pattern {
    fn matches(&self, s: &str) -> bool {
        self.main.is_match(s) && !self.not.as_ref().is_some_and(|n| n.is_match(s))
    }
}

fn build_pattern(p: &str) -> Option<Pattern> {
    if let Some(rest) = p.strip_prefix("^(?!") {
        let mut depth = 1;
        for (i, c) in rest.char_indices() {
            match c {
                '(' => depth += 1,
                ')' => {
                    depth -= 1;
                    if depth == 0 {
                        let inner = rest.get(..i)?;
                        let tail = rest.get(i + 1..)?;
                        return Some(Pattern {
                            main: Regex::new(&format!("^{tail}")).ok()?,
                            not: Some(Regex::new(&format!("^{inner}")).ok()?),
                        });
                    }
                }
                _ => {}
            }
        }
        return None;
    }
    Some(Pattern {
        main: Regex::new(p).ok()?,
        not: None,
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    /// A miniature of the BRP document's constructs: a lookahead pattern, a discriminated
    /// date with `allOf`, `format: date`, arrays and `required`.
    fn mini() -> Spec {
        Spec::from_value(json!({
            "openapi": "3.0.3",
            "info": {"version": "0.0.1"},
            "components": {"schemas": {
                "Nummeraanduiding": {"type": "string", "pattern": "^(?!0{16})[0-9]{16}$"},
                "AbstractDatum": {
                    "type": "object",
                    "required": ["type", "langFormaat"],
                    "properties": {"type": {"type": "string"}, "langFormaat": {"type": "string"}},
                    "discriminator": {"propertyName": "type", "mapping": {
                        "Datum": "#/components/schemas/VolledigeDatum",
                        "JaarDatum": "#/components/schemas/JaarDatum"
                    }}
                },
                "VolledigeDatum": {"allOf": [
                    {"$ref": "#/components/schemas/AbstractDatum"},
                    {"type": "object", "required": ["datum"],
                     "properties": {"datum": {"type": "string", "format": "date"}}}
                ]},
                "JaarDatum": {"allOf": [
                    {"$ref": "#/components/schemas/AbstractDatum"},
                    {"type": "object", "required": ["jaar"],
                     "properties": {"jaar": {"type": "integer", "minimum": 1, "maximum": 9999}}}
                ]},
                "Lijst": {"type": "array", "maxItems": 2,
                          "items": {"$ref": "#/components/schemas/AbstractDatum"}}
            }}
        }))
        .unwrap()
    }

    #[test]
    fn lookahead_pattern() {
        let s = mini();
        assert_eq!(s.version(), Some("0.0.1"));
        assert!(
            s.check("Nummeraanduiding", &json!("0363200000000001"))
                .is_ok()
        );
        assert!(
            s.check("Nummeraanduiding", &json!("0000000000000000"))
                .is_err()
        );
        assert!(
            s.check("Nummeraanduiding", &json!("036320000000000"))
                .is_err()
        );
    }

    #[test]
    fn discriminator_all_of_and_arrays() {
        let s = mini();
        let datum =
            json!({"type": "Datum", "datum": "2012-09-20", "langFormaat": "20 september 2012"});
        assert!(s.check("AbstractDatum", &datum).is_ok());
        let err = s
            .check(
                "AbstractDatum",
                &json!({"type": "Datum", "datum": "2012-13-20", "langFormaat": "x", "extra": 1}),
            )
            .unwrap_err();
        assert_eq!(err.len(), 2, "{err:?}");
        assert!(
            s.check(
                "AbstractDatum",
                &json!({"type": "Bestaat", "langFormaat": "x"})
            )
            .is_err()
        );
        assert!(
            s.check("AbstractDatum", &json!({"langFormaat": "x"}))
                .is_err()
        );
        let jaar = json!({"type": "JaarDatum", "jaar": 0, "langFormaat": "0"});
        let err = s.check("Lijst", &json!([datum, jaar, datum])).unwrap_err();
        assert_eq!(
            err,
            [
                "$[1].jaar: 0 below minimum 1".to_owned(),
                "$: 3 items, maxItems 2".to_owned()
            ]
        );
        assert!(s.check("Bestaat", &json!({})).is_err());
    }

    #[test]
    fn unusable_documents_are_refused() {
        assert!(matches!(
            Spec::from_value(json!({"openapi": "3.0.3"})),
            Err(TestkitError::Spec(_))
        ));
        assert!(matches!(
            Spec::from_value(json!({"components": {"schemas": {"X": {"pattern": "^(?!a"}}}})),
            Err(TestkitError::Spec(_))
        ));
    }
}

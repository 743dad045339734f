//! The ZGW rules: validation messages, plans, withholding, write checks, projection, and the
//! example policy in `examples/zgw/rules.toml`.
#![expect(
    clippy::unwrap_used,
    clippy::panic,
    reason = "the helpers outside #[test] functions fail the test that calls them"
)]

use proptest::prelude::*;
use serde_json::{Value, json};
use sluis_policy::{EncodingKey, Level, Projector};
use sluis_zgw::rules::{Holder, Projected, RuleProblem, Rules, RulesError, project};

fn problems(text: &str) -> Vec<RuleProblem> {
    match Rules::from_toml(text) {
        Ok(_) => panic!("expected problems for:\n{text}"),
        Err(p) => p,
    }
}

/// Asserts that validation reports a problem at `at` whose message contains `needle`.
#[track_caller]
fn rejects(text: &str, at: &str, needle: &str) {
    let found = problems(text);
    assert!(
        found
            .iter()
            .any(|p| p.at == at && p.message.contains(needle)),
        "expected a problem at {at:?} containing {needle:?}, got {found:#?}"
    );
}

fn rules(text: &str) -> Rules {
    match Rules::from_toml(text) {
        Ok(r) => r,
        Err(p) => panic!("unexpected problems: {p:#?}"),
    }
}

fn strings(list: &[&str]) -> Vec<String> {
    list.iter().map(|s| (*s).to_owned()).collect()
}

fn key() -> EncodingKey {
    EncodingKey::new([7u8; 32]).unwrap()
}

fn example() -> Rules {
    let path = concat!(env!("CARGO_MANIFEST_DIR"), "/../../examples/zgw/rules.toml");
    rules(&std::fs::read_to_string(path).unwrap())
}

// --- validation -----------------------------------------------------------------------------

const FIELD: &str = r#"
[[fields]]
resource = "rol"
path = "betrokkeneIdentificatie.inpBsn"
default = "none"
"#;

#[test]
fn bad_levels_are_reported_at_their_key() {
    rejects(
        &format!(
            "{FIELD}grants = {{ \"zaken.lezen\" = \"read\", \"kcc\" = \"letters:0?no\" }}\n[[scopes]]\nname = \"kcc\""
        ),
        "fields[0].grants.kcc",
        "letters:N",
    );
    rejects(
        "[[fields]]\nresource = \"zaak\"\npath = \"toelichting\"\ndefault = \"hidden\"",
        "fields[0].default",
        "invalid permission \"hidden\"",
    );
    rejects(
        &format!("{FIELD}grants = {{ \"zaken.lezen\" = \"READ\" }}"),
        "fields[0].grants.\"zaken.lezen\"",
        "invalid permission",
    );
}

#[test]
fn unknown_roles_are_reported() {
    let rule = |role: &str| {
        format!("[[involvement]]\nactions = [\"retrieve\"]\nroles = [\"behandelaar\", \"{role}\"]")
    };
    rejects(
        &rule("Adviseur"),
        "involvement[0].roles[1]",
        "lower case (`adviseur`)",
    );
    rejects(
        &rule("klant"),
        "involvement[0].roles[1]",
        "unknown rol `klant`",
    );
    rejects(
        &rule("rol:adviseur"),
        "involvement[0].roles[1]",
        "without `rol:`",
    );
    rejects(
        &format!("{FIELD}grants = {{ \"rol:coordinator\" = \"read\" }}"),
        "fields[0].grants.\"rol:coordinator\"",
        "unknown rol `coordinator`",
    );
    rejects(
        "[[involvement]]\nactions = [\"retrieve\"]\nroles = []",
        "involvement[0].roles",
        "empty list",
    );
}

#[test]
fn unknown_keys_are_reported_with_their_path() {
    rejects(
        "[[fields]]\nresource = \"zaak\"\npath = \"toelichting\"\nlevl = \"read\"",
        "fields[0].levl",
        "unknown key; expected one of `resource`, `path`, `default`, `grants`",
    );
    rejects(
        "[[field]]\nresource = \"zaak\"",
        "field",
        "unknown key; expected one of scopes, involvement, fields, withhold, writes",
    );
    rejects(
        "[[withhold]]\nresource = \"zaakobject\"\nwhen = { field = \"objectType\", is = [\"pand\"] }",
        "withhold[0].when.is",
        "unknown key",
    );
    rejects(
        "[[scopes]]\nname = \"a.b\"\ngrant = [\"zaak.list\"]",
        "scopes[0].grant",
        "unknown key",
    );
}

#[test]
fn shape_errors_name_the_key() {
    rejects(
        "[[fields]]\nresource = \"zaak\"\npath = 3",
        "fields[0].path",
        "invalid type: integer `3`, expected a string",
    );
    rejects(
        "[[fields]]\npath = \"toelichting\"",
        "fields[0]",
        "missing key `resource`",
    );
    rejects("fields = 3", "fields", "array of tables");
    rejects("scopes = [1]", "scopes[0]", "expected a table");
    let syntax = problems("[[fields]\nresource = \"zaak\"");
    assert_eq!(syntax.len(), 1);
    assert!(syntax[0].at.starts_with("line 1"), "{syntax:?}");
    assert!(syntax[0].message.starts_with("TOML syntax: "), "{syntax:?}");
    assert!(
        !syntax[0].message.contains('|'),
        "no source excerpt: {syntax:?}"
    );
}

#[test]
fn scope_declarations_are_checked() {
    rejects(
        "[[scopes]]\nname = \"zaken.lezen.openbaar\"\ngrants = []",
        "scopes[0].grants",
        "empty grants",
    );
    rejects(
        "[[scopes]]\nname = \"x\"\ngrants = [\"zaak.read\"]",
        "scopes[0].grants[0]",
        "unknown action `read`",
    );
    rejects(
        "[[scopes]]\nname = \"x\"\ngrants = [\"zaken.list\"]",
        "scopes[0].grants[0]",
        "unknown resource `zaken`",
    );
    rejects(
        "[[scopes]]\nname = \"x\"\ngrants = [\"status.update\"]",
        "scopes[0].grants[0]",
        "the status resource has no update operation",
    );
    rejects(
        "[[scopes]]\nname = \"x\"\ngrants = [\"zaak\"]",
        "scopes[0].grants[0]",
        "expected \"<resource>.<action>\"",
    );
    rejects(
        "[[scopes]]\nname = \"x\"\ngrants = [\"zaak.list\", \"zaak.list\"]",
        "scopes[0].grants[1]",
        "listed twice",
    );
    rejects(
        "[[scopes]]\nname = \"zaken.lezen\"",
        "scopes[0].name",
        "is a ZGW scope already",
    );
    rejects(
        "[[scopes]]\nname = \"zds.scopes.zaken.lezen.openbaar\"",
        "scopes[0].name",
        "legacy prefix",
    );
    rejects(
        "[[scopes]]\nname = \"x\"\n[[scopes]]\nname = \"x\"",
        "scopes[1].name",
        "declared twice",
    );
}

#[test]
fn scopes_named_by_rules_must_exist() {
    rejects(
        &format!("{FIELD}grants = {{ \"zaken.lezn\" = \"read\" }}"),
        "fields[0].grants.\"zaken.lezn\"",
        "unknown scope `zaken.lezn`",
    );
    rejects(
        &format!("{FIELD}grants = {{ \"zds.scopes.zaken.lezen\" = \"read\" }}"),
        "fields[0].grants.\"zds.scopes.zaken.lezen\"",
        "OAS name `zaken.lezen`",
    );
    rejects(
        "[[involvement]]\nactions = [\"retrieve\"]\nroles = [\"behandelaar\"]\nexempt = [\"zaken.alle-zaken\"]",
        "involvement[0].exempt[0]",
        "unknown scope `zaken.alle-zaken`",
    );
    // Declared, it is fine.
    rules(
        "[[scopes]]\nname = \"zaken.alle-zaken\"\n[[involvement]]\nactions = [\"retrieve\"]\nroles = [\"behandelaar\"]\nexempt = [\"zaken.alle-zaken\"]",
    );
}

#[test]
fn field_rules_are_checked() {
    rejects(
        &format!("{FIELD}grants = {{ \"zaken.lezen\" = \"none\" }}\n")
            .replace("default = \"none\"", "default = \"letters:3\""),
        "fields[0].grants.\"zaken.lezen\"",
        "below the default letters:3",
    );
    rejects(
        "[[fields]]\nresource = \"zaak\"\npath = \"toelichting\"\ndefault = \"read\"",
        "fields[0].default",
        "no effect",
    );
    rejects(
        "[[fields]]\nresource = \"zaak\"\npath = \"url\"",
        "fields[0].path",
        "always delivered",
    );
    rejects(
        "[[fields]]\nresource = \"zaak\"\npath = \"a..b\"",
        "fields[0].path",
        "empty segment",
    );
    rejects(
        "[[fields]]\nresource = \"zaken\"\npath = \"toelichting\"",
        "fields[0].resource",
        "unknown resource `zaken`",
    );
    let overlap = "[[fields]]\nresource = \"rol\"\npath = \"betrokkeneIdentificatie\"\n\
                   [[fields]]\nresource = \"rol\"\npath = \"betrokkeneIdentificatie.inpBsn\"";
    rejects(
        overlap,
        "fields[1].path",
        "overlaps `betrokkeneIdentificatie` (fields[0])",
    );
    let twice = "[[fields]]\nresource = \"rol\"\npath = \"roltoelichting\"\n\
                 [[fields]]\nresource = \"rol\"\npath = \"roltoelichting\"";
    rejects(twice, "fields[1].path", "fields[0] already configures");
    // The same path on another resource is no overlap.
    rules(
        "[[fields]]\nresource = \"rol\"\npath = \"toelichting\"\n\
         [[fields]]\nresource = \"zaak\"\npath = \"toelichting\"",
    );
}

#[test]
fn involvement_rules_are_checked() {
    let base = "[[involvement]]\nactions = [\"retrieve\", \"list\"]\nroles = [\"behandelaar\"]\n";
    rejects(
        &format!("{base}[[involvement]]\nactions = [\"list\"]\nroles = [\"adviseur\"]"),
        "involvement[1].actions",
        "involvement[0] already decides `list` for every zaaktype",
    );
    let zt = "zaaktypen = [\"https://ztc.example/zaaktypen/1\"]\n";
    rejects(
        &format!(
            "[[involvement]]\n{zt}actions = [\"list\"]\nroles = [\"behandelaar\"]\n\
             [[involvement]]\nzaaktypen = [\"https://ztc.example/zaaktypen/1/\"]\nactions = [\"list\"]\nroles = [\"adviseur\"]"
        ),
        "involvement[1].actions",
        "already decides `list` for zaaktype https://ztc.example/zaaktypen/1",
    );
    rejects(
        "[[involvement]]\nzaaktypen = [\"zt1\"]\nactions = [\"list\"]\nroles = [\"behandelaar\"]",
        "involvement[0].zaaktypen[0]",
        "not a zaaktype URL",
    );
    rejects(
        "[[involvement]]\nactions = [\"read\"]\nroles = [\"behandelaar\"]",
        "involvement[0].actions[0]",
        "unknown action `read`",
    );
    rejects(
        "[[involvement]]\nactions = []\nroles = [\"behandelaar\"]",
        "involvement[0].actions",
        "empty list",
    );
    // A specific rule next to a general one is not an overlap.
    rules(&format!(
        "{base}[[involvement]]\n{zt}actions = [\"list\"]\nroles = [\"adviseur\"]"
    ));
}

#[test]
fn withhold_and_write_rules_are_checked() {
    rejects(
        "[[withhold]]\nresource = \"zaakobject\"\nwhen = { field = \"objectType\", in = [\"pand\"], present = true }",
        "withhold[0].when",
        "not both",
    );
    rejects(
        "[[withhold]]\nresource = \"zaakobject\"\nwhen = { field = \"objectType\" }",
        "withhold[0].when",
        "missing the test",
    );
    rejects(
        "[[withhold]]\nresource = \"zaakobject\"\nwhen = { field = \"objectType\", in = [] }",
        "withhold[0].when.in",
        "empty list",
    );
    rejects(
        "[[withhold]]\nresource = \"zaakobject\"\nwhen = { field = \"objectType\", in = [\"pand\"] }\nunless = [\"rol:baas\"]",
        "withhold[0].unless[0]",
        "unknown rol `baas`",
    );
    let writes = |actions: &str, unless: &str| {
        format!(
            "[[writes]]\nresource = \"status\"\nactions = {actions}\nimmutable = [\"statustype\"]\nunless = {unless}"
        )
    };
    rejects(
        &writes("[\"update\"]", "[]"),
        "writes[0].actions[0]",
        "the status resource has no update operation",
    );
    rejects(
        &writes("[\"retrieve\"]", "[]"),
        "writes[0].actions[0]",
        "sends no attributes",
    );
    rejects(
        &writes("[\"create\"]", "[\"rol:behandelaar\"]"),
        "writes[0].unless[0]",
        "only scopes can be named here",
    );
    rejects(
        "[[writes]]\nresource = \"zaak\"\nactions = [\"update\"]\nimmutable = []",
        "writes[0].immutable",
        "empty list",
    );
}

#[test]
fn every_problem_is_reported_at_once() {
    let found = problems(
        "[[scopes]]\nname = \"x\"\ngrants = []\n\
         [[fields]]\nresource = \"zaak\"\npath = \"toelichting\"\ndefault = \"bad\"\n\
         [[involvement]]\nactions = [\"retrieve\"]\nroles = [\"klant\"]",
    );
    let at: Vec<&str> = found.iter().map(|p| p.at.as_str()).collect();
    assert_eq!(
        at,
        [
            "scopes[0].grants",
            "involvement[0].roles[0]",
            "fields[0].default"
        ]
    );
    let error = Rules::parse("[[scopes]]\nname = \"x\"\ngrants = []").unwrap_err();
    let RulesError::Invalid(list) = &error;
    assert_eq!(list.len(), 1);
    assert!(
        error.to_string().contains("scopes[0].grants: empty grants"),
        "{error}"
    );
}

#[test]
fn module_doc_example_is_valid() {
    let source = include_str!("../src/rules.rs");
    let block: String = source
        .lines()
        .skip_while(|l| *l != "//! ```toml")
        .skip(1)
        .take_while(|l| *l != "//! ```")
        .map(|l| l.strip_prefix("//!").unwrap_or(l).trim_start_matches(' '))
        .collect::<Vec<_>>()
        .join("\n");
    assert!(block.contains("[[writes]]"), "example block found: {block}");
    let r = rules(&block);
    assert_eq!(r.extra_scopes("status", "list"), ["zaken.lezen.openbaar"]);
}

// --- behaviour ------------------------------------------------------------------------------

#[test]
fn default_rules_change_nothing() {
    let r = Rules::default();
    assert!(r.is_empty());
    let scopes = strings(&["zaken.lezen"]);
    let holder = Holder {
        scopes: &scopes,
        roles: &[],
    };
    assert!(r.extra_scopes("zaak", "list").is_empty());
    assert_eq!(r.involvement("https://z/1", "retrieve", &scopes), None);
    assert!(!r.involvement_applies_to_lists());
    let plan = r.plan("rol", &holder);
    assert!(plan.is_identity());
    let mut record = json!({"betrokkeneIdentificatie": {"inpBsn": "999990019"}});
    let before = record.clone();
    let k = key();
    let mut projector = Projector::new(&k, [1; 32]);
    assert!(project(&plan, &mut record, &mut projector, "zrc").is_empty());
    assert_eq!(record, before);
    assert!(!r.withheld(
        "zaakobject",
        &json!({"objectType": "natuurlijk_persoon"}),
        &holder
    ));
    assert!(
        r.write_violations("zaak", "partial_update", &json!({"zaaktype": "x"}), &scopes)
            .is_empty()
    );
    // Declared scopes without grants change nothing either.
    assert!(rules("[[scopes]]\nname = \"kcc\"").is_empty());
}

#[test]
fn plan_takes_the_highest_matching_grant() {
    let r = rules(
        "[[scopes]]\nname = \"a\"\n[[scopes]]\nname = \"b\"\n\
         [[fields]]\nresource = \"rol\"\npath = \"betrokkeneIdentificatie.inpBsn\"\n\
         grants = { a = \"letters:3\", b = \"encoded\", \"rol:behandelaar\" = \"read\", \"rol:adviseur\" = \"letters:5\" }\n\
         [[fields]]\nresource = \"rol\"\npath = \"roltoelichting\"\ndefault = \"letters:2\"\n\
         grants = { a = \"letters:10\" }",
    );
    let level = |scopes: &[&str], roles: &[&str]| {
        let scopes = strings(scopes);
        let roles = strings(roles);
        let plan = r.plan(
            "rol",
            &Holder {
                scopes: &scopes,
                roles: &roles,
            },
        );
        (
            plan.level("betrokkeneIdentificatie.inpBsn").unwrap(),
            plan.level("roltoelichting").unwrap(),
        )
    };
    assert_eq!(level(&[], &[]), (Level::None, Level::Letters(2)));
    assert_eq!(level(&["a"], &[]), (Level::Letters(3), Level::Letters(10)));
    assert_eq!(
        level(&["a", "b"], &[]),
        (Level::Encoded, Level::Letters(10))
    );
    assert_eq!(
        level(&["a"], &["adviseur"]),
        (Level::Letters(5), Level::Letters(10))
    );
    assert_eq!(
        level(&["b"], &["behandelaar"]),
        (Level::Read, Level::Letters(2))
    );
    assert_eq!(
        level(&["zaken.lezen"], &["initiator"]),
        (Level::None, Level::Letters(2))
    );
    // A resource without field rules gets a plan that changes nothing.
    let none = r.plan(
        "zaak",
        &Holder {
            scopes: &[],
            roles: &[],
        },
    );
    assert_eq!(none.entries().count(), 0);
    assert_eq!(none.resource(), "zaak");
}

#[test]
fn extra_scopes_answer_per_operation() {
    let r = rules(
        "[[scopes]]\nname = \"p\"\ngrants = [\"zaak.list\", \"zaak.search\"]\n\
         [[scopes]]\nname = \"q\"\ngrants = [\"zaak.list\"]",
    );
    assert_eq!(r.extra_scopes("zaak", "list"), ["p", "q"]);
    assert_eq!(r.extra_scopes("zaak", "search"), ["p"]);
    assert!(r.extra_scopes("zaak", "retrieve").is_empty());
    assert!(r.extra_scopes("status", "list").is_empty());
    assert!(r.extra_scopes("zaak", "nonsense").is_empty());
    assert_eq!(r.scope_grants("p").len(), 2);
    assert!(!r.is_empty());
}

#[test]
fn the_most_specific_involvement_rule_decides() {
    let r = rules(
        "[[scopes]]\nname = \"zaken.alle-zaken\"\n\
         [[involvement]]\nactions = [\"retrieve\", \"update\"]\nroles = [\"behandelaar\", \"adviseur\"]\nexempt = [\"zaken.alle-zaken\"]\n\
         [[involvement]]\nzaaktypen = [\"https://ztc.example/zaaktypen/hr/\"]\nactions = [\"retrieve\", \"list\"]\nroles = [\"behandelaar\"]",
    );
    let plain = strings(&["zaken.lezen"]);
    let all = strings(&["zaken.lezen", "zaken.alle-zaken"]);
    let hr = "https://ztc.example/zaaktypen/hr";
    let other = "https://ztc.example/zaaktypen/bouw";
    let roles = |zt: &str, action: &str, scopes: &[String]| {
        r.involvement(zt, action, scopes).map(<[String]>::to_vec)
    };
    assert_eq!(
        roles(other, "retrieve", &plain),
        Some(strings(&["behandelaar", "adviseur"]))
    );
    assert_eq!(roles(other, "retrieve", &all), None, "exempt");
    assert_eq!(roles(other, "list", &plain), None, "no rule for list");
    // The HR rule overrides the general one, and has no exemption.
    assert_eq!(
        roles(hr, "retrieve", &plain),
        Some(strings(&["behandelaar"]))
    );
    assert_eq!(roles(hr, "retrieve", &all), Some(strings(&["behandelaar"])));
    assert_eq!(
        roles(&format!("{hr}/"), "list", &all),
        Some(strings(&["behandelaar"]))
    );
    // Where the HR rule says nothing, the general rule decides.
    assert_eq!(
        roles(hr, "update", &plain),
        Some(strings(&["behandelaar", "adviseur"]))
    );
    assert_eq!(roles(hr, "bogus", &plain), None);
    assert!(r.involvement_applies_to_lists());
}

#[test]
fn withhold_tests_values_and_presence() {
    let r = rules(
        "[[withhold]]\nresource = \"zaakobject\"\nwhen = { field = \"objectType\", in = [\"natuurlijk_persoon\", \"huishouden\"] }\nunless = [\"zaken.lezen\", \"rol:behandelaar\"]\n\
         [[withhold]]\nresource = \"rol\"\nwhen = { field = \"betrokkeneIdentificatie.inpBsn\", present = true }\nunless = [\"zaken.lezen\"]\n\
         [[withhold]]\nresource = \"status\"\nwhen = { field = \"statustoelichting\", present = false }",
    );
    let none = Holder {
        scopes: &[],
        roles: &[],
    };
    let lezen = strings(&["zaken.lezen"]);
    let reader = Holder {
        scopes: &lezen,
        roles: &[],
    };
    let behandelaar = strings(&["behandelaar"]);
    let involved = Holder {
        scopes: &[],
        roles: &behandelaar,
    };
    let person = json!({"objectType": "natuurlijk_persoon"});
    let pand = json!({"objectType": "pand"});
    assert!(r.withheld("zaakobject", &person, &none));
    assert!(!r.withheld("zaakobject", &person, &reader));
    assert!(!r.withheld("zaakobject", &person, &involved));
    assert!(!r.withheld("zaakobject", &pand, &none));
    assert!(!r.withheld("zaakobject", &json!({"objectType": 3}), &none));

    let with_bsn = json!({"betrokkeneIdentificatie": {"inpBsn": "999990019"}});
    let null_bsn = json!({"betrokkeneIdentificatie": {"inpBsn": null}});
    let nested =
        json!([{"betrokkeneIdentificatie": {}}, {"betrokkeneIdentificatie": [{"inpBsn": "1"}]}]);
    assert!(r.withheld("rol", &with_bsn, &none));
    assert!(r.withheld("rol", &nested, &none), "arrays are walked");
    assert!(!r.withheld("rol", &null_bsn, &none));
    assert!(!r.withheld("rol", &with_bsn, &reader));

    assert!(r.withheld("status", &json!({"statustoelichting": null}), &none));
    assert!(!r.withheld("status", &json!({"statustoelichting": "x"}), &none));
    assert!(!r.withheld("zaak", &person, &none), "no rule for zaak");
}

#[test]
fn write_violations_name_present_attributes() {
    let r = rules(
        "[[writes]]\nresource = \"zaak\"\nactions = [\"update\", \"partial_update\"]\n\
         immutable = [\"bronorganisatie\", \"zaaktype\", \"verlenging.reden\"]\nunless = [\"zaken.geforceerd-bijwerken\"]\n\
         [[writes]]\nresource = \"zaak\"\nactions = [\"partial_update\"]\nimmutable = [\"zaaktype\", \"archiefnominatie\"]",
    );
    let bijwerken = strings(&["zaken.bijwerken"]);
    let forced = strings(&["zaken.bijwerken", "zaken.geforceerd-bijwerken"]);
    let body = json!({"omschrijving": "x", "zaaktype": "z", "bronorganisatie": null, "verlenging": {"reden": "r"}});
    assert_eq!(
        r.write_violations("zaak", "partial_update", &body, &bijwerken),
        ["bronorganisatie", "zaaktype", "verlenging.reden"]
    );
    assert_eq!(
        r.write_violations("zaak", "partial_update", &body, &forced),
        ["zaaktype"]
    );
    assert_eq!(
        r.write_violations("zaak", "update", &body, &forced),
        Vec::<String>::new()
    );
    assert!(
        r.write_violations("zaak", "create", &body, &bijwerken)
            .is_empty()
    );
    assert!(
        r.write_violations("status", "create", &body, &bijwerken)
            .is_empty()
    );
    assert!(
        r.write_violations(
            "zaak",
            "partial_update",
            &json!({"omschrijving": "x"}),
            &bijwerken
        )
        .is_empty()
    );

    // A PUT repeats the stored values; only real changes count.
    let current =
        json!({"bronorganisatie": "002220647", "zaaktype": "z", "verlenging": {"reden": "r"}});
    let put = json!({"bronorganisatie": "002220647", "zaaktype": "z", "verlenging": {"reden": "anders"}, "omschrijving": "y"});
    assert_eq!(
        r.write_violations_against("zaak", "update", &put, &current, &bijwerken),
        ["verlenging.reden"]
    );
    let unchanged = json!({"bronorganisatie": "002220647", "zaaktype": "z"});
    assert!(
        r.write_violations_against("zaak", "update", &unchanged, &current, &bijwerken)
            .is_empty()
    );
}

#[test]
fn project_applies_each_level_through_nested_arrays() {
    let r = rules(
        "[[fields]]\nresource = \"zaak\"\npath = \"_expand.rollen.betrokkeneIdentificatie.inpBsn\"\n\
         [[fields]]\nresource = \"zaak\"\npath = \"_expand.rollen.betrokkeneIdentificatie.geslachtsnaam\"\ndefault = \"letters:3\"\n\
         [[fields]]\nresource = \"zaak\"\npath = \"_expand.rollen.betrokkeneIdentificatie.voornamen\"\ndefault = \"encoded\"\n\
         [[fields]]\nresource = \"zaak\"\npath = \"_expand.rollen.betrokkeneIdentificatie.geboortedatum\"\ndefault = \"random\"\n\
         [[fields]]\nresource = \"zaak\"\npath = \"_expand.rollen.roltoelichting\"\ndefault = \"letters:1\"\ngrants = { \"zaken.lezen\" = \"read\" }\n\
         [[fields]]\nresource = \"zaak\"\npath = \"kenmerken\"\ndefault = \"letters:2\"",
    );
    let person = |bsn: &str, naam: &str, voornamen: &str| {
        json!({"betrokkeneType": "natuurlijk_persoon", "roltoelichting": "indiener",
               "betrokkeneIdentificatie": {"inpBsn": bsn, "geslachtsnaam": naam, "voornamen": voornamen, "geboortedatum": "1980-05-04"}})
    };
    let mut zaak = json!({
        "url": "https://zrc/zaken/1",
        "kenmerken": [{"kenmerk": "abc"}, "xyz", null],
        "_expand": {"rollen": [
            person("999990019", "Jansen", "Jan"),
            person("999990020", "Pietersen", "Jan"),
            {"betrokkeneType": "medewerker", "roltoelichting": null, "betrokkeneIdentificatie": {"identificatie": "m1"}},
        ]}
    });
    let lezen = strings(&["zaken.lezen"]);
    let plan = r.plan(
        "zaak",
        &Holder {
            scopes: &lezen,
            roles: &[],
        },
    );
    let k = key();
    let mut projector = Projector::new(&k, [9; 32]);
    let done = project(&plan, &mut zaak, &mut projector, "zrc");
    assert_eq!(
        done,
        Projected {
            removed: strings(&["_expand.rollen.betrokkeneIdentificatie.inpBsn"]),
            changed: strings(&[
                "_expand.rollen.betrokkeneIdentificatie.geslachtsnaam",
                "_expand.rollen.betrokkeneIdentificatie.voornamen",
                "_expand.rollen.betrokkeneIdentificatie.geboortedatum",
                "kenmerken",
            ]),
        }
    );
    let rollen = zaak["_expand"]["rollen"].as_array().unwrap();
    let ids: Vec<&Value> = rollen
        .iter()
        .map(|r| &r["betrokkeneIdentificatie"])
        .collect();
    assert!(ids[0].get("inpBsn").is_none() && ids[1].get("inpBsn").is_none());
    assert_eq!(ids[0]["geslachtsnaam"], "Jan");
    assert_eq!(ids[1]["geslachtsnaam"], "Pie");
    let code = projector.encode(
        "zrc.zaak._expand.rollen.betrokkeneIdentificatie.voornamen",
        &json!("Jan"),
    );
    assert_eq!(ids[0]["voornamen"], code.as_str());
    assert_eq!(
        ids[0]["voornamen"], ids[1]["voornamen"],
        "encoded stays linkable"
    );
    let (r0, r1) = (&ids[0]["geboortedatum"], &ids[1]["geboortedatum"]);
    assert_ne!(r0, "1980-05-04");
    assert_ne!(r0, r1, "random is fresh per value");
    assert_eq!(r0.as_str().unwrap().len(), 32);
    assert_eq!(ids[2], &json!({"identificatie": "m1"}));
    assert_eq!(
        rollen[0]["roltoelichting"], "indiener",
        "read for zaken.lezen"
    );
    assert_eq!(rollen[2]["roltoelichting"], Value::Null, "null stays null");
    assert_eq!(zaak["kenmerken"], json!(["{\"", "xy", null]));
    assert_eq!(zaak["url"], "https://zrc/zaken/1");

    // Without zaken.lezen the toelichting is cut to one letter.
    let mut again = json!({"_expand": {"rollen": [{"roltoelichting": "indiener"}]}});
    let plan = r.plan(
        "zaak",
        &Holder {
            scopes: &[],
            roles: &[],
        },
    );
    let done = project(&plan, &mut again, &mut projector, "zrc");
    assert_eq!(again["_expand"]["rollen"][0]["roltoelichting"], "i");
    assert_eq!(done.changed, ["_expand.rollen.roltoelichting"]);
    assert!(done.removed.is_empty());
}

#[test]
fn rules_on_required_attributes_are_listed() {
    let r = rules(
        "[[fields]]\nresource = \"rol\"\npath = \"roltoelichting\"\ndefault = \"letters:3\"\n\
         [[fields]]\nresource = \"rol\"\npath = \"betrokkeneIdentificatie.inpBsn\"\n\
         [[fields]]\nresource = \"zaak\"\npath = \"toelichting\"",
    );
    let found = r.oas_deviations();
    assert_eq!(found.len(), 1, "{found:?}");
    assert!(
        found[0].starts_with("rol.roltoelichting is required"),
        "{found:?}"
    );
    assert!(
        example().oas_deviations().is_empty(),
        "the example stays within the OAS"
    );
}

// --- the example policy ---------------------------------------------------------------------

#[test]
fn example_kcc_sees_the_name_not_the_bsn() {
    let r = example();
    let kcc = strings(&["kcc"]);
    let holder = Holder {
        scopes: &kcc,
        roles: &[],
    };
    assert_eq!(r.extra_scopes("rol", "list"), ["kcc"]);
    let mut rol = json!({
        "url": "https://zrc/rollen/1", "betrokkeneType": "natuurlijk_persoon",
        "omschrijvingGeneriek": "initiator",
        "betrokkeneIdentificatie": {
            "inpBsn": "999990019", "inpA_nummer": "1234567890", "geslachtsnaam": "Jansen",
            "voorvoegselGeslachtsnaam": "van", "voornamen": "Jan", "voorletters": "J",
            "geboortedatum": "1980-05-04", "verblijfsadres": {"wplWoonplaatsNaam": "Utrecht"}
        }
    });
    let k = key();
    let mut projector = Projector::new(&k, [3; 32]);
    let done = project(&r.plan("rol", &holder), &mut rol, &mut projector, "zrc");
    let id = &rol["betrokkeneIdentificatie"];
    assert!(id.get("inpBsn").is_none(), "BSN gone: {id}");
    assert!(id.get("inpA_nummer").is_none());
    assert!(id.get("verblijfsadres").is_none());
    assert_eq!(id["geslachtsnaam"], "Jansen");
    assert_eq!(id["voorvoegselGeslachtsnaam"], "van");
    assert_eq!(id["voornamen"], "Jan");
    assert_eq!(id["geboortedatum"], "1980");
    assert_eq!(rol["omschrijvingGeneriek"], "initiator");
    assert!(
        done.removed
            .contains(&"betrokkeneIdentificatie.inpBsn".to_owned())
    );

    // zaken.lezen reads everything of a rol.
    let lezen = strings(&["zaken.lezen"]);
    let plan = r.plan(
        "rol",
        &Holder {
            scopes: &lezen,
            roles: &[],
        },
    );
    assert!(plan.is_identity());
}

#[test]
fn example_public_scope_gets_panden_not_persons() {
    let r = example();
    let public = strings(&["zaken.lezen.openbaar"]);
    let holder = Holder {
        scopes: &public,
        roles: &[],
    };
    for (resource, action) in [
        ("zaak", "retrieve"),
        ("zaak", "search"),
        ("zaakobject", "list"),
        ("statustype", "retrieve"),
    ] {
        assert!(
            r.extra_scopes(resource, action)
                .contains(&"zaken.lezen.openbaar"),
            "{resource}.{action}"
        );
    }
    assert!(
        !r.extra_scopes("rol", "list")
            .contains(&"zaken.lezen.openbaar")
    );
    let person = json!({"objectType": "natuurlijk_persoon", "betrokkeneIdentificatie": {"inpBsn": "999990019"}});
    let pand =
        json!({"objectType": "pand", "objectIdentificatie": {"identificatie": "0344100000012345"}});
    assert!(r.withheld("zaakobject", &person, &holder));
    assert!(!r.withheld("zaakobject", &pand, &holder));
    let lezen = strings(&["zaken.lezen"]);
    let reader = Holder {
        scopes: &lezen,
        roles: &[],
    };
    assert!(!r.withheld("zaakobject", &person, &reader));

    // A delivered zaakobject never carries a BSN for the public scope.
    let mut other = json!({"objectType": "overige", "objectIdentificatie": {"inpBsn": "999990019", "overigeData": {}}});
    let k = key();
    let mut projector = Projector::new(&k, [4; 32]);
    project(
        &r.plan("zaakobject", &holder),
        &mut other,
        &mut projector,
        "zrc",
    );
    assert_eq!(
        other,
        json!({"objectType": "overige", "objectIdentificatie": {"overigeData": {}}})
    );

    // The zaak without free text and archive data.
    let mut zaak = json!({"identificatie": "Z-1", "toelichting": "namens J. Jansen",
                          "archiefnominatie": "blijvend_bewaren", "archiefstatus": "nog_te_archiveren",
                          "archiefactiedatum": "2040-01-01"});
    project(&r.plan("zaak", &holder), &mut zaak, &mut projector, "zrc");
    assert_eq!(zaak, json!({"identificatie": "Z-1"}));
}

#[test]
fn example_archive_scope_and_writes() {
    let r = example();
    let zaak = json!({"identificatie": "Z-1", "archiefnominatie": "vernietigen", "archiefstatus": "nog_te_archiveren", "archiefactiedatum": "2040-01-01"});
    let k = key();
    let mut projector = Projector::new(&k, [5; 32]);
    let lezen = strings(&["zaken.lezen"]);
    let mut seen = zaak.clone();
    project(
        &r.plan(
            "zaak",
            &Holder {
                scopes: &lezen,
                roles: &[],
            },
        ),
        &mut seen,
        &mut projector,
        "zrc",
    );
    assert_eq!(
        seen,
        json!({"identificatie": "Z-1"}),
        "zaken.lezen sees no archive data"
    );
    let archief = strings(&["zaken.lezen", "zaken.archief"]);
    let mut seen = zaak.clone();
    project(
        &r.plan(
            "zaak",
            &Holder {
                scopes: &archief,
                roles: &[],
            },
        ),
        &mut seen,
        &mut projector,
        "zrc",
    );
    assert_eq!(seen, zaak);

    let bijwerken = strings(&["zaken.bijwerken"]);
    let patch = json!({"omschrijving": "nieuw", "identificatie": "Z-2", "archiefnominatie": "blijvend_bewaren"});
    assert_eq!(
        r.write_violations("zaak", "partial_update", &patch, &bijwerken),
        ["identificatie", "archiefnominatie"]
    );
    let forced = strings(&["zaken.geforceerd-bijwerken", "zaken.archief"]);
    assert!(
        r.write_violations("zaak", "partial_update", &patch, &forced)
            .is_empty()
    );
    assert_eq!(
        r.extra_scopes("zaakinformatieobject", "create"),
        ["zaakinformatieobjecten.aanmaken"]
    );
    assert!(
        r.extra_scopes("zaak", "create").is_empty(),
        "zaken.aanmaken is the OAS's"
    );
    assert_eq!(
        r.extra_scopes("rol", "create"),
        ["zaken.aanmaken"],
        "the note's rol_create"
    );
}

#[test]
fn example_hr_zaken_need_their_behandelaar() {
    let r = example();
    let hr =
        "https://catalogi.gemeente.example/api/v1/zaaktypen/0119dd4e-7be9-477e-bccf-75023b1453c1";
    let lezen = strings(&["zaken.lezen", "zaken.bijwerken"]);
    for action in ["list", "retrieve", "partial_update"] {
        assert_eq!(
            r.involvement(hr, action, &lezen),
            Some(&strings(&["behandelaar"])[..]),
            "{action}"
        );
    }
    assert_eq!(
        r.involvement(
            "https://catalogi.gemeente.example/api/v1/zaaktypen/other",
            "retrieve",
            &lezen
        ),
        None
    );
    assert!(r.involvement_applies_to_lists());
}

// --- invariant ------------------------------------------------------------------------------

fn arb_json() -> impl Strategy<Value = Value> {
    let leaf = prop_oneof![
        Just(Value::Null),
        any::<bool>().prop_map(Value::Bool),
        any::<i64>().prop_map(|n| json!(n)),
        "[a-z0-9]{0,6}".prop_map(Value::String),
    ];
    leaf.prop_recursive(5, 64, 6, |inner| {
        prop_oneof![
            prop::collection::vec(inner.clone(), 0..4).prop_map(Value::Array),
            prop::collection::vec(
                (prop::sample::select(vec!["a", "b", "c", "d"]), inner),
                0..5
            )
            .prop_map(|kv| {
                Value::Object(kv.into_iter().map(|(k, v)| (k.to_owned(), v)).collect())
            }),
        ]
    })
}

/// True when some object the path reaches (walking arrays) holds the path's last key.
fn reaches(v: &Value, path: &[&str]) -> bool {
    match (v, path.split_first()) {
        (Value::Array(items), _) => items.iter().any(|i| reaches(i, path)),
        (Value::Object(m), Some((first, rest))) => match m.get(*first) {
            Some(_) if rest.is_empty() => true,
            Some(next) => reaches(next, rest),
            None => false,
        },
        _ => false,
    }
}

proptest! {
    #[test]
    fn arbitrary_text_never_panics(text in "(\\[\\[(scopes|fields|involvement|withhold|writes)\\]\\]\n|[a-z]{1,8} = (\"[a-z.:0-9]{0,10}\"|\\[\"[a-z.]{0,8}\"\\]|\\{ [a-z]{1,3} = \"[a-z:0-9]{0,8}\" \\}|3)\n|[^\\n]{0,12}\n){0,12}") {
        let _ = Rules::from_toml(&text);
    }

    #[test]
    fn more_scopes_or_roles_never_lower_a_level(extra in prop::collection::vec(0usize..4, 0..4)) {
        let r = example();
        let pool = ["kcc", "zaken.lezen", "zaken.archief", "rol:behandelaar"];
        let (mut scopes, mut roles) = (strings(&["zaken.lezen.openbaar"]), Vec::new());
        let mut before: Vec<(String, Level)> = Vec::new();
        for step in std::iter::once(None).chain(extra.iter().map(Some)) {
            if let Some(i) = step {
                match pool[*i].strip_prefix("rol:") {
                    Some(role) => roles.push(role.to_owned()),
                    None => scopes.push(pool[*i].to_owned()),
                }
            }
            let holder = Holder { scopes: &scopes, roles: &roles };
            let mut now = Vec::new();
            for resource in ["rol", "zaak", "zaakobject"] {
                for (path, level) in r.plan(resource, &holder).entries() {
                    now.push((format!("{resource}.{path}"), level));
                }
            }
            for ((p, old), (_, new)) in before.iter().zip(&now) {
                prop_assert!(new >= old, "{p}: {old} became {new}");
            }
            before = now;
        }
    }

    #[test]
    fn a_field_planned_none_never_appears(record in arb_json(), levels in prop::collection::vec(0usize..5, 4)) {
        let names = ["none", "letters:2", "encoded", "random", "read"];
        let paths = ["a.b", "c", "b.a.d", "d.d"];
        let mut text = String::from("[[scopes]]\nname = \"s\"\n");
        for (path, l) in paths.iter().zip(&levels) {
            // The holder has `s`; the grant (never below the default `none`) sets its level.
            text.push_str(&format!(
                "[[fields]]\nresource = \"zaak\"\npath = \"{path}\"\ngrants = {{ s = \"{}\" }}\n",
                names[*l]
            ));
        }
        let r = rules(&text);
        let scopes = strings(&["s"]);
        let plan = r.plan("zaak", &Holder { scopes: &scopes, roles: &[] });
        let k = key();
        let mut projector = Projector::new(&k, [2; 32]);
        let mut projected = record.clone();
        project(&plan, &mut projected, &mut projector, "zrc");
        for (path, l) in paths.iter().zip(&levels) {
            let segments: Vec<&str> = path.split('.').collect();
            if *l == 0 {
                prop_assert!(!reaches(&projected, &segments), "{path} still in {projected}");
            }
        }
        if levels.iter().all(|l| *l == 4) {
            prop_assert_eq!(projected, record);
        }
    }
}

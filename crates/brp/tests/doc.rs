//! The document form the BRP answer is filtered in (`sluis_brp::doc`): it reads and writes any
//! JSON text as serde_json's `Value` does.
#![allow(clippy::unwrap_used, clippy::expect_used, reason = "tests")]

use proptest::prelude::*;
use serde_json::Value;
use sluis_brp::doc::Node;

/// JSON values with the kinds of text an upstream sends: escapes, non-ASCII, numbers of every
/// form, nesting.
fn arb_json() -> impl Strategy<Value = Value> {
    let leaf = prop_oneof![
        Just(Value::Null),
        any::<bool>().prop_map(Value::from),
        any::<i64>().prop_map(Value::from),
        any::<u64>().prop_map(Value::from),
        (-1e12f64..1e12).prop_map(Value::from),
        "\\PC{0,12}".prop_map(Value::from),
        "[a-z\"\\\\/\n\t\u{e9}\u{1f600}]{0,8}".prop_map(Value::from),
    ];
    leaf.prop_recursive(5, 96, 10, |inner| {
        prop_oneof![
            prop::collection::vec(inner.clone(), 0..6).prop_map(Value::Array),
            prop::collection::vec(("[a-z\"\u{e9}]{0,6}", inner), 0..8)
                .prop_map(|kv| Value::Object(kv.into_iter().collect())),
        ]
    })
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(512))]

    /// Read and written again, a document is the text its `Value` writes.
    #[test]
    fn writes_what_value_writes(v in arb_json(), pretty in any::<bool>()) {
        let text = if pretty {
            serde_json::to_vec_pretty(&v).unwrap()
        } else {
            serde_json::to_vec(&v).unwrap()
        };
        // Compared with the Value read from the same text: serde_json's float parsing need not
        // give back the very float that was written.
        let read: Value = serde_json::from_slice(&text).unwrap();
        let node = Node::parse(&text).unwrap();
        prop_assert_eq!(node.to_vec().unwrap(), serde_json::to_vec(&read).unwrap());
    }

    /// Keys repeated in one object, small or large: the same result as `Value`.
    #[test]
    fn repeated_keys_as_value(
        keys in prop::collection::vec("[a-d]{1,2}", 0..80),
    ) {
        let members: Vec<String> = keys
            .iter()
            .enumerate()
            .map(|(i, k)| format!("\"{k}\":{i}"))
            .collect();
        let text = format!("{{{}}}", members.join(","));
        let v: Value = serde_json::from_str(&text).unwrap();
        let node = Node::parse(text.as_bytes()).unwrap();
        prop_assert_eq!(node.to_vec().unwrap(), serde_json::to_vec(&v).unwrap());
    }

    /// What `Value` refuses, a document refuses.
    #[test]
    fn refuses_what_value_refuses(bytes in prop::collection::vec(any::<u8>(), 0..40)) {
        let value = serde_json::from_slice::<Value>(&bytes);
        let node = Node::parse(&bytes);
        prop_assert_eq!(value.is_ok(), node.is_ok());
    }
}

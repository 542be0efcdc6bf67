//! JSON merge patch (RFC 7396): absent = unchanged, `null` = remove,
//! objects merge recursively, anything else replaces.

use serde::Serialize;
use serde::de::DeserializeOwned;
use serde_json::{Map, Value};

use super::extract::{CheckedInput, into_object, parse_body};
use crate::error::{ApiError, FieldError};

/// The stored document `current` with the merge patch applied, validated
/// as a whole like a create body (422 listing every invalid field).
pub fn patched<T: CheckedInput + Serialize>(current: T, patch: &Map<String, Value>) -> Result<T, ApiError> {
    patched_with(current, patch, |_| {})
}

/// [`patched`], with `adjust` run on the merged document before it is
/// validated (for rules that follow from the merge, like erasing data whose
/// consent was withdrawn).
pub fn patched_with<T: CheckedInput + Serialize>(
    current: T,
    patch: &Map<String, Value>,
    adjust: impl FnOnce(&mut Map<String, Value>),
) -> Result<T, ApiError> {
    let mut doc = serde_json::to_value(current).map_err(ApiError::internal)?;
    apply_checked::<T>(&mut doc, patch)?;
    let mut doc = into_object(doc)?;
    adjust(&mut doc);
    parse_body(doc)
}

/// Applies `patch` to `target` after checking that every key the patch sets
/// to `null` is a field of `T`. (A `null` removes its key, so an unknown one
/// would otherwise vanish in the merge instead of being a 422 like any other
/// unknown field.)
fn apply_checked<T: DeserializeOwned>(target: &mut Value, patch: &Map<String, Value>) -> Result<(), ApiError> {
    let mut unknown = Vec::new();
    null_leaves(&mut Vec::new(), patch, &mut |path| {
        // The path alone, with its null: every input field is optional, so
        // only an unknown key fails as `unknown field`.
        let mut probe = Value::Null;
        for key in path.iter().rev() {
            probe = Value::Object(Map::from_iter([((*key).to_owned(), probe)]));
        }
        if let Err(e) = serde_json::from_value::<T>(probe)
            && e.to_string().starts_with("unknown field")
        {
            unknown.push(FieldError::new(
                path.join("."),
                "unknown_field",
                "is not a field of this resource (or is read-only)",
            ));
        }
    });
    if !unknown.is_empty() {
        return Err(ApiError::Validation(unknown));
    }
    apply(target, &Value::Object(patch.clone()));
    Ok(())
}

fn null_leaves<'a>(path: &mut Vec<&'a str>, map: &'a Map<String, Value>, f: &mut impl FnMut(&[&'a str])) {
    for (k, v) in map {
        path.push(k);
        match v {
            Value::Null => f(path),
            Value::Object(inner) => null_leaves(path, inner, f),
            _ => {}
        }
        path.pop();
    }
}

pub fn apply(target: &mut Value, patch: &Value) {
    let Value::Object(patch) = patch else {
        *target = patch.clone();
        return;
    };
    if !target.is_object() {
        *target = Value::Object(Default::default());
    }
    let Value::Object(map) = target else { return };
    for (k, v) in patch {
        if v.is_null() {
            map.remove(k);
        } else {
            apply(map.entry(k.clone()).or_insert(Value::Null), v);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn merged(target: Value, patch: Value) -> Value {
        let mut t = target;
        apply(&mut t, &patch);
        t
    }

    /// The examples of RFC 7396, appendix A.
    #[test]
    fn rfc_7396_examples() {
        let cases = [
            (json!({"a":"b"}), json!({"a":"c"}), json!({"a":"c"})),
            (json!({"a":"b"}), json!({"b":"c"}), json!({"a":"b","b":"c"})),
            (json!({"a":"b"}), json!({"a":null}), json!({})),
            (json!({"a":"b","b":"c"}), json!({"a":null}), json!({"b":"c"})),
            (json!({"a":["b"]}), json!({"a":"c"}), json!({"a":"c"})),
            (json!({"a":"c"}), json!({"a":["b"]}), json!({"a":["b"]})),
            (json!({"a":{"b":"c"}}), json!({"a":{"b":"d","c":null}}), json!({"a":{"b":"d"}})),
            (json!({"a":[{"b":"c"}]}), json!({"a":[1]}), json!({"a":[1]})),
            (json!(["a", "b"]), json!(["c", "d"]), json!(["c", "d"])),
            (json!({"a":"b"}), json!(["c"]), json!(["c"])),
            (json!({"a":"foo"}), json!(null), json!(null)),
            (json!({"a":"foo"}), json!("bar"), json!("bar")),
            (json!({"e":null}), json!({"a":1}), json!({"e":null,"a":1})),
            (json!([1, 2]), json!({"a":"b","c":null}), json!({"a":"b"})),
            (json!({}), json!({"a":{"bb":{"ccc":null}}}), json!({"a":{"bb":{}}})),
        ];
        for (target, patch, expected) in cases {
            assert_eq!(merged(target.clone(), patch.clone()), expected, "{target} + {patch}");
        }
    }
}

//! Tolerant reading of lists in responses.
//!
//! - Lists the server is known to pad with placeholders (BimpeAI sends `"rules": [{...}, []]`):
//!   entries that are not JSON objects are dropped on decode instead of failing the response.
//!   Marked in a spec with `x-agentwire-loose: true`.
//! - A list that arrives as `null` (real servers send `"channels": null` for an empty list) is
//!   decoded as empty: build.rs puts [`null_as_default`] on every list field of the models. The
//!   contract suite still reports such a `null` in a fixture.

use std::ops::{Deref, DerefMut};

use serde::de::{DeserializeOwned, Deserializer, Error as _};
use serde::{Deserialize, Serialize};
use serde_json::Value;

/// A list decoded loosely: object entries are decoded as `T`, anything else is skipped. An
/// object that does not decode as `T` is still an error (only placeholders are forgiven).
#[derive(Debug, Clone, PartialEq, Serialize)]
#[serde(transparent)]
pub struct LooseList<T>(pub Vec<T>);

impl<T> Default for LooseList<T> {
    fn default() -> Self {
        LooseList(Vec::new())
    }
}

impl<T> Deref for LooseList<T> {
    type Target = Vec<T>;
    fn deref(&self) -> &Vec<T> {
        &self.0
    }
}

impl<T> DerefMut for LooseList<T> {
    fn deref_mut(&mut self) -> &mut Vec<T> {
        &mut self.0
    }
}

impl<T> From<Vec<T>> for LooseList<T> {
    fn from(items: Vec<T>) -> Self {
        LooseList(items)
    }
}

impl<T> IntoIterator for LooseList<T> {
    type Item = T;
    type IntoIter = std::vec::IntoIter<T>;
    fn into_iter(self) -> Self::IntoIter {
        self.0.into_iter()
    }
}

impl<'de, T: DeserializeOwned> Deserialize<'de> for LooseList<T> {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        let entries = Option::<Vec<Value>>::deserialize(deserializer)?.unwrap_or_default();
        let mut items = Vec::with_capacity(entries.len());
        for (index, entry) in entries.into_iter().enumerate() {
            if entry.is_object() {
                let item = serde_json::from_value(entry)
                    .map_err(|e| D::Error::custom(format!("entry {index}: {e}")))?;
                items.push(item);
            }
        }
        Ok(LooseList(items))
    }
}

/// Decodes a field whose `null` means "empty" (a list): `null` becomes `T::default()`, anything
/// else decodes as `T`. A missing field is still the field's own business (`#[serde(default)]`).
pub fn null_as_default<'de, D, T>(deserializer: D) -> Result<T, D::Error>
where
    D: Deserializer<'de>,
    T: Deserialize<'de> + Default,
{
    Ok(Option::<T>::deserialize(deserializer)?.unwrap_or_default())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[derive(Debug, Deserialize, PartialEq)]
    struct Rule {
        id: String,
    }

    #[test]
    fn placeholders_are_dropped_objects_kept() {
        let list: LooseList<Rule> =
            serde_json::from_str(r#"[{"id":"r1"}, [], 3, null, {"id":"r2"}]"#).unwrap();
        assert_eq!(
            list.0,
            vec![Rule { id: "r1".into() }, Rule { id: "r2".into() }]
        );
    }

    #[test]
    fn null_is_an_empty_list() {
        let list: LooseList<Rule> = serde_json::from_str("null").unwrap();
        assert!(list.is_empty());

        #[derive(Debug, Deserialize)]
        struct Agent {
            #[serde(default, deserialize_with = "null_as_default")]
            channels: Vec<Rule>,
            #[serde(deserialize_with = "null_as_default")]
            required: Vec<Rule>,
        }
        let a: Agent = serde_json::from_str(r#"{"channels": null, "required": null}"#).unwrap();
        assert!(a.channels.is_empty() && a.required.is_empty());
        let a: Agent = serde_json::from_str(r#"{"required": [{"id": "r"}]}"#).unwrap();
        assert_eq!(a.required, vec![Rule { id: "r".into() }]);
        let missing = serde_json::from_str::<Agent>(r#"{"channels": []}"#).unwrap_err();
        assert!(
            missing.to_string().contains("missing field `required`"),
            "{missing}"
        );
    }

    #[test]
    fn a_bad_object_is_still_an_error() {
        let err = serde_json::from_str::<LooseList<Rule>>(r#"[{"name":"x"}]"#).unwrap_err();
        assert!(err.to_string().contains("entry 0"), "{err}");
    }
}

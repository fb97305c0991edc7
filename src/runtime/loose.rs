//! Lists the server is known to pad with placeholders (BimpeAI sends `"rules": [{...}, []]`):
//! entries that are not JSON objects are dropped on decode instead of failing the response.
//! Marked in a spec with `x-agentwire-loose: true`.

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
        let entries = Vec::<Value>::deserialize(deserializer)?;
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
    fn a_bad_object_is_still_an_error() {
        let err = serde_json::from_str::<LooseList<Rule>>(r#"[{"name":"x"}]"#).unwrap_err();
        assert!(err.to_string().contains("entry 0"), "{err}");
    }
}

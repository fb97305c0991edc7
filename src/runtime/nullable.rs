//! A request field that can be left out, sent as `null`, or sent with a value. In a request body,
//! an optional `nullable` property is `Option<Nullable<T>>`: `None` leaves it out (the field
//! keeps its value), `Some(Nullable::Null)` sends `null` (clears it), `Some(Nullable::Value(v))`
//! sets it.
//!
//! ```
//! use agentwire::Nullable;
//! let unassign: Option<Nullable<String>> = Some(Nullable::Null);
//! assert_eq!(serde_json::to_string(&unassign).unwrap(), "null");
//! let assign: Nullable<String> = "a_1".into();
//! assert_eq!(serde_json::to_string(&assign).unwrap(), "\"a_1\"");
//! ```

use serde::{Deserialize, Deserializer, Serialize, Serializer};

/// `null`, or a value.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub enum Nullable<T> {
    /// Send `null`.
    Null,
    /// Send this value.
    Value(T),
}

impl<T> Nullable<T> {
    /// The value, if not null.
    pub fn as_ref(&self) -> Option<&T> {
        match self {
            Nullable::Null => None,
            Nullable::Value(v) => Some(v),
        }
    }

    /// `None` for null.
    pub fn into_option(self) -> Option<T> {
        match self {
            Nullable::Null => None,
            Nullable::Value(v) => Some(v),
        }
    }
}

impl<T> From<T> for Nullable<T> {
    fn from(value: T) -> Self {
        Nullable::Value(value)
    }
}

impl From<&str> for Nullable<String> {
    fn from(value: &str) -> Self {
        Nullable::Value(value.to_owned())
    }
}

impl<T: Serialize> Serialize for Nullable<T> {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        match self {
            Nullable::Null => serializer.serialize_none(),
            Nullable::Value(v) => v.serialize(serializer),
        }
    }
}

impl<'de, T: Deserialize<'de>> Deserialize<'de> for Nullable<T> {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        Ok(match Option::<T>::deserialize(deserializer)? {
            Some(v) => Nullable::Value(v),
            None => Nullable::Null,
        })
    }
}

/// For `Option<Nullable<T>>` fields: a present `null` is `Some(Nullable::Null)`, a missing field
/// `None` (with `#[serde(default)]`). Generated request types use it.
#[allow(
    dead_code,
    reason = "used by the generated request types of specs with nullable fields, which a build's platforms may not have"
)]
pub fn deserialize_present<'de, T, D>(deserializer: D) -> Result<Option<T>, D::Error>
where
    T: Deserialize<'de>,
    D: Deserializer<'de>,
{
    T::deserialize(deserializer).map(Some)
}

//! Open enums: every named string enum of a spec becomes a Rust enum with one variant per
//! documented value plus `Unknown(String)`, so one new server value never fails a whole decode
//! (the contract suite still checks fixture values strictly). The generated code invokes
//! [`open_enum!`] once per enum; everything an open enum implements is written here, once.

/// Defines an open enum: `open_enum!(#[doc = "…"] Name { Variant = "wire", … })`.
///
/// It gets the documented variants and `Unknown(String)`; `VALUES`, `as_str()` and
/// `is_known()`; `From<&str>`, `From<String>`, `FromStr` (infallible), `Display`, and serde
/// `Serialize`/`Deserialize` as its wire string.
#[allow(
    unused_macros,
    reason = "used by the generated code of specs with named enums, which a build's platforms may not have"
)]
macro_rules! open_enum {
    ($(#[$meta:meta])* $name:ident { $($variant:ident = $wire:literal),* $(,)? }) => {
        $(#[$meta])*
        #[doc = ""]
        #[doc = "Open: a value this version does not know decodes as `Unknown`, never as an error."]
        #[derive(Clone, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
        pub enum $name {
            $(
                #[doc = concat!("`", $wire, "`")]
                $variant,
            )*
            /// A value this version of agentwire does not know, kept as sent.
            Unknown(::std::string::String),
        }

        impl $name {
            /// Every value the spec documents.
            pub const VALUES: &'static [&'static str] = &[$($wire),*];

            /// The wire value.
            pub fn as_str(&self) -> &str {
                match self {
                    $(Self::$variant => $wire,)*
                    Self::Unknown(other) => other.as_str(),
                }
            }

            /// Whether this is a value the spec documents.
            pub fn is_known(&self) -> bool {
                !matches!(self, Self::Unknown(_))
            }
        }

        impl ::std::convert::From<&str> for $name {
            fn from(value: &str) -> Self {
                match value {
                    $($wire => Self::$variant,)*
                    other => Self::Unknown(other.to_owned()),
                }
            }
        }

        impl ::std::convert::From<::std::string::String> for $name {
            fn from(value: ::std::string::String) -> Self {
                Self::from(value.as_str())
            }
        }

        impl ::std::str::FromStr for $name {
            type Err = ::std::convert::Infallible;
            fn from_str(value: &str) -> ::std::result::Result<Self, Self::Err> {
                Ok(Self::from(value))
            }
        }

        impl ::std::fmt::Display for $name {
            fn fmt(&self, f: &mut ::std::fmt::Formatter<'_>) -> ::std::fmt::Result {
                f.write_str(self.as_str())
            }
        }

        impl ::serde::Serialize for $name {
            fn serialize<S: ::serde::Serializer>(
                &self,
                serializer: S,
            ) -> ::std::result::Result<S::Ok, S::Error> {
                serializer.serialize_str(self.as_str())
            }
        }

        impl<'de> ::serde::Deserialize<'de> for $name {
            fn deserialize<D: ::serde::Deserializer<'de>>(
                deserializer: D,
            ) -> ::std::result::Result<Self, D::Error> {
                let value =
                    <::std::borrow::Cow<'de, str> as ::serde::Deserialize>::deserialize(deserializer)?;
                Ok(Self::from(value.as_ref()))
            }
        }
    };
}
#[allow(
    unused_imports,
    reason = "used by the generated code of specs with named enums, which a build's platforms may not have"
)]
pub(crate) use open_enum;

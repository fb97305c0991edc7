//! INTERNAL: the spec fragments of `tests/specs/`, generated for this crate's own tests (feature
//! `testkit`, enabled only by the crate's dev-dependency on itself). Not part of the API.
//!
//! build.rs generates every `tests/specs/<name>.yaml` exactly as it generates a platform's spec,
//! into the module `agentwire::testkit::<name>`: its `types`, operation table (`PLATFORM`),
//! `Client` and request builders. A fragment is a small spec that exercises one shape of the
//! generator (recursive schemas, several hosts, another stream shape) without adding it to a
//! real platform. A contract built for platform `testkit::<name>` round-trips through the
//! fragment's generated types.

include!(concat!(env!("OUT_DIR"), "/testkit.rs"));

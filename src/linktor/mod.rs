//! Linktor.

pub mod realtime;

//! The `stdws` binary's pieces: arguments and the built-in page.

pub mod args;
pub mod page;

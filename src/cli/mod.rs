//! The `stdws` binary's pieces: arguments, the log, the built-in page, and the apps
//! each mode runs (exec, broadcast, static files), plus `--trace` output.

pub mod args;
pub mod broadcast;
pub mod cgi_env;
pub mod closing;
pub mod exec;
pub mod log;
pub mod page;
pub mod static_files;
pub mod trace;

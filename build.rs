//! Link settings for the size profile (`cargo build --profile small`) only; the
//! release profile is left as it is, for portability.
//!
//! - `-z pack-relative-relocs` (DT_RELR). A position-independent executable carries
//!   one 24-byte relocation for every pointer in its data (vtables, string tables),
//!   so the loader can place it anywhere. DT_RELR stores the same relocations as
//!   bitmaps, a fraction of the size, with the same address randomisation. It needs
//!   glibc 2.36 or newer at run time: an older glibc refuses to start the binary with
//!   a version error (`GLIBC_ABI_DT_RELR not found`) rather than misbehaving. A
//!   linker that does not know the option (GNU ld before 2.38) ignores it.
//! - `--icf=all`: the linker folds functions whose machine code is identical (often
//!   generic code instantiated for types of the same layout). Rust does not promise
//!   distinct addresses for distinct functions, so this is safe. Only lld has it, and
//!   rustc links with its own lld on x86_64 Linux from Rust 1.90 on.

use std::env;
use std::process::Command;

fn main() {
    println!("cargo:rerun-if-changed=build.rs");
    let target = |key: &str| env::var(format!("CARGO_CFG_TARGET_{key}")).unwrap_or_default();
    let size_profile = env::var("OPT_LEVEL").is_ok_and(|level| level == "z");
    if !size_profile || target("OS") != "linux" || target("ENV") != "gnu" {
        return;
    }
    println!("cargo:rustc-link-arg-bins=-Wl,-z,pack-relative-relocs");
    if target("ARCH") == "x86_64" && rustc_minor_version().is_some_and(|minor| minor >= 90) {
        println!("cargo:rustc-link-arg-bins=-Wl,--icf=all");
    }
}

/// The `y` of the compiler's version `1.y.z`, from `rustc --version`.
fn rustc_minor_version() -> Option<u32> {
    let rustc = env::var("RUSTC").unwrap_or_else(|_| "rustc".into());
    let output = Command::new(rustc).arg("--version").output().ok()?;
    let text = String::from_utf8(output.stdout).ok()?;
    let version = text.split_whitespace().nth(1)?;
    version.split('.').nth(1)?.parse().ok()
}

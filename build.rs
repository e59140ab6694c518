//! Link settings for the size profile (`cargo build --profile small`) only.
//!
//! A position-independent executable carries one 24-byte relocation for every
//! pointer in its data (vtables, string tables) so the loader can place it anywhere.
//! `-z pack-relative-relocs` (DT_RELR) stores the same relocations as bitmaps, a
//! fraction of the size, with the same address randomisation. It needs GNU ld 2.38
//! or newer, and glibc 2.36 or newer at run time: an older glibc refuses to start
//! the binary with a clear version error (`GLIBC_ABI_DT_RELR not found`) rather than
//! misbehaving. The release profile is left as it is, for portability.

fn main() {
    println!("cargo:rerun-if-changed=build.rs");
    let size_profile = std::env::var("OPT_LEVEL").is_ok_and(|level| level == "z");
    let linux_gnu = std::env::var("CARGO_CFG_TARGET_OS").is_ok_and(|os| os == "linux")
        && std::env::var("CARGO_CFG_TARGET_ENV").is_ok_and(|env| env == "gnu");
    if size_profile && linux_gnu {
        println!("cargo:rustc-link-arg-bins=-Wl,-z,pack-relative-relocs");
        println!("cargo:rustc-link-arg-bins=-Wl,--icf=all");
    }
}

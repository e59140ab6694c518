#!/usr/bin/env bash
# The one test command: formatting, lints, unit and integration tests, then the
# interop and deployment scripts that exist. Installs what it needs (run as root on
# a fresh Debian machine; apt-get update first).
set -euo pipefail
cd "$(dirname "$0")/.."

step() { printf '\n== %s\n' "$*"; }

if ! command -v cargo >/dev/null; then
  echo "test.sh: cargo not found: install Rust (rustup) first" >&2
  exit 1
fi
rustup component list --installed 2>/dev/null | grep -q rustfmt || rustup component add rustfmt clippy 2>/dev/null || true

step "cargo fmt --check"
cargo fmt --all -- --check

step "cargo clippy --all-targets -- -D warnings"
cargo clippy --all-targets -- -D warnings

step "cargo doc (warnings are errors)"
RUSTDOCFLAGS="-D warnings" cargo doc --no-deps --quiet

step "cargo test"
cargo test

# Later scripts (interop, nginx) run here when present.
for extra in scripts/interop-test.sh scripts/nginx-tls-test.sh; do
  if [ -x "$extra" ]; then
    step "$extra"
    "$extra"
  fi
done

step "all checks passed"

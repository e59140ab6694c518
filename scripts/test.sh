#!/usr/bin/env bash
# The one test command: formatting, lints, docs, unit and integration tests, then
# the interop and deployment scripts. Installs what it needs (run as root on
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

# Interop with third-party peers (Chromium, Python websockets, Node ws, hixie-76 via
# websocket-driver), then TLS through nginx. Both install what they need; a missing or
# failing script fails the run.
for extra in scripts/interop-test.sh scripts/nginx-tls-test.sh; do
  step "$extra"
  [ -x "$extra" ] || { echo "test.sh: $extra is missing or not executable" >&2; exit 1; }
  "$extra"
done

# Broadcast rooms across three instances through a real Redis (installs redis-server).
step scripts/redis-test.sh
scripts/redis-test.sh

step "all checks passed"

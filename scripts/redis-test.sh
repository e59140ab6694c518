#!/usr/bin/env bash
# Broadcast rooms spanning instances through a real Redis (stdws --broadcast --redis).
#
# Installs Debian's redis-server (idempotent; apt-get update first) and runs the
# tests/redis_rooms.rs binary with STDWS_REQUIRE_REDIS=1, so that they fail rather
# than skip if redis-server is missing. Each test starts its own redis-server on a
# private 127.0.0.1 port (no config file, nothing saved to disk, stopped by its PID)
# and three stdws instances against it: cross-instance delivery, one order for all
# members (a sender on each instance, and two on one), no echo, Redis stopped and
# restarted, Redis frozen (SIGSTOP), an instance killed, a password-protected Redis,
# a slow member.
# Should the package start its own service (port 6379), the tests do not use it.
set -euo pipefail
cd "$(dirname "$0")/.."
ROOT=$PWD
INTEROP=$ROOT/interop

# shellcheck source=../interop/lib.sh
. "$INTEROP/lib.sh"

say "installing redis-server"
apt_install redis-server
command -v redis-server >/dev/null || die "redis-server missing after installing it"
redis-server --version

say "tests/redis_rooms.rs against a real Redis"
STDWS_REQUIRE_REDIS=1 timeout 900 cargo test --test redis_rooms -- --test-threads 2

echo
echo "redis: passed ($((SECONDS - START)) s)"

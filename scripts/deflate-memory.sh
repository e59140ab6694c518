#!/bin/sh
# What an idle compressing connection costs stdws, per --deflatememory mode, beside a
# plain one: the server's VmRSS growth over N connections that each sent and received
# compressed messages first (examples/deflate_idle.rs), as compare.sh's idle scenario
# measures it. Needs nothing beyond cargo; 127.0.0.1 only.
#
#   scripts/deflate-memory.sh            # N=2000 connections per run
#   N=5000 ROUNDS=3 scripts/deflate-memory.sh
set -eu
N=${N:-2000}
ROUNDS=${ROUNDS:-1}
PORT=${PORT:-19350}
cd "$(dirname "$0")/.."
cargo build --release --quiet --bin stdws --example deflate_idle
ulimit -n "$((N + 200))" 2>/dev/null || echo "warning: ulimit -n is $(ulimit -n)" >&2
bin=target/release/stdws
gen=target/release/examples/deflate_idle

run() { # label, offer, stdws flags...
    label=$1 offer=$2
    shift 2
    round=1
    while [ "$round" -le "$ROUNDS" ]; do
        PORT=$((PORT + 1))
        "$bin" --quiet --address 127.0.0.1 --port "$PORT" --maxmemory 4294967296 "$@" &
        pid=$!
        i=0
        until "$gen" --port "$PORT" --pid "$pid" --n 1 >/dev/null 2>&1; do
            i=$((i + 1))
            [ "$i" -lt 50 ] || { kill "$pid"; echo "stdws did not start" >&2; exit 1; }
            sleep 0.1
        done
        sleep 1
        printf '%-10s ' "$label"
        "$gen" --port "$PORT" --pid "$pid" --n "$N" --offer "$offer" | sed 's/^RESULT deflate_idle //'
        kill "$pid"
        wait "$pid" 2>/dev/null || true
        round=$((round + 1))
    done
}

for offer in chrome bare; do
    o=$offer
    [ "$o" = chrome ] && o="permessage-deflate; client_max_window_bits"
    run plain "$o"
    run stateless "$o" --deflatememory stateless
    run small "$o" --deflatememory small
    run full "$o" --deflatememory full
done

#!/usr/bin/env bash
# The benchmark in one command (about 2 minutes; not a test, CI never runs it).
#
# Starts the stdws echo server and a raw TCP echo (examples/tcp_echo.rs) on
# 127.0.0.1, drives them with examples/loadgen.rs (built on stdws::client), and
# prints each scenario with the ratio to raw TCP where one exists:
#   small      50 connections, 16 messages of 64 B in flight each: msgs/s, server CPU/msg
#   large1/4   1 or 4 connections, 1 MiB messages, 2 in flight: MB/s vs raw TCP
#   handshake  8 threads: connect, upgrade, close handshake, server FIN: per second
#   small-pin, hs-pin  the same pinned: server on CPU 0, load generator on CPU 1
#   idle       IDLE_N idle upgraded connections: server RSS added per connection
#   size       the stripped size-profile binary (cargo build --profile small)
# Every load loop stops by time (SECS per scenario, plus a bounded drain) and count.
# Each scenario gets a fresh server. Numbers from one machine that is also doing other
# work are noisy: compare ratios within one run, not across runs.
#
# env: SECS=5 IDLE_N=5000 PORT=19700 SKIP_SIZE= (set SKIP_SIZE=1 to skip the LTO build)
#
# scripts/bench.sh OLD_BINARY: instead, this build and OLD_BINARY (another stdws, for
# example one built from an older commit) side by side, scenario by scenario, each
# run unpinned and then pinned (server on CPU 0, load generator on CPU 1: one core
# each, where every wake-up and system call shows), with new/old ratios. The builds
# alternate within each scenario, so machine noise falls on both alike.
set -euo pipefail
cd "$(dirname "$0")/.."
[ $# -le 1 ] || { echo "usage: scripts/bench.sh [OLD_BINARY]" >&2; exit 2; }
OLD=${1:-}

SECS=${SECS:-5} IDLE_N=${IDLE_N:-5000} PORT=${PORT:-19700}
STDWS=target/release/stdws
TCP_ECHO=target/release/examples/tcp_echo
LOADGEN=target/release/examples/loadgen

echo "building (release: stdws, loadgen, tcp_echo)..." >&2
cargo build --release --quiet --bin stdws --example loadgen --example tcp_echo

# idle needs IDLE_N sockets on each side of the loopback
ulimit -n "$(ulimit -Hn)" 2>/dev/null || true
if [ "$(ulimit -n)" != unlimited ] && [ "$(ulimit -n)" -lt $((IDLE_N + 100)) ]; then
    echo "bench.sh: ulimit -n is $(ulimit -n); lowering IDLE_N to fit" >&2
    IDLE_N=$(($(ulimit -n) - 100))
fi

SERVER_PID='' SERVER_PIN=() CLIENT_PIN=()
start() { # start <stdws|tcp|old>: a fresh server on $PORT, waits until it accepts
    PORT=$((PORT + 1))
    case $1 in
        stdws) "${SERVER_PIN[@]}" "$STDWS" --port "$PORT" 2>/dev/null & ;; # default flags (one log line per connection)
        old) "${SERVER_PIN[@]}" "$OLD" --port "$PORT" 2>/dev/null & ;;
        tcp) "${SERVER_PIN[@]}" "$TCP_ECHO" --port "$PORT" & ;;
    esac
    SERVER_PID=$!
    for _ in $(seq 50); do
        (exec 3<>"/dev/tcp/127.0.0.1/$PORT") 2>/dev/null && return 0
        sleep 0.1
    done
    echo "bench.sh: server $1 did not start on port $PORT" >&2
    exit 1
}
stop() {
    kill "$SERVER_PID" 2>/dev/null || true
    wait "$SERVER_PID" 2>/dev/null || true
    SERVER_PID=''
}
trap stop EXIT

# run <server> <loadgen args...>: prints the RESULT line's name=value pairs
run() {
    local server=$1
    shift
    start "$server"
    local out
    out=$(timeout $((SECS + 150)) "${CLIENT_PIN[@]}" "$LOADGEN" "$@" --port "$PORT" --pid "$SERVER_PID" --secs "$SECS") ||
        { stop; echo "bench.sh: loadgen $* failed against $server" >&2; exit 1; }
    stop
    echo "$out" | sed -n 's/^RESULT [a-z]* //p'
}
field() { echo "$1" | tr ' ' '\n' | sed -n "s/^$2=//p"; }
ratio() { awk -v a="$1" -v b="$2" 'BEGIN { if (b > 0) printf "%.2f", a / b; else print "n/a" }'; }

if [ -n "$OLD" ]; then
    [ -x "$OLD" ] || { echo "bench.sh: $OLD is not an executable" >&2; exit 2; }
    echo "# stdws bench, side by side: $(date -u +%Y-%m-%dT%H:%M:%SZ), $(nproc) cpus"
    echo "# new: $STDWS ($(git rev-parse --short HEAD 2>/dev/null || echo '?')); old: $OLD; SECS=$SECS IDLE_N=$IDLE_N"
    printf '%-16s %-28s %-28s %s\n' scenario new old new/old
    # side <label> <metrics> <loadgen args...>: new, old, old, new; each metric is
    # shown as the mean of its two runs per build (two rounds: a check, not proof)
    side() {
        local label=$1 metrics=$2 n1 n2 o1 o2 m n o
        shift 2
        n1=$(run stdws "$@") o1=$(run old "$@") o2=$(run old "$@") n2=$(run stdws "$@")
        for m in $metrics; do
            n=$(awk -v a="$(field "$n1" "$m")" -v b="$(field "$n2" "$m")" 'BEGIN { printf "%.2f", (a + b) / 2 }')
            o=$(awk -v a="$(field "$o1" "$m")" -v b="$(field "$o2" "$m")" 'BEGIN { printf "%.2f", (a + b) / 2 }')
            printf '%-16s %-28s %-28s %s\n' "$label" "$n $m" "$o $m" "$(ratio "$n" "$o")x"
        done
    }
    for pinning in unpinned pinned; do
        if [ $pinning = pinned ]; then
            command -v taskset >/dev/null || { echo "bench.sh: taskset not found; pinned runs skipped" >&2; break; }
            SERVER_PIN=(taskset -c 0) CLIENT_PIN=(taskset -c 1)
        fi
        side "small $pinning" "msgs_s cpu_us_msg" small --conns 50 --window 16 --size 64
        side "hs $pinning" "hs_s cpu_us_hs" handshake --threads 8
        [ $pinning = pinned ] || side "large1 $pinning" "mb_s cpu_us_msg" large --conns 1 --window 2 --size 1048576
    done
    SERVER_PIN=() CLIENT_PIN=()
    side idle "kib_conn" idle --n "$IDLE_N"
    exit 0
fi

echo "# stdws bench: $(date -u +%Y-%m-%dT%H:%M:%SZ), $(nproc) cpus, $(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2 | sed 's/^ //')"
echo "# server and load generator share the machine; SECS=$SECS IDLE_N=$IDLE_N"
printf '%-10s %-44s %s\n' scenario stdws "raw TCP echo (stdws / raw)"

r=$(run stdws small --conns 50 --window 16 --size 64)
printf '%-10s %-44s %s\n' small "$(field "$r" msgs_s) msgs/s, $(field "$r" cpu_us_msg) us CPU/msg" "-"

for conns in 1 4; do
    w=$(run stdws large --conns $conns --window 2 --size 1048576)
    t=$(run tcp large --conns $conns --window 2 --size 1048576 --raw)
    printf '%-10s %-44s %s\n' "large$conns" \
        "$(field "$w" mb_s) MB/s, $(field "$w" cpu_us_msg) us CPU/MiB" \
        "$(field "$t" mb_s) MB/s ($(ratio "$(field "$w" mb_s)" "$(field "$t" mb_s)")x)"
done

r=$(run stdws handshake --threads 8)
printf '%-10s %-44s %s\n' handshake "$(field "$r" hs_s) /s, $(field "$r" cpu_us_hs) us CPU each" "-"

# Pinned: the server on CPU 0, the load generator on CPU 1 (a one-core host's view).
if command -v taskset >/dev/null && [ "$(nproc)" -ge 2 ]; then
    SERVER_PIN=(taskset -c 0) CLIENT_PIN=(taskset -c 1)
    r=$(run stdws small --conns 50 --window 16 --size 64)
    printf '%-10s %-44s %s\n' small-pin "$(field "$r" msgs_s) msgs/s, $(field "$r" cpu_us_msg) us CPU/msg" "-"
    r=$(run stdws handshake --threads 8)
    printf '%-10s %-44s %s\n' hs-pin "$(field "$r" hs_s) /s, $(field "$r" cpu_us_hs) us CPU each" "-"
    SERVER_PIN=() CLIENT_PIN=()
fi

w=$(run stdws idle --n "$IDLE_N")
t=$(run tcp idle --n "$IDLE_N" --raw)
printf '%-10s %-44s %s\n' idle \
    "$(field "$w" kib_conn) KiB/conn ($(field "$w" rss_mib) MiB RSS at $IDLE_N)" \
    "$(field "$t" kib_conn) KiB/conn ($(ratio "$(field "$w" kib_conn)" "$(field "$t" kib_conn)")x)"

if [ -z "${SKIP_SIZE:-}" ]; then
    echo "building the size profile (LTO, takes a minute)..." >&2
    cargo build --profile small --quiet --bin stdws
    printf '%-10s %s\n' size "$(stat -c %s target/small/stdws) bytes ($(($(stat -c %s target/small/stdws) / 1024)) KiB), target/small/stdws"
fi

# ---- DEFLATE speed beside zlib (examples/deflate_bench.rs, scripts/deflate_bench.py):
# compress and inflate JSON, text and random messages, MB/s and ratio side by side
# with Python's zlib (levels 1 and 6, the same 2^15 window). SKIP_DEFLATE=1 skips it.
# 16 MiB per cell (DEFLATE_MIB): with 4, a cell is tens of milliseconds of CPU, and
# one unlucky run on a shared machine moved a ratio by a third (about 100 s in all).
if [ -z "${SKIP_DEFLATE:-}" ]; then
    echo
    mib=${DEFLATE_MIB:-16}
    if command -v python3 >/dev/null && python3 -c 'import zlib' 2>/dev/null; then
        cargo run --release --quiet --example deflate_bench -- --mib "$mib"
    else
        echo "deflate: SKIPPED the zlib columns: no python3 with zlib (apt-get install python3)"
        cargo run --release --quiet --example deflate_bench -- --no-zlib --mib "$mib"
    fi
fi

# --- rooms across instances (examples/room_bench.rs) --------------------------------
# One room of ROOM_MEMBERS members (default 300) and one publisher, on one instance,
# on one instance with Redis, and spread round-robin over three instances sharing
# the room through Redis. "throughput": the publisher keeps 32 messages of 64 B ahead
# of the slowest member (deliveries/s = messages received by all members together);
# "latency": one message at a time, send to receipt (median and p99 over every
# delivery). Needs redis-server (scripts/redis-test.sh installs it): skipped without.
# Self-contained: its own servers on PORT+100 and up, its own cleanup.
if command -v redis-server >/dev/null 2>&1; then
    (
        ROOM_MEMBERS=${ROOM_MEMBERS:-300}
        REDIS_PORT=$((PORT + 100))
        RPORT=$REDIS_PORT # the last port taken
        cargo build --release --quiet --bin stdws --example room_bench
        RPIDS=()
        REDIS_PID=''
        stop_rooms() {
            for p in "${RPIDS[@]}"; do kill "$p" 2>/dev/null || true; done
            for p in "${RPIDS[@]}"; do wait "$p" 2>/dev/null || true; done
            RPIDS=()
        }
        stop_all_rooms() {
            stop_rooms
            [ -z "$REDIS_PID" ] || { kill "$REDIS_PID" 2>/dev/null; wait "$REDIS_PID" 2>/dev/null; } || true
        }
        trap stop_all_rooms EXIT
        wait_port() {
            for _ in $(seq 50); do
                (exec 3<>"/dev/tcp/127.0.0.1/$1") 2>/dev/null && return 0
                sleep 0.1
            done
            echo "bench.sh: nothing listens on port $1" >&2
            exit 1
        }
        redis-server --port "$REDIS_PORT" --bind 127.0.0.1 --save '' --appendonly no \
            --daemonize no >/dev/null &
        REDIS_PID=$!
        wait_port "$REDIS_PORT"
        value() { echo "$1" | tr ' ' '\n' | sed -n "s/^$2=//p"; }
        us_to_ms() { awk -v u="$1" 'BEGIN { printf "%.1f", u / 1000 }'; }
        commands() { # what Redis has processed so far: proof that a run went through it
            redis-cli -p "$REDIS_PORT" info stats | tr -d '\r' | sed -n 's/^total_commands_processed://p'
        }
        room() { # room LABEL INSTANCES REDIS(yes|no)
            local ports='' flags=() i t l before note=''
            [ "$3" = yes ] && flags=(--redis "redis://127.0.0.1:$REDIS_PORT")
            before=$(commands)
            for i in $(seq "$2"); do
                RPORT=$((RPORT + 1))
                "$STDWS" --port "$RPORT" --broadcast -q "${flags[@]}" 2>/dev/null &
                RPIDS+=($!)
                wait_port "$RPORT"
                ports+="${ports:+,}$RPORT"
            done
            t=$(timeout $((SECS + 60)) target/release/examples/room_bench --ports "$ports" \
                --members "$ROOM_MEMBERS" --secs "$SECS" --window 32) ||
                { echo "bench.sh: room_bench failed ($1, throughput)" >&2; exit 1; }
            l=$(timeout $((SECS + 60)) target/release/examples/room_bench --ports "$ports" \
                --members "$ROOM_MEMBERS" --secs "$SECS" --window 1) ||
                { echo "bench.sh: room_bench failed ($1, latency)" >&2; exit 1; }
            stop_rooms
            [ "$3" = yes ] && note="; $(($(commands) - before)) Redis commands"
            printf '%-10s %-20s %8s deliveries/s (%s msgs/s); latency p50 %s ms, p99 %s ms%s\n' \
                rooms "$1" "$(value "$t" deliveries_s)" "$(value "$t" msgs_s)" \
                "$(us_to_ms "$(value "$l" p50_us)")" "$(us_to_ms "$(value "$l" p99_us)")" "$note"
        }
        echo "# rooms: $ROOM_MEMBERS members and one publisher (on the first instance), 64 B messages"
        room "1 instance" 1 no
        room "1 instance, Redis" 1 yes
        room "3 instances, Redis" 3 yes
    )
else
    echo "rooms      skipped: redis-server is not installed (scripts/redis-test.sh installs it)"
fi

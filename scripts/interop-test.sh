#!/usr/bin/env bash
# Interop with WebSocket peers nobody on this project wrote, installed from the package
# registries by this script (idempotent; quick when everything is already installed):
#
#   Debian chromium       a file:// page echoes a short text, a 70 KB text and a binary
#                         message and requires a clean close with 1000 (interop/browser-*)
#   PyPI websockets       echo, fragments, ping, subprotocol, close 1000 (interop/.venv)
#   npm ws                the same checks from Node (interop/node_modules)
#   permessage-deflate    a second stdws with --deflate --trace: websockets over a
#                         matrix of offers and a bare offer spoken with Python's
#                         zlib (interop/deflate_client.py), ws with perMessageDeflate,
#                         Chromium with its own offer; each check also requires
#                         compressed frames (RSV1 in the trace) both ways
#   Python's zlib         tests/deflate_zlib.rs (every level, strategy, window; both
#                         ways), required to run: STDWS_REQUIRE_ZLIB=1
#   npm websocket-driver  hixie-76: stdws's challenge compared with the driver's own on
#                         thousands of random keys, and stdws's hixie-76 client talking
#                         to a websocket-driver echo server
#   the inspector page    Chromium loads it in echo, broadcast and exec mode and checks
#                         what it shows against the wire (interop/inspector.js); the
#                         echo run saves its screenshot (UPDATE_SCREENSHOT=1 copies it
#                         to docs/inspector.png, which the README shows)
#   stdws --connect       the client on the command line against the Python websockets,
#                         Node ws and websocket-driver hixie-76 echo servers: unique
#                         lines and bytes, stdin ending long before the replies, a
#                         refused handshake, exit statuses
#
# The examples (echo_server, chat, own_stream) are run and checked from Python too.
# (tungstenite runs inside `cargo test`: tests/tungstenite_interop.rs.)
# Any tool that cannot be installed, and any check that fails, fails the run: nothing
# is skipped. Traffic stays on 127.0.0.1.
set -euo pipefail
cd "$(dirname "$0")/.."
ROOT=$PWD
INTEROP=$ROOT/interop

# shellcheck source=../interop/lib.sh
. "$INTEROP/lib.sh"

# ---------------------------------------------------------------- installing
say "installing the peers"
apt_install chromium
[ -x /usr/bin/chromium ] || die "/usr/bin/chromium missing after installing Debian's chromium"
if ! command -v node >/dev/null || ! command -v npm >/dev/null; then
  apt_install nodejs npm
fi
command -v node >/dev/null || die "node not found"
echo "chromium: $(/usr/bin/chromium --version 2>/dev/null | head -1)"
echo "node: $(node --version)"

# npm: exactly the versions in interop/package-lock.json; `npm ci` when any differs.
npm_current() {
  (cd "$INTEROP" && node -e '
    const lock = require("./package-lock.json").packages;
    for (const [where, pkg] of Object.entries(lock)) {
      if (!where) continue;
      const installed = require("./" + where + "/package.json").version;
      if (installed !== pkg.version) process.exit(1);
    }' 2>/dev/null)
}
if npm_current; then
  echo "npm packages: up to date"
else
  echo "npm ci (ws, websocket-driver, playwright-core)"
  (cd "$INTEROP" && PLAYWRIGHT_SKIP_BROWSER_DOWNLOAD=1 timeout 600 npm ci --no-audit --no-fund --loglevel=error) ||
    die "npm ci failed"
  npm_current || die "npm packages still differ from package-lock.json"
fi

ensure_websockets

say "building stdws and the examples the checks use"
cargo build --quiet --bin stdws --examples
BIN=$ROOT/target/debug

# ---------------------------------------------------------------- RFC 6455 peers
PORT=$(free_port)
"$BIN/stdws" --port "$PORT" --protocol chat,superchat 2>"$WORK/stdws.log" &
PIDS+=($!)
wait_for_port "$PORT" "${PIDS[-1]}" || {
  cat "$WORK/stdws.log"
  die "stdws did not start on port $PORT"
}
WS=ws://127.0.0.1:$PORT

check "python websockets -> stdws" "$PY" "$INTEROP/websockets_client.py" "$WS/python" \
  --protocols "v9.chat, chat" --expect-protocol chat
check "python websockets -> stdws (no subprotocol offered)" "$PY" "$INTEROP/websockets_client.py" \
  "$WS/python-plain" --quick
check "node ws -> stdws" node "$INTEROP/ws-client.js" "$WS/node" --protocols superchat,chat \
  --expect-protocol superchat
check "headless chromium -> stdws" node "$INTEROP/browser-echo.js" "$WS/chromium"

# ---------------------------------------------------------------- permessage-deflate
DPORT=$(free_port)
"$BIN/stdws" --port "$DPORT" --deflate --trace 2>"$WORK/deflate.log" &
PIDS+=($!)
wait_for_port "$DPORT" "${PIDS[-1]}" || {
  cat "$WORK/deflate.log"
  die "stdws --deflate did not start on port $DPORT"
}
DWS=ws://127.0.0.1:$DPORT

# compressed CMD...: runs CMD against the --deflate server, then requires frames with
# RSV1 (compressed, RFC 7692 §6) to have gone each way while it ran, as --trace saw.
compressed() {
  local in0 out0 in1 out1
  in0=$(grep -c '<- rfc6455 .* rsv1=1' "$WORK/deflate.log" || true)
  out0=$(grep -c -- '-> rfc6455 .* rsv1=1' "$WORK/deflate.log" || true)
  timeout 180 "$@" || return 1
  sleep 0.2
  in1=$(grep -c '<- rfc6455 .* rsv1=1' "$WORK/deflate.log" || true)
  out1=$(grep -c -- '-> rfc6455 .* rsv1=1' "$WORK/deflate.log" || true)
  echo "compressed frames: $((in1 - in0)) in, $((out1 - out0)) out"
  [ $((in1 - in0)) -gt 0 ] && [ $((out1 - out0)) -gt 0 ]
}
check "python websockets (offer matrix) and a bare offer with zlib -> stdws --deflate" \
  compressed "$PY" "$INTEROP/deflate_client.py" "$DWS/python-deflate"
check "node ws perMessageDeflate -> stdws --deflate" \
  compressed node "$INTEROP/ws-client.js" "$DWS/node-deflate" --deflate
check "headless chromium (its own offer) -> stdws --deflate" \
  compressed node "$INTEROP/browser-echo.js" "$DWS/chromium-deflate"

# tests/deflate_zlib.rs: zlib at every level, strategy and window against stdws's
# DEFLATE, both ways; STDWS_REQUIRE_ZLIB=1 makes a missing python3 a failure.
zlib_differential() {
  STDWS_REQUIRE_ZLIB=1 timeout 900 cargo test --release --quiet --test deflate_zlib
}
check "DEFLATE against Python's zlib, both ways (tests/deflate_zlib.rs)" zlib_differential

# ---------------------------------------------------------------- hixie-76
check "hixie-76 challenge: stdws vs websocket-driver on 5000 random keys" \
  node "$INTEROP/hixie76-compare.js" "$BIN/examples/hixie76_answers" 5000

hixie_client() {
  local log=$WORK/hixie-server.log out=$WORK/hixie-client.out port pid i
  node "$INTEROP/hixie76-server.js" >"$log" 2>&1 &
  pid=$!
  PIDS+=($pid)
  for i in $(seq 200); do
    port=$(sed -n 's/^listening //p' "$log")
    [ -n "$port" ] && break
    sleep 0.1
  done
  [ -n "$port" ] || { cat "$log"; return 1; }
  local token="hixie-$$-$RANDOM$RANDOM"
  local messages=("plain $token" "ünïcode ✓ $token" "$(printf '%0.s-' $(seq 3000))$token")
  HIXIE76=1 timeout 60 "$BIN/examples/client" "ws://127.0.0.1:$port/hixie" "${messages[@]}" >"$out" || return 1
  printf '%s\n' "${messages[@]}" | cmp -s - "$out" || {
    echo "echoes differ from what was sent"
    return 1
  }
  # The server must have spoken hixie-76 and seen the close (0xFF 0x00).
  for i in $(seq 50); do grep -q '^close$' "$log" && break; sleep 0.1; done
  cat "$log"
  grep -q '^open hixie-76 ' "$log" && grep -q '^close$' "$log"
}
check "stdws hixie-76 client -> websocket-driver hixie-76 echo server" hixie_client

# ---------------------------------------------------------------- the inspector page
# inspector MODE [ARGS...]: a stdws of its own in MODE, its page driven by Chromium.
inspector() {
  local mode=$1 port pid ok=0 shot=()
  shift
  port=$(free_port)
  "$BIN/stdws" --port "$port" "$@" 2>"$WORK/inspector-$mode.log" &
  pid=$!
  PIDS+=($pid)
  [ "$mode" = echo ] && shot=("$WORK/inspector.png")
  if wait_for_port "$port" "$pid"; then
    node "$INTEROP/inspector.js" "http://127.0.0.1:$port/" "$mode" "${shot[@]}" || ok=1
  else
    cat "$WORK/inspector-$mode.log"
    ok=1
  fi
  kill "$pid" 2>/dev/null || true
  return $ok
}
check "inspector page in chromium, echo mode" inspector echo
check "inspector page in chromium, broadcast mode" inspector broadcast --broadcast
check "inspector page in chromium, exec mode" inspector exec -- cat
check "inspector page in chromium, echo with --deflate" inspector deflate --deflate
if [ "${UPDATE_SCREENSHOT:-0}" = 1 ] && [ -f "$WORK/inspector.png" ]; then
  cp "$WORK/inspector.png" "$ROOT/docs/inspector.png"
  echo "docs/inspector.png updated"
fi

# ---------------------------------------------------------------- stdws as a client
# start_peer NAME CMD...: starts a server that prints "listening PORT"; sets PEER.
start_peer() {
  local log=$WORK/$1.log i
  shift
  "$@" >"$log" 2>&1 &
  PIDS+=($!)
  PEER=
  for i in $(seq 200); do
    PEER=$(sed -n 's/^listening //p' "$log")
    [ -n "$PEER" ] && return 0
    sleep 0.1
  done
  cat "$log"
  return 1
}

# client_checks BASE_URL [--hixie76]: `stdws --connect` against an echo server that
# serves /slow (each echo 200 ms late) and refuses /refuse with 403, as
# interop/websockets_server.py and ws-server.js do; hixie-76 gets the lines only.
client_checks() {
  local base=$1 flags=("${@:2}") token="client-$$-$RANDOM$RANDOM" code
  local in=$WORK/client.in out=$WORK/client.out err=$WORK/client.err
  for i in $(seq 300); do echo "line $i ünïcode ✓ $token"; done >"$in"
  # stdin is a file: it ends at once, long before the replies.
  timeout 60 "$BIN/stdws" -c "$base/lines" "${flags[@]}" <"$in" >"$out" 2>"$err" ||
    { echo "lines: exit $?: $(cat "$err")"; return 1; }
  cmp -s "$in" "$out" || { echo "lines came back different"; return 1; }
  echo "  ok   300 unique lines echoed in order, exit 0"
  [ "${flags[0]:-}" = --hixie76 ] && return 0

  printf 'late one %s
late two %s
' "$token" "$token" >"$in"
  timeout 60 "$BIN/stdws" -c "$base/slow" <"$in" >"$out" 2>"$err" ||
    { echo "slow: exit $?: $(cat "$err")"; return 1; }
  cmp -s "$in" "$out" || { echo "late replies lost: $(cat "$out")"; return 1; }
  echo "  ok   replies 200 ms after stdin ended are printed, exit 0"

  { printf '%s' "$token"; head -c 300000 /dev/urandom; } >"$in"
  timeout 60 "$BIN/stdws" -c "$base/bytes" --binary <"$in" >"$out" 2>"$err" ||
    { echo "binary: exit $?: $(cat "$err")"; return 1; }
  cmp -s "$in" "$out" || { echo "binary came back different"; return 1; }
  echo "  ok   300 KB of random bytes echoed as binary messages, exit 0"

  code=0
  timeout 60 "$BIN/stdws" -c "$base/refuse" </dev/null >"$out" 2>"$err" || code=$?
  [ "$code" = 1 ] && grep -q '^stdws: handshake refused: HTTP/1.1 403 ' "$err" && [ ! -s "$out" ] ||
    { echo "refusal: exit $code: $(cat "$err")"; return 1; }
  echo "  ok   refused: exit 1, $(cat "$err")"
}

# connect_to NAME FLAG CMD...: starts the server CMD, runs client_checks (with FLAG
# unless it is empty).
connect_to() {
  local name=$1 flag=$2
  shift 2
  start_peer "$name" "$@" || return 1
  client_checks "ws://127.0.0.1:$PEER" ${flag:+"$flag"}
}
check "stdws --connect -> python websockets" connect_to python-server "" "$PY" "$INTEROP/websockets_server.py"
check "stdws --connect -> node ws" connect_to ws-server "" node "$INTEROP/ws-server.js"
check "stdws --connect --hixie76 -> websocket-driver hixie-76" connect_to hixie-echo --hixie76 \
  node "$INTEROP/hixie76-server.js"

# ---------------------------------------------------------------- the examples
# run_example NAME: starts examples/NAME.rs on a free port and checks it from Python.
run_example() {
  local name=$1 port pid ok=0
  port=$(free_port)
  "$BIN/examples/$name" "127.0.0.1:$port" 2>"$WORK/$name.log" &
  pid=$!
  PIDS+=($pid)
  if wait_for_port "$port" "$pid"; then
    case $name in
      echo_server) "$PY" "$INTEROP/websockets_client.py" "ws://127.0.0.1:$port/example" --quick || ok=1 ;;
      *) "$PY" "$INTEROP/examples_check.py" "$name" "ws://127.0.0.1:$port" || ok=1 ;;
    esac
  else
    cat "$WORK/$name.log"
    ok=1
  fi
  kill "$pid" 2>/dev/null || true
  return $ok
}
check "examples/echo_server.rs" run_example echo_server
check "examples/chat.rs" run_example chat
check "examples/own_stream.rs" run_example own_stream

# ---------------------------------------------------------------- verdict
kill "${PIDS[0]}" 2>/dev/null || true
echo
echo "interop: ${PASSED} passed, ${#FAILED[@]} failed ($((SECONDS - START)) s)"
if [ ${#FAILED[@]} -gt 0 ]; then
  printf '  failed: %s\n' "${FAILED[@]}"
  exit 1
fi

#!/usr/bin/env bash
# Interop with WebSocket peers nobody on this project wrote, installed from the package
# registries by this script (idempotent; quick when everything is already installed):
#
#   Debian chromium       a file:// page echoes a short text, a 70 KB text and a binary
#                         message and requires a clean close with 1000 (interop/browser-*)
#   PyPI websockets       echo, fragments, ping, subprotocol, close 1000 (interop/.venv)
#   npm ws                the same checks from Node (interop/node_modules)
#   npm websocket-driver  hixie-76: stdws's challenge compared with the driver's own on
#                         thousands of random keys, and stdws's hixie-76 client talking
#                         to a websocket-driver echo server
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

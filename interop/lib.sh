# Shared by scripts/interop-test.sh and scripts/nginx-tls-test.sh (sourced, not run):
# installs from the package registries, idempotently, and fails loudly; runs checks.
#   apt_install PKG...   Debian packages not yet installed (apt-get update first)
#   ensure_websockets    PyPI websockets, pinned in interop/requirements.txt, in
#                        interop/.venv; sets PY to that venv's python
#   free_port            a free TCP port on 127.0.0.1
#   wait_for_port P PID  until 127.0.0.1:P accepts (20 s at most) while PID lives
#   check NAME CMD...    runs one check and records it in PASSED / FAILED
#
# Sourcing it also makes WORK (a temporary folder) and PIDS (background processes the
# script starts): on exit every process in PIDS is stopped and WORK is removed.

INTEROP=${INTEROP:-$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)}

WORK=$(mktemp -d "/tmp/stdws-$(basename "$0" .sh).XXXXXX")
START=$SECONDS
PIDS=()

stop_all() {
  local pid
  for pid in "${PIDS[@]}"; do kill "$pid" 2>/dev/null || true; done
  for pid in "${PIDS[@]}"; do wait "$pid" 2>/dev/null || true; done
  PIDS=()
}

cleanup() {
  stop_all
  rm -rf "$WORK"
}
trap cleanup EXIT

say() { printf '\n-- %s\n' "$*"; }

die() {
  echo "$(basename "$0"): $*" >&2
  exit 1
}

APT_UPDATED=0
apt_install() {
  local missing=() p
  for p in "$@"; do
    dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q 'install ok installed' || missing+=("$p")
  done
  [ ${#missing[@]} -eq 0 ] && return 0
  [ "$(id -u)" = 0 ] || die "need root to apt-get install ${missing[*]}"
  if [ "$APT_UPDATED" = 0 ]; then
    echo "apt-get update"
    timeout 600 apt-get update -q || die "apt-get update failed"
    APT_UPDATED=1
  fi
  echo "apt-get install ${missing[*]}"
  DEBIAN_FRONTEND=noninteractive timeout 1200 apt-get install -y -q --no-install-recommends "${missing[@]}" ||
    die "apt-get install ${missing[*]} failed"
}

ensure_websockets() {
  PY=$INTEROP/.venv/bin/python
  local want
  want=$(sed -n 's/^websockets==//p' "$INTEROP/requirements.txt")
  if [ -x "$PY" ] && "$PY" -c "import sys, websockets; sys.exit(websockets.__version__ != '$want')" 2>/dev/null; then
    echo "python websockets: up to date ($want)"
    return 0
  fi
  echo "pip install websockets==$want into interop/.venv"
  if [ ! -x "$PY" ]; then
    python3 -m venv "$INTEROP/.venv" 2>/dev/null || {
      rm -rf "$INTEROP/.venv"
      apt_install python3-venv
      python3 -m venv "$INTEROP/.venv"
    } || die "cannot create interop/.venv"
  fi
  timeout 600 "$PY" -m pip install -q --disable-pip-version-check -r "$INTEROP/requirements.txt" ||
    die "pip install websockets failed"
  "$PY" -c "import websockets" || die "websockets does not import"
}

free_port() {
  "$PY" -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])'
}

wait_for_port() {
  local port=$1 pid=$2 i
  for i in $(seq 200); do
    kill -0 "$pid" 2>/dev/null || return 1
    if "$PY" -c "import socket; socket.create_connection(('127.0.0.1', $port), 1).close()" 2>/dev/null; then
      return 0
    fi
    sleep 0.1
  done
  return 1
}

# start_nginx PORT: checks and starts $NGINX with $WORK/nginx.conf (its prefix WORK, its
# error log WORK/error.log), stopped with the script's other processes; waits until it
# listens on PORT.
start_nginx() {
  "$NGINX" -t -p "$WORK" -c "$WORK/nginx.conf" -e "$WORK/error.log" 2>&1 | sed 's/^/  /' ||
    die "nginx refused its configuration"
  "$NGINX" -p "$WORK" -c "$WORK/nginx.conf" -e "$WORK/error.log" &
  PIDS+=($!)
  wait_for_port "$1" "${PIDS[-1]}" || {
    cat "$WORK/error.log"
    die "nginx did not start"
  }
}

PASSED=0
FAILED=()
# check NAME COMMAND...: runs one check, records the outcome. Programs get a time
# limit here; shell functions bound each of their own waits.
check() {
  local name=$1
  shift
  say "$name"
  local limit=(timeout 180)
  [ "$(type -t "$1")" = function ] && limit=()
  if "${limit[@]}" "$@"; then
    PASSED=$((PASSED + 1))
  else
    echo "FAILED: $name (exit $?)"
    FAILED+=("$name")
  fi
}

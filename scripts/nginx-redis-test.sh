#!/usr/bin/env bash
# Several instances behind one balancer, the way README's "Several instances" shows:
# nginx terminates TLS and spreads connections (least_conn) over three stdws
# --broadcast instances, which share their rooms through Redis.
#
# Installs nginx, openssl and redis-server from Debian (idempotent), makes a
# throwaway certificate, starts a private redis-server (127.0.0.1, an ephemeral
# port, a password, nothing saved), three stdws --redis and a private nginx, then proves with
# three wss:// clients (PyPI websockets, trusting only that certificate) that landed
# on three different instances that they share one room: each client's unique
# message reaches the two others, not itself. Then Redis is stopped: each instance
# says so and its rooms go on locally. Everything is stopped by its PID at the end.
# scripts/nginx-tls-test.sh runs this after its own checks.
set -euo pipefail
cd "$(dirname "$0")/.."
ROOT=$PWD
INTEROP=$ROOT/interop

# shellcheck source=../interop/lib.sh
. "$INTEROP/lib.sh"

say "installing nginx, openssl, redis-server and python websockets"
apt_install nginx openssl redis-server
NGINX=$(command -v nginx || echo /usr/sbin/nginx)
[ -x "$NGINX" ] || die "nginx missing after installing Debian's nginx"
command -v redis-server >/dev/null || die "redis-server missing after installing it"
ensure_websockets

openssl req -x509 -newkey rsa:2048 -nodes -days 1 -subj "/CN=127.0.0.1" \
  -addext "subjectAltName=IP:127.0.0.1" \
  -keyout "$WORK/key.pem" -out "$WORK/cert.pem" 2>"$WORK/openssl.log" || {
  cat "$WORK/openssl.log"
  die "openssl could not make a certificate"
}

say "starting redis-server, three stdws --broadcast --redis, and nginx"
cargo build --quiet --bin stdws
REDIS_PORT=$(free_port)
REDIS_PASSWORD=pw-$RANDOM$RANDOM
redis-server --port "$REDIS_PORT" --bind 127.0.0.1 --save '' --appendonly no \
  --daemonize no --requirepass "$REDIS_PASSWORD" >"$WORK/redis.log" 2>&1 &
REDIS_PID=$!
PIDS+=("$REDIS_PID")
wait_for_port "$REDIS_PORT" "$REDIS_PID" || {
  cat "$WORK/redis.log"
  die "redis-server did not start"
}
UPSTREAMS=''
LOGS=()
for i in 1 2 3; do
  port=$(free_port)
  "$ROOT/target/debug/stdws" --port "$port" --broadcast -v \
    --redis "redis://:$REDIS_PASSWORD@127.0.0.1:$REDIS_PORT" 2>"$WORK/stdws-$i.log" &
  PIDS+=($!)
  wait_for_port "$port" "${PIDS[-1]}" || {
    cat "$WORK/stdws-$i.log"
    die "stdws $i did not start"
  }
  UPSTREAMS+="        server 127.0.0.1:$port;"$'\n'
  LOGS+=("$WORK/stdws-$i.log")
done

TLS_PORT=$(free_port)
mkdir -p "$WORK/temp"
chmod 755 "$WORK" "$WORK/temp"
cat >"$WORK/nginx.conf" <<CONF
worker_processes 1;
daemon off;
pid $WORK/nginx.pid;
error_log $WORK/error.log info;
events { worker_connections 64; }

http {
    log_format upstream '\$request_uri \$status upstream=\$upstream_addr';
    access_log $WORK/access.log upstream;
    client_body_temp_path $WORK/temp/body;
    proxy_temp_path $WORK/temp/proxy;
    fastcgi_temp_path $WORK/temp/fastcgi;
    uwsgi_temp_path $WORK/temp/uwsgi;
    scgi_temp_path $WORK/temp/scgi;

    map \$http_upgrade \$connection_upgrade {
        default upgrade;
        ''      close;
    }

    upstream stdws {
        least_conn;
$UPSTREAMS    }

    server {
        listen 127.0.0.1:$TLS_PORT ssl;
        ssl_certificate     $WORK/cert.pem;
        ssl_certificate_key $WORK/key.pem;

        location / {
            proxy_pass http://stdws;
            proxy_http_version 1.1;
            proxy_set_header Upgrade \$http_upgrade;
            proxy_set_header Connection \$connection_upgrade;
            proxy_set_header Host \$host;
            proxy_read_timeout 1h;
            proxy_send_timeout 1h;
        }
    }
}
CONF
start_nginx "$TLS_PORT"
echo "redis on $REDIS_PORT, nginx (TLS) on $TLS_PORT in front of:"
printf '%s' "$UPSTREAMS"

# shared_room URL CAFILE PHASE LOG...: three wss:// clients in one room, one per
# instance (each instance's log must show the room subscribed, or, once Redis is
# gone, the loss). PHASE "spanning": each message reaches the two others, on other
# instances. PHASE "outage": a message reaches no one (the others are elsewhere),
# and the instances keep serving.
shared_room() {
  "$PY" - "$@" <<'PY'
import contextlib, os, ssl, sys, time
from websockets.sync.client import connect

url, cafile, phase, logs = sys.argv[1], sys.argv[2], sys.argv[3], sys.argv[4:]
ctx = ssl.create_default_context(cafile=cafile)
stack = contextlib.ExitStack()
clients = [stack.enter_context(connect(url, ssl=ctx, open_timeout=20)) for _ in logs]

def wait_for(words, count):
    deadline = time.monotonic() + 20
    for log in logs:
        while open(log).read().count(words) < count:
            if time.monotonic() > deadline:
                sys.exit(f"{log} never showed {words!r}:\n{open(log).read()}")
            time.sleep(0.05)

path = url.split("/", 3)[3]
wait_for(f" joined /{path} (1 members)", 1)  # one client on each instance
if phase == "spanning":
    wait_for(f"/{path}: subscribed on redis", 1)
tag = f"{phase}-{os.getpid()}-{time.time_ns()}"
for i, client in enumerate(clients):
    client.send(f"{tag}-from-{i}")
    for j, other in enumerate(clients):
        if j == i:
            continue
        if phase == "spanning":
            got = other.recv(timeout=20)
            if got != f"{tag}-from-{i}":
                sys.exit(f"client {j} got {got!r}, not client {i}'s message")
for i, client in enumerate(clients):
    try:
        got = client.recv(timeout=0.5)
        sys.exit(f"client {i} received {got!r}: its own, or across an outage")
    except TimeoutError:
        pass
stack.close()
print(f"  {phase}: {len(clients)} clients on {len(logs)} instances, as expected")
PY
}
check "three wss:// clients on three instances share a room through Redis" \
  shared_room "wss://127.0.0.1:$TLS_PORT/lobby" "$WORK/cert.pem" spanning "${LOGS[@]}"

spread() {
  local want=3 got
  got=$(grep -o 'upstream=[0-9.:]*' "$WORK/access.log" | sort -u | wc -l)
  echo "  nginx sent the clients to $got instances"
  grep ' 101 upstream=' "$WORK/access.log" | sed 's/^/  /'
  [ "$got" -eq "$want" ]
}
check "nginx spread the clients over all three instances" spread

stop_redis() {
  kill "$REDIS_PID"
  wait "$REDIS_PID" 2>/dev/null || true
  local log
  for log in "${LOGS[@]}"; do
    for _ in $(seq 100); do
      grep -q ': lost (' "$log" && continue 2
      sleep 0.1
    done
    echo "  $log never reported losing Redis:"
    cat "$log"
    return 1
  done
}
check "Redis stopped: every instance says it lost Redis" stop_redis
check "rooms stay local during the outage" \
  shared_room "wss://127.0.0.1:$TLS_PORT/outage" "$WORK/cert.pem" outage "${LOGS[@]}"

say "stopping nginx, stdws and redis"
stop_all

echo
echo "nginx-redis: ${PASSED} passed, ${#FAILED[@]} failed ($((SECONDS - START)) s)"
if [ ${#FAILED[@]} -gt 0 ]; then
  printf '  failed: %s\n' "${FAILED[@]}"
  exit 1
fi

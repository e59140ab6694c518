#!/usr/bin/env bash
# TLS the way stdws is deployed: nginx terminates TLS and proxies the upgrade to stdws.
#
# Installs nginx and openssl from Debian (idempotent), makes a throwaway self-signed
# certificate for 127.0.0.1, starts stdws and a private nginx (`nginx -p DIR -c FILE`:
# its own config, pid file and logs, listening on 127.0.0.1 and an ephemeral port
# only), and proves that a wss:// client (PyPI websockets, trusting only that
# certificate) reaches stdws through nginx: every payload echoed byte for byte, then a
# clean close with 1000. Then it stops both. The nginx config is the README's.
# Then scripts/nginx-redis-test.sh: three instances behind nginx sharing rooms via Redis.
set -euo pipefail
cd "$(dirname "$0")/.."
ROOT=$PWD
INTEROP=$ROOT/interop

# shellcheck source=../interop/lib.sh
. "$INTEROP/lib.sh"

say "installing nginx, openssl and python websockets"
apt_install nginx openssl
NGINX=$(command -v nginx || echo /usr/sbin/nginx)
[ -x "$NGINX" ] || die "nginx missing after installing Debian's nginx"
echo "$("$NGINX" -v 2>&1)"
ensure_websockets

say "a throwaway certificate for 127.0.0.1"
openssl req -x509 -newkey rsa:2048 -nodes -days 1 -subj "/CN=127.0.0.1" \
  -addext "subjectAltName=IP:127.0.0.1" \
  -keyout "$WORK/key.pem" -out "$WORK/cert.pem" 2>"$WORK/openssl.log" || {
  cat "$WORK/openssl.log"
  die "openssl could not make a certificate"
}
openssl x509 -in "$WORK/cert.pem" -noout -subject -enddate

say "starting stdws and nginx"
cargo build --quiet --bin stdws
STDWS_PORT=$(free_port)
"$ROOT/target/debug/stdws" --port "$STDWS_PORT" 2>"$WORK/stdws.log" &
PIDS+=($!)
wait_for_port "$STDWS_PORT" "${PIDS[-1]}" || {
  cat "$WORK/stdws.log"
  die "stdws did not start"
}

TLS_PORT=$(free_port)
mkdir -p "$WORK/temp"
# Worker processes drop to an unprivileged user; let them reach the temp folders.
chmod 755 "$WORK" "$WORK/temp"
cat >"$WORK/nginx.conf" <<CONF
# A private nginx for one test: everything under $WORK.
worker_processes 1;
daemon off;
pid $WORK/nginx.pid;
error_log $WORK/error.log info;
events { worker_connections 64; }

http {
    access_log $WORK/access.log;
    client_body_temp_path $WORK/temp/body;
    proxy_temp_path $WORK/temp/proxy;
    fastcgi_temp_path $WORK/temp/fastcgi;
    uwsgi_temp_path $WORK/temp/uwsgi;
    scgi_temp_path $WORK/temp/scgi;

    # "Connection: upgrade" when the client asked to upgrade, "close" otherwise.
    map \$http_upgrade \$connection_upgrade {
        default upgrade;
        ''      close;
    }

    upstream stdws {
        server 127.0.0.1:$STDWS_PORT;
    }

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
            proxy_set_header X-Forwarded-For \$proxy_add_x_forwarded_for;
            proxy_set_header X-Forwarded-Proto \$scheme;
            proxy_read_timeout 1h;
            proxy_send_timeout 1h;
        }
    }
}
CONF
start_nginx "$TLS_PORT"
echo "stdws on 127.0.0.1:$STDWS_PORT, nginx (TLS) on 127.0.0.1:$TLS_PORT"

check "wss:// through nginx to stdws (python websockets, trusting only the throwaway cert)" \
  "$PY" "$INTEROP/websockets_client.py" "wss://127.0.0.1:$TLS_PORT/through-nginx" --cafile "$WORK/cert.pem"

# nginx itself must have seen the upgrade, answered by stdws with 101.
saw_upgrade() {
  grep -E '"GET /through-nginx HTTP/1.1" 101 ' "$WORK/access.log" || {
    echo "nginx's access log shows no 101 for /through-nginx:"
    cat "$WORK/access.log"
    return 1
  }
}
check "nginx logged the 101 from stdws" saw_upgrade

# A certificate nobody trusts must be refused: TLS is really in the path.
refuses_unknown_cert() {
  "$PY" - "wss://127.0.0.1:$TLS_PORT/untrusted" <<'PY'
import ssl, sys
from websockets.sync.client import connect
try:
    with connect(sys.argv[1], ssl=ssl.create_default_context(), open_timeout=20):
        print("connected although the certificate is not trusted")
        sys.exit(1)
except ssl.SSLCertVerificationError as e:
    print(f"  refused as it should be: {e.verify_message}")
PY
}
check "a client that does not trust the certificate is refused" refuses_unknown_cert

say "stopping nginx and stdws"
stop_all
[ ! -e "$WORK/nginx.pid" ] || die "nginx did not remove its pid file: still running?"

echo
echo "nginx-tls: ${PASSED} passed, ${#FAILED[@]} failed ($((SECONDS - START)) s)"
if [ ${#FAILED[@]} -gt 0 ]; then
  printf '  failed: %s\n' "${FAILED[@]}"
  exit 1
fi

# Three instances behind nginx, sharing broadcast rooms through Redis, over wss://.
"$ROOT/scripts/nginx-redis-test.sh"

#!/usr/bin/env bash
# with-moto.sh CMD [ARGS...]: runs CMD with a moto server (the local AWS
# emulator, pinned in requirements.txt, from .venv) listening on 127.0.0.1 on
# a free port, exported as IRFLOW_MOTO_ENDPOINT; moto stops when CMD ends.
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
moto=${IRFLOW_MOTO_SERVER:-$root/.venv/bin/moto_server}
[ -x "$moto" ] || { echo "with-moto: $moto not found; run make py-deps" >&2; exit 2; }
port=$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1]); s.close()')
log=$(mktemp -t moto.XXXXXX.log)
"$moto" -H 127.0.0.1 -p "$port" >"$log" 2>&1 &
pid=$!
cleanup() { kill "$pid" 2>/dev/null || true; wait "$pid" 2>/dev/null || true; rm -f "$log"; }
trap cleanup EXIT INT TERM
for _ in $(seq 1 100); do
  if python3 -c "import urllib.request,sys; urllib.request.urlopen('http://127.0.0.1:$port/moto-api/', timeout=1)" 2>/dev/null; then break; fi
  kill -0 "$pid" 2>/dev/null || { echo "with-moto: moto_server exited:" >&2; cat "$log" >&2; exit 1; }
  sleep 0.1
done
export IRFLOW_MOTO_ENDPOINT="http://127.0.0.1:$port"
export AWS_ACCESS_KEY_ID=testing AWS_SECRET_ACCESS_KEY=testing AWS_DEFAULT_REGION=us-east-1 AWS_REGION=us-east-1
"$@"

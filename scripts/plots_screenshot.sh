#!/usr/bin/env bash
# Screenshot the `dvc plots show` page of a reproduced srtwins checkout in headless Chromium, offline.
#
# Needs: dvc (on PATH, or DVC=/path/to/dvc), npm and node (fetch vega, vega-lite and vega-embed from
# the npm registry), python3 (a loopback HTTP server) and chromium (Debian: apt-get install -y chromium).
# Does: runs `dvc plots show` in REPO (default: this checkout; it must hold the plots files, e.g. after
# `dvc repro`) into OUT/html. The page loads Vega from a CDN, so the script `npm pack`s the exact
# versions the page names, serves them beside the page on 127.0.0.1 and points the script tags there,
# lays the charts out in a grid (so the PNG stays a viewable size), and screenshots the page.
# Usage: scripts/plots_screenshot.sh [REPO] [OUT] [dvc plots show targets...]
#   WIDTH / HEIGHT set the browser window (default 2400 x 12000 pixels; raise HEIGHT if the PNG cuts off).
# Output: OUT/plots.png (OUT defaults to /tmp/srtwins-plots); the rewritten page is OUT/html/index.html.
set -euo pipefail

REPO=$(cd "${1:-$(dirname "$0")/..}" && pwd)
OUT=$(mkdir -p "${2:-/tmp/srtwins-plots}" && cd "${2:-/tmp/srtwins-plots}" && pwd)
shift $(($# < 2 ? $# : 2))
DVC=${DVC:-dvc}
HTML=$OUT/html

rm -rf "$HTML" "$OUT/npm" "$OUT/plots.png"
(cd "$REPO" && "$DVC" plots show -o "$HTML" "$@" >/dev/null)
mkdir -p "$HTML/vendor" "$OUT/npm"

PORT=$(python3 -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')
for url in $(grep -o 'https://cdn\.jsdelivr\.net/npm/[^"]*' "$HTML/index.html" | sort -u); do
    spec=${url#https://cdn.jsdelivr.net/npm/}  # e.g. vega@5.20.2
    name=${spec%@*}
    tarball=$(cd "$OUT/npm" && npm pack --silent "$spec" | tail -n 1)
    mkdir -p "$OUT/npm/$name" && tar -xzf "$OUT/npm/$tarball" -C "$OUT/npm/$name"
    # the file a CDN serves for a bare package URL: "jsdelivr", else "unpkg", else "browser", else "main"
    entry=$(node -p "const p = require('$OUT/npm/$name/package/package.json'); p.jsdelivr || p.unpkg || p.browser || p.main")
    cp "$OUT/npm/$name/package/$entry" "$HTML/vendor/$name.js"
    sed -i "s#$url\"#http://127.0.0.1:$PORT/vendor/$name.js\"#" "$HTML/index.html"
done
if grep -q 'https://' <(grep -o '<script src="[^"]*"' "$HTML/index.html"); then
    echo "a script still loads from the internet:" >&2; grep -o '<script src="[^"]*"' "$HTML/index.html" >&2; exit 1
fi
# DVC writes no charset, so Vega's "…" in cut legend labels shows as mojibake; a grid keeps the PNG small
sed -i 's#<head>#<head>\n    <meta charset="utf-8">#; s#<style>#<style>\n        body { display: flex; flex-wrap: wrap; align-items: flex-start; gap: 12px; }#' "$HTML/index.html"

python3 -m http.server "$PORT" --bind 127.0.0.1 --directory "$HTML" >"$OUT/http.log" 2>&1 &
SERVER=$!
trap 'kill "$SERVER"' EXIT
for _ in $(seq 50); do curl -sf "http://127.0.0.1:$PORT/index.html" >/dev/null && break; sleep 0.1; done

SANDBOX=()
[ "$(id -u)" = 0 ] && SANDBOX=(--no-sandbox)  # Chromium refuses to run as root with its sandbox
chromium --headless "${SANDBOX[@]}" --disable-gpu --hide-scrollbars --virtual-time-budget=30000 \
    --window-size="${WIDTH:-2400},${HEIGHT:-12000}" --screenshot="$OUT/plots.png" \
    "http://127.0.0.1:$PORT/index.html" 2>"$OUT/chromium.log"
echo "$OUT/plots.png"

#!/usr/bin/env bash
# Build the C shim and the single xlat64 binary into dist/.
# deno compile needs Deno's `denort` runtime: it downloads it, or takes DENORT_BIN.
# Where neither works (offline machines) this builds the documented fallback instead:
# dist/xlat64.js (deno bundle) + dist/libxlat64shim.so + dist/xlat64 (a launcher).
set -euo pipefail
cd "$(dirname "$0")"
OUT=${XLAT64_OUT:-dist}
mkdir -p "$OUT"
cc -O2 -Wall -Wextra -fPIC -shared -o ffi/libxlat64shim.so ffi/*.c
cp ffi/libxlat64shim.so "$OUT/"

# Worker entry points are loaded by URL at run time, so they are shipped beside the main
# module (compile: embedded; bundle: bundled separately under the same relative name).
WORKERS=(src/io/worker.ts src/dns/fastpath_worker.ts)

log=$(mktemp)
trap 'rm -f "$log"' EXIT
if [ "${XLAT64_FORCE_BUNDLE:-}" != 1 ] &&
  deno compile -A --include ffi/libxlat64shim.so "${WORKERS[@]/#/--include=}" -o "$OUT/xlat64" main.ts \
    >"$log" 2>&1; then
  rm -f "$OUT/xlat64.js"
  echo "built $OUT/xlat64 (single binary, shim embedded)"
  exit 0
fi
if [ "${XLAT64_FORCE_BUNDLE:-}" != 1 ]; then
  echo "deno compile failed: denort runtime not available (offline? set DENORT_BIN=/path/to/denort); building the bundle fallback" >&2
  grep -iE 'error' "$log" | head -3 >&2 || true
fi
deno bundle --quiet main.ts -o "$OUT/xlat64.js"
for w in "${WORKERS[@]}"; do deno bundle --quiet "$w" -o "$OUT/$(basename "$w")"; done
cat >"$OUT/xlat64" <<'LAUNCH'
#!/bin/sh
# xlat64 fallback launcher: the bundled program run by deno, with the shim beside it.
here=$(dirname "$(readlink -f "$0")")
XLAT64_SHIM="${XLAT64_SHIM:-$here/libxlat64shim.so}" exec deno run -A --unstable-net "$here/xlat64.js" "$@"
LAUNCH
chmod +x "$OUT/xlat64"
echo "built $OUT/xlat64 (fallback: launcher + xlat64.js bundle + libxlat64shim.so; needs deno on PATH)"

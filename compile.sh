#!/usr/bin/env bash
# Build the C shim and the single xlat64 binary into dist/.
# deno compile needs Deno's `denort` runtime: it downloads it, or takes DENORT_BIN.
# Where neither works (offline machines) this builds the documented fallback instead:
# dist/xlat64.js (deno bundle) + dist/libxlat64shim.so + dist/xlat64 (a launcher).
set -euo pipefail
cd "$(dirname "$0")"
mkdir -p dist
cc -O2 -Wall -Wextra -fPIC -shared -o ffi/libxlat64shim.so ffi/*.c
cp ffi/libxlat64shim.so dist/

log=$(mktemp)
trap 'rm -f "$log"' EXIT
if [ "${XLAT64_FORCE_BUNDLE:-}" != 1 ] &&
  deno compile -A --include ffi/libxlat64shim.so -o dist/xlat64 main.ts >"$log" 2>&1; then
  rm -f dist/xlat64.js
  echo "built dist/xlat64 (single binary, shim embedded)"
  exit 0
fi
if [ "${XLAT64_FORCE_BUNDLE:-}" != 1 ]; then
  echo "deno compile failed: denort runtime not available (offline? set DENORT_BIN=/path/to/denort); building the bundle fallback" >&2
  grep -iE 'error' "$log" | head -3 >&2 || true
fi
deno bundle --quiet main.ts -o dist/xlat64.js
cat >dist/xlat64 <<'LAUNCH'
#!/bin/sh
# xlat64 fallback launcher: the bundled program run by deno, with the shim beside it.
here=$(dirname "$(readlink -f "$0")")
XLAT64_SHIM="${XLAT64_SHIM:-$here/libxlat64shim.so}" exec deno run -A --unstable-net "$here/xlat64.js" "$@"
LAUNCH
chmod +x dist/xlat64
echo "built dist/xlat64 (fallback: launcher + dist/xlat64.js bundle + dist/libxlat64shim.so; needs deno on PATH)"

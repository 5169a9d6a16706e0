#!/usr/bin/env bash
# Install what the tests need (Deno from npm, Debian tools, the C shim) and run them all.
# Prints a final line "N passed, N failed".
set -uo pipefail
cd "$(dirname "$0")"

DENO_VERSION=2.9.6
APT_PACKAGES=(iproute2 iputils-ping iputils-tracepath traceroute tcpdump tshark python3-scapy
  tayga curl iperf3 dnsutils bind9-dnsutils ldnsutils unbound nsd bind9 dnsperf gcc libc6-dev procps)

need_apt=()
for p in "${APT_PACKAGES[@]}"; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "ok installed" || need_apt+=("$p")
done
if [ ${#need_apt[@]} -gt 0 ]; then
  if [ "$(id -u)" = 0 ]; then
    echo "installing: ${need_apt[*]}"
    export DEBIAN_FRONTEND=noninteractive
    echo "wireshark-common wireshark-common/install-setuid boolean false" | debconf-set-selections
    apt-get update -qq && apt-get install -y -qq "${need_apt[@]}" >/dev/null ||
      echo "warning: apt-get install failed; tests that need these tools will skip"
    # Tests start their own daemons on high ports; packaged services are not wanted.
    for s in named bind9 unbound nsd; do service "$s" stop >/dev/null 2>&1 || true; done
  else
    echo "warning: not root, cannot install ${need_apt[*]}; tests that need them will skip"
  fi
fi

if ! command -v deno >/dev/null || [[ "$(deno --version | head -1)" != "deno $DENO_VERSION"* ]]; then
  npm install -g "deno@$DENO_VERSION" >/dev/null 2>&1 || { echo "cannot install deno"; exit 1; }
fi

deno task -q shim || { echo "cannot build the C shim"; echo "0 passed, 1 failed"; exit 1; }

export NO_COLOR=1
log=$(mktemp)
deno task -q test "$@" 2>&1 | tee "$log"
rc=${PIPESTATUS[0]}
# Deno's summary: "ok | 12 passed (3 steps) | 0 failed | 2 ignored (...)"
summary=$(sed -E "s/\x1b\[[0-9;]*m//g" "$log" | grep -E '^(ok|FAILED) \| [0-9]+ passed' | tail -1)
passed=$(sed -E 's/.*\| ([0-9]+) passed.*/\1/' <<<"$summary")
failed=$(sed -E 's/.*\| ([0-9]+) failed.*/\1/' <<<"$summary")
ignored=$(grep -oE '[0-9]+ ignored' <<<"$summary" | grep -oE '[0-9]+' || echo 0)
rm -f "$log"
if [ -z "$summary" ]; then
  echo "0 passed, 1 failed"
  exit 1
fi
[ "$rc" -ne 0 ] && [ "$failed" = 0 ] && failed=1
echo "$passed passed, $failed failed, ${ignored:-0} skipped"
exit "$rc"

#!/usr/bin/env bash
# Installs the HTTP anchors the benchmarks (bench/lib/nginx.ts, bench/lib/wrk.ts) and tests
# (test/servers/nginx.ts) compare against: Debian's `nginx` (static GET + WebDAV PUT) and `wrk`.
# Only the binaries are used: every benchmark starts its own throwaway instance, so the Debian
# service is kept from starting (and disabled under systemd) rather than left holding port 80.
# Idempotent; quick when present.
set -euo pipefail
missing=()
[ -x /usr/sbin/nginx ] || command -v nginx >/dev/null 2>&1 || missing+=(nginx)
command -v wrk >/dev/null 2>&1 || missing+=(wrk)
[ ${#missing[@]} -eq 0 ] && exit 0
if [ "$(id -u)" -ne 0 ] || ! command -v apt-get >/dev/null 2>&1; then
  # Only benchmarks need these, and they skip (saying why) without them: warn, do not block npm test.
  echo "provision-nginx: missing ${missing[*]} (benchmarks that need them will be skipped); as root: apt-get install -y --no-install-recommends ${missing[*]}" >&2
  exit 0
fi
echo "provision-nginx: installing ${missing[*]}" >&2
started=$SECONDS
export DEBIAN_FRONTEND=noninteractive
# policy-rc.d refuses service starts during install (no init here, and port 80 may be taken).
policy=/usr/sbin/policy-rc.d
own_policy=0
if [ ! -e "$policy" ]; then
  printf '#!/bin/sh\nexit 101\n' >"$policy" && chmod +x "$policy" && own_policy=1
fi
trap 'if [ "$own_policy" -eq 1 ]; then rm -f "$policy"; fi' EXIT
apt-get update -qq
# Debian's nginx is built with http_dav_module, which `dav_methods PUT` needs.
apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
for cmd in nginx wrk; do
  command -v "$cmd" >/dev/null 2>&1 || [ -x "/usr/sbin/$cmd" ] || { echo "provision-nginx: apt-get ran but $cmd is missing" >&2; exit 1; }
done
if [ -d /run/systemd/system ] && command -v systemctl >/dev/null 2>&1; then
  systemctl disable --now nginx >/dev/null 2>&1 || true
fi
echo "provision-nginx: installed in $((SECONDS - started)) s" >&2

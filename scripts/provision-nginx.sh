#!/usr/bin/env bash
# Installs the HTTP anchors the benchmarks (bench/lib/nginx.ts, bench/lib/wrk.ts) and tests
# (test/servers/nginx.ts) compare against: Debian's `nginx` (static GET + WebDAV PUT) and `wrk`.
# Only the binaries are used: the Debian service is stopped and disabled so it does not hold
# port 80; every benchmark starts its own throwaway instance. Idempotent; quick when present.
set -euo pipefail
missing=()
[ -x /usr/sbin/nginx ] || command -v nginx >/dev/null 2>&1 || missing+=(nginx)
command -v wrk >/dev/null 2>&1 || missing+=(wrk)
[ ${#missing[@]} -eq 0 ] && exit 0
if [ "$(id -u)" -ne 0 ] || ! command -v apt-get >/dev/null 2>&1; then
  echo "provision-nginx: missing ${missing[*]}; as root: apt-get install -y --no-install-recommends ${missing[*]}" >&2
  exit 1
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
# nginx-light would do, but bookworm ships `dav_methods` in the default nginx (http_dav_module).
apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
for cmd in nginx wrk; do
  command -v "$cmd" >/dev/null 2>&1 || [ -x "/usr/sbin/$cmd" ] || { echo "provision-nginx: apt-get ran but $cmd is missing" >&2; exit 1; }
done
echo "provision-nginx: installed in $((SECONDS - started)) s" >&2

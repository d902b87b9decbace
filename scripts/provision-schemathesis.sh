#!/usr/bin/env bash
# Installs schemathesis (PyPI), which test/security/schemathesis.test.ts runs against the
# service's own /openapi.json, into a private virtualenv in the cache (as MinIO's binary is):
# no dependence on where pip puts scripts (~/.local/bin, pyenv shims) or on PATH. Prints the
# binary's path on its last line. Quick when it is already there.
set -euo pipefail
SCHEMATHESIS_VERSION="${SCHEMATHESIS_VERSION:-4.32.5}"
cache="${BUCKETGATE_CACHE:-${XDG_CACHE_HOME:-$HOME/.cache}/bucketgate}"
venv="$cache/schemathesis-$SCHEMATHESIS_VERSION"
bin="$venv/bin/schemathesis"
if [ -x "$bin" ] && "$bin" --version >/dev/null 2>&1; then
  echo "$bin"
  exit 0
fi
if ! command -v python3 >/dev/null 2>&1; then
  echo "provision-schemathesis: python3 is missing; install Python 3.9+ (apt-get install python3 python3-venv)" >&2
  exit 1
fi
if ! python3 -c 'import venv, ensurepip' >/dev/null 2>&1; then
  if [ "$(id -u)" = 0 ] && command -v apt-get >/dev/null 2>&1; then
    apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq python3-venv >/dev/null
  else
    echo "provision-schemathesis: Python's venv module is missing; install python3-venv" >&2
    exit 1
  fi
fi
echo "provision-schemathesis: installing schemathesis $SCHEMATHESIS_VERSION into $venv" >&2
# A half-done install fails the check above and is started over.
rm -rf "$venv"
mkdir -p "$cache"
python3 -m venv "$venv"
"$venv/bin/python" -m pip install --quiet --disable-pip-version-check "schemathesis==$SCHEMATHESIS_VERSION"
"$bin" --version >/dev/null
echo "$bin"

#!/usr/bin/env bash
# Installs schemathesis (PyPI), which test/security/schemathesis.test.ts runs against the
# service's own /openapi.json. Quick when it is already there.
set -euo pipefail
if command -v schemathesis >/dev/null 2>&1; then
  exit 0
fi
if ! command -v python3 >/dev/null 2>&1; then
  echo "provision-schemathesis: python3 is missing; install Python 3.9+ (apt-get install python3 python3-pip)" >&2
  exit 1
fi
echo "provision-schemathesis: installing schemathesis with pip" >&2
python3 -m pip install --quiet --user schemathesis 2>/dev/null || python3 -m pip install --quiet schemathesis
command -v schemathesis >/dev/null 2>&1 || {
  echo "provision-schemathesis: installed, but 'schemathesis' is not on PATH (add ~/.local/bin)" >&2
  exit 1
}

#!/usr/bin/env bash
# Installs what the test suite needs on a fresh machine, or stops with one line naming what
# is missing when it cannot (not root). Idempotent and quick when everything is there.
set -euo pipefail
cd "$(dirname "$0")/.."
here=scripts
for step in "$here"/provision-*.sh; do
  [ -e "$step" ] || continue
  bash "$step"
done

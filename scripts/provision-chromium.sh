#!/usr/bin/env bash
# Installs what the dashboard's end-to-end tests need (test/web/): Debian's headless-capable
# `chromium`, driven by playwright-core, and `ffmpeg`, which makes the tiny test video.
# Idempotent; quick when both are there.
set -euo pipefail
missing=()
[ -x /usr/bin/chromium ] || missing+=(chromium)
command -v ffmpeg >/dev/null 2>&1 || missing+=(ffmpeg)
[ ${#missing[@]} -eq 0 ] && exit 0
if [ "$(id -u)" -ne 0 ]; then
  echo "provision-chromium: ${missing[*]} missing; as root: apt-get install -y ${missing[*]}" >&2
  exit 1
fi
export DEBIAN_FRONTEND=noninteractive
apt-get update -qq
apt-get install -y -qq --no-install-recommends "${missing[@]}" fonts-dejavu-core >/dev/null
[ -x /usr/bin/chromium ] || { echo "provision-chromium: apt-get ran but /usr/bin/chromium is missing" >&2; exit 1; }
command -v ffmpeg >/dev/null 2>&1 || { echo "provision-chromium: apt-get ran but ffmpeg is missing" >&2; exit 1; }

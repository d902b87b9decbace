#!/usr/bin/env bash
# Installs what the S3 tests need from Debian: a single-node Ceph RADOS Gateway
# (test/servers/ceph.ts) and rclone, the independent S3 client the tests compare against.
# Quick when everything is there; about a minute on a fresh machine.
set -euo pipefail
need=()
for cmd in radosgw radosgw-admin ceph-mon ceph-osd monmaptool ceph; do
  command -v "$cmd" >/dev/null 2>&1 || need+=("$cmd")
done
command -v rclone >/dev/null 2>&1 || need+=(rclone)
[ ${#need[@]} -eq 0 ] && exit 0
if [ "$(id -u)" -ne 0 ] || ! command -v apt-get >/dev/null 2>&1; then
  echo "provision-ceph: missing ${need[*]}; install as root: apt-get install -y --no-install-recommends radosgw ceph-mon ceph-osd rclone" >&2
  exit 1
fi
echo "provision-ceph: installing radosgw ceph-mon ceph-osd rclone (missing: ${need[*]})" >&2
started=$SECONDS
export DEBIAN_FRONTEND=noninteractive
apt-get update -qq
apt-get install -y -qq --no-install-recommends radosgw ceph-mon ceph-osd ceph-common rclone >/dev/null
echo "provision-ceph: installed in $((SECONDS - started)) s" >&2

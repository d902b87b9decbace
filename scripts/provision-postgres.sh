#!/usr/bin/env bash
# Installs the PostgreSQL server binaries the catalog tests start a throwaway cluster from
# (test/servers/postgres.ts). Idempotent; quick when already installed.
set -euo pipefail
if compgen -G '/usr/lib/postgresql/*/bin/initdb' >/dev/null && id -u postgres >/dev/null 2>&1; then
  exit 0
fi
if [ "$(id -u)" -ne 0 ]; then
  echo "provision-postgres: PostgreSQL server (/usr/lib/postgresql/*/bin/initdb) is missing; install the Debian package 'postgresql' as root" >&2
  exit 1
fi
export DEBIAN_FRONTEND=noninteractive
# The tests make their own clusters; keep the package from creating and starting a system one.
mkdir -p /etc/postgresql-common/createcluster.d
echo 'create_main_cluster = false' >/etc/postgresql-common/createcluster.d/bucketgate-no-main.conf
apt-get update -qq
apt-get install -y -qq --no-install-recommends postgresql >/dev/null
compgen -G '/usr/lib/postgresql/*/bin/initdb' >/dev/null || { echo "provision-postgres: apt-get installed postgresql but no initdb was found" >&2; exit 1; }

#!/usr/bin/env bash
# Builds the MinIO server the S3 tests start (test/servers/minio.ts), once: `go install` from
# its Go module into a cache outside the repository, reused by every later run. Prints the
# binary's path on its last line. The first build takes about 3-5 minutes on 2 cores.
set -euo pipefail
# A pseudo-version of MinIO's main branch (its RELEASE tags are not semver, so the module
# proxy serves commits); this one builds with Go 1.24+.
MINIO_VERSION="${MINIO_VERSION:-v0.0.0-20260212201848-7aac2a2c5b7c}"
cache="${BUCKETGATE_CACHE:-${XDG_CACHE_HOME:-$HOME/.cache}/bucketgate}"
bin="$cache/bin/minio-$MINIO_VERSION"
if [ -x "$bin" ]; then
  echo "$bin"
  exit 0
fi
if ! command -v go >/dev/null 2>&1; then
  echo "provision-minio: the Go toolchain (go 1.24 or newer) is missing; it is needed to build MinIO" >&2
  exit 1
fi
mkdir -p "$cache/bin" "$cache/build"
echo "provision-minio: building MinIO $MINIO_VERSION with $(go version | cut -d' ' -f3) (first time only, a few minutes)" >&2
started=$SECONDS
# Build into a private GOBIN, then move into place: a half-built binary is never picked up.
tmp="$(mktemp -d "$cache/build/minio.XXXXXX")"
trap 'rm -rf "$tmp"' EXIT
if ! GOBIN="$tmp" GOFLAGS=-buildvcs=false CGO_ENABLED=0 go install "github.com/minio/minio@$MINIO_VERSION" >"$tmp/build.log" 2>&1; then
  tail -n 20 "$tmp/build.log" >&2
  echo "provision-minio: go install github.com/minio/minio@$MINIO_VERSION failed (see above)" >&2
  exit 1
fi
mv "$tmp/minio" "$bin"
echo "provision-minio: built in $((SECONDS - started)) s" >&2
echo "$bin"

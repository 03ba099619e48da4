#!/usr/bin/env bash
# Installs what the tests need (redis-server and redis-tools, from Debian's
# packages, when missing) and runs every check: gofmt, go vet, unit tests
# with the race detector, and the end-to-end tests over real sockets.
#
# Environment:
#   DURASTORE_SOAK=1   also run the long soak, crash and fuzz runs (slow)
#   CI=true            a missing redis-server fails the differential tests
#                      instead of skipping them
set -euo pipefail
cd "$(dirname "$0")/.."

need_install=0
for bin in redis-server redis-cli redis-benchmark; do
	command -v "$bin" >/dev/null 2>&1 || need_install=1
done
if [ "$need_install" = 1 ]; then
	echo "== installing redis-server and redis-tools (the reference for differential tests)"
	SUDO=""
	[ "$(id -u)" = 0 ] || SUDO="sudo"
	$SUDO apt-get update -qq
	DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq redis-server redis-tools >/dev/null
fi
# A redis-server started by the package as a system service is not used by
# the tests (they start their own on free ports); stop it so it does not
# hold port 6379.
if command -v systemctl >/dev/null 2>&1; then
	systemctl stop redis-server >/dev/null 2>&1 || true
fi
if command -v service >/dev/null 2>&1; then
	service redis-server stop >/dev/null 2>&1 || true
fi

echo "== gofmt"
unformatted="$(gofmt -l .)"
if [ -n "$unformatted" ]; then
	echo "gofmt would change:"
	echo "$unformatted"
	exit 1
fi

echo "== go vet"
go vet ./...

echo "== unit tests (race detector)"
go test -race -count=1 ./engine/ ./commands/ ./server/ ./cmd/... ./compat/ ./scripts/...

echo "== end-to-end tests (server built with the race detector)"
# With DURASTORE_SOAK=1 this includes the long kill/restart test
# (DURASTORE_CRASH_ROUNDS rounds per fsync policy, 2000 by default).
e2e_timeout=15m
[ "${DURASTORE_SOAK:-}" = 1 ] && e2e_timeout=6h
DURASTORE_RACE=1 go test -count=1 -timeout "$e2e_timeout" ./tests/

echo "== resident-memory bounds (server built without the race detector)"
go test -count=1 -timeout 5m -run 'TestEvictionFillBounded' ./tests/

# Fuzzing (issue 7): the request framer and every command's argument
# parsing, from the committed seed corpus in server/testdata/fuzz. Short in
# CI; DURASTORE_SOAK=1 runs each target for DURASTORE_FUZZTIME (10m).
fuzztime=10s
if [ "${DURASTORE_SOAK:-}" = 1 ]; then
	fuzztime="${DURASTORE_FUZZTIME:-10m}"
fi
for target in FuzzReqScanner FuzzCommands; do
	echo "== fuzz $target ($fuzztime)"
	go test ./server/ -run '^$' -fuzz "^${target}\$" -fuzztime "$fuzztime"
done

echo "== all checks passed"

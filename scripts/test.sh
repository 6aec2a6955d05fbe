#!/usr/bin/env bash
# The test command of the README: every package's tests, with a timeout that turns a hang
# into a failure with stack traces instead of a stuck CI.
set -euo pipefail
cd "$(dirname "$0")/.."
exec go test -timeout 20m "$@" ./...

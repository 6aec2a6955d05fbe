#!/usr/bin/env bash
# Runs every Go fuzz target in the module for a bounded time each (default 10s), e.g.
#   bash scripts/fuzz.sh 10s      # CI
#   bash scripts/fuzz.sh 10m      # an afternoon of fuzzing
# New failing inputs are written to the package's testdata/fuzz/ and replay in `go test`.
set -euo pipefail
cd "$(dirname "$0")/.."
fuzztime="${1:-10s}"
status=0
while read -r file; do
  dir="./$(dirname "$file")"
  for target in $(grep -oE '^func (Fuzz[A-Za-z0-9_]+)\(' "$file" | sed -E 's/^func (Fuzz[A-Za-z0-9_]+)\(/\1/'); do
    echo "fuzz $dir $target for $fuzztime"
    if ! go test "$dir" -run='^$' -fuzz="^${target}\$" -fuzztime="$fuzztime"; then
      echo "FAIL: fuzz target $target in $dir found a failing input (saved under $dir/testdata/fuzz/$target)"
      status=1
    fi
  done
done < <(git ls-files '*_test.go' | xargs grep -l '^func Fuzz' | sort)
exit $status

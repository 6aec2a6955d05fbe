#!/usr/bin/env bash
# Runs every Go fuzz target in the module for a bounded time each (default 10s), e.g.
#   bash scripts/fuzz.sh 10s      # CI
#   bash scripts/fuzz.sh 10m      # an afternoon of fuzzing
# New failing inputs are written to the package's testdata/fuzz/ and replay in `go test`.
#
# A target fails when the fuzzer writes a failing input, or when it stops for any reason other
# than the one known Go 1.26 engine race: at the -fuzztime boundary the coordinator may report a
# bare "context deadline exceeded" although no input failed (go.dev/issue/75804, fixed in Go
# 1.27). That case is told apart by three facts together: the message is the only failure line,
# no new file appeared under testdata/fuzz/<target>, and a deterministic replay of the target's
# corpus passes. It is then reported as tolerated, not hidden.
set -euo pipefail
cd "$(dirname "$0")/.."
fuzztime="${1:-10s}"
status=0
tolerated=0
log="$(mktemp)"
trap 'rm -f "$log"' EXIT

corpus_files() { # dir target -> sorted list of corpus files (empty when none)
  if [ -d "$1/testdata/fuzz/$2" ]; then find "$1/testdata/fuzz/$2" -type f | sort; fi
}

# boundary_race log -> true when the run's only failure is the engine's deadline race.
boundary_race() {
  grep -q '^    context deadline exceeded$' "$1" &&
    ! grep -qE 'Failing input written to|panic:|_test\.go:[0-9]+:|test timed out' "$1"
}

while read -r file; do
  dir="./$(dirname "$file")"
  for target in $(grep -oE '^func (Fuzz[A-Za-z0-9_]+)\(' "$file" | sed -E 's/^func (Fuzz[A-Za-z0-9_]+)\(/\1/'); do
    echo "fuzz $dir $target for $fuzztime"
    before="$(corpus_files "$dir" "$target")"
    if go test "$dir" -run='^$' -fuzz="^${target}\$" -fuzztime="$fuzztime" 2>&1 | tee "$log"; then
      continue
    fi
    after="$(corpus_files "$dir" "$target")"
    if [ "$before" = "$after" ] && boundary_race "$log" &&
      go test "$dir" -count=1 -run="^${target}\$" >/dev/null; then
      echo "TOLERATED: $target in $dir stopped with the Go fuzz engine's deadline race (go.dev/issue/75804): no failing input was written and its corpus replays clean"
      tolerated=$((tolerated + 1))
      continue
    fi
    echo "FAIL: fuzz target $target in $dir failed (a new failing input is saved under $dir/testdata/fuzz/$target; replay with: go test $dir -run '^${target}\$')"
    status=1
  done
done < <(git ls-files '*_test.go' | xargs grep -l '^func Fuzz' | sort)
echo "fuzz: done, status $status, $tolerated run(s) ended by the engine's deadline race"
exit $status

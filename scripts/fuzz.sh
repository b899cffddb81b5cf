#!/usr/bin/env bash
# fuzz.sh runs every Go fuzz target in the module, one after another, each
# for FUZZTIME (default 30s). A failing input is written by `go test` to
# the package's testdata/fuzz/FuzzXxx/ directory: commit it as a seed once
# the bug is fixed, so the normal test run replays it.
#
#   scripts/fuzz.sh                    # every target, 30s each
#   FUZZTIME=5m scripts/fuzz.sh        # longer
#   scripts/fuzz.sh FuzzCursor         # only targets matching a regexp
set -u
cd "$(dirname "$0")/.."
GO=${GO:-go}
FUZZTIME=${FUZZTIME:-30s}
only=${1:-.}

failed=()
count=0
# Each "func FuzzXxx(f *testing.F)" in a _test.go file, with its package dir.
while IFS=: read -r file name; do
	dir=./$(dirname "$file")
	echo "=== $name ($dir, $FUZZTIME)"
	count=$((count + 1))
	if ! $GO test -run='^$' -fuzz="^${name}\$" -fuzztime="$FUZZTIME" "$dir"; then
		failed+=("$dir $name")
	fi
done < <(grep -rHo --include='*_test.go' --exclude-dir=.git -E '^func Fuzz[A-Za-z0-9_]+\(f \*testing\.F\)' . |
	sed -E 's#^\./##; s#:func (Fuzz[A-Za-z0-9_]+)\(.*#:\1#' | grep -E ":.*${only}" | sort)

echo "ran $count fuzz targets for $FUZZTIME each"
if ((${#failed[@]})); then
	printf 'FAILED: %s\n' "${failed[@]}"
	exit 1
fi

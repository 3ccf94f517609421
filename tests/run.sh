#!/bin/sh
# make test: the unit tests, the integration tests, then the Python package
# tests; ends with the total.
BUILD=${BUILD:-build}
out=$(mktemp)
trap 'rm -f "$out"' EXIT
"$BUILD/unit-tests" | tee "$out"
PYMON_BUILD="$BUILD" python3 tests/integration/run.py 2>&1 | tee -a "$out"
PYMON_BUILD="$BUILD" python3 python/tests/run.py 2>&1 | tee -a "$out"
passed=0; failed=0
for line in $(grep -E '^[a-z]+: [0-9]+ passed, [0-9]+ failed' "$out" | sed -E 's/^[a-z]+: ([0-9]+) passed, ([0-9]+) failed.*/\1:\2/'); do
	passed=$((passed + ${line%%:*})); failed=$((failed + ${line##*:}))
done
runners=$(grep -cE '^[a-z]+: [0-9]+ passed, [0-9]+ failed' "$out")
if [ "$runners" -lt 3 ]; then
	echo "a test runner did not finish"; failed=$((failed + 1))
fi
echo "$passed passed, $failed failed"
[ "$failed" -eq 0 ]

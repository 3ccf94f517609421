#!/bin/sh
# make fuzz: builds every fuzz/fuzz_*.c as a libFuzzer binary (ASan + UBSan,
# linked with the library (src/{base,core,filter,act}/*.c), src/cli/toml.c, text.c and dotenv.c) into build/fuzz/ and runs
# each one for FUZZ_SECONDS seconds (default 60), FUZZ_JOBS at a time
# (default: the number of CPUs). The seeds in
# fuzz/corpus/<name>/ are copied into build/fuzz/corpus/<name>/ first, so the
# repository's corpus is never modified. Prints one line per target; exits 1
# if any target fails to build, crashes, leaks or hangs (crash inputs land in
# build/fuzz/artifacts/).
#
#   sh fuzz/run.sh              all targets
#   sh fuzz/run.sh glob         only fuzz/fuzz_glob.c
#   FUZZ_SECONDS=600 FUZZ_JOBS=1 CC_FUZZ=clang-16 sh fuzz/run.sh
set -u

cd "$(dirname "$0")/.." || exit 1

CC_FUZZ=${CC_FUZZ:-clang}
FUZZ_SECONDS=${FUZZ_SECONDS:-60}
OUT=build/fuzz
CFLAGS_FUZZ="-g -O1 -fsanitize=fuzzer,address,undefined -fno-sanitize-recover=undefined \
-fno-omit-frame-pointer -Iinclude -Isrc -D_GNU_SOURCE"

case $FUZZ_SECONDS in
'' | *[!0-9]*)
	echo "fuzz: FUZZ_SECONDS must be a number of seconds, not '$FUZZ_SECONDS'" >&2
	exit 1
	;;
esac

mkdir -p "$OUT/artifacts" || exit 1

# libFuzzer lives in clang's runtime package; make sure it links.
probe=$OUT/probe
cat >"$probe.c" <<'EOF'
#include <stddef.h>
#include <stdint.h>
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) { (void)data; (void)size; return 0; }
EOF
if ! command -v "$CC_FUZZ" >/dev/null 2>&1; then
	echo "fuzz: $CC_FUZZ not found; on Debian 12: apt-get install -y clang libclang-rt-14-dev" >&2
	exit 1
fi
if ! $CC_FUZZ $CFLAGS_FUZZ "$probe.c" -o "$probe" >"$probe.log" 2>&1; then
	echo "fuzz: $CC_FUZZ cannot link -fsanitize=fuzzer (see $probe.log);" \
	     "on Debian 12: apt-get install -y clang libclang-rt-14-dev" >&2
	exit 1
fi

if [ $# -gt 0 ]; then
	targets=
	for t in "$@"; do
		t=${t#fuzz/}
		t=${t#fuzz_}
		targets="$targets fuzz/fuzz_${t%.c}.c"
	done
else
	targets=$(ls fuzz/fuzz_*.c 2>/dev/null)
fi
if [ -z "$targets" ]; then
	echo "fuzz: no fuzz/fuzz_*.c targets" >&2
	exit 1
fi

# One target: build, copy its seeds, run; its result line goes to $OUT/$name.result.
fuzz_one() {
	src=$1
	name=$(basename "$src" .c)
	short=${name#fuzz_}
	bin=$OUT/$name
	log=$OUT/$name.log
	result=$OUT/$name.result
	if [ ! -f "$src" ]; then
		echo "$name: FAIL (no such target $src)" >"$result"
		return
	fi
	# shellcheck disable=SC2086 # CFLAGS_FUZZ is a word list
	if ! $CC_FUZZ $CFLAGS_FUZZ "$src" src/base/*.c src/core/*.c src/filter/*.c src/act/*.c src/cli/toml.c src/cli/text.c src/cli/dotenv.c -o "$bin" >"$log" 2>&1; then
		echo "$name: FAIL (build failed, see $log)" >"$result"
		return
	fi
	corpus=$OUT/corpus/$short
	mkdir -p "$corpus"
	if [ -d "fuzz/corpus/$short" ]; then
		cp -p "fuzz/corpus/$short"/* "$corpus"/ 2>/dev/null
	fi
	"$bin" -max_total_time="$FUZZ_SECONDS" -timeout=25 -print_final_stats=1 \
		-artifact_prefix="$OUT/artifacts/$name-" "$corpus" >>"$log" 2>&1
	rc=$?
	execs=$(sed -n 's/^stat::number_of_executed_units: *//p' "$log" | tail -n 1)
	units=$(ls "$corpus" | wc -l | tr -d ' ')
	if [ $rc -eq 0 ]; then
		echo "$name: ok, ${execs:-?} execs in ${FUZZ_SECONDS} s, corpus $units inputs" >"$result"
	else
		echo "$name: FAIL (exit $rc after ${execs:-?} execs; log $log," \
		     "input in $OUT/artifacts/)" >"$result"
	fi
}

# Targets run FUZZ_JOBS at a time (default: one per CPU); each is one
# single-threaded process, so they do not compete for a core.
jobs=${FUZZ_JOBS:-$(nproc 2>/dev/null || echo 1)}
running=0
for src in $targets; do
	rm -f "$OUT/$(basename "$src" .c).result"
	fuzz_one "$src" &
	running=$((running + 1))
	if [ "$running" -ge "$jobs" ]; then
		wait
		running=0
	fi
done
wait

failed=0
for src in $targets; do
	result=$OUT/$(basename "$src" .c).result
	if [ -f "$result" ]; then
		cat "$result"
	else
		echo "$(basename "$src" .c): FAIL (no result)"
		failed=1
		continue
	fi
	grep -q ': ok,' "$result" || failed=1
done
exit $failed

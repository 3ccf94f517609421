#!/bin/sh
# make bench [QUICK=1]: build the C helpers, install the peers that are
# missing (Debian packages; npm packages into bench/node_modules), then run
# the harness. A peer that cannot be had is skipped with a note.
set -u
cd "$(dirname "$0")/.." || exit 1
BUILD=${BUILD:-build}
OUTDIR=$BUILD/bench
mkdir -p "$OUTDIR" bench/out
NOTES=$OUTDIR/install-notes.txt
: > "$NOTES"
note() { echo "bench: $*" >&2; echo "$*" >> "$NOTES"; }

CC=${CC:-cc}
# The trigger is static when libc.a is there: no dynamic loader per run.
$CC -O2 -static -o "$OUTDIR/trigger" bench/trigger.c 2>/dev/null ||
	$CC -O2 -o "$OUTDIR/trigger" bench/trigger.c || exit 1
$CC -O2 -Wall -o "$OUTDIR/floor_scan" bench/floor_scan.c || exit 1
$CC -O2 -Wall -Wno-unused-function -o "$OUTDIR/floor_loop" bench/floor_loop.c || exit 1

# Debian peers: command -> package.
missing=""
for pair in entr:entr inotifywait:inotify-tools fswatch:fswatch watchmedo:python3-watchdog; do
	command -v "${pair%%:*}" >/dev/null 2>&1 || missing="$missing ${pair#*:}"
done
if [ -n "$missing" ]; then
	if [ "$(id -u)" = 0 ] && command -v apt-get >/dev/null 2>&1; then
		echo "bench: installing$missing" >&2
		if ! { apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq $missing; } >"$OUTDIR/apt.log" 2>&1; then
			note "apt-get install$missing failed (see $OUTDIR/apt.log); the missing peers are skipped"
		fi
	else
		note "not installed:$missing (needs root and apt-get); those peers are skipped"
	fi
fi

# npm peers, into bench/node_modules (git-ignored); no package.json is written.
if [ ! -x bench/node_modules/.bin/nodemon ] || [ ! -x bench/node_modules/.bin/chokidar ]; then
	if command -v npm >/dev/null 2>&1 && command -v node >/dev/null 2>&1; then
		echo "bench: npm install nodemon chokidar-cli into bench/node_modules" >&2
		npm install --prefix bench --no-save --no-package-lock --no-audit --no-fund \
			nodemon@3 chokidar-cli@3 >"$OUTDIR/npm.log" 2>&1 ||
			note "npm install nodemon chokidar-cli failed (see $OUTDIR/npm.log); those peers are skipped"
	else
		note "node/npm not found: nodemon and chokidar-cli are skipped"
	fi
fi

BUILD=$BUILD exec python3 bench/bench.py "$@"

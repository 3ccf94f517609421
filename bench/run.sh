#!/bin/sh
# make bench [QUICK=1] [BENCH_ONLY=watchers|frameworks|polling]
#   or: sh bench/run.sh [watchers|frameworks|polling]
# Builds the C helpers, installs the peers that are missing (Debian
# packages; npm packages into bench/node_modules), then runs the harness:
# the watchers (bench/bench.py), then save -> new code served beside the
# frameworks' reloaders (bench/frameworks.py), then the polling backend
# beside the pollers (bench/polling.py). A peer that cannot be had is
# skipped with a note. py-mon itself must be built first (`make`).
set -u
cd "$(dirname "$0")/.." || exit 1
ONLY=${1:-${BENCH_ONLY:-}}
case $ONLY in
"" | all) parts="watchers frameworks polling" ;;
watchers | frameworks | polling) parts=$ONLY ;;
*)
	echo "bench/run.sh: unknown part '$ONLY' (watchers, frameworks, polling or all)" >&2
	exit 2
	;;
esac
BUILD=${BUILD:-build}
OUTDIR=$BUILD/bench
mkdir -p "$OUTDIR" bench/out
NOTES=$OUTDIR/install-notes.txt
: > "$NOTES"
note() { echo "bench: $*" >&2; echo "$*" >> "$NOTES"; }

# Debian peers: a test that says whether one is there -> package.
want=""
has_cmd() { command -v "$1" >/dev/null 2>&1; }
# The frameworks are Debian's and run with /usr/bin/python3 (not a pyenv shim).
has_mod() { [ -x /usr/bin/python3 ] && /usr/bin/python3 -c "import $1" >/dev/null 2>&1; }
for p in $parts; do
	case $p in
	watchers)
		has_cmd entr || want="$want entr"
		has_cmd inotifywait || want="$want inotify-tools"
		has_cmd fswatch || want="$want fswatch"
		has_cmd watchmedo || want="$want python3-watchdog"
		;;
	polling)
		has_mod watchdog || want="$want python3-watchdog" # its PollingObserver
		;;
	frameworks)
		has_mod flask || want="$want python3-flask"
		has_mod uvicorn || want="$want python3-uvicorn"
		has_mod fastapi || want="$want python3-fastapi"
		has_mod django || want="$want python3-django"
		# Werkzeug's reloader takes watchdog when it can import it: the run
		# then shows both of its reloaders.
		has_mod watchdog || want="$want python3-watchdog"
		# The pymon package's row: its extension is built for /usr/bin/python3.
		if [ -f python/setup.py ]; then
			[ -f /usr/include/python3*/Python.h ] 2>/dev/null || want="$want python3-dev"
			has_mod setuptools || want="$want python3-setuptools"
		fi
		;;
	esac
done
has_mod matplotlib || want="$want python3-matplotlib" # the charts
want=$(echo "$want" | tr ' ' '\n' | sort -u | tr '\n' ' ')
if [ -n "${want% }" ]; then
	if [ "$(id -u)" = 0 ] && command -v apt-get >/dev/null 2>&1; then
		echo "bench: installing $want" >&2
		if ! { apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq $want; } >"$OUTDIR/apt.log" 2>&1; then
			note "apt-get install $want failed (see $OUTDIR/apt.log); the missing peers are skipped"
		fi
	else
		note "not installed: $want(needs root and apt-get); those peers are skipped"
	fi
fi

status=0
for p in $parts; do
	case $p in
	watchers)
		CC=${CC:-cc}
		# The trigger is static when libc.a is there: no dynamic loader per run.
		$CC -O2 -static -o "$OUTDIR/trigger" bench/trigger.c 2>/dev/null ||
			$CC -O2 -o "$OUTDIR/trigger" bench/trigger.c || exit 1
		$CC -O2 -Wall -o "$OUTDIR/floor_scan" bench/floor_scan.c || exit 1
		$CC -O2 -Wall -Wno-unused-function -o "$OUTDIR/floor_loop" bench/floor_loop.c || exit 1
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
		BUILD=$BUILD python3 bench/bench.py
		;;
	frameworks)
		if [ -f python/setup.py ] && ! PYTHONPATH=python has_mod pymon; then
			echo "bench: make python PYTHON=/usr/bin/python3 (the pymon row)" >&2
			make python PYTHON=/usr/bin/python3 >"$OUTDIR/python-build.log" 2>&1 ||
				note "make python PYTHON=/usr/bin/python3 failed (see $OUTDIR/python-build.log): the pymon .run() row is skipped"
		fi
		BUILD=$BUILD python3 bench/frameworks.py
		;;
	polling)
		# nodemon -L needs bench/node_modules (the watchers part installs it).
		BUILD=$BUILD python3 bench/polling.py
		;;
	esac
	rc=$?
	[ "$rc" -ge 128 ] && exit "$rc" # interrupted: stop here
	[ "$rc" = 0 ] || status=$rc
done
# Charts of whatever bench/out holds, with Debian's matplotlib.
if [ -x /usr/bin/python3 ]; then
	/usr/bin/python3 bench/charts.py bench/out >&2 || note "bench/charts.py failed"
else
	note "no charts: /usr/bin/python3 (with python3-matplotlib) not found"
fi
exit $status

#!/bin/sh
# Runs every integration test file (tests/integration/test_*.rb), each in its own Ruby
# process with its own redis-server(s), and prints the wall time each took. Exits non-zero
# if any file fails. These tests are winch's own: they only run against winch.
#
#   WINCH=path    the winch binary (default <repo>/build/winch)
#   WINCH_ASAN=1  WINCH is a sanitizer build: ASAN_OPTIONS=detect_leaks=0:abort_on_error=1,
#                 and a test fails if the worker's log holds a sanitizer report
#   JOBS=N        run N files at once (default 1); output is still printed in order
#   tests/integration/run.sh [test_file.rb ...] [-- minitest args]
set -u

here=$(cd "$(dirname "$0")" && pwd)
top=$(cd "$here/../.." && pwd)
jobs=${JOBS:-1}

WINCH=${WINCH:-$top/build/winch}
export WINCH
if [ ! -x "$WINCH" ]; then
	echo "integration: no winch binary at $WINCH (run scripts/build.sh, or set WINCH)" >&2
	exit 1
fi
if [ "${WINCH_ASAN:-}" = 1 ]; then
	ASAN_OPTIONS=detect_leaks=0:abort_on_error=1
	export ASAN_OPTIONS WINCH_ASAN
fi

files=""
while [ $# -gt 0 ]; do
	case $1 in
	--) shift; break ;;
	*) files="$files $1"; shift ;;
	esac
done
[ -n "$files" ] || files=$(ls "$here"/test_*.rb)

outdir=$(mktemp -d "${TMPDIR:-/tmp}/winch-integration-run.XXXXXX")
trap 'rm -rf "$outdir"' EXIT
trap 'exit 130' INT TERM

now() { date +%s.%N; }

run_one() { # file [minitest args]
	f=$1
	shift
	name=$(basename "$f" .rb)
	start=$(now)
	ruby -W:no-deprecated "$f" "$@" >"$outdir/$name.out" 2>&1
	echo $? >"$outdir/$name.rc"
	echo "$start $(now)" >"$outdir/$name.time"
}

echo "integration: WINCH=$WINCH${WINCH_ASAN:+ WINCH_ASAN=$WINCH_ASAN}"
suite_start=$(now)
running=0
for f in $files; do
	if [ "$jobs" -le 1 ]; then
		run_one "$f" "$@"
	else
		run_one "$f" "$@" &
		running=$((running + 1))
		if [ "$running" -ge "$jobs" ]; then
			wait
			running=0
		fi
	fi
done
wait

failed=""
for f in $files; do
	name=$(basename "$f" .rb)
	rc=$(cat "$outdir/$name.rc" 2>/dev/null || echo 1)
	secs=$(awk '{ printf "%.1f", $2 - $1 }' "$outdir/$name.time" 2>/dev/null)
	summary=$(grep -E '^[0-9]+ runs, ' "$outdir/$name.out" | tail -n 1)
	if [ "$rc" -eq 0 ]; then
		printf 'ok    %-22s %6ss  %s\n' "$name" "$secs" "$summary"
	else
		printf 'FAIL  %-22s %6ss  %s\n' "$name" "$secs" "$summary"
		sed 's/^/    /' "$outdir/$name.out"
		failed="$failed $name"
	fi
done
total=$(awk -v a="$suite_start" -v b="$(now)" 'BEGIN { printf "%.1f", b - a }')
if [ -n "$failed" ]; then
	echo "integration: FAILED ($total s):$failed"
	exit 1
fi
echo "integration: all passed ($total s)"

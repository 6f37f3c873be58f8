#!/bin/bash
# Runs a suite's test files (DIR/test_*.rb, or those named), each in its own Ruby process,
# JOBS at once, and prints one line per file with its wall time and minitest summary, and the
# whole output of any file that fails. Exits non-zero if any file fails.
#
#   tests/support/run_files.sh SUITE DIR BANNER [test_file.rb ...] [-- minitest args]
set -u

suite=$1
here=$2
banner=$3
shift 3
jobs=${JOBS:-3}

files=""
while [ $# -gt 0 ]; do
	case $1 in
	--) shift; break ;;
	*) files="$files $1"; shift ;;
	esac
done
[ -n "$files" ] || files=$(ls "$here"/test_*.rb)

outdir=$(mktemp -d "${TMPDIR:-/tmp}/winch-$suite-run.XXXXXX")
trap 'rm -rf "$outdir"' EXIT INT TERM

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

echo "$suite: $banner"
suite_start=$(now)
running=0
for f in $files; do
	if [ "$jobs" -le 1 ]; then
		run_one "$f" "$@"
	else
		if [ "$running" -ge "$jobs" ]; then
			wait -n
			running=$((running - 1))
		fi
		run_one "$f" "$@" &
		running=$((running + 1))
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
	echo "$suite: FAILED ($total s):$failed"
	exit 1
fi
echo "$suite: all passed ($total s)"

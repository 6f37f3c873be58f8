#!/bin/bash
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

exec "$here/../support/run_files.sh" integration "$here" \
	"WINCH=$WINCH${WINCH_ASAN:+ WINCH_ASAN=$WINCH_ASAN}" "$@"

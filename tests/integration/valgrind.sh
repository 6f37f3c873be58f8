#!/bin/bash
# The integration suite with every winch process under valgrind's memcheck: no memory error
# and no definite leak in any of them. The Redis fault files are left out: their timing
# (backoff, timeouts) does not hold at valgrind's speed; they run in the other stages.
set -u

here=$(cd "$(dirname "$0")" && pwd)
top=$(cd "$here/../.." && pwd)
command -v valgrind >/dev/null || { echo "valgrind: not installed" >&2; exit 1; }
logs=$(mktemp -d "${TMPDIR:-/tmp}/winch-valgrind.XXXXXX")
trap 'rm -rf "$logs"' EXIT

files=$(ls "$here"/test_*.rb | grep -v -e test_redis_faults -e test_redis_outages)
# WINCH_ASAN=1 gives the slow-binary timeouts; valgrind reports go to $logs, not the log.
WINCH_VALGRIND_DIR=$logs WINCH_REAL=${WINCH:-$top/build/winch} \
	WINCH="$top/tests/support/valgrind-winch" WINCH_ASAN=1 JOBS=${JOBS:-3} \
	"$here/run.sh" $files
rc=$?
reports=$(find "$logs" -name 'valgrind.*.log' -size +0)
n=$(find "$logs" -name 'valgrind.*.log' | wc -l)
if [ -n "$reports" ]; then
	for f in $reports; do
		echo "--- $f"
		cat "$f"
	done
	echo "valgrind: memory errors or leaks in $(echo "$reports" | wc -l) of $n processes"
	exit 1
fi
echo "valgrind: $n winch processes, no memory error, no definite leak"
exit $rc

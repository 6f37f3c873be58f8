#!/bin/bash
# Builds each libFuzzer harness (tests/fuzz/fuzz_<name>.c) with clang and ASan + UBSan,
# straight from the library sources it needs, then runs it for a bounded time from its seed
# corpus (tests/fuzz/corpus/<name>/, only read: new inputs go to a scratch directory).
# Exits non-zero if a harness does not build or finds a crash, a leak, a UBSan report or a
# broken invariant, and prints the reproducer's path; replay one with
#   <printed binary> <reproducer>
#
#   FUZZ_SECONDS=N   seconds per harness (default 20)
#   FUZZ_BUILD=dir   a configured build directory for config.h (default <repo>/build; built
#                    with scripts/build.sh if it has no config.h)
#   tests/fuzz/run.sh [name ...]   only these harnesses (payload resp options redisurl)
set -u

here=$(cd "$(dirname "$0")" && pwd)
top=$(cd "$here/../.." && pwd)
seconds=${FUZZ_SECONDS:-20}
build=${FUZZ_BUILD:-$top/build}

# The library sources each harness links, besides src/util.c.
sources_payload="compat/payload.c compat/jsonraw.c compat/timestamp.c compat/retry.c
	compat/backtrace.c compat/activejob.c"
sources_resp="src/log.c src/redisurl.c" # and src/rconn.c, which the harness includes
sources_options="src/options.c src/redisurl.c compat/queues.c"
sources_redisurl="src/redisurl.c"
maxlen_payload=16384
maxlen_resp=8192
maxlen_options=1024
maxlen_redisurl=512

names=${*:-payload resp options redisurl}

command -v clang >/dev/null || { echo "fuzz: clang is not installed (scripts/deps.sh)" >&2; exit 1; }
if [ ! -f "$build/config.h" ]; then
	"$top/scripts/build.sh" "$build" || exit 1
fi

work=$(mktemp -d "${TMPDIR:-/tmp}/winch-fuzz.XXXXXX")
keep=0
cleanup() { [ $keep -eq 1 ] || rm -rf "$work"; }
trap cleanup EXIT

# shellcheck disable=SC2046
deps="$(pkg-config --cflags --libs hiredis json-c libcrypto zlib) -lev -lpthread"
cflags="-g -O1 -fsanitize=fuzzer,address,undefined -fno-sanitize-recover=all
	-fno-omit-frame-pointer -Wall -Wno-unused-parameter -D_GNU_SOURCE -I$build
	-I$top/src -I$top/compat -I$top/handlers -I$top/include"
export ASAN_OPTIONS=${ASAN_OPTIONS:-detect_leaks=1:abort_on_error=1:symbolize=1}
export UBSAN_OPTIONS=${UBSAN_OPTIONS:-print_stacktrace=1:halt_on_error=1}

failed=0
for name in $names; do
	src="$here/fuzz_$name.c"
	eval "libsrc=\${sources_$name:-}"
	eval "maxlen=\${maxlen_$name:-4096}"
	if [ ! -f "$src" ]; then
		echo "fuzz: no harness $src" >&2
		failed=1
		continue
	fi
	bin="$work/fuzz_$name"
	files="$src $top/src/util.c"
	for f in $libsrc; do files="$files $top/$f"; done
	t0=$(date +%s)
	# shellcheck disable=SC2086
	if ! clang $cflags -o "$bin" $files $deps 2>"$work/$name.build"; then
		cat "$work/$name.build" >&2
		echo "fuzz $name: does not build" >&2
		failed=1
		continue
	fi
	mkdir -p "$work/corpus-$name" "$work/artifacts-$name"
	seeds="$here/corpus/$name"
	dict=""
	[ -f "$here/$name.dict" ] && dict="-dict=$here/$name.dict"
	"$bin" -max_total_time="$seconds" -max_len="$maxlen" -timeout=10 -rss_limit_mb=2048 \
		-print_final_stats=1 $dict -artifact_prefix="$work/artifacts-$name/" \
		"$work/corpus-$name" "$seeds" >"$work/$name.log" 2>&1
	rc=$?
	t1=$(date +%s)
	runs=$(sed -n 's/^stat::number_of_executed_units: *//p' "$work/$name.log")
	cov=$(grep -o 'cov: [0-9]*' "$work/$name.log" | tail -1)
	if [ $rc -eq 0 ]; then
		printf 'fuzz %-9s ok      %5s runs in %ss (%s, seeds %s)\n' "$name" "${runs:-?}" \
			$((t1 - t0)) "${cov:-cov: ?}" "$(ls "$seeds" 2>/dev/null | wc -l)"
		continue
	fi
	failed=1
	keep=1
	grep -E 'ERROR|runtime error|invariant failed|SUMMARY|==[0-9]+==' "$work/$name.log" | head -20
	for a in "$work/artifacts-$name"/*; do
		[ -e "$a" ] || continue
		echo "fuzz $name: FAILED; reproducer: $a"
		echo "  replay: $bin $a   (full log: $work/$name.log)"
		echo "  keep it: cp $a $seeds/regress-<what>"
	done
	[ -n "$(ls "$work/artifacts-$name")" ] || echo "fuzz $name: FAILED (rc $rc); log: $work/$name.log"
done
exit $failed

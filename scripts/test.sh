#!/bin/bash
# The whole test suite: install what is missing, build, run unit, integration and interop
# tests (interop twice: winch as the worker, and Ruby Sidekiq, to prove the tests test
# Sidekiq's behaviour), then a sanitizer build. Prints each stage's time against its budget.
set -u
top=$(cd "$(dirname "$0")/.." && pwd)
cd "$top"

stages=()
failed=()
run_stage() { # name budget_seconds command...
	local name=$1 budget=$2 t0 t1 rc
	shift 2
	echo "=== $name"
	t0=$(date +%s)
	"$@"
	rc=$?
	t1=$(date +%s)
	stages+=("$(printf '%-28s %5ss  (budget %4ss)  %s' "$name" $((t1 - t0)) "$budget" \
		"$([ $rc -eq 0 ] && echo ok || echo FAILED)")")
	[ $rc -eq 0 ] || failed+=("$name")
	return $rc
}

summary() {
	echo
	echo "=== time per stage"
	printf '%s\n' "${stages[@]}"
	if [ ${#failed[@]} -gt 0 ]; then
		echo "FAILED: ${failed[*]}"
		exit 1
	fi
	echo "all stages passed"
}
trap summary EXIT

unit() { make -C build -s check >/dev/null 2>&1 || { cat build/tests/unit/*.log; return 1; }; \
	grep -h '^# TOTAL\|^PASS\|^FAIL' build/test-suite.log | head -5; \
	ls build/tests/unit/*.trs | wc -l | xargs echo "unit test programs passed:"; }
asan_build() { scripts/build.sh "$top/build-asan" --enable-asan --enable-debug && \
	make -C build-asan -s check >/dev/null 2>&1 || { cat build-asan/tests/unit/*.log; return 1; }; }

run_stage deps 300 scripts/deps.sh || exit 1
run_stage build 300 scripts/build.sh || exit 1
run_stage unit 120 unit
run_stage integration 300 env WINCH="$top/build/winch" tests/integration/run.sh
run_stage "interop (winch)" 600 env WORKER=winch WINCH="$top/build/winch" tests/interop/run.sh
run_stage "interop (ruby sidekiq)" 600 env WORKER=sidekiq tests/interop/run.sh
run_stage chaos 300 env WINCH="$top/build/winch" tests/chaos/run.sh
run_stage "soak (1M jobs, RSS)" 300 env WINCH="$top/build/winch" tests/soak/run.sh
run_stage fuzz 240 tests/fuzz/run.sh
run_stage "asan build + unit" 600 asan_build
run_stage "integration (valgrind)" 900 tests/integration/valgrind.sh
run_stage "integration (asan)" 600 env WINCH="$top/build-asan/winch" WINCH_ASAN=1 \
	tests/integration/run.sh
# The rest of the suite on the sanitizer build too: ASAN_OPTIONS makes any report abort the
# process (UBSan is built with -fno-sanitize-recover), which fails the test that ran it.
asan_env() { env ASAN_OPTIONS=detect_leaks=0:abort_on_error=1 WINCH="$top/build-asan/winch" "$@"; }
run_stage "interop (winch, asan)" 900 asan_env WORKER=winch tests/interop/run.sh
run_stage "chaos (asan)" 300 asan_env tests/chaos/run.sh

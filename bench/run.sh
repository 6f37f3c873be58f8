#!/bin/sh
# winch against Ruby Sidekiq 6.4.1, side by side, on one throwaway redis-server:
#
#     bench/run.sh
#
# Builds winch (scripts/build.sh) and bench/delayproxy.c (cc, into a temp dir), runs
# bench/bench.rb, prints the table of ratios, writes it into README.md's "## Performance"
# section, and plots bench/results.png when gnuplot is installed. Never part of the tests.
#
# Settings (environment):
#   BENCH_JOBS=100000        no-op jobs (Winch::Noop), pushed with push_bulk, 1,000 a batch
#   BENCH_C=25               -c of both workers for the no-op, latency and RTT runs
#   BENCH_DIGEST_JOBS=1000   Winch::Digest jobs, run at -c 1 and at -c $(nproc)
#   BENCH_DIGEST_ROUNDS=2000 rounds per Digest job
#   BENCH_LAT_JOBS=300       single Winch::Echo jobs for the idle latency
#   BENCH_DELAY_JOBS=20000   no-op jobs through bench/delayproxy (0.5 ms each way)
#   BENCH_DELAY_US=500       the proxy's delay per direction; BENCH_NO_PROXY=1 skips that run
#   BENCH_WORKERS=sidekiq,winch   which workers to run (one alone for a quick look)
#   BENCH_NO_README=1        do not touch README.md
#   KEEP_TMP=1               keep the temp dir (worker logs, redis log, table, plot data)
set -e
top=$(cd "$(dirname "$0")/.." && pwd)
cd "$top"

missing=""
for c in redis-server redis-benchmark ruby cc; do
	command -v "$c" >/dev/null 2>&1 || missing="$missing $c"
done
[ -x /usr/bin/sidekiq ] || [ -x /usr/local/bin/sidekiq ] || [ -n "$SIDEKIQ" ] || missing="$missing sidekiq"
if [ -n "$missing" ]; then
	echo "bench: missing:$missing (Debian: redis-server redis-tools ruby ruby-sidekiq gcc;" \
		"scripts/deps.sh installs the build's own)" >&2
	exit 1
fi
command -v gnuplot >/dev/null 2>&1 || echo "bench: gnuplot not found (Debian: gnuplot-nox): no plot" >&2

scripts/build.sh
tmp=$(mktemp -d /tmp/winch-bench.XXXXXX)
[ -n "$KEEP_TMP" ] || trap 'rm -rf "$tmp"' EXIT INT TERM

proxy=""
if [ -z "$BENCH_NO_PROXY" ]; then
	cc -O2 -o "$tmp/delayproxy" bench/delayproxy.c
	proxy="$tmp/delayproxy"
fi

BENCH_TMP="$tmp" BENCH_PROXY="$proxy" ruby bench/bench.rb

model=$(sed -n 's/^model name[[:space:]]*: //p' /proc/cpuinfo | head -1)
{
	echo "Measured $(date -u +%Y-%m-%d) on $(nproc) cores ($model), Linux $(uname -r)," \
		"with \`bench/run.sh\`$( [ -n "$BENCH_JOBS" ] && echo " (BENCH_JOBS=$BENCH_JOBS)")."
	echo "Both workers log at warn (no line per job), use the same -c and the same Redis."
} >"$tmp/stamp.md"
echo
cat "$tmp/stamp.md"

if command -v gnuplot >/dev/null 2>&1; then
	gnuplot <<EOF
set terminal pngcairo size 900,500 noenhanced
set output "$top/bench/results.png"
set title "winch vs Ruby Sidekiq 6.4.1: jobs/s ($(nproc) cores, $(date -u +%Y-%m-%d))"
set style data histogram
set style histogram clustered gap 1
set style fill solid 0.8 border -1
set logscale y
set ylabel "jobs per second (log scale)"
set yrange [10:*]
set key top right
set grid ytics
plot "$tmp/plot.dat" using 2:xtic(1) title "Ruby Sidekiq", "" using 3 title "winch"
EOF
	echo "bench: plot in bench/results.png" >&2
fi

[ -n "$BENCH_NO_README" ] || ruby bench/readme.rb README.md "$tmp/table.md" "$tmp/stamp.md" \
	"$( [ -f bench/results.png ] && echo yes)"

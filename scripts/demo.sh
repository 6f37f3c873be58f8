#!/bin/bash
# The demo: install what is missing, build, start a throwaway redis-server on a free loopback
# port, enqueue a few hundred jobs with the real Ruby Sidekiq client (plain and ActiveJob,
# some failing, some scheduled a few seconds ahead), run winch on them, show what happened
# as Sidekiq::Stats and the sets report it, and stop everything.
set -eu
top=$(cd "$(dirname "$0")/.." && pwd)
cd "$top"
scripts/deps.sh
echo "building winch..."
scripts/build.sh

dir=$(mktemp -d "${TMPDIR:-/tmp}/winch-demo.XXXXXX")
port=$(ruby -rsocket -e 's = TCPServer.new("127.0.0.1", 0); puts s.addr[1]; s.close')
winch_pid=""
cleanup() {
	[ -n "$winch_pid" ] && kill -TERM "$winch_pid" 2>/dev/null && wait "$winch_pid" 2>/dev/null
	[ -f "$dir/redis.pid" ] && kill "$(cat "$dir/redis.pid")" 2>/dev/null
	sleep 0.2
	rm -rf "$dir"
}
trap cleanup EXIT

redis-server --port "$port" --bind 127.0.0.1 --save '' --appendonly no --dir "$dir" \
	--daemonize yes --pidfile "$dir/redis.pid" --logfile "$dir/redis.log"
export REDIS_URL="redis://127.0.0.1:$port/0"
for _ in $(seq 50); do redis-cli -p "$port" ping >/dev/null 2>&1 && break; sleep 0.1; done
echo "redis-server on 127.0.0.1:$port (throwaway, in $dir)"

echo
echo "== enqueueing with the Ruby Sidekiq client"
ruby -W:no-deprecated tests/interop/demo_enqueue.rb

echo
echo "== running winch -c 10 -q default -q mailers --poll-interval 1 (log: first lines)"
build/winch -c 10 -q default -q mailers --poll-interval 1 -g demo >"$dir/winch.log" 2>&1 &
winch_pid=$!
# Until the queues are empty and the scheduled jobs have come due and run.
for _ in $(seq 300); do
	left=$(redis-cli -p "$port" eval "return redis.call('zcard','schedule') +
		redis.call('llen','queue:default') + redis.call('llen','queue:mailers')" 0)
	[ "$left" = "0" ] && break
	sleep 0.1
done
sleep 1
kill -TERM "$winch_pid"
wait "$winch_pid" || true
winch_pid=""
head -n 8 "$dir/winch.log"
echo "   ..."
grep -c ' INFO: done' "$dir/winch.log" | xargs echo "   'done' lines:"
grep -c ' INFO: fail' "$dir/winch.log" | xargs echo "   'fail' lines:"
tail -n 2 "$dir/winch.log"

echo
echo "== what Sidekiq's API sees"
ruby -W:no-deprecated tests/interop/demo_report.rb

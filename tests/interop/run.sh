#!/bin/bash
# Runs every interop test file (tests/interop/test_*.rb), each in its own Ruby process with
# its own redis-server, and prints the time each took. Exits non-zero if any file fails.
#
#   WORKER=sidekiq|winch  worker under test (default sidekiq); WINCH=path for winch
#   JOBS=N                run N files at once (default 3; most time is spent waiting for
#                         heartbeats); output is still printed in file order
#   tests/interop/run.sh [test_file.rb ...] [-- minitest args]
set -u

here=$(cd "$(dirname "$0")" && pwd)
exec "$here/../support/run_files.sh" interop "$here" \
	"WORKER=${WORKER:-sidekiq}${WINCH:+ WINCH=$WINCH}" "$@"

#!/bin/bash
# The chaos test (tests/chaos/test_*.rb): winch processes SIGKILLed at random and Redis
# restarted while tens of thousands of jobs run; nothing may be lost.
#
#   WINCH=path    the winch binary (default <repo>/build/winch)
#   CHAOS_JOBS, CHAOS_SECONDS: see test_chaos.rb
set -u

here=$(cd "$(dirname "$0")" && pwd)
top=$(cd "$here/../.." && pwd)
WINCH=${WINCH:-$top/build/winch}
export WINCH
exec "$here/../support/run_files.sh" chaos "$here" "WINCH=$WINCH" "$@"

#!/bin/bash
# Soak tests (tests/soak/test_*.rb): a million jobs through one winch, for memory growth.
#
#   WINCH=path    the winch binary (default <repo>/build/winch)
#   SOAK_JOBS=N   see test_memory.rb
set -u

here=$(cd "$(dirname "$0")" && pwd)
top=$(cd "$here/../.." && pwd)
WINCH=${WINCH:-$top/build/winch}
export WINCH
exec "$here/../support/run_files.sh" soak "$here" "WINCH=$WINCH" "$@"

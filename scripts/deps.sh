#!/bin/sh
# Install what winch needs to build and test, from Debian 12's packages, if it is missing.
set -e
PKGS="build-essential autoconf automake libtool pkg-config
      libhiredis-dev libjson-c-dev libev-dev libssl-dev zlib1g-dev libcmocka-dev
      redis-server ruby ruby-sidekiq ruby-activejob ruby-redis valgrind
      clang libclang-rt-14-dev"
missing=""
for p in $PKGS; do
	dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" ||
		missing="$missing $p"
done
[ -z "$missing" ] && exit 0
echo "installing:$missing"
SUDO=""
[ "$(id -u)" -eq 0 ] || SUDO="sudo"
export DEBIAN_FRONTEND=noninteractive
$SUDO apt-get update -qq
# shellcheck disable=SC2086
$SUDO apt-get install -y -qq --no-install-recommends $missing >/dev/null
# The package starts a system redis-server on 6379; winch's tests use their own.

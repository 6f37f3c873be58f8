#!/bin/sh
# Generate ./configure from configure.ac and Makefile.am.
set -e
cd "$(dirname "$0")"
mkdir -p m4 build-aux
autoreconf -fi
# automake installs tap-driver.sh only on request; the unit tests speak TAP.
[ -f build-aux/tap-driver.sh ] || cp "$(automake --print-libdir)/tap-driver.sh" build-aux/

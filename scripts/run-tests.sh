#!/bin/sh
# run-tests.sh: the second command of the README, and what CI runs
#
# SPDX-License-Identifier: LGPL-2.1-or-later
#
# Installs what is missing, builds in a folder of its own, runs every test
# suite, then the core suites again under valgrind memcheck, then each fuzz
# target for a few seconds (FUZZ_SECONDS, default 10; scripts/fuzz.sh).
set -eu

here=$(cd "$(dirname "$0")/.." && pwd)
build=${TEST_BUILD_DIR:-$here/_build}

"$here/scripts/install-deps.sh"

if [ ! -f "$build/build.ninja" ]; then
    meson setup "$build" "$here" --prefix="$build/_prefix" -Dwerror=true
fi
meson compile -C "$build"

echo "== all test suites"
meson test -C "$build" --print-errorlogs --no-rebuild

echo "== core suites under valgrind memcheck"
meson test -C "$build" --print-errorlogs --no-rebuild --setup=valgrind --suite core

echo "== fuzz targets, ${FUZZ_SECONDS:-10} s each (scripts/fuzz.sh)"
"$here/scripts/fuzz.sh" "${FUZZ_SECONDS:-10}"

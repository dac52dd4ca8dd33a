#!/bin/sh
# fuzz.sh: runs the libFuzzer targets of tests/fuzz
#
# SPDX-License-Identifier: LGPL-2.1-or-later
#
#   scripts/fuzz.sh [SECONDS] [TARGET…]
#
# Builds the fuzz targets with clang, libFuzzer, AddressSanitizer and
# UndefinedBehaviorSanitizer in a folder of their own (_fuzz, or
# $FUZZ_BUILD_DIR), then runs each target for SECONDS (default 60) on a
# working copy of its seed corpus (tests/fuzz/corpus/TARGET), with
# whatever the previous runs found. The test command runs it for a few
# seconds a target; for a long hunt, run it for hours:
#
#   scripts/fuzz.sh 14400 fuzz-loaders
#
# A crash stops that target with a report and leaves the input as
# crash-* in $FUZZ_BUILD_DIR/work/TARGET; add it to the seed corpus once
# fixed, so the ordinary test run replays it forever. Exits non-zero when
# any target found something.
set -eu

here=$(cd "$(dirname "$0")/.." && pwd)
build=${FUZZ_BUILD_DIR:-$here/_fuzz}
seconds=${1:-60}
[ $# -gt 0 ] && shift
targets=${*:-fuzz-json fuzz-loaders fuzz-settings fuzz-plugin-file}

if ! command -v clang >/dev/null 2>&1; then
    echo "fuzz.sh: clang is not installed (scripts/install-deps.sh installs it)" >&2
    exit 1
fi

if [ ! -f "$build/build.ninja" ]; then
    CC=clang CXX=clang++ meson setup "$build" "$here" -Dfuzzing=true -Dintrospection=false \
        -Dvapi=disabled -Db_sanitize=address,undefined -Db_lundef=false \
        -Dc_args=-fsanitize=fuzzer-no-link -Dcpp_args=-fsanitize=fuzzer-no-link >/dev/null
fi
for target in $targets; do
    meson compile -C "$build" "tests/fuzz/$target" >/dev/null
done

status=0
for target in $targets; do
    work="$build/work/$target"
    mkdir -p "$work/corpus"
    cp -n "$here/tests/fuzz/corpus/$target/"* "$work/corpus/" 2>/dev/null || true
    # The plugin target must not start interpreters: no libpeas loaders
    mkdir -p "$build/work/no-loaders"
    echo "== $target for $seconds s"
    if (cd "$work" && PEAS_PLUGIN_LOADERS_DIR="$build/work/no-loaders" \
            ASAN_OPTIONS=detect_leaks=0:abort_on_error=1 \
            UBSAN_OPTIONS=print_stacktrace=1:halt_on_error=1 \
            "$build/tests/fuzz/$target" -max_total_time="$seconds" -max_len=65536 \
                -timeout=20 -rss_limit_mb=2048 -print_final_stats=1 corpus \
            >"$work/log" 2>&1); then
        grep -E "^stat::number_of_executed_units|^stat::new_units_added|Done [0-9]+ runs" "$work/log" || true
    else
        status=1
        echo "fuzz.sh: $target found a problem; its report:" >&2
        tail -n 60 "$work/log" >&2
    fi
done
exit $status

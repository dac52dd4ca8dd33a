#!/bin/sh
# setup.sh: the first command of the README
#
# SPDX-License-Identifier: LGPL-2.1-or-later
#
# Installs every dependency, builds, installs into a prefix under your home
# (~/.local by default, override with PREFIX=...), and runs `stache plugins`.
set -eu

here=$(cd "$(dirname "$0")/.." && pwd)
prefix=${PREFIX:-$HOME/.local}
build=${BUILD_DIR:-$here/build}

"$here/scripts/install-deps.sh"

# The PyGObject overrides go where Debian's Python looks: for a prefix of
# ~/.local that is the user's site-packages, which meson would not pick
pyopt=""
usersite=$(/usr/bin/python3 -c 'import site; print(site.getusersitepackages())' 2>/dev/null || true)
if [ "$prefix" = "$HOME/.local" ] && [ -n "$usersite" ]; then
    pyopt="-Dpython.purelibdir=$usersite"
fi

if [ -d "$build" ]; then
    meson setup --reconfigure "$build" "$here" --prefix="$prefix" $pyopt
else
    meson setup "$build" "$here" --prefix="$prefix" $pyopt
fi
meson compile -C "$build"
meson install -C "$build" --quiet

libdir=$(meson introspect "$build" --buildoptions | /usr/bin/python3 -c \
    'import json,sys; print([o["value"] for o in json.load(sys.stdin) if o["name"]=="libdir"][0])')

echo
echo "Installed into $prefix. To use it from a shell and from Python:"
echo "  export PATH=\"$prefix/bin:\$PATH\""
echo "  export GI_TYPELIB_PATH=\"$prefix/$libdir/girepository-1.0\${GI_TYPELIB_PATH:+:\$GI_TYPELIB_PATH}\""
echo "  export LD_LIBRARY_PATH=\"$prefix/$libdir\${LD_LIBRARY_PATH:+:\$LD_LIBRARY_PATH}\""
echo
echo "\$ stache plugins"
"$prefix/bin/stache" plugins

# The main job on the embedded defaults: no configuration, no server. The
# sample notes go to their own namespace so they are easy to remove
# (stache namespaces delete samples --cascade).
samples="$here/data/samples/notes"
echo
echo "\$ stache ingest -n samples $samples"
"$prefix/bin/stache" ingest -n samples "$samples"
echo
echo "\$ stache search -n samples \"how do I keep a sourdough starter alive\""
"$prefix/bin/stache" search -n samples "how do I keep a sourdough starter alive"
echo
echo "\$ stache ask -n samples \"What do sea stars eat?\""
"$prefix/bin/stache" ask -n samples "What do sea stars eat?"

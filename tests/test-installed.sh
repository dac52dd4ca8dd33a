#!/bin/sh
# test-installed.sh: install into a staging folder and use Stache from there
#
# SPDX-License-Identifier: LGPL-2.1-or-later
#
# Proves the installed layout works on its own: the pkg-config file builds a
# C program, the typelib loads in Python from the installed prefix (not the
# build tree), and the installed `stache` command runs.
set -eu

build_dir=$1
source_dir=$2
stage=$(mktemp -d "${TMPDIR:-/tmp}/stache-install-XXXXXX")
trap 'rm -rf "$stage"' EXIT INT TERM

meson install -C "$build_dir" --destdir "$stage" --no-rebuild --quiet >/dev/null

prefix=$(meson introspect "$build_dir" --buildoptions |
         /usr/bin/python3 -c 'import json,sys; print([o["value"] for o in json.load(sys.stdin) if o["name"]=="prefix"][0])')
libdir_name=$(meson introspect "$build_dir" --buildoptions |
         /usr/bin/python3 -c 'import json,sys; print([o["value"] for o in json.load(sys.stdin) if o["name"]=="libdir"][0])')
root="$stage$prefix"
libdir="$root/$libdir_name"

# Nothing from the build tree may be found.
unset GI_TYPELIB_PATH
export LD_LIBRARY_PATH="$libdir"
export GI_TYPELIB_PATH="$libdir/girepository-1.0"
export PKG_CONFIG_PATH="$libdir/pkgconfig"

echo "# installed into $root"
test -f "$root/include/stache-1.0/stache.h"
test -f "$root/share/gir-1.0/Stache-1.0.gir"
test -f "$GI_TYPELIB_PATH/Stache-1.0.typelib"

# 1. A C program built with the installed pkg-config file.
cat > "$stage/app.c" <<'C'
#include <stache.h>
int main (void)
{
  g_autoptr(StacheSettings) settings = stache_settings_new_from_file (NULL, NULL);
  g_autofree char *provider = stache_settings_get_string (settings, "vectordb_provider", NULL);
  g_print ("%s %d\n", provider, STACHE_CHECK_VERSION (0, 1, 0));
  return 0;
}
C
# The .pc file names the final prefix; point a copy at the staging folder.
mkdir -p "$stage/pc"
sed "s|^prefix=.*|prefix=$root|" "$libdir/pkgconfig/stache-1.0.pc" > "$stage/pc/stache-1.0.pc"
export PKG_CONFIG_PATH="$stage/pc"
cflags=$(pkg-config --cflags stache-1.0)
libs=$(pkg-config --libs stache-1.0)
cc -std=c11 -Wall -Wextra -Werror -o "$stage/app" "$stage/app.c" $cflags $libs
out=$("$stage/app")
test "$out" = "sqlite 1" || { echo "not ok: C program printed '$out'"; exit 1; }
echo "ok 1 - C program builds with the installed pkg-config file and runs"

# 2. Python, from the installed typelib.
/usr/bin/python3 - "$GI_TYPELIB_PATH" <<'PY'
import os, sys
import gi
gi.require_version("GIRepository", "2.0")
gi.require_version("Stache", "1.0")
from gi.repository import GIRepository, Stache
repo = GIRepository.Repository.get_default()
path = repo.get_typelib_path("Stache")
assert path.startswith(sys.argv[1]), path
s = Stache.Settings.new_from_file(None)
assert s.get_string("vectordb_provider", None) == "sqlite"
print("ok 2 - from gi.repository import Stache loads", path)
PY

# 3. The installed command.
"$root/bin/stache" --version | grep -q "^stache " || { echo "not ok: stache --version"; exit 1; }
"$root/bin/stache" plugins --json | /usr/bin/python3 -c 'import json,sys; d=json.load(sys.stdin); assert "providers" in d'
echo "ok 3 - the installed stache command runs"
echo "1..3"

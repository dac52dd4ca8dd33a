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

# 1b. The provider SDK comes with <stache-plugin.h>; <stache.h> alone is the
#     application API and does not declare it.
cat > "$stage/sdk.c" <<'C'
#include <stache-plugin.h>
int main (void)
{
  return stache_text_is_stop_word ("the") && !stache_text_is_stop_word ("zeppelin") ? 0 : 1;
}
C
cc -std=c11 -Wall -Wextra -Werror -o "$stage/sdk" "$stage/sdk.c" $cflags $libs
"$stage/sdk" || { echo "not ok: <stache-plugin.h> program"; exit 1; }
sed 's|<stache-plugin.h>|<stache.h>|' "$stage/sdk.c" > "$stage/app-only.c"
if cc -std=c11 -Wall -Wextra -Werror -o "$stage/app-only" "$stage/app-only.c" $cflags $libs 2>/dev/null; then
  echo "not ok: <stache.h> declares the provider SDK"; exit 1
fi
test -f "$root/include/stache-1.0/stache-plugin.h"
echo "ok 1b - <stache-plugin.h> adds the provider SDK to <stache.h>"

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

# 4. Third-party plugins from the templates in data/templates, built and
#    installed as a user would: the C one with meson against the installed
#    stache-1.0.pc into ~/.local/share/stache/plugins, the Python one by
#    copying its folder there.
home="$stage/home"
export XDG_DATA_HOME="$home/.local/share"
export XDG_CONFIG_HOME="$home/.config"
export XDG_DATA_DIRS="$home/no-data-dirs"
export STACHE_PLUGIN_PATH=""
export STACHE_BUILTIN_PLUGIN_DIR="$libdir/stache/plugins"
unset RERANKER_PROVIDER LLM_PROVIDER EMBEDDING_PROVIDER VECTORDB_PROVIDER || true
user_plugins="$XDG_DATA_HOME/stache/plugins"
stache="$root/bin/stache"

# The .pc copy above points at the staging folder, so the template builds
# against the installed headers and library, not the build tree's.
meson setup "$stage/c-plugin-build" "$source_dir/data/templates/c-plugin" \
  --prefix "$home/.local" -Dpkg_config_path="$PKG_CONFIG_PATH" -Dwerror=true >"$stage/c-plugin-setup.log" 2>&1 ||
  { cat "$stage/c-plugin-setup.log"; echo "not ok: meson setup of the C template"; exit 1; }
meson compile -C "$stage/c-plugin-build" >"$stage/c-plugin-compile.log" 2>&1 ||
  { cat "$stage/c-plugin-compile.log"; echo "not ok: the C template does not build"; exit 1; }
meson install -C "$stage/c-plugin-build" --quiet >/dev/null
test -f "$user_plugins/template-c/template-c.plugin" || { echo "not ok: template-c.plugin not installed"; exit 1; }
test -f "$user_plugins/template-c/libtemplatec.so" || { echo "not ok: libtemplatec.so not installed"; exit 1; }
mkdir -p "$user_plugins/template-py"
cp "$source_dir/data/templates/python-plugin/template-py.plugin" \
   "$source_dir/data/templates/python-plugin/template_py.py" "$user_plugins/template-py/"
# -Dsystem_plugins_dir=true installs into the pluginsdir of stache-1.0.pc.
meson setup "$stage/c-plugin-system" "$source_dir/data/templates/c-plugin" \
  -Dpkg_config_path="$PKG_CONFIG_PATH" -Dsystem_plugins_dir=true >/dev/null 2>&1 ||
  { echo "not ok: meson setup -Dsystem_plugins_dir=true"; exit 1; }
want="$(pkg-config --variable=pluginsdir stache-1.0)/template-c/template-c.plugin"
meson introspect "$stage/c-plugin-system" --installed | grep -qF "\"$want\"" ||
  { meson introspect "$stage/c-plugin-system" --installed; echo "not ok: system install goes to $want"; exit 1; }
echo "ok 4 - the C template builds against the installed library and installs into \$XDG_DATA_HOME"

"$stache" plugins --json | /usr/bin/python3 -c '
import json, os, sys
d = json.load(sys.stdin)
home = os.path.realpath(sys.argv[1])
origins = {e["folder"]: e["origin"] for e in d["search_path"]}
assert origins.get(home) == "XDG_DATA_HOME", origins
found = {(p["type"], p["name"]): p for p in d["providers"]}
for key, loader in ((("reranker", "template-c"), "C"), (("llm", "template-py"), "python3")):
    p = found.get(key)
    assert p is not None, (key, sorted(found))
    assert p["status"] == "loaded", p
    assert p["loader"] == loader, p
    assert os.path.dirname(p["folder"]) == home, p
' "$user_plugins" || { echo "not ok: stache plugins --json"; exit 1; }
echo "ok 5 - stache plugins lists template-c and template-py as loaded from \$XDG_DATA_HOME"

for name in template-c template-py; do
  "$stache" plugins check "$user_plugins/$name" >"$stage/check.out" 2>&1 ||
    { cat "$stage/check.out"; echo "not ok: stache plugins check $name"; exit 1; }
  grep -q "the plugin is usable" "$stage/check.out" || { cat "$stage/check.out"; echo "not ok: check $name output"; exit 1; }
  "$stache" plugins check --json "$user_plugins/$name" | /usr/bin/python3 -c '
import json, sys
d = json.load(sys.stdin)
assert d["ok"] is True and d["problems"] == [], d
assert [p["name"] for p in d["providers"]] == [sys.argv[1]], d
assert d["providers"][0]["status"] == "loaded" and d["providers"][0]["created"] is True, d
' "$name" || { echo "not ok: stache plugins check --json $name"; exit 1; }
done
echo "ok 6 - stache plugins check passes both template folders"

# End to end: ingest with the built-in providers, rerank with template-c,
# answer with template-py.
mkdir -p "$stage/notes"
echo "Sourdough starters need feeding once a day with flour and water." > "$stage/notes/bread.txt"
echo "A reranker reorders search results by their relevance to the query." > "$stage/notes/search.txt"
"$stache" ingest "$stage/notes" >/dev/null || { echo "not ok: stache ingest"; exit 1; }

RERANKER_PROVIDER=template-c TEMPLATE_C_WEIGHT=0 "$stache" search --json "reranker relevance" |
  /usr/bin/python3 -c '
import json, sys
results = json.load(sys.stdin)["results"]
assert results, results
# weight 0: the score is the share of query words in the text, exactly
assert results[0]["score"] == 1.0, results
assert "reranker" in results[0]["text"], results
for r in results[1:]:
    assert r["score"] in (0.0, 0.5), results
' || { echo "not ok: search reranked by template-c"; exit 1; }
RERANKER_PROVIDER=template-c TEMPLATE_C_WEIGHT=1 "$stache" search --json "reranker relevance" |
  /usr/bin/python3 -c '
import json, sys
results = json.load(sys.stdin)["results"]
assert results[0]["score"] > 1.0, results   # coverage plus the search score
' || { echo "not ok: template-c reads template_c_weight"; exit 1; }
if RERANKER_PROVIDER=template-c TEMPLATE_C_WEIGHT=7 "$stache" search "reranker" >/dev/null 2>"$stage/err.out"; then
  echo "not ok: template-c accepted template_c_weight=7"; exit 1
fi
grep -q "template_c_weight" "$stage/err.out" || { cat "$stage/err.out"; echo "not ok: bad weight message"; exit 1; }
echo "ok 7 - template-c reranks searches and reads its setting"

LLM_PROVIDER=template-py TEMPLATE_PY_MAX_WORDS=3 "$stache" ask --json "how often do sourdough starters need feeding" |
  /usr/bin/python3 -c '
import json, sys
d = json.load(sys.stdin)
assert d["model"] == "template-py", d
first = d["sources"][0]["text"].split()
assert d["answer"] == " ".join(first[:3]) + " … [1]", d
assert "Sourdough" in d["sources"][0]["text"], d
' || { echo "not ok: ask answered by template-py"; exit 1; }
echo "ok 8 - template-py answers stache ask, quoting the best source"
echo "1..8"

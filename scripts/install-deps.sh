#!/bin/sh
# install-deps.sh: install the Debian 12 packages Stache needs to build and test
#
# SPDX-License-Identifier: LGPL-2.1-or-later
#
# Idempotent: installs only what is missing, so the test command can call it
# every time on a fresh machine and on a developer's.
set -eu

packages="
build-essential
meson
ninja-build
pkg-config
gettext
libglib2.0-dev
libpeas-dev
gir1.2-peas-1.0
libjson-glib-dev
gir1.2-json-1.0
libsoup-3.0-dev
gir1.2-soup-3.0
glib-networking
libsqlite3-dev
nettle-dev
libstemmer-dev
libhnswlib-dev
gobject-introspection
libgirepository1.0-dev
python3-gi
gi-docgen
valgrind
clang
libclang-rt-14-dev
valac
gjs
lua5.1
lua-lgi
curl
wrk
"

missing=""
for p in $packages; do
    if ! dpkg-query -W -f '${Status}' "$p" 2>/dev/null | grep -q "ok installed"; then
        missing="$missing $p"
    fi
done

if [ -z "$missing" ]; then
    echo "stache: all build and test dependencies are installed"
    exit 0
fi

if [ "$(id -u)" -eq 0 ]; then
    sudo=""
else
    sudo="sudo"
fi

echo "stache: installing:$missing"
$sudo env DEBIAN_FRONTEND=noninteractive apt-get update -qq
# shellcheck disable=SC2086
$sudo env DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends $missing

# py_namespaces.py: an example namespace registry written in Python
#
# SPDX-License-Identifier: LGPL-2.1-or-later
"""A namespace registry in a JSON file.

Namespaces group documents ("research", "research/papers"); a "/" makes a
hierarchy. This registry keeps each namespace's name, description,
creation time and metadata, and follows the contract every namespace
provider follows:

- create_namespace refuses a name that exists (Stache.Error.EXISTS);
- get_namespace and delete_namespace of an unknown name fail with
  Stache.Error.NOT_FOUND: raise a GLib.Error in Stache's domain, as below,
  so callers can tell "not found" from other failures;
- list_namespaces(None) lists all, list_namespaces(parent) the direct
  children of parent, sorted by name;
- delete_namespace refuses a namespace with children unless cascade is
  true, which deletes the children too (Stache.Error.NOT_EMPTY).

Stache checks names before a provider sees them (valid UTF-8, no empty
path segments).

Settings:

  py_namespaces_path   PY_NAMESPACES_PATH   the JSON file; default
                       $XDG_DATA_HOME/stache/py-namespaces.json; the value
                       ":memory:" keeps the registry in memory only

Install: copy this folder (py-namespaces/) into ~/.local/share/stache/plugins/
(or a folder listed in STACHE_PLUGIN_PATH), then select it:

  NAMESPACE_PROVIDER=py-namespaces stache namespaces create research -d "Papers"
"""

import json
import os
import tempfile
import threading
import time

import gi

gi.require_version("Json", "1.0")
gi.require_version("Stache", "1.0")
from gi.repository import GLib, Json, Stache  # noqa: E402


def fail(code, message):
    return GLib.Error.new_literal(Stache.error_quark(), message, int(code))


class PyNamespaces(Stache.Provider, Stache.NamespaceProvider):
    """Namespaces: do_create_namespace, do_get_namespace, do_list_namespaces, do_delete_namespace."""

    __gtype_name__ = "PyExampleNamespaces"

    def __init__(self, **kwargs):
        super().__init__(**kwargs)
        self._lock = threading.Lock()   # calls may come from worker threads
        self._entries = None            # name -> {"description", "created", "metadata"}
        self._path = None

    def _load(self):
        if self._entries is not None:
            return
        settings = self.get_settings() or Stache.Settings.new()
        path = settings.get_string("py_namespaces_path", None)
        if not path:
            path = os.path.join(GLib.get_user_data_dir(), "stache", "py-namespaces.json")
        self._path = None if path == ":memory:" else path
        self._entries = {}
        if self._path is not None and os.path.exists(self._path):
            try:
                with open(self._path, encoding="utf-8") as f:
                    self._entries = json.load(f)["namespaces"]
            except (OSError, ValueError, KeyError) as e:
                self._entries = None
                raise fail(Stache.Error.FAILED, "Cannot read the namespace registry %s: %s" % (path, e))

    def _save(self):
        if self._path is None:
            return
        folder = os.path.dirname(self._path) or "."
        os.makedirs(folder, exist_ok=True)
        fd, tmp = tempfile.mkstemp(dir=folder, prefix=".py-namespaces-")
        with os.fdopen(fd, "w", encoding="utf-8") as f:
            json.dump({"version": 1, "namespaces": self._entries}, f)
        os.replace(tmp, self._path)   # all or nothing

    def _namespace(self, name):
        entry = self._entries[name]
        namespace = Stache.Namespace.new(name)
        # setters, not props: PyGObject 3.42 leaks strings set through props
        namespace.set_description(entry["description"])
        namespace.set_created(entry["created"])
        if entry["metadata"] is not None:
            namespace.set_metadata(Json.from_string(entry["metadata"]).get_object())
        return namespace

    def do_create_namespace(self, name, description, metadata, cancellable):
        with self._lock:
            self._load()
            if name in self._entries:
                raise fail(Stache.Error.EXISTS, "The namespace “%s” already exists" % name)
            self._entries[name] = {
                "description": description,
                "created": int(time.time()),
                "metadata": (Json.to_string(Json.Node.alloc().init_object(metadata), False)
                             if metadata is not None else None),
            }
            self._save()
            return self._namespace(name)

    def do_get_namespace(self, name, cancellable):
        with self._lock:
            self._load()
            if name not in self._entries:
                raise fail(Stache.Error.NOT_FOUND, "There is no namespace “%s”" % name)
            return self._namespace(name)

    def do_list_namespaces(self, parent, cancellable):
        with self._lock:
            self._load()
            names = sorted(self._entries)
            if parent is not None:
                prefix = parent + "/"
                # direct children only: nothing after the prefix holds a "/"
                names = [n for n in names if n.startswith(prefix) and "/" not in n[len(prefix):]]
            return [self._namespace(n) for n in names]   # a plain list: Stache owns it

    def do_delete_namespace(self, name, cascade, cancellable):
        with self._lock:
            self._load()
            if name not in self._entries:
                raise fail(Stache.Error.NOT_FOUND, "There is no namespace “%s”" % name)
            children = [n for n in self._entries if n.startswith(name + "/")]
            if children and not cascade:
                raise fail(Stache.Error.NOT_EMPTY,
                           "The namespace “%s” holds %d other namespaces; delete with cascade "
                           "to delete them as well" % (name, len(children)))
            for n in [name] + children:
                del self._entries[n]
            self._save()
            return True

# py_vectordb.py: an example vector database provider written in Python
#
# SPDX-License-Identifier: LGPL-2.1-or-later
"""A vector database in a JSON file: exact cosine search over every row.

Chunks, their vectors and metadata live in a Python dict, saved to one
JSON file after each change (written to a temporary file, then renamed,
so a crash leaves the old file or the new one). Search compares the query
with every stored vector (cosine similarity, best first); filters use
Stache's own filter syntax through Stache.filter_matches(), so this
plugin does not parse them itself. It also offers keyword search (how
many of the query's words a chunk contains), which makes Stache's hybrid
search fuse both lists.

Good for a few thousand chunks; every change rewrites the whole file.

Settings:

  py_vectordb_path   PY_VECTORDB_PATH   the JSON file; default
                     $XDG_DATA_HOME/stache/py-vectordb.json
                     (~/.local/share/stache/py-vectordb.json); the value
                     ":memory:" keeps everything in memory only

Documented failure: all vectors of one namespace have one length. Inserting
or searching with a vector of another length (say after changing the
embedder's dimensions) fails with a GLib.Error (Stache.Error.INVALID_ARGUMENT)
that says "vectors of N values ... holds vectors of M values".

Install: copy this folder (py-vectordb/) into ~/.local/share/stache/plugins/
(or a folder listed in STACHE_PLUGIN_PATH), then select it:

  VECTORDB_PROVIDER=py-vectordb stache ingest ~/Notes
"""

import json
import math
import os
import re
import tempfile
import threading

import gi

gi.require_version("Json", "1.0")
gi.require_version("Stache", "1.0")
from gi.repository import GLib, Json, Stache  # noqa: E402

WORD = re.compile(r"\w+", re.UNICODE)


def fail(code, message):
    """A GLib.Error in Stache's domain: Stache hands it to the caller as is."""
    return GLib.Error.new_literal(Stache.error_quark(), message, int(code))


def json_object_to_text(obj):
    if obj is None:
        return None
    return Json.to_string(Json.Node.alloc().init_object(obj), False)


def json_object_from_text(text):
    if text is None:
        return None
    return Json.from_string(text).get_object()


def cosine(a, b):
    dot = sum(x * y for x, y in zip(a, b))
    na = math.sqrt(sum(x * x for x in a))
    nb = math.sqrt(sum(y * y for y in b))
    return dot / (na * nb) if na and nb else 0.0


class PyVectorDb(Stache.Provider, Stache.VectorDbProvider):
    """Vector DB: do_insert, do_search, do_delete_chunks, do_count, and the optional
    do_keyword_search and do_get_capabilities."""

    __gtype_name__ = "PyExampleVectorDb"

    def __init__(self, **kwargs):
        super().__init__(**kwargs)
        # Stache calls providers from worker threads (the async methods
        # run the sync ones in threads): one lock guards the rows.
        self._lock = threading.Lock()
        self._rows = None     # namespace -> {chunk id -> row}; loaded on first use
        self._path = None

    # ---- storage ----

    def _load(self):
        """Reads the JSON file once; called with the lock held."""
        if self._rows is not None:
            return
        settings = self.get_settings() or Stache.Settings.new()
        path = settings.get_string("py_vectordb_path", None)
        if not path:
            path = os.path.join(GLib.get_user_data_dir(), "stache", "py-vectordb.json")
        self._path = None if path == ":memory:" else path
        self._rows = {}
        if self._path is None or not os.path.exists(self._path):
            return
        try:
            with open(self._path, encoding="utf-8") as f:
                saved = json.load(f)
            for namespace, rows in saved["namespaces"].items():
                for row in rows.values():
                    row["metadata_object"] = json_object_from_text(row.get("metadata"))
                self._rows[namespace] = rows
        except (OSError, ValueError, KeyError, GLib.Error) as e:
            self._rows = None
            raise fail(Stache.Error.FAILED, "Cannot read the vector database %s: %s" % (path, e))

    def _save(self):
        """Writes the JSON file; called with the lock held."""
        if self._path is None:
            return
        saved = {"version": 1, "namespaces": {
            ns: {cid: {k: v for k, v in row.items() if k != "metadata_object"}
                 for cid, row in rows.items()}
            for ns, rows in self._rows.items()}}
        folder = os.path.dirname(self._path) or "."
        os.makedirs(folder, exist_ok=True)
        fd, tmp = tempfile.mkstemp(dir=folder, prefix=".py-vectordb-")
        try:
            with os.fdopen(fd, "w", encoding="utf-8") as f:
                json.dump(saved, f)
            os.replace(tmp, self._path)
        except OSError as e:
            os.unlink(tmp)
            raise fail(Stache.Error.FAILED, "Cannot write the vector database %s: %s" % (self._path, e))

    def _check_length(self, namespace, length):
        for row in self._rows.get(namespace, {}).values():
            if len(row["vector"]) != length:
                raise fail(Stache.Error.INVALID_ARGUMENT,
                           "py-vectordb: vectors of %d values given, but namespace “%s” holds "
                           "vectors of %d values; use one embedder per namespace"
                           % (length, namespace, len(row["vector"])))
            return

    def _namespaces(self, namespace):
        if namespace is None:
            return list(self._rows.items())
        return [(namespace, self._rows.get(namespace, {}))]

    def _result(self, namespace, row, score):
        result = Stache.SearchResult.new(row["id"], row["text"], score)
        # Setters, not result.props.x = …: PyGObject 3.42 leaks strings
        # assigned through props. Each result gets its own metadata
        # object, so callers in other threads never share one.
        result.set_document_id(row["document_id"])
        result.set_namespace(namespace)
        result.set_metadata(json_object_from_text(row.get("metadata")))
        return result

    # ---- the interface ----

    def do_get_capabilities(self):
        return ["vector_search", "metadata_filter", "keyword_search", "namespaces"]

    def do_insert(self, namespace, chunks, vectors, cancellable):
        # Stache has checked that vectors holds len(chunks) rows of finite
        # floats, one row per chunk.
        namespace = namespace or "default"
        dims = len(vectors) // len(chunks)
        with self._lock:
            self._load()
            self._check_length(namespace, dims)
            rows = self._rows.setdefault(namespace, {})
            for i, chunk in enumerate(chunks):
                metadata = json_object_to_text(chunk.get_metadata())
                rows[chunk.get_id()] = {
                    "id": chunk.get_id(),
                    "document_id": chunk.get_document_id(),
                    "text": chunk.get_text(),
                    "metadata": metadata,
                    # a private parsed copy, only read, for filters
                    "metadata_object": json_object_from_text(metadata),
                    "vector": list(vectors[i * dims:(i + 1) * dims]),
                }
            self._save()
        return True

    def do_search(self, namespace, query, top_k, filter, cancellable):
        query = list(query)
        hits = []
        with self._lock:
            self._load()
            for ns, rows in self._namespaces(namespace):
                if namespace is not None:
                    self._check_length(ns, len(query))
                for row in rows.values():
                    if len(row["vector"]) != len(query):
                        continue    # another embedder's namespace, when searching all
                    if not Stache.filter_matches(filter, row["document_id"], row["metadata_object"]):
                        continue
                    hits.append((cosine(query, row["vector"]), ns, row))
        hits.sort(key=lambda hit: hit[0], reverse=True)
        return [self._result(ns, row, score) for score, ns, row in hits[:top_k]]

    def do_keyword_search(self, namespace, query, top_k, filter, cancellable):
        wanted = set(WORD.findall(query.lower()))
        hits = []
        with self._lock:
            self._load()
            for ns, rows in self._namespaces(namespace):
                for row in rows.values():
                    words = WORD.findall(row["text"].lower())
                    if not words:
                        continue
                    matches = sum(1 for w in words if w in wanted)
                    distinct = len(wanted.intersection(words))
                    if distinct == 0:
                        continue
                    if not Stache.filter_matches(filter, row["document_id"], row["metadata_object"]):
                        continue
                    # distinct query words first, then their density
                    hits.append((distinct + matches / len(words), ns, row))
        hits.sort(key=lambda hit: hit[0], reverse=True)
        return [self._result(ns, row, score) for score, ns, row in hits[:top_k]]

    def do_delete_chunks(self, namespace, ids, filter, cancellable):
        # Stache refuses a call with neither ids nor a filter; with both,
        # a chunk must match both.
        wanted = set(ids) if ids else None
        deleted = 0
        with self._lock:
            self._load()
            for ns, rows in self._namespaces(namespace):
                for chunk_id in list(rows):
                    row = rows[chunk_id]
                    if wanted is not None and chunk_id not in wanted:
                        continue
                    if not Stache.filter_matches(filter, row["document_id"], row["metadata_object"]):
                        continue
                    del rows[chunk_id]
                    deleted += 1
                if not rows:
                    self._rows.pop(ns, None)
            if deleted:
                self._save()
        return deleted

    def do_count(self, namespace, cancellable):
        with self._lock:
            self._load()
            return sum(len(rows) for _, rows in self._namespaces(namespace))

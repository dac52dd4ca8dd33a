# py_document_index.py: an example document index written in Python
#
# SPDX-License-Identifier: LGPL-2.1-or-later
"""A document index in a JSON file.

For every document it ingests, StacheStore records a Stache.Document: its
id, namespace, source, title, media type, content hash, size, number of
chunks, times, summary and metadata. The store relies on this index to
tell new documents from unchanged ones (same content hash: nothing to
do) and replaced ones, and to list and delete documents.

The contract every document index follows:

- index_document adds a document, or replaces the one with the same id;
- get_document of an unknown id fails with Stache.Error.NOT_FOUND (raise
  a GLib.Error in Stache's domain, as below): the store treats exactly
  that error as "not ingested yet", and any other error as a failure;
- list_documents(None) lists all documents, list_documents(namespace)
  those of one namespace;
- delete_document of an unknown id fails with Stache.Error.NOT_FOUND.

Settings:

  py_document_index_path   PY_DOCUMENT_INDEX_PATH   the JSON file; default
                           $XDG_DATA_HOME/stache/py-document-index.json;
                           ":memory:" keeps the index in memory only

Install: copy this folder (py-document-index/) into
~/.local/share/stache/plugins/ (or a folder listed in STACHE_PLUGIN_PATH),
then select it:

  DOCUMENT_INDEX_PROVIDER=py-document-index stache documents list
"""

import json
import os
import tempfile
import threading

import gi

gi.require_version("Json", "1.0")
gi.require_version("Stache", "1.0")
from gi.repository import GLib, Json, Stache  # noqa: E402

# The Stache.Document properties kept, with their types in JSON.
TEXT_FIELDS = ("namespace", "source", "title", "media_type", "content_hash", "summary")
NUMBER_FIELDS = ("size", "chunk_count", "created", "updated")


def fail(code, message):
    return GLib.Error.new_literal(Stache.error_quark(), message, int(code))


def document_to_entry(document):
    entry = {field: getattr(document, "get_" + field)() for field in TEXT_FIELDS + NUMBER_FIELDS}
    metadata = document.get_metadata()
    entry["metadata"] = (Json.to_string(Json.Node.alloc().init_object(metadata), False)
                         if metadata is not None else None)
    return entry


def entry_to_document(doc_id, entry):
    document = Stache.Document.new(doc_id)
    # setters, not props: PyGObject 3.42 leaks strings set through props
    for field in TEXT_FIELDS + NUMBER_FIELDS:
        if entry.get(field) is not None:
            getattr(document, "set_" + field)(entry[field])
    if entry.get("metadata") is not None:
        document.set_metadata(Json.from_string(entry["metadata"]).get_object())
    return document


class PyDocumentIndex(Stache.Provider, Stache.DocumentIndexProvider):
    """Document index: do_index_document, do_get_document, do_list_documents, do_delete_document."""

    __gtype_name__ = "PyExampleDocumentIndex"

    def __init__(self, **kwargs):
        super().__init__(**kwargs)
        self._lock = threading.Lock()   # calls may come from worker threads
        self._entries = None            # document id -> dict of fields
        self._path = None

    def _load(self):
        if self._entries is not None:
            return
        settings = self.get_settings() or Stache.Settings.new()
        path = settings.get_string("py_document_index_path", None)
        if not path:
            path = os.path.join(GLib.get_user_data_dir(), "stache", "py-document-index.json")
        self._path = None if path == ":memory:" else path
        self._entries = {}
        if self._path is not None and os.path.exists(self._path):
            try:
                with open(self._path, encoding="utf-8") as f:
                    self._entries = json.load(f)["documents"]
            except (OSError, ValueError, KeyError) as e:
                self._entries = None
                raise fail(Stache.Error.FAILED, "Cannot read the document index %s: %s" % (path, e))

    def _save(self):
        if self._path is None:
            return
        folder = os.path.dirname(self._path) or "."
        os.makedirs(folder, exist_ok=True)
        fd, tmp = tempfile.mkstemp(dir=folder, prefix=".py-document-index-")
        with os.fdopen(fd, "w", encoding="utf-8") as f:
            json.dump({"version": 1, "documents": self._entries}, f)
        os.replace(tmp, self._path)   # all or nothing

    def do_index_document(self, document, cancellable):
        with self._lock:
            self._load()
            self._entries[document.get_id()] = document_to_entry(document)
            self._save()
        return True

    def do_get_document(self, doc_id, cancellable):
        with self._lock:
            self._load()
            if doc_id not in self._entries:
                raise fail(Stache.Error.NOT_FOUND, "There is no document “%s”" % doc_id)
            return entry_to_document(doc_id, self._entries[doc_id])

    def do_list_documents(self, namespace, cancellable):
        with self._lock:
            self._load()
            return [entry_to_document(doc_id, entry)   # a plain list: Stache owns it
                    for doc_id, entry in sorted(self._entries.items())
                    if namespace is None or entry.get("namespace") == namespace]

    def do_delete_document(self, doc_id, cancellable):
        with self._lock:
            self._load()
            if doc_id not in self._entries:
                raise fail(Stache.Error.NOT_FOUND, "There is no document “%s”" % doc_id)
            del self._entries[doc_id]
            self._save()
        return True

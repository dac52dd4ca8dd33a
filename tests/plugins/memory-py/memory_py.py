# memory_py.py: an in-memory vector database plugin in Python
#
# SPDX-License-Identifier: LGPL-2.1-or-later
#
# Like the seed's Milvus example, but storing in memory: the smallest
# complete vector database provider, used by the tests to prove Python
# plugins are discovered, created through the factory and called through
# the StacheVectorDbProvider interface.

import math
import threading

import gi

gi.require_version("Stache", "1.0")
from gi.repository import GObject, Stache  # noqa: E402


class MemoryVectorDb(Stache.Provider, Stache.VectorDbProvider):
    __gtype_name__ = "MemoryPyVectorDb"

    def __init__(self, **kwargs):
        super().__init__(**kwargs)
        self._lock = threading.Lock()
        self._rows = {}  # (namespace, id) -> dict
        # The natural pattern: read the settings in __init__ (the tests
        # check they are there already)
        settings = self.get_settings()
        self.label_in_init = settings.get_string("memory_py_label", "unset") if settings else None

    def do_insert(self, namespace, chunks, vectors, cancellable):
        namespace = namespace or "default"
        dims = len(vectors) // len(chunks)
        with self._lock:
            for i, chunk in enumerate(chunks):
                self._rows[(namespace, chunk.props.id)] = {
                    "id": chunk.props.id,
                    "document_id": chunk.props.document_id,
                    "text": chunk.props.text,
                    "metadata": chunk.props.metadata,
                    "vector": list(vectors[i * dims:(i + 1) * dims]),
                }
        return True

    def do_search(self, namespace, query, top_k, filter, cancellable):
        def cosine(a, b):
            dot = sum(x * y for x, y in zip(a, b))
            na = math.sqrt(sum(x * x for x in a))
            nb = math.sqrt(sum(y * y for y in b))
            return dot / (na * nb) if na and nb else 0.0

        hits = []
        with self._lock:
            for (ns, _), row in self._rows.items():
                if namespace is not None and ns != namespace:
                    continue
                if not Stache.filter_matches(filter, row["document_id"], row["metadata"]):
                    continue
                result = Stache.SearchResult.new(row["id"], row["text"],
                                                 cosine(query, row["vector"]))
                # Setters rather than result.props.x = …: PyGObject 3.42
                # leaks a copy of every string assigned through .props.
                result.set_document_id(row["document_id"])
                result.set_namespace(ns)
                result.set_metadata(row["metadata"])
                hits.append(result)
        hits.sort(key=lambda r: r.props.score, reverse=True)
        return hits[:top_k]

    def do_delete_chunks(self, namespace, ids, filter, cancellable):
        deleted = 0
        with self._lock:
            for key in list(self._rows):
                ns, chunk_id = key
                row = self._rows[key]
                if namespace is not None and ns != namespace:
                    continue
                if ids and chunk_id not in ids:
                    continue
                if not Stache.filter_matches(filter, row["document_id"], row["metadata"]):
                    continue
                del self._rows[key]
                deleted += 1
        return deleted

    def do_count(self, namespace, cancellable):
        with self._lock:
            return sum(1 for (ns, _) in self._rows if namespace is None or ns == namespace)

    def do_get_capabilities(self):
        return ["vector_search", "metadata_filter", "namespaces"]

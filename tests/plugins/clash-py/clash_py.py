# Declares the same provider name as the C test plugin (vectordb=memory-c):
# whichever folder comes first in the search path must win.
import gi

gi.require_version("Stache", "1.0")
from gi.repository import Stache  # noqa: E402


class ClashVectorDb(Stache.Provider, Stache.VectorDbProvider):
    __gtype_name__ = "ClashPyVectorDb"

    def do_insert(self, namespace, chunks, vectors, cancellable):
        return True

    def do_search(self, namespace, query, top_k, filter, cancellable):
        return []

    def do_delete_chunks(self, namespace, ids, filter, cancellable):
        return 0

    def do_count(self, namespace, cancellable):
        return 0

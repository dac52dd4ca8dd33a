# Declares reranker=py-broken-nointerface, and its class has a do_rerank
# method, but the class forgot Stache.RerankerProvider among its bases:
# nothing in the module implements the declared interface.
import gi

gi.require_version("Stache", "1.0")
from gi.repository import Stache  # noqa: E402


class ForgotTheInterface(Stache.Provider):
    __gtype_name__ = "PyBrokenForgotTheInterface"

    def do_rerank(self, query, results, top_k, cancellable):
        return results[:top_k]

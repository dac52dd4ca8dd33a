# py_embeddings.py: an example embeddings provider written in Python
#
# SPDX-License-Identifier: LGPL-2.1-or-later
"""Hashed bag-of-words embeddings, computed in-process.

Every word of a text (lower-cased, letters and digits) is hashed with
SHA-1 to one of N vector components, which counts it; the vector is then
scaled to length 1, so the cosine of two vectors is the dot product and
texts that share words get close vectors. No model, no download, and the
same text always gives the same vector in every process (Python's own
hash() changes between processes, SHA-1 does not).

It is an example to copy, not a good embedder: see the `hashing` plugin
for one that also uses word pairs and character n-grams.

Settings (environment variable, `[stache]` key in stache.conf, or
Stache.Settings.set_string() from code):

  py_embeddings_dimensions   PY_EMBEDDINGS_DIMENSIONS   vector length,
                             8 to 4096, default 256
  py_embeddings_batch_size   PY_EMBEDDINGS_BATCH_SIZE   most texts per
                             embed_batch call, 1 to 1024, default 32; Stache
                             splits longer lists and joins the vectors

A malformed or out-of-range value is refused with a GLib.Error naming the
setting when the provider is first used.

Install: copy this folder (py-embeddings/, holding py-embeddings.plugin and
py_embeddings.py) into ~/.local/share/stache/plugins/ (or a folder listed
in STACHE_PLUGIN_PATH), then select it:

  EMBEDDING_PROVIDER=py-embeddings stache ingest ~/Notes
"""

import hashlib
import math
import re

import gi

gi.require_version("Stache", "1.0")
from gi.repository import GLib, Stache  # noqa: E402

WORD = re.compile(r"\w+", re.UNICODE)

# Stache hands embed_batch at most this many bytes of text at once.
MAX_BATCH_BYTES = 256 * 1024


def words(text):
    return WORD.findall(text.lower())


class PyEmbeddings(Stache.Provider, Stache.EmbeddingProvider):
    """Embeddings: do_embed_batch, do_get_dimensions, do_get_batch_limits, do_get_model_id."""

    __gtype_name__ = "PyExampleEmbeddings"

    def _setting(self, key, default, low, high):
        # get_int_range raises a GLib.Error naming the key (and where its
        # value came from) when the value is malformed or out of range.
        settings = self.get_settings() or Stache.Settings.new()
        ok, value = settings.get_int_range(key, default, low, high)
        return value

    def _dimensions(self):
        return self._setting("py_embeddings_dimensions", 256, 8, 4096)

    def do_get_dimensions(self):
        # get_dimensions cannot fail; a bad setting is reported by the
        # first embed_batch call instead.
        try:
            return self._dimensions()
        except GLib.Error:
            return 0

    def do_get_batch_limits(self):
        # (most texts, most bytes) one embed_batch call receives
        try:
            batch_size = self._setting("py_embeddings_batch_size", 32, 1, 1024)
        except GLib.Error:
            batch_size = 32
        return batch_size, MAX_BATCH_BYTES

    def do_get_model_id(self):
        # Changes whenever the same text would get another vector, so a
        # store re-embeds its documents after a change of dimensions.
        return "py-embeddings:sha1-bow:%d" % self.do_get_dimensions()

    def do_embed_batch(self, texts, cancellable):
        dimensions = self._dimensions()
        rows = []
        for text in texts:
            vector = [0.0] * dimensions
            for word in words(text):
                digest = hashlib.sha1(word.encode("utf-8")).digest()
                vector[int.from_bytes(digest[:4], "little") % dimensions] += 1.0
            norm = math.sqrt(sum(x * x for x in vector))
            if norm > 0:
                vector = [x / norm for x in vector]
            # One flat list: the rows one after another.
            rows.extend(vector)
        return rows

# py_reranker.py: an example reranker written in Python
#
# SPDX-License-Identifier: LGPL-2.1-or-later
"""Reorders search results by how many of the query's words they contain.

Each result's new score is the share of the query's distinct words found
in its text, plus a small part of the score search gave it, so results
that tie on words keep their order:

    score = overlap + keep_score * original score

Stache hands a reranker copies of the results: setting their scores does
not touch the caller's objects. A reranker returns them best first, at
most top_k of them.

Settings:

  py_reranker_keep_score   PY_RERANKER_KEEP_SCORE   how much of the
                           original score is kept, 0 to 1, default 0.1

Install: copy this folder (py-reranker/) into ~/.local/share/stache/plugins/
(or a folder listed in STACHE_PLUGIN_PATH), then select it:

  RERANKER_PROVIDER=py-reranker stache search "feeding a sourdough starter"
"""

import re

import gi

gi.require_version("Stache", "1.0")
from gi.repository import GLib, Stache  # noqa: E402

WORD = re.compile(r"\w+", re.UNICODE)


def words(text):
    return set(WORD.findall((text or "").lower()))


class PyReranker(Stache.Provider, Stache.RerankerProvider):
    """Reranker: do_rerank (query, results, top_k, cancellable) -> list, best first."""

    __gtype_name__ = "PyExampleReranker"

    def _keep_score(self):
        settings = self.get_settings() or Stache.Settings.new()
        keep = settings.get_double("py_reranker_keep_score", 0.1)
        if not 0.0 <= keep <= 1.0:
            raise GLib.Error.new_literal(
                Stache.error_quark(),
                "Setting “py_reranker_keep_score” must be between 0 and 1, not %g" % keep,
                int(Stache.Error.INVALID_SETTING))
        return keep

    def do_rerank(self, query, results, top_k, cancellable):
        keep = self._keep_score()
        wanted = words(query)
        scored = []
        for position, result in enumerate(results):
            have = words(result.get_text())
            overlap = len(wanted & have) / len(wanted) if wanted else 0.0
            result.set_score(overlap + keep * result.get_score())
            # position breaks ties: equal scores keep search's order
            scored.append((-result.get_score(), position, result))
        scored.sort(key=lambda item: item[:2])
        return [result for _, _, result in scored[:top_k]]

# test_live.py: the remote providers against real services.
#
# Each group runs only when its variables are set, and says why it skips
# otherwise (with none set at all, the suite reports SKIP to meson):
#
#   STACHE_TEST_OLLAMA_URL        an Ollama server, e.g. http://localhost:11434
#     STACHE_TEST_OLLAMA_MODEL (llama3.2), STACHE_TEST_OLLAMA_EMBEDDING_MODEL
#     (nomic-embed-text): models already pulled there
#   STACHE_TEST_OPENAI_API_KEY    OpenAI, or any server STACHE_TEST_OPENAI_BASE_URL
#     names (llama.cpp, vLLM …; then the key may be "none");
#     STACHE_TEST_OPENAI_MODEL, STACHE_TEST_OPENAI_EMBEDDING_MODEL
#   STACHE_TEST_ANTHROPIC_API_KEY Anthropic; STACHE_TEST_ANTHROPIC_MODEL
#   STACHE_TEST_QDRANT_URL        a Qdrant server (STACHE_TEST_QDRANT_API_KEY);
#     uses, then deletes, a collection named stache_live_<pid>
#   STACHE_TEST_COHERE_API_KEY    Cohere (or STACHE_TEST_COHERE_API=jina|tei
#     with STACHE_TEST_COHERE_URL)
#
# The checks are those the protocol tests make against in-process servers:
# a round trip, streaming (pieces join to the answer), a batch split across
# requests with order kept, a refused request that is not retried or
# fallen back from, cancellation, and no key in any error.
#
# SPDX-License-Identifier: LGPL-2.1-or-later

import math
import os
import shutil
import sys
import unittest
import urllib.request

sys.path.insert(0, os.path.dirname(__file__))
import stache_test_env  # noqa: E402

LIVE = {k: v for k, v in os.environ.items() if k.startswith("STACHE_TEST_") and
        k.split("_")[2] in ("OLLAMA", "OPENAI", "ANTHROPIC", "QDRANT", "COHERE") and v}

if not LIVE:
    print("SKIP: no live service configured; set STACHE_TEST_OLLAMA_URL, "
          "STACHE_TEST_OPENAI_API_KEY, STACHE_TEST_ANTHROPIC_API_KEY, STACHE_TEST_QDRANT_URL "
          "or STACHE_TEST_COHERE_API_KEY to run these tests (see README)", file=sys.stderr)
    sys.exit(77)

TMP, ENV = stache_test_env.isolated_environment()
os.environ.clear()
os.environ.update(ENV)
os.environ["STACHE_PLUGIN_PATH"] = os.environ["STACHE_TEST_BUILTIN_PLUGINS"]

import gi  # noqa: E402

gi.require_version("Stache", "1.0")
gi.require_version("Json", "1.0")
from gi.repository import Gio, GLib, Json, Stache  # noqa: E402

TEXTS = ["Sea stars pry open mussels with their tube feet.",
         "A sourdough starter kept in the refrigerator needs feeding once a week.",
         "Varroa mites are the main threat to honey bee colonies.",
         "Chain lubrication keeps a bicycle drivetrain quiet.",
         "Write-ahead logging lets SQLite readers run beside one writer."]


def live(name):
    return LIVE.get("STACHE_TEST_" + name)


def settings(**values):
    s = Stache.Settings.new_from_file(None)
    values.setdefault("http_timeout", "120")
    for key, value in values.items():
        if value is not None:
            s.set_string(key, value)
    return s


def cosine(a, b):
    dot = sum(x * y for x, y in zip(a, b))
    return dot / (math.sqrt(sum(x * x for x in a)) * math.sqrt(sum(y * y for y in b)))


class LiveChecks:
    """Checks shared by every LLM and embeddings service."""

    secret = None

    def assertNoSecret(self, text):
        if self.secret and self.secret != "none":
            self.assertNotIn(self.secret, text)

    def check_llm(self, llm):
        completion = llm.generate("Reply with the single word: pong", None, None, None)
        self.assertIn("pong", completion.get_text().lower())
        tokens = []
        streamed = llm.generate_stream("Count from one to five in words.", None, None,
                                       lambda t, *rest: tokens.append(t), None)
        self.assertEqual("".join(tokens), streamed.get_text())
        if llm.has_capability("streaming"):
            self.assertGreater(len(tokens), 1)
        cancellable = Gio.Cancellable()
        cancellable.cancel()
        with self.assertRaises(GLib.Error) as caught:
            llm.generate("Hello", None, None, cancellable)
        self.assertTrue(caught.exception.matches(Gio.io_error_quark(), Gio.IOErrorEnum.CANCELLED))

    def check_unknown_model(self, llm):
        options = Json.from_string('{"model": "stache-no-such-model"}').get_object()
        with self.assertRaises(GLib.Error) as caught:
            llm.generate("Hello", None, options, None)
        self.assertTrue(caught.exception.matches(Stache.http_error_quark(), Stache.HttpError.CLIENT),
                        caught.exception.message)
        self.assertNoSecret(caught.exception.message)

    def check_embedder(self, make):
        whole = make(None)
        split = make("2")
        a = list(whole.embed_batch(TEXTS, None))
        b = list(split.embed_batch(TEXTS, None))
        dims = whole.get_dimensions()
        self.assertGreater(dims, 0)
        self.assertEqual(len(a), dims * len(TEXTS))
        self.assertEqual(len(b), len(a))
        for i in range(len(TEXTS)):
            self.assertGreater(cosine(a[i * dims:(i + 1) * dims], b[i * dims:(i + 1) * dims]), 0.99)
        # each text nearest to itself: the rows are in order
        for i in range(len(TEXTS)):
            row = a[i * dims:(i + 1) * dims]
            sims = [cosine(row, b[j * dims:(j + 1) * dims]) for j in range(len(TEXTS))]
            self.assertEqual(sims.index(max(sims)), i)


@unittest.skipUnless(live("OLLAMA_URL"), "STACHE_TEST_OLLAMA_URL is not set")
class OllamaLive(unittest.TestCase, LiveChecks):
    def base(self, **more):
        return settings(ollama_url=live("OLLAMA_URL"), ollama_model=live("OLLAMA_MODEL"),
                        ollama_embedding_model=live("OLLAMA_EMBEDDING_MODEL"),
                        llm_provider="ollama", embedding_provider="ollama", **more)

    def test_llm(self):
        self.check_llm(Stache.LlmProvider.create(self.base()))

    def test_unknown_model(self):
        self.check_unknown_model(Stache.LlmProvider.create(self.base()))

    def test_embeddings(self):
        self.check_embedder(lambda n: Stache.EmbeddingProvider.create(self.base(ollama_batch_size=n)))


@unittest.skipUnless(live("OPENAI_API_KEY"), "STACHE_TEST_OPENAI_API_KEY is not set")
class OpenaiLive(unittest.TestCase, LiveChecks):
    secret = live("OPENAI_API_KEY")

    def base(self, **more):
        key = None if self.secret == "none" else self.secret
        return settings(openai_base_url=live("OPENAI_BASE_URL"), openai_api_key=key,
                        openai_model=live("OPENAI_MODEL"),
                        openai_embedding_model=live("OPENAI_EMBEDDING_MODEL"),
                        llm_provider="openai", embedding_provider="openai", **more)

    def test_llm(self):
        self.check_llm(Stache.LlmProvider.create(self.base()))

    def test_unknown_model(self):
        self.check_unknown_model(Stache.LlmProvider.create(self.base()))

    def test_embeddings(self):
        self.check_embedder(lambda n: Stache.EmbeddingProvider.create(self.base(openai_batch_size=n)))

    def test_wrong_key(self):
        if self.secret == "none":
            self.skipTest("the server takes no key")
        llm = Stache.LlmProvider.create(self.base(openai_api_key="sk-stache-wrong-key-0000"))
        with self.assertRaises(GLib.Error) as caught:
            llm.generate("Hello", None, None, None)
        self.assertTrue(caught.exception.matches(Stache.http_error_quark(), Stache.HttpError.CLIENT))
        self.assertNotIn("sk-stache-wrong-key-0000", caught.exception.message)


@unittest.skipUnless(live("ANTHROPIC_API_KEY"), "STACHE_TEST_ANTHROPIC_API_KEY is not set")
class AnthropicLive(unittest.TestCase, LiveChecks):
    secret = live("ANTHROPIC_API_KEY")

    def base(self, **more):
        return settings(anthropic_api_key=self.secret, anthropic_model=live("ANTHROPIC_MODEL"),
                        llm_provider="anthropic", **more)

    def test_llm(self):
        self.check_llm(Stache.LlmProvider.create(self.base()))

    def test_unknown_model(self):
        self.check_unknown_model(Stache.LlmProvider.create(self.base()))

    def test_fallback_after_unknown_model_does_not_move_on(self):
        llm = Stache.LlmProvider.create(self.base(
            llm_provider="fallback", llm_fallback_providers="anthropic,extractive",
            anthropic_model="stache-no-such-model"))
        with self.assertRaises(GLib.Error) as caught:
            llm.generate("Hello", None, None, None)
        self.assertTrue(caught.exception.matches(Stache.http_error_quark(), Stache.HttpError.CLIENT))


@unittest.skipUnless(live("QDRANT_URL"), "STACHE_TEST_QDRANT_URL is not set")
class QdrantLive(unittest.TestCase):
    collection = "stache_live_%d" % os.getpid()

    @classmethod
    def tearDownClass(cls):
        request = urllib.request.Request(live("QDRANT_URL").rstrip("/") + "/collections/" + cls.collection,
                                         method="DELETE")
        if live("QDRANT_API_KEY"):
            request.add_header("api-key", live("QDRANT_API_KEY"))
        try:
            urllib.request.urlopen(request, timeout=30).read()
        except OSError as error:
            print("could not delete collection %s: %s" % (cls.collection, error), file=sys.stderr)

    def test_pipeline(self):
        s = settings(vectordb_provider="qdrant", qdrant_url=live("QDRANT_URL"),
                     qdrant_api_key=live("QDRANT_API_KEY"), qdrant_collection=self.collection,
                     sqlite_path=os.path.join(TMP, "live.db"))
        store = Stache.Store.new(s)
        samples = Gio.File.new_for_path(os.environ["STACHE_TEST_SAMPLES"])
        results = store.ingest_directory(samples, "notes", None, None, None)
        self.assertEqual([r.get_outcome() for r in results], [Stache.IngestOutcome.ADDED] * 7)
        chunks = store.count_chunks("notes", None)
        self.assertGreater(chunks, 7)
        hits = store.search("varroa mites colony treatment", "notes", 3, None)
        self.assertTrue(hits[0].get_metadata().get_string_member("source").endswith("beekeeping.txt"))
        self.assertTrue(store.delete_document(results[0].get_document_id(), None))
        self.assertLess(store.count_chunks("notes", None), chunks)


@unittest.skipUnless(live("COHERE_API_KEY") or live("COHERE_URL"),
                     "STACHE_TEST_COHERE_API_KEY (or STACHE_TEST_COHERE_URL) is not set")
class CohereLive(unittest.TestCase):
    def test_rerank(self):
        s = settings(reranker_provider="cohere", cohere_api_key=live("COHERE_API_KEY"),
                     cohere_url=live("COHERE_URL"), cohere_api=live("COHERE_API"),
                     cohere_max_documents="2")
        reranker = Stache.RerankerProvider.create(s)
        candidates = []
        for i, text in enumerate(TEXTS):
            result = Stache.SearchResult.new("c%d" % i, text, 0.0)
            candidates.append(result)
        ranked = reranker.rerank("What harms honey bees?", candidates, 3, None)
        self.assertEqual(len(ranked), 3)
        self.assertEqual(ranked[0].get_text(), TEXTS[2])


if __name__ == "__main__":
    print("live services: %s" % ", ".join(sorted(k for k in LIVE if not k.endswith("_KEY"))) or
          "keys only", file=sys.stderr)
    try:
        unittest.main(verbosity=2)
    finally:
        shutil.rmtree(TMP, ignore_errors=True)

# test_examples.py: the Python example plugins, found and used as a user would
#
# SPDX-License-Identifier: LGPL-2.1-or-later
#
# data/examples/plugins/python/ holds one example plugin per provider type. They
# are used straight from the source tree: STACHE_PLUGIN_PATH points at that
# folder (and at a folder of broken Python plugins, so both are listed by
# the same loader in the same process). Runs with /usr/bin/python3.

import os
import shutil
import sys
import unittest

sys.path.insert(0, os.path.dirname(__file__))
import stache_test_env  # noqa: E402

SOURCE_ROOT = os.path.abspath(os.path.join(os.path.dirname(__file__), "..", ".."))
EXAMPLES = os.path.join(SOURCE_ROOT, "data", "examples", "plugins", "python")
BROKEN_FIXTURES = ("py-broken-syntax", "py-broken-import", "py-broken-nointerface")

# The default plugin loader reads its search path once per process, so the
# environment is prepared before Stache is first used.
TMP, ENV = stache_test_env.isolated_environment()
os.environ.clear()
os.environ.update(ENV)
BROKEN = os.path.join(TMP, "broken-plugins")
for fixture in BROKEN_FIXTURES:
    stache_test_env.install_fixture(BROKEN, fixture)
os.environ["STACHE_PLUGIN_PATH"] = EXAMPLES + ":" + BROKEN

import gi  # noqa: E402

gi.require_version("Stache", "1.0")
from gi.repository import Gio, GLib, Stache  # noqa: E402

T = Stache.ProviderType
EXAMPLE_PROVIDERS = {
    "py-llm": (T.LLM, "PyExampleLlm"),
    "py-embeddings": (T.EMBEDDINGS, "PyExampleEmbeddings"),
    "py-vectordb": (T.VECTORDB, "PyExampleVectorDb"),
    "py-namespaces": (T.NAMESPACE, "PyExampleNamespaces"),
    "py-reranker": (T.RERANKER, "PyExampleReranker"),
    "py-document-index": (T.DOCUMENT_INDEX, "PyExampleDocumentIndex"),
}

# Questions about the sample notes, each with the note that answers it.
QUESTIONS = [
    ("When should the colony be treated against varroa mites?", "beekeeping.txt"),
    ("How often should the bicycle chain be oiled?", "bicycle-maintenance.txt"),
    ("What ratio of browns to greens goes into the compost heap?", "composting.md"),
    ("How often should a sourdough starter be fed?", "sourdough.md"),
    ("What does a WAL checkpoint copy back into the database file?", "sqlite-wal.md"),
    ("How do I collimate a Newtonian telescope?", "telescope.html"),
    ("Tyre pressure for road tyres in bar", "bicycle-maintenance.txt"),
    ("hooch grey liquid on a starter", "sourdough.md"),
]


def provider_infos():
    return Stache.PluginLoader.get_default().list_providers()


def info_named(name):
    found = [i for i in provider_infos() if i.get_name() == name]
    assert len(found) == 1, "%s listed %d times" % (name, len(found))
    return found[0]


def python_settings(name, **extra):
    """Settings selecting all six Python examples, their files under TMP/name."""
    settings = Stache.Settings.new()
    folder = os.path.join(TMP, name)
    for key, provider in (("llm_provider", "py-llm"), ("embedding_provider", "py-embeddings"),
                          ("vectordb_provider", "py-vectordb"),
                          ("namespace_provider", "py-namespaces"),
                          ("reranker_provider", "py-reranker"),
                          ("document_index_provider", "py-document-index")):
        settings.set_string(key, provider)
    settings.set_string("py_vectordb_path", os.path.join(folder, "vectors.json"))
    settings.set_string("py_namespaces_path", os.path.join(folder, "namespaces.json"))
    settings.set_string("py_document_index_path", os.path.join(folder, "documents.json"))
    for key, value in extra.items():
        settings.set_string(key, value)
    return settings


def source_of(result):
    return os.path.basename(result.get_metadata().get_string_member("source"))


def ingest_samples(store, namespace="notes"):
    samples = Gio.File.new_for_path(os.environ["STACHE_TEST_SAMPLES"])
    return store.ingest_directory(samples, namespace, None, None, None)


class DiscoveryTests(unittest.TestCase):
    def test_all_six_examples_are_loaded_by_the_python_loader(self):
        examples = {i.get_name(): i for i in provider_infos()
                    if i.get_folder() is not None and i.get_folder().startswith(EXAMPLES)}
        self.assertEqual(sorted(examples), sorted(EXAMPLE_PROVIDERS))
        for name, info in examples.items():
            with self.subTest(name=name):
                self.assertEqual(info.get_status(), Stache.ProviderStatus.LOADED,
                                 info.get_reason())
                self.assertIsNone(info.get_error())
                self.assertEqual(info.get_loader(), "python3")
                self.assertEqual(info.get_folder(), os.path.join(EXAMPLES, name))
                ok, provider_type = info.get_provider_type()
                self.assertTrue(ok)
                self.assertEqual(provider_type, EXAMPLE_PROVIDERS[name][0])

    def test_each_example_is_created_by_name(self):
        loader = Stache.PluginLoader.get_default()
        for name, (provider_type, type_name) in EXAMPLE_PROVIDERS.items():
            with self.subTest(name=name):
                self.assertIn(name, loader.get_available_providers(provider_type))
                provider = loader.create_provider(provider_type, name, python_settings("create"))
                self.assertEqual(type(provider).__gtype__.name, type_name)
                self.assertTrue(isinstance(provider, Stache.provider_type_get_interface(provider_type)
                                           .pytype))

    def test_embeddings_declare_batch_limits_and_dimensions(self):
        settings = Stache.Settings.new()
        settings.set_string("py_embeddings_dimensions", "64")
        settings.set_string("py_embeddings_batch_size", "3")
        embedder = Stache.PluginLoader.get_default().create_provider(
            T.EMBEDDINGS, "py-embeddings", settings)
        self.assertEqual(embedder.get_dimensions(), 64)
        self.assertEqual(tuple(embedder.get_batch_limits()), (3, 256 * 1024))
        self.assertEqual(embedder.get_model_id(), "py-embeddings:sha1-bow:64")
        # Seven texts in batches of three, joined in order by Stache.
        texts = ["text number %d" % i for i in range(7)]
        rows = embedder.embed_batch(texts, None)
        self.assertEqual(len(rows), 7 * 64)
        self.assertEqual(list(rows[6 * 64:]), list(embedder.embed(texts[6], None)))


class PipelineTests(unittest.TestCase):
    """One store with all six Python providers selected at once."""

    @classmethod
    def setUpClass(cls):
        cls.store = Stache.Store.new(python_settings("pipeline"))
        cls.ingested = ingest_samples(cls.store)

    def test_store_uses_the_python_providers(self):
        self.assertEqual({type(self.store.props.embedding_provider).__gtype__.name,
                          type(self.store.props.vector_db_provider).__gtype__.name,
                          type(self.store.props.namespace_provider).__gtype__.name,
                          type(self.store.props.reranker_provider).__gtype__.name,
                          type(self.store.props.document_index_provider).__gtype__.name},
                         {type_name for name, (_, type_name) in EXAMPLE_PROVIDERS.items()
                          if name != "py-llm"})

    def test_ingest_adds_every_sample(self):
        self.assertEqual(len(self.ingested), len(os.listdir(os.environ["STACHE_TEST_SAMPLES"])))
        for result in self.ingested:
            self.assertEqual(result.get_outcome(), Stache.IngestOutcome.ADDED, result.get_source())
        documents = self.store.list_documents("notes", None)
        self.assertEqual(len(documents), len(self.ingested))
        self.assertEqual(sum(d.get_chunk_count() for d in documents),
                         self.store.count_chunks("notes", None))

    def test_reingest_finds_documents_unchanged(self):
        again = ingest_samples(self.store)
        self.assertEqual({r.get_outcome() for r in again}, {Stache.IngestOutcome.UNCHANGED})

    def test_search_puts_the_right_document_first(self):
        for query, expected in QUESTIONS:
            with self.subTest(query=query):
                hits = self.store.search(query, "notes", 3, None)
                self.assertGreater(len(hits), 0)
                self.assertEqual(source_of(hits[0]), expected)
                # the py-reranker's scores: query-word overlap, best first
                scores = [h.get_score() for h in hits]
                self.assertEqual(scores, sorted(scores, reverse=True))

    def test_ask_answers_with_a_citation_of_the_right_source(self):
        answer = self.store.ask("When should the colony be treated against varroa mites?",
                                "notes", 3, None)
        self.assertEqual(answer.get_model(), "py-llm-summarizer")
        self.assertIn("late summer", answer.get_text())
        cited = [int(n) for n in __import__("re").findall(r"\[(\d+)\]", answer.get_text())]
        self.assertTrue(cited, answer.get_text())
        sources = answer.get_sources()
        for n in cited:
            self.assertLessEqual(n, len(sources))
        self.assertEqual(source_of(sources[cited[0] - 1]), "beekeeping.txt")

    def test_namespaces_through_the_store(self):
        self.store.create_namespace("projects", "Things I make", None)
        self.store.create_namespace("projects/bikes", None, None)
        self.assertEqual([n.get_name() for n in self.store.list_namespaces("projects", None)],
                         ["projects/bikes"])
        with self.assertRaises(GLib.Error) as caught:
            self.store.create_namespace("projects", None, None)
        self.assertTrue(caught.exception.matches(Stache.error_quark(), Stache.Error.EXISTS))
        with self.assertRaises(GLib.Error) as caught:
            self.store.delete_namespace("projects", False, None)
        self.assertTrue(caught.exception.matches(Stache.error_quark(), Stache.Error.NOT_EMPTY))
        self.assertIn("cascade", caught.exception.message)
        self.assertTrue(self.store.delete_namespace("projects", True, None))
        self.assertEqual(self.store.list_namespaces(None, None), [])

    def test_delete_document_removes_its_chunks(self):
        store = Stache.Store.new(python_settings("delete"))
        result = store.ingest_text("Moths circle the porch lamp at night.", "scratch", None)
        before = store.count_chunks("scratch", None)
        self.assertGreater(before, 0)
        self.assertTrue(store.delete_document(result.get_document_id(), None))
        self.assertEqual(store.count_chunks("scratch", None), 0)
        with self.assertRaises(GLib.Error) as caught:
            store.get_document(result.get_document_id(), None)
        self.assertTrue(caught.exception.matches(Stache.error_quark(), Stache.Error.NOT_FOUND))

    def test_a_new_store_reads_what_the_files_hold(self):
        store = Stache.Store.new(python_settings("pipeline"))
        hits = store.search("varroa mites", "notes", 1, None)
        self.assertEqual(source_of(hits[0]), "beekeeping.txt")


class ErrorTests(unittest.TestCase):
    """An error raised in Python reaches the caller as a GError with its message."""

    def create(self, provider_type, name, settings=None):
        return Stache.PluginLoader.get_default().create_provider(
            provider_type, name, settings or python_settings("errors"))

    def test_llm_refuses_a_prompt_without_question(self):
        llm = self.create(T.LLM, "py-llm")
        with self.assertRaises(GLib.Error) as caught:
            llm.generate("Tell me a story.", None, None, None)
        self.assertTrue(caught.exception.matches(Stache.error_quark(),
                                                 Stache.Error.INVALID_ARGUMENT))
        self.assertIn("py-llm only answers prompts", caught.exception.message)

    def test_vector_length_mismatch_reaches_the_store_caller(self):
        settings = python_settings("mismatch", py_embeddings_dimensions="64")
        Stache.Store.new(settings).ingest_text("Bees dance to show where flowers are.",
                                               "bees", None)
        other = Stache.Store.new(python_settings("mismatch", py_embeddings_dimensions="32"))
        with self.assertRaises(GLib.Error) as caught:
            other.search("bees", "bees", 3, None)
        self.assertTrue(caught.exception.matches(Stache.error_quark(),
                                                 Stache.Error.INVALID_ARGUMENT))
        self.assertIn("vectors of 32 values given", caught.exception.message)
        self.assertIn("holds vectors of 64 values", caught.exception.message)

    def test_bad_setting_is_named(self):
        embedder = self.create(T.EMBEDDINGS, "py-embeddings",
                               python_settings("errors", py_embeddings_dimensions="3"))
        with self.assertRaises(GLib.Error) as caught:
            embedder.embed("text", None)
        self.assertIn("py_embeddings_dimensions", caught.exception.message)

    def test_unknown_items_are_not_found(self):
        namespaces = self.create(T.NAMESPACE, "py-namespaces")
        with self.assertRaises(GLib.Error) as caught:
            namespaces.get_namespace("nowhere", None)
        self.assertTrue(caught.exception.matches(Stache.error_quark(), Stache.Error.NOT_FOUND))
        self.assertIn("nowhere", caught.exception.message)

    def test_any_python_exception_becomes_a_gerror(self):
        # PyGObject 3.42 itself turns only GLib.Error into a GError; Stache's
        # PyGObject overrides (libstache/python/gi/overrides/Stache.py) wrap
        # every do_* method of a provider so that any other exception
        # arrives too, with its type and message, also from methods whose
        # empty return would otherwise read as "nothing found".
        class RaisesValueError(Stache.Provider, Stache.EmbeddingProvider):
            def do_embed_batch(self, texts, cancellable):
                raise ValueError("a bug in the embedder")

        class RaisesKeyError(Stache.Provider, Stache.RerankerProvider):
            def do_rerank(self, query, results, top_k, cancellable):
                raise KeyError("score table")

        embedder = RaisesValueError(settings=Stache.Settings.new())
        with self.assertRaises(GLib.Error) as caught:
            embedder.embed_batch(["text"], None)
        self.assertTrue(caught.exception.matches(Stache.error_quark(), Stache.Error.FAILED))
        self.assertIn("RaisesValueError.do_embed_batch: ValueError: a bug in the embedder",
                      caught.exception.message)

        reranker = RaisesKeyError(settings=Stache.Settings.new())
        with self.assertRaises(GLib.Error) as caught:
            reranker.rerank("q", [Stache.SearchResult.new("a", "text", 1.0)], 1, None)
        self.assertIn("KeyError: 'score table'", caught.exception.message)


class ConcurrencyTests(unittest.TestCase):
    def test_eight_concurrent_async_searches(self):
        store = Stache.Store.new(python_settings("concurrent"))
        ingest_samples(store)
        self.assertEqual(type(store.props.reranker_provider).__gtype__.name, "PyExampleReranker")

        loop = GLib.MainLoop()
        outcomes = {}

        def done(source, result, index):
            try:
                outcomes[index] = [source_of(h) for h in source.search_finish(result)]
            except GLib.Error as e:
                outcomes[index] = e
            if len(outcomes) == len(QUESTIONS):
                loop.quit()

        def timed_out():
            outcomes["timeout"] = True
            loop.quit()
            return GLib.SOURCE_REMOVE

        for index, (query, _) in enumerate(QUESTIONS):
            store.search_async(query, "notes", 3, Stache.SearchMode.HYBRID, None, None, done, index)
        timeout = GLib.timeout_add_seconds(60, timed_out)
        loop.run()
        GLib.source_remove(timeout) if "timeout" not in outcomes else None

        self.assertNotIn("timeout", outcomes, "searches still running after 60 s: %r" % outcomes)
        for index, (query, expected) in enumerate(QUESTIONS):
            with self.subTest(query=query):
                self.assertIsInstance(outcomes[index], list, outcomes[index])
                self.assertEqual(outcomes[index][0], expected)


class BrokenPluginTests(unittest.TestCase):
    def test_syntax_error_names_file_and_line(self):
        info = info_named("py-broken-syntax")
        self.assertEqual(info.get_status(), Stache.ProviderStatus.FAILED)
        self.assertTrue(info.get_error().matches(Stache.plugin_error_quark(),
                                                 Stache.PluginError.LOAD_FAILED))
        self.assertIn("SyntaxError", info.get_reason())
        self.assertIn("py_broken_syntax.py\", line 5", info.get_reason())

    def test_missing_import_names_the_module(self):
        info = info_named("py-broken-import")
        self.assertEqual(info.get_status(), Stache.ProviderStatus.FAILED)
        self.assertTrue(info.get_error().matches(Stache.plugin_error_quark(),
                                                 Stache.PluginError.LOAD_FAILED))
        self.assertIn("ModuleNotFoundError: No module named 'stache_example_missing_dependency'",
                      info.get_reason())

    def test_class_without_the_interface_names_it(self):
        info = info_named("py-broken-nointerface")
        self.assertEqual(info.get_status(), Stache.ProviderStatus.FAILED)
        self.assertTrue(info.get_error().matches(Stache.plugin_error_quark(),
                                                 Stache.PluginError.NO_MATCHING_TYPE))
        self.assertIn("StacheRerankerProvider", info.get_reason())
        self.assertIn("reranker=py-broken-nointerface", info.get_reason())

    def test_selecting_a_broken_plugin_gives_its_reason(self):
        settings = Stache.Settings.new()
        settings.set_string("reranker_provider", "py-broken-nointerface")
        with self.assertRaises(GLib.Error) as caught:
            Stache.RerankerProvider.create(settings)
        self.assertIn("StacheRerankerProvider", caught.exception.message)

    def test_examples_keep_working_beside_broken_plugins(self):
        for fixture in BROKEN_FIXTURES:
            self.assertEqual(info_named(fixture).get_status(), Stache.ProviderStatus.FAILED)
        store = Stache.Store.new(python_settings("beside-broken"))
        store.ingest_text("Hermit crabs swap shells in the tide pool.", "crabs", None)
        hits = store.search("hermit crabs shells", "crabs", 1, None)
        self.assertIn("Hermit crabs", hits[0].get_text())
        self.assertEqual(info_named("py-reranker").get_status(), Stache.ProviderStatus.LOADED)


if __name__ == "__main__":
    try:
        unittest.main(verbosity=2)
    finally:
        shutil.rmtree(TMP, ignore_errors=True)

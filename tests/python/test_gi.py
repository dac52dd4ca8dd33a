# test_gi.py: libstache through GObject-Introspection, from Python
#
# SPDX-License-Identifier: LGPL-2.1-or-later
#
# Runs with Debian's /usr/bin/python3 (python3-gi) against the build tree:
# meson sets GI_TYPELIB_PATH and LD_LIBRARY_PATH.

import os
import shutil
import sys
import unittest

sys.path.insert(0, os.path.dirname(__file__))
import stache_test_env  # noqa: E402

# The default plugin loader reads its search path once per process, so the
# environment is prepared before Stache is first used.
TMP, ENV = stache_test_env.isolated_environment()
os.environ.clear()
os.environ.update(ENV)
PLUGINS = os.path.join(TMP, "plugins")
stache_test_env.install_fixture(PLUGINS, "memory-c")
stache_test_env.install_fixture(PLUGINS, "memory-py")
os.environ["STACHE_PLUGIN_PATH"] = PLUGINS

import gi  # noqa: E402

gi.require_version("GIRepository", "2.0")
gi.require_version("Stache", "1.0")
from gi.repository import GIRepository, GLib, Json, Stache  # noqa: E402


def chunk(chunk_id, document_id, text, topic):
    c = Stache.Chunk.new(chunk_id, text)
    c.props.document_id = document_id
    metadata = Json.Object()
    metadata.set_string_member("topic", topic)
    c.props.metadata = metadata
    return c


class InProcessVectorDb(Stache.Provider, Stache.VectorDbProvider):
    """A provider defined by the test itself, called through the C wrappers."""

    def __init__(self, **kwargs):
        super().__init__(**kwargs)
        self.rows = []

    def do_insert(self, namespace, chunks, vectors, cancellable):
        dims = len(vectors) // len(chunks)
        for i, c in enumerate(chunks):
            self.rows.append((namespace or "default", c, list(vectors[i * dims:(i + 1) * dims])))
        return True

    def do_search(self, namespace, query, top_k, filter, cancellable):
        hits = []
        for ns, c, vector in self.rows:
            if namespace is None or ns == namespace:
                score = sum(a * b for a, b in zip(query, vector))
                hits.append(Stache.SearchResult.new(c.props.id, c.props.text, score))
        hits.sort(key=lambda h: -h.props.score)
        return hits[:top_k]

    def do_delete_chunks(self, namespace, ids, filter, cancellable):
        before = len(self.rows)
        self.rows = [r for r in self.rows if ids and r[1].props.id not in ids]
        return before - len(self.rows)

    def do_count(self, namespace, cancellable):
        return sum(1 for r in self.rows if namespace is None or r[0] == namespace)


def exercise(testcase, db):
    chunks = [chunk("c1", "doc-a", "cats purr", "pets"),
              chunk("c2", "doc-b", "stars burn", "space"),
              chunk("c3", "doc-a", "kittens nap", "pets")]
    vectors = [1.0, 0.0, 0.0, 0.0, 1.0, 0.0, 0.9, 0.1, 0.0]
    testcase.assertTrue(db.insert("notes", chunks, vectors, None))
    testcase.assertEqual(db.count("notes", None), 3)
    hits = db.search("notes", [1.0, 0.0, 0.0], 2, None, None)
    testcase.assertEqual([h.props.id for h in hits], ["c1", "c3"])
    testcase.assertAlmostEqual(hits[0].props.score, 1.0, places=5)
    testcase.assertEqual(db.delete_chunks("notes", ["c1"], None, None), 1)
    testcase.assertEqual(db.count(None, None), 2)


class ImportTests(unittest.TestCase):
    def test_typelib_comes_from_build_tree(self):
        path = GIRepository.Repository.get_default().get_typelib_path("Stache")
        build_dir = os.environ["GI_TYPELIB_PATH"].split(":")[0]
        self.assertTrue(path.startswith(build_dir), path)

    def test_enums_and_error_domains_are_visible(self):
        self.assertEqual(Stache.ProviderType.VECTORDB.value_nick, "vectordb")
        self.assertEqual(Stache.provider_type_to_string(Stache.ProviderType.DOCUMENT_INDEX),
                         "document_index")
        self.assertEqual(Stache.provider_type_get_setting(Stache.ProviderType.EMBEDDINGS),
                         "embedding_provider")
        self.assertEqual(GLib.quark_to_string(Stache.error_quark()), "stache-error-quark")
        self.assertIsNotNone(Stache.PluginError.LOAD_FAILED)

    def test_provider_list_can_be_taken_again(self):
        # (transfer container): the loader keeps its own references, so
        # dropping one list must leave the next one whole
        loader = Stache.PluginLoader.get_default()
        first = [info.get_name() for info in loader.list_providers()]
        for _ in range(3):
            infos = loader.list_providers()
            self.assertEqual([info.get_name() for info in infos], first)
            del infos


class SettingsTests(unittest.TestCase):
    def setUp(self):
        self.settings = Stache.Settings.new_from_file(None)

    def tearDown(self):
        os.environ.pop("CHUNK_SIZE", None)

    def test_explicit_value_beats_environment(self):
        os.environ["CHUNK_SIZE"] = "256"
        self.assertEqual(self.settings.get_int("chunk_size", 1), 256)
        self.settings.set_string("chunk_size", "128")
        self.assertEqual(self.settings.get_int("chunk_size", 1), 128)
        self.assertEqual(self.settings.get_source("chunk_size"), Stache.SettingSource.EXPLICIT)

    def test_malformed_value_raises_named_error(self):
        os.environ["CHUNK_SIZE"] = "abc"
        with self.assertRaises(GLib.Error) as caught:
            self.settings.get_int("chunk_size", 512)
        self.assertTrue(caught.exception.matches(Stache.error_quark(),
                                                 Stache.Error.INVALID_SETTING))
        self.assertIn("CHUNK_SIZE", caught.exception.message)
        self.assertIn("chunk_size", caught.exception.message)

    def test_string_list(self):
        self.settings.set_string("fallbacks", "a, b;c")
        self.assertEqual(self.settings.get_string_list("fallbacks"), ["a", "b", "c"])


class StemmerTests(unittest.TestCase):
    """The SDK's word helpers from Python, as a Python provider uses them"""

    def test_stems_and_stop_words(self):
        english = Stache.Stemmer.new("english")
        self.assertEqual(english.get_language(), "english")
        folded, _ = Stache.text_fold("Signing REQUESTS")
        self.assertEqual([english.stem(w, -1) for w in folded.split()], ["sign", "request"])
        self.assertTrue(english.is_stop_word("the", -1))
        self.assertFalse(english.is_stop_word("sign", -1))
        self.assertEqual(Stache.Stemmer.new("german").stem("häuser", -1), "haus")

    def test_stem_hash(self):
        """The FNV-1a hash of the stem from the seed, the same from any
        stemmer of the language and after the table has it; no two words
        of two stemmers meet (an XOR-ed serial once made one's "sort"
        another's "wort")"""
        def fnv1a(seed, data):
            h = seed
            for byte in data:
                h = ((h ^ byte) * 0x100000001b3) & 0xFFFFFFFFFFFFFFFF
            return h

        seed = 0xcbf29ce484222325
        stemmers = [Stache.Stemmer.new("english") for _ in range(8)]
        words = ["sort", "wort", "port", "tort", "signing", "sign", "pop", "top", "line", "mine"]
        for _ in range(2):   # (the second round from the table)
            for stemmer in stemmers:
                for word in words:
                    data = word.encode()
                    self.assertEqual(stemmer.stem_hash(data, seed),
                                     fnv1a(seed, stemmer.stem(word, -1).encode()), (word, stemmer))
        self.assertEqual(stemmers[0].stem_hash(b"signing", 7), stemmers[5].stem_hash(b"sign", 7))
        self.assertNotEqual(stemmers[0].stem_hash(b"sort", 7), stemmers[4].stem_hash(b"wort", 7))
        self.assertNotEqual(stemmers[0].stem_hash(b"sort", 7), stemmers[0].stem_hash(b"sort", 8))

    def test_none_keeps_words(self):
        none = Stache.Stemmer.new("none")
        self.assertEqual(none.stem("signing", -1), "signing")
        self.assertFalse(none.is_stop_word("the", -1))

    def test_unknown_language_is_refused(self):
        with self.assertRaises(GLib.Error) as caught:
            Stache.Stemmer.new("klingon")
        self.assertTrue(caught.exception.matches(Stache.error_quark(), Stache.Error.INVALID_ARGUMENT))
        self.assertIn("klingon", caught.exception.message)
        self.assertIn("german", caught.exception.message)


class DataObjectTests(unittest.TestCase):
    def test_properties_round_trip(self):
        doc = Stache.Document.new("doc-1")
        doc.props.title = "Título"
        doc.props.chunk_count = 4
        doc.props.size = 2 ** 40
        self.assertEqual((doc.props.id, doc.props.title, doc.props.chunk_count, doc.props.size),
                         ("doc-1", "Título", 4, 2 ** 40))
        ns = Stache.Namespace.new("research/papers")
        self.assertEqual(ns.dup_parent_name(), "research")


class InterfaceTests(unittest.TestCase):
    def test_python_class_through_c_wrappers(self):
        exercise(self, InProcessVectorDb(settings=Stache.Settings.new_from_file(None)))

    def test_wrappers_refuse_bad_vectors(self):
        db = InProcessVectorDb()
        with self.assertRaises(GLib.Error) as caught:
            db.insert("notes", [chunk("a", "d", "t", "x")], [1.0, float("nan")], None)
        self.assertTrue(caught.exception.matches(Stache.error_quark(),
                                                 Stache.Error.INVALID_ARGUMENT))
        self.assertEqual(db.count(None, None), 0)

    def test_default_capabilities(self):
        db = InProcessVectorDb()
        self.assertEqual(db.get_capabilities(), ["vector_search"])

    def test_async_default_runs_python_method_in_thread(self):
        db = InProcessVectorDb()
        loop = GLib.MainLoop()
        results = {}

        def inserted(source, result):
            results["insert"] = source.insert_finish(result)
            source.count_async(None, None, counted)

        def counted(source, result):
            results["count"] = source.count_finish(result)
            loop.quit()

        db.insert_async(None, [chunk("a", "d", "t", "x")], [1.0, 2.0], None, inserted)
        GLib.timeout_add_seconds(20, loop.quit)
        loop.run()
        self.assertEqual(results, {"insert": True, "count": 1})


class PyLlm(Stache.Provider, Stache.LlmProvider):
    def do_generate(self, prompt, system_prompt, options, cancellable):
        completion = Stache.Completion.new(prompt.upper())
        completion.set_model("upper")
        return completion


class PyEmbedder(Stache.Provider, Stache.EmbeddingProvider):
    def do_embed_batch(self, texts, cancellable):
        rows = []
        for text in texts:
            rows += [float(len(text)), float(text.count("a"))]
        return rows

    def do_get_dimensions(self):
        return 2


class PyReranker(Stache.Provider, Stache.RerankerProvider):
    def do_rerank(self, query, results, top_k, cancellable):
        return sorted(results, key=lambda r: query in r.get_text(), reverse=True)


class PyNamespaces(Stache.Provider, Stache.NamespaceProvider):
    def __init__(self, **kwargs):
        super().__init__(**kwargs)
        self.spaces = {}

    def do_create_namespace(self, name, description, metadata, cancellable):
        ns = Stache.Namespace.new(name)
        ns.set_description(description)
        self.spaces[name] = ns
        return ns

    def do_get_namespace(self, name, cancellable):
        if name not in self.spaces:
            raise GLib.Error.new_literal(Stache.error_quark(), "no namespace " + name,
                                         Stache.Error.NOT_FOUND)
        return self.spaces[name]

    def do_list_namespaces(self, parent, cancellable):
        return [ns for name, ns in sorted(self.spaces.items())
                if parent is None or ns.dup_parent_name() == parent]

    def do_delete_namespace(self, name, cascade, cancellable):
        return self.spaces.pop(name, None) is not None


class PyDocuments(Stache.Provider, Stache.DocumentIndexProvider):
    def __init__(self, **kwargs):
        super().__init__(**kwargs)
        self.docs = {}

    def do_index_document(self, document, cancellable):
        self.docs[document.get_id()] = document
        return True

    def do_get_document(self, doc_id, cancellable):
        return self.docs[doc_id]

    def do_list_documents(self, namespace, cancellable):
        return list(self.docs.values())

    def do_delete_document(self, doc_id, cancellable):
        return self.docs.pop(doc_id, None) is not None


class EveryInterfaceFromPythonTests(unittest.TestCase):
    """Each provider type implemented in Python and called through the C API."""

    def test_llm(self):
        completion = PyLlm().generate("hello", None, None, None)
        self.assertEqual((completion.get_text(), completion.get_model()), ("HELLO", "upper"))

    def test_embeddings(self):
        embedder = PyEmbedder()
        self.assertEqual(list(embedder.embed("banana", None)), [6.0, 3.0])
        self.assertEqual(list(embedder.embed_batch(["a", "bb"], None)), [1.0, 1.0, 2.0, 0.0])
        self.assertEqual(embedder.get_dimensions(), 2)

    def test_reranker(self):
        results = [Stache.SearchResult.new(str(i), text, 1.0)
                   for i, text in enumerate(["red", "blue sky", "green"])]
        for _ in range(100):
            ranked = PyReranker().rerank("sky", results, 2, None)
            self.assertEqual([r.get_id() for r in ranked], ["1", "0"])

    def test_namespaces(self):
        registry = PyNamespaces()
        registry.create_namespace("research", "all research", None, None)
        registry.create_namespace("research/papers", None, None, None)
        self.assertEqual([n.get_name() for n in registry.list_namespaces(None, None)],
                         ["research", "research/papers"])
        self.assertEqual([n.get_name() for n in registry.list_namespaces("research", None)],
                         ["research/papers"])
        with self.assertRaises(GLib.Error) as caught:
            registry.get_namespace("nope", None)
        self.assertTrue(caught.exception.matches(Stache.error_quark(), Stache.Error.NOT_FOUND))
        with self.assertRaises(GLib.Error) as caught:
            registry.create_namespace("bad//name", None, None, None)
        self.assertTrue(caught.exception.matches(Stache.error_quark(),
                                                 Stache.Error.INVALID_ARGUMENT))

    def test_document_index(self):
        index = PyDocuments()
        doc = Stache.Document.new("doc-1")
        doc.set_title("Notes")
        self.assertTrue(index.index_document(doc, None))
        self.assertEqual(index.get_document("doc-1", None).get_title(), "Notes")
        self.assertEqual([d.get_id() for d in index.list_documents(None, None)], ["doc-1"])
        self.assertTrue(index.delete_document("doc-1", None))
        self.assertEqual(index.list_documents(None, None), [])


class FactoryTests(unittest.TestCase):
    def tearDown(self):
        os.environ.pop("VECTORDB_PROVIDER", None)

    def test_python_plugin_from_environment_variable(self):
        os.environ["VECTORDB_PROVIDER"] = "memory-py"
        db = Stache.VectorDbProvider.create(None)
        self.assertEqual(type(db).__gtype__.name, "MemoryPyVectorDb")
        exercise(self, db)

    def test_c_plugin_from_environment_variable(self):
        os.environ["VECTORDB_PROVIDER"] = "memory-c"
        db = Stache.VectorDbProvider.create(None)
        self.assertEqual(type(db).__gtype__.name, "MemoryVectorDb")
        exercise(self, db)

    def test_settings_are_there_in_python_init(self):
        settings = Stache.Settings.new()
        settings.set_string("vectordb_provider", "memory-py")
        settings.set_string("memory_py_label", "from the settings")
        db = Stache.VectorDbProvider.create(settings)
        self.assertEqual(db.label_in_init, "from the settings")
        self.assertIs(db.get_settings(), settings)

    def test_factories_are_functions_of_each_interface(self):
        for iface, setting in ((Stache.LlmProvider, "llm_provider"),
                               (Stache.EmbeddingProvider, "embedding_provider"),
                               (Stache.VectorDbProvider, "vectordb_provider"),
                               (Stache.NamespaceProvider, "namespace_provider"),
                               (Stache.RerankerProvider, "reranker_provider"),
                               (Stache.DocumentIndexProvider, "document_index_provider")):
            self.assertIsInstance(iface.get_available_providers(), list)
            settings = Stache.Settings.new()
            settings.set_string(setting, "milvus")
            with self.assertRaises(GLib.Error) as caught:
                iface.create(settings)
            self.assertTrue(caught.exception.matches(Stache.error_quark(),
                                                     Stache.Error.UNKNOWN_PROVIDER), setting)

    def test_reranker_none_is_no_reranker(self):
        settings = Stache.Settings.new()
        settings.set_string("reranker_provider", "none")
        self.assertIsNone(Stache.RerankerProvider.create(settings))

    def test_available_providers(self):
        self.assertEqual(Stache.VectorDbProvider.get_available_providers(),
                         ["memory-c", "memory-py"])

    def test_unknown_provider(self):
        os.environ["VECTORDB_PROVIDER"] = "milvus"
        with self.assertRaises(GLib.Error) as caught:
            Stache.VectorDbProvider.create(None)
        self.assertTrue(caught.exception.matches(Stache.error_quark(),
                                                 Stache.Error.UNKNOWN_PROVIDER))
        self.assertIn("milvus", caught.exception.message)
        self.assertIn("memory-c, memory-py", caught.exception.message)

    def test_provider_infos(self):
        loader = Stache.PluginLoader.get_default()
        infos = loader.list_providers()
        self.assertEqual(sorted((i.get_name(), i.get_loader(), i.get_status()) for i in infos),
                         [("memory-c", "C", Stache.ProviderStatus.LOADED),
                          ("memory-py", "python3", Stache.ProviderStatus.LOADED)])


if __name__ == "__main__":
    try:
        unittest.main(verbosity=2)
    finally:
        shutil.rmtree(TMP, ignore_errors=True)

# test_store_gi.py: StacheStore from Python, as DESIGN.md sketches it
#
# SPDX-License-Identifier: LGPL-2.1-or-later

import os
import shutil
import sys
import threading
import unittest

sys.path.insert(0, os.path.dirname(__file__))
import stache_test_env  # noqa: E402

TMP, ENV = stache_test_env.isolated_environment()
os.environ.clear()
os.environ.update(ENV)
os.environ["STACHE_PLUGIN_PATH"] = os.environ["STACHE_TEST_BUILTIN_PLUGINS"]

import gi  # noqa: E402

gi.require_version("Stache", "1.0")
from gi.repository import Gio, GLib, Stache  # noqa: E402


class StoreFromPythonTests(unittest.TestCase):
    def setUp(self):
        self.settings = Stache.Settings.new()
        self.settings.set_string("sqlite_path", os.path.join(TMP, self.id() + ".db"))
        self.store = Stache.Store.new(self.settings)

    def test_design_sketch(self):
        result = self.store.ingest_text("Plugins are discovered by libpeas from .plugin files.",
                                        "notes", None)
        self.assertEqual(result.get_outcome(), Stache.IngestOutcome.ADDED)
        hits = self.store.search("how are plugins discovered", "notes", 5, None)
        self.assertEqual(len(hits), 1)
        self.assertIn("libpeas", hits[0].props.text)
        self.assertGreater(hits[0].props.score, 0)

    def test_directory_with_progress(self):
        seen = []
        self.store.connect("progress", lambda store, done, total, path: seen.append((done, total)))
        samples = Gio.File.new_for_path(os.environ["STACHE_TEST_SAMPLES"])
        results = self.store.ingest_directory(samples, "samples", None, ["*.html"], None)
        self.assertEqual(len(results), 5)
        self.assertEqual(seen[0], (0, 5))
        self.assertEqual(seen[-1], (5, 5))
        names = sorted(os.path.basename(r.get_source()) for r in results)
        self.assertNotIn("telescope.html", names)

    def test_async_directory_progress_in_the_callers_main_context(self):
        """A GTK handler must run in the main thread: the async ingest
        emits ::progress there, the last one (done = total) before the
        callback; in between, counts may be merged but never go back."""
        folder = os.path.join(TMP, "many-notes")
        os.makedirs(folder)
        for i in range(300):
            with open(os.path.join(folder, "note%03d.txt" % i), "w") as f:
                f.write("Note %d about tide pools and sea stars.\n" % i)
        main_thread = threading.get_ident()
        seen, threads, order = [], set(), []
        self.store.connect("progress", lambda store, done, total, path: (
            seen.append((done, total)), threads.add(threading.get_ident()), order.append("progress")))
        loop = GLib.MainLoop()
        outcome = {}

        def done(store, result):
            order.append("callback")
            outcome["results"] = store.ingest_directory_finish(result)
            loop.quit()

        self.store.ingest_directory_async(Gio.File.new_for_path(folder), "many", None, None, None, done)
        GLib.timeout_add_seconds(60, loop.quit)
        loop.run()
        self.assertEqual(len(outcome["results"]), 300)
        self.assertEqual(threads, {main_thread})
        self.assertEqual(seen[-1], (300, 300))
        self.assertEqual(order[-1], "callback")
        self.assertEqual([d for d, _ in seen], sorted(d for d, _ in seen))
        self.assertTrue(all(t == 300 for _, t in seen))

    def test_async_sync_removes_gone_files(self):
        folder = os.path.join(TMP, "mirrored")
        os.makedirs(folder)
        for name in ("kelp.txt", "reef.txt"):
            with open(os.path.join(folder, name), "w") as f:
                f.write("Notes on %s forests and sea urchins.\n" % name[:-4])
        loop = GLib.MainLoop()
        outcome = {}

        def done(store, result):
            outcome["results"] = store.sync_directory_finish(result)
            loop.quit()

        def sync():
            self.store.sync_directory_async(Gio.File.new_for_path(folder), "mirror", None, None, None, done)
            GLib.timeout_add_seconds(60, loop.quit)
            loop.run()
            return sorted((os.path.basename(r.get_source()), r.get_outcome()) for r in outcome.pop("results"))

        self.assertEqual(sync(), [("kelp.txt", Stache.IngestOutcome.ADDED), ("reef.txt", Stache.IngestOutcome.ADDED)])
        os.unlink(os.path.join(folder, "reef.txt"))
        self.assertEqual(sync(), [("kelp.txt", Stache.IngestOutcome.UNCHANGED),
                                  ("reef.txt", Stache.IngestOutcome.REMOVED)])
        self.assertEqual(Stache.ingest_outcome_to_string(Stache.IngestOutcome.REMOVED), "removed")
        self.assertEqual([os.path.basename(d.get_source()) for d in self.store.list_documents("mirror", None)],
                         ["kelp.txt"])

    def test_ask(self):
        samples = Gio.File.new_for_path(os.environ["STACHE_TEST_SAMPLES"])
        self.store.ingest_directory(samples, None, None, None, None)
        answer = self.store.ask("When should the colony be treated against varroa mites?",
                                None, 3, None)
        self.assertIn("late summer", answer.get_text())
        self.assertEqual(answer.get_model(), "extractive")
        self.assertTrue(answer.get_sources()[0].get_metadata().get_string_member("source")
                        .endswith("beekeeping.txt"))

    def test_two_asks_at_once_each_get_their_own_tokens(self):
        samples = Gio.File.new_for_path(os.environ["STACHE_TEST_SAMPLES"])
        self.store.ingest_directory(samples, None, None, None, None)
        questions = ["When should the colony be treated against varroa mites?",
                     "How do sea stars open mussels?"]
        pieces = {q: [] for q in questions}
        answers = {}
        main_thread = threading.get_ident()
        threads = set()
        loop = GLib.MainLoop()

        def on_token_for(question):
            def on_token(token, *data):
                threads.add(threading.get_ident())
                pieces[question].append(token)
            return on_token

        def done(store, result, question):
            answers[question] = store.ask_full_finish(result)
            if len(answers) == len(questions):
                loop.quit()

        for q in questions:
            self.store.ask_full_async(q, None, 3, token_func=on_token_for(q), cancellable=None,
                                      callback=done, user_data=q)
        GLib.timeout_add_seconds(60, loop.quit)
        loop.run()
        self.assertEqual(threads, {main_thread})
        for q in questions:
            self.assertGreater(len(pieces[q]), 0)
            self.assertEqual("".join(pieces[q]), answers[q].get_text())
        self.assertNotEqual(answers[questions[0]].get_text(), answers[questions[1]].get_text())

        # the sync call, in the calling thread
        mine = []
        answer = self.store.ask_full(questions[1], None, 3, token_func=lambda token, *data: mine.append(token),
                                     cancellable=None)
        self.assertEqual("".join(mine), answer.get_text())

    def test_errors_are_glib_errors(self):
        with self.assertRaises(GLib.Error) as caught:
            self.store.search("   ", None, 5, None)
        self.assertTrue(caught.exception.matches(Stache.error_quark(),
                                                 Stache.Error.INVALID_ARGUMENT))


if __name__ == "__main__":
    try:
        unittest.main(verbosity=2)
    finally:
        shutil.rmtree(TMP, ignore_errors=True)

# test_store_cli.py: the stache command on the embedded defaults — ingest,
# search, ask, documents, namespaces — and data safety under SIGKILL and
# concurrent writers.
#
# SPDX-License-Identifier: LGPL-2.1-or-later

import json
import os
import random
import shutil
import signal
import sqlite3
import subprocess
import sys
import time
import unittest

sys.path.insert(0, os.path.dirname(__file__))
import stache_test_env  # noqa: E402

STACHE = os.environ["STACHE_TEST_TOOL"]
SAMPLES = os.environ["STACHE_TEST_SAMPLES"]
BUILTINS = os.environ["STACHE_TEST_BUILTIN_PLUGINS"]

WORDS = ("amber basalt cedar dune ember fjord glacier harbor island juniper kelp lagoon "
         "meadow nectar orchard prairie quartz reef savanna tundra upland valley willow "
         "yarrow zephyr").split()


def write_corpus(folder, count, seed):
    """Writes `count` text files of a few paragraphs each, all different."""
    rng = random.Random(seed)
    os.makedirs(folder, exist_ok=True)
    for i in range(count):
        paragraphs = []
        for _ in range(rng.randint(3, 8)):
            words = [rng.choice(WORDS) for _ in range(rng.randint(40, 90))]
            paragraphs.append(" ".join(words) + f". Marker {seed}-{i}.")
        with open(os.path.join(folder, f"note-{i:04d}.txt"), "w") as f:
            f.write("\n\n".join(paragraphs))


class StoreCliTestCase(unittest.TestCase):
    def setUp(self):
        self.tmp, self.env = stache_test_env.isolated_environment()
        # The built-in plugins of the build tree stand in for the installed
        # ones; nothing else is configured.
        self.env["STACHE_PLUGIN_PATH"] = BUILTINS
        self.db = os.path.join(self.env["XDG_DATA_HOME"], "stache", "stache.db")

    def tearDown(self):
        shutil.rmtree(self.tmp, ignore_errors=True)

    def run_stache(self, *args, expect=0):
        proc = subprocess.run([STACHE, *args], env=self.env, capture_output=True, text=True,
                              timeout=300)
        self.assertEqual(proc.returncode, expect,
                         f"stache {' '.join(args)}:\n{proc.stdout}\n{proc.stderr}")
        return proc

    def json_of(self, *args):
        return json.loads(self.run_stache(*args, "--json").stdout)

    def check_whole_documents(self, expect_documents=None):
        """Every document row has exactly its chunks, and no chunk is orphaned."""
        with sqlite3.connect(self.db) as db:
            self.assertEqual(db.execute("PRAGMA integrity_check").fetchone()[0], "ok")
            documents = dict(db.execute("SELECT id, chunk_count FROM documents"))
            chunks = dict(db.execute(
                "SELECT document_id, COUNT(*) FROM chunks GROUP BY document_id"))
            duplicates = db.execute(
                "SELECT COUNT(*) FROM (SELECT namespace, id FROM chunks "
                "GROUP BY namespace, id HAVING COUNT(*) > 1)").fetchone()[0]
        self.assertEqual(duplicates, 0)
        for doc_id, count in documents.items():
            self.assertEqual(chunks.get(doc_id), count, f"document {doc_id} is not whole")
        if expect_documents is not None:
            self.assertEqual(len(documents), expect_documents)
            self.assertEqual(set(chunks), set(documents), "chunks without a document")
        return documents, chunks


class NoConfigurationTests(StoreCliTestCase):
    def test_sample_notes_search_and_ask(self):
        summary = self.json_of("ingest", SAMPLES)["summary"]
        self.assertEqual(summary, {"added": 7, "unchanged": 0, "replaced": 0,
                                   "skipped": 0, "failed": 0})
        self.assertTrue(os.path.exists(self.db), "the default store lives in XDG_DATA_HOME")

        for query, expected in [("feeding a sourdough starter", "sourdough.md"),
                                ("varroa mites", "beekeeping.txt"),
                                ("secondary mirror focuser", "telescope.html")]:
            results = self.json_of("search", query)["results"]
            self.assertTrue(results[0]["metadata"]["source"].endswith(expected), query)

        answer = self.json_of("ask", "What do sea stars eat?")
        self.assertEqual(answer["model"], "extractive")
        self.assertIn("mussels", answer["answer"])
        self.assertRegex(answer["answer"], r"\[\d\]")

        again = self.json_of("ingest", SAMPLES)["summary"]
        self.assertEqual(again["unchanged"], 7)

    def test_search_by_document(self):
        self.json_of("ingest", SAMPLES)
        query = "starter flour water"
        by_chunk = self.json_of("search", "-k", "7", "--by-chunk", query)["results"]
        by_document = self.json_of("search", "-k", "7", query)["results"]
        chunk_ids = [r["document_id"] for r in by_chunk]
        document_ids = [r["document_id"] for r in by_document]
        # By chunk, a document comes again; by document (the default, and
        # what --by-document asks for), each comes once, best first, with
        # its best chunk, in the chunk ranking's order
        self.assertEqual(self.json_of("search", "-k", "7", "--by-document", query)["results"], by_document)
        self.run_stache("search", "--by-chunk", "--by-document", query, expect=2)
        self.assertGreater(len(chunk_ids), len(set(chunk_ids)), by_chunk)
        self.assertEqual(len(document_ids), len(set(document_ids)), by_document)
        self.assertEqual(len(document_ids), 7)
        scores = [r["score"] for r in by_document]
        self.assertEqual(scores, sorted(scores, reverse=True))
        self.assertEqual(document_ids[0], chunk_ids[0])
        self.assertEqual(by_document[0]["chunk_id"], by_chunk[0]["chunk_id"])

    def test_top_k_keeps_the_first_documents(self):
        # Documents of several chunks (CHUNK_SIZE small): the five first
        # documents of -k 5 are the first five of -k 20, for every query
        folder = os.path.join(self.tmp, "notes")
        write_corpus(folder, 60, 7)
        self.env["CHUNK_SIZE"] = "300"
        self.env["CHUNK_OVERLAP"] = "0"
        # a pool far smaller than -k 20 asks for, as with long documents
        self.env["SEARCH_CANDIDATES"] = "10"
        self.json_of("ingest", folder)
        rng = random.Random(11)
        for _ in range(30):
            query = " ".join(rng.choice(WORDS) for _ in range(3))
            five = [r["document_id"] for r in self.json_of("search", "-k", "5", query)["results"]]
            twenty = [r["document_id"] for r in self.json_of("search", "-k", "20", query)["results"]]
            self.assertEqual(len(five), 5, query)
            self.assertEqual(len(twenty), 20, query)
            self.assertEqual(len(set(twenty)), 20, query)
            self.assertEqual(five, twenty[:5], query)

    def test_sync_removes_documents_of_gone_files(self):
        folder = os.path.join(self.tmp, "notes")
        write_corpus(folder, 5, 3)
        out = self.run_stache("sync", folder).stdout
        self.assertIn("5 added, 0 unchanged, 0 replaced, 0 removed, 0 skipped, 0 failed", out)
        os.unlink(os.path.join(folder, "note-0001.txt"))
        os.rename(os.path.join(folder, "note-0002.txt"), os.path.join(folder, "moved.txt"))
        summary = self.json_of("sync", folder)["summary"]
        self.assertEqual((summary["added"], summary["unchanged"], summary["removed"]), (1, 3, 2))
        listed = self.json_of("documents", "list")
        sources = sorted(os.path.basename(d["source"]) for d in listed)
        self.assertEqual(sources, ["moved.txt", "note-0000.txt", "note-0003.txt", "note-0004.txt"])
        hits = self.json_of("search", "--by-chunk", "-k", "50", "Marker 3-1")["results"]
        self.assertTrue(hits)
        self.assertFalse([h for h in hits if h["metadata"]["source"].endswith("note-0001.txt")])
        self.check_whole_documents(4)
        # plain ingest stays additive: it never reports or removes anything
        os.unlink(os.path.join(folder, "note-0000.txt"))
        summary = self.json_of("ingest", folder)["summary"]
        self.assertNotIn("removed", summary)
        self.assertEqual(len(self.json_of("documents", "list")), 4)

    def test_sync_watch_follows_the_folder(self):
        folder = os.path.join(self.tmp, "watched")
        os.makedirs(folder)
        with open(os.path.join(folder, "first.txt"), "w") as f:
            f.write("A first note about kelp forests.")
        proc = subprocess.Popen([STACHE, "sync", "--watch", folder], env=self.env, text=True,
                                stdout=subprocess.PIPE, stderr=subprocess.PIPE)
        try:
            self.assertIn("1 added", proc.stdout.readline())

            def listed_within(seconds, expected):
                deadline = time.monotonic() + seconds
                while time.monotonic() < deadline:
                    names = sorted(os.path.basename(d["source"]) for d in self.json_of("documents", "list"))
                    if names == expected:
                        return names
                    time.sleep(0.1)
                return names

            time.sleep(0.5)   # (the monitors are set up after the first sync)
            with open(os.path.join(folder, "second.txt"), "w") as f:
                f.write("A second note about sea urchins.")
            self.assertEqual(listed_within(2, ["first.txt", "second.txt"]), ["first.txt", "second.txt"])
            self.assertIn("1 added, 1 unchanged", proc.stdout.readline())
            os.unlink(os.path.join(folder, "first.txt"))
            self.assertEqual(listed_within(2, ["second.txt"]), ["second.txt"])
            self.assertIn("1 removed", proc.stdout.readline())
        finally:
            proc.terminate()
            _, err = proc.communicate(timeout=10)
        self.assertEqual(proc.returncode, 0, err)
        self.assertNotIn("CRITICAL", err)

    def test_ask_names_each_document_once(self):
        self.run_stache("ingest", SAMPLES)
        question = "how do I feed a sourdough starter and what is hooch"
        passages = self.json_of("ask", question)["sources"]
        out = self.run_stache("ask", question).stdout
        lines = out.split("Sources:\n", 1)[1].splitlines()
        documents = [line.split("] ", 1)[1].split(":", 1)[0] for line in lines]
        # one line per document, with all its passages' numbers, each once
        self.assertEqual(len(documents), len(set(documents)), out)
        self.assertEqual(len(documents), len({p["document_id"] for p in passages}), out)
        numbers = sorted(int(n) for line in lines for n in line.split("]")[0].strip(" [").split(", "))
        self.assertEqual(numbers, list(range(1, len(passages) + 1)), out)
        sourdough = [line for line in lines if "sourdough.md" in line]
        self.assertEqual(len(sourdough), 1, out)
        self.assertIn("Keeping a starter alive", sourdough[0])

    def test_human_output(self):
        out = self.run_stache("ingest", SAMPLES).stdout
        self.assertIn("7 added, 0 unchanged, 0 replaced, 0 skipped, 0 failed", out)
        out = self.run_stache("search", "bulk fermentation proofing").stdout
        self.assertTrue(out.startswith("1. "), out)
        self.assertIn("sourdough.md", out.splitlines()[0])

    def test_documents_and_namespaces(self):
        self.run_stache("ingest", "-n", "kitchen", os.path.join(SAMPLES, "sourdough.md"))
        docs = self.json_of("documents", "list")
        self.assertEqual(len(docs), 1)
        self.assertEqual(docs[0]["namespace"], "kitchen")
        self.assertEqual(docs[0]["title"], "Sourdough at home")
        shown = self.json_of("documents", "show", docs[0]["id"])
        self.assertGreater(shown["chunks"], 0)
        # The get_document operation, as REST's GET /v1/documents/{id} and MCP's tool give it
        self.assertEqual(shown["metadata"]["stache_dimensions"], 384)
        self.assertEqual({k: v for k, v in shown.items() if k != "metadata"}, docs[0])

        names = [n["name"] for n in self.json_of("namespaces", "list")]
        self.assertIn("kitchen", names)
        self.run_stache("namespaces", "create", "garden", "-d", "outdoor notes")
        self.assertIn("garden", [n["name"] for n in self.json_of("namespaces", "list")])
        twice = self.run_stache("namespaces", "create", "garden", expect=1)
        self.assertIn("“garden” already exists", twice.stderr)
        refused = self.run_stache("namespaces", "delete", "kitchen", expect=1)
        self.assertIn("kitchen", refused.stderr)
        self.assertIn("--cascade", refused.stderr)
        self.run_stache("namespaces", "delete", "kitchen", "--cascade")
        self.assertEqual(self.json_of("documents", "list"), [])

        missing = self.run_stache("documents", "show", "nope", expect=1)
        self.assertIn("nope", missing.stderr)

    def test_usage_errors_exit_2(self):
        self.run_stache("search", expect=2)
        self.run_stache("search", "x", "--mode", "telepathy", expect=2)
        self.run_stache("search", "x", "--filter", "{not json", expect=2)
        # One top_k limit (STACHE_OPERATION_MAX_TOP_K) for the command, REST and MCP
        for command in ("search", "ask"):
            refused = self.run_stache(command, "x", "--top-k", "1001", expect=2)
            self.assertIn("--top-k", refused.stderr)
            self.assertIn("1000", refused.stderr)
        self.run_stache("ingest", expect=2)
        self.run_stache("documents", "frobnicate", expect=2)


class BadInputTests(StoreCliTestCase):
    def test_mixed_folder(self):
        folder = os.path.join(self.tmp, "mixed")
        os.makedirs(folder)
        with open(os.path.join(folder, "good.md"), "w") as f:
            f.write("# Good\n\nOctopuses have three hearts.\n")
        with open(os.path.join(folder, "empty.txt"), "w"):
            pass
        with open(os.path.join(folder, "photo.jpg"), "wb") as f:
            f.write(b"\xff\xd8\xff\xe0\x00\x10JFIF\x00" + bytes(range(256)) * 4)
        with open(os.path.join(folder, "latin1.txt"), "wb") as f:
            f.write(b"Na\xefve caf\xe9 notes about platypus eggs.\n")
        with open(os.path.join(folder, "huge.txt"), "w") as f:
            f.write("word " * 50000)
        self.env["MAX_FILE_SIZE"] = "100000"

        proc = self.run_stache("ingest", folder)
        self.assertIn("2 added, 0 unchanged, 0 replaced, 3 skipped, 0 failed", proc.stdout)
        self.assertIn("empty.txt", proc.stderr)
        self.assertIn("photo.jpg", proc.stderr)
        self.assertIn("binary", proc.stderr)
        self.assertIn("huge.txt", proc.stderr)
        self.assertIn("max_file_size", proc.stderr)

        hit = self.json_of("search", "platypus")["results"][0]
        self.assertIn("\ufffd", hit["text"])

    def test_special_files_skipped_with_reason(self):
        # /dev/zero never ends and a FIFO blocks its reader: neither is a
        # regular file, so each is skipped at once with the reason.
        fifo = os.path.join(self.tmp, "pipe")
        os.mkfifo(fifo)
        for path in ("/dev/zero", fifo):
            proc = self.run_stache("ingest", path)
            self.assertIn("0 added, 0 unchanged, 0 replaced, 1 skipped, 0 failed", proc.stdout)
            self.assertIn(path, proc.stderr)
            self.assertIn("not a regular file", proc.stderr)

        # In a folder, only the regular files are ingested; the walk does
        # not wait on the FIFO.
        folder = os.path.join(self.tmp, "with-pipe")
        os.makedirs(folder)
        os.mkfifo(os.path.join(folder, "pipe"))
        with open(os.path.join(folder, "note.txt"), "w") as f:
            f.write("Axolotls regrow their limbs.\n")
        proc = self.run_stache("ingest", folder)
        self.assertIn("1 added, 0 unchanged, 0 replaced, 0 skipped, 0 failed", proc.stdout)

    def test_unreadable_subfolder_is_one_failure(self):
        # A folder the user cannot read is one FAILED entry with its
        # reason; the rest of the walk is ingested. Root reads anything, so
        # as root the command runs as nobody (setpriv, util-linux).
        top = os.path.join(self.tmp, "walk")
        for sub in ("", "locked", "open"):
            os.makedirs(os.path.join(top, sub), exist_ok=True)
        for name, text in (("a.txt", "Narwhals have tusks."), ("locked/b.txt", "Hidden walrus notes."),
                           ("open/c.txt", "Pangolins have scales.")):
            with open(os.path.join(top, name), "w") as f:
                f.write(text + "\n")
        command = [STACHE, "ingest", top]
        if os.geteuid() == 0:
            setpriv = shutil.which("setpriv")
            if setpriv is None:
                self.skipTest("running as root and setpriv (util-linux) is missing: cannot act "
                              "as a user who is refused a folder")
            command = [setpriv, "--reuid=65534", "--regid=65534", "--clear-groups", *command]
            # nobody must reach the files and own the store's folders.
            for dirpath, dirnames, filenames in os.walk(self.tmp):
                os.chmod(dirpath, 0o777)
                for name in filenames:
                    os.chmod(os.path.join(dirpath, name), 0o666)
        os.chmod(os.path.join(top, "locked"), 0)
        try:
            proc = subprocess.run(command, env=self.env, capture_output=True, text=True, timeout=120)
        finally:
            os.chmod(os.path.join(top, "locked"), 0o755)
        self.assertEqual(proc.returncode, 1, proc.stdout + proc.stderr)
        self.assertIn("2 added, 0 unchanged, 0 replaced, 0 skipped, 1 failed", proc.stdout)
        self.assertIn("locked", proc.stderr)
        self.assertIn("Permission denied", proc.stderr)

    def as_user_without_rights(self, command):
        """The command as a user the file modes apply to: as root, nobody."""
        if os.geteuid() != 0:
            return command
        setpriv = shutil.which("setpriv")
        if setpriv is None:
            self.skipTest("running as root and setpriv (util-linux) is missing: cannot act "
                          "as a user the file modes apply to")
        return [setpriv, "--reuid=65534", "--regid=65534", "--clear-groups", *command]

    def test_read_only_store_serves_searches(self):
        self.run_stache("ingest", SAMPLES)
        data = os.path.dirname(self.db)
        new_note = os.path.join(self.tmp, "new-note.txt")
        with open(new_note, "w") as f:
            f.write("Quokkas smile for photographs.\n")
        os.chmod(new_note, 0o644)
        # nobody must reach the folders (as root, the modes below are what
        # stops nobody from writing)
        for dirpath, _, _ in os.walk(self.tmp):
            os.chmod(dirpath, 0o755)
        # Both the read-only file in a writable folder and a read-only
        # folder (no shared-memory file can be made beside the file)
        for folder_mode in (0o777, 0o555):
            with self.subTest(folder_mode=oct(folder_mode)):
                os.chmod(data, 0o777)
                for name in os.listdir(data):
                    os.chmod(os.path.join(data, name), 0o444)
                os.chmod(data, folder_mode)
                try:
                    search = subprocess.run(self.as_user_without_rights(
                        [STACHE, "search", "--json", "plugin discovery"]),
                        env=self.env, capture_output=True, text=True, timeout=120)
                    self.assertEqual(search.returncode, 0, search.stderr)
                    self.assertTrue(json.loads(search.stdout)["results"])
                    for mode in ("keyword", "vector"):
                        found = subprocess.run(self.as_user_without_rights(
                            [STACHE, "search", "--json", "--mode", mode, "plugin discovery"]),
                            env=self.env, capture_output=True, text=True, timeout=120)
                        self.assertEqual(found.returncode, 0, found.stderr)
                    ingest = subprocess.run(self.as_user_without_rights([STACHE, "ingest", new_note]),
                        env=self.env, capture_output=True, text=True, timeout=120)
                    self.assertNotEqual(ingest.returncode, 0)
                    self.assertIn("read-only", ingest.stdout + ingest.stderr)
                    self.assertNotIn("attempt to write", ingest.stdout + ingest.stderr)
                finally:
                    os.chmod(data, 0o755)

    def test_missing_path_named(self):
        missing = os.path.join(self.tmp, "no-such-folder")
        proc = self.run_stache("ingest", missing, expect=1)
        self.assertIn(missing, proc.stderr)

    def test_bad_setting_named(self):
        self.env["CHUNK_SIZE"] = "abc"
        proc = self.run_stache("search", "anything", expect=1)
        self.assertIn("CHUNK_SIZE", proc.stderr)

    def test_overlap_as_long_as_the_chunk_is_refused(self):
        for size, overlap in (("200", "200"), ("200", "350")):
            self.env["CHUNK_SIZE"] = size
            self.env["CHUNK_OVERLAP"] = overlap
            proc = self.run_stache("ingest", SAMPLES, expect=1)
            self.assertIn("chunk_overlap", proc.stderr)
            self.assertIn("chunk_size", proc.stderr)
            self.assertIn("CHUNK_OVERLAP", proc.stderr)
        self.env["CHUNK_OVERLAP"] = "199"
        self.run_stache("ingest", SAMPLES)

    def test_corrupt_store_refused_and_kept(self):
        os.makedirs(os.path.dirname(self.db), exist_ok=True)
        with open(self.db, "wb") as f:
            f.write(b"definitely not sqlite " * 100)
        proc = self.run_stache("search", "anything", expect=1)
        self.assertIn(self.db, proc.stderr)
        with open(self.db, "rb") as f:
            self.assertEqual(f.read(), b"definitely not sqlite " * 100)

    def test_crafted_metadata_in_the_file_does_not_crash(self):
        # Metadata nested 200,000 deep, written into the file by someone
        # else: json-glib's recursive parser would overflow the stack; read
        # with the core's depth limit it is dropped, the rest still works.
        self.run_stache("ingest", SAMPLES)
        deep = "[" * 200000 + "]" * 200000
        with sqlite3.connect(self.db) as db:
            db.execute("UPDATE chunks SET metadata = ?", ('{"a": ' + deep + "}",))
            db.execute("UPDATE documents SET metadata = ?", ('{"a": ' + deep + "}",))
            db.execute("UPDATE namespaces SET metadata = ?", ('{"a": ' + deep + "}",))
        hits = self.json_of("search", "--mode", "keyword", "the")
        self.assertTrue(hits["results"] if isinstance(hits, dict) else hits)
        self.assertTrue(self.json_of("documents", "list"))
        self.json_of("namespaces", "list")

    def test_check_reads_the_whole_store(self):
        folder = os.path.join(self.tmp, "corpus")
        write_corpus(folder, 200, seed=4)
        self.run_stache("ingest", folder)
        self.assertEqual(self.json_of("check"), {"ok": True, "vector_db": "StacheSqliteVectorDb"})
        self.assertIn("intact", self.run_stache("check").stdout)

        # Damage in the middle of the file: opening does not look, a
        # search may or may not touch it, `stache check` finds it.
        with open(self.db, "r+b") as f:
            f.seek(0, os.SEEK_END)
            size = f.tell()
            page = 16384
            f.seek((size // page // 2) * page)
            f.write(b"\xab" * page)
        self.run_stache("namespaces", "list")
        proc = self.run_stache("check", expect=1)
        self.assertIn("damaged", proc.stderr)
        self.assertIn(self.db, proc.stderr)
        report = json.loads(self.run_stache("check", "--json", expect=1).stdout)
        self.assertFalse(report["ok"])
        self.assertIn("damaged", report["error"])


class DataSafetyTests(StoreCliTestCase):
    def test_sigkill_mid_ingest_leaves_whole_documents(self):
        folder = os.path.join(self.tmp, "corpus")
        # Enough documents that the ingest is still running after its
        # first committed batch (256 documents a transaction).
        write_corpus(folder, 3000, seed=1)

        proc = subprocess.Popen([STACHE, "ingest", folder], env=self.env,
                                stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        deadline = time.monotonic() + 120
        killed_after = 0
        while time.monotonic() < deadline and proc.poll() is None:
            try:
                with sqlite3.connect(self.db, timeout=5) as db:
                    killed_after = db.execute("SELECT COUNT(*) FROM documents").fetchone()[0]
            except sqlite3.OperationalError:
                killed_after = 0
            if killed_after >= 40:
                break
            time.sleep(0.02)
        self.assertIsNone(proc.poll(), "ingest finished before it could be killed")
        proc.send_signal(signal.SIGKILL)
        proc.wait()
        print(f"# killed after {killed_after} documents", file=sys.stderr)

        documents, _ = self.check_whole_documents()
        self.assertLess(len(documents), 3000)
        # The store opens cleanly and lists what survived.
        self.assertEqual(len(self.json_of("documents", "list")), len(documents))

        summary = self.json_of("ingest", folder)["summary"]
        self.assertEqual(summary["failed"], 0)
        self.assertGreaterEqual(summary["unchanged"], len(documents))
        self.check_whole_documents(expect_documents=3000)

    def test_two_processes_ingest_at_once(self):
        first = os.path.join(self.tmp, "first")
        second = os.path.join(self.tmp, "second")
        write_corpus(first, 60, seed=2)
        write_corpus(second, 60, seed=3)

        procs = [subprocess.Popen([STACHE, "ingest", folder, "--json"], env=self.env,
                                  stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
                 for folder in (first, second)]
        outputs = [p.communicate(timeout=300) for p in procs]
        for p, (out, err) in zip(procs, outputs):
            self.assertEqual(p.returncode, 0, err)
            self.assertEqual(json.loads(out)["summary"]["added"], 60)
        self.check_whole_documents(expect_documents=120)


if __name__ == "__main__":
    unittest.main(verbosity=2)

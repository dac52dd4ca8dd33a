# test_crash.py: `stache ingest` killed with SIGKILL at random moments while
# it re-ingests changed files or adds new ones. Whatever moment the kill
# hits, every document the store lists is wholly old or wholly new (its row,
# its content hash and all of its chunks agree), no chunk is left without
# its document, and once the files are back to their old text a full ingest
# serves only that text again.
#
# Every file holds marker words that name its file, its version and its
# paragraph (alphaf07p3: version A of file 7, paragraph 3; bravo for version
# B, november for files added later), so the text of any chunk tells which
# version of which file it came from.
#
# The corpus and the trials come from a seed printed at the start; set
# STACHE_TEST_CRASH_SEED to replay them (the kill moments still depend on the
# machine's timing).
#
# SPDX-License-Identifier: LGPL-2.1-or-later

import json
import os
import random
import re
import shutil
import signal
import sqlite3
import statistics
import subprocess
import sys
import time
import unittest

sys.path.insert(0, os.path.dirname(__file__))
import stache_test_env  # noqa: E402

STACHE = os.environ["STACHE_TEST_TOOL"]
BUILTINS = os.environ["STACHE_TEST_BUILTIN_PLUGINS"]
SEED = int(os.environ.get("STACHE_TEST_CRASH_SEED") or random.SystemRandom().randrange(1, 10**6))

FILES = 80
REPLACE_TRIALS = 60
ADD_TRIALS = 30

OLD, NEW, ADDED = "alpha", "bravo", "november"
MARKER = re.compile(r"\b(alpha|bravo|november)f(\d+)p(\d+)\b")
# Filler words hold no digit, so no filler word can pass for a marker.
WORDS = ("amber basalt cedar dune ember fjord glacier harbor island juniper kelp lagoon "
         "meadow nectar orchard prairie quartz reef savanna tundra upland valley willow "
         "yarrow zephyr lantern copper thistle marrow pebble").split()
# A keyword search joins its words with OR and reads at most 64 of them.
KEYWORDS_PER_SEARCH = 32


def log(message):
    print(f"# {message}", file=sys.stderr, flush=True)


def file_name(index):
    return f"doc-{index:03d}.txt"


def paragraph_count(index, version):
    """Mostly 2 to 5 paragraphs, one file in eight 8 to 12: with short
    documents a kill falls more often between two writes of one document.
    Version B of a file never has as many paragraphs as version A, so the
    two versions differ in chunk count too."""
    rng = random.Random(f"{SEED}-{index}-count")
    sizes = range(8, 13) if rng.randrange(8) == 0 else range(2, 6)
    old = rng.choice(sizes)
    if version == NEW:
        return rng.choice([n for n in sizes if n != old])
    return old


def markers_of(index, version):
    return {f"{version}f{index:02d}p{p}" for p in range(paragraph_count(index, version))}


def text_of(index, version):
    """Paragraphs of 100 to 750 characters, each with its marker somewhere
    inside, separated by blank lines."""
    rng = random.Random(f"{SEED}-{index}-{version}")
    paragraphs = []
    for p in range(paragraph_count(index, version)):
        words = [rng.choice(WORDS) for _ in range(rng.randint(15, 105))]
        words.insert(rng.randrange(len(words) + 1), f"{version}f{index:02d}p{p}")
        paragraphs.append(" ".join(words) + ".")
    return "\n\n".join(paragraphs) + "\n"


def markers_in(text):
    """(version, file index, marker) for each marker word in text."""
    return {(m.group(1), int(m.group(2)), m.group(0)) for m in MARKER.finditer(text)}


def sample(markers, count=4):
    return ", ".join(sorted(markers)[:count]) + (" ..." if len(markers) > count else "")


class CrashTestCase(unittest.TestCase):
    def setUp(self):
        self.tmp, self.env = stache_test_env.isolated_environment()
        self.addCleanup(shutil.rmtree, self.tmp, ignore_errors=True)
        # The built-in plugins of the build tree: the sqlite store and the
        # hashing embedder, so no server and no network.
        self.env["STACHE_PLUGIN_PATH"] = BUILTINS
        self.db = os.path.join(self.env["XDG_DATA_HOME"], "stache", "stache.db")
        self.folder = os.path.join(self.tmp, "corpus")
        os.makedirs(self.folder)
        # Files moved out of the folder once the store holds them.
        self.retired_folder = os.path.join(self.tmp, "retired")
        os.makedirs(self.retired_folder)
        self.retired = set()
        self.rng = random.Random(f"{SEED}-{self.id()}")
        # File index -> the version its file holds now.
        self.on_disk = {}
        # How long an ingest takes that finds nothing to do, and the extra
        # seconds per file of the recent ingests that had work to do: the
        # kills are drawn over the span a whole ingest takes now, on this
        # machine, under its current load.
        self.idle = 0.0
        self.per_file = []
        # (file index, version) -> the content hash the store recorded for it.
        self.hashes = {}
        log(f"{self.id()}: seed {SEED} (STACHE_TEST_CRASH_SEED={SEED} replays it)")

    # ---- the files and the stache command ----

    def write(self, index, version):
        path = os.path.join(self.folder, file_name(index))
        # A new file rather than a truncated one: on ext4 truncating a file
        # that has data waits on the journal, several times slower.
        if os.path.exists(path):
            os.unlink(path)
        with open(path, "x") as f:
            f.write(text_of(index, version))
        self.on_disk[index] = version

    def run_stache(self, *args):
        proc = subprocess.run([STACHE, *args], env=self.env, capture_output=True, text=True,
                              timeout=300)
        self.assertEqual(proc.returncode, 0,
                         f"seed {SEED}: stache {' '.join(args)}:\n{proc.stdout}\n{proc.stderr}")
        return proc

    def check_problems(self):
        """`stache check`: SQLite's integrity, the keyword index decoded and
        checked against the chunk rows, the vectors against their chunks."""
        proc = subprocess.run([STACHE, "check", "--json"], env=self.env, capture_output=True, text=True,
                              timeout=300)
        if proc.returncode == 0:
            return []
        return [f"stache check: {proc.stdout.strip()} {proc.stderr.strip()}"]

    def ingest(self, folder=None, **expect):
        """A full ingest of the folder; returns its summary and how long it took."""
        start = time.monotonic()
        proc = self.run_stache("ingest", folder or self.folder, "--json")
        seconds = time.monotonic() - start
        summary = json.loads(proc.stdout)["summary"]
        self.assertEqual(summary["failed"], 0, f"seed {SEED}: {proc.stdout}\n{proc.stderr}")
        for key, value in expect.items():
            self.assertEqual(summary[key], value, f"seed {SEED}: {key} in {summary}")
        return summary, seconds

    def killed_ingest(self, kill_after):
        """Starts an ingest of the folder and sends it SIGKILL kill_after
        seconds later; returns whether the kill came before it finished."""
        start = time.monotonic()
        proc = subprocess.Popen([STACHE, "ingest", self.folder], env=self.env,
                                stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        try:
            delay = start + kill_after - time.monotonic()
            if delay > 0:
                time.sleep(delay)
            # An ingest that has already exited is a zombie until it is
            # reaped, so its pid cannot have been reused.
            os.kill(proc.pid, signal.SIGKILL)
        finally:
            if proc.poll() is None:
                proc.kill()
            proc.wait()
        return proc.returncode == -signal.SIGKILL

    def keyword_hits(self, markers):
        """The markers that `stache search --mode keyword` finds, with the
        source of the passage that holds each."""
        hits = set()
        markers = sorted(markers)
        for i in range(0, len(markers), KEYWORDS_PER_SEARCH):
            words = markers[i:i + KEYWORDS_PER_SEARCH]
            proc = self.run_stache("search", "--mode", "keyword", "--top-k", "1000", "--json",
                                   " ".join(words))
            for result in json.loads(proc.stdout)["results"]:
                source = os.path.basename(result.get("metadata", {}).get("source", "?"))
                for _, _, marker in markers_in(result["text"]):
                    if marker in words:
                        hits.add(f"{marker} in a passage of {source}")
        return sorted(hits)

    # ---- what the store holds ----

    def read_store(self):
        """Checks the store's invariants through a read-only connection.

        Returns the problems found; for each file index the store lists,
        the version all of its chunks hold (None when they are not one
        version); and every marker any chunk holds. The SQL reads only the
        columns every schema keeps."""
        problems = []
        held = {}
        db = sqlite3.connect(f"file:{self.db}?mode=ro", uri=True, timeout=30)
        try:
            integrity = [row[0] for row in db.execute("PRAGMA integrity_check")]
            if integrity != ["ok"]:
                problems.append(f"PRAGMA integrity_check: {'; '.join(integrity[:5])}")

            orphans = db.execute(
                "SELECT count(*) FROM chunks c LEFT JOIN documents d ON d.id = c.document_id "
                "WHERE c.document_id IS NOT NULL AND d.id IS NULL").fetchone()[0]
            if orphans:
                orphan_docs = {}
                for document_id, text in db.execute(
                        "SELECT c.document_id, c.text FROM chunks c "
                        "LEFT JOIN documents d ON d.id = c.document_id "
                        "WHERE c.document_id IS NOT NULL AND d.id IS NULL"):
                    orphan_docs.setdefault(document_id, set()).update(markers_in(text))
                problems.append(f"{orphans} chunks have no document row: " + "; ".join(
                    f"document {doc} of "
                    f"{', '.join(sorted({file_name(i) for _, i, _ in found})) or '?'} "
                    f"({sample({m for _, _, m in found})})"
                    for doc, found in orphan_docs.items()))

            # All chunks in one pass: a query per document would scan the
            # whole table each time (chunks are indexed by namespace first).
            chunks = {}
            stored_markers = set()
            for document_id, text in db.execute("SELECT document_id, text FROM chunks"):
                found = markers_in(text)
                chunks.setdefault(document_id, []).append(found)
                stored_markers |= {m for _, _, m in found}

            rows = db.execute("SELECT id, source, content_hash, chunk_count FROM documents "
                              "ORDER BY source").fetchall()
            for document_id, source, content_hash, chunk_count in rows:
                name = os.path.basename(source or "")
                match = re.fullmatch(r"doc-(\d+)\.txt", name)
                index = int(match.group(1)) if match else None
                where = f"{name or source} (document {document_id})"
                if index is None or index not in self.on_disk:
                    problems.append(f"{where}: a document for no file of the corpus")
                    continue
                if index in held:
                    problems.append(f"{where}: a second document row for the same file")
                    continue

                stored = len(chunks.get(document_id, []))
                if stored != chunk_count:
                    problems.append(f"{where}: documents.chunk_count is {chunk_count} "
                                    f"but {stored} chunks are stored")

                found = set().union(*chunks.get(document_id, []))
                foreign = {m for _, i, m in found if i != index}
                if foreign:
                    problems.append(f"{where}: holds markers of other files: {sample(foreign)}")
                versions = {v for v, i, _ in found if i == index}
                if len(versions) != 1:
                    held[index] = None
                    if versions:
                        problems.append(f"{where}: mixes versions: " + "; ".join(
                            f"{v}: {sample({m for w, i, m in found if w == v and i == index})}"
                            for v in sorted(versions)))
                    else:
                        problems.append(f"{where}: none of its chunks holds a marker")
                    continue
                version = held[index] = versions.pop()
                missing = markers_of(index, version) - {m for _, _, m in found}
                if missing:
                    problems.append(f"{where}: its {version} chunks are not all there: "
                                    f"missing {sample(missing)}")
                for other in (OLD, NEW, ADDED):
                    if other != version and self.hashes.get((index, other)) == content_hash:
                        problems.append(f"{where}: content_hash is that of version {other} "
                                        f"but its chunks hold version {version} "
                                        f"({sample(markers_of(index, version))})")
        finally:
            db.close()
        return problems, held, stored_markers

    def check_serves_files(self, context):
        """After a full ingest: every file is listed with the version it
        holds, and no marker of another version is stored or searchable."""
        problems, held, stored_markers = self.read_store()
        stale = set()
        for index, version in sorted(self.on_disk.items()):
            if index not in held:
                problems.append(f"{file_name(index)}: not listed")
            elif held[index] is not None and held[index] != version:
                problems.append(f"{file_name(index)}: the file holds version {version} again "
                                f"but the store serves its {held[index]} text "
                                f"({sample(markers_of(index, held[index]))})")
            if index < FILES:
                stale |= markers_of(index, NEW if version == OLD else OLD)

        in_chunks = stored_markers & stale
        if in_chunks:
            problems.append(f"{len(in_chunks)} markers no file holds any more are still "
                            f"stored in chunks: {sample(in_chunks, 8)}")

        # Through the command, a sample of those markers (all of them when
        # the store already shows some) must find nothing.
        unseen = sorted(stale - in_chunks)
        wanted = sorted(in_chunks) + self.rng.sample(unseen, min(KEYWORDS_PER_SEARCH, len(unseen)))
        hits = self.keyword_hits(wanted)
        if hits:
            problems.append(f"stache search --mode keyword finds {len(hits)} stale markers: "
                            + "; ".join(hits[:6]) + (" ..." if len(hits) > 6 else ""))
        return [f"{context}: {p}" for p in problems]

    def learn_hashes(self):
        db = sqlite3.connect(f"file:{self.db}?mode=ro", uri=True, timeout=30)
        try:
            for source, content_hash in db.execute("SELECT source, content_hash FROM documents"):
                index = int(re.fullmatch(r"doc-(\d+)\.txt", os.path.basename(source)).group(1))
                self.hashes[(index, self.on_disk[index])] = content_hash
        finally:
            db.close()

    def rebuild_store(self):
        """After a failed trial: a fresh store, so the next trial starts whole."""
        for suffix in ("", "-wal", "-shm"):
            if os.path.exists(self.db + suffix):
                os.remove(self.db + suffix)
        self.ingest(added=len(self.on_disk) - len(self.retired))
        if self.retired:
            self.ingest(self.retired_folder, added=len(self.retired))

    def measure_idle(self):
        self.idle = self.ingest(unchanged=len(self.on_disk) - len(self.retired))[1]

    def note_speed(self, files, seconds):
        if files >= 8:
            self.per_file.append(max(seconds - self.idle, 0.0) / files)

    def span(self, files):
        """How long an ingest with work for `files` files is expected to take."""
        return self.idle + statistics.median(self.per_file[-5:]) * files

    def retire(self, indexes):
        """Moves files out of the folder; the store keeps their documents."""
        for index in indexes:
            os.rename(os.path.join(self.folder, file_name(index)),
                      os.path.join(self.retired_folder, file_name(index)))
            self.retired.add(index)

    def count_versions(self, held):
        counts = {}
        for version in held.values():
            counts[version or "mixed"] = counts.get(version or "mixed", 0) + 1
        return ", ".join(f"{n} {v}" for v, n in sorted(counts.items(), key=lambda kv: str(kv[0])))


class KilledIngestTests(CrashTestCase):
    def test_killed_replace_leaves_each_document_wholly_old_or_wholly_new(self):
        for index in range(FILES):
            self.write(index, OLD)
        _, first = self.ingest(added=FILES)
        self.learn_hashes()
        self.measure_idle()
        # Two full re-ingests, to version B and back: the first measures of
        # how long replacing a file takes.
        for index in range(FILES):
            self.write(index, NEW)
        _, forth = self.ingest(replaced=FILES)
        self.learn_hashes()
        self.note_speed(FILES, forth)
        for index in range(FILES):
            self.write(index, OLD)
        _, back = self.ingest(replaced=FILES)
        self.note_speed(FILES, back)
        log(f"{FILES} files: first ingest {first:.3f} s, nothing to do {self.idle:.3f} s, "
            f"full re-ingests {forth:.3f} s and {back:.3f} s")
        problems = self.check_serves_files("after the first ingests")
        self.assertFalse(problems, "\n".join(problems))

        failures = []
        failed_trials = 0
        for trial in range(1, REPLACE_TRIALS + 1):
            changed = list(range(FILES))
            if trial % 2 == 0:
                changed = sorted(self.rng.sample(changed, self.rng.randint(FILES // 2, FILES)))
            for index in changed:
                self.write(index, NEW)
            span = self.span(len(changed))
            kill_after = self.rng.uniform(0, span)
            killed = self.killed_ingest(kill_after)

            context = (f"replace trial {trial} ({len(changed)} files changed, "
                       f"SIGKILL at {kill_after * 1000:.1f} ms of {span * 1000:.1f} ms)")
            problems, held, _ = self.read_store()
            problems += self.check_problems()
            for index in range(FILES):
                if index not in held:
                    problems.append(f"{file_name(index)}: no longer listed")
                elif index not in changed and held[index] not in (OLD, None):
                    problems.append(f"{file_name(index)}: unchanged on disk "
                                    f"but holds {held[index]}")
            problems = [f"{context}, right after the kill: {p}" for p in problems]
            log(f"{context}: {'killed' if killed else 'had finished'}; "
                f"documents {self.count_versions(held)}")

            # The files go back to their old text: a full ingest must
            # serve that text again, whatever the kill left behind.
            for index in changed:
                self.write(index, OLD)
            summary, seconds = self.ingest()
            self.note_speed(summary["replaced"], seconds)
            problems += self.check_serves_files(f"{context}, after reverting the files and "
                                                "ingesting again")
            if problems:
                log(f"{context}: FAILED")
                failed_trials += 1
                failures += problems
                self.rebuild_store()

        log(f"{failed_trials} of {REPLACE_TRIALS} replace trials left the store not whole")
        if failures:
            self.fail(f"seed {SEED}: {failed_trials} of {REPLACE_TRIALS} killed re-ingests "
                      "left the store not whole:\n" + "\n".join(failures))

    def test_killed_add_leaves_no_orphan_chunks_and_whole_new_documents(self):
        for index in range(FILES):
            self.write(index, OLD)
        _, first = self.ingest(added=FILES)
        self.measure_idle()
        self.note_speed(FILES, first)
        log(f"{FILES} files: first ingest {first:.3f} s, nothing to do {self.idle:.3f} s")

        failures = []
        failed_trials = 0
        next_index = FILES
        for trial in range(1, ADD_TRIALS + 1):
            self.measure_idle()
            added = list(range(next_index, next_index + self.rng.randint(30, 60)))
            next_index = added[-1] + 1
            for index in added:
                self.write(index, ADDED)
            span = self.span(len(added))
            kill_after = self.rng.uniform(0, span)
            killed = self.killed_ingest(kill_after)

            context = (f"add trial {trial} ({len(added)} files added, "
                       f"SIGKILL at {kill_after * 1000:.1f} ms of {span * 1000:.1f} ms)")
            problems, held, _ = self.read_store()
            problems += self.check_problems()
            for index, version in self.on_disk.items():
                if index not in added and held.get(index) != version:
                    problems.append(f"{file_name(index)}: listed before the kill with version "
                                    f"{version}, now {held.get(index, 'not listed')}")
            listed = sum(1 for index in added if index in held)
            problems = [f"{context}, right after the kill: {p}" for p in problems]
            log(f"{context}: {'killed' if killed else 'had finished'}; "
                f"{listed} of the new files listed; documents {self.count_versions(held)}")

            summary, seconds = self.ingest()
            self.note_speed(summary["added"], seconds)
            problems += self.check_serves_files(f"{context}, after ingesting again")
            if summary["added"] + listed != len(added):
                problems.append(f"{context}: {listed} new files were listed after the kill, "
                                f"and the next ingest added {summary['added']}, "
                                f"not the other {len(added) - listed}")
            if problems:
                log(f"{context}: FAILED")
                failed_trials += 1
                failures += problems
                self.rebuild_store()
            # Each trial starts from the same folder: the store keeps the
            # documents of earlier trials, their files leave the folder.
            self.retire(added)

        log(f"{failed_trials} of {ADD_TRIALS} add trials left the store not whole")
        if failures:
            self.fail(f"seed {SEED}: {failed_trials} of {ADD_TRIALS} killed adds "
                      "left the store not whole:\n" + "\n".join(failures))


if __name__ == "__main__":
    unittest.main(verbosity=2)

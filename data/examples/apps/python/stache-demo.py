#!/usr/bin/python3
# stache-demo.py: ingest a folder, search it and ask it a question
#
# Uses the embedded defaults (SQLite store, hashing embeddings, extractive
# answers), so it needs no server and no configuration:
#
#   python3 stache-demo.py [FOLDER [QUESTION]]
#
# FOLDER defaults to the sample notes shipped with Stache; QUESTION is used
# both for the search and for the question.
#
# SPDX-License-Identifier: LGPL-2.1-or-later

import os
import sys

import gi

gi.require_version("Stache", "1.0")
from gi.repository import Gio, GLib, Stache  # noqa: E402

NAMESPACE = "stache-demo"
DEFAULT_QUESTION = "When should the colony be treated against varroa mites?"
DEFAULT_FOLDER = os.path.normpath(os.path.join(os.path.dirname(os.path.abspath(__file__)),
                                               "..", "..", "..", "samples", "notes"))
TOP_K = 3


def describe(hit):
    """The title and source path of a search result, from its metadata."""
    metadata = hit.get_metadata()
    title = source = ""
    if metadata is not None:
        if metadata.has_member("title"):
            title = metadata.get_string_member("title")
        if metadata.has_member("source"):
            source = metadata.get_string_member("source")
    return title or hit.get_document_id() or "?", source


def snippet(text, width=72):
    line = " ".join((text or "").split())
    return line if len(line) <= width else line[:width - 3] + "..."


class Demo:
    def __init__(self, folder, question):
        self.folder = folder
        self.question = question
        self.loop = GLib.MainLoop()
        self.status = 0
        self.streamed = False
        # No configuration: the embedded defaults
        self.store = Stache.Store.new(Stache.Settings.new())
        self.store.connect("token", self.on_token)

    def fail(self, what, error):
        print(f"stache-demo: {what}: {error.message}", file=sys.stderr)
        self.status = 1
        self.loop.quit()

    def run(self):
        print(f"Ingesting {self.folder} into namespace \"{NAMESPACE}\"")
        self.store.ingest_directory_async(Gio.File.new_for_path(self.folder), NAMESPACE,
                                          None, None, None, self.on_ingested)
        self.loop.run()
        return self.status

    def on_ingested(self, store, result):
        try:
            results = store.ingest_directory_finish(result)
        except GLib.Error as error:
            return self.fail(f"cannot ingest {self.folder}", error)
        counts = {}
        for item in results:
            outcome = Stache.ingest_outcome_to_string(item.get_outcome())
            counts[outcome] = counts.get(outcome, 0) + 1
            line = f"  {outcome:<10} {item.get_source()}"
            if item.get_reason():
                line += f" ({item.get_reason()})"
            print(line)
        print(f"{len(results)} files: " +
              ", ".join(f"{counts.get(o, 0)} {o}"
                        for o in ("added", "unchanged", "replaced", "skipped", "failed")))
        print()
        print(f"Search: {self.question}")
        store.search_async(self.question, NAMESPACE, TOP_K, Stache.SearchMode.HYBRID, None,
                           None, self.on_searched)

    def on_searched(self, store, result):
        try:
            hits = store.search_finish(result)
        except GLib.Error as error:
            return self.fail("search failed", error)
        if not hits:
            print("  (nothing found)")
        for rank, hit in enumerate(hits, 1):
            title, source = describe(hit)
            print(f"  {rank}. {hit.get_score():.3f}  {title}  {source}")
            print(f"     {snippet(hit.get_text())}")
        print()
        print(f"Question: {self.question}")
        print("Answer:")
        # ::token brings the answer piece by piece while the model writes
        store.ask_async(self.question, NAMESPACE, TOP_K, None, self.on_answered)

    def on_token(self, store, token):
        self.streamed = True
        sys.stdout.write(token)
        sys.stdout.flush()

    def on_answered(self, store, result):
        try:
            answer = store.ask_finish(result)
        except GLib.Error as error:
            if self.streamed:
                print()
            return self.fail("asking failed", error)
        if not self.streamed:
            sys.stdout.write(answer.get_text())
        print()
        print()
        print(f"Sources (model: {answer.get_model() or 'unknown'}):")
        for n, hit in enumerate(answer.get_sources(), 1):
            title, source = describe(hit)
            print(f"  [{n}] {title}  {source}")
        self.loop.quit()


def main(argv):
    if len(argv) > 3 or (len(argv) > 1 and argv[1] in ("-h", "--help")):
        print(f"Usage: {os.path.basename(argv[0])} [FOLDER [QUESTION]]",
              file=sys.stderr if len(argv) > 3 else sys.stdout)
        return 2 if len(argv) > 3 else 0
    folder = argv[1] if len(argv) > 1 else DEFAULT_FOLDER
    question = argv[2] if len(argv) > 2 else DEFAULT_QUESTION
    if not os.path.isdir(folder):
        print(f"stache-demo: {folder}: not a folder", file=sys.stderr)
        return 1
    try:
        demo = Demo(os.path.abspath(folder), question)
    except GLib.Error as error:
        print(f"stache-demo: cannot open the store: {error.message}", file=sys.stderr)
        return 1
    return demo.run()


if __name__ == "__main__":
    sys.exit(main(sys.argv))

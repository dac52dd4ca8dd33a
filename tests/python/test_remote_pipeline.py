# test_remote_pipeline.py: the whole pipeline on remote providers —
# VECTORDB_PROVIDER=qdrant, EMBEDDING_PROVIDER=openai, LLM_PROVIDER=anthropic —
# against in-process servers that speak each API's documented shapes.
#
# SPDX-License-Identifier: LGPL-2.1-or-later

import hashlib
import json
import math
import os
import re
import shutil
import subprocess
import sys
import time
import threading
import unittest
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

sys.path.insert(0, os.path.dirname(__file__))
import stache_test_env  # noqa: E402

TMP, ENV = stache_test_env.isolated_environment()
os.environ.clear()
os.environ.update(ENV)
os.environ["STACHE_PLUGIN_PATH"] = os.environ["STACHE_TEST_BUILTIN_PLUGINS"]

import gi  # noqa: E402

gi.require_version("Stache", "1.0")
from gi.repository import Gio, GLib, Stache  # noqa: E402

OPENAI_KEY = "sk-openai-test-7f3a"
ANTHROPIC_KEY = "sk-ant-test-91bc"
DIMS = 64


def embed(text):
    """A deterministic bag-of-words vector, so nearest neighbours are real."""
    vector = [0.0] * DIMS
    for word in re.findall(r"\w+", text.lower()):
        h = int(hashlib.sha256(word.encode()).hexdigest(), 16)
        vector[h % DIMS] += 1.0 if (h >> 8) & 1 else -1.0
    norm = math.sqrt(sum(v * v for v in vector)) or 1.0
    return [v / norm for v in vector]


def lookup(payload, key):
    value = payload
    for part in key.split("."):
        if not isinstance(value, dict) or part not in value:
            return None
        value = value[part]
    return value


def matches(flt, payload):
    if flt is None:
        return True
    if "must" in flt and not all(matches(c, payload) for c in flt["must"]):
        return False
    if "should" in flt and not any(matches(c, payload) for c in flt["should"]):
        return False
    if "key" in flt:
        actual = lookup(payload, flt["key"])
        match = flt["match"]
        return actual in match["any"] if "any" in match else actual == match["value"]
    if "is_null" in flt:
        return lookup(payload, flt["is_null"]["key"]) is None
    return True


class Fakes(BaseHTTPRequestHandler):
    """OpenAI embeddings, Anthropic messages and Qdrant points, in one server."""

    points = {}
    collection = None
    requests = []
    token_delay = 0.0

    def log_message(self, *args):
        pass

    def reply(self, status, body):
        data = json.dumps(body).encode()
        self.send_response(status)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(data)))
        self.end_headers()
        self.wfile.write(data)

    def stream_message(self, model, text):
        """Anthropic's streaming shape: named SSE events, the text in word deltas."""
        words = re.findall(r"\S+\s*", text)
        events = [("message_start", {"type": "message_start", "message": {
                      "id": "msg_1", "type": "message", "role": "assistant", "model": model,
                      "content": [], "stop_reason": None, "stop_sequence": None,
                      "usage": {"input_tokens": 10, "output_tokens": 1}}}),
                  ("content_block_start", {"type": "content_block_start", "index": 0,
                                           "content_block": {"type": "text", "text": ""}}),
                  ("ping", {"type": "ping"})]
        events += [("content_block_delta", {"type": "content_block_delta", "index": 0,
                                            "delta": {"type": "text_delta", "text": w}})
                   for w in words]
        events += [("content_block_stop", {"type": "content_block_stop", "index": 0}),
                   ("message_delta", {"type": "message_delta",
                                      "delta": {"stop_reason": "end_turn", "stop_sequence": None},
                                      "usage": {"output_tokens": len(words)}}),
                   ("message_stop", {"type": "message_stop"})]
        self.send_response(200)
        self.send_header("Content-Type", "text/event-stream")
        self.send_header("Cache-Control", "no-cache")
        self.end_headers()
        for name, data in events:
            self.wfile.write(("event: %s\ndata: %s\n\n" % (name, json.dumps(data))).encode())
            self.wfile.flush()
            if name == "content_block_delta":
                time.sleep(Fakes.token_delay)
        self.close_connection = True

    def body(self):
        length = int(self.headers.get("Content-Length", 0))
        return json.loads(self.rfile.read(length)) if length else None

    def do_GET(self):
        if self.path == "/collections/stache":
            if Fakes.collection is None:
                return self.reply(404, {"status": {"error": "Not found: Collection `stache` doesn't exist!"}})
            return self.reply(200, {"result": {"status": "green", "config": Fakes.collection}, "status": "ok"})
        self.reply(404, {"status": {"error": "unknown path " + self.path}})

    def do_PUT(self):
        body = self.body()
        Fakes.requests.append(("PUT", self.path, body))
        path = self.path.split("?")[0]
        if path == "/collections/stache":
            Fakes.collection = body
            return self.reply(200, {"result": True, "status": "ok", "time": 0.001})
        if path == "/collections/stache/index":
            return self.reply(200, {"result": {"operation_id": 1, "status": "completed"}, "status": "ok"})
        if path == "/collections/stache/points":
            for point in body["points"]:
                assert len(point["vector"]) == Fakes.collection["vectors"]["size"]
                Fakes.points[point["id"]] = point
            return self.reply(200, {"result": {"operation_id": 2, "status": "completed"}, "status": "ok"})
        self.reply(404, {"status": {"error": "unknown path"}})

    def do_POST(self):
        body = self.body()
        Fakes.requests.append(("POST", self.path, body))
        path = self.path.split("?")[0]
        if path == "/v1/embeddings":
            if self.headers.get("Authorization") != "Bearer " + OPENAI_KEY:
                return self.reply(401, {"error": {"message": "Incorrect API key provided", "type": "invalid_request_error"}})
            if any("POISON" in t for t in body["input"]):
                return self.reply(400, {"error": {"message": "This input is refused by policy",
                                                  "type": "invalid_request_error"}})
            data = [{"object": "embedding", "index": i, "embedding": embed(t)}
                    for i, t in enumerate(body["input"])]
            return self.reply(200, {"object": "list", "data": data, "model": body["model"],
                                    "usage": {"prompt_tokens": 1, "total_tokens": 1}})
        if path == "/v1/messages":
            if self.headers.get("x-api-key") != ANTHROPIC_KEY or not self.headers.get("anthropic-version"):
                return self.reply(401, {"type": "error", "error": {"type": "authentication_error",
                                                                   "message": "invalid x-api-key"}})
            prompt = body["messages"][0]["content"]
            first = re.search(r"\[1\] [^\n]*\n([^\n]+)", prompt)
            text = "According to [1]: " + (first.group(1)[:80] if first else "nothing")
            if body.get("stream"):
                return self.stream_message(body["model"], text)
            return self.reply(200, {"id": "msg_1", "type": "message", "role": "assistant",
                                    "model": body["model"], "content": [{"type": "text", "text": text}],
                                    "stop_reason": "end_turn", "stop_sequence": None,
                                    "usage": {"input_tokens": 10, "output_tokens": 5}})
        if path == "/collections/stache/points/search":
            if Fakes.collection is None:
                return self.reply(404, {"status": {"error": "Not found"}})
            hits = []
            for point in Fakes.points.values():
                if matches(body.get("filter"), point["payload"]):
                    score = sum(a * b for a, b in zip(body["vector"], point["vector"]))
                    hits.append({"id": point["id"], "version": 0, "score": score,
                                 "payload": point["payload"]})
            hits.sort(key=lambda h: -h["score"])
            return self.reply(200, {"result": hits[:body["limit"]], "status": "ok", "time": 0.001})
        if path == "/collections/stache/points/count":
            if Fakes.collection is None:
                return self.reply(404, {"status": {"error": "Not found"}})
            n = sum(1 for p in Fakes.points.values() if matches(body.get("filter"), p["payload"]))
            return self.reply(200, {"result": {"count": n}, "status": "ok", "time": 0.001})
        if path == "/collections/stache/points/delete":
            if "points" in body:
                for pid in body["points"]:
                    Fakes.points.pop(pid, None)
            else:
                for pid in [k for k, p in Fakes.points.items() if matches(body["filter"], p["payload"])]:
                    del Fakes.points[pid]
            return self.reply(200, {"result": {"operation_id": 3, "status": "completed"}, "status": "ok"})
        self.reply(404, {"error": {"message": "unknown path " + self.path}})


class RemotePipelineTests(unittest.TestCase):
    @classmethod
    def setUpClass(cls):
        cls.server = ThreadingHTTPServer(("127.0.0.1", 0), Fakes)
        cls.thread = threading.Thread(target=cls.server.serve_forever, daemon=True)
        cls.thread.start()
        url = "http://127.0.0.1:%d" % cls.server.server_address[1]
        cls.url = url
        settings = Stache.Settings.new_from_file(None)
        for key, value in {
            "sqlite_path": os.path.join(TMP, "index.db"),
            "vectordb_provider": "qdrant", "qdrant_url": url,
            "embedding_provider": "openai", "openai_base_url": url + "/v1",
            "openai_api_key": OPENAI_KEY, "openai_batch_size": "3",
            "llm_provider": "anthropic", "anthropic_base_url": url,
            "anthropic_api_key": ANTHROPIC_KEY,
            "http_backoff_ms": "10",
        }.items():
            settings.set_string(key, value)
        cls.settings = settings
        cls.store = Stache.Store.new(settings)

    @classmethod
    def tearDownClass(cls):
        cls.server.shutdown()

    def test_ingest_search_ask(self):
        samples = Gio.File.new_for_path(os.environ["STACHE_TEST_SAMPLES"])
        results = self.store.ingest_directory(samples, "notes", None, None, None)
        self.assertEqual([r.get_outcome() for r in results], [Stache.IngestOutcome.ADDED] * 7)

        # The collection was made with the embedder's size and cosine distance.
        self.assertEqual(Fakes.collection, {"vectors": {"size": DIMS, "distance": "Cosine"}})
        in_notes = [p for p in Fakes.points.values() if p["payload"].get("namespace") == "notes"]
        self.assertEqual(self.store.count_chunks("notes", None), len(in_notes))

        hits = self.store.search("varroa mites colony treatment", "notes", 3, None)
        self.assertTrue(hits[0].get_metadata().get_string_member("source").endswith("beekeeping.txt"))

        tokens = []
        handler = self.store.connect("token", lambda store, token: tokens.append(token))
        answer = self.store.ask("How do sea stars open mussels?", "notes", 3, None)
        self.store.disconnect(handler)
        self.assertTrue(answer.get_text().startswith("According to [1]:"), answer.get_text())
        # streamed: several pieces, which joined are the answer
        self.assertGreater(len(tokens), 3)
        self.assertEqual("".join(tokens), answer.get_text())
        self.assertEqual(answer.get_model(), "claude-3-5-haiku-latest")

        again = self.store.ingest_directory(samples, "notes", None, None, None)
        self.assertEqual([r.get_outcome() for r in again], [Stache.IngestOutcome.UNCHANGED] * 7)

        doc = results[0].get_document_id()
        before = len(Fakes.points)
        self.assertTrue(self.store.delete_document(doc, None))
        self.assertLess(len(Fakes.points), before)

    def embedding_requests(self):
        return sum(1 for r in Fakes.requests if r[0] == "POST" and r[1] == "/v1/embeddings")

    def test_folder_embeds_across_files_and_one_refused_file_fails_alone(self):
        folder = os.path.join(TMP, "small-files")
        os.makedirs(folder)
        topics = ["otters crack shellfish with stones", "lichens grow on bare granite",
                  "tides follow the moon", "owls swallow their prey whole",
                  "kelp forests shelter fish", "glaciers carve valleys"]
        for i, topic in enumerate(topics):
            with open(os.path.join(folder, "note%d.txt" % i), "w") as f:
                f.write("A short note: %s.\n" % topic)
        before = self.embedding_requests()
        results = self.store.ingest_directory(Gio.File.new_for_path(folder), "small", None, None, None)
        self.assertEqual([r.get_outcome() for r in results], [Stache.IngestOutcome.ADDED] * 6)
        # six one-chunk files, three texts per request (openai_batch_size):
        # two requests, not one per file
        self.assertEqual(self.embedding_requests() - before, 2)

        with open(os.path.join(folder, "note2.txt"), "w") as f:
            f.write("A short note: POISON in the tide tables.\n")
        for i in (0, 4):
            with open(os.path.join(folder, "note%d.txt" % i), "a") as f:
                f.write("Changed the same day.\n")
        results = self.store.ingest_directory(Gio.File.new_for_path(folder), "small", None, None, None)
        outcomes = [r.get_outcome() for r in results]
        self.assertEqual(outcomes, [Stache.IngestOutcome.REPLACED, Stache.IngestOutcome.UNCHANGED,
                                    Stache.IngestOutcome.FAILED, Stache.IngestOutcome.UNCHANGED,
                                    Stache.IngestOutcome.REPLACED, Stache.IngestOutcome.UNCHANGED])
        self.assertIn("refused by policy", results[2].get_reason())
        self.assertTrue(results[2].get_source().endswith("note2.txt"), results[2].get_source())
        # the refused file keeps its old text; the others have their new one
        hits = self.store.search("tides follow the moon", "small", 1, None)
        self.assertTrue(hits[0].get_metadata().get_string_member("source").endswith("note2.txt"))
        self.assertIn("tides follow the moon", hits[0].get_text())
        hits = self.store.search("otters changed the same day", "small", 1, None)
        self.assertIn("Changed the same day", hits[0].get_text())
        self.assertEqual(self.store.count_chunks("small", None), 6)

    def test_cli_ask_prints_tokens_as_they_come(self):
        env = dict(os.environ)
        env.update({"VECTORDB_PROVIDER": "qdrant", "QDRANT_URL": self.url,
                    "EMBEDDING_PROVIDER": "openai", "OPENAI_BASE_URL": self.url + "/v1",
                    "OPENAI_API_KEY": OPENAI_KEY, "LLM_PROVIDER": "anthropic",
                    "ANTHROPIC_BASE_URL": self.url, "ANTHROPIC_API_KEY": ANTHROPIC_KEY,
                    "SQLITE_PATH": os.path.join(TMP, "index.db")})
        samples = os.environ["STACHE_TEST_SAMPLES"]
        subprocess.run([os.environ["STACHE_TEST_TOOL"], "ingest", "-n", "cli", samples],
                       env=env, check=True, capture_output=True, timeout=120)
        Fakes.token_delay = 0.15
        try:
            start = time.monotonic()
            proc = subprocess.Popen([os.environ["STACHE_TEST_TOOL"], "ask", "-n", "cli",
                                     "How do sea stars open mussels?"],
                                    env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE)
            first = os.read(proc.stdout.fileno(), 5)
            first_at = time.monotonic() - start
            rest, err = proc.communicate(timeout=120)
            done_at = time.monotonic() - start
        finally:
            Fakes.token_delay = 0.0
        self.assertEqual(proc.returncode, 0, err)
        out = (first + rest).decode()
        self.assertTrue(out.startswith("According to [1]:"), out)
        self.assertIn("Sources:", out)
        # the first words were on the terminal well before the answer ended
        print("stache ask: first words after %.2f s, whole answer after %.2f s"
              % (first_at, done_at), file=sys.stderr)
        self.assertLess(first_at + 0.6, done_at, (first_at, done_at))

    def test_async_ask_keeps_the_main_loop_running_and_cancels(self):
        samples = Gio.File.new_for_path(os.environ["STACHE_TEST_SAMPLES"])
        self.store.ingest_directory(samples, "async", None, None, None)
        loop = GLib.MainLoop()
        ticks = []
        GLib.timeout_add(20, lambda: ticks.append(1) or True)
        tokens = []
        handler = self.store.connect("token", lambda store, token: tokens.append(
            (token, GLib.MainContext.default().is_owner())))
        Fakes.token_delay = 0.1
        try:
            # a whole streamed answer: tokens arrive on this thread's loop,
            # which goes on ticking while the request runs
            result = []
            self.store.ask_async("How do sea stars open mussels?", "async", 3, None,
                                 lambda store, res: (result.append(store.ask_finish(res)),
                                                     loop.quit()))
            loop.run()
            answer = result[0]
            self.assertEqual("".join(t for t, _ in tokens), answer.get_text())
            self.assertTrue(all(owner for _, owner in tokens))
            self.assertGreater(len(ticks), 10)

            # cancelled after the first piece: the call ends at once, cancelled
            tokens.clear()
            cancellable = Gio.Cancellable()
            self.store.disconnect(handler)
            handler = self.store.connect("token", lambda store, token: cancellable.cancel())
            errors = []

            def done(store, res):
                try:
                    store.ask_finish(res)
                except GLib.Error as error:
                    errors.append(error)
                loop.quit()

            start = time.monotonic()
            self.store.ask_async("How do sea stars open mussels?", "async", 3, cancellable, done)
            loop.run()
            self.assertEqual(len(errors), 1)
            self.assertTrue(errors[0].matches(Gio.io_error_quark(), Gio.IOErrorEnum.CANCELLED),
                            errors[0].message)
            self.assertLess(time.monotonic() - start, 1.0)
        finally:
            Fakes.token_delay = 0.0
            self.store.disconnect(handler)

    def test_wrong_key_is_reported_without_any_key(self):
        settings = Stache.Settings.new_from_file(None)
        for key in ("sqlite_path", "vectordb_provider", "qdrant_url", "embedding_provider",
                    "openai_base_url", "http_backoff_ms"):
            settings.set_string(key, self.settings.get_string(key, None))
        settings.set_string("openai_api_key", "sk-wrong-key-5555")
        store = Stache.Store.new(settings)
        with self.assertRaises(GLib.Error) as caught:
            store.ingest_text("text", "notes", None)
        message = caught.exception.message
        self.assertIn("Incorrect API key provided", message)
        self.assertIn("401", message)
        for secret in ("sk-wrong-key-5555", OPENAI_KEY, ANTHROPIC_KEY):
            self.assertNotIn(secret, message)


if __name__ == "__main__":
    try:
        unittest.main(verbosity=2)
    finally:
        shutil.rmtree(TMP, ignore_errors=True)

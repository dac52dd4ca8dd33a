# test_fallback.py: the `fallback` LLM and embeddings providers, with the
# openai and anthropic plugins as members against an in-process server that
# answers each request as the test scripts it (HTTP status, OpenAI or
# Anthropic error bodies), and the built-in extractive and hashing
# providers as the members that need no service.
#
# SPDX-License-Identifier: LGPL-2.1-or-later

import json
import os
import shutil
import subprocess
import sys
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

OPENAI_KEY = "sk-fallback-openai-1234"
ANTHROPIC_KEY = "sk-ant-fallback-5678"
DIMS = 16


class Scripted(BaseHTTPRequestHandler):
    """Answers POSTs from a per-path queue of (status, body); when the queue is
    empty, with a normal OpenAI or Anthropic answer."""

    plan = {}
    seen = {}
    lock = threading.Lock()

    def log_message(self, *args):
        pass

    def reply(self, status, body, content_type="application/json"):
        data = body if isinstance(body, bytes) else json.dumps(body).encode()
        self.send_response(status)
        self.send_header("Content-Type", content_type)
        self.send_header("Content-Length", str(len(data)))
        if status in (429, 503):
            self.send_header("Retry-After", "0")
        self.end_headers()
        self.wfile.write(data)

    def do_POST(self):
        body = json.loads(self.rfile.read(int(self.headers.get("Content-Length", 0))))
        with Scripted.lock:
            Scripted.seen[self.path] = Scripted.seen.get(self.path, 0) + 1
            queue = Scripted.plan.get(self.path, [])
            scripted = queue.pop(0) if queue else None
        if scripted is not None:
            return self.reply(*scripted)
        if self.path == "/v1/chat/completions":
            text = "openai says hello"
            if body.get("stream"):
                chunks = [{"id": "c1", "object": "chat.completion.chunk", "created": 1,
                           "model": "gpt-test", "choices": [{"index": 0, "delta": {"content": piece},
                                                             "finish_reason": None}]}
                          for piece in ("openai ", "says ", "hello")]
                chunks.append({"id": "c1", "object": "chat.completion.chunk", "created": 1,
                               "model": "gpt-test",
                               "choices": [{"index": 0, "delta": {}, "finish_reason": "stop"}]})
                data = "".join("data: %s\n\n" % json.dumps(c) for c in chunks) + "data: [DONE]\n\n"
                return self.reply(200, data.encode(), "text/event-stream")
            return self.reply(200, {"id": "c1", "object": "chat.completion", "created": 1,
                                    "model": "gpt-test",
                                    "choices": [{"index": 0, "finish_reason": "stop",
                                                 "message": {"role": "assistant", "content": text}}],
                                    "usage": {"prompt_tokens": 3, "completion_tokens": 3,
                                              "total_tokens": 6}})
        if self.path == "/v1/embeddings":
            data = [{"object": "embedding", "index": i,
                     "embedding": [float(len(t) % 7 + k) for k in range(DIMS)]}
                    for i, t in enumerate(body["input"])]
            return self.reply(200, {"object": "list", "data": data, "model": body["model"],
                                    "usage": {"prompt_tokens": 1, "total_tokens": 1}})
        if self.path == "/v1/messages" and body.get("stream"):
            events = [("message_start", {"type": "message_start", "message": {
                          "id": "msg_1", "type": "message", "role": "assistant", "model": "claude-test",
                          "content": [], "stop_reason": None, "stop_sequence": None,
                          "usage": {"input_tokens": 3, "output_tokens": 1}}}),
                      ("content_block_start", {"type": "content_block_start", "index": 0,
                                               "content_block": {"type": "text", "text": ""}})]
            events += [("content_block_delta", {"type": "content_block_delta", "index": 0,
                                                "delta": {"type": "text_delta", "text": piece}})
                       for piece in ("anthropic ", "says ", "hello")]
            events += [("content_block_stop", {"type": "content_block_stop", "index": 0}),
                       ("message_delta", {"type": "message_delta",
                                          "delta": {"stop_reason": "end_turn", "stop_sequence": None},
                                          "usage": {"output_tokens": 3}}),
                       ("message_stop", {"type": "message_stop"})]
            data = "".join("event: %s\ndata: %s\n\n" % (e, json.dumps(d)) for e, d in events)
            return self.reply(200, data.encode(), "text/event-stream")
        if self.path == "/v1/messages":
            return self.reply(200, {"id": "msg_1", "type": "message", "role": "assistant",
                                    "model": "claude-test",
                                    "content": [{"type": "text", "text": "anthropic says hello"}],
                                    "stop_reason": "end_turn", "stop_sequence": None,
                                    "usage": {"input_tokens": 3, "output_tokens": 3}})
        self.reply(404, {"error": {"message": "unknown path " + self.path}})


def openai_error(status, message, kind="server_error"):
    return (status, {"error": {"message": message, "type": kind, "param": None, "code": None}})


def anthropic_error(status, kind, message):
    return (status, {"type": "error", "error": {"type": kind, "message": message}})


class FallbackTests(unittest.TestCase):
    @classmethod
    def setUpClass(cls):
        cls.server = ThreadingHTTPServer(("127.0.0.1", 0), Scripted)
        threading.Thread(target=cls.server.serve_forever, daemon=True).start()
        cls.url = "http://127.0.0.1:%d" % cls.server.server_address[1]

    @classmethod
    def tearDownClass(cls):
        cls.server.shutdown()

    def setUp(self):
        Scripted.plan = {}
        Scripted.seen = {}

    def settings(self, **values):
        settings = Stache.Settings.new_from_file(None)
        base = {
            "openai_base_url": self.url + "/v1", "openai_api_key": OPENAI_KEY,
            "anthropic_base_url": self.url, "anthropic_api_key": ANTHROPIC_KEY,
            "http_max_retries": "1", "http_backoff_ms": "5", "http_timeout": "5",
            "hashing_dimensions": str(DIMS),
        }
        base.update(values)
        for key, value in base.items():
            settings.set_string(key, value)
        return settings

    def llm(self, chain, **values):
        return Stache.LlmProvider.create(self.settings(llm_provider="fallback",
                                                       llm_fallback_providers=chain, **values))

    def assertNoKeys(self, text):
        for key in (OPENAI_KEY, ANTHROPIC_KEY):
            self.assertNotIn(key, text)

    # ---- LLM ----

    def test_first_member_answers(self):
        llm = self.llm("openai,extractive")
        completion = llm.generate("Say hello", None, None, None)
        self.assertEqual(completion.get_text(), "openai says hello")
        self.assertEqual(Scripted.seen, {"/v1/chat/completions": 1})
        self.assertTrue(llm.has_capability("fallback"))

    def test_moves_on_after_server_errors(self):
        # 503 on the attempt and on the one retry: transient, so the next member answers
        Scripted.plan = {"/v1/chat/completions": [openai_error(503, "The engine is overloaded")] * 2}
        completion = self.llm("openai,anthropic").generate("Say hello", None, None, None)
        self.assertEqual(completion.get_text(), "anthropic says hello")
        self.assertEqual(Scripted.seen, {"/v1/chat/completions": 2, "/v1/messages": 1})

    def test_moves_on_after_rate_limit(self):
        Scripted.plan = {"/v1/chat/completions": [openai_error(429, "Rate limit reached", "requests")] * 2}
        completion = self.llm("openai,extractive").generate("Question: hi\n\nSources:\n(none)\n",
                                                             None, None, None)
        self.assertEqual(completion.get_model(), "extractive")

    def test_moves_on_when_unreachable(self):
        # a port nothing listens on: connection refused
        probe = ThreadingHTTPServer(("127.0.0.1", 0), Scripted)
        dead = "http://127.0.0.1:%d/v1" % probe.server_address[1]
        probe.server_close()
        llm = self.llm("openai,anthropic", openai_base_url=dead)
        self.assertEqual(llm.generate("Say hello", None, None, None).get_text(),
                         "anthropic says hello")

    def test_stops_after_bad_request(self):
        Scripted.plan = {"/v1/chat/completions": [
            openai_error(400, "The model `gpt-nope` does not exist", "invalid_request_error")]}
        with self.assertRaises(GLib.Error) as caught:
            self.llm("openai,anthropic").generate("Say hello", None, None, None)
        error = caught.exception
        self.assertTrue(error.matches(Stache.http_error_quark(), Stache.HttpError.CLIENT))
        self.assertIn("does not exist", error.message)
        self.assertIn("400", error.message)
        # the second member was never asked
        self.assertEqual(Scripted.seen, {"/v1/chat/completions": 1})

    def test_stops_after_unauthorized(self):
        Scripted.plan = {"/v1/chat/completions": [
            openai_error(401, "Incorrect API key provided: " + OPENAI_KEY, "invalid_request_error")]}
        with self.assertRaises(GLib.Error) as caught:
            self.llm("openai,anthropic").generate("Say hello", None, None, None)
        self.assertTrue(caught.exception.matches(Stache.http_error_quark(), Stache.HttpError.CLIENT))
        self.assertNoKeys(caught.exception.message)
        self.assertNotIn("/v1/messages", Scripted.seen)

    def test_all_members_fail(self):
        Scripted.plan = {
            "/v1/chat/completions": [openai_error(500, "boom")] * 2,
            "/v1/messages": [anthropic_error(529, "overloaded_error", "Overloaded")] * 2,
        }
        with self.assertRaises(GLib.Error) as caught:
            self.llm("openai,anthropic").generate("Say hello", None, None, None)
        error = caught.exception
        self.assertTrue(error.matches(Stache.http_error_quark(), Stache.HttpError.SERVER))
        self.assertIn("llm_fallback_providers", error.message)
        self.assertIn("openai:", error.message)
        self.assertIn("anthropic:", error.message)
        self.assertIn("Overloaded", error.message)
        self.assertNoKeys(error.message)

    def test_cancelled_does_not_move_on(self):
        cancellable = Gio.Cancellable()
        cancellable.cancel()
        with self.assertRaises(GLib.Error) as caught:
            self.llm("openai,extractive").generate("Say hello", None, None, cancellable)
        self.assertTrue(caught.exception.matches(Gio.io_error_quark(), Gio.IOErrorEnum.CANCELLED))

    def test_stream_moves_on_before_any_token(self):
        Scripted.plan = {"/v1/chat/completions": [openai_error(502, "Bad gateway")] * 2}
        llm = self.llm("openai,anthropic")
        tokens = []
        completion = llm.generate_stream("Say hello", None, None, lambda t, *rest: tokens.append(t), None)
        self.assertEqual("".join(tokens), "anthropic says hello")
        self.assertEqual(completion.get_text(), "anthropic says hello")

        Scripted.plan = {}
        tokens = []
        completion = llm.generate_stream("Say hello", None, None, lambda t, *rest: tokens.append(t), None)
        self.assertEqual("".join(tokens), completion.get_text())
        self.assertEqual(completion.get_text(), "openai says hello")

    def test_settings_are_checked(self):
        for chain, words in (("", "lists no providers"),
                             ("openai,fallback", "would try itself"),
                             ("openai,no-such-llm", "no-such-llm")):
            with self.assertRaises(GLib.Error) as caught:
                self.llm(chain)
            self.assertTrue(caught.exception.matches(Stache.error_quark(),
                                                     Stache.Error.INVALID_SETTING), chain)
            self.assertIn("llm_fallback_providers", caught.exception.message)
            self.assertIn(words, caught.exception.message)

    def test_member_that_cannot_be_created_is_left_out_and_reported(self):
        env = dict(os.environ, LLM_PROVIDER="fallback", LLM_FALLBACK_PROVIDERS="anthropic,extractive",
                   SQLITE_PATH=os.path.join(TMP, "cli.db"))
        env.pop("ANTHROPIC_API_KEY", None)
        run = subprocess.run([os.environ["STACHE_TEST_TOOL"], "ask", "What is a sourdough starter?"],
                             env=env, capture_output=True, text=True, timeout=60)
        self.assertEqual(run.returncode, 0, run.stderr)
        self.assertIn("anthropic", run.stderr)
        self.assertIn("left out", run.stderr)
        self.assertIn("anthropic_api_key", run.stderr.lower())
        self.assertIn("Sources:", run.stdout)

        # nothing left at all: an error with every reason
        env["LLM_FALLBACK_PROVIDERS"] = "anthropic"
        run = subprocess.run([os.environ["STACHE_TEST_TOOL"], "ask", "anything"],
                             env=env, capture_output=True, text=True, timeout=60)
        self.assertEqual(run.returncode, 1)
        self.assertIn("None of the providers", run.stderr)

    # ---- embeddings ----

    def embedder(self, chain, **values):
        return Stache.EmbeddingProvider.create(self.settings(
            embedding_provider="fallback", embedding_fallback_providers=chain, **values))

    def test_embeddings_move_on_and_keep_one_length(self):
        Scripted.plan = {"/v1/embeddings": [openai_error(503, "overloaded")] * 2}
        embedder = self.embedder("openai,hashing")
        vectors = embedder.embed_batch(["alpha", "beta", "gamma"], None)
        self.assertEqual(len(vectors), 3 * DIMS)
        self.assertEqual(Scripted.seen, {"/v1/embeddings": 2})
        self.assertEqual(embedder.get_dimensions(), DIMS)

        # a member with another vector length is refused, not mixed in
        embedder = self.embedder("openai,hashing", hashing_dimensions=str(DIMS * 2))
        Scripted.plan = {"/v1/embeddings": [openai_error(503, "overloaded")] * 2}
        self.assertEqual(len(embedder.embed_batch(["alpha"], None)), DIMS * 2)
        with self.assertRaises(GLib.Error) as caught:
            embedder.embed_batch(["alpha"], None)
        self.assertTrue(caught.exception.matches(Stache.error_quark(), Stache.Error.FAILED))
        self.assertIn("same model", caught.exception.message)

    def test_embeddings_stop_after_bad_request(self):
        Scripted.plan = {"/v1/embeddings": [
            openai_error(400, "This model's maximum context length is 8192 tokens",
                         "invalid_request_error")]}
        with self.assertRaises(GLib.Error) as caught:
            self.embedder("openai,hashing").embed_batch(["alpha"], None)
        self.assertTrue(caught.exception.matches(Stache.http_error_quark(), Stache.HttpError.CLIENT))
        self.assertIn("maximum context length", caught.exception.message)
        self.assertEqual(Scripted.seen, {"/v1/embeddings": 1})


if __name__ == "__main__":
    try:
        unittest.main(verbosity=2)
    finally:
        shutil.rmtree(TMP, ignore_errors=True)

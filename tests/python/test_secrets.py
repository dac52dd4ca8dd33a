# test_secrets.py: no API key appears in any error message, log line or
# `stache config` output, whichever remote provider fails and however.
#
# Every remote plugin with a key (openai, anthropic, qdrant, cohere) is run
# through the `stache` command, with full debug logging on
# (G_MESSAGES_DEBUG=all), against one in-process server that answers every
# request with an error whose body quotes the key it was sent — in the
# error shape of each API — and whose retried answers carry Retry-After.
# Everything the command prints is searched for each key.
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
STACHE = os.environ["STACHE_TEST_TOOL"]

KEYS = {
    "OPENAI_API_KEY": "sk-proj-secret-openai-4f1d9a",
    "ANTHROPIC_API_KEY": "sk-ant-secret-anthropic-77c2",
    "QDRANT_API_KEY": "qdrant-secret-key-0b6e",
    "COHERE_API_KEY": "cohere-secret-key-93aa",
}


class Echo(BaseHTTPRequestHandler):
    """Fails every request with STATUS, quoting every header value it got."""

    status = 401
    requests = 0

    def log_message(self, *args):
        pass

    def answer(self):
        Echo.requests += 1
        length = int(self.headers.get("Content-Length", 0))
        if length:
            self.rfile.read(length)
        quoted = " ".join("%s=%s" % (k, v) for k, v in self.headers.items()
                          if k.lower() in ("authorization", "x-api-key", "api-key"))
        message = "Incorrect API key provided: " + quoted
        # one body that every API's error extractor finds its message in
        body = json.dumps({"error": {"message": message, "type": "authentication_error"},
                           "message": message, "type": "error",
                           "status": {"error": message}}).encode()
        self.send_response(Echo.status)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(body)))
        self.send_header("X-Echo", quoted)
        if Echo.status in (429, 503):
            self.send_header("Retry-After", "0")
        self.end_headers()
        self.wfile.write(body)

    do_GET = do_POST = do_PUT = do_DELETE = answer


class SecretTests(unittest.TestCase):
    @classmethod
    def setUpClass(cls):
        cls.server = ThreadingHTTPServer(("127.0.0.1", 0), Echo)
        threading.Thread(target=cls.server.serve_forever, daemon=True).start()
        url = "http://127.0.0.1:%d" % cls.server.server_address[1]
        cls.env = dict(ENV, **KEYS)
        cls.env.update({
            "STACHE_PLUGIN_PATH": os.environ["STACHE_TEST_BUILTIN_PLUGINS"],
            "G_MESSAGES_DEBUG": "all",
            "OPENAI_BASE_URL": url + "/v1", "ANTHROPIC_BASE_URL": url,
            "QDRANT_URL": url, "COHERE_URL": url,
            "HTTP_MAX_RETRIES": "1", "HTTP_BACKOFF_MS": "5",
            "SQLITE_PATH": os.path.join(TMP, "secrets.db"),
        })
        cls.samples = os.environ["STACHE_TEST_SAMPLES"]

    @classmethod
    def tearDownClass(cls):
        cls.server.shutdown()

    def run_stache(self, *args, env=None, expect=None):
        run = subprocess.run([STACHE, *args], env=dict(self.env, **(env or {})),
                             capture_output=True, text=True, timeout=120)
        if expect is not None:
            self.assertEqual(run.returncode, expect, run.stdout + run.stderr)
        output = run.stdout + run.stderr
        for name, key in KEYS.items():
            self.assertNotIn(key, output, "%s leaked by stache %s" % (name, " ".join(args)))
            # nor a long piece of it
            self.assertNotIn(key[4:-4], output, "part of %s leaked" % name)
        return run

    def test_config_shows_no_key(self):
        config = os.path.join(TMP, "config-home", "stache")
        os.makedirs(config, exist_ok=True)
        with open(os.path.join(config, "stache.conf"), "w") as f:
            f.write("[stache]\nqdrant_api_key=qdrant-secret-key-0b6e\n")
        for args in (("config",), ("config", "--json"), ("plugins",), ("plugins", "--json")):
            run = self.run_stache(*args, expect=0)
            if args[0] == "config":
                self.assertIn("openai_api_key", run.stdout)
        data = json.loads(self.run_stache("config", "--json", expect=0).stdout)
        settings = {entry["key"]: entry for entry in data["settings"]}
        for key in ("openai_api_key", "anthropic_api_key", "qdrant_api_key", "cohere_api_key"):
            self.assertTrue(settings[key]["secret"], key)
            self.assertEqual(settings[key]["value"], "********", key)

    def check_failure(self, args, env, status, words):
        Echo.status = status
        # a fresh store each time: documents already indexed would not be sent
        env = dict({"SQLITE_PATH": os.path.join(TMP, "store-%d.db" % Echo.requests)}, **env)
        before = Echo.requests
        run = self.run_stache(*args, env=env)
        self.assertNotEqual(run.returncode, 0, run.stdout + run.stderr)
        self.assertGreater(Echo.requests, before, "the server was never asked")
        # the service's message came through, with the key taken out of it
        self.assertIn("Incorrect API key provided", run.stderr)
        self.assertIn("********", run.stderr)
        for word in words:
            self.assertIn(word, run.stderr)
        return run

    def test_embedding_errors(self):
        self.check_failure(("ingest", self.samples), {"EMBEDDING_PROVIDER": "openai"}, 401,
                           ["401"])
        # retried (debug lines name each retry), then failed
        run = self.check_failure(("ingest", self.samples), {"EMBEDDING_PROVIDER": "openai"}, 503,
                                 ["503"])
        # debug lines go to stderr, where they cannot mix with --json output
        self.assertIn("retrying", run.stderr)
        self.assertNotIn("DEBUG", run.stdout)

    def test_vector_db_errors(self):
        for status in (403, 500):
            self.check_failure(("ingest", self.samples), {"VECTORDB_PROVIDER": "qdrant"}, status,
                               [str(status)])

    def test_llm_errors(self):
        db = {"SQLITE_PATH": os.path.join(TMP, "ask.db")}
        self.run_stache("ingest", self.samples, env=db, expect=0)
        for status in (401, 529):
            self.check_failure(("ask", "How do sea stars open mussels?"),
                               dict(db, LLM_PROVIDER="anthropic"), status, [str(status)])
        # through a fallback chain, every member's reason is reported
        self.check_failure(("ask", "How do sea stars open mussels?"),
                           dict(db, LLM_PROVIDER="fallback", LLM_FALLBACK_PROVIDERS="openai,anthropic"),
                           503, ["openai:", "anthropic:"])

    def test_reranker_errors(self):
        db = {"SQLITE_PATH": os.path.join(TMP, "rerank.db")}
        self.run_stache("ingest", self.samples, env=db, expect=0)
        for status in (401, 429):
            self.check_failure(("search", "sea stars"), dict(db, RERANKER_PROVIDER="cohere"), status,
                               [str(status)])


if __name__ == "__main__":
    try:
        unittest.main(verbosity=2)
    finally:
        shutil.rmtree(TMP, ignore_errors=True)

# test_mcp.py: `stache mcp`, the Model Context Protocol server, driven over
# its stdin and stdout the way a desktop client does: a whole session, then
# every kind of bad input, after each of which the server must still answer.
#
# SPDX-License-Identifier: LGPL-2.1-or-later

import contextlib
import json
import os
import queue
import shutil
import socket
import sqlite3
import subprocess
import sys
import threading
import unittest

sys.path.insert(0, os.path.dirname(__file__))
import stache_test_env  # noqa: E402

STACHE = os.environ["STACHE_TEST_TOOL"]
BUILTINS = os.environ["STACHE_TEST_BUILTIN_PLUGINS"]

LATEST = "2025-11-25"
MAX_TOP_K = 1000      # STACHE_OPERATION_MAX_TOP_K
TIMEOUT = 60          # a hang fails the test instead of blocking it
QUIET = 1.0           # how long silence must last to count as "no answer"

TOOLS = {"search", "ask", "ingest_text", "list_namespaces", "list_documents",
         "get_document", "delete_document"}

TEXTS = [
    ("volcano.md", "geology",
     "Volcanoes erupt when magma rises through the crust. Basalt lava flows are runny, "
     "while rhyolite lava is thick and explosive. Iceland sits on a volcanic hotspot."),
    ("sourdough.md", "cooking",
     "Sourdough bread rises with a starter of wild yeast and lactic acid bacteria. "
     "Feed the starter flour and water daily; bake the dough in a hot dutch oven."),
    ("comets.md", "astronomy",
     "Comets are icy bodies from the Oort cloud. Near the sun their ice sublimates "
     "and forms a glowing coma and a long tail that points away from the sun."),
]


def is_response(message):
    return (isinstance(message, dict) and message.get("jsonrpc") == "2.0" and "id" in message
            and (("result" in message) != ("error" in message))
            and (("error" not in message)
                 or (isinstance(message["error"].get("code"), int)
                     and isinstance(message["error"].get("message"), str))))


class McpClient:
    """The server as a subprocess; every stdout line is checked to be JSON-RPC."""

    def __init__(self, env):
        self.proc = subprocess.Popen([STACHE, "mcp"], env=env, stdin=subprocess.PIPE,
                                     stdout=subprocess.PIPE, stderr=subprocess.PIPE)
        self.lines = queue.Queue()
        self.bad_lines = []
        self.stderr = b""
        self.next_id = 100
        self.reader = threading.Thread(target=self._read, daemon=True)
        self.reader.start()
        self.err_reader = threading.Thread(target=self._read_stderr, daemon=True)
        self.err_reader.start()

    def _read(self):
        for raw in self.proc.stdout:
            try:
                message = json.loads(raw.decode("utf-8"))
            except (UnicodeDecodeError, ValueError):
                self.bad_lines.append(raw)
                continue
            valid = (is_response(message) or
                     (isinstance(message, list) and message and all(map(is_response, message))))
            if not valid or not raw.endswith(b"\n") or b"\n" in raw[:-1]:
                self.bad_lines.append(raw)
            self.lines.put(message)
        self.lines.put(None)

    def _read_stderr(self):
        self.stderr = self.proc.stderr.read()

    def send_raw(self, data):
        if isinstance(data, str):
            data = data.encode("utf-8")
        self.proc.stdin.write(data + b"\n")
        self.proc.stdin.flush()

    def send(self, message):
        self.send_raw(json.dumps(message))

    def receive(self, timeout=TIMEOUT):
        try:
            message = self.lines.get(timeout=timeout)
        except queue.Empty:
            raise AssertionError(f"no answer within {timeout} s; stderr:\n{self.stderr!r}")
        if message is None:
            raise AssertionError(f"the server closed stdout; stderr:\n{self.stderr!r}")
        return message

    def request(self, method, params=None, request_id=None):
        if request_id is None:
            request_id = self.next_id
            self.next_id += 1
        message = {"jsonrpc": "2.0", "id": request_id, "method": method}
        if params is not None:
            message["params"] = params
        self.send(message)
        answer = self.receive()
        assert isinstance(answer, dict) and answer["id"] == request_id, answer
        return answer

    def notify(self, method, params=None):
        message = {"jsonrpc": "2.0", "method": method}
        if params is not None:
            message["params"] = params
        self.send(message)

    def call(self, name, arguments=None):
        params = {"name": name}
        if arguments is not None:
            params["arguments"] = arguments
        answer = self.request("tools/call", params)
        assert "result" in answer, answer
        return answer["result"]

    def initialize(self, version=LATEST):
        answer = self.request("initialize", {
            "protocolVersion": version, "capabilities": {},
            "clientInfo": {"name": "test_mcp", "version": "1.0"}})
        self.notify("notifications/initialized")
        return answer

    def assert_silent(self, testcase):
        try:
            message = self.lines.get(timeout=QUIET)
        except queue.Empty:
            return
        testcase.fail(f"unexpected answer: {message}")

    def close(self):
        """EOF on stdin: the server finishes and exits; returns its status."""
        self.proc.stdin.close()
        try:
            status = self.proc.wait(timeout=TIMEOUT)
        finally:
            if self.proc.poll() is None:
                self.proc.kill()
                self.proc.wait()
        self.reader.join(timeout=TIMEOUT)
        self.err_reader.join(timeout=TIMEOUT)
        return status


class McpTestCase(unittest.TestCase):
    def setUp(self):
        self.tmp, self.env = stache_test_env.isolated_environment()
        self.env["STACHE_PLUGIN_PATH"] = BUILTINS
        # Input from outside must never trip an assertion in GLib or json-glib
        self.env["G_DEBUG"] = "gc-friendly,fatal-criticals"
        self.client = McpClient(self.env)

    def tearDown(self):
        self.stop_client()
        shutil.rmtree(self.tmp, ignore_errors=True)

    def stop_client(self):
        if self.client.proc.poll() is None:
            self.client.proc.kill()
            self.client.proc.wait()
        for stream in (self.client.proc.stdin, self.client.proc.stdout, self.client.proc.stderr):
            try:
                stream.close()
            except (OSError, ValueError):
                pass

    def finish(self):
        """Closes the session: exit status 0, and stdout held only JSON-RPC."""
        status = self.client.close()
        self.assertEqual(status, 0, self.client.stderr.decode(errors="replace"))
        self.assertEqual(self.client.bad_lines, [], "stdout holds something that is not JSON-RPC")

    def assert_error(self, answer, code):
        self.assertIn("error", answer, answer)
        self.assertEqual(answer["error"]["code"], code, answer)

    def assert_alive(self):
        self.assertEqual(self.client.request("ping")["result"], {})

    def assert_tool_error(self, result, *words):
        self.assertTrue(result.get("isError"), result)
        text = result["content"][0]["text"]
        self.assertEqual(result["content"][0]["type"], "text")
        for word in words:
            self.assertIn(word, text)
        self.assertNotIn("structuredContent", result)

    # ---- the whole session ----

    def test_full_session(self):
        client = self.client
        init = client.initialize()["result"]
        self.assertEqual(init["protocolVersion"], LATEST)
        self.assertEqual(init["serverInfo"]["name"], "stache")
        self.assertTrue(init["serverInfo"]["version"])
        self.assertEqual(init["capabilities"], {"tools": {"listChanged": False}})

        tools = client.request("tools/list")["result"]["tools"]
        self.assertEqual({tool["name"] for tool in tools}, TOOLS)
        self.assertNotIn("nextCursor", client.request("tools/list", {"cursor": "x"})["result"])
        by_name = {tool["name"]: tool for tool in tools}
        for tool in tools:
            schema = tool["inputSchema"]
            self.assertTrue(tool["description"])
            self.assertTrue(tool["title"])
            self.assertEqual(schema["type"], "object")
            self.assertIs(schema["additionalProperties"], False)
            self.assertEqual(tool["outputSchema"]["type"], "object")
            self.assertIn("readOnlyHint", tool["annotations"])
            for name in schema.get("required", []):
                self.assertIn(name, schema["properties"])
        search = by_name["search"]["inputSchema"]
        self.assertEqual(search["required"], ["query"])
        self.assertEqual(search["properties"]["mode"]["enum"], ["hybrid", "vector", "keyword"])
        self.assertEqual(search["properties"]["top_k"]["type"], "integer")
        self.assertEqual(search["properties"]["top_k"]["minimum"], 1)
        # One top_k limit for the command, REST and MCP (STACHE_OPERATION_MAX_TOP_K)
        self.assertEqual(search["properties"]["top_k"]["maximum"], MAX_TOP_K)
        self.assertEqual(by_name["ask"]["inputSchema"]["required"], ["question"])
        self.assertEqual(by_name["ask"]["inputSchema"]["properties"]["top_k"]["maximum"], MAX_TOP_K)
        self.assertEqual(by_name["ingest_text"]["inputSchema"]["required"], ["text"])
        self.assertEqual(by_name["get_document"]["inputSchema"]["required"], ["document_id"])
        self.assertEqual(by_name["delete_document"]["inputSchema"]["required"], ["document_id"])
        self.assertNotIn("required", by_name["list_documents"]["inputSchema"])
        self.assertTrue(by_name["delete_document"]["annotations"]["destructiveHint"])
        self.assertTrue(by_name["search"]["annotations"]["readOnlyHint"])

        ids = {}
        for source, namespace, text in TEXTS:
            result = client.call("ingest_text", {"text": text, "source": source,
                                                 "namespace": namespace, "title": source.title(),
                                                 "metadata": {"topic": namespace}})
            self.assertFalse(result.get("isError"), result)
            content = result["structuredContent"]
            self.assertEqual(content["outcome"], "added")
            self.assertEqual(content["namespace"], namespace)
            self.assertGreaterEqual(content["chunks"], 1)
            self.assertIn(content["document_id"], result["content"][0]["text"])
            ids[source] = content["document_id"]
        again = client.call("ingest_text", {"text": TEXTS[0][2], "source": "volcano.md",
                                            "namespace": "geology"})
        self.assertEqual(again["structuredContent"]["outcome"], "unchanged")

        result = client.call("search", {"query": "sourdough starter yeast", "top_k": 3})
        self.assertFalse(result.get("isError"), result)
        hits = result["structuredContent"]["results"]
        self.assertGreaterEqual(len(hits), 1)
        self.assertEqual(hits[0]["document_id"], ids["sourdough.md"])
        self.assertEqual(hits[0]["rank"], 1)
        self.assertTrue(result["content"][0]["text"].startswith("[1] sourdough.md"))
        keyword = client.call("search", {"query": "comet tail", "mode": "keyword",
                                         "namespace": "astronomy"})
        self.assertEqual(keyword["structuredContent"]["results"][0]["document_id"], ids["comets.md"])
        filtered = client.call("search", {"query": "lava", "filter": {"topic": "cooking"}})
        self.assertNotIn(ids["volcano.md"],
                         [hit["document_id"] for hit in filtered["structuredContent"]["results"]])

        answer = client.call("ask", {"question": "Why does a comet have a tail?", "top_k": 2})
        self.assertFalse(answer.get("isError"), answer)
        self.assertIn("[1]", answer["structuredContent"]["answer"])
        self.assertEqual(answer["structuredContent"]["sources"][0]["document_id"], ids["comets.md"])
        self.assertIn("comets.md", answer["content"][0]["text"])

        namespaces = client.call("list_namespaces")["structuredContent"]["namespaces"]
        self.assertTrue({"geology", "cooking", "astronomy"} <= {ns["name"] for ns in namespaces})

        documents = client.call("list_documents")["structuredContent"]["documents"]
        self.assertEqual({doc["id"] for doc in documents}, set(ids.values()))
        only = client.call("list_documents", {"namespace": "cooking"})["structuredContent"]["documents"]
        self.assertEqual([doc["id"] for doc in only], [ids["sourdough.md"]])

        document = client.call("get_document", {"document_id": ids["comets.md"]})
        self.assertFalse(document.get("isError"), document)
        self.assertEqual(document["structuredContent"]["id"], ids["comets.md"])
        self.assertEqual(document["structuredContent"]["source"], "comets.md")
        self.assertEqual(document["structuredContent"]["namespace"], "astronomy")

        deleted = client.call("delete_document", {"document_id": ids["comets.md"]})
        self.assertEqual(deleted["structuredContent"], {"document_id": ids["comets.md"], "deleted": True})
        self.assert_tool_error(client.call("get_document", {"document_id": ids["comets.md"]}),
                               ids["comets.md"])
        self.assert_tool_error(client.call("delete_document", {"document_id": ids["comets.md"]}))
        self.assertEqual(len(client.call("list_documents")["structuredContent"]["documents"]), 2)

        self.assert_alive()
        self.finish()

    # ---- versions ----

    def test_unsupported_version_gets_the_latest(self):
        self.assertEqual(self.client.initialize("1999-01-01")["result"]["protocolVersion"], LATEST)
        self.assert_alive()
        self.finish()

    def test_older_versions_are_spoken_as_they_were(self):
        self.assertEqual(self.client.initialize("2024-11-05")["result"]["protocolVersion"], "2024-11-05")
        for tool in self.client.request("tools/list")["result"]["tools"]:
            self.assertEqual(set(tool), {"name", "description", "inputSchema"})
        result = self.client.call("ingest_text", {"text": "Old clients get text only."})
        self.assertNotIn("structuredContent", result)
        self.assertIn("Stored as document", result["content"][0]["text"])
        self.finish()

    def test_2025_03_26_has_annotations_but_no_output_schema(self):
        self.assertEqual(self.client.initialize("2025-03-26")["result"]["protocolVersion"], "2025-03-26")
        for tool in self.client.request("tools/list")["result"]["tools"]:
            self.assertIn("annotations", tool)
            self.assertNotIn("outputSchema", tool)
        self.finish()

    def test_initialize_twice_is_refused(self):
        self.client.initialize()
        self.assert_error(self.client.request("initialize", {"protocolVersion": LATEST}), -32600)
        self.assert_alive()
        self.finish()

    def test_initialize_without_version_is_invalid_params(self):
        self.assert_error(self.client.request("initialize", {"capabilities": {}}), -32602)
        self.assertEqual(self.client.initialize()["result"]["protocolVersion"], LATEST)
        self.finish()

    # ---- the lifecycle ----

    def test_request_before_initialize_is_refused(self):
        self.assert_error(self.client.request("tools/list"), -32600)
        self.assert_error(self.client.request("tools/call", {"name": "list_documents"}), -32600)
        self.assert_alive()  # pings are allowed before initialize
        self.client.initialize()
        self.assertEqual(len(self.client.request("tools/list")["result"]["tools"]), len(TOOLS))
        self.finish()

    def test_eof_right_away_exits_cleanly(self):
        self.finish()

    def test_eof_finishes_calls_in_flight(self):
        self.client.initialize()
        text = " ".join(f"Paragraph {i} about lighthouses and tides." for i in range(400))
        self.client.send({"jsonrpc": "2.0", "id": "late", "method": "tools/call",
                          "params": {"name": "ingest_text", "arguments": {"text": text}}})
        self.client.proc.stdin.close()
        answer = self.client.receive()
        self.assertEqual(answer["id"], "late")
        self.assertFalse(answer["result"].get("isError"), answer)
        self.assertEqual(self.client.proc.wait(timeout=TIMEOUT), 0)

    # ---- notifications ----

    def test_notifications_get_no_answer(self):
        self.client.initialize()
        self.client.notify("notifications/whatever", {"x": 1})
        self.client.notify("ping")
        self.client.notify("tools/list")
        self.client.notify("notifications/cancelled", {"requestId": 12345, "reason": "gone"})
        self.client.notify("notifications/cancelled")
        self.client.assert_silent(self)
        self.assert_alive()
        self.finish()

    def test_cancelled_call_is_not_answered(self):
        self.client.initialize()
        # About half a second of work: the cancellation, sent right behind
        # the request, reaches the server long before the call would end.
        text = " ".join(f"Sentence {i} about glaciers, moraines and fjords." for i in range(80000))
        self.client.send({"jsonrpc": "2.0", "id": 7, "method": "tools/call",
                          "params": {"name": "ingest_text", "arguments": {"text": text}}})
        self.client.notify("notifications/cancelled", {"requestId": 7, "reason": "test"})
        self.assertEqual(self.client.request("ping", request_id="after")["result"], {})
        self.client.proc.stdin.close()
        self.assertEqual(self.client.proc.wait(timeout=TIMEOUT), 0)
        self.client.reader.join(timeout=TIMEOUT)
        rest = []
        while not self.client.lines.empty():
            message = self.client.lines.get()
            if message is not None:
                rest.append(message)
        self.assertEqual(rest, [], "a cancelled request was answered")
        self.assertEqual(self.client.bad_lines, [])
        # The store honoured the cancellation: nothing was stored
        later = McpClient(self.env)
        try:
            later.initialize()
            self.assertEqual(later.call("list_documents")["structuredContent"]["documents"], [])
            self.assertEqual(later.close(), 0)
        finally:
            if later.proc.poll() is None:
                later.proc.kill()
                later.proc.wait()

    # ---- protocol errors ----

    def test_malformed_json_is_a_parse_error(self):
        self.client.initialize()
        for line in ["{not json", '{"jsonrpc": "2.0", "id": 1,', "\"unterminated", "]",
                     b"\xff\xfe{}"]:
            self.client.send_raw(line)
            answer = self.client.receive()
            self.assert_error(answer, -32700)
            self.assertIsNone(answer["id"])
            self.assert_alive()
        self.finish()

    def test_deep_nesting_is_a_parse_error_and_the_session_lives(self):
        # Even before initialize: a line nested 100,000 deep crashed the
        # server in json-glib's recursive parser.
        for line in ["[" * 100000, '{"a":' * 100000]:
            self.client.send_raw(line)
            answer = self.client.receive()
            self.assert_error(answer, -32700)
            self.assertIn("levels deep", answer["error"]["message"])
        self.client.initialize()
        self.assert_alive()
        self.finish()

    def test_lines_end_at_newline_only(self):
        # A raw U+2028, U+2029 or carriage return inside a string is part
        # of the message (GIOChannel used to end the line there and the
        # request was never answered).
        self.client.initialize()
        for i, text in enumerate(["para\u2029graph", "line\u2028sep", "carriage\rreturn"]):
            raw = '{"jsonrpc": "2.0", "id": %d, "method": "tools/call", "params": {"name": "search", ' \
                  '"arguments": {"query": "%s"}}}' % (100 + i, text)
            self.client.send_raw(raw)
            answer = self.client.receive()
            self.assertEqual(answer["id"], 100 + i, answer)
        self.assert_alive()
        self.finish()

    def test_nul_in_a_string_is_invalid_params(self):
        self.client.initialize()
        raw = '{"jsonrpc": "2.0", "id": 7, "method": "tools/call", "params": {"name": "ingest_text", ' \
              '"arguments": {"text": "hello \\u0000 world"}}}'
        self.client.send_raw(raw)
        answer = self.client.receive()
        self.assert_error(answer, -32602)
        self.assertEqual(answer["id"], 7)
        self.assertIn("text", answer["error"]["message"])
        hits = self.client.call("search", {"query": "hello"})["structuredContent"]["results"]
        self.assertEqual(hits, [])
        self.finish()

    def test_invalid_requests(self):
        self.client.initialize()
        for message in [{"id": 1, "method": "ping"},                       # no jsonrpc
                        {"jsonrpc": "1.0", "id": 2, "method": "ping"},
                        {"jsonrpc": "2.0", "id": 3},                       # no method
                        {"jsonrpc": "2.0", "id": 4, "method": 42},
                        {"jsonrpc": "2.0", "id": None, "method": "ping"},
                        {"jsonrpc": "2.0", "id": {"a": 1}, "method": "ping"},
                        {"jsonrpc": {"a": 1}, "id": 7, "method": "ping"},
                        {"jsonrpc": "2.0", "id": 8, "method": ["ping"]},
                        {"jsonrpc": "2.0", "id": [1], "method": "ping"},
                        42, "text", None, True]:
            self.client.send(message)
            self.assert_error(self.client.receive(), -32600)
            self.assert_alive()
        # Ids JSON cannot carry back (1e400 is infinite) are refused
        self.client.send_raw('{"jsonrpc": "2.0", "id": 1e400, "method": "ping"}')
        answer = self.client.receive()
        self.assert_error(answer, -32600)
        self.assertIsNone(answer["id"])
        self.assertEqual(self.client.request("ping", request_id="string id")["result"], {})
        self.finish()

    def test_unknown_method(self):
        self.client.initialize()
        answer = self.client.request("resources/list")
        self.assert_error(answer, -32601)
        self.assert_error(self.client.request("no/such/method", {}), -32601)
        self.assert_alive()
        self.finish()

    def test_unknown_tool_is_invalid_params(self):
        self.client.initialize()
        answer = self.client.request("tools/call", {"name": "format_disk", "arguments": {}})
        self.assert_error(answer, -32602)
        self.assertIn("format_disk", answer["error"]["message"])
        self.assert_alive()
        self.finish()

    def test_malformed_tool_call_is_invalid_params(self):
        self.client.initialize()
        self.assert_error(self.client.request("tools/call", {}), -32602)
        self.assert_error(self.client.request("tools/call", {"name": 5}), -32602)
        self.assert_error(self.client.request("tools/call", {"name": "search", "arguments": [1]}), -32602)
        self.assert_error(self.client.request("tools/call", [1, 2]), -32602)
        self.assert_alive()
        self.finish()

    def test_batches_are_refused_where_the_version_forbids_them(self):
        self.client.initialize(LATEST)
        self.client.send([{"jsonrpc": "2.0", "id": 1, "method": "ping"},
                          {"jsonrpc": "2.0", "id": 2, "method": "ping"}])
        answer = self.client.receive()
        self.assert_error(answer, -32600)
        self.assertIsNone(answer["id"])
        self.assert_alive()
        self.finish()

    def test_batches_work_in_2025_03_26(self):
        self.client.initialize("2025-03-26")
        self.client.send([{"jsonrpc": "2.0", "id": "a", "method": "ping"},
                          {"jsonrpc": "2.0", "method": "notifications/nothing"},
                          {"jsonrpc": "2.0", "id": "b", "method": "tools/call",
                           "params": {"name": "ingest_text", "arguments": {"text": "Batched text."}}},
                          {"jsonrpc": "2.0", "id": "c", "method": "nope"}])
        answer = self.client.receive()
        self.assertIsInstance(answer, list)
        by_id = {item["id"]: item for item in answer}
        self.assertEqual(set(by_id), {"a", "b", "c"})
        self.assertEqual(by_id["a"]["result"], {})
        self.assertEqual(by_id["b"]["result"]["content"][0]["type"], "text")
        self.assert_error(by_id["c"], -32601)
        # Notifications only: no answer at all; an empty batch is invalid
        self.client.send([{"jsonrpc": "2.0", "method": "notifications/nothing"}])
        self.client.assert_silent(self)
        self.client.send([])
        self.assert_error(self.client.receive(), -32600)
        self.assert_alive()
        self.finish()

    # ---- arguments against the schema: tool errors, not protocol errors ----

    def test_arguments_that_break_the_schema(self):
        self.client.initialize()
        cases = [
            ("search", {}, ["query"]),                                     # missing required
            ("search", {"query": 42}, ["query", "string"]),                # wrong type
            ("search", {"query": "x", "top_k": 0}, ["top_k", "1", "1000"]),  # out of range
            ("search", {"query": "x", "top_k": 1001}, ["top_k", "1000"]),
            ("search", {"query": "x", "top_k": 2.5}, ["top_k", "integer"]),
            ("search", {"query": "x", "top_k": "5"}, ["top_k", "integer"]),
            ("search", {"query": "x", "mode": "fuzzy"}, ["mode", "fuzzy", "keyword"]),
            ("search", {"query": "x", "colour": "red"}, ["colour"]),         # unknown property
            ("search", {"query": ""}, ["query"]),
            ("search", {"query": "x", "filter": "topic=a"}, ["filter", "object"]),
            ("ask", {"question": "q", "top_k": 1001}, ["top_k", "1000"]),
            ("ask", {"question": None}, ["question"]),
            ("ingest_text", {"source": "a.txt"}, ["text"]),
            ("ingest_text", {"text": "t", "metadata": [1]}, ["metadata"]),
            ("get_document", {"document_id": 7}, ["document_id"]),
            ("delete_document", {}, ["document_id"]),
            ("list_documents", {"namespace": True}, ["namespace"]),
            ("list_namespaces", {"parent": "x", "extra": 1}, ["extra"]),
            ("search", {"query": {"a": 1}, "mode": ["hybrid"], "top_k": {"n": 1}},
             ["query", "mode", "top_k"]),
            ("ingest_text", {"text": "t", "metadata": None}, ["metadata"]),
        ]
        for name, arguments, words in cases:
            with self.subTest(tool=name, arguments=arguments):
                self.assert_tool_error(self.client.call(name, arguments), *words)
        # Several problems are all named; then a good call works
        both = self.client.call("search", {"top_k": 0, "x": 1})
        self.assert_tool_error(both, "query", "top_k", "“x”")
        self.assertFalse(self.client.call("search", {"query": "x", "top_k": 5.0}).get("isError"))
        self.assertFalse(self.client.call("search", {"query": "x", "top_k": MAX_TOP_K}).get("isError"))
        self.assertFalse(self.client.call("list_documents").get("isError"))
        self.finish()

    def test_store_errors_are_tool_errors(self):
        self.client.initialize()
        self.assert_tool_error(self.client.call("get_document", {"document_id": "no-such-doc"}),
                               "no-such-doc")
        self.assert_tool_error(self.client.call("search", {"query": "x", "filter": {"$bogus": [1]}}))
        self.assert_alive()
        self.finish()

    def restart(self, **settings):
        """A new server, with @settings in its environment"""
        self.stop_client()
        self.env.update(settings)
        self.client = McpClient(self.env)

    # Store errors are told as REST tells them (stache_operation_error_message())

    def test_failed_service_is_said_so(self):
        with socket.socket() as probe:   # a port nothing listens on
            probe.bind(("127.0.0.1", 0))
            port = probe.getsockname()[1]
        self.restart(EMBEDDING_PROVIDER="openai", OPENAI_BASE_URL="http://127.0.0.1:%d/v1" % port,
                     OPENAI_API_KEY="sk-mcp-test-0123456789", HTTP_MAX_RETRIES="0", HTTP_CONNECT_TIMEOUT="2")
        self.client.initialize()
        result = self.client.call("search", {"query": "anything", "mode": "vector"})
        self.assert_tool_error(result, "A service the store uses failed", "127.0.0.1")
        self.finish()
        self.assertIn(b"stache mcp: search failed", self.client.stderr)

    def test_internal_failure_goes_to_the_log(self):
        self.client.initialize()
        added = self.client.call("ingest_text", {"text": "Bees dance to show where the flowers are."})
        db = os.path.join(self.env["XDG_DATA_HOME"], "stache", "stache.db")
        with contextlib.closing(sqlite3.connect(db)) as connection:
            connection.execute("CREATE TRIGGER boom BEFORE DELETE ON chunks "
                               "BEGIN SELECT RAISE(ABORT, 'disk on fire in /secret/place'); END")
            connection.commit()
        result = self.client.call("delete_document", {"document_id": added["structuredContent"]["document_id"]})
        self.assert_tool_error(result, "log")
        self.assertNotIn("/secret/place", result["content"][0]["text"])
        self.finish()
        self.assertIn(b"stache mcp: delete_document failed", self.client.stderr)
        self.assertIn(b"/secret/place", self.client.stderr)

    def test_top_k_limit_is_the_one_of_every_front_end(self):
        self.client.initialize()
        tools = {tool["name"]: tool for tool in self.client.request("tools/list")["result"]["tools"]}
        openapi = json.loads(subprocess.run([STACHE, "serve", "--openapi"], env=self.env, capture_output=True,
                                            text=True, timeout=TIMEOUT, check=True).stdout)
        rest = openapi["components"]["schemas"]["TopK"]["maximum"]
        self.assertEqual(rest, MAX_TOP_K)
        for name in ("search", "ask"):
            self.assertEqual(tools[name]["inputSchema"]["properties"]["top_k"]["maximum"], rest, name)
        self.finish()

    # ---- concurrency ----

    def test_requests_are_answered_while_a_call_runs(self):
        self.client.initialize()
        text = " ".join(f"Line {i} on orchards, pruning and grafting of apple trees." for i in range(2000))
        self.client.send({"jsonrpc": "2.0", "id": "big", "method": "tools/call",
                          "params": {"name": "ingest_text", "arguments": {"text": text}}})
        for i in range(5):
            self.client.send({"jsonrpc": "2.0", "id": f"p{i}", "method": "ping"})
        seen = {}
        while len(seen) < 6:
            answer = self.client.receive()
            seen[answer["id"]] = answer
        self.assertEqual(set(seen), {"big", "p0", "p1", "p2", "p3", "p4"})
        self.assertEqual(seen["big"]["result"]["structuredContent"]["outcome"], "added")
        self.finish()

    def test_unicode_and_newlines_stay_on_one_line(self):
        self.client.initialize()
        text = "Crème brûlée\nneeds a torch.\n\n焦糖布丁 — “quoted”\ttabs"
        result = self.client.call("ingest_text", {"text": text, "source": "dessert\nnotes.md"})
        self.assertFalse(result.get("isError"), result)
        # The members of REST's IngestResult, in its order
        self.assertEqual(list(result["structuredContent"]),
                         ["source", "outcome", "document_id", "namespace", "title", "chunks", "reason"])
        hits = self.client.call("search", {"query": "brûlée torch"})["structuredContent"]["results"]
        self.assertIn("Crème brûlée", hits[0]["text"])
        self.finish()


if __name__ == "__main__":
    unittest.main(verbosity=2)

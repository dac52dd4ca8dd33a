# test_serve.py: `stache serve`, the REST API, driven over real HTTP —
# curl for the endpoints, http.client for concurrency — on the embedded
# defaults in an isolated home.
#
# SPDX-License-Identifier: LGPL-2.1-or-later

import concurrent.futures
import http.client
import http.server
import json
import os
import random
import re
import resource
import shutil
import socket
import signal
import subprocess
import sys
import threading
import time
import unittest
import urllib.parse

sys.path.insert(0, os.path.dirname(__file__))
import stache_test_env  # noqa: E402

STACHE = os.environ["STACHE_TEST_TOOL"]
SAMPLES = os.environ["STACHE_TEST_SAMPLES"]
BUILTINS = os.environ["STACHE_TEST_BUILTIN_PLUGINS"]
TEST_TOKEN = "s3cr3t-token-for-tests"
TIMEOUT = 120

# REST's IngestResult, POST /v1/documents and /v1/documents/upload, in order
INGEST_RESULT_MEMBERS = ["source", "outcome", "document_id", "namespace", "title", "chunks", "reason"]

# Every route the server has; openapi.json must list exactly these.
ROUTES = {
    ("GET", "/openapi.json"),
    ("GET", "/v1/health"),
    ("POST", "/v1/search"),
    ("POST", "/v1/ask"),
    ("GET", "/v1/documents"),
    ("POST", "/v1/documents"),
    ("POST", "/v1/documents/upload"),
    ("GET", "/v1/documents/{id}"),
    ("DELETE", "/v1/documents/{id}"),
    ("GET", "/v1/namespaces"),
    ("POST", "/v1/namespaces"),
    ("DELETE", "/v1/namespaces/{name}"),
    ("GET", "/v1/providers"),
}

# Queries whose best answer among the sample notes is known
KNOWN_QUERIES = {
    "how do I keep a sourdough starter alive": "sourdough.md",
    "queen bee workers and drones in the colony": "beekeeping.txt",
    "clean and oil the bicycle chain": "bicycle-maintenance.txt",
    "SQLite write-ahead log checkpoint": "sqlite-wal.md",
}

WORDS = ("amber basalt cedar dune ember fjord glacier harbor island juniper kelp lagoon "
         "meadow nectar orchard prairie quartz reef savanna tundra upland valley willow").split()


def generated_text(n_paragraphs, seed):
    rng = random.Random(seed)
    return "\n\n".join(" ".join(rng.choice(WORDS) for _ in range(80)) + f". Marker {seed}-{i}."
                       for i in range(n_paragraphs))


class Response:
    def __init__(self, status, headers, body):
        self.status = status
        self.headers = headers
        self.body = body

    def json(self):
        return json.loads(self.body)


class ServeTestCase(unittest.TestCase):
    def setUp(self):
        self.tmp, self.env = stache_test_env.isolated_environment()
        self.env["STACHE_PLUGIN_PATH"] = BUILTINS
        self.env.pop("STACHE_API_TOKEN", None)
        self.env.pop("SERVE_MAX_BODY_SIZE", None)
        self.proc = None
        self.url = None
        self.token = None

    def tearDown(self):
        self.stop_server()
        shutil.rmtree(self.tmp, ignore_errors=True)

    # ---- the server ----

    def start_server(self, *args, token=None, max_files=None):
        env = dict(self.env)
        if token is not None:
            env["STACHE_API_TOKEN"] = token
        self.token = token
        self.stderr_path = os.path.join(self.tmp, f"serve-{time.monotonic_ns()}.err")
        self.stderr_file = open(self.stderr_path, "w")
        def limit_files():
            if max_files is not None:
                resource.setrlimit(resource.RLIMIT_NOFILE, (max_files, max_files))

        self.proc = subprocess.Popen([STACHE, "serve", "--port", "0", *args], env=env,
                                     stdout=subprocess.PIPE, stderr=self.stderr_file, text=True,
                                     preexec_fn=limit_files)
        line = [None]

        def read_line():
            line[0] = self.proc.stdout.readline()

        reader = threading.Thread(target=read_line, daemon=True)
        reader.start()
        reader.join(TIMEOUT)
        match = re.match(r"^Listening on (http://\S+)$", (line[0] or "").strip())
        self.assertIsNotNone(match, f"no listening line: {line[0]!r}\n{self.server_stderr()}")
        self.url = match.group(1)
        parsed = urllib.parse.urlsplit(self.url)
        self.host, self.port = parsed.hostname, parsed.port
        return self.proc

    def stop_server(self):
        if self.proc is None:
            return
        if self.proc.poll() is None:
            self.proc.kill()
        self.proc.wait(TIMEOUT)
        self.proc.stdout.close()
        self.stderr_file.close()
        self.proc = None

    def server_stderr(self):
        with open(self.stderr_path) as f:
            return f.read()

    def run_stache(self, *args):
        proc = subprocess.run([STACHE, *args], env=self.env, capture_output=True, text=True,
                              timeout=TIMEOUT)
        self.assertEqual(proc.returncode, 0, f"stache {args}: {proc.stdout}\n{proc.stderr}")
        return proc

    # ---- HTTP through curl ----

    def curl(self, method, path, json_body=None, data=None, content_type=None, form=None,
             token=..., headers=()):
        header_file = os.path.join(self.tmp, "headers")
        body_file = os.path.join(self.tmp, "body")
        cmd = ["curl", "-sS", "--max-time", str(TIMEOUT), "-X", method, "-D", header_file,
               "-o", body_file, "-w", "%{http_code}", "-H", "Expect:"]
        if token is ...:
            token = self.token
        if token is not None:
            cmd += ["-H", f"Authorization: Bearer {token}"]
        if json_body is not None:
            data = json.dumps(json_body)
            content_type = content_type or "application/json"
        if data is not None:
            data_file = os.path.join(self.tmp, "request")
            with open(data_file, "wb") as f:
                f.write(data.encode() if isinstance(data, str) else data)
            cmd += ["--data-binary", "@" + data_file]
            if content_type is not None:
                cmd += ["-H", f"Content-Type: {content_type}"]
        for name, value in (form or {}).items():
            cmd += ["-F", f"{name}={value}"]
        for header in headers:
            cmd += ["-H", header]
        cmd.append(self.url + path)
        proc = subprocess.run(cmd, capture_output=True, text=True, timeout=TIMEOUT + 10)
        self.assertEqual(proc.returncode, 0, f"curl {cmd}: {proc.stderr}")
        with open(header_file) as f:
            header_lines = f.read().splitlines()
        response_headers = {}
        for line in header_lines[1:]:
            if ":" in line:
                name, value = line.split(":", 1)
                response_headers[name.strip().lower()] = value.strip()
        with open(body_file, "rb") as f:
            body = f.read()
        return Response(int(proc.stdout), response_headers, body)

    def assertError(self, response, status, code):
        self.assertEqual(response.status, status, response.body)
        self.assertTrue(response.headers.get("content-type", "").startswith("application/json"))
        document = response.json()
        self.assertEqual(set(document), {"error"})
        self.assertEqual(set(document["error"]), {"code", "message"})
        self.assertEqual(document["error"]["code"], code)
        self.assertIsInstance(document["error"]["message"], str)
        self.assertTrue(document["error"]["message"])
        return document["error"]["message"]

    # ---- HTTP through http.client (for threads) ----

    def post_json(self, path, body, timeout=TIMEOUT):
        connection = http.client.HTTPConnection(self.host, self.port, timeout=timeout)
        try:
            headers = {"Content-Type": "application/json"}
            if self.token is not None:
                headers["Authorization"] = f"Bearer {self.token}"
            connection.request("POST", path, body=json.dumps(body), headers=headers)
            response = connection.getresponse()
            return response.status, json.loads(response.read())
        finally:
            connection.close()

    def get_json(self, path, timeout=TIMEOUT):
        connection = http.client.HTTPConnection(self.host, self.port, timeout=timeout)
        try:
            connection.request("GET", path)
            response = connection.getresponse()
            return response.status, json.loads(response.read())
        finally:
            connection.close()


class EndpointTests(ServeTestCase):
    def setUp(self):
        super().setUp()
        self.run_stache("ingest", "--namespace", "notes", SAMPLES)
        self.start_server()

    def test_health(self):
        response = self.curl("GET", "/v1/health")
        self.assertEqual(response.status, 200)
        self.assertEqual(response.json()["status"], "ok")

    def test_search_finds_the_right_document_first(self):
        for query, name in KNOWN_QUERIES.items():
            response = self.curl("POST", "/v1/search", {"query": query, "namespace": "notes", "top_k": 3})
            self.assertEqual(response.status, 200, response.body)
            results = response.json()["results"]
            self.assertEqual(response.json()["query"], query)
            self.assertGreater(len(results), 0)
            self.assertLessEqual(len(results), 3)
            self.assertEqual(os.path.basename(results[0]["metadata"]["source"]), name, query)
            self.assertEqual(results[0]["rank"], 1)

    def test_search_modes_and_filter(self):
        for mode in ("hybrid", "vector", "keyword"):
            response = self.curl("POST", "/v1/search", {"query": "sourdough starter", "mode": mode})
            self.assertEqual(response.status, 200, response.body)
            self.assertTrue(response.json()["results"])
        doc = self.curl("GET", "/v1/documents?namespace=notes").json()["documents"]
        beekeeping = next(d for d in doc if d["source"].endswith("beekeeping.txt"))
        response = self.curl("POST", "/v1/search", {"query": "sourdough starter",
                                                    "filter": {"document_id": beekeeping["id"]}})
        self.assertEqual(response.status, 200, response.body)
        self.assertTrue(all(r["document_id"] == beekeeping["id"] for r in response.json()["results"]))

    def test_search_by_document(self):
        body = {"query": "starter flour water", "namespace": "notes", "top_k": 5, "group_by_document": True}
        response = self.curl("POST", "/v1/search", body)
        self.assertEqual(response.status, 200, response.body)
        ids = [r["document_id"] for r in response.json()["results"]]
        self.assertEqual(len(ids), 5)
        self.assertEqual(len(ids), len(set(ids)))
        self.assertError(self.curl("POST", "/v1/search", dict(body, group_by_document="yes")),
                         400, "invalid_argument")

    def test_ask_cites_sources(self):
        response = self.curl("POST", "/v1/ask", {"question": "How often do I feed a sourdough starter?",
                                                 "namespace": "notes"})
        self.assertEqual(response.status, 200, response.body)
        answer = response.json()
        self.assertTrue(answer["answer"])
        self.assertTrue(answer["sources"])
        self.assertTrue(answer["sources"][0]["metadata"]["source"].endswith("sourdough.md"))

    def test_ingest_text_then_get_and_delete(self):
        body = {"text": "The lighthouse keeper polishes the Fresnel lens every dusk.",
                "namespace": "texts", "source": "memo://lighthouse", "title": "Lighthouse",
                "metadata": {"kind": "memo"}}
        response = self.curl("POST", "/v1/documents", body)
        self.assertEqual(response.status, 201, response.body)
        result = response.json()
        self.assertEqual(result["outcome"], "added")
        self.assertEqual(result["namespace"], "texts")
        # The documented IngestResult, in its order (the ingest_text operation's, as MCP's)
        self.assertEqual(list(result), INGEST_RESULT_MEMBERS)
        self.assertEqual((result["source"], result["title"], result["chunks"], result["reason"]),
                         ("memo://lighthouse", "Lighthouse", 1, None))
        document_id = result["document_id"]

        again = self.curl("POST", "/v1/documents", body)
        self.assertEqual(again.status, 200, again.body)
        self.assertEqual(again.json()["outcome"], "unchanged")

        found = self.curl("POST", "/v1/search", {"query": "Fresnel lens", "namespace": "texts"}).json()
        self.assertEqual(found["results"][0]["document_id"], document_id)

        quoted = urllib.parse.quote(document_id, safe="")
        document = self.curl("GET", f"/v1/documents/{quoted}")
        self.assertEqual(document.status, 200, document.body)
        self.assertEqual(document.json()["id"], document_id)
        self.assertEqual(document.json()["title"], "Lighthouse")
        # The same operation as MCP's get_document: the metadata comes too
        self.assertEqual(document.json()["metadata"]["kind"], "memo")

        listed = self.curl("GET", "/v1/documents?namespace=texts").json()["documents"]
        self.assertEqual([d["id"] for d in listed], [document_id])

        deleted = self.curl("DELETE", f"/v1/documents/{quoted}")
        self.assertEqual(deleted.status, 200, deleted.body)
        self.assertEqual(deleted.json(), {"deleted": True, "id": document_id})
        self.assertError(self.curl("GET", f"/v1/documents/{quoted}"), 404, "document_not_found")
        self.assertError(self.curl("DELETE", f"/v1/documents/{quoted}"), 404, "document_not_found")

    def test_document_ids_are_percent_decoded(self):
        # An id with "/", a space and non-ASCII arrives decoded, as one segment.
        odd = "a/b c%é"
        message = self.assertError(self.curl("GET", "/v1/documents/" + urllib.parse.quote(odd, safe="")),
                                   404, "document_not_found")
        self.assertNotIn("%2F", message)
        self.assertIn("a/b c%é", message)
        # An escaped NUL or bad UTF-8 is refused; "%zz" libsoup refuses itself (plain 400).
        self.assertError(self.curl("GET", "/v1/documents/%00"), 400, "invalid_path")
        self.assertError(self.curl("GET", "/v1/documents/%C3%28"), 400, "invalid_path")
        self.assertEqual(self.curl("GET", "/v1/documents/%zz").status, 400)
        self.assertError(self.curl("GET", "/v1/documents/a/b"), 404, "route_not_found")

    def test_upload_file(self):
        path = os.path.join(SAMPLES, "composting.md")
        response = self.curl("POST", "/v1/documents/upload",
                             form={"file": f"@{path};type=text/markdown", "namespace": "uploads"})
        self.assertEqual(response.status, 201, response.body)
        result = response.json()
        self.assertEqual(result["outcome"], "added")
        self.assertEqual(result["namespace"], "uploads")
        self.assertGreater(result["chunks"], 0)
        self.assertEqual(list(result), INGEST_RESULT_MEMBERS)

        # The same name in the same namespace is the same document.
        again = self.curl("POST", "/v1/documents/upload",
                          form={"file": f"@{path}", "namespace": "uploads"})
        self.assertEqual(again.status, 200, again.body)
        self.assertEqual(again.json()["document_id"], result["document_id"])
        self.assertEqual(again.json()["outcome"], "unchanged")

        found = self.curl("POST", "/v1/search", {"query": "compost heap", "namespace": "uploads"}).json()
        self.assertEqual(found["results"][0]["document_id"], result["document_id"])

        self.assertError(self.curl("POST", "/v1/documents/upload", form={"namespace": "uploads"}),
                         400, "invalid_argument")
        self.assertError(self.curl("POST", "/v1/documents/upload", {"text": "x"}),
                         415, "unsupported_media_type")

    def test_upload_name_over_the_limit_is_400(self):
        path = os.path.join(self.tmp, "n" * 240 + ".md")
        with open(path, "w") as f:
            f.write("# Long\n\nA name of 243 bytes.\n")
        # curl sends the name given after filename=, whatever the file is called
        message = self.assertError(self.curl("POST", "/v1/documents/upload",
                                             form={"file": "@" + path + ";filename=" + "x" * 300 + ".md"}),
                                   400, "invalid_argument")
        self.assertIn("240 bytes", message)
        response = self.curl("POST", "/v1/documents/upload",
                             form={"file": "@" + path + ";filename=" + "y" * 200 + ".md"})
        self.assertEqual(response.status, 201, response.body)

    def test_namespaces(self):
        created = self.curl("POST", "/v1/namespaces", {"name": "team/notes", "description": "shared"})
        self.assertEqual(created.status, 201, created.body)
        self.assertEqual(created.json()["name"], "team/notes")
        self.assertError(self.curl("POST", "/v1/namespaces", {"name": "team/notes"}), 409, "namespace_exists")
        names = [n["name"] for n in self.curl("GET", "/v1/namespaces").json()["namespaces"]]
        self.assertIn("team/notes", names)
        self.assertIn("notes", names)
        # "notes" exists because something was ingested into it
        message = self.assertError(self.curl("POST", "/v1/namespaces", {"name": "notes"}), 409, "namespace_exists")
        self.assertIn("notes", message)

        # A name with "/" is one percent-encoded segment.
        self.curl("POST", "/v1/documents", {"text": "kept in team notes", "namespace": "team/notes"})
        message = self.assertError(self.curl("DELETE", "/v1/namespaces/team%2Fnotes"), 409, "namespace_not_empty")
        self.assertIn("cascade", message)
        deleted = self.curl("DELETE", "/v1/namespaces/team%2Fnotes?cascade=true")
        self.assertEqual(deleted.status, 200, deleted.body)
        self.assertEqual(deleted.json(), {"deleted": True, "name": "team/notes"})
        names = [n["name"] for n in self.curl("GET", "/v1/namespaces").json()["namespaces"]]
        self.assertNotIn("team/notes", names)
        self.assertError(self.curl("DELETE", "/v1/namespaces/team%2Fnotes"), 404, "namespace_not_found")
        self.assertError(self.curl("DELETE", "/v1/namespaces/notes?cascade=maybe"), 400, "invalid_argument")
        self.assertError(self.curl("POST", "/v1/namespaces", {"name": "Bad Name!"}), 400, "invalid_argument")

    def test_providers(self):
        response = self.curl("GET", "/v1/providers")
        self.assertEqual(response.status, 200)
        providers = response.json()["providers"]
        self.assertIn(("vectordb", "sqlite"), {(p["type"], p["name"]) for p in providers})
        self.assertTrue(all("status" in p for p in providers))

    def test_unknown_namespace_is_404(self):
        # search, ask and listing documents in a namespace that does not exist
        self.assertError(self.curl("POST", "/v1/search", {"query": "starter", "namespace": "nowhere"}),
                         404, "namespace_not_found")
        self.assertError(self.curl("POST", "/v1/ask", {"question": "starter?", "namespace": "nowhere"}),
                         404, "namespace_not_found")
        self.assertError(self.curl("GET", "/v1/documents?namespace=nowhere"), 404, "namespace_not_found")

    def test_malformed_requests(self):
        self.assertError(self.curl("POST", "/v1/search", data="{\"query\": ", content_type="application/json"),
                         400, "invalid_json")
        self.assertError(self.curl("POST", "/v1/search", data="", content_type="application/json"),
                         400, "invalid_json")
        self.assertError(self.curl("POST", "/v1/search", data="[1, 2]", content_type="application/json"),
                         400, "invalid_json")
        self.assertError(self.curl("POST", "/v1/search", data="{\"query\": \"x\"}", content_type="text/plain"),
                         415, "unsupported_media_type")
        self.assertError(self.curl("POST", "/v1/search", {}), 400, "invalid_argument")
        self.assertError(self.curl("POST", "/v1/search", {"query": 5}), 400, "invalid_argument")
        self.assertError(self.curl("POST", "/v1/search", {"query": "x", "top_k": 0}), 400, "invalid_argument")
        self.assertError(self.curl("POST", "/v1/search", {"query": "x", "top_k": "3"}), 400, "invalid_argument")
        too_many = self.assertError(self.curl("POST", "/v1/search", {"query": "x", "top_k": 1001}),
                                    400, "invalid_argument")
        self.assertIn("top_k", too_many)
        self.assertIn("1000", too_many)
        self.assertError(self.curl("POST", "/v1/ask", {"question": "x", "top_k": 1001}), 400, "invalid_argument")
        self.assertError(self.curl("POST", "/v1/search", {"query": "x", "mode": "psychic"}),
                         400, "invalid_argument")
        self.assertError(self.curl("POST", "/v1/search", {"query": "x", "colour": "red"}),
                         400, "invalid_argument")
        self.assertError(self.curl("POST", "/v1/search", {"query": "x", "filter": {"$bogus": 1}}),
                         400, "invalid_filter")
        self.assertError(self.curl("POST", "/v1/documents", {"text": ""}), 400, "invalid_argument")
        self.assertError(self.curl("GET", "/v1/nothing-here"), 404, "route_not_found")
        self.assertError(self.curl("GET", "/v1/health/"), 404, "route_not_found")
        wrong = self.curl("GET", "/v1/search")
        self.assertError(wrong, 405, "method_not_allowed")
        self.assertEqual(wrong.headers["allow"], "POST")
        wrong = self.curl("PUT", "/v1/documents")
        self.assertError(wrong, 405, "method_not_allowed")
        self.assertEqual(set(wrong.headers["allow"].split(", ")), {"GET", "POST"})

    def test_deep_nesting_is_400_and_the_server_lives(self):
        # json-glib's parser recurses per level: without a limit, this
        # ~100 KB body overflowed the stack and killed the server.
        for body in ("[" * 100000, "{\"a\":" * 100000):
            self.assertError(self.curl("POST", "/v1/search", data=body, content_type="application/json"),
                             400, "invalid_json")
        self.assertEqual(self.curl("GET", "/v1/health").status, 200)
        # Nesting that real requests use is fine.
        nested = {"query": "x", "filter": {"$and": [{"$or": [{"a": 1}, {"b": {"$in": [2, 3]}}]}]}}
        self.assertEqual(self.curl("POST", "/v1/search", nested).status, 200)

    def test_nul_in_a_string_is_refused_and_nothing_stored(self):
        body = '{"text": "hello \\u0000 world", "namespace": "nul"}'
        message = self.assertError(self.curl("POST", "/v1/documents", data=body,
                                             content_type="application/json"), 400, "invalid_argument")
        self.assertIn("text", message)
        self.assertIn("U+0000", message)
        status, listed = self.get_json("/v1/documents?namespace=nul")
        self.assertEqual(listed.get("documents", []), [], (status, listed))
        body = '{"query": "a\\u0000b"}'
        message = self.assertError(self.curl("POST", "/v1/search", data=body, content_type="application/json"),
                                   400, "invalid_argument")
        self.assertIn("query", message)

    def test_invalid_utf8_in_query_and_path_is_400_json(self):
        for path in ("/v1/documents?namespace=%FF", "/v1/documents?%C3%28=x",
                     "/v1/documents/%FF%FE"):
            response = self.curl("GET", path)
            self.assertIn(response.status, (400,), (path, response.body))
            response.body.decode("utf-8")   # valid UTF-8 throughout
            self.assertTrue(response.body, path)
            self.assertIn(response.json()["error"]["code"], ("invalid_argument", "invalid_path"))

    def test_openapi_lists_exactly_the_served_routes(self):
        response = self.curl("GET", "/openapi.json")
        self.assertEqual(response.status, 200)
        document = response.json()
        self.assertEqual(document["openapi"], "3.1.0")
        listed = {(method.upper(), path) for path, item in document["paths"].items() for method in item}
        self.assertEqual(listed, ROUTES)

        schemes = document["components"]["securitySchemes"]
        self.assertEqual(schemes["bearerAuth"], {**schemes["bearerAuth"], "type": "http", "scheme": "bearer"})
        self.assertEqual(document["security"], [{"bearerAuth": []}])
        # STACHE_OPERATION_MAX_TOP_K, as in the command and MCP's schemas
        self.assertEqual(document["components"]["schemas"]["TopK"]["maximum"], 1000)
        error = document["components"]["schemas"]["Error"]
        self.assertEqual(error["required"], ["error"])
        self.assertEqual(set(error["properties"]["error"]["required"]), {"code", "message"})

        for path, item in document["paths"].items():
            for method, operation in item.items():
                for status, answer in operation["responses"].items():
                    ref = answer["content"]["application/json"]["schema"]["$ref"]
                    self.assertIn(ref.rsplit("/", 1)[1], document["components"]["schemas"])
                    if int(status) >= 400:
                        self.assertEqual(ref, "#/components/schemas/Error")
                if "requestBody" in operation:
                    for media in operation["requestBody"]["content"].values():
                        self.assertIn(media["schema"]["$ref"].rsplit("/", 1)[1],
                                      document["components"]["schemas"])

        # Each listed route is served: neither "no such route" nor "wrong method".
        for method, path in sorted(ROUTES):
            concrete = path.replace("{id}", "no-such-document").replace("{name}", "no-such-namespace")
            probe = self.curl(method, concrete, data="{}" if method == "POST" else None,
                              content_type="application/json" if method == "POST" else None)
            self.assertNotIn(probe.status, (404, 405), (method, path, probe.body)) \
                if "{" not in path else self.assertNotEqual(probe.json()["error"]["code"], "route_not_found")
        # A method a route does not list is refused (unless another route's
        # template takes the path: GET /v1/documents/upload is document "upload").
        def served(method, concrete):
            return any(m == method and re.fullmatch(re.sub(r"\{[a-z]+\}", "[^/]+", p), concrete)
                       for m, p in ROUTES)

        for method, path in sorted(ROUTES):
            for other in ("GET", "POST", "DELETE", "PUT", "PATCH"):
                if not served(other, path.replace("{id}", "x").replace("{name}", "x")):
                    concrete = path.replace("{id}", "x").replace("{name}", "x")
                    self.assertEqual(self.curl(other, concrete).status, 405, (other, path))

        # `stache serve --openapi` prints the same document.
        printed = json.loads(self.run_stache("serve", "--openapi").stdout)
        self.assertEqual(printed, document)


class DefaultTopKTests(ServeTestCase):
    def test_search_top_k_setting_is_the_default(self):
        # REST's top_k defaults to the search_top_k setting, by document too
        self.run_stache("ingest", "--namespace", "notes", SAMPLES)
        self.env["SEARCH_TOP_K"] = "3"
        self.start_server()
        for by_document in (False, True):
            response = self.curl("POST", "/v1/search", {"query": "starter flour water",
                                                        "group_by_document": by_document})
            self.assertEqual(response.status, 200, response.body)
            ids = [r["document_id"] for r in response.json()["results"]]
            self.assertEqual(len(ids), 3, by_document)
            if by_document:
                self.assertEqual(len(set(ids)), 3)


class AuthTests(ServeTestCase):
    TOKEN = TEST_TOKEN

    def test_token_required_when_set(self):
        self.start_server(token=self.TOKEN)
        missing = self.curl("GET", "/v1/documents", token=None)
        self.assertError(missing, 401, "unauthorized")
        self.assertTrue(missing.headers["www-authenticate"].startswith("Bearer"))
        for wrong in ("wrong", self.TOKEN + "x", self.TOKEN[:-1], ""):
            response = self.curl("POST", "/v1/search", {"query": "x"}, token=wrong)
            message = self.assertError(response, 401, "unauthorized")
            self.assertIn('error="invalid_token"', response.headers["www-authenticate"])
            self.assertNotIn(self.TOKEN, message)
            self.assertNotIn(self.TOKEN, response.body.decode())
        basic = self.curl("GET", "/v1/providers", token=None, headers=["Authorization: Basic eDp5"])
        self.assertError(basic, 401, "unauthorized")
        # Unknown routes reveal nothing without the token.
        self.assertError(self.curl("GET", "/v1/secret-route", token=None), 401, "unauthorized")

        self.assertEqual(self.curl("GET", "/v1/documents").status, 200)
        self.assertEqual(self.curl("POST", "/v1/search", {"query": "x"}).status, 200)
        # health and the OpenAPI document stay open
        self.assertEqual(self.curl("GET", "/v1/health", token=None).status, 200)
        self.assertEqual(self.curl("GET", "/openapi.json", token=None).status, 200)
        self.assertNotIn(self.TOKEN, self.server_stderr())

    def test_no_token_means_open(self):
        self.start_server()
        self.assertEqual(self.curl("GET", "/v1/documents", token=None).status, 200)
        self.assertEqual(self.curl("GET", "/v1/documents", token="anything").status, 200)

    def test_non_loopback_refused_without_token(self):
        proc = subprocess.run([STACHE, "serve", "--host", "0.0.0.0", "--port", "0"], env=self.env,
                              capture_output=True, text=True, timeout=TIMEOUT)
        self.assertEqual(proc.returncode, 2, proc.stderr)
        self.assertIn("0.0.0.0", proc.stderr)
        self.assertIn("--insecure", proc.stderr)
        self.assertEqual(proc.stdout, "")

    def test_non_loopback_allowed_with_token_or_insecure(self):
        self.start_server("--host", "0.0.0.0", token=self.TOKEN)
        self.assertTrue(self.url.startswith("http://0.0.0.0:"))
        self.stop_server()
        self.start_server("--host", "0.0.0.0", "--insecure")
        self.assertTrue(self.url.startswith("http://0.0.0.0:"))


class LimitTests(ServeTestCase):
    def test_body_over_the_limit_is_413(self):
        self.start_server("--max-body-size", "1024")
        big = {"text": "x" * 2000}
        self.assertError(self.curl("POST", "/v1/documents", big), 413, "payload_too_large")
        # Without Content-Length, counted as it arrives
        self.assertError(self.curl("POST", "/v1/documents", big, headers=["Transfer-Encoding: chunked"]),
                         413, "payload_too_large")
        # With Expect: 100-continue the body is refused before it is sent.
        self.assertError(self.curl("POST", "/v1/documents", big, headers=["Expect: 100-continue"]),
                         413, "payload_too_large")
        small = self.curl("POST", "/v1/documents", {"text": "y" * 500})
        self.assertEqual(small.status, 201, small.body)
        self.assertEqual(self.curl("GET", "/v1/health").status, 200)

    def test_bodies_held_at_once_are_capped(self):
        # Two bodies being sent hold 1.6 MB; a third that would pass the
        # 2 MB cap is 503 busy at once, and the server still answers.
        self.env["SERVE_MAX_BUFFERED"] = "2000000"
        self.start_server("--max-body-size", "1000000")
        senders = []
        for i in range(2):
            sock = socket.create_connection((self.host, self.port), timeout=TIMEOUT)
            sock.sendall(b"POST /v1/search HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\n"
                         b"Content-Length: 900000\r\n\r\n" + b" " * 800000)
            senders.append(sock)
        time.sleep(1.0)
        message = self.assertError(self.curl("POST", "/v1/search", data=" " * 900000,
                                             content_type="application/json"), 503, "busy")
        self.assertIn("serve_max_buffered", message)
        self.assertEqual(self.curl("GET", "/v1/health").status, 200)
        # The held bodies finish and are answered; then there is room again
        for sock in senders:
            sock.sendall(b" " * 100000)
            self.assertIn(b" 400 ", sock.recv(4096))
            sock.close()
        self.assertError(self.curl("POST", "/v1/search", data=" " * 900000,
                                   content_type="application/json"), 400, "invalid_json")

    def test_limit_from_the_setting(self):
        self.env["SERVE_MAX_BODY_SIZE"] = "100"
        self.start_server()
        self.assertError(self.curl("POST", "/v1/search", {"query": "q" * 200}), 413, "payload_too_large")


class ConcurrencyTests(ServeTestCase):
    def setUp(self):
        super().setUp()
        self.env["MAX_FILE_SIZE"] = str(200 * 1024 * 1024)
        self.run_stache("ingest", "--namespace", "notes", SAMPLES)

    def test_50_concurrent_searches_during_an_ingest(self):
        self.start_server("--max-body-size", str(200 * 1024 * 1024))
        texts = [generated_text(8000, seed) for seed in range(3)]
        ingest_times = []
        ingest_statuses = []

        def ingest():
            for i, text in enumerate(texts):
                start = time.monotonic()
                status, result = self.post_json("/v1/documents", {"text": text, "namespace": "bulk",
                                                                  "source": f"bulk-{i}"})
                ingest_statuses.append((status, result.get("outcome")))
                ingest_times.append((start, time.monotonic()))

        ingester = threading.Thread(target=ingest)
        ingester.start()
        time.sleep(0.3)

        # health answers at once while the ingest runs
        start = time.monotonic()
        status, health = self.get_json("/v1/health", timeout=10)
        health_latency = time.monotonic() - start
        self.assertEqual(status, 200)

        queries = list(KNOWN_QUERIES.items()) * 13
        queries = queries[:50]

        def search(item):
            query, name = item
            started = time.monotonic()
            status, body = self.post_json("/v1/search", {"query": query, "namespace": "notes", "top_k": 3})
            return query, name, status, body, started

        with concurrent.futures.ThreadPoolExecutor(max_workers=50) as pool:
            answers = list(pool.map(search, queries))
        ingester.join(TIMEOUT * 3)
        self.assertFalse(ingester.is_alive())

        self.assertEqual(len(answers), 50)
        for query, name, status, body, _ in answers:
            self.assertEqual(status, 200, body)
            self.assertEqual(os.path.basename(body["results"][0]["metadata"]["source"]), name, query)
        self.assertEqual(ingest_statuses, [(201, "added")] * 3)
        # The searches really ran while the ingest did.
        self.assertLess(min(a[4] for a in answers), ingest_times[-1][1])
        self.assertLess(health_latency, 5.0)
        status, listed = self.get_json("/v1/documents?namespace=bulk")
        self.assertEqual(len(listed["documents"]), 3)


class UpstreamErrorTests(ServeTestCase):
    """A service the store relies on that is down or refuses: 503 or 502
    with its reason (keys redacted), not 500."""

    KEY = "sk-upstream-test-0123456789"

    def start_refusing_service(self):
        class Refuse(http.server.BaseHTTPRequestHandler):
            def do_POST(handler):
                length = int(handler.headers.get("Content-Length") or 0)
                handler.rfile.read(length)
                body = json.dumps({"error": {"message": "Incorrect API key provided: " + self.KEY,
                                             "type": "invalid_request_error"}}).encode()
                handler.send_response(401)
                handler.send_header("Content-Type", "application/json")
                handler.send_header("Content-Length", str(len(body)))
                handler.end_headers()
                handler.wfile.write(body)

            def log_message(handler, *args):
                pass

        service = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Refuse)
        threading.Thread(target=service.serve_forever, daemon=True).start()
        self.addCleanup(service.shutdown)
        return "http://127.0.0.1:%d/v1" % service.server_address[1]

    def use_openai_embedder(self, base_url):
        self.env.update({"EMBEDDING_PROVIDER": "openai", "OPENAI_BASE_URL": base_url,
                         "OPENAI_API_KEY": self.KEY, "HTTP_MAX_RETRIES": "0",
                         "HTTP_CONNECT_TIMEOUT": "2"})

    def test_unreachable_service_is_503(self):
        # A port nothing listens on
        with socket.socket() as probe:
            probe.bind(("127.0.0.1", 0))
            port = probe.getsockname()[1]
        self.use_openai_embedder("http://127.0.0.1:%d/v1" % port)
        self.start_server()
        message = self.assertError(self.curl("POST", "/v1/search", {"query": "anything", "mode": "vector"}),
                                   503, "upstream_unavailable")
        self.assertIn("127.0.0.1", message)
        self.assertEqual(self.curl("GET", "/v1/health").status, 200)

    def test_refused_key_is_502_redacted(self):
        self.use_openai_embedder(self.start_refusing_service())
        self.start_server()
        response = self.curl("POST", "/v1/search", {"query": "anything", "mode": "vector"})
        message = self.assertError(response, 502, "upstream_error")
        self.assertIn("401", message)
        self.assertNotIn(self.KEY.encode(), response.body)
        self.assertNotIn(self.KEY[8:20].encode(), response.body)
        self.assertNotIn(self.KEY, self.server_stderr())


class MalformedRequestTests(ServeTestCase):
    """Requests libsoup cannot read, and bodies refused before they arrive."""

    def raw(self, data, send_for=0.0, timeout=TIMEOUT):
        """Sends @data (then spaces for @send_for seconds, as a body), reads
        the answer until the server closes; returns (status, headers,
        body, seconds)."""
        sock = socket.create_connection((self.host, self.port), timeout=timeout)
        self.addCleanup(sock.close)
        start = time.monotonic()
        sock.sendall(data)
        try:
            while time.monotonic() - start < send_for:
                sock.send(b" " * 65536)
        except OSError:
            pass   # the server answered and stopped reading
        answer = b""
        while True:
            try:
                block = sock.recv(65536)
            except ConnectionResetError:
                break
            if not block:
                break
            answer += block
        elapsed = time.monotonic() - start
        head, _, body = answer.partition(b"\r\n\r\n")
        lines = head.decode("latin-1").split("\r\n")
        self.assertRegex(lines[0], r"^HTTP/1\.[01] \d{3} ", answer[:200])
        headers = {k.strip().lower(): v.strip() for k, _, v in (line.partition(":") for line in lines[1:])}
        return int(lines[0].split()[1]), headers, body, elapsed

    def assertJsonError(self, answer, status, code):
        got_status, headers, body, _ = answer
        self.assertEqual(got_status, status, body)
        self.assertTrue(headers.get("content-type", "").startswith("application/json"), headers)
        self.assertEqual(int(headers["content-length"]), len(body))
        document = json.loads(body.decode("utf-8"))
        self.assertEqual(set(document), {"error"})
        self.assertEqual(document["error"]["code"], code)
        self.assertTrue(document["error"]["message"])
        return document["error"]["message"]

    def test_requests_libsoup_cannot_parse_get_json_errors(self):
        self.start_server()
        for request in (b"GET /v1/documents/%ZZ HTTP/1.1\r\nHost: x\r\n\r\n",
                        b"GET /v1/documents?namespace=%G1 HTTP/1.1\r\nHost: x\r\n\r\n",
                        b"GET /v1/docu ments HTTP/1.1\r\nHost: x\r\n\r\n",
                        b"GARBAGE\r\n\r\n",
                        b"GET /v1/health HTTP/1.1\r\nHost: a/b\r\n\r\n",
                        b"POST /v1/search HTTP/1.1\r\nHost: x\r\nContent-Length: 1e3\r\n\r\n"):
            with self.subTest(request=request):
                self.assertJsonError(self.raw(request), 400, "invalid_request")
        # A transfer coding libsoup does not know: 501, the same shape
        self.assertJsonError(self.raw(b"POST /v1/search HTTP/1.1\r\nHost: x\r\n"
                                      b"Transfer-Encoding: gzip\r\n\r\n"), 501, "invalid_request")
        # and requests libsoup reads keep their own answers
        status, _, body, _ = self.raw(b"GET /v1/health HTTP/1.1\r\nHost: x\r\n\r\n")
        self.assertEqual((status, json.loads(body)["status"]), (200, "ok"))
        self.assertJsonError(self.raw(b"GET /v1/nothing HTTP/1.1\r\nHost: x\r\n\r\n"), 404, "route_not_found")

    def test_headers_over_64_kib_get_431_not_a_reset(self):
        self.start_server()
        for head in (b"GET /v1/health HTTP/1.1\r\nHost: x\r\nX-Long: " + b"a" * 70000 + b"\r\n\r\n",
                     b"GET /v1/health?" + b"a" * 70000 + b" HTTP/1.1\r\nHost: x\r\n\r\n",
                     # still coming, and never ending
                     b"GET /v1/health HTTP/1.1\r\n" + b"X-Many: b\r\n" * 20000):
            with self.subTest(length=len(head)):
                answer = self.raw(head, send_for=0.5 if head.endswith(b"b\r\n") else 0)
                self.assertIn("65536", self.assertJsonError(answer, 431, "headers_too_large"))
        # A head just under the limit is read as usual
        status, _, body, _ = self.raw(b"GET /v1/health HTTP/1.1\r\nHost: x\r\nX-Long: " + b"a" * 60000 +
                                      b"\r\n\r\n")
        self.assertEqual(status, 200, body)
        # and one sent a byte at a time too
        sock = socket.create_connection((self.host, self.port), timeout=TIMEOUT)
        self.addCleanup(sock.close)
        for byte in b"GET /v1/health HTTP/1.1\r\nHost: x\r\n\r\n":
            sock.send(bytes([byte]))
            time.sleep(0.002)
        self.assertIn(b" 200 ", sock.recv(4096))

    def test_content_length_that_is_not_a_number_is_400_at_once(self):
        # libsoup reads "-1" as 2^64 - 1 and would wait for that body
        self.start_server()
        for value in (b"-1", b"+5", b"5, 5", b"99999999999999999999"):
            with self.subTest(value=value):
                answer = self.raw(b"POST /v1/search HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\n"
                                  b"Content-Length: " + value + b"\r\n\r\n")
                message = self.assertJsonError(answer, 400, "invalid_request")
                if value != b"5, 5":   # (that one libsoup refuses itself)
                    self.assertIn("Content-Length", message)
                self.assertLess(answer[3], 5)
        self.assertEqual(self.curl("GET", "/v1/health").status, 200)

    def server_rss_kib(self):
        with open(f"/proc/{self.proc.pid}/status") as status:
            for line in status:
                if line.startswith("VmRSS:"):
                    return int(line.split()[1])
        raise AssertionError("no VmRSS")

    def test_refused_bodies_are_answered_before_they_are_read(self):
        # A body declared far over the limit, sent as fast as loopback
        # allows: the 413 comes at once, and the server keeps none of it
        # (it used to read, and hold, all it was sent).
        self.start_server("--max-body-size", "1000000", token=TEST_TOKEN)
        before = self.server_rss_kib()
        headers = (b"Host: x\r\nContent-Type: application/json\r\nAuthorization: Bearer " +
                   TEST_TOKEN.encode() + b"\r\n")
        answer = self.raw(b"POST /v1/search HTTP/1.1\r\n" + headers +
                          b"Content-Length: 100000000000\r\n\r\n", send_for=2.0)
        self.assertJsonError(answer, 413, "payload_too_large")
        self.assertEqual(answer[1].get("connection"), "close")
        chunked = self.raw(b"POST /v1/search HTTP/1.1\r\n" + headers + b"Transfer-Encoding: chunked\r\n\r\n" +
                           b"F4240\r\n" + b" " * 1000000 + b"\r\n" + b"F4240\r\n", send_for=1.0)
        self.assertJsonError(chunked, 413, "payload_too_large")
        # Refused for its token, a body is not waited for either
        unauthorized = self.raw(b"POST /v1/search HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\n"
                                b"Content-Length: 500000\r\n\r\n")
        self.assertJsonError(unauthorized, 401, "unauthorized")
        self.assertLess(unauthorized[3], 5)
        self.assertLess(self.server_rss_kib() - before, 64 * 1024)
        self.assertEqual(self.curl("GET", "/v1/health").status, 200)


class SlowClientTests(ServeTestCase):
    """Clients that connect and send nothing, or half a request."""

    def half_open(self, count):
        sockets = []
        for _ in range(count):
            sock = socket.create_connection((self.host, self.port), timeout=TIMEOUT)
            sock.sendall(b"GET /v1/health HTTP/1.1\r\nHost: x\r\n")   # never the blank line
            sockets.append(sock)
        self.addCleanup(lambda: [s.close() for s in sockets])
        return sockets

    def test_headers_have_a_deadline(self):
        self.env["SERVE_HEADER_TIMEOUT"] = "1"
        self.start_server()
        sock = self.half_open(1)[0]
        sock.settimeout(5)
        start = time.monotonic()
        self.assertEqual(sock.recv(4096), b"")        # closed by the server
        self.assertLess(time.monotonic() - start, 4)
        self.assertEqual(self.curl("GET", "/v1/health").status, 200)

    def test_slowloris_does_not_lock_others_out(self):
        # More half-open connections than the server has file descriptors:
        # the oldest waiting ones make room, accept errors are not logged
        # in a loop, and the health check answers within a second.
        self.start_server(max_files=256)
        self.half_open(400)
        time.sleep(0.5)
        start = time.monotonic()
        response = self.curl("GET", "/v1/health")
        self.assertEqual(response.status, 200)
        self.assertLess(time.monotonic() - start, 1.0)
        self.assertLessEqual(self.server_stderr().count("Too many open files"), 3, self.server_stderr())


class ShutdownTests(ServeTestCase):
    def setUp(self):
        super().setUp()
        self.env["MAX_FILE_SIZE"] = str(200 * 1024 * 1024)

    def test_sigterm_lets_the_ingest_finish(self):
        self.start_server("--max-body-size", str(200 * 1024 * 1024))
        text = generated_text(40000, 7)
        outcome = {}

        def ingest():
            try:
                outcome["answer"] = self.post_json("/v1/documents", {"text": text, "namespace": "late",
                                                                     "source": "late-1"})
            except Exception as e:  # noqa: BLE001 — reported below
                outcome["error"] = e

        ingester = threading.Thread(target=ingest)
        ingester.start()
        # Wait until the server holds the request (the body is sent, the ingest runs).
        time.sleep(1.0)
        self.proc.send_signal(signal.SIGTERM)
        self.assertEqual(self.proc.wait(TIMEOUT * 3), 0, self.server_stderr())
        ingester.join(TIMEOUT)
        self.assertNotIn("error", outcome, outcome)
        status, result = outcome["answer"]
        self.assertEqual((status, result["outcome"]), (201, "added"), result)
        self.assertRegex(self.server_stderr(), r"shutting down after [1-9]")

        # After a restart the document is there.
        self.proc.stdout.close()
        self.stderr_file.close()
        self.proc = None
        self.start_server()
        listed = self.curl("GET", "/v1/documents?namespace=late").json()["documents"]
        self.assertEqual([d["id"] for d in listed], [result["document_id"]])
        self.assertGreater(listed[0]["chunks"], 0)

    def test_requests_after_sigterm_get_503(self):
        # Clients that connect while the server finishes its work are told
        # it is shutting down, not reset.
        self.start_server("--max-body-size", str(200 * 1024 * 1024))
        text = generated_text(40000, 8)
        outcome = {}

        def ingest():
            outcome["answer"] = self.post_json("/v1/documents", {"text": text, "namespace": "late",
                                                                 "source": "late-2"})

        ingester = threading.Thread(target=ingest)
        ingester.start()
        time.sleep(1.0)
        self.proc.send_signal(signal.SIGTERM)
        time.sleep(0.1)
        answers = [self.curl("GET", "/v1/health") for _ in range(5)]
        for response in answers:
            self.assertError(response, 503, "shutting_down")
        self.assertEqual(self.proc.wait(TIMEOUT * 3), 0, self.server_stderr())
        ingester.join(TIMEOUT)
        self.assertEqual(outcome["answer"][0], 201)

    def test_sigint_when_idle_exits_0(self):
        self.start_server()
        self.assertEqual(self.curl("GET", "/v1/health").status, 200)
        self.proc.send_signal(signal.SIGINT)
        self.assertEqual(self.proc.wait(TIMEOUT), 0, self.server_stderr())


if __name__ == "__main__":
    unittest.main(verbosity=2)

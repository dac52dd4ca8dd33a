#!/usr/bin/python3
# serve-bench.py: POST /v1/search throughput and latency of `stache serve`
# under wrk, next to the in-process StacheStore search rate on the same
# store (through Python GI), measured in the same run.
#
# Not a test. Run from the source tree after building:
#   /usr/bin/python3 tests/bench/serve-bench.py [--build build] [--docs 500] [--duration 5]
#
# SPDX-License-Identifier: LGPL-2.1-or-later

import argparse
import json
import os
import random
import re
import shutil
import subprocess
import sys
import tempfile
import threading

HERE = os.path.dirname(os.path.abspath(__file__))
SOURCE = os.path.dirname(os.path.dirname(HERE))

WORDS = ("amber basalt cedar dune ember fjord glacier harbor island juniper kelp lagoon meadow "
         "nectar orchard prairie quartz reef savanna tundra upland valley willow yarrow zephyr "
         "beacon canyon delta estuary forest grove heath inlet jetty knoll lantern marsh").split()
QUERIES = ["glacier harbor", "amber meadow lantern", "quartz reef", "willow valley estuary",
           "ember canyon", "orchard nectar grove", "tundra jetty", "savanna heath knoll"]

WRK_SCRIPT = """
local queries = {%s}
local i = 0
wrk.method = "POST"
wrk.headers["Content-Type"] = "application/json"
request = function()
  i = i + 1
  local body = string.format('{"query": "%%s", "top_k": 5}', queries[(i %% #queries) + 1])
  return wrk.format(nil, "/v1/search", nil, body)
end
"""

IN_PROCESS = """
import sys, time, gi
gi.require_version("Stache", "1.0")
from gi.repository import Stache
queries = sys.argv[1].split("|")
seconds = float(sys.argv[2])
store = Stache.Store.new(None)
for q in queries:
    store.search(q, None, 5, None)
n = 0
start = time.monotonic()
while time.monotonic() - start < seconds:
    store.search(queries[n % len(queries)], None, 5, None)
    n += 1
print(n / (time.monotonic() - start))
"""


def write_corpus(folder, count):
    rng = random.Random(42)
    os.makedirs(folder)
    for i in range(count):
        paragraphs = [" ".join(rng.choice(WORDS) for _ in range(rng.randint(40, 90))) + "."
                      for _ in range(rng.randint(3, 8))]
        with open(os.path.join(folder, f"doc-{i:05d}.txt"), "w") as f:
            f.write("\n\n".join(paragraphs))


def to_ms(text):
    value, unit = re.match(r"([\d.]+)(us|ms|s)", text).groups()
    return float(value) * {"us": 0.001, "ms": 1.0, "s": 1000.0}[unit]


def main():
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--build", default=os.path.join(SOURCE, "build"))
    parser.add_argument("--docs", type=int, default=500)
    parser.add_argument("--duration", type=int, default=5)
    parser.add_argument("--connections", default="1,8,32")
    args = parser.parse_args()

    build = os.path.abspath(args.build)
    stache = os.path.join(build, "tools", "stache")
    if shutil.which("wrk") is None:
        sys.exit("serve-bench: wrk is not installed (scripts/install-deps.sh installs it)")

    tmp = tempfile.mkdtemp(prefix="stache-serve-bench-")
    env = dict(os.environ)
    env.update(XDG_DATA_HOME=os.path.join(tmp, "data"), XDG_CONFIG_HOME=os.path.join(tmp, "config"),
               STACHE_PLUGIN_PATH=os.path.join(build, "plugins"),
               GI_TYPELIB_PATH=os.path.join(build, "libstache"),
               LD_LIBRARY_PATH=os.path.join(build, "libstache"), GIO_USE_PROXY_RESOLVER="dummy")
    for key in [k for k in env if k.endswith("_PROVIDER") or k == "STACHE_API_TOKEN"]:
        del env[key]

    server = None
    try:
        corpus = os.path.join(tmp, "corpus")
        write_corpus(corpus, args.docs)
        subprocess.run([stache, "ingest", corpus], env=env, check=True, capture_output=True)

        in_process = float(subprocess.run(["/usr/bin/python3", "-c", IN_PROCESS, "|".join(QUERIES),
                                           str(args.duration)],
                                          env=env, check=True, capture_output=True, text=True).stdout)

        server = subprocess.Popen([stache, "serve", "--port", "0"], env=env, stdout=subprocess.PIPE,
                                  stderr=subprocess.DEVNULL, text=True)
        line = [""]
        reader = threading.Thread(target=lambda: line.__setitem__(0, server.stdout.readline()), daemon=True)
        reader.start()
        reader.join(60)
        url = re.match(r"Listening on (\S+)", line[0]).group(1)

        script = os.path.join(tmp, "search.lua")
        with open(script, "w") as f:
            f.write(WRK_SCRIPT % ", ".join(json.dumps(q) for q in QUERIES))

        print(f"stache serve benchmark: {args.docs} documents, hybrid search, top_k 5, "
              f"{args.duration} s per level, one connection per request")
        print(f"in-process StacheStore.search (1 thread, Python GI): {in_process:8.1f} searches/s")
        print(f"{'connections':>11} {'requests/s':>11} {'median ms':>10} {'p99 ms':>8} {'errors':>7} "
              f"{'vs in-process':>14}")
        for connections in [int(c) for c in args.connections.split(",")]:
            threads = min(connections, 4)
            out = subprocess.run(["wrk", "-t", str(threads), "-c", str(connections), "-d", f"{args.duration}s",
                                  "--latency", "-s", script, url], check=True, capture_output=True,
                                 text=True).stdout
            rate = float(re.search(r"Requests/sec:\s+([\d.]+)", out).group(1))
            median = to_ms(re.search(r"50%\s+(\S+)", out).group(1))
            p99 = to_ms(re.search(r"99%\s+(\S+)", out).group(1))
            errors = re.search(r"Non-2xx or 3xx responses: (\d+)", out)
            socket_errors = re.search(r"Socket errors: (.*)", out)
            n_errors = int(errors.group(1)) if errors else 0
            print(f"{connections:>11} {rate:>11.1f} {median:>10.2f} {p99:>8.2f} {n_errors:>7} "
                  f"{rate / in_process:>13.2f}x" + (f"  (wrk socket errors: {socket_errors.group(1)})"
                                                    if socket_errors else ""))
        print("The server closes each connection after its response (no keep-alive); wrk counts "
              "those closes as socket read errors, not as failed requests.")
    finally:
        if server is not None:
            server.terminate()
            server.wait(60)
        shutil.rmtree(tmp, ignore_errors=True)


if __name__ == "__main__":
    main()

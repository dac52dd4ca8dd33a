# test_apps.py: the example programs in data/examples/apps (Python, GJS, Vala)
#
# Each program opens a store with the embedded defaults, ingests a folder,
# searches it and asks it a question. They run here against the shipped
# sample notes, each in its own temporary XDG_DATA_HOME, with the built-in
# plugins of the build tree.
#
# SPDX-License-Identifier: LGPL-2.1-or-later

import os
import shutil
import subprocess
import sys
import tempfile
import unittest

sys.path.insert(0, os.path.dirname(__file__))
import stache_test_env  # noqa: E402

TMP, ENV = stache_test_env.isolated_environment()
ENV["STACHE_PLUGIN_PATH"] = ENV["STACHE_TEST_BUILTIN_PLUGINS"]

SOURCE_ROOT = os.path.normpath(os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", ".."))
BUILD_ROOT = os.path.dirname(os.path.abspath(ENV["G_TEST_BUILDDIR"]))
APPS = os.path.join(SOURCE_ROOT, "data", "examples", "apps")
SAMPLES = os.path.abspath(ENV["STACHE_TEST_SAMPLES"])
BEEKEEPING = os.path.join(SAMPLES, "beekeeping.txt")
BICYCLE = os.path.join(SAMPLES, "bicycle-maintenance.txt")
SAMPLE_COUNT = len([n for n in os.listdir(SAMPLES) if not n.startswith(".")])

VARROA = "When should the colony be treated against varroa mites?"
CHAIN = "How often should the chain be oiled?"


def sections(stdout):
    """The search hits (title, path) in order, the answer text and the
    sources (title, path) from a demo's output."""
    hits, sources, answer = [], [], []
    part = None
    for line in stdout.splitlines():
        if line.startswith("Search: "):
            part = "search"
        elif line == "Answer:":
            part = "answer"
        elif line.startswith("Sources (model: "):
            part = "sources"
        elif part == "search" and line.startswith("  ") and line.strip()[:1].isdigit():
            fields = line.split("  ")
            hits.append((fields[2].strip(), fields[-1].strip()))
        elif part == "answer":
            answer.append(line)
        elif part == "sources" and line.startswith("  ["):
            fields = line.split("  ")
            sources.append((fields[1].split("] ", 1)[1].strip(), fields[-1].strip()))
    return hits, "\n".join(answer).strip(), sources


class DemoTests:
    """The same checks for every language; subclasses say how to run it."""

    def command(self):
        raise NotImplementedError

    def setUp(self):
        self.home = tempfile.mkdtemp(prefix=self.id().rsplit(".", 2)[-2] + "-", dir=TMP)
        self.env = dict(ENV)
        self.env["XDG_DATA_HOME"] = os.path.join(self.home, "data-home")
        self.env["XDG_CONFIG_HOME"] = os.path.join(self.home, "config-home")

    def run_demo(self, *args, expect_success=True):
        result = subprocess.run(self.command() + list(args), env=self.env, cwd=self.home,
                                capture_output=True, text=True, timeout=300)
        if expect_success and result.returncode != 0:
            self.fail(f"{' '.join(self.command() + list(args))} exited with {result.returncode}\n"
                      f"stdout:\n{result.stdout}\nstderr:\n{result.stderr}")
        return result

    def test_varroa_question(self):
        out = self.run_demo(SAMPLES, VARROA).stdout
        self.assertIn(f"Ingesting {SAMPLES} into namespace \"stache-demo\"", out)
        self.assertIn(f"{SAMPLE_COUNT} files: {SAMPLE_COUNT} added, 0 unchanged, 0 replaced, "
                      "0 skipped, 0 failed", out)
        hits, answer, sources = sections(out)
        self.assertEqual(len(hits), 3, out)
        self.assertEqual(hits[0], ("beekeeping.txt", BEEKEEPING), out)
        self.assertIn("late summer", answer)
        self.assertIn("oxalic or formic acid", answer)
        self.assertIn("[1]", answer)
        self.assertIn("Sources (model: extractive):", out)
        self.assertEqual(sources[0], ("beekeeping.txt", BEEKEEPING), out)
        # The store lives in the (temporary) XDG data folder
        stored = [f for _, _, files in os.walk(self.env["XDG_DATA_HOME"]) for f in files]
        self.assertTrue(stored, "nothing was written under XDG_DATA_HOME")

    def test_second_run_reuses_the_store(self):
        self.run_demo(SAMPLES, VARROA)
        out = self.run_demo(SAMPLES, CHAIN).stdout
        self.assertIn(f"{SAMPLE_COUNT} files: 0 added, {SAMPLE_COUNT} unchanged", out)
        hits, answer, sources = sections(out)
        self.assertEqual(hits[0], ("bicycle-maintenance.txt", BICYCLE), out)
        self.assertIn("every few hundred kilometres", answer)
        self.assertNotIn("varroa", answer.lower())
        self.assertEqual(sources[0][1], BICYCLE, out)

    def test_defaults_to_the_sample_notes(self):
        out = self.run_demo().stdout
        self.assertIn(f"Ingesting {SAMPLES} into namespace", out)
        hits, answer, sources = sections(out)
        self.assertEqual(hits[0][1], BEEKEEPING, out)
        self.assertIn("late summer", answer)

    def test_missing_folder_fails(self):
        missing = os.path.join(self.home, "no-such-folder")
        result = self.run_demo(missing, expect_success=False)
        self.assertEqual(result.returncode, 1, result.stderr)
        self.assertIn(f"stache-demo: {missing}: not a folder", result.stderr)
        self.assertNotIn("Answer:", result.stdout)

    def test_store_errors_fail(self):
        result = self.run_demo(SAMPLES, "   ", expect_success=False)
        self.assertEqual(result.returncode, 1, result.stdout + result.stderr)
        self.assertIn("stache-demo: ", result.stderr)
        self.assertIn("query", result.stderr)

    def test_usage(self):
        result = self.run_demo("a", "b", "c", expect_success=False)
        self.assertEqual(result.returncode, 2)
        self.assertIn("Usage:", result.stderr)


class PythonDemoTests(DemoTests, unittest.TestCase):
    def command(self):
        return [sys.executable, os.path.join(APPS, "python", "stache-demo.py")]


class GjsDemoTests(DemoTests, unittest.TestCase):
    def setUp(self):
        if shutil.which("gjs") is None:
            self.skipTest("gjs is not installed (scripts/install-deps.sh installs it)")
        super().setUp()

    def command(self):
        return ["gjs", "-m", os.path.join(APPS, "gjs", "stache-demo.js")]


class ValaDemoTests(DemoTests, unittest.TestCase):
    BINARY = os.path.join(BUILD_ROOT, "data", "examples", "stache-demo-vala")

    def setUp(self):
        if shutil.which("valac") is None:
            self.skipTest("valac is not installed, so data/examples/stache-demo-vala is not built "
                          "(scripts/install-deps.sh installs it)")
        if not os.access(self.BINARY, os.X_OK):
            self.fail(f"valac is installed but {self.BINARY} was not built "
                      "(is vapigen missing, or was meson not reconfigured?)")
        super().setUp()

    def command(self):
        return [self.BINARY]


if __name__ == "__main__":
    try:
        unittest.main(verbosity=2)
    finally:
        shutil.rmtree(TMP, ignore_errors=True)

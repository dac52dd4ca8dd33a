# test_plugins_check.py: `stache plugins check FOLDER` — one plugin folder
# checked on its own, each problem reported with a fix
#
# SPDX-License-Identifier: LGPL-2.1-or-later

import json
import os
import shutil
import subprocess
import sys
import unittest

sys.path.insert(0, os.path.dirname(__file__))
import stache_test_env  # noqa: E402

STACHE = os.environ["STACHE_TEST_TOOL"]
SOURCE_ROOT = os.path.dirname(os.path.dirname(stache_test_env.SOURCE_PLUGINS))
PYTHON_TEMPLATE = os.path.join(SOURCE_ROOT, "data", "templates", "python-plugin")

PROVIDER_KEYS = {"type", "name", "plugin", "module", "plugin_file", "folder", "loader", "status",
                 "reason", "created"}
PROBLEM_KEYS = {"severity", "plugin_file", "type", "name", "code", "message", "fix"}


class CheckTestCase(unittest.TestCase):
    def setUp(self):
        self.tmp, self.env = stache_test_env.isolated_environment()

    def tearDown(self):
        shutil.rmtree(self.tmp, ignore_errors=True)

    def run_stache(self, *args, expect=0):
        proc = subprocess.run([STACHE, *args], env=self.env, capture_output=True,
                              text=True, timeout=120)
        self.assertEqual(proc.returncode, expect,
                         f"stache {' '.join(args)}: {proc.stdout}\n{proc.stderr}")
        return proc

    def check_json(self, folder, expect):
        data = json.loads(self.run_stache("plugins", "check", "--json", folder,
                                          expect=expect).stdout)
        self.assertEqual(set(data), {"folder", "ok", "providers", "problems"})
        self.assertEqual(data["ok"], expect == 0)
        for provider in data["providers"]:
            self.assertEqual(set(provider) - {"error_code"}, PROVIDER_KEYS)  # error_code: failures
        for problem in data["problems"]:
            self.assertEqual(set(problem), PROBLEM_KEYS)
            self.assertIn(problem["severity"], ("error", "warning"))
            self.assertTrue(problem["message"])
            self.assertTrue(problem["fix"])
        return data

    def only_problem(self, folder):
        data = self.check_json(folder, expect=1)
        errors = [p for p in data["problems"] if p["severity"] == "error"]
        self.assertEqual(len(errors), 1, data)
        return data, errors[0]

    def fixture(self, name):
        return stache_test_env.install_fixture(os.path.join(self.tmp, "fixtures"), name)

    def write_plugin(self, name, plugin_text, files=None):
        folder = os.path.join(self.tmp, "made", name)
        os.makedirs(folder)
        with open(os.path.join(folder, name + ".plugin"), "w") as f:
            f.write(plugin_text)
        for file_name, text in (files or {}).items():
            with open(os.path.join(folder, file_name), "w") as f:
                f.write(text)
        return folder


class UsablePluginTests(CheckTestCase):
    def test_python_template_is_usable(self):
        out = self.run_stache("plugins", "check", PYTHON_TEMPLATE).stdout
        self.assertIn("✓ llm=template-py (python3, loaded), created", out)
        self.assertIn("the plugin is usable", out)
        self.assertNotIn("problem:", out)

    def test_python_template_json(self):
        data = self.check_json(PYTHON_TEMPLATE, expect=0)
        self.assertEqual(data["folder"], os.path.realpath(PYTHON_TEMPLATE))
        self.assertEqual(data["problems"], [])
        self.assertEqual(data["providers"], [{
            "type": "llm", "name": "template-py", "plugin": "Template answerer (Python)",
            "module": "template_py",
            "plugin_file": os.path.join(os.path.realpath(PYTHON_TEMPLATE), "template-py.plugin"),
            "folder": os.path.realpath(PYTHON_TEMPLATE),
            "loader": "python3", "status": "loaded", "reason": None, "created": True,
        }])

    def test_plugin_file_path_is_accepted_as_well_as_its_folder(self):
        plugin_file = os.path.join(PYTHON_TEMPLATE, "template-py.plugin")
        data = self.check_json(plugin_file, expect=0)
        self.assertEqual([p["name"] for p in data["providers"]], ["template-py"])

    def test_c_plugin_from_the_build_tree_is_usable(self):
        data = self.check_json(self.fixture("memory-c"), expect=0)
        self.assertEqual([(p["type"], p["name"], p["loader"], p["status"], p["created"])
                          for p in data["providers"]],
                         [("vectordb", "memory-c", "C", "loaded", True)])

    def test_installed_plugins_do_not_shadow_the_checked_folder(self):
        # The same plugin earlier in the search path would shadow it in
        # `stache plugins`; check looks at the folder alone.
        elsewhere = os.path.join(self.tmp, "elsewhere")
        stache_test_env.install_fixture(elsewhere, "memory-py")
        self.env["STACHE_PLUGIN_PATH"] = elsewhere
        data = self.check_json(self.fixture("memory-py"), expect=0)
        self.assertEqual([p["status"] for p in data["providers"]], ["loaded"])
        self.assertTrue(data["providers"][0]["plugin_file"].startswith(
            os.path.join(os.path.realpath(self.tmp), "fixtures")))

NEEDS_KEY_PLUGIN = """[Plugin]
Module=needs_key
Loader=python3
Name=Needs a key
X-Stache-Providers=reranker=needs-key
"""

NEEDS_KEY_MODULE = """
import gi
gi.require_version("Stache", "1.0")
from gi.repository import Gio, GLib, Stache

class NeedsKey(Stache.Provider, Stache.RerankerProvider, Gio.Initable):
    __gtype_name__ = "CheckTestNeedsKey"

    def do_init(self, cancellable):
        raise GLib.Error.new_literal(Stache.error_quark(), "needs_key_api_key is not set",
                                     int(Stache.Error.INVALID_SETTING))

    def do_rerank(self, query, results, top_k, cancellable):
        return list(results)[:top_k]
"""


class CreationTests(CheckTestCase):
    """Each declared provider is created with the current settings."""

    def test_provider_that_cannot_be_created_fails_with_the_reason(self):
        folder = self.write_plugin("needs_key", NEEDS_KEY_PLUGIN, {"needs_key.py": NEEDS_KEY_MODULE})
        data, problem = self.only_problem(folder)
        self.assertEqual(data["providers"][0]["status"], "loaded")
        self.assertFalse(data["providers"][0]["created"])
        self.assertEqual((problem["code"], problem["type"], problem["name"]),
                         ("create-failed", "reranker", "needs-key"))
        self.assertIn("needs_key_api_key is not set", problem["message"])
        self.assertIn("could not start", problem["message"])
        self.assertIn("settings", problem["fix"])

        out = self.run_stache("plugins", "check", folder, expect=1).stdout
        self.assertIn("✗ reranker=needs-key (python3, loaded)", out)
        self.assertIn("problem: The reranker provider “needs-key” could not start: "
                      "needs_key_api_key is not set", out)
        self.assertIn("1 problem.", out)
        self.assertNotIn("the plugin is usable", out)

    def test_no_create_only_loads_the_module(self):
        folder = self.write_plugin("needs_key", NEEDS_KEY_PLUGIN, {"needs_key.py": NEEDS_KEY_MODULE})
        data = json.loads(self.run_stache("plugins", "check", "--json", "--no-create",
                                          folder).stdout)
        self.assertTrue(data["ok"])
        self.assertEqual(data["problems"], [])
        self.assertFalse(data["providers"][0]["created"])
        out = self.run_stache("plugins", "check", "--no-create", folder).stdout
        self.assertIn("✓ reranker=needs-key (python3, loaded)", out)
        self.assertIn("the plugin is usable", out)


class RequiredMethodTests(CheckTestCase):
    """Each declared provider's class implements what its interface requires."""

    def write_vectordb(self, body, name="only_insert"):
        return self.write_plugin(name, f"""[Plugin]
Module={name}
Loader=python3
Name=Partial vector database
X-Stache-Providers=vectordb={name.replace("_", "-")}
""", {name + ".py": """
import gi
gi.require_version("Stache", "1.0")
from gi.repository import Stache
""" + body})

    def test_vector_db_with_only_insert_names_the_missing_methods(self):
        folder = self.write_vectordb("""
class OnlyInsert(Stache.Provider, Stache.VectorDbProvider):
    __gtype_name__ = "CheckTestOnlyInsert"

    def do_insert(self, namespace, chunks, vectors, cancellable):
        return True
""")
        data, problem = self.only_problem(folder)
        self.assertEqual((problem["code"], problem["type"], problem["name"]),
                         ("missing-methods", "vectordb", "only-insert"))
        self.assertIn("CheckTestOnlyInsert", problem["message"])
        self.assertIn("does not implement do_search, do_delete_chunks, do_count, "
                      "which StacheVectorDbProvider requires", problem["message"])
        self.assertNotIn("do_insert", problem["message"])
        self.assertIn("Add the methods", problem["fix"])
        self.assertEqual(data["providers"][0]["status"], "failed")
        self.assertFalse(data["providers"][0]["created"])

        out = self.run_stache("plugins", "check", folder, expect=1).stdout
        self.assertIn("✗ vectordb=only-insert (python3, failed)", out)
        self.assertIn("problem: The class CheckTestOnlyInsert (for vectordb=only-insert) does not "
                      "implement do_search, do_delete_chunks, do_count", out)

        # Not a question of settings: --no-create finds it as well, and
        # `stache plugins` lists it as failed with the same reason.
        self.run_stache("plugins", "check", "--no-create", folder, expect=1)
        self.env["STACHE_PLUGIN_PATH"] = folder
        listed = json.loads(self.run_stache("plugins", "--json").stdout)
        [info] = [p for p in listed["providers"] if p["name"] == "only-insert"]
        self.assertEqual((info["status"], info["error_code"]), ("failed", "missing-methods"))
        self.assertIn("do_search", info["reason"])

    def test_complete_vector_db_passes(self):
        folder = self.write_vectordb("""
class Complete(Stache.Provider, Stache.VectorDbProvider):
    __gtype_name__ = "CheckTestComplete"

    def do_insert(self, namespace, chunks, vectors, cancellable):
        return True

    def do_search(self, namespace, query, top_k, filter, cancellable):
        return []

    def do_delete_chunks(self, namespace, ids, filter, cancellable):
        return 0

    def do_count(self, namespace, cancellable):
        return 0
""", name="complete_db")
        data = self.check_json(folder, expect=0)
        self.assertTrue(data["providers"][0]["created"])

    def test_class_registered_before_the_module_loads_is_checked_when_created(self):
        # Two plugins share one class from a helper module: the second
        # module registers no type of its own while it loads, so its class
        # is checked when the provider is created.
        folder = os.path.join(self.tmp, "made", "shared")
        os.makedirs(folder)
        for name in ("first_db", "second_db"):
            with open(os.path.join(folder, name + ".plugin"), "w") as f:
                f.write(f"""[Plugin]
Module={name}
Loader=python3
Name={name}
X-Stache-Providers=vectordb={name.replace("_", "-")}
""")
            with open(os.path.join(folder, name + ".py"), "w") as f:
                f.write("from shared_impl import SharedOnlyInsert\n")
        with open(os.path.join(folder, "shared_impl.py"), "w") as f:
            f.write("""
import gi
gi.require_version("Stache", "1.0")
from gi.repository import Stache

class SharedOnlyInsert(Stache.Provider, Stache.VectorDbProvider):
    __gtype_name__ = "CheckTestSharedOnlyInsert"

    def do_insert(self, namespace, chunks, vectors, cancellable):
        return True
""")
        data = self.check_json(folder, expect=1)
        problems = {p["name"]: p for p in data["problems"]}
        self.assertEqual(set(problems), {"first-db", "second-db"})
        for problem in problems.values():
            self.assertEqual((problem["severity"], problem["code"]), ("error", "missing-methods"))
            self.assertIn("CheckTestSharedOnlyInsert", problem["message"])
            self.assertIn("do_search, do_delete_chunks, do_count", problem["message"])
            self.assertIn("Add the methods", problem["fix"])

    def test_embeddings_need_one_of_the_embed_methods(self):
        folder = self.write_plugin("no_embed", """[Plugin]
Module=no_embed
Loader=python3
Name=No embed
X-Stache-Providers=embeddings=no-embed
""", {"no_embed.py": """
import gi
gi.require_version("Stache", "1.0")
from gi.repository import Stache

class NoEmbed(Stache.Provider, Stache.EmbeddingProvider):
    __gtype_name__ = "CheckTestNoEmbed"

    def do_get_dimensions(self):
        return 4
"""})
        data, problem = self.only_problem(folder)
        self.assertEqual(problem["code"], "missing-methods")
        self.assertIn("does not implement do_embed or do_embed_batch or do_embed_batch_variant",
                      problem["message"])


class BrokenPluginTests(CheckTestCase):
    def test_syntax_error_names_the_line(self):
        data, problem = self.only_problem(self.fixture("syntax-error"))
        self.assertEqual(problem["code"], "load-failed")
        self.assertEqual((problem["type"], problem["name"]), ("embeddings", "syntax-error"))
        self.assertIn("SyntaxError", problem["message"])
        self.assertIn("line", problem["message"])
        self.assertIn("Fix the syntax of syntax_error.py", problem["fix"])

    def test_import_error_gives_the_last_traceback_line(self):
        data, problem = self.only_problem(self.fixture("import-error"))
        self.assertEqual(problem["code"], "load-failed")
        self.assertIn("ModuleNotFoundError: No module named", problem["message"])
        self.assertNotIn("Traceback", problem["message"])
        self.assertIn("Install the Python module", problem["fix"])

    def test_missing_c_module_says_what_file_is_expected(self):
        folder = self.fixture("missing-module")
        data, problem = self.only_problem(folder)
        self.assertEqual(problem["code"], "missing-module")
        self.assertIn("libstachemissing.so", problem["message"])
        self.assertIn("Module=stachemissing but there is no libstachemissing.so in "
                      + os.path.realpath(folder), problem["fix"])
        self.assertIn("fix Module=", problem["fix"])

    def test_missing_python_module(self):
        folder = self.write_plugin("gone", """[Plugin]
Module=gone_module
Loader=python3
Name=Gone
X-Stache-Providers=llm=gone
""")
        data, problem = self.only_problem(folder)
        self.assertEqual(problem["code"], "missing-module")
        self.assertIn("no gone_module.py", problem["fix"])

    def test_python_module_without_the_interface(self):
        data, problem = self.only_problem(self.fixture("no-type"))
        self.assertEqual(problem["code"], "no-matching-type")
        self.assertIn("StacheVectorDbProvider", problem["message"])
        self.assertIn("Declares vectordb=no-type", problem["fix"])
        self.assertIn("Stache.Provider and Stache.VectorDbProvider", problem["fix"])

    def test_python_class_deriving_only_from_provider(self):
        data, problem = self.only_problem(self.fixture("py-broken-nointerface"))
        self.assertEqual(problem["code"], "no-matching-type")
        self.assertIn("Stache.RerankerProvider", problem["fix"])

    def test_c_module_without_the_declared_type(self):
        # memory-c registers a vector database, not a reranker.
        folder = self.fixture("memory-c")
        plugin_file = os.path.join(folder, "memory-c.plugin")
        with open(plugin_file) as f:
            text = f.read().replace("vectordb=memory-c", "reranker=memory-c")
        with open(plugin_file, "w") as f:
            f.write(text)
        data, problem = self.only_problem(folder)
        self.assertEqual(problem["code"], "no-matching-type")
        self.assertIn("Declares reranker=memory-c but the module registers no "
                      "StacheRerankerProvider", problem["fix"])
        self.assertIn("peas_object_module_register_extension_type (module, "
                      "STACHE_TYPE_RERANKER_PROVIDER", problem["fix"])

    def test_unparsable_plugin_file(self):
        data, problem = self.only_problem(self.fixture("bad-file"))
        self.assertEqual(problem["code"], "bad-plugin-file")
        self.assertIn("cannot be parsed", problem["message"])
        self.assertIn("X-Stache-Providers=TYPE=NAME", problem["fix"])
        self.assertEqual(data["providers"][0]["status"], "failed")

        out = self.run_stache("plugins", "check", self.fixture("bad-file"), expect=1).stdout
        self.assertIn("✗ bad-file.plugin (failed)", out)
        self.assertIn("problem: The plugin file cannot be parsed", out)
        self.assertIn("fix: Edit ", out)
        self.assertIn("1 problem.", out)

    def test_unknown_provider_type(self):
        folder = self.write_plugin("oddtype", """[Plugin]
Module=oddtype
Loader=python3
Name=Odd type
X-Stache-Providers=search=odd
""", {"oddtype.py": "\n"})
        data, problem = self.only_problem(folder)
        self.assertEqual(problem["code"], "bad-plugin-file")
        self.assertIn("unknown provider type “search”", problem["message"])
        self.assertIn("document_index", problem["fix"])

    def test_missing_providers_key(self):
        folder = self.write_plugin("nokey", """[Plugin]
Module=nokey
Loader=python3
Name=No key
""", {"nokey.py": "\n"})
        data, problem = self.only_problem(folder)
        self.assertEqual(problem["code"], "bad-plugin-file")
        self.assertIn("X-Stache-Providers", problem["message"])

    def test_unknown_loader(self):
        folder = self.write_plugin("ruby", """[Plugin]
Module=ruby
Loader=ruby
Name=Ruby
X-Stache-Providers=llm=ruby
""", {"ruby.rb": "\n"})
        data, problem = self.only_problem(folder)
        self.assertEqual(problem["code"], "bad-plugin-file")
        self.assertIn("Unknown Loader “ruby”", problem["message"])
        self.assertIn("Loader=python3 or Loader=lua5.1", problem["fix"])

    def test_lua_plugin_is_usable_or_names_the_missing_loader(self):
        data = json.loads(self.run_stache("plugins", "check", "--json",
                                          self.fixture("lua-reranker"),
                                          expect=self.lua_expect()).stdout)
        if data["ok"]:
            self.assertEqual(data["providers"][0]["status"], "loaded")
        else:
            [problem] = data["problems"]
            self.assertEqual(problem["code"], "loader-unavailable")
            self.assertIn("Loader=lua5.1 but no lua5.1 loader for libpeas is installed",
                          problem["fix"])

    def test_missing_lua_loader_names_the_file_libpeas_looked_for(self):
        loaders = os.path.join(self.tmp, "loaders")
        os.makedirs(loaders)
        self.env["PEAS_PLUGIN_LOADERS_DIR"] = loaders
        data, problem = self.only_problem(self.fixture("lua-reranker"))
        self.assertEqual(problem["code"], "loader-unavailable")
        self.assertIn("libpeas looked for " + os.path.join(loaders, "lua5.1", "liblua51loader.so")
                      + ", as PEAS_PLUGIN_LOADERS_DIR is set", problem["message"])
        self.assertIn("lua5.1/liblua51loader.so", problem["fix"])

    def test_python_syntax_error_is_the_reason_in_check_and_in_the_list(self):
        # libpeas' python3 loader logs the traceback; the file, line and
        # message are kept as the reason, in both commands.
        folder = self.fixture("py-broken-syntax")
        module = os.path.join(os.path.realpath(folder), "py_broken_syntax.py")
        data, problem = self.only_problem(folder)
        self.assertEqual(problem["code"], "load-failed")
        self.assertIn(f"SyntaxError: '(' was never closed (File \"{module}\", line 5)",
                      problem["message"])
        self.assertIn("Fix the syntax of py_broken_syntax.py at the line shown", problem["fix"])

        self.env["STACHE_PLUGIN_PATH"] = folder
        out = self.run_stache("plugins").stdout
        self.assertIn(f"reason: Module “py_broken_syntax” failed to load: SyntaxError: '(' was "
                      f"never closed (File \"{module}\", line 5)", out)

    def lua_expect(self):
        # Whether libpeas has a lua5.1 loader here decides the outcome.
        proc = subprocess.run([STACHE, "plugins", "check", self.fixture("lua-reranker")],
                              env=self.env, capture_output=True, text=True, timeout=120)
        self.assertIn(proc.returncode, (0, 1), proc.stderr)
        return proc.returncode

    def test_folder_without_plugin_file(self):
        folder = os.path.join(self.tmp, "empty")
        os.makedirs(folder)
        data, problem = self.only_problem(folder)
        self.assertEqual(problem["code"], "no-plugin-file")
        self.assertEqual(data["providers"], [])
        self.assertIn(".plugin", problem["fix"])

    def test_human_output_has_problem_location_and_fix(self):
        folder = self.fixture("no-type")
        out = self.run_stache("plugins", "check", folder, expect=1).stdout
        self.assertIn("✗ vectordb=no-type (python3, failed)", out)
        self.assertIn("problem: Module “no_type” loaded but registers no type", out)
        self.assertIn("in: " + os.path.join(os.path.realpath(folder), "no-type.plugin"), out)
        self.assertIn("fix: Declares vectordb=no-type", out)


class CrashingPluginTests(CheckTestCase):
    """A C plugin that crashes (SIGSEGV) while it registers its types."""

    def setUp(self):
        super().setUp()
        self.crash = os.path.join(os.environ["STACHE_TEST_BUILD_PLUGINS"], "crash-c")
        self.env["STACHE_PLUGIN_PATH"] = os.pathsep.join(
            [self.crash, os.environ["STACHE_TEST_BUILTIN_PLUGINS"]])

    def test_plugins_lists_it_as_failed_and_the_rest_as_usual(self):
        data = json.loads(self.run_stache("plugins", "--json").stdout)
        by_name = {(p["type"], p["name"]): p for p in data["providers"]}
        crashed = by_name[("reranker", "crash-c")]
        self.assertEqual(crashed["status"], "failed")
        self.assertIn("crashed", crashed["reason"])
        self.assertIn("signal 11", crashed["reason"])
        self.assertEqual(by_name[("vectordb", "sqlite")]["status"], "loaded")
        self.assertEqual(by_name[("reranker", "simple")]["status"], "loaded")

        human = self.run_stache("plugins").stdout
        self.assertIn("crash-c", human)
        self.assertIn("crashed the process", human)

    def test_check_names_it(self):
        proc = self.run_stache("plugins", "check", self.crash, expect=1)
        self.assertIn("crashed the process while it was loading", proc.stdout + proc.stderr)
        self.assertIn("signal 11", proc.stdout + proc.stderr)


class TerminalSafetyTests(CheckTestCase):
    def test_control_characters_are_escaped(self):
        # A .plugin file full of terminal escape sequences (clear the
        # screen, set the window title, colours) and binary garbage: every
        # message quotes it, none sends an escape to the terminal.
        folder = os.path.join(self.tmp, "evil")
        os.makedirs(folder)
        with open(os.path.join(folder, "evil.plugin"), "wb") as f:
            f.write(b"[Plugin]\nModule=x\x1b[2J\nName=\x1b]0;pwned\x07evil\n"
                    b"X-Stache-Providers=llm=\x1b[31mred\x9b\xff\n")
        proc = subprocess.run([STACHE, "plugins", "check", folder], env=self.env,
                              capture_output=True, timeout=120)
        self.assertEqual(proc.returncode, 1, proc.stderr)
        output = proc.stdout + proc.stderr
        self.assertTrue(output)
        for byte in (b"\x1b", b"\x07", b"\x9b"):
            self.assertNotIn(byte, output)
        self.assertIn(b"\\x1b", output)

        # A file name with an escape sequence, in ingest's messages
        notes = os.path.join(self.tmp, "notes")
        os.makedirs(notes)
        with open(os.path.join(notes, "red\x1b[31m.txt"), "w"):
            pass
        env = dict(self.env, STACHE_PLUGIN_PATH=os.environ["STACHE_TEST_BUILTIN_PLUGINS"])
        proc = subprocess.run([STACHE, "ingest", notes], env=env, capture_output=True, timeout=120)
        self.assertIn(b"skipped", proc.stdout + proc.stderr)
        self.assertNotIn(b"\x1b", proc.stdout + proc.stderr)


class UsageTests(CheckTestCase):
    def test_no_folder(self):
        proc = self.run_stache("plugins", "check", expect=2)
        self.assertIn("give a plugin folder", proc.stderr)
        self.assertEqual(proc.stdout, "")

    def test_two_folders(self):
        proc = self.run_stache("plugins", "check", PYTHON_TEMPLATE, PYTHON_TEMPLATE, expect=2)
        self.assertIn("unexpected argument", proc.stderr)

    def test_folder_that_does_not_exist(self):
        proc = self.run_stache("plugins", "check", os.path.join(self.tmp, "nope"), expect=2)
        self.assertIn("does not exist", proc.stderr)

    def test_file_that_is_not_a_plugin_file(self):
        path = os.path.join(PYTHON_TEMPLATE, "template_py.py")
        proc = self.run_stache("plugins", "check", path, expect=2)
        self.assertIn("neither a folder nor a .plugin file", proc.stderr)

    def test_unknown_option(self):
        self.run_stache("plugins", "check", "--frobnicate", PYTHON_TEMPLATE, expect=2)

    def test_json_before_check_is_accepted(self):
        data = json.loads(self.run_stache("plugins", "--json", "check", PYTHON_TEMPLATE).stdout)
        self.assertTrue(data["ok"])

    def test_plugins_still_refuses_other_arguments(self):
        self.run_stache("plugins", "frobnicate", expect=2)


if __name__ == "__main__":
    unittest.main(verbosity=2)

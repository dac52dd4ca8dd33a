# test_cli.py: the stache command — plugins and config
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
SECRET = "sk-test-4f2a9c-never-print-me"


class CliTestCase(unittest.TestCase):
    def setUp(self):
        self.tmp, self.env = stache_test_env.isolated_environment()

    def tearDown(self):
        shutil.rmtree(self.tmp, ignore_errors=True)

    def run_stache(self, *args, expect=0):
        proc = subprocess.run([STACHE, *args], env=self.env, capture_output=True,
                              text=True, timeout=60)
        self.assertEqual(proc.returncode, expect,
                         f"stache {' '.join(args)}: {proc.stdout}\n{proc.stderr}")
        return proc


class PluginsCommandTests(CliTestCase):
    def make_folder_with_one_good_three_broken(self):
        folder = os.path.join(self.tmp, "plugins")
        for name in ("memory-c", "bad-file", "missing-module", "import-error"):
            stache_test_env.install_fixture(folder, name)
        self.env["STACHE_PLUGIN_PATH"] = folder
        return folder

    def test_json_lists_one_loaded_and_three_reasons(self):
        folder = self.make_folder_with_one_good_three_broken()
        data = json.loads(self.run_stache("plugins", "--json").stdout)

        self.assertEqual(data["search_path"][0], {"folder": folder,
                                                  "origin": "STACHE_PLUGIN_PATH",
                                                  "exists": True})
        providers = data["providers"]
        self.assertEqual(len(providers), 4)
        by_folder = {os.path.basename(p["folder"]): p for p in providers}

        good = by_folder["memory-c"]
        self.assertEqual((good["type"], good["name"], good["status"], good["loader"], good["reason"]),
                         ("vectordb", "memory-c", "loaded", "C", None))
        self.assertEqual(good["plugin"], "Memory (C)")

        broken = [p for p in providers if p["status"] != "loaded"]
        self.assertEqual(len(broken), 3)
        for p in broken:
            self.assertEqual(p["status"], "failed")
            self.assertTrue(p["reason"])

        self.assertEqual(by_folder["bad-file"]["error_code"], "bad-plugin-file")
        self.assertEqual(by_folder["missing-module"]["error_code"], "missing-module")
        self.assertIn("libstachemissing.so", by_folder["missing-module"]["reason"])
        self.assertEqual(by_folder["import-error"]["error_code"], "load-failed")
        self.assertIn("No module named 'stache_test_no_such_dependency'",
                      by_folder["import-error"]["reason"])

    def test_human_output_shows_reasons(self):
        self.make_folder_with_one_good_three_broken()
        out = self.run_stache("plugins").stdout
        self.assertIn("memory-c", out)
        self.assertEqual(out.count("reason:"), 3)
        self.assertIn("ModuleNotFoundError", out)

    def test_data_home_folder_is_searched(self):
        home_plugins = os.path.join(self.env["XDG_DATA_HOME"], "stache", "plugins")
        stache_test_env.install_fixture(home_plugins, "memory-py")
        data = json.loads(self.run_stache("plugins", "--json").stdout)
        self.assertEqual([(p["name"], p["status"], p["loader"]) for p in data["providers"]],
                         [("memory-py", "loaded", "python3")])
        self.assertEqual(data["search_path"][0]["origin"], "XDG_DATA_HOME")

    def test_no_plugins(self):
        data = json.loads(self.run_stache("plugins", "--json").stdout)
        self.assertEqual(data["providers"], [])

    def test_bad_arguments_exit_2(self):
        self.run_stache("plugins", "--no-such-option", expect=2)
        self.run_stache("no-such-command", expect=2)
        self.run_stache(expect=2)


class ConfigCommandTests(CliTestCase):
    def write_config(self, text):
        path = os.path.join(self.env["XDG_CONFIG_HOME"], "stache", "stache.conf")
        os.makedirs(os.path.dirname(path), exist_ok=True)
        with open(path, "w") as f:
            f.write(text)
        return path

    def test_sources_are_reported(self):
        path = self.write_config("[stache]\nchunk_size=400\n")
        self.env["VECTORDB_PROVIDER"] = "qdrant"
        data = json.loads(self.run_stache("config", "--json").stdout)
        settings = {s["key"]: s for s in data["settings"]}
        self.assertEqual(data["config_file"], path)
        self.assertEqual((settings["chunk_size"]["value"], settings["chunk_size"]["source"]),
                         ("400", "config-file"))
        self.assertEqual((settings["vectordb_provider"]["value"],
                          settings["vectordb_provider"]["source"],
                          settings["vectordb_provider"]["variable"]),
                         ("qdrant", "environment", "VECTORDB_PROVIDER"))
        self.assertEqual(settings["llm_provider"]["source"], "default")

    def test_secrets_never_printed(self):
        folder = os.path.join(self.tmp, "plugins")
        stache_test_env.install_fixture(folder, "memory-c")  # declares memory_c_api_key
        self.env["STACHE_PLUGIN_PATH"] = folder
        self.env["MEMORY_C_API_KEY"] = SECRET
        self.write_config(f"[stache]\nother_token={SECRET}\n")

        for args in (("config",), ("config", "--json")):
            proc = self.run_stache(*args)
            self.assertNotIn(SECRET, proc.stdout + proc.stderr)

        data = json.loads(self.run_stache("config", "--json").stdout)
        settings = {s["key"]: s for s in data["settings"]}
        self.assertEqual(settings["memory_c_api_key"]["value"], "********")
        self.assertTrue(settings["memory_c_api_key"]["secret"])
        self.assertEqual(settings["other_token"]["value"], "********")
        self.assertIn("memory_c_dimensions", settings)

    def test_malformed_config_file_is_an_error(self):
        path = self.write_config("[stache\nnot a key file")
        proc = self.run_stache("config", expect=1)
        self.assertIn(path, proc.stdout)


if __name__ == "__main__":
    unittest.main(verbosity=2)

# stache_test_env.py: shared set-up for the Python test suites
#
# SPDX-License-Identifier: LGPL-2.1-or-later

import os
import shutil
import tempfile

SOURCE_PLUGINS = os.environ["STACHE_TEST_SOURCE_PLUGINS"]
BUILD_PLUGINS = os.environ["STACHE_TEST_BUILD_PLUGINS"]


def install_fixture(dest, name):
    """Copies plugin fixture `name` (built files first, then sources) into dest/name."""
    target = os.path.join(dest, name)
    os.makedirs(target, exist_ok=True)
    for root in (BUILD_PLUGINS, SOURCE_PLUGINS):
        src = os.path.join(root, name)
        if not os.path.isdir(src):
            continue
        for entry in os.listdir(src):
            if entry.endswith((".plugin", ".py", ".so", ".lua")) and \
                    not os.path.exists(os.path.join(target, entry)):
                shutil.copy(os.path.join(src, entry), target)
    return target


def isolated_environment():
    """A temporary folder and environment variables that hide the user's setup."""
    tmp = tempfile.mkdtemp(prefix="stache-pytest-")
    env = dict(os.environ)
    env["XDG_DATA_HOME"] = os.path.join(tmp, "data-home")
    env["XDG_CONFIG_HOME"] = os.path.join(tmp, "config-home")
    env["XDG_DATA_DIRS"] = os.path.join(tmp, "data-dirs")
    env.pop("STACHE_PLUGIN_PATH", None)
    for key in list(env):
        if key.endswith("_PROVIDER"):
            del env[key]
    return tmp, env

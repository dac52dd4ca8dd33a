# test_potfiles.py: every source file with translatable strings is in
# po/POTFILES, so the template `meson compile -C _build stache-pot`
# generates (it is not committed) has all of them.
#
# SPDX-License-Identifier: LGPL-2.1-or-later

import os
import re
import unittest

ROOT = os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "..")
MARKED = re.compile(r'\b(?:N_|_|C_|NC_|g_dngettext|ngettext)\s*\(\s*"')
FOLDERS = ("libstache", "plugins", "tools")


class PotfilesTests(unittest.TestCase):
    def test_every_marked_file_is_listed(self):
        with open(os.path.join(ROOT, "po", "POTFILES")) as f:
            listed = {line.strip() for line in f if line.strip() and not line.startswith("#")}
        marked = set()
        for folder in FOLDERS:
            for parent, _, names in os.walk(os.path.join(ROOT, folder)):
                for name in names:
                    if not name.endswith((".c", ".cc")):
                        continue
                    path = os.path.join(parent, name)
                    with open(path, encoding="utf-8") as f:
                        if MARKED.search(f.read()):
                            marked.add(os.path.relpath(path, ROOT))
        self.assertTrue(marked)
        self.assertEqual(sorted(marked - listed), [], "files with translatable strings missing from po/POTFILES")
        self.assertEqual(sorted(p for p in listed if not os.path.exists(os.path.join(ROOT, p))), [],
                         "po/POTFILES names files that do not exist")


if __name__ == "__main__":
    unittest.main(verbosity=2)

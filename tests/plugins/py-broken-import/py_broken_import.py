# A plugin whose dependency is not installed: the import fails.
import gi

gi.require_version("Stache", "1.0")
from gi.repository import Stache  # noqa: E402

import stache_example_missing_dependency  # noqa: E402,F401


class NeverDefined(Stache.Provider, Stache.LlmProvider):
    pass

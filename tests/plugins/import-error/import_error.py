# A plugin whose import fails: the reason must reach `stache plugins`.
import stache_test_no_such_dependency  # noqa: F401

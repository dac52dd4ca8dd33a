/* test-plugin-log.c: what libpeas and its loaders log, kept as the reason
 * a plugin failed
 *
 * The messages below are the ones libpeas 1.34 logs: the lua5.1 loader's
 * "Error loading plugin 'MODULE':\n" followed by the Lua error and its
 * traceback (loaders/lua5.1/resources/peas-lua-internal.lua), with the
 * text Lua 5.1 gives for a syntax error and for an error raised while a
 * module runs; the python3 loader's "Error importing plugin 'MODULE':\n"
 * followed by the Python traceback. Debian 12 has no Lua loader to make
 * them for real; the Python ones come from a real load in
 * test-plugin-loader and test_plugins_check.
 *
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */
#include <string.h>

#include <glib.h>

#include "stache-plugin-log-private.h"

#define LUA_SYNTAX_ERROR \
  "Error loading plugin 'lua_broken':\n" \
  "error loading module 'lua_broken' from file '/home/me/plugins/lua-broken/lua_broken.lua':\n" \
  "\t/home/me/plugins/lua-broken/lua_broken.lua:2: unexpected symbol near '='\n" \
  "stack traceback:\n" \
  "\t[C]: ?\n" \
  "\t[C]: in function 'require'"

#define LUA_RUNTIME_ERROR \
  "Error loading plugin 'lua_raises':\n" \
  "/home/me/plugins/lua-raises/lua_raises.lua:3: attempt to index local 't' (a nil value)\n" \
  "stack traceback:\n" \
  "\t/home/me/plugins/lua-raises/lua_raises.lua:3: in main chunk\n" \
  "\t[C]: in function 'require'"

#define PYTHON_SYNTAX_ERROR \
  "Error importing plugin 'py_broken_syntax':\n" \
  "Traceback (most recent call last):\n" \
  "  File \"/usr/lib/python3.11/importlib/__init__.py\", line 126, in import_module\n" \
  "    return _bootstrap._gcd_import(name[level:], package, level)\n" \
  "           ^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^\n" \
  "  File \"<frozen importlib._bootstrap_external>\", line 936, in exec_module\n" \
  "  File \"/home/me/plugins/py-broken-syntax/py_broken_syntax.py\", line 5\n" \
  "    VECTOR = list(range(4)\n" \
  "                 ^\n" \
  "SyntaxError: '(' was never closed"

static void
test_lua_syntax_error_gives_file_line_and_message (void)
{
  g_autofree char *summary = _stache_plugin_log_summarize (LUA_SYNTAX_ERROR);

  g_assert_cmpstr (summary, ==,
                   "/home/me/plugins/lua-broken/lua_broken.lua:2: unexpected symbol near '='");
}

static void
test_lua_runtime_error_gives_file_line_and_message (void)
{
  g_autofree char *summary = _stache_plugin_log_summarize (LUA_RUNTIME_ERROR);

  g_assert_cmpstr (summary, ==,
                   "/home/me/plugins/lua-raises/lua_raises.lua:3: attempt to index local 't' "
                   "(a nil value)");
}

static void
test_lua_message_without_a_place_is_kept_whole (void)
{
  const char *message = "Error loading plugin 'lua_empty': expected table, got: nil (nil)";
  g_autofree char *summary = _stache_plugin_log_summarize (message);

  g_assert_cmpstr (summary, ==, message);
}

static void
test_python_syntax_error_gives_message_file_and_line (void)
{
  g_autofree char *summary = _stache_plugin_log_summarize (PYTHON_SYNTAX_ERROR);

  g_assert_cmpstr (summary, ==,
                   "SyntaxError: '(' was never closed "
                   "(File \"/home/me/plugins/py-broken-syntax/py_broken_syntax.py\", line 5)");
}

static void
test_python_exception_gives_the_last_line (void)
{
  g_autofree char *summary = _stache_plugin_log_summarize (
    "Error importing plugin 'import_error':\n"
    "Traceback (most recent call last):\n"
    "  File \"/home/me/plugins/import-error/import_error.py\", line 2, in <module>\n"
    "    import stache_test_no_such_dependency\n"
    "ModuleNotFoundError: No module named 'stache_test_no_such_dependency'\n");

  g_assert_cmpstr (summary, ==,
                   "ModuleNotFoundError: No module named 'stache_test_no_such_dependency'");
}

/* The loaders log without a domain, libpeas as "libpeas"; its own
 * "Error loading plugin 'NAME'" comes last and adds nothing. */
static void
test_capture_keeps_the_loader_reason (void)
{
  StachePluginLogCapture capture = { 0 };
  g_autofree char *reason = NULL;

  g_log_set_always_fatal (G_LOG_FATAL_MASK | G_LOG_LEVEL_CRITICAL);

  _stache_plugin_log_capture_begin (&capture);
  g_log (NULL, G_LOG_LEVEL_WARNING, "%s", LUA_SYNTAX_ERROR);
  g_log ("libpeas", G_LOG_LEVEL_WARNING, "Error loading plugin 'lua_broken'");
  _stache_plugin_log_capture_end (&capture);

  g_assert_cmpuint (capture.messages->len, ==, 2);
  reason = _stache_plugin_log_capture_describe (&capture);
  g_assert_cmpstr (reason, ==,
                   "/home/me/plugins/lua-broken/lua_broken.lua:2: unexpected symbol near '='");
  _stache_plugin_log_capture_clear (&capture);
}

static void
test_capture_of_libpeas_alone (void)
{
  StachePluginLogCapture capture = { 0 };
  g_autofree char *reason = NULL;

  g_log_set_always_fatal (G_LOG_FATAL_MASK | G_LOG_LEVEL_CRITICAL);

  _stache_plugin_log_capture_begin (&capture);
  g_log ("libpeas", G_LOG_LEVEL_WARNING,
         "Failed to load module 'lua51loader': /usr/lib/libpeas-1.0/loaders/liblua51loader.so: "
         "cannot open shared object file: No such file or directory");
  _stache_plugin_log_capture_end (&capture);

  reason = _stache_plugin_log_capture_describe (&capture);
  g_assert_nonnull (strstr (reason, "liblua51loader.so: cannot open shared object file"));
  _stache_plugin_log_capture_clear (&capture);
}

static void
test_nothing_logged_is_no_reason (void)
{
  StachePluginLogCapture capture = { 0 };
  g_autofree char *reason = NULL;

  _stache_plugin_log_capture_begin (&capture);
  _stache_plugin_log_capture_end (&capture);

  reason = _stache_plugin_log_capture_describe (&capture);
  g_assert_null (reason);
  _stache_plugin_log_capture_clear (&capture);
}

static gpointer
log_from_thread (gpointer data)
{
  g_log (NULL, G_LOG_LEVEL_MESSAGE, "from another thread");
  return NULL;
}

static void
test_capture_is_scoped_to_the_thread_and_the_load (void)
{
  StachePluginLogCapture capture = { 0 };
  GThread *thread;

  _stache_plugin_log_capture_begin (&capture);
  thread = g_thread_new ("other", log_from_thread, NULL);
  g_thread_join (thread);
  g_log (NULL, G_LOG_LEVEL_MESSAGE, "from the loading thread");
  _stache_plugin_log_capture_end (&capture);

  /* After the load, messages go where they always went. */
  g_log (NULL, G_LOG_LEVEL_MESSAGE, "after the load");

  g_assert_cmpuint (capture.messages->len, ==, 1);
  g_assert_cmpstr (g_ptr_array_index (capture.messages, 0), ==, "from the loading thread");
  _stache_plugin_log_capture_clear (&capture);
}

int
main (int   argc,
      char *argv[])
{
  g_test_init (&argc, &argv, NULL);

  g_test_add_func ("/plugin-log/lua/syntax-error", test_lua_syntax_error_gives_file_line_and_message);
  g_test_add_func ("/plugin-log/lua/runtime-error", test_lua_runtime_error_gives_file_line_and_message);
  g_test_add_func ("/plugin-log/lua/no-place", test_lua_message_without_a_place_is_kept_whole);
  g_test_add_func ("/plugin-log/python/syntax-error", test_python_syntax_error_gives_message_file_and_line);
  g_test_add_func ("/plugin-log/python/exception", test_python_exception_gives_the_last_line);
  g_test_add_func ("/plugin-log/capture/loader-reason", test_capture_keeps_the_loader_reason);
  g_test_add_func ("/plugin-log/capture/libpeas-alone", test_capture_of_libpeas_alone);
  g_test_add_func ("/plugin-log/capture/nothing", test_nothing_logged_is_no_reason);
  g_test_add_func ("/plugin-log/capture/scoped", test_capture_is_scoped_to_the_thread_and_the_load);

  return g_test_run ();
}

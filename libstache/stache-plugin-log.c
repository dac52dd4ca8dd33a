/* stache-plugin-log.c: keeping what libpeas and its loaders log
 *
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */
#include "config.h"

#include <string.h>

#include "stache-plugin-log-private.h"

/* libpeas itself logs in the domain "libpeas". Its loaders, the modules
 * libpython3loader.so and liblua51loader.so, define no G_LOG_DOMAIN and
 * log without a domain (NULL): their import tracebacks and Lua errors
 * arrive there. */
static const char * const captured_domains[] = { "libpeas", NULL };

G_STATIC_ASSERT (G_N_ELEMENTS (captured_domains) ==
                 G_N_ELEMENTS (((StachePluginLogCapture *) NULL)->handler_ids));

static void
capture_log (const char     *log_domain,
             GLogLevelFlags  log_level,
             const char     *message,
             gpointer        user_data)
{
  StachePluginLogCapture *capture = user_data;

  if (g_thread_self () == capture->thread &&
      (log_level & (G_LOG_LEVEL_WARNING | G_LOG_LEVEL_MESSAGE)) != 0)
    {
      g_ptr_array_add (capture->messages, g_strdup (message));
      return;
    }

  g_log_default_handler (log_domain, log_level, message, NULL);
}

void
_stache_plugin_log_capture_begin (StachePluginLogCapture *capture)
{
  capture->thread = g_thread_self ();
  capture->messages = g_ptr_array_new_with_free_func (g_free);
  for (guint i = 0; i < G_N_ELEMENTS (captured_domains); i++)
    capture->handler_ids[i] = g_log_set_handler (captured_domains[i],
                                                 G_LOG_LEVEL_WARNING | G_LOG_LEVEL_MESSAGE,
                                                 capture_log, capture);
}

void
_stache_plugin_log_capture_end (StachePluginLogCapture *capture)
{
  for (guint i = 0; i < G_N_ELEMENTS (captured_domains); i++)
    g_log_remove_handler (captured_domains[i], capture->handler_ids[i]);
}

void
_stache_plugin_log_capture_clear (StachePluginLogCapture *capture)
{
  g_clear_pointer (&capture->messages, g_ptr_array_unref);
}

/* "FILE.lua:LINE: message", as Lua reports an error in a file */
static gboolean
is_lua_error_line (const char *line)
{
  const char *p = strstr (line, ".lua:");

  if (p == NULL || p == line)
    return FALSE;

  p += strlen (".lua:");
  if (!g_ascii_isdigit (*p))
    return FALSE;
  while (g_ascii_isdigit (*p))
    p++;

  return p[0] == ':' && p[1] == ' ' && p[2] != '\0';
}

char *
_stache_plugin_log_summarize (const char *message)
{
  g_auto(GStrv) lines = g_strsplit (message, "\n", -1);
  const char *last = NULL;
  const char *file_line = NULL;
  guint n = g_strv_length (lines);

  for (guint i = 0; i < n; i++)
    g_strstrip (lines[i]);

  /* libpeas' lua5.1 loader logs "Error loading plugin 'MODULE':", then
   * the error: for a syntax error "error loading module 'MODULE' from
   * file 'FILE':" and "FILE:LINE: message", for an error raised while the
   * module runs "FILE:LINE: message"; then "stack traceback:" and its
   * frames, which name the same place or Lua's own code. */
  for (guint i = 0; i < n; i++)
    {
      const char *line = lines[i];

      if (g_str_equal (line, "stack traceback:"))
        break;
      if (is_lua_error_line (line))
        return g_strdup (line);
    }

  for (guint i = n; i > 0; i--)
    {
      const char *line = lines[i - 1];

      if (line[0] != '\0')
        {
          last = line;
          break;
        }
    }

  if (last == NULL)
    return g_strdup (message);

  if (n == 1)
    return g_strdup (last);

  for (guint i = n; i > 0; i--)
    {
      if (g_str_has_prefix (lines[i - 1], "File \""))
        {
          file_line = lines[i - 1];
          break;
        }
    }

  if (g_str_has_prefix (last, "SyntaxError") || g_str_has_prefix (last, "IndentationError") ||
      g_str_has_prefix (last, "TabError"))
    {
      if (file_line != NULL)
        return g_strdup_printf ("%s (%s)", last, file_line);
    }

  return g_strdup (last);
}

/* libpeas' own "Error loading plugin 'NAME'", which follows the loader's
 * reason; not the Lua loader's "Error loading plugin 'NAME': …", which
 * is the reason. */
static gboolean
is_bare_libpeas_failure (const char *message)
{
  return g_str_has_prefix (message, "Error loading plugin '") &&
         g_str_has_suffix (message, "'") &&
         strchr (message, '\n') == NULL &&
         strstr (message, "': ") == NULL;
}

char *
_stache_plugin_log_capture_describe (StachePluginLogCapture *capture)
{
  g_autoptr(GString) text = g_string_new (NULL);

  for (guint i = 0; i < capture->messages->len; i++)
    {
      const char *message = g_ptr_array_index (capture->messages, i);
      g_autofree char *summary = NULL;

      if (is_bare_libpeas_failure (message) && capture->messages->len > 1)
        continue;

      summary = _stache_plugin_log_summarize (message);
      if (text->len > 0)
        g_string_append (text, "; ");
      g_string_append (text, summary);
    }

  return text->len > 0 ? g_string_free (g_steal_pointer (&text), FALSE) : NULL;
}

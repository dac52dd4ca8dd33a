/* stache-plugin-log-private.h: keeping what libpeas and its loaders log
 *
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */
#pragma once

#include <glib.h>

G_BEGIN_DECLS

/* libpeas says why a module failed to load (a dlopen() error, a Python
 * traceback, a Lua error with its file and line) only through g_warning();
 * its GError just says "Failed to load". Between begin and end, the
 * warnings and messages the calling thread logs in the domains libpeas
 * and its loaders use are collected instead of printed; other threads'
 * are printed as usual. */
typedef struct
{
  GThread   *thread;
  GPtrArray *messages;   /* char * */
  guint      handler_ids[2];
} StachePluginLogCapture;

void  _stache_plugin_log_capture_begin (StachePluginLogCapture *capture);
void  _stache_plugin_log_capture_end   (StachePluginLogCapture *capture);
void  _stache_plugin_log_capture_clear (StachePluginLogCapture *capture);

/* The reason the collected messages give, boiled down to what a user
 * needs, or NULL when nothing was logged. */
char *_stache_plugin_log_capture_describe (StachePluginLogCapture *capture);

/* One message boiled down: the FILE:LINE: message line of a Lua error,
 * the last line of a Python traceback (with the file and line of a
 * SyntaxError), or the whole message when it is a single line. */
char *_stache_plugin_log_summarize (const char *message);

G_END_DECLS

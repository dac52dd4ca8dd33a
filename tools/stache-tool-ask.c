/* stache-tool-ask.c: `stache ask`: an answer with its sources, streamed as it is written
 *
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */
#include "config.h"

#include <stdio.h>
#include <string.h>
#include <unistd.h>
#include <glib/gi18n.h>

#include "stache-operations.h"
#include "stache-tool-commands.h"

static void
print_token (StacheStore *store,
             const char  *token,
             gpointer     user_data)
{
  gboolean *printed = user_data;

  fputs (token, stdout);
  fflush (stdout);
  *printed = TRUE;
}

int
command_ask (int    argc,
             char **argv)
{
  gboolean json = FALSE;
  g_autofree char *namespace_ = NULL;
  int top_k = 5;
  const GOptionEntry entries[] = {
    { "namespace", 'n', 0, G_OPTION_ARG_STRING, &namespace_, N_("Namespace to search (default: all)"), N_("NAME") },
    { "top-k", 'k', 0, G_OPTION_ARG_INT, &top_k, N_("How many passages to answer from (default 5)"), N_("N") },
    { "json", 0, 0, G_OPTION_ARG_NONE, &json, N_("Print JSON"), NULL },
    { NULL }
  };
  g_autoptr(GOptionContext) context = g_option_context_new (N_("QUESTION"));
  g_autoptr(StacheStore) store = NULL;
  g_autoptr(JsonObject) args = NULL;
  g_autoptr(JsonNode) answer = NULL;
  g_autoptr(GError) error = NULL;
  g_autofree char *question = NULL;
  gboolean streamed = FALSE;
  const char *text;
  JsonArray *sources;

  g_option_context_set_summary (context, _("Answer a question from the store, citing the sources."));
  g_option_context_add_main_entries (context, entries, GETTEXT_PACKAGE);
  if (!stache_tool_parse_options (context, &argc, &argv))
    return EXIT_USAGE;
  if (argc < 2)
    {
      g_printerr ("%s\n", _("stache ask: give a question"));
      return EXIT_USAGE;
    }
  if (top_k < 1 || top_k > STACHE_OPERATION_MAX_TOP_K)
    {
      /* TRANSLATORS: the smallest and the largest value */
      g_printerr (_("stache ask: --top-k must be between %d and %d\n"), 1, STACHE_OPERATION_MAX_TOP_K);
      return EXIT_USAGE;
    }

  question = g_strjoinv (" ", argv + 1);
  if ((store = stache_tool_open_store ()) == NULL)
    return 1;

  if (!json)
    g_signal_connect (store, "token", G_CALLBACK (print_token), &streamed);

  args = json_object_new ();
  json_object_set_string_member (args, "question", question);
  if (namespace_ != NULL)
    json_object_set_string_member (args, "namespace", namespace_);
  json_object_set_int_member (args, "top_k", top_k);
  answer = stache_operation_run ("ask", store, args, NULL, NULL, &error);
  if (answer == NULL)
    {
      if (streamed)
        g_print ("\n");
      g_printerr ("stache: %s\n", error->message);
      return 1;
    }

  if (json)
    {
      stache_tool_print_json_node (answer);
      return 0;
    }

  text = stache_tool_member_string (json_node_get_object (answer), "answer");
  if (!streamed)
    g_print ("%s", text != NULL ? text : "");
  g_print ("\n\n%s\n", _("Sources:"));
  sources = json_object_get_array_member (json_node_get_object (answer), "sources");
  {
    g_autoptr(GString) lines = g_string_new (NULL);

    stache_tool_render_sources (lines, sources, "  ");
    g_print ("%s", lines->str);
  }

  return 0;
}

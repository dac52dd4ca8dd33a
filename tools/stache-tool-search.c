/* stache-tool-search.c: `stache search`: the store searched, results as text or JSON
 *
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */
#include "config.h"

#include <stdio.h>
#include <string.h>
#include <glib/gi18n.h>

#include "stache-operations.h"
#include "stache-tool-commands.h"

int
command_search (int    argc,
                char **argv)
{
  gboolean json = FALSE;
  gboolean by_document = FALSE;
  gboolean by_chunk = FALSE;
  g_autofree char *namespace_ = NULL;
  g_autofree char *mode_text = NULL;
  g_autofree char *filter_text = NULL;
  int top_k = 5;
  const GOptionEntry entries[] = {
    { "namespace", 'n', 0, G_OPTION_ARG_STRING, &namespace_, N_("Namespace to search (default: all)"), N_("NAME") },
    { "top-k", 'k', 0, G_OPTION_ARG_INT, &top_k, N_("How many results (default 5)"), N_("N") },
    { "mode", 'm', 0, G_OPTION_ARG_STRING, &mode_text, N_("hybrid (default), vector or keyword"), N_("MODE") },
    { "filter", 'f', 0, G_OPTION_ARG_STRING, &filter_text, N_("Metadata filter as JSON"), N_("JSON") },
    { "by-document", 0, 0, G_OPTION_ARG_NONE, &by_document,
      N_("One result per document, the best of its passages (the default)"), NULL },
    { "by-chunk", 0, 0, G_OPTION_ARG_NONE, &by_chunk,
      N_("The best passages, several of one document if they rank so"), NULL },
    { "json", 0, 0, G_OPTION_ARG_NONE, &json, N_("Print JSON"), NULL },
    { NULL }
  };
  g_autoptr(GOptionContext) context = g_option_context_new (N_("QUERY"));
  g_autoptr(StacheStore) store = NULL;
  g_autoptr(JsonObject) args = NULL;
  g_autoptr(JsonNode) found = NULL;
  JsonArray *results;
  g_autoptr(GError) error = NULL;
  g_autoptr(JsonObject) filter = NULL;
  g_autofree char *query = NULL;
  StacheSearchMode mode;

  g_option_context_set_summary (context, _("Search the store: the best documents first, each with its best "
                                           "passage and source (--by-chunk: the best passages)."));
  g_option_context_add_main_entries (context, entries, GETTEXT_PACKAGE);
  if (!stache_tool_parse_options (context, &argc, &argv))
    return EXIT_USAGE;
  if (argc < 2)
    {
      g_printerr ("%s\n", _("stache search: give a query"));
      return EXIT_USAGE;
    }
  if (by_document && by_chunk)
    {
      g_printerr ("%s\n", _("stache search: give --by-document or --by-chunk, not both"));
      return EXIT_USAGE;
    }
  if (!stache_tool_parse_mode (mode_text, &mode))
    {
      g_printerr (_("stache search: unknown mode “%s”; use hybrid, vector or keyword\n"), mode_text);
      return EXIT_USAGE;
    }
  if (top_k < 1 || top_k > STACHE_OPERATION_MAX_TOP_K)
    {
      /* TRANSLATORS: the smallest and the largest value */
      g_printerr (_("stache search: --top-k must be between %d and %d\n"), 1, STACHE_OPERATION_MAX_TOP_K);
      return EXIT_USAGE;
    }
  if (filter_text != NULL)
    {
      g_autoptr(JsonNode) root = stache_json_parse (filter_text, -1, 0, TRUE, "--filter", &error);

      if (root == NULL || !JSON_NODE_HOLDS_OBJECT (root))
        {
          g_printerr (_("stache search: --filter is not a JSON object: %s\n"),
                      error != NULL ? error->message : _("not an object"));
          return EXIT_USAGE;
        }
      filter = json_object_ref (json_node_get_object (root));
    }

  query = g_strjoinv (" ", argv + 1);
  if ((store = stache_tool_open_store ()) == NULL)
    return 1;

  args = json_object_new ();
  json_object_set_string_member (args, "query", query);
  if (namespace_ != NULL)
    json_object_set_string_member (args, "namespace", namespace_);
  json_object_set_int_member (args, "top_k", top_k);
  json_object_set_string_member (args, "mode", mode_text != NULL ? mode_text : "hybrid");
  if (filter != NULL)
    json_object_set_object_member (args, "filter", json_object_ref (filter));
  json_object_set_boolean_member (args, "group_by_document", !by_chunk);

  found = stache_operation_run ("search", store, args, NULL, NULL, &error);
  if (found == NULL)
    {
      g_printerr ("stache: %s\n", error->message);
      return 1;
    }

  if (json)
    {
      stache_tool_print_json_node (found);
      return 0;
    }

  results = json_object_get_array_member (json_node_get_object (found), "results");
  if (json_array_get_length (results) == 0)
    g_print ("%s\n", _("No results."));

  for (guint i = 0; i < json_array_get_length (results); i++)
    {
      JsonObject *result = json_array_get_object_element (results, i);

      g_print ("%u. %s  (%.3f)\n", i + 1, stache_tool_result_object_source (result),
               json_object_get_double_member (result, "score"));
      stache_tool_print_passage (stache_tool_member_string (result, "text") != NULL
                                   ? stache_tool_member_string (result, "text") : "");
    }
  return 0;
}

/* Prints the answer as the model writes it */

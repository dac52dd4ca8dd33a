/* stache-tool-documents.c: `stache documents`: list, show or delete ingested documents
 *
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */
#include "config.h"

#include <stdio.h>
#include <string.h>
#include <glib/gi18n.h>

#include "stache-operations.h"
#include "stache-tool-commands.h"

static const char *
or_dash (const char *text)
{
  return text != NULL ? text : "-";
}

int
command_documents (int    argc,
                   char **argv)
{
  gboolean json = FALSE;
  g_autofree char *namespace_ = NULL;
  const GOptionEntry entries[] = {
    { "namespace", 'n', 0, G_OPTION_ARG_STRING, &namespace_, N_("Only this namespace"), N_("NAME") },
    { "json", 0, 0, G_OPTION_ARG_NONE, &json, N_("Print JSON"), NULL },
    { NULL }
  };
  g_autoptr(GOptionContext) context = g_option_context_new (N_("list | show ID | delete ID"));
  g_autoptr(StacheStore) store = NULL;
  g_autoptr(JsonObject) args = NULL;
  g_autoptr(JsonNode) result = NULL;
  g_autoptr(GError) error = NULL;
  JsonObject *object;
  const char *action;

  g_option_context_set_summary (context, _("List, show or delete ingested documents."));
  g_option_context_add_main_entries (context, entries, GETTEXT_PACKAGE);
  if (!stache_tool_parse_options (context, &argc, &argv))
    return EXIT_USAGE;

  action = argc > 1 ? argv[1] : "list";
  if (!g_str_equal (action, "list") && !g_str_equal (action, "show") && !g_str_equal (action, "delete"))
    {
      g_printerr (_("stache documents: unknown action “%s”; use list, show or delete\n"), action);
      return EXIT_USAGE;
    }
  if (!g_str_equal (action, "list") && argc != 3)
    {
      g_printerr (_("stache documents %s: give one document id\n"), action);
      return EXIT_USAGE;
    }

  if ((store = stache_tool_open_store ()) == NULL)
    return 1;

  args = json_object_new ();
  if (g_str_equal (action, "list") && namespace_ != NULL)
    json_object_set_string_member (args, "namespace", namespace_);
  if (!g_str_equal (action, "list"))
    json_object_set_string_member (args, "document_id", argv[2]);
  result = stache_operation_run (g_str_equal (action, "list") ? "list_documents"
                                 : g_str_equal (action, "show") ? "get_document" : "delete_document",
                                 store, args, NULL, NULL, &error);
  if (result == NULL)
    {
      g_printerr ("stache: %s\n", error->message);
      return 1;
    }
  object = json_node_get_object (result);

  if (g_str_equal (action, "list"))
    {
      JsonArray *documents = json_object_get_array_member (object, "documents");

      if (json)
        {
          stache_tool_print_json_node (json_object_get_member (object, "documents"));
          return 0;
        }

      if (json_array_get_length (documents) == 0)
        g_print ("%s\n", _("No documents."));
      for (guint i = 0; i < json_array_get_length (documents); i++)
        {
          JsonObject *document = json_array_get_object_element (documents, i);
          const char *source = stache_tool_member_string (document, "source");

          g_print ("%s  %-12s %4u  %s\n", stache_tool_member_string (document, "id"),
                   stache_tool_member_string (document, "namespace"),
                   (guint) json_object_get_int_member (document, "chunks"),
                   source != NULL ? source : stache_tool_member_string (document, "title"));
        }
      return 0;
    }

  if (g_str_equal (action, "show"))
    {
      if (json)
        {
          stache_tool_print_json_node (result);
          return 0;
        }

      g_print ("%s: %s\n%s: %s\n%s: %s\n%s: %s\n%s: %u\n%s: %s\n",
               _("Id"), stache_tool_member_string (object, "id"),
               _("Namespace"), stache_tool_member_string (object, "namespace"),
               _("Source"), or_dash (stache_tool_member_string (object, "source")),
               _("Title"), or_dash (stache_tool_member_string (object, "title")),
               _("Chunks"), (guint) json_object_get_int_member (object, "chunks"),
               _("Summary"), or_dash (stache_tool_member_string (object, "summary")));
      return 0;
    }

  if (!json)
    g_print (_("Deleted %s\n"), argv[2]);
  return 0;
}

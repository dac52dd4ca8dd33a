/* stache-tool-documents.c: `stache documents`: list, show or delete ingested documents
 *
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */
#include "config.h"

#include <stdio.h>
#include <string.h>
#include <glib/gi18n.h>

#include "stache-tool-commands.h"

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
  g_autoptr(GError) error = NULL;
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

  if (g_str_equal (action, "list"))
    {
      g_autoptr(GPtrArray) documents = stache_store_list_documents (store, namespace_, NULL, &error);

      if (documents == NULL)
        {
          g_printerr ("stache: %s\n", error->message);
          return 1;
        }

      if (json)
        {
          g_autoptr(JsonBuilder) builder = json_builder_new ();

          json_builder_begin_array (builder);
          for (guint i = 0; i < documents->len; i++)
            {
              json_builder_begin_object (builder);
              stache_tool_add_document_members (builder, g_ptr_array_index (documents, i));
              json_builder_end_object (builder);
            }
          json_builder_end_array (builder);
          stache_tool_print_json (builder);
          return 0;
        }

      if (documents->len == 0)
        g_print ("%s\n", _("No documents."));
      for (guint i = 0; i < documents->len; i++)
        {
          StacheDocument *document = g_ptr_array_index (documents, i);

          g_print ("%s  %-12s %4u  %s\n", stache_document_get_id (document),
                   stache_document_get_namespace (document),
                   stache_document_get_chunk_count (document),
                   stache_document_get_source (document) != NULL ? stache_document_get_source (document)
                                                                 : stache_document_get_title (document));
        }
      return 0;
    }

  if (g_str_equal (action, "show"))
    {
      g_autoptr(StacheDocument) document = stache_store_get_document (store, argv[2], NULL, &error);

      if (document == NULL)
        {
          g_printerr ("stache: %s\n", error->message);
          return 1;
        }

      if (json)
        {
          g_autoptr(JsonBuilder) builder = json_builder_new ();

          json_builder_begin_object (builder);
          stache_tool_add_document_members (builder, document);
          json_builder_end_object (builder);
          stache_tool_print_json (builder);
          return 0;
        }

      g_print ("%s: %s\n%s: %s\n%s: %s\n%s: %s\n%s: %u\n%s: %s\n",
               _("Id"), stache_document_get_id (document),
               _("Namespace"), stache_document_get_namespace (document),
               _("Source"), stache_document_get_source (document) ? stache_document_get_source (document) : "-",
               _("Title"), stache_document_get_title (document) ? stache_document_get_title (document) : "-",
               _("Chunks"), stache_document_get_chunk_count (document),
               _("Summary"), stache_document_get_summary (document) ? stache_document_get_summary (document) : "-");
      return 0;
    }

  if (!stache_store_delete_document (store, argv[2], NULL, &error))
    {
      g_printerr ("stache: %s\n", error->message);
      return 1;
    }
  if (!json)
    g_print (_("Deleted %s\n"), argv[2]);
  return 0;
}

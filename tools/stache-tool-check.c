/* stache-tool-check.c: `stache check`: the whole store read and checked
 *
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */
#include "config.h"

#include <stdio.h>
#include <string.h>
#include <glib/gi18n.h>

#include "stache-tool-commands.h"

/* ---- check ---- */

int
command_check (int    argc,
               char **argv)
{
  gboolean json = FALSE;
  const GOptionEntry entries[] = {
    { "json", 0, 0, G_OPTION_ARG_NONE, &json, N_("Print JSON"), NULL },
    { NULL }
  };
  g_autoptr(GOptionContext) context = g_option_context_new (NULL);
  g_autoptr(StacheStore) store = NULL;
  g_autoptr(StacheVectorDbProvider) vectordb = NULL;
  g_autoptr(GError) error = NULL;
  gboolean ok;

  g_option_context_set_summary (context,
                                _("Read the whole store and check that it is intact: the database "
                                  "file, the keyword index and the vectors against the chunks. "
                                  "Opening a store does not do this, so that it stays fast at any "
                                  "size; run it after a crash of the machine or a disk error."));
  g_option_context_add_main_entries (context, entries, GETTEXT_PACKAGE);
  if (!stache_tool_parse_options (context, &argc, &argv))
    return EXIT_USAGE;
  if (argc > 1)
    {
      g_printerr (_("stache check: takes no arguments\n"));
      return EXIT_USAGE;
    }

  if ((store = stache_tool_open_store ()) == NULL)
    return 1;

  g_object_get (store, "vector-db-provider", &vectordb, NULL);
  ok = stache_vector_db_provider_verify (vectordb, NULL, &error);

  if (json)
    {
      g_autoptr(JsonBuilder) builder = json_builder_new ();

      json_builder_begin_object (builder);
      json_builder_set_member_name (builder, "ok");
      json_builder_add_boolean_value (builder, ok);
      json_builder_set_member_name (builder, "vector_db");
      json_builder_add_string_value (builder, G_OBJECT_TYPE_NAME (vectordb));
      if (!ok)
        {
          json_builder_set_member_name (builder, "error");
          json_builder_add_string_value (builder, error->message);
        }
      json_builder_end_object (builder);
      stache_tool_print_json (builder);
      return ok ? 0 : 1;
    }

  if (!ok)
    {
      g_printerr ("stache: %s\n", error->message);
      return 1;
    }

  g_print ("%s\n", _("The store is intact."));
  return 0;
}

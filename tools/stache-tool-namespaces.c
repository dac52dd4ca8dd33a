/* stache-tool-namespaces.c: `stache namespaces`: list, create or delete namespaces
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
command_namespaces (int    argc,
                    char **argv)
{
  gboolean json = FALSE;
  gboolean cascade = FALSE;
  g_autofree char *parent = NULL;
  g_autofree char *description = NULL;
  const GOptionEntry entries[] = {
    { "parent", 0, 0, G_OPTION_ARG_STRING, &parent, N_("list: only children of this namespace"), N_("NAME") },
    { "description", 'd', 0, G_OPTION_ARG_STRING, &description, N_("create: what it holds"), N_("TEXT") },
    { "cascade", 0, 0, G_OPTION_ARG_NONE, &cascade, N_("delete: also delete everything in it"), NULL },
    { "json", 0, 0, G_OPTION_ARG_NONE, &json, N_("Print JSON"), NULL },
    { NULL }
  };
  g_autoptr(GOptionContext) context = g_option_context_new (N_("list | create NAME | delete NAME"));
  g_autoptr(StacheStore) store = NULL;
  g_autoptr(GError) error = NULL;
  const char *action;

  g_option_context_set_summary (context, _("List, create or delete namespaces."));
  g_option_context_add_main_entries (context, entries, GETTEXT_PACKAGE);
  if (!stache_tool_parse_options (context, &argc, &argv))
    return EXIT_USAGE;

  action = argc > 1 ? argv[1] : "list";
  if (!g_str_equal (action, "list") && !g_str_equal (action, "create") && !g_str_equal (action, "delete"))
    {
      g_printerr (_("stache namespaces: unknown action “%s”; use list, create or delete\n"), action);
      return EXIT_USAGE;
    }
  if (!g_str_equal (action, "list") && argc != 3)
    {
      g_printerr (_("stache namespaces %s: give one namespace name\n"), action);
      return EXIT_USAGE;
    }

  if ((store = stache_tool_open_store ()) == NULL)
    return 1;

  if (g_str_equal (action, "list"))
    {
      g_autoptr(JsonObject) args = json_object_new ();
      g_autoptr(JsonNode) result = NULL;
      JsonArray *namespaces;

      if (parent != NULL)
        json_object_set_string_member (args, "parent", parent);
      result = stache_operation_run ("list_namespaces", store, args, NULL, NULL, &error);
      if (result == NULL)
        {
          g_printerr ("stache: %s\n", error->message);
          return 1;
        }

      if (json)
        {
          stache_tool_print_json_node (json_object_get_member (json_node_get_object (result), "namespaces"));
          return 0;
        }

      namespaces = json_object_get_array_member (json_node_get_object (result), "namespaces");
      if (json_array_get_length (namespaces) == 0)
        g_print ("%s\n", _("No namespaces."));
      for (guint i = 0; i < json_array_get_length (namespaces); i++)
        {
          JsonObject *ns = json_array_get_object_element (namespaces, i);
          const char *text = stache_tool_member_string (ns, "description");

          g_print ("%s%s%s\n", stache_tool_member_string (ns, "name"), text ? "  " : "", text ? text : "");
        }
      return 0;
    }

  if (g_str_equal (action, "create"))
    {
      g_autoptr(StacheNamespace) ns = stache_store_create_namespace (store, argv[2], description, NULL, &error);

      if (ns == NULL)
        {
          g_printerr ("stache: %s\n", error->message);
          return 1;
        }
      if (!json)
        g_print (_("Created %s\n"), argv[2]);
      return 0;
    }

  if (!stache_store_delete_namespace (store, argv[2], cascade, NULL, &error))
    {
      g_printerr ("stache: %s\n", error->message);
      /* The provider's message cannot name this program's option */
      if (g_error_matches (error, STACHE_ERROR, STACHE_ERROR_NOT_EMPTY))
        g_printerr (_("stache namespaces delete: add --cascade to delete “%s” with everything it holds\n"),
                    argv[2]);
      return 1;
    }
  if (!json)
    g_print (_("Deleted %s\n"), argv[2]);
  return 0;
}

/* stache-tool-config.c: `stache config`: the effective settings and where each comes from
 *
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */
#include "config.h"

#include <stdio.h>
#include <string.h>
#include <glib/gi18n.h>

#include "stache-tool-commands.h"

/* ---- stache config ---- */

int
command_config (int    argc,
                char **argv)
{
  gboolean json = FALSE;
  const GOptionEntry entries[] = {
    { "json", 0, 0, G_OPTION_ARG_NONE, &json, N_("Print JSON"), NULL },
    { NULL }
  };
  g_autoptr(GOptionContext) context = g_option_context_new (NULL);
  g_autoptr(StacheSettings) settings = NULL;
  g_autoptr(GError) config_error = NULL;
  g_auto(GStrv) keys = NULL;

  g_option_context_set_summary (context,
                                _("Show the effective settings and where each value comes from. "
                                  "Secrets are redacted."));
  g_option_context_add_main_entries (context, entries, GETTEXT_PACKAGE);
  if (!stache_tool_parse_options (context, &argc, &argv))
    return EXIT_USAGE;
  if (argc > 1)
    {
      g_printerr (_("stache config: unexpected argument “%s”\n"), argv[1]);
      return EXIT_USAGE;
    }

  settings = stache_settings_new ();
  stache_settings_check (settings, &config_error);
  stache_plugin_loader_declare_settings (stache_plugin_loader_get_default (), settings);
  keys = stache_settings_list_keys (settings);

  if (json)
    {
      g_autoptr(JsonBuilder) builder = json_builder_new ();

      json_builder_begin_object (builder);
      stache_tool_add_string_member (builder, "config_file", stache_settings_get_config_path (settings));
      stache_tool_add_string_member (builder, "config_error", config_error != NULL ? config_error->message : NULL);
      json_builder_set_member_name (builder, "settings");
      json_builder_begin_array (builder);
      for (guint i = 0; keys[i] != NULL; i++)
        {
          g_autofree char *value = stache_settings_get_display_value (settings, keys[i]);
          g_autofree char *env_name = stache_settings_key_to_env_name (keys[i]);
          g_autoptr(GEnumClass) klass = g_type_class_ref (STACHE_TYPE_SETTING_SOURCE);
          GEnumValue *source = g_enum_get_value (klass, stache_settings_get_source (settings, keys[i]));
          g_autofree char *origin = stache_settings_describe_source (settings, keys[i]);

          json_builder_begin_object (builder);
          stache_tool_add_string_member (builder, "key", keys[i]);
          stache_tool_add_string_member (builder, "variable", env_name);
          stache_tool_add_string_member (builder, "value", value);
          stache_tool_add_string_member (builder, "source", source->value_nick);
          stache_tool_add_string_member (builder, "origin", origin);
          json_builder_set_member_name (builder, "secret");
          json_builder_add_boolean_value (builder, stache_settings_is_secret_key (keys[i]));
          json_builder_end_object (builder);
        }
      json_builder_end_array (builder);
      json_builder_end_object (builder);
      stache_tool_print_json (builder);
    }
  else
    {
      g_print (_("Configuration file: %s\n"), stache_settings_get_config_path (settings));
      if (config_error != NULL)
        g_print ("  %s\n", config_error->message);
      g_print ("\n%-28s %-32s %s\n", _("KEY"), _("VALUE"), _("FROM"));
      for (guint i = 0; keys[i] != NULL; i++)
        {
          g_autofree char *value = stache_settings_get_display_value (settings, keys[i]);
          g_autofree char *origin = stache_settings_describe_source (settings, keys[i]);

          g_print ("%-28s %-32s %s\n", keys[i], value != NULL ? value : "-", origin);
        }
    }

  return config_error != NULL ? 1 : 0;
}

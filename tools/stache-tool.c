/* stache-tool.c: the stache command
 *
 * SPDX-License-Identifier: LGPL-2.1-or-later
 *
 * Thin by design: it parses arguments, calls libstache and prints. Exit
 * codes: 0 success, 1 the operation failed, 2 the command line is wrong.
 */
#include "config.h"

#include <locale.h>
#include <stdio.h>
#include <string.h>
#include <glib/gi18n.h>

#include <stache.h>

#define EXIT_USAGE 2

typedef int (*CommandFunc) (int argc, char **argv);

static void
print_json (JsonBuilder *builder)
{
  g_autoptr(JsonGenerator) generator = json_generator_new ();
  g_autoptr(JsonNode) root = json_builder_get_root (builder);
  g_autofree char *text = NULL;

  json_generator_set_pretty (generator, TRUE);
  json_generator_set_root (generator, root);
  text = json_generator_to_data (generator, NULL);
  g_print ("%s\n", text);
}

static void
add_string_member (JsonBuilder *builder,
                   const char  *name,
                   const char  *value)
{
  json_builder_set_member_name (builder, name);
  if (value != NULL)
    json_builder_add_string_value (builder, value);
  else
    json_builder_add_null_value (builder);
}

static gboolean
parse_options (GOptionContext  *context,
               int             *argc,
               char          ***argv)
{
  g_autoptr(GError) error = NULL;

  if (!g_option_context_parse (context, argc, argv, &error))
    {
      g_printerr ("stache: %s\n", error->message);
      return FALSE;
    }

  return TRUE;
}

/* ---- stache plugins ---- */

static const char *
search_dir_origin (const char *dir)
{
  const char *env = g_getenv ("STACHE_PLUGIN_PATH");
  g_autofree char *data_home = NULL;
  g_autofree char *canonical_home = NULL;

  if (env != NULL)
    {
      g_auto(GStrv) dirs = g_strsplit (env, G_SEARCHPATH_SEPARATOR_S, -1);

      for (guint i = 0; dirs[i] != NULL; i++)
        {
          g_autofree char *canonical = NULL;

          if (dirs[i][0] == '\0')
            continue;
          canonical = g_canonicalize_filename (dirs[i], NULL);
          if (g_str_equal (canonical, dir))
            return "STACHE_PLUGIN_PATH";
        }
    }

  if (g_str_equal (dir, STACHE_PLUGINS_DIR))
    return "built-in";

  env = g_getenv ("XDG_DATA_HOME");
  if (env != NULL && g_path_is_absolute (env))
    data_home = g_build_filename (env, "stache", "plugins", NULL);
  else
    data_home = g_build_filename (g_get_home_dir (), ".local", "share", "stache", "plugins", NULL);
  canonical_home = g_canonicalize_filename (data_home, NULL);
  if (g_str_equal (canonical_home, dir))
    return "XDG_DATA_HOME";

  return "XDG_DATA_DIRS";
}

static int
command_plugins (int    argc,
                 char **argv)
{
  gboolean json = FALSE;
  const GOptionEntry entries[] = {
    { "json", 0, 0, G_OPTION_ARG_NONE, &json, N_("Print JSON"), NULL },
    { NULL }
  };
  g_autoptr(GOptionContext) context = g_option_context_new (NULL);
  StachePluginLoader *loader;
  g_auto(GStrv) search_path = NULL;
  g_autoptr(GPtrArray) providers = NULL;
  guint n_failed = 0;

  g_option_context_set_summary (context,
                                _("List every provider found, by type, and why any cannot be used."));
  g_option_context_add_main_entries (context, entries, GETTEXT_PACKAGE);
  if (!parse_options (context, &argc, &argv))
    return EXIT_USAGE;
  if (argc > 1)
    {
      g_printerr (_("stache plugins: unexpected argument “%s”\n"), argv[1]);
      return EXIT_USAGE;
    }

  loader = stache_plugin_loader_get_default ();
  search_path = stache_plugin_loader_get_search_path (loader);
  providers = stache_plugin_loader_list_providers (loader);

  if (json)
    {
      g_autoptr(JsonBuilder) builder = json_builder_new ();

      json_builder_begin_object (builder);
      json_builder_set_member_name (builder, "search_path");
      json_builder_begin_array (builder);
      for (guint i = 0; search_path[i] != NULL; i++)
        {
          json_builder_begin_object (builder);
          add_string_member (builder, "folder", search_path[i]);
          add_string_member (builder, "origin", search_dir_origin (search_path[i]));
          json_builder_set_member_name (builder, "exists");
          json_builder_add_boolean_value (builder, g_file_test (search_path[i], G_FILE_TEST_IS_DIR));
          json_builder_end_object (builder);
        }
      json_builder_end_array (builder);

      json_builder_set_member_name (builder, "providers");
      json_builder_begin_array (builder);
      for (guint i = 0; i < providers->len; i++)
        {
          StacheProviderInfo *info = g_ptr_array_index (providers, i);
          const GError *error = stache_provider_info_get_error (info);

          json_builder_begin_object (builder);
          add_string_member (builder, "type", stache_provider_info_get_type_name (info));
          add_string_member (builder, "name", stache_provider_info_get_name (info));
          add_string_member (builder, "plugin", stache_provider_info_get_plugin_name (info));
          add_string_member (builder, "module", stache_provider_info_get_module_name (info));
          add_string_member (builder, "plugin_file", stache_provider_info_get_plugin_file (info));
          add_string_member (builder, "folder", stache_provider_info_get_folder (info));
          add_string_member (builder, "loader", stache_provider_info_get_loader (info));
          add_string_member (builder, "status",
                             stache_provider_status_to_string (stache_provider_info_get_status (info)));
          add_string_member (builder, "reason", error != NULL ? error->message : NULL);
          if (error != NULL)
            {
              g_autoptr(GEnumClass) klass = g_type_class_ref (STACHE_TYPE_PLUGIN_ERROR);
              GEnumValue *value = g_enum_get_value (klass, error->code);

              add_string_member (builder, "error_code", value != NULL ? value->value_nick : NULL);
            }
          json_builder_end_object (builder);
        }
      json_builder_end_array (builder);
      json_builder_end_object (builder);
      print_json (builder);
      return 0;
    }

  g_print ("%s\n", _("Search path (first wins):"));
  for (guint i = 0; search_path[i] != NULL; i++)
    g_print ("  %u. %s (%s%s)\n", i + 1, search_path[i], search_dir_origin (search_path[i]),
             g_file_test (search_path[i], G_FILE_TEST_IS_DIR) ? "" : _(", missing"));
  g_print ("\n");

  if (providers->len == 0)
    {
      g_print ("%s\n", _("No plugins found."));
      return 0;
    }

  g_print ("%-15s %-16s %-9s %-8s %s\n", _("TYPE"), _("NAME"), _("STATUS"), _("LOADER"), _("PLUGIN"));
  for (guint i = 0; i < providers->len; i++)
    {
      StacheProviderInfo *info = g_ptr_array_index (providers, i);
      const char *reason = stache_provider_info_get_reason (info);
      const char *type_name = stache_provider_info_get_type_name (info);
      const char *name = stache_provider_info_get_name (info);
      const char *loader_name = stache_provider_info_get_loader (info);

      g_print ("%-15s %-16s %-9s %-8s %s\n",
               type_name != NULL ? type_name : "?",
               name != NULL ? name : "?",
               stache_provider_status_to_string (stache_provider_info_get_status (info)),
               loader_name != NULL ? loader_name : "?",
               stache_provider_info_get_plugin_file (info));
      if (reason != NULL)
        {
          g_print ("    %s %s\n", _("reason:"), reason);
          n_failed++;
        }
    }

  if (n_failed > 0)
    g_print ("\n%s\n", g_dngettext (GETTEXT_PACKAGE,
                                    "One provider cannot be used; see its reason above.",
                                    "Some providers cannot be used; see their reasons above.",
                                    n_failed));

  return 0;
}

/* ---- stache config ---- */

static int
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
  if (!parse_options (context, &argc, &argv))
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
      add_string_member (builder, "config_file", stache_settings_get_config_path (settings));
      add_string_member (builder, "config_error", config_error != NULL ? config_error->message : NULL);
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
          add_string_member (builder, "key", keys[i]);
          add_string_member (builder, "variable", env_name);
          add_string_member (builder, "value", value);
          add_string_member (builder, "source", source->value_nick);
          add_string_member (builder, "origin", origin);
          json_builder_set_member_name (builder, "secret");
          json_builder_add_boolean_value (builder, stache_settings_is_secret_key (keys[i]));
          json_builder_end_object (builder);
        }
      json_builder_end_array (builder);
      json_builder_end_object (builder);
      print_json (builder);
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

/* ---- dispatch ---- */

static const struct {
  const char  *name;
  CommandFunc  func;
  const char  *summary;
} commands[] = {
  { "plugins", command_plugins, N_("List providers found by plugin discovery, with reasons for failures") },
  { "config", command_config, N_("Show the effective settings and their sources (secrets redacted)") },
};

static void
print_usage (FILE *out)
{
  fprintf (out, "%s\n\n%s\n", _("Usage: stache COMMAND [OPTIONS…]"), _("Commands:"));
  for (guint i = 0; i < G_N_ELEMENTS (commands); i++)
    fprintf (out, "  %-10s %s\n", commands[i].name, _(commands[i].summary));
  fprintf (out, "\n%s\n", _("Run “stache COMMAND --help” for the options of a command."));
}

int
main (int    argc,
      char **argv)
{
  setlocale (LC_ALL, "");
  bindtextdomain (GETTEXT_PACKAGE, LOCALEDIR);
  bind_textdomain_codeset (GETTEXT_PACKAGE, "UTF-8");
  textdomain (GETTEXT_PACKAGE);
  g_set_prgname ("stache");

  if (argc < 2)
    {
      print_usage (stderr);
      return EXIT_USAGE;
    }

  if (g_str_equal (argv[1], "--help") || g_str_equal (argv[1], "-h") || g_str_equal (argv[1], "help"))
    {
      print_usage (stdout);
      return 0;
    }

  if (g_str_equal (argv[1], "--version"))
    {
      g_print ("stache %s\n", PACKAGE_VERSION);
      return 0;
    }

  for (guint i = 0; i < G_N_ELEMENTS (commands); i++)
    {
      if (g_str_equal (argv[1], commands[i].name))
        {
          g_autofree char *prgname = g_strdup_printf ("stache %s", commands[i].name);

          g_set_prgname (prgname);
          return commands[i].func (argc - 1, argv + 1);
        }
    }

  g_printerr (_("stache: unknown command “%s”\n\n"), argv[1]);
  print_usage (stderr);
  return EXIT_USAGE;
}

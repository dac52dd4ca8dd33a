/* stache-tool-plugins.c: `stache plugins` and `stache plugins check`: what plugin discovery found, and a plugin folder checked method by method
 *
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */
#include "config.h"

#include <stdio.h>
#include <string.h>
#include <fcntl.h>
#include <unistd.h>
#include <glib-unix.h>
#include <glib/gi18n.h>

#include "stache-tool-commands.h"

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

  env = g_getenv ("STACHE_BUILTIN_PLUGIN_DIR");
  if (g_str_equal (dir, STACHE_PLUGINS_DIR) || (env != NULL && env[0] != '\0' && g_str_equal (dir, env)))
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

/* ---- stache plugins check ---- */

typedef struct
{
  gboolean  warning;
  char     *plugin_file;
  char     *type_name;
  char     *name;
  char     *code;
  char     *message;
  char     *fix;
} CheckProblem;

static void
check_problem_free (gpointer p)
{
  CheckProblem *problem = p;

  g_free (problem->plugin_file);
  g_free (problem->type_name);
  g_free (problem->name);
  g_free (problem->code);
  g_free (problem->message);
  g_free (problem->fix);
  g_free (problem);
}

static void
add_problem (GPtrArray          *problems,
             gboolean            warning,
             StacheProviderInfo *info,
             const char         *plugin_file,
             const char         *code,
             const char         *message,
             char               *fix)
{
  CheckProblem *problem = g_new0 (CheckProblem, 1);

  problem->warning = warning;
  problem->plugin_file = g_strdup (info != NULL ? stache_provider_info_get_plugin_file (info) : plugin_file);
  if (info != NULL)
    {
      problem->type_name = g_strdup (stache_provider_info_get_type_name (info));
      problem->name = g_strdup (stache_provider_info_get_name (info));
    }
  problem->code = g_strdup (code);
  problem->message = g_strdup (message);
  problem->fix = fix;
  g_ptr_array_add (problems, problem);
}

/* "StacheEmbeddingProvider" → "STACHE_TYPE_EMBEDDING_PROVIDER" */
static char *
interface_type_macro (const char *type_name)
{
  g_autoptr(GString) macro = g_string_new ("STACHE_TYPE");
  const char *rest = g_str_has_prefix (type_name, "Stache") ? type_name + strlen ("Stache") : type_name;

  for (const char *p = rest; *p != '\0'; p++)
    {
      if (g_ascii_isupper (*p))
        g_string_append_c (macro, '_');
      g_string_append_c (macro, g_ascii_toupper (*p));
    }

  return g_string_free (g_steal_pointer (&macro), FALSE);
}

static gboolean
loader_is_script (const char *loader)
{
  return loader != NULL && g_ascii_strcasecmp (loader, "c") != 0;
}

/* What to do about a plugin the loader could not use. */
static char *
suggest_fix (StacheProviderInfo *info,
             const GError       *error)
{
  const char *module = stache_provider_info_get_module_name (info);
  const char *loader = stache_provider_info_get_loader (info);
  const char *folder = stache_provider_info_get_folder (info);
  const char *type_name = stache_provider_info_get_type_name (info);
  const char *name = stache_provider_info_get_name (info);
  gboolean python = loader != NULL && g_str_has_prefix (loader, "python");
  StacheProviderType type;

  if (module == NULL)
    module = "MODULE";

  switch ((StachePluginError) error->code)
    {
    case STACHE_PLUGIN_ERROR_BAD_PLUGIN_FILE:
      return g_strdup_printf (_("Edit %s: it needs a [Plugin] group with Module=, Name= and "
                                "X-Stache-Providers=TYPE=NAME (TYPE one of llm, embeddings, "
                                "vectordb, namespace, reranker, document_index); a Python or Lua "
                                "plugin also needs Loader=python3 or Loader=lua5.1"),
                              stache_provider_info_get_plugin_file (info));

    case STACHE_PLUGIN_ERROR_MISSING_MODULE:
      if (python)
        return g_strdup_printf (_("Module=%s but there is no %s.py (or %s/__init__.py) in %s: "
                                  "add the module or fix Module="), module, module, module, folder);
      if (loader_is_script (loader))
        return g_strdup_printf (_("Module=%s but there is no %s.lua (or %s/init.lua) in %s: "
                                  "add the module or fix Module="), module, module, module, folder);
      return g_strdup_printf (_("Module=%s but there is no lib%s.%s in %s: build the module and "
                                "install it beside the .plugin file, or fix Module= (a Python "
                                "plugin also needs Loader=python3)"),
                              module, module, G_MODULE_SUFFIX, folder);

    case STACHE_PLUGIN_ERROR_LOADER_UNAVAILABLE:
      {
        /* libpeas' module for the loader: lua5.1 → liblua51loader.so */
        g_autoptr(GString) file = g_string_new ("lib");

        for (const char *p = loader; p != NULL && *p != '\0'; p++)
          if (*p != '.')
            g_string_append_c (file, *p);
        g_string_append_printf (file, "loader.%s", G_MODULE_SUFFIX);

        return g_strdup_printf (_("Loader=%s but no %s loader for libpeas is installed: install "
                                  "libpeas's %s loader (%s) where the message says libpeas "
                                  "looked, or set PEAS_PLUGIN_LOADERS_DIR to a folder holding "
                                  "%s/%s, with each other loader in use in a subfolder of its own "
                                  "(that variable replaces libpeas's own loader folder)"),
                                loader, loader, loader, file->str, loader, file->str);
      }

    case STACHE_PLUGIN_ERROR_LOAD_FAILED:
      if (python && (strstr (error->message, "SyntaxError") != NULL ||
                     strstr (error->message, "IndentationError") != NULL ||
                     strstr (error->message, "TabError") != NULL))
        return g_strdup_printf (_("Fix the syntax of %s.py at the line shown"), module);
      if (python && (strstr (error->message, "ModuleNotFoundError") != NULL ||
                     strstr (error->message, "ImportError") != NULL))
        return g_strdup_printf (_("Install the Python module that %s.py imports, or fix the "
                                  "import"), module);
      if (python)
        return g_strdup_printf (_("Fix the exception %s.py raises when imported; for the whole "
                                  "traceback run: cd %s && python3 -c 'import gi; "
                                  "gi.require_version(\"Stache\", \"1.0\"); import %s'"),
                                module, folder, module);
      if (loader_is_script (loader))
        return g_strdup_printf (_("Fix the error %s.lua (or a module it requires) raises when "
                                  "loaded, at the file and line shown"), module);
      return g_strdup_printf (_("Check lib%s.%s with “ldd -r” for missing libraries and undefined "
                                "symbols; it must export peas_register_types()"),
                              module, G_MODULE_SUFFIX);

    case STACHE_PLUGIN_ERROR_NO_MATCHING_TYPE:
      if (type_name != NULL && stache_provider_type_from_string (type_name, &type))
        {
          const char *iface = g_type_name (stache_provider_type_get_interface (type));
          const char *short_iface = g_str_has_prefix (iface, "Stache") ? iface + strlen ("Stache") : iface;

          if (loader_is_script (loader))
            return g_strdup_printf (_("Declares %s=%s but the module has no class implementing %s: "
                                      "derive the class from Stache.Provider and Stache.%s"),
                                    type_name, name, iface, short_iface);
          else
            {
              g_autofree char *macro = interface_type_macro (iface);

              return g_strdup_printf (_("Declares %s=%s but the module registers no %s: register "
                                        "it in peas_register_types() with "
                                        "peas_object_module_register_extension_type (module, %s, "
                                        "YOUR_TYPE), for a type deriving from StacheProvider"),
                                      type_name, name, iface, macro);
            }
        }
      return g_strdup (_("Register a type implementing the declared provider interface"));

    case STACHE_PLUGIN_ERROR_MISSING_METHODS:
      if (type_name != NULL && stache_provider_type_from_string (type_name, &type))
        {
          const char *iface = g_type_name (stache_provider_type_get_interface (type));

          if (loader_is_script (loader))
            return g_strdup_printf (_("Add the methods the message names to the class: %s "
                                      "requires them; docs/plugins.md lists each interface's "
                                      "methods with their arguments"), iface);
          return g_strdup_printf (_("Set the methods the message names in the init function of "
                                    "the class's %s (iface->METHOD = …), with the signatures of "
                                    "%sInterface; docs/plugins.md lists them"), iface, iface);
        }
      return g_strdup (_("Implement every method the provider interface requires"));

    case STACHE_PLUGIN_ERROR_SHADOWED:
    default:
      return g_strdup (_("Give the module and its providers names that no other plugin uses"));
    }
}

static const char *
plugin_error_nick (const GError *error)
{
  g_autoptr(GEnumClass) klass = NULL;
  GEnumValue *value;

  if (error == NULL || error->domain != STACHE_PLUGIN_ERROR)
    return NULL;

  klass = g_type_class_ref (STACHE_TYPE_PLUGIN_ERROR);
  value = g_enum_get_value (klass, error->code);
  return value != NULL ? value->value_nick : NULL;
}

static int
command_plugins_check (int      argc,
                       char   **argv,
                       gboolean json)
{
  gboolean instantiate;
  gboolean no_instantiate = FALSE;
  const GOptionEntry entries[] = {
    { "json", 0, 0, G_OPTION_ARG_NONE, &json, N_("Print JSON"), NULL },
    { "no-create", 0, 0, G_OPTION_ARG_NONE, &no_instantiate,
      N_("Only load the module; do not create each provider with the current settings"), NULL },
    { NULL }
  };
  g_autoptr(GOptionContext) context = g_option_context_new (_("FOLDER|FILE.plugin"));
  g_autoptr(GPtrArray) problems = g_ptr_array_new_with_free_func (check_problem_free);
  g_autoptr(GPtrArray) checked = g_ptr_array_new_with_free_func (g_object_unref);
  g_autoptr(GPtrArray) created = g_ptr_array_new ();
  g_autoptr(StachePluginLoader) loader = NULL;
  g_autoptr(GPtrArray) providers = NULL;
  g_autoptr(GPtrArray) plugin_files = NULL;
  g_autofree char *path = NULL;
  g_autofree char *folder = NULL;
  g_autofree char *only_file = NULL;
  guint n_errors = 0;

  g_option_context_set_summary (context,
                                _("Check a plugin folder: its .plugin file, its module, and that "
                                  "every provider it declares loads. Exit status 0 when it is "
                                  "usable, 1 when it has problems."));
  g_option_context_add_main_entries (context, entries, GETTEXT_PACKAGE);
  if (!stache_tool_parse_options (context, &argc, &argv))
    return EXIT_USAGE;
  instantiate = !no_instantiate;
  if (argc < 2)
    {
      g_printerr ("%s\n", _("stache plugins check: give a plugin folder or .plugin file"));
      return EXIT_USAGE;
    }
  if (argc > 2)
    {
      g_printerr (_("stache plugins check: unexpected argument “%s”\n"), argv[2]);
      return EXIT_USAGE;
    }

  path = g_canonicalize_filename (argv[1], NULL);
  if (g_file_test (path, G_FILE_TEST_IS_DIR))
    {
      folder = g_strdup (path);
    }
  else if (g_file_test (path, G_FILE_TEST_IS_REGULAR) && g_str_has_suffix (path, ".plugin"))
    {
      folder = g_path_get_dirname (path);
      only_file = g_strdup (path);
    }
  else if (g_file_test (path, G_FILE_TEST_EXISTS))
    {
      g_printerr (_("stache plugins check: %s is neither a folder nor a .plugin file\n"), argv[1]);
      return EXIT_USAGE;
    }
  else
    {
      g_printerr (_("stache plugins check: %s does not exist\n"), argv[1]);
      return EXIT_USAGE;
    }

  /* Only the .plugin files directly in the folder are this plugin's; a
   * subfolder may hold a Python package, not another plugin. */
  plugin_files = g_ptr_array_new_with_free_func (g_free);
  if (only_file != NULL)
    g_ptr_array_add (plugin_files, g_strdup (only_file));
  else
    {
      g_autoptr(GDir) dir = g_dir_open (folder, 0, NULL);
      const char *entry;

      while (dir != NULL && (entry = g_dir_read_name (dir)) != NULL)
        {
          g_autofree char *file = g_build_filename (folder, entry, NULL);

          if (g_str_has_suffix (entry, ".plugin") && g_file_test (file, G_FILE_TEST_IS_REGULAR))
            g_ptr_array_add (plugin_files, g_steal_pointer (&file));
        }
    }

  if (plugin_files->len == 0)
    {
      g_autofree char *message = g_strdup_printf (_("There is no .plugin file in %s"), folder);

      add_problem (problems, FALSE, NULL, NULL, "no-plugin-file", message,
                   g_strdup_printf (_("Add a NAME.plugin file beside the module; the templates "
                                      "in %s show one"),
                                    STACHE_TEMPLATES_DIR));
    }
  else
    {
      /* A loader of its own that sees only this folder: neither the
       * installed plugins nor the user's can shadow or be confused with
       * the one being checked. */
      const char *folders[] = { folder, NULL };

      loader = stache_plugin_loader_new_for_search_path (folders);
      providers = stache_plugin_loader_list_providers (loader);
    }

  for (guint i = 0; providers != NULL && i < providers->len; i++)
    {
      StacheProviderInfo *info = g_ptr_array_index (providers, i);
      const char *plugin_file = stache_provider_info_get_plugin_file (info);
      const GError *error = stache_provider_info_get_error (info);
      StacheProviderType type;
      gboolean mine = FALSE;

      for (guint j = 0; j < plugin_files->len; j++)
        if (g_strcmp0 (g_ptr_array_index (plugin_files, j), plugin_file) == 0)
          mine = TRUE;
      if (!mine)
        continue;

      g_ptr_array_add (checked, g_object_ref (info));

      if (error != NULL)
        {
          add_problem (problems, FALSE, info, NULL, plugin_error_nick (error), error->message,
                       suggest_fix (info, error));
          g_ptr_array_add (created, GINT_TO_POINTER (FALSE));
          continue;
        }

      if (stache_provider_info_get_status (info) != STACHE_PROVIDER_STATUS_LOADED ||
          !stache_provider_info_get_provider_type (info, &type) || !instantiate)
        {
          g_ptr_array_add (created, GINT_TO_POINTER (FALSE));
          continue;
        }

      /* Loading proves the module, its types and their methods; creating
       * the provider runs its constructor and GInitable code with the
       * settings a real run would have. One that cannot be created cannot
       * be used as things are, even when the reason is a setting (an API
       * key, a server) rather than the code: an error, with the reason.
       * --no-create leaves this step out. */
      {
        g_autoptr(StacheSettings) settings = stache_settings_new ();
        g_autoptr(GError) create_error = NULL;
        g_autoptr(StacheProvider) provider = NULL;

        provider = stache_plugin_loader_create_provider (loader, type,
                                                         stache_provider_info_get_name (info),
                                                         settings, &create_error);
        g_ptr_array_add (created, GINT_TO_POINTER (provider != NULL));
        if (provider == NULL && g_error_matches (create_error, STACHE_PLUGIN_ERROR,
                                                 STACHE_PLUGIN_ERROR_MISSING_METHODS))
          add_problem (problems, FALSE, info, NULL, plugin_error_nick (create_error),
                       create_error->message, suggest_fix (info, create_error));
        else if (provider == NULL)
          add_problem (problems, FALSE, info, NULL, "create-failed", create_error->message,
                       g_strdup (_("If the provider needs settings, set them (stache config lists "
                                   "them) and check again, or check with --no-create to leave "
                                   "creation out; otherwise fix its constructor or "
                                   "GInitable.init")));
      }
    }

  if (only_file == NULL && plugin_files->len > 0 && checked->len == 0)
    {
      g_autofree char *message = g_strdup_printf (_("No plugin in %s could be read"), folder);

      add_problem (problems, FALSE, NULL, folder, "no-plugin-file", message,
                   g_strdup (_("Check that the .plugin files are readable")));
    }

  for (guint i = 0; i < problems->len; i++)
    if (!((CheckProblem *) g_ptr_array_index (problems, i))->warning)
      n_errors++;

  if (json)
    {
      g_autoptr(JsonBuilder) builder = json_builder_new ();

      json_builder_begin_object (builder);
      stache_tool_add_string_member (builder, "folder", folder);
      json_builder_set_member_name (builder, "ok");
      json_builder_add_boolean_value (builder, n_errors == 0);
      json_builder_set_member_name (builder, "providers");
      json_builder_begin_array (builder);
      for (guint i = 0; i < checked->len; i++)
        {
          StacheProviderInfo *info = g_ptr_array_index (checked, i);

          json_builder_begin_object (builder);
          stache_tool_add_provider_info_members (builder, info);
          json_builder_set_member_name (builder, "created");
          json_builder_add_boolean_value (builder, GPOINTER_TO_INT (g_ptr_array_index (created, i)));
          json_builder_end_object (builder);
        }
      json_builder_end_array (builder);

      json_builder_set_member_name (builder, "problems");
      json_builder_begin_array (builder);
      for (guint i = 0; i < problems->len; i++)
        {
          CheckProblem *problem = g_ptr_array_index (problems, i);

          json_builder_begin_object (builder);
          stache_tool_add_string_member (builder, "severity", problem->warning ? "warning" : "error");
          stache_tool_add_string_member (builder, "plugin_file", problem->plugin_file);
          stache_tool_add_string_member (builder, "type", problem->type_name);
          stache_tool_add_string_member (builder, "name", problem->name);
          stache_tool_add_string_member (builder, "code", problem->code);
          stache_tool_add_string_member (builder, "message", problem->message);
          stache_tool_add_string_member (builder, "fix", problem->fix);
          json_builder_end_object (builder);
        }
      json_builder_end_array (builder);
      json_builder_end_object (builder);
      stache_tool_print_json (builder);
    }
  else
    {
      for (guint i = 0; i < checked->len; i++)
        {
          StacheProviderInfo *info = g_ptr_array_index (checked, i);
          const char *type_name = stache_provider_info_get_type_name (info);
          const char *name = stache_provider_info_get_name (info);
          StacheProviderStatus status = stache_provider_info_get_status (info);

          if (type_name == NULL || name == NULL)
            {
              /* Too broken to say what it provides. */
              g_autofree char *base = g_path_get_basename (stache_provider_info_get_plugin_file (info));

              g_print ("✗ %s (%s)\n", base, stache_provider_status_to_string (status));
              continue;
            }

          /* ✓ only for what can be used: loaded and, unless --no-create, created */
          g_print ("%s %s=%s (%s, %s)%s\n",
                   status == STACHE_PROVIDER_STATUS_LOADED &&
                   (!instantiate || GPOINTER_TO_INT (g_ptr_array_index (created, i))) ? "✓" : "✗",
                   type_name, name,
                   stache_provider_info_get_loader (info),
                   stache_provider_status_to_string (status),
                   GPOINTER_TO_INT (g_ptr_array_index (created, i)) ? _(", created") : "");
        }

      for (guint i = 0; i < problems->len; i++)
        {
          CheckProblem *problem = g_ptr_array_index (problems, i);

          g_print ("\n%s %s\n", problem->warning ? _("warning:") : _("problem:"), problem->message);
          if (problem->plugin_file != NULL)
            g_print ("  %s %s\n", _("in:"), problem->plugin_file);
          g_print ("  %s %s\n", _("fix:"), problem->fix);
        }

      g_print ("\n");
      if (n_errors == 0)
        g_print (_("%s: the plugin is usable.\n"), only_file != NULL ? only_file : folder);
      else
        g_print (g_dngettext (GETTEXT_PACKAGE, "%s: %u problem.\n", "%s: %u problems.\n", n_errors),
                 only_file != NULL ? only_file : folder, n_errors);
    }

  return n_errors == 0 ? 0 : 1;
}

/* `stache plugins` and `stache plugins check` load plugins, which run in
 * process: one that crashes while it loads would take the command with it,
 * unnamed. So the command runs in a child process (this program again,
 * with STACHE_PLUGINS_CHILD set) whose plugin loader writes the path of
 * each .plugin file to a pipe before loading its module. When the child
 * dies of a signal, the last path names the culprit; the command runs
 * again with it listed in STACHE_PLUGINS_CRASHED, where it fails with the
 * signal as its reason instead of loading (see stache-plugin-loader.c).
 * The child's output is passed on once it ran to its end. */
#define MAX_PLUGIN_CRASHES 32

static int
run_plugins_isolated (int    argc,
                      char **argv)
{
  g_autoptr(GString) crashed = g_string_new (NULL);
  g_autoptr(GPtrArray) args = g_ptr_array_new ();

  g_ptr_array_add (args, (gpointer) "/proc/self/exe");
  for (int i = 0; i < argc; i++)
    g_ptr_array_add (args, argv[i]);
  g_ptr_array_add (args, NULL);

  for (guint attempt = 0; attempt <= MAX_PLUGIN_CRASHES; attempt++)
    {
      g_autoptr(GSubprocessLauncher) launcher = NULL;
      g_autoptr(GSubprocess) child = NULL;
      g_autoptr(GBytes) out = NULL;
      g_autoptr(GBytes) err = NULL;
      g_autoptr(GError) error = NULL;
      g_autoptr(GString) trace = g_string_new (NULL);
      g_auto(GStrv) lines = NULL;
      const char *last = NULL;
      char buffer[4096];
      int fds[2];
      gssize n;
      int sig;

      if (!g_unix_open_pipe (fds, FD_CLOEXEC, &error))
        {
          g_printerr ("stache: %s\n", error->message);
          return 1;
        }
      launcher = g_subprocess_launcher_new (G_SUBPROCESS_FLAGS_STDOUT_PIPE | G_SUBPROCESS_FLAGS_STDERR_PIPE);
      g_subprocess_launcher_take_fd (launcher, fds[1], 3);
      g_subprocess_launcher_setenv (launcher, "STACHE_PLUGINS_CHILD", "1", TRUE);
      g_subprocess_launcher_setenv (launcher, "STACHE_PLUGINS_TRACE_FD", "3", TRUE);
      if (crashed->len > 0)
        g_subprocess_launcher_setenv (launcher, "STACHE_PLUGINS_CRASHED", crashed->str, TRUE);
      child = g_subprocess_launcher_spawnv (launcher, (const char * const *) args->pdata, &error);
      /* The launcher closes its end of the pipe: EOF once the child is gone */
      g_clear_object (&launcher);
      if (child == NULL)
        {
          close (fds[0]);
          g_printerr ("stache: %s\n", error->message);
          return 1;
        }
      if (!g_subprocess_communicate (child, NULL, NULL, &out, &err, &error))
        {
          close (fds[0]);
          g_printerr ("stache: %s\n", error->message);
          return 1;
        }
      while ((n = read (fds[0], buffer, sizeof buffer)) > 0)
        g_string_append_len (trace, buffer, n);
      close (fds[0]);

      if (!g_subprocess_get_if_signaled (child))
        {
          gsize size;
          const char *data = g_bytes_get_data (out, &size);

          fwrite (data, 1, size, stdout);
          data = g_bytes_get_data (err, &size);
          fwrite (data, 1, size, stderr);
          return g_subprocess_get_exit_status (child);
        }

      sig = g_subprocess_get_term_sig (child);
      lines = g_strsplit (trace->str, "\n", -1);
      for (guint i = 0; lines[i] != NULL; i++)
        if (lines[i][0] != '\0')
          last = lines[i];
      if (last == NULL || strstr (crashed->str, last) != NULL)
        {
          gsize size;
          const char *data = g_bytes_get_data (err, &size);

          fwrite (data, 1, size, stderr);
          g_printerr (_("stache: the command died of signal %d (%s), not while loading a plugin\n"),
                      sig, g_strsignal (sig));
          return 1;
        }
      g_string_append_printf (crashed, "%s\t%s %d, %s\n", last, _("signal"), sig, g_strsignal (sig));
    }

  g_printerr (_("stache: more than %d plugins crashed while loading\n"), MAX_PLUGIN_CRASHES);
  return 1;
}

int
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

  if (g_getenv ("STACHE_PLUGINS_CHILD") == NULL)
    return run_plugins_isolated (argc, argv);

  /* `stache plugins check …` has options of its own. */
  if (argc > 1 && g_str_equal (argv[1], "check"))
    return command_plugins_check (argc - 1, argv + 1, FALSE);

  g_option_context_set_summary (context,
                                _("List every provider found, by type, and why any cannot be used.\n"
                                  "“stache plugins check FOLDER” checks one plugin folder."));
  g_option_context_add_main_entries (context, entries, GETTEXT_PACKAGE);
  if (!stache_tool_parse_options (context, &argc, &argv))
    return EXIT_USAGE;
  if (argc > 1 && g_str_equal (argv[1], "check"))
    return command_plugins_check (argc - 1, argv + 1, json);
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
          stache_tool_add_string_member (builder, "folder", search_path[i]);
          stache_tool_add_string_member (builder, "origin", search_dir_origin (search_path[i]));
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

          json_builder_begin_object (builder);
          stache_tool_add_provider_info_members (builder, info);
          json_builder_end_object (builder);
        }
      json_builder_end_array (builder);
      json_builder_end_object (builder);
      stache_tool_print_json (builder);
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

/* stache-tool.c: the stache command
 *
 * SPDX-License-Identifier: LGPL-2.1-or-later
 *
 * Thin by design: it parses arguments, calls libstache and prints. Exit
 * codes: 0 success, 1 the operation failed, 2 the command line is wrong.
 */
#include "config.h"

#include <fcntl.h>
#include <locale.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>
#include <glib/gi18n.h>
#include <glib-unix.h>

#include <stache-plugin.h>

#include "stache-tool-common.h"
#include "stache-mcp.h"
#include "stache-serve.h"

typedef int (*CommandFunc) (int argc, char **argv);

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
  if (!parse_options (context, &argc, &argv))
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

  if (g_getenv ("STACHE_PLUGINS_CHILD") == NULL)
    return run_plugins_isolated (argc, argv);

  /* `stache plugins check …` has options of its own. */
  if (argc > 1 && g_str_equal (argv[1], "check"))
    return command_plugins_check (argc - 1, argv + 1, FALSE);

  g_option_context_set_summary (context,
                                _("List every provider found, by type, and why any cannot be used.\n"
                                  "“stache plugins check FOLDER” checks one plugin folder."));
  g_option_context_add_main_entries (context, entries, GETTEXT_PACKAGE);
  if (!parse_options (context, &argc, &argv))
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


/* ---- the store commands ---- */

static void
print_passage (const char *text)
{
  g_autofree char *flat = g_strdup (text);
  glong len;

  g_strdelimit (flat, "\n\t", ' ');
  len = g_utf8_strlen (flat, -1);
  if (len > 300)
    {
      char *cut = g_utf8_offset_to_pointer (flat, 300);

      *cut = '\0';
      g_print ("    %s…\n", flat);
    }
  else
    g_print ("    %s\n", flat);
}

typedef struct
{
  gboolean tty;
  guint    width;
} Progress;

static void
on_progress (StacheStore *store,
             guint        done,
             guint        total,
             const char  *path,
             gpointer     user_data)
{
  Progress *progress = user_data;
  guint filled;
  g_autofree char *bar = NULL;
  g_autofree char *name = NULL;

  if (!progress->tty || total == 0)
    return;

  filled = progress->width * done / total;
  bar = g_strnfill (filled, '#');
  {
    g_autofree char *base = path != NULL ? g_path_get_basename (path) : g_strdup ("");

    name = stache_tool_escape_controls (base);
  }
  if (g_utf8_strlen (name, -1) > 40)
    *g_utf8_offset_to_pointer (name, 40) = '\0';
  fprintf (stderr, "\r[%s%*s] %u/%u %-40s", bar, (int) (progress->width - filled), "", done, total, name);
  if (path == NULL)
    fprintf (stderr, "\r%*s\r", (int) progress->width + 60, "");
  fflush (stderr);
}

static int
command_ingest (int    argc,
                char **argv)
{
  gboolean json = FALSE;
  g_autofree char *namespace_ = NULL;
  g_auto(GStrv) include = NULL;
  g_auto(GStrv) exclude = NULL;
  const GOptionEntry entries[] = {
    { "namespace", 'n', 0, G_OPTION_ARG_STRING, &namespace_, N_("Namespace to ingest into"), N_("NAME") },
    { "include", 0, 0, G_OPTION_ARG_STRING_ARRAY, &include, N_("Only files matching this glob"), N_("GLOB") },
    { "exclude", 0, 0, G_OPTION_ARG_STRING_ARRAY, &exclude, N_("Leave out files matching this glob"), N_("GLOB") },
    { "json", 0, 0, G_OPTION_ARG_NONE, &json, N_("Print JSON"), NULL },
    { NULL }
  };
  g_autoptr(GOptionContext) context = g_option_context_new (N_("PATH…"));
  g_autoptr(StacheStore) store = NULL;
  g_autoptr(GPtrArray) all = g_ptr_array_new_with_free_func (g_object_unref);
  g_autoptr(JsonBuilder) builder = NULL;
  guint counts[STACHE_INGEST_OUTCOME_FAILED + 1] = { 0 };
  Progress progress = { isatty (fileno (stderr)) && !json, 30 };
  gboolean path_error = FALSE;

  g_option_context_set_summary (context, _("Ingest files and folders (text, Markdown, HTML)."));
  g_option_context_add_main_entries (context, entries, GETTEXT_PACKAGE);
  if (!parse_options (context, &argc, &argv))
    return EXIT_USAGE;
  if (argc < 2)
    {
      g_printerr ("%s\n", _("stache ingest: give at least one file or folder"));
      return EXIT_USAGE;
    }

  if ((store = stache_tool_open_store ()) == NULL)
    return 1;
  g_signal_connect (store, "progress", G_CALLBACK (on_progress), &progress);

  for (int i = 1; i < argc; i++)
    {
      g_autoptr(GFile) file = g_file_new_for_commandline_arg (argv[i]);
      g_autoptr(GError) error = NULL;
      g_autoptr(GPtrArray) results = NULL;

      results = stache_store_ingest_directory (store, file, namespace_,
                                               (const char * const *) include,
                                               (const char * const *) exclude, NULL, &error);
      if (results == NULL)
        {
          g_printerr ("stache: %s\n", error->message);
          path_error = TRUE;
          continue;
        }
      g_ptr_array_extend_and_steal (all, g_steal_pointer (&results));
    }

  for (guint i = 0; i < all->len; i++)
    {
      StacheIngestResult *result = g_ptr_array_index (all, i);
      StacheIngestOutcome outcome = stache_ingest_result_get_outcome (result);

      counts[outcome]++;
      if (!json && (outcome == STACHE_INGEST_OUTCOME_SKIPPED || outcome == STACHE_INGEST_OUTCOME_FAILED))
        g_printerr (outcome == STACHE_INGEST_OUTCOME_SKIPPED ? _("stache: skipped %s: %s\n")
                                                             : _("stache: failed %s: %s\n"),
                    stache_ingest_result_get_source (result), stache_ingest_result_get_reason (result));
    }

  if (json)
    {
      builder = json_builder_new ();
      json_builder_begin_object (builder);
      json_builder_set_member_name (builder, "summary");
      json_builder_begin_object (builder);
      for (guint o = 0; o <= STACHE_INGEST_OUTCOME_FAILED; o++)
        {
          json_builder_set_member_name (builder, stache_ingest_outcome_to_string (o));
          json_builder_add_int_value (builder, counts[o]);
        }
      json_builder_end_object (builder);
      json_builder_set_member_name (builder, "files");
      json_builder_begin_array (builder);
      for (guint i = 0; i < all->len; i++)
        {
          StacheIngestResult *result = g_ptr_array_index (all, i);

          json_builder_begin_object (builder);
          stache_tool_add_string_member (builder, "source", stache_ingest_result_get_source (result));
          stache_tool_add_string_member (builder, "outcome",
                             stache_ingest_outcome_to_string (stache_ingest_result_get_outcome (result)));
          stache_tool_add_string_member (builder, "document_id", stache_ingest_result_get_document_id (result));
          stache_tool_add_string_member (builder, "namespace", stache_ingest_result_get_namespace (result));
          json_builder_set_member_name (builder, "chunks");
          json_builder_add_int_value (builder, stache_ingest_result_get_chunk_count (result));
          stache_tool_add_string_member (builder, "reason", stache_ingest_result_get_reason (result));
          json_builder_end_object (builder);
        }
      json_builder_end_array (builder);
      json_builder_end_object (builder);
      stache_tool_print_json (builder);
    }
  else
    {
      /* Translators: the summary after ingesting; each %u is a count */
      g_print (_("%u added, %u unchanged, %u replaced, %u skipped, %u failed\n"),
               counts[STACHE_INGEST_OUTCOME_ADDED], counts[STACHE_INGEST_OUTCOME_UNCHANGED],
               counts[STACHE_INGEST_OUTCOME_REPLACED], counts[STACHE_INGEST_OUTCOME_SKIPPED],
               counts[STACHE_INGEST_OUTCOME_FAILED]);
    }

  return path_error || counts[STACHE_INGEST_OUTCOME_FAILED] > 0 ? 1 : 0;
}

static int
command_search (int    argc,
                char **argv)
{
  gboolean json = FALSE;
  g_autofree char *namespace_ = NULL;
  g_autofree char *mode_text = NULL;
  g_autofree char *filter_text = NULL;
  int top_k = 5;
  const GOptionEntry entries[] = {
    { "namespace", 'n', 0, G_OPTION_ARG_STRING, &namespace_, N_("Namespace to search (default: all)"), N_("NAME") },
    { "top-k", 'k', 0, G_OPTION_ARG_INT, &top_k, N_("How many results (default 5)"), N_("N") },
    { "mode", 'm', 0, G_OPTION_ARG_STRING, &mode_text, N_("hybrid (default), vector or keyword"), N_("MODE") },
    { "filter", 'f', 0, G_OPTION_ARG_STRING, &filter_text, N_("Metadata filter as JSON"), N_("JSON") },
    { "json", 0, 0, G_OPTION_ARG_NONE, &json, N_("Print JSON"), NULL },
    { NULL }
  };
  g_autoptr(GOptionContext) context = g_option_context_new (N_("QUERY"));
  g_autoptr(StacheStore) store = NULL;
  g_autoptr(GPtrArray) results = NULL;
  g_autoptr(GError) error = NULL;
  g_autoptr(JsonObject) filter = NULL;
  g_autofree char *query = NULL;
  StacheSearchMode mode;

  g_option_context_set_summary (context, _("Search the store; best passages first, with their sources."));
  g_option_context_add_main_entries (context, entries, GETTEXT_PACKAGE);
  if (!parse_options (context, &argc, &argv))
    return EXIT_USAGE;
  if (argc < 2)
    {
      g_printerr ("%s\n", _("stache search: give a query"));
      return EXIT_USAGE;
    }
  if (!stache_tool_parse_mode (mode_text, &mode))
    {
      g_printerr (_("stache search: unknown mode “%s”; use hybrid, vector or keyword\n"), mode_text);
      return EXIT_USAGE;
    }
  if (top_k < 1 || top_k > 1000)
    {
      g_printerr ("%s\n", _("stache search: --top-k must be between 1 and 1000"));
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

  results = stache_store_search_full (store, query, namespace_, top_k, mode, filter, NULL, &error);
  if (results == NULL)
    {
      g_printerr ("stache: %s\n", error->message);
      return 1;
    }

  if (json)
    {
      g_autoptr(JsonBuilder) builder = json_builder_new ();

      json_builder_begin_object (builder);
      stache_tool_add_string_member (builder, "query", query);
      json_builder_set_member_name (builder, "results");
      json_builder_begin_array (builder);
      for (guint i = 0; i < results->len; i++)
        stache_tool_add_result (builder, g_ptr_array_index (results, i), i + 1);
      json_builder_end_array (builder);
      json_builder_end_object (builder);
      stache_tool_print_json (builder);
      return 0;
    }

  if (results->len == 0)
    g_print ("%s\n", _("No results."));

  for (guint i = 0; i < results->len; i++)
    {
      StacheSearchResult *result = g_ptr_array_index (results, i);

      g_print ("%u. %s  (%.3f)\n", i + 1, stache_tool_result_source (result), stache_search_result_get_score (result));
      print_passage (stache_search_result_get_text (result));
    }

  return 0;
}

/* Prints the answer as the model writes it */
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

static int
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
  g_autoptr(StacheAnswer) answer = NULL;
  g_autoptr(GError) error = NULL;
  g_autofree char *question = NULL;
  gboolean streamed = FALSE;
  GPtrArray *sources;

  g_option_context_set_summary (context, _("Answer a question from the store, citing the sources."));
  g_option_context_add_main_entries (context, entries, GETTEXT_PACKAGE);
  if (!parse_options (context, &argc, &argv))
    return EXIT_USAGE;
  if (argc < 2)
    {
      g_printerr ("%s\n", _("stache ask: give a question"));
      return EXIT_USAGE;
    }
  if (top_k < 1 || top_k > 100)
    {
      g_printerr ("%s\n", _("stache ask: --top-k must be between 1 and 100"));
      return EXIT_USAGE;
    }

  question = g_strjoinv (" ", argv + 1);
  if ((store = stache_tool_open_store ()) == NULL)
    return 1;

  if (!json)
    g_signal_connect (store, "token", G_CALLBACK (print_token), &streamed);

  answer = stache_store_ask (store, question, namespace_, top_k, NULL, &error);
  if (answer == NULL)
    {
      if (streamed)
        g_print ("\n");
      g_printerr ("stache: %s\n", error->message);
      return 1;
    }

  sources = stache_answer_get_sources (answer);
  if (json)
    {
      g_autoptr(JsonBuilder) builder = json_builder_new ();

      json_builder_begin_object (builder);
      stache_tool_add_string_member (builder, "question", question);
      stache_tool_add_string_member (builder, "answer", stache_answer_get_text (answer));
      stache_tool_add_string_member (builder, "model", stache_answer_get_model (answer));
      json_builder_set_member_name (builder, "sources");
      json_builder_begin_array (builder);
      for (guint i = 0; i < sources->len; i++)
        stache_tool_add_result (builder, g_ptr_array_index (sources, i), i + 1);
      json_builder_end_array (builder);
      json_builder_end_object (builder);
      stache_tool_print_json (builder);
      return 0;
    }

  if (!streamed)
    g_print ("%s", stache_answer_get_text (answer));
  g_print ("\n\n%s\n", _("Sources:"));
  for (guint i = 0; i < sources->len; i++)
    g_print ("  [%u] %s\n", i + 1, stache_tool_result_source (g_ptr_array_index (sources, i)));

  return 0;
}

static int
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
  if (!parse_options (context, &argc, &argv))
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

static int
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
  if (!parse_options (context, &argc, &argv))
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
      g_autoptr(GPtrArray) namespaces = stache_store_list_namespaces (store, parent, NULL, &error);

      if (namespaces == NULL)
        {
          g_printerr ("stache: %s\n", error->message);
          return 1;
        }

      if (json)
        {
          g_autoptr(JsonBuilder) builder = json_builder_new ();

          json_builder_begin_array (builder);
          for (guint i = 0; i < namespaces->len; i++)
            {
              StacheNamespace *ns = g_ptr_array_index (namespaces, i);

              json_builder_begin_object (builder);
              stache_tool_add_string_member (builder, "name", stache_namespace_get_name (ns));
              stache_tool_add_string_member (builder, "description", stache_namespace_get_description (ns));
              json_builder_set_member_name (builder, "created");
              json_builder_add_int_value (builder, stache_namespace_get_created (ns));
              json_builder_end_object (builder);
            }
          json_builder_end_array (builder);
          stache_tool_print_json (builder);
          return 0;
        }

      if (namespaces->len == 0)
        g_print ("%s\n", _("No namespaces."));
      for (guint i = 0; i < namespaces->len; i++)
        {
          StacheNamespace *ns = g_ptr_array_index (namespaces, i);
          const char *text = stache_namespace_get_description (ns);

          g_print ("%s%s%s\n", stache_namespace_get_name (ns), text ? "  " : "", text ? text : "");
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

/* ---- check ---- */

static int
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
  if (!parse_options (context, &argc, &argv))
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

/* ---- dispatch ---- */

static const struct {
  const char  *name;
  CommandFunc  func;
  const char  *summary;
} commands[] = {
  { "ingest", command_ingest, N_("Ingest files and folders into the store") },
  { "search", command_search, N_("Search the store") },
  { "ask", command_ask, N_("Answer a question from the store, with citations") },
  { "documents", command_documents, N_("List, show or delete documents") },
  { "namespaces", command_namespaces, N_("List, create or delete namespaces") },
  { "plugins", command_plugins, N_("List providers found by plugin discovery, with reasons for failures; check a plugin folder") },
  { "config", command_config, N_("Show the effective settings and their sources (secrets redacted)") },
  { "check", command_check, N_("Read the whole store and check that it is intact") },
  { "serve", stache_serve_main, N_("Serve the store over HTTP: a JSON REST API") },
  { "mcp", stache_mcp_main, N_("Serve the store to AI assistants: Model Context Protocol over stdio") },
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
  /* Debug and info lines (G_MESSAGES_DEBUG) would otherwise go to stdout,
   * into --json output */
  g_log_writer_default_set_use_stderr (TRUE);
  bindtextdomain (GETTEXT_PACKAGE, LOCALEDIR);
  bind_textdomain_codeset (GETTEXT_PACKAGE, "UTF-8");
  textdomain (GETTEXT_PACKAGE);
  g_set_prgname ("stache");
  stache_tool_use_safe_output ();

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

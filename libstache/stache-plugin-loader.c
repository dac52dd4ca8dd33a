/* stache-plugin-loader.c: plugin discovery and provider creation
 *
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */
#include "config.h"

#include <string.h>
#include <unistd.h>
#include <glib/gstdio.h>
#include <libpeas/peas.h>
#ifdef HAVE_INTROSPECTION
# include <girepository.h>
#endif

#include "stache-error.h"
#include "stache-http-client-private.h"
#include "stache-plugin-loader.h"
#include "stache-plugin-log-private.h"
#include "stache-private.h"
#include "stache-provider-info-private.h"
#include "stache-provider-private.h"

/**
 * StachePluginLoader:
 *
 * Finds plugins, reports why any cannot be used, and creates providers.
 *
 * The loader wraps one #PeasEngine with the `python3` and `lua5.1` loaders
 * enabled. It looks for plugins in these folders, in this order; when two
 * plugins provide the same name for the same type, the first one wins and
 * the later one is reported as shadowed:
 *
 * 1. each folder in `STACHE_PLUGIN_PATH` (colon-separated),
 * 2. `$XDG_DATA_HOME/stache/plugins` (by default
 *    `~/.local/share/stache/plugins`),
 * 3. `stache/plugins` in each folder of `$XDG_DATA_DIRS`,
 * 4. the built-in plugins in `$libdir/stache/plugins` (or the folder
 *    `STACHE_BUILTIN_PLUGIN_DIR` names, for a relocated installation).
 *
 * A plugin is a `.plugin` file, directly in one of those folders or in a
 * subfolder of one, beside its module (`lib<Module>.so`, `<Module>.py`,
 * `<Module>.lua`). Besides the usual libpeas keys it declares what it
 * provides, by extension point and name:
 *
 * |[
 * [Plugin]
 * Module=milvus
 * Loader=python3
 * Name=Milvus
 * Description=Vectors in a Milvus server
 * X-Stache-Providers=vectordb=milvus;embeddings=milvus
 * X-Stache-Settings=milvus_uri;milvus_token
 * ]|
 *
 * `X-Stache-Settings` lists the settings the plugin reads, for `stache
 * config`; the entry `@http` stands for those of #StacheHttpClient
 * (`http_timeout`, `http_max_retries`, …), which a remote provider reads.
 *
 * Discovery reads every `.plugin` file at once, which is cheap; a module is
 * only loaded when a provider from it is first needed, or when
 * stache_plugin_loader_list_providers() or
 * stache_plugin_loader_get_available_providers() must tell whether it
 * works. A plugin that cannot be used (a malformed `.plugin` file, a
 * missing module, a failing import, a module without the declared types or
 * whose types leave methods their interface requires unimplemented, a
 * shadowed name) is skipped and kept with its reason; the others load.
 *
 * Python modules are imported into the one Python interpreter of the
 * process, so module names must be unique, and a loader should be created
 * once per process: stache_plugin_loader_get_default() is the one the
 * factories use.
 *
 * All methods may be called from any thread.
 */

typedef struct
{
  StacheProviderType  type;
  char               *name;
  StacheProviderInfo *info;
} ProvidedEntry;

typedef struct
{
  char          *plugin_file;
  char          *folder;
  char          *module_name;
  char          *plugin_name;
  char          *description;
  char          *loader;
  char         **setting_keys;
  GPtrArray     *provides;        /* ProvidedEntry */
  PeasPluginInfo *peas_info;      /* owned by the engine */
  gboolean       load_attempted;
  GError        *error;           /* why the whole plugin is unusable */
} Candidate;

struct _StachePluginLoader
{
  GObject      parent_instance;

  GRecMutex    mutex;
  PeasEngine  *engine;
  GPtrArray   *search_path;       /* char *, absolute */
  GPtrArray   *candidates;        /* Candidate *, in search order */
  GPtrArray   *infos;             /* StacheProviderInfo *, in search order */
  GHashTable  *winners[STACHE_N_PROVIDER_TYPES]; /* name → ProvidedEntry * */
  gboolean     scanned;
};

G_DEFINE_FINAL_TYPE (StachePluginLoader, stache_plugin_loader, G_TYPE_OBJECT)

#define MAX_NAME_LENGTH 64
#define MAX_PLUGIN_FILE_SIZE (64 * 1024)

static void
provided_entry_free (gpointer p)
{
  ProvidedEntry *entry = p;

  g_free (entry->name);
  g_clear_object (&entry->info);
  g_free (entry);
}

static void
candidate_free (gpointer p)
{
  Candidate *candidate = p;

  g_free (candidate->plugin_file);
  g_free (candidate->folder);
  g_free (candidate->module_name);
  g_free (candidate->plugin_name);
  g_free (candidate->description);
  g_free (candidate->loader);
  g_strfreev (candidate->setting_keys);
  g_clear_pointer (&candidate->provides, g_ptr_array_unref);
  g_clear_error (&candidate->error);
  g_free (candidate);
}

/* ---- checking the types a module registers ----
 *
 * libpeas only tells whether a module has a type for an interface; one
 * that leaves required methods unset would load and then fail at its
 * first call with "not supported". The types a module registers while it
 * loads (a C module in peas_register_types(), a Python or Lua module as
 * its classes are defined) are found by comparing the types deriving from
 * StacheProvider before and after, and their interface vtables checked. */

static void
collect_provider_types (GType   type,
                        GArray *types)
{
  g_autofree GType *children = NULL;
  guint n_children = 0;

  children = g_type_children (type, &n_children);
  for (guint i = 0; i < n_children; i++)
    {
      g_array_append_val (types, children[i]);
      collect_provider_types (children[i], types);
    }
}

static GArray *
list_provider_types (void)
{
  GArray *types = g_array_new (FALSE, FALSE, sizeof (GType));

  collect_provider_types (STACHE_TYPE_PROVIDER, types);
  return types;
}

/* The types in @after that are not in @before */
static GArray *
new_provider_types (GArray *before,
                    GArray *after)
{
  g_autoptr(GHashTable) known = g_hash_table_new (NULL, NULL);
  GArray *added = g_array_new (FALSE, FALSE, sizeof (GType));

  for (guint i = 0; i < before->len; i++)
    g_hash_table_add (known, GSIZE_TO_POINTER (g_array_index (before, GType, i)));
  for (guint i = 0; i < after->len; i++)
    {
      GType type = g_array_index (after, GType, i);

      if (!g_hash_table_contains (known, GSIZE_TO_POINTER (type)))
        g_array_append_val (added, type);
    }

  return added;
}

/* "search, delete_chunks, count", or with the do_ prefix a Python or Lua
 * class uses: "do_search, …"; alternatives joined by "or". */
static char *
describe_missing_methods (GPtrArray  *missing,
                          const char *loader)
{
  g_autoptr(GString) text = g_string_new (NULL);
  gboolean scripted = loader != NULL && !g_str_equal (loader, "c");

  for (guint i = 0; i < missing->len; i++)
    {
      g_auto(GStrv) alternatives = g_strsplit (g_ptr_array_index (missing, i), "|", -1);

      if (i > 0)
        g_string_append (text, ", ");
      for (guint j = 0; alternatives[j] != NULL; j++)
        {
          if (j > 0)
            /* Translators: between method names, as in "do_rerank or do_rescore" */
            g_string_append (text, _(" or "));
          g_string_append_printf (text, "%s%s", scripted ? "do_" : "", alternatives[j]);
        }
    }

  return g_string_free (g_steal_pointer (&text), FALSE);
}

static GError *
missing_methods_error_new (const char         *loader,
                           StacheProviderType  type,
                           const char         *name,
                           GType               instance_type,
                           GPtrArray          *missing)
{
  g_autofree char *methods = describe_missing_methods (missing, loader);

  return g_error_new (STACHE_PLUGIN_ERROR, STACHE_PLUGIN_ERROR_MISSING_METHODS,
                      /* Translators: e.g. The class MyStore (for vectordb=mine) does not
                       * implement do_search, do_count, which StacheVectorDbProvider requires */
                      _("The class %s (for %s=%s) does not implement %s, which %s requires"),
                      g_type_name (instance_type), stache_provider_type_to_string (type), name,
                      methods, g_type_name (stache_provider_type_get_interface (type)));
}

/* Checks the types @candidate's module registered for @entry's interface.
 * One complete type is enough (libpeas picks one of them, and creating
 * the provider checks the one it picked); none at all means the module's
 * types existed before it loaded, and creation checks them too. */
static GError *
check_registered_types (Candidate     *candidate,
                        ProvidedEntry *entry,
                        GArray        *registered)
{
  GType iface = stache_provider_type_get_interface (entry->type);
  g_autoptr(GPtrArray) first_missing = NULL;
  GType first_incomplete = G_TYPE_INVALID;

  for (guint i = 0; i < registered->len; i++)
    {
      GType type = g_array_index (registered, GType, i);
      g_autoptr(GPtrArray) missing = NULL;

      if (!g_type_is_a (type, iface) || G_TYPE_IS_ABSTRACT (type))
        continue;

      missing = _stache_provider_type_list_missing_methods (entry->type, type);
      if (missing->len == 0)
        return NULL;

      if (first_missing == NULL)
        {
          first_missing = g_steal_pointer (&missing);
          first_incomplete = type;
        }
    }

  if (first_missing == NULL)
    return NULL;

  return missing_methods_error_new (candidate->loader, entry->type, entry->name,
                                    first_incomplete, first_missing);
}

/* ---- search path ---- */

static void
add_search_dir (GPtrArray  *path,
                const char *dir)
{
  g_autofree char *canonical = NULL;

  if (dir == NULL || dir[0] == '\0')
    return;

  canonical = g_canonicalize_filename (dir, NULL);
  for (guint i = 0; i < path->len; i++)
    if (g_str_equal (g_ptr_array_index (path, i), canonical))
      return;

  g_ptr_array_add (path, g_steal_pointer (&canonical));
}

static GPtrArray *
compute_search_path (void)
{
  GPtrArray *path = g_ptr_array_new_with_free_func (g_free);
  const char *env;
  g_autofree char *data_home = NULL;

  /* The XDG variables are read here rather than through g_get_user_data_dir(),
   * which caches the first answer for the life of the process. */
  if ((env = g_getenv ("STACHE_PLUGIN_PATH")) != NULL)
    {
      g_auto(GStrv) dirs = g_strsplit (env, G_SEARCHPATH_SEPARATOR_S, -1);

      for (guint i = 0; dirs[i] != NULL; i++)
        add_search_dir (path, dirs[i]);
    }

  env = g_getenv ("XDG_DATA_HOME");
  if (env != NULL && g_path_is_absolute (env))
    data_home = g_build_filename (env, "stache", "plugins", NULL);
  else
    data_home = g_build_filename (g_get_home_dir (), ".local", "share", "stache", "plugins", NULL);
  add_search_dir (path, data_home);

  env = g_getenv ("XDG_DATA_DIRS");
  if (env == NULL || env[0] == '\0')
    env = "/usr/local/share:/usr/share";
  {
    g_auto(GStrv) dirs = g_strsplit (env, G_SEARCHPATH_SEPARATOR_S, -1);

    for (guint i = 0; dirs[i] != NULL; i++)
      {
        g_autofree char *dir = NULL;

        if (!g_path_is_absolute (dirs[i]))
          continue;
        dir = g_build_filename (dirs[i], "stache", "plugins", NULL);
        add_search_dir (path, dir);
      }
  }

  /* A relocated installation (or a test that must not see what is
   * installed) names the built-in folder itself. */
  env = g_getenv ("STACHE_BUILTIN_PLUGIN_DIR");
  add_search_dir (path, env != NULL && env[0] != '\0' ? env : STACHE_PLUGINS_DIR);

  return path;
}

/* ---- reading .plugin files ---- */

static gboolean
is_valid_provider_name (const char *name)
{
  gsize len = strlen (name);

  if (len == 0 || len > MAX_NAME_LENGTH)
    return FALSE;
  if (!g_ascii_islower (name[0]) && !g_ascii_isdigit (name[0]))
    return FALSE;

  for (gsize i = 0; i < len; i++)
    if (!g_ascii_islower (name[i]) && !g_ascii_isdigit (name[i]) && name[i] != '_' && name[i] != '-')
      return FALSE;

  return TRUE;
}

static gboolean
is_valid_module_name (const char *name,
                      gboolean    scripted)
{
  gsize len = strlen (name);

  if (len == 0 || len > 128)
    return FALSE;
  if (scripted && !g_ascii_isalpha (name[0]) && name[0] != '_')
    return FALSE;

  for (gsize i = 0; i < len; i++)
    {
      if (g_ascii_isalnum (name[i]) || name[i] == '_')
        continue;
      /* Dashes are fine in a shared library's name, not in an import. */
      if (!scripted && (name[i] == '-' || name[i] == '.'))
        continue;
      return FALSE;
    }

  return TRUE;
}

static gboolean
module_file_exists (const char  *folder,
                    const char  *module,
                    const char  *loader,
                    char       **out_expected)
{
  g_autoptr(GPtrArray) names = g_ptr_array_new_with_free_func (g_free);

  if (g_str_equal (loader, "c"))
    {
      g_ptr_array_add (names, g_strdup_printf ("lib%s.%s", module, G_MODULE_SUFFIX));
      g_ptr_array_add (names, g_strdup_printf ("%s.%s", module, G_MODULE_SUFFIX));
    }
  else if (g_str_has_prefix (loader, "python"))
    {
      g_ptr_array_add (names, g_strdup_printf ("%s.py", module));
      g_ptr_array_add (names, g_build_filename (module, "__init__.py", NULL));
    }
  else
    {
      g_ptr_array_add (names, g_strdup_printf ("%s.lua", module));
      g_ptr_array_add (names, g_build_filename (module, "init.lua", NULL));
    }

  for (guint i = 0; i < names->len; i++)
    {
      g_autofree char *path = g_build_filename (folder, g_ptr_array_index (names, i), NULL);

      if (g_file_test (path, G_FILE_TEST_IS_REGULAR))
        return TRUE;
    }

  *out_expected = g_strdup (g_ptr_array_index (names, 0));
  return FALSE;
}

/* X-Stache-Settings with `@http` replaced by the settings of the HTTP
 * client (a remote provider's timeouts and retries), listed once in the
 * core rather than in every remote plugin's file. Takes @keys. */
static char **
expand_setting_keys (char **keys)
{
  g_autoptr(GStrvBuilder) builder = NULL;

  if (keys == NULL || !g_strv_contains ((const char * const *) keys, "@http"))
    return keys;

  builder = g_strv_builder_new ();
  for (guint i = 0; keys[i] != NULL; i++)
    {
      if (g_str_equal (keys[i], "@http"))
        g_strv_builder_addv (builder, (const char **) _stache_http_client_setting_keys ());
      else
        g_strv_builder_add (builder, keys[i]);
    }
  g_strfreev (keys);

  return g_strv_builder_end (builder);
}

static void
candidate_fail (Candidate  *candidate,
                gint        code,
                const char *format,
                ...) G_GNUC_PRINTF (3, 4);

static void
candidate_fail (Candidate  *candidate,
                gint        code,
                const char *format,
                ...)
{
  va_list args;

  if (candidate->error != NULL)
    return;

  va_start (args, format);
  candidate->error = g_error_new_valist (STACHE_PLUGIN_ERROR, code, format, args);
  va_end (args);
}

static Candidate *
read_plugin_file (const char *plugin_file,
                  const char *folder)
{
  Candidate *candidate = g_new0 (Candidate, 1);
  g_autoptr(GKeyFile) keyfile = g_key_file_new ();
  g_autoptr(GError) error = NULL;
  g_autofree char *loader = NULL;
  g_autofree char *expected = NULL;
  g_auto(GStrv) items = NULL;
  gboolean scripted;
  GStatBuf st;

  candidate->plugin_file = g_strdup (plugin_file);
  candidate->folder = g_strdup (folder);
  candidate->provides = g_ptr_array_new_with_free_func (provided_entry_free);

  /* A .plugin file is a few lines; anything huge is not one, and reading
   * it whole would only waste memory. */
  if (g_stat (plugin_file, &st) == 0 && st.st_size > MAX_PLUGIN_FILE_SIZE)
    {
      candidate_fail (candidate, STACHE_PLUGIN_ERROR_BAD_PLUGIN_FILE,
                      _("The plugin file is larger than %d bytes"), MAX_PLUGIN_FILE_SIZE);
      return candidate;
    }

  if (!g_key_file_load_from_file (keyfile, plugin_file, G_KEY_FILE_NONE, &error))
    {
      candidate_fail (candidate, STACHE_PLUGIN_ERROR_BAD_PLUGIN_FILE,
                      _("The plugin file cannot be parsed: %s"), error->message);
      return candidate;
    }

  if (!g_key_file_has_group (keyfile, "Plugin"))
    {
      candidate_fail (candidate, STACHE_PLUGIN_ERROR_BAD_PLUGIN_FILE,
                      _("The plugin file has no [Plugin] group"));
      return candidate;
    }

  candidate->module_name = g_key_file_get_string (keyfile, "Plugin", "Module", NULL);
  candidate->plugin_name = g_key_file_get_locale_string (keyfile, "Plugin", "Name", NULL, NULL);
  candidate->description = g_key_file_get_locale_string (keyfile, "Plugin", "Description", NULL, NULL);
  candidate->setting_keys = expand_setting_keys (g_key_file_get_string_list (keyfile, "Plugin",
                                                                           "X-Stache-Settings", NULL, NULL));

  loader = g_key_file_get_string (keyfile, "Plugin", "Loader", NULL);
  candidate->loader = g_ascii_strdown (loader != NULL ? g_strstrip (loader) : "c", -1);

  if (!g_str_equal (candidate->loader, "c") &&
      !g_str_equal (candidate->loader, "python3") &&
      !g_str_equal (candidate->loader, "python") &&
      !g_str_equal (candidate->loader, "lua5.1"))
    {
      candidate_fail (candidate, STACHE_PLUGIN_ERROR_BAD_PLUGIN_FILE,
                      _("Unknown Loader “%s”; use C, python3 or lua5.1"), candidate->loader);
    }

  scripted = !g_str_equal (candidate->loader, "c");

  if (candidate->module_name == NULL)
    candidate_fail (candidate, STACHE_PLUGIN_ERROR_BAD_PLUGIN_FILE,
                    _("The plugin file has no Module key"));
  else if (!is_valid_module_name (candidate->module_name, scripted))
    candidate_fail (candidate, STACHE_PLUGIN_ERROR_BAD_PLUGIN_FILE,
                    _("Module “%s” is not a valid module name"), candidate->module_name);

  if (candidate->plugin_name == NULL)
    candidate_fail (candidate, STACHE_PLUGIN_ERROR_BAD_PLUGIN_FILE,
                    _("The plugin file has no Name key"));

  items = g_key_file_get_string_list (keyfile, "Plugin", "X-Stache-Providers", NULL, NULL);
  if (items == NULL || items[0] == NULL)
    candidate_fail (candidate, STACHE_PLUGIN_ERROR_BAD_PLUGIN_FILE,
                    _("The plugin file has no X-Stache-Providers key saying what it provides "
                      "(for example X-Stache-Providers=vectordb=mydb)"));

  for (guint i = 0; items != NULL && items[i] != NULL; i++)
    {
      g_auto(GStrv) pair = NULL;
      StacheProviderType type;
      ProvidedEntry *entry;
      const char *type_name, *name;

      g_strstrip (items[i]);
      if (items[i][0] == '\0')
        continue;

      pair = g_strsplit (items[i], "=", 2);
      type_name = g_strstrip (pair[0]);
      name = pair[1] != NULL ? g_strstrip (pair[1]) : "";

      if (!stache_provider_type_from_string (type_name, &type))
        {
          candidate_fail (candidate, STACHE_PLUGIN_ERROR_BAD_PLUGIN_FILE,
                          _("X-Stache-Providers names an unknown provider type “%s”; the types "
                            "are llm, embeddings, vectordb, namespace, reranker and "
                            "document_index"), type_name);
          continue;
        }

      if (!is_valid_provider_name (name))
        {
          candidate_fail (candidate, STACHE_PLUGIN_ERROR_BAD_PLUGIN_FILE,
                          _("X-Stache-Providers item “%s” needs a name of lower-case letters, "
                            "digits, “-” and “_” (at most %d), as in %s=myname"),
                          items[i], MAX_NAME_LENGTH, type_name);
          continue;
        }

      for (guint j = 0; j < candidate->provides->len; j++)
        {
          ProvidedEntry *other = g_ptr_array_index (candidate->provides, j);

          if (other->type == type)
            candidate_fail (candidate, STACHE_PLUGIN_ERROR_BAD_PLUGIN_FILE,
                            _("X-Stache-Providers declares two %s providers; a plugin provides "
                              "at most one of each type"),
                            stache_provider_type_to_string (type));
        }

      entry = g_new0 (ProvidedEntry, 1);
      entry->type = type;
      entry->name = g_strdup (name);
      g_ptr_array_add (candidate->provides, entry);
    }

  if (candidate->error == NULL &&
      !module_file_exists (folder, candidate->module_name, candidate->loader, &expected))
    candidate_fail (candidate, STACHE_PLUGIN_ERROR_MISSING_MODULE,
                    _("The module file “%s” is missing from %s"), expected, folder);

  return candidate;
}

static int
compare_names (gconstpointer a,
               gconstpointer b)
{
  return g_strcmp0 (*(const char * const *) a, *(const char * const *) b);
}

static GPtrArray *
sorted_children (const char *dir)
{
  GPtrArray *names = g_ptr_array_new_with_free_func (g_free);
  g_autoptr(GDir) d = g_dir_open (dir, 0, NULL);
  const char *name;

  if (d == NULL)
    return names;

  while ((name = g_dir_read_name (d)) != NULL)
    g_ptr_array_add (names, g_strdup (name));
  g_ptr_array_sort (names, compare_names);

  return names;
}

/* Mirrors how libpeas walks a search folder: .plugin files in the folder
 * itself and in its direct subfolders. Sorted, so that which of two
 * clashing plugins in one folder wins does not depend on the file system. */
static void
scan_dir (StachePluginLoader *self,
          const char         *dir,
          guint               depth)
{
  g_autoptr(GPtrArray) names = sorted_children (dir);

  for (guint i = 0; i < names->len; i++)
    {
      const char *name = g_ptr_array_index (names, i);
      g_autofree char *path = g_build_filename (dir, name, NULL);

      if (g_file_test (path, G_FILE_TEST_IS_DIR))
        {
          if (depth > 0)
            scan_dir (self, path, depth - 1);
        }
      else if (g_str_has_suffix (name, ".plugin"))
        {
          g_ptr_array_add (self->candidates, read_plugin_file (path, dir));
        }
    }
}

static const char *
display_loader (const char *loader)
{
  return loader != NULL && g_str_equal (loader, "c") ? "C" : loader;
}

static void
build_infos (StachePluginLoader *self,
             Candidate          *candidate)
{
  if (candidate->provides->len == 0)
    {
      /* Too broken to say what it provides: one entry for the file. */
      StacheProviderInfo *info = _stache_provider_info_new (NULL, NULL, candidate->module_name,
                                                            candidate->plugin_name,
                                                            candidate->description,
                                                            candidate->plugin_file,
                                                            candidate->folder,
                                                            display_loader (candidate->loader));

      _stache_provider_info_set_status (info, STACHE_PROVIDER_STATUS_FAILED, candidate->error);
      g_ptr_array_add (self->infos, info);
      return;
    }

  for (guint i = 0; i < candidate->provides->len; i++)
    {
      ProvidedEntry *entry = g_ptr_array_index (candidate->provides, i);

      entry->info = _stache_provider_info_new (stache_provider_type_to_string (entry->type),
                                               entry->name, candidate->module_name,
                                               candidate->plugin_name, candidate->description,
                                               candidate->plugin_file, candidate->folder,
                                               display_loader (candidate->loader));
      if (candidate->error != NULL)
        _stache_provider_info_set_status (entry->info,
                                          candidate->error->code == STACHE_PLUGIN_ERROR_SHADOWED
                                          ? STACHE_PROVIDER_STATUS_SHADOWED
                                          : STACHE_PROVIDER_STATUS_FAILED,
                                          candidate->error);
      g_ptr_array_add (self->infos, g_object_ref (entry->info));
    }
}

static void
ensure_scanned (StachePluginLoader *self)
{
  g_autoptr(GHashTable) modules = NULL;
  StachePluginLogCapture capture = { 0 };

  if (self->scanned)
    return;
  self->scanned = TRUE;

  for (guint i = 0; i < self->search_path->len; i++)
    scan_dir (self, g_ptr_array_index (self->search_path, i), 1);

  /* Module names are global to libpeas (and, for Python, to the process):
   * the first plugin using a module name keeps it. */
  modules = g_hash_table_new (g_str_hash, g_str_equal);
  for (guint i = 0; i < self->candidates->len; i++)
    {
      Candidate *candidate = g_ptr_array_index (self->candidates, i);
      Candidate *earlier;

      if (candidate->module_name == NULL)
        continue;

      earlier = g_hash_table_lookup (modules, candidate->module_name);
      if (earlier != NULL)
        {
          g_clear_error (&candidate->error);
          candidate_fail (candidate, STACHE_PLUGIN_ERROR_SHADOWED,
                          _("Module name “%s” is already used by the plugin %s, found "
                            "earlier in the search path"),
                          candidate->module_name, earlier->plugin_file);
        }
      else
        {
          g_hash_table_insert (modules, candidate->module_name, candidate);
        }
    }

  /* Hand the folders to libpeas in the same order; it parses the files
   * again and owns the PeasPluginInfo of each. Its complaints about files
   * we already rejected are not news, so they are swallowed. */
  _stache_plugin_log_capture_begin (&capture);
  for (guint i = 0; i < self->search_path->len; i++)
    peas_engine_add_search_path (self->engine, g_ptr_array_index (self->search_path, i), NULL);
  peas_engine_rescan_plugins (self->engine);
  _stache_plugin_log_capture_end (&capture);
  _stache_plugin_log_capture_clear (&capture);

  for (guint i = 0; i < self->candidates->len; i++)
    {
      Candidate *candidate = g_ptr_array_index (self->candidates, i);
      PeasPluginInfo *peas_info;
      g_autofree char *peas_dir = NULL;
      g_autofree char *our_dir = NULL;

      if (candidate->error == NULL)
        {
          peas_info = peas_engine_get_plugin_info (self->engine, candidate->module_name);
          if (peas_info != NULL)
            {
              peas_dir = g_canonicalize_filename (peas_plugin_info_get_module_dir (peas_info), NULL);
              our_dir = g_canonicalize_filename (candidate->folder, NULL);
            }

          if (peas_info == NULL)
            candidate_fail (candidate, STACHE_PLUGIN_ERROR_BAD_PLUGIN_FILE,
                            _("libpeas could not read this plugin file"));
          else if (!g_str_equal (peas_dir, our_dir))
            candidate_fail (candidate, STACHE_PLUGIN_ERROR_SHADOWED,
                            _("libpeas took module “%s” from %s instead; module names must be "
                              "unique across all plugin folders"),
                            candidate->module_name, peas_dir);
          else
            candidate->peas_info = peas_info;
        }

      build_infos (self, candidate);

      if (candidate->error != NULL)
        continue;

      /* First plugin in search order wins each (type, name). */
      for (guint j = 0; j < candidate->provides->len; j++)
        {
          ProvidedEntry *entry = g_ptr_array_index (candidate->provides, j);
          GHashTable *winners = self->winners[entry->type];
          ProvidedEntry *winner = g_hash_table_lookup (winners, entry->name);

          if (winner != NULL)
            {
              g_autoptr(GError) error = NULL;

              error = g_error_new (STACHE_PLUGIN_ERROR, STACHE_PLUGIN_ERROR_SHADOWED,
                                   _("The %s provider “%s” is already provided by %s, found "
                                     "earlier in the search path"),
                                   stache_provider_type_to_string (entry->type), entry->name,
                                   stache_provider_info_get_plugin_file (winner->info));
              _stache_provider_info_set_status (entry->info, STACHE_PROVIDER_STATUS_SHADOWED, error);
              continue;
            }

          g_hash_table_insert (winners, entry->name, entry);
        }
    }
}

/* Isolation for the `stache plugins` commands (tools/stache-tool.c), which
 * list plugins in a child process so that a plugin crashing the process
 * while it loads is reported rather than taking the command down. Two
 * variables of that protocol, not settings:
 *
 * - STACHE_PLUGINS_TRACE_FD: a file descriptor the loader writes each
 *   .plugin file's path to, one line, just before loading its module: the
 *   last line names the plugin a crash happened in;
 * - STACHE_PLUGINS_CRASHED: lines "PATH\tREASON" of plugins that crashed an
 *   earlier child: they fail with REASON and are not loaded again. */
static void
trace_loading (const char *plugin_file)
{
  const char *fd_text = g_getenv ("STACHE_PLUGINS_TRACE_FD");
  g_autofree char *line = NULL;
  gint64 fd;

  if (fd_text == NULL || !g_ascii_string_to_signed (fd_text, 10, 0, G_MAXINT, &fd, NULL))
    return;

  line = g_strconcat (plugin_file, "\n", NULL);
  if (write ((int) fd, line, strlen (line)) < 0)
    return;
}

static char *
crashed_reason (const char *plugin_file)
{
  const char *list = g_getenv ("STACHE_PLUGINS_CRASHED");
  g_auto(GStrv) lines = NULL;
  gsize length = strlen (plugin_file);

  if (list == NULL)
    return NULL;

  lines = g_strsplit (list, "\n", -1);
  for (guint i = 0; lines[i] != NULL; i++)
    if (strncmp (lines[i], plugin_file, length) == 0 && lines[i][length] == '\t')
      return g_strdup (lines[i] + length + 1);

  return NULL;
}

static void
fail_declared_providers (Candidate *candidate)
{
  for (guint i = 0; i < candidate->provides->len; i++)
    {
      ProvidedEntry *entry = g_ptr_array_index (candidate->provides, i);

      if (stache_provider_info_get_status (entry->info) != STACHE_PROVIDER_STATUS_SHADOWED)
        _stache_provider_info_set_status (entry->info, STACHE_PROVIDER_STATUS_FAILED, candidate->error);
    }
}

/* The file libpeas 1.x loads for the loader @loader (peas-engine.c,
 * get_plugin_loader_module(), and peas-dirs.c,
 * peas_dirs_get_plugin_loader_dir()): the module is "lua51loader" for
 * lua5.1 and "python3loader" for python3, found as lib<module>.so in
 * $PEAS_PLUGIN_LOADERS_DIR/<loader>/ when that variable is set (even
 * empty), else in libpeas' own <libdir>/libpeas-1.0/loaders/, with no
 * folder per loader. */
static char *
peas_loader_module_path (const char *loader)
{
  const char *env = g_getenv ("PEAS_PLUGIN_LOADERS_DIR");
  g_autoptr(GString) module = g_string_new ("lib");
  g_autofree char *dir = NULL;

  for (const char *p = loader; *p != '\0'; p++)
    if (*p != '.')
      g_string_append_c (module, *p);
  g_string_append_printf (module, "loader.%s", G_MODULE_SUFFIX);

  if (env != NULL)
    dir = g_build_filename (env, loader, NULL);
  else
    dir = g_strdup (PEAS_LOADERS_DIR);

  return g_build_filename (dir, module->str, NULL);
}

/* Loads the module of @candidate once and settles the status of each
 * provider it declares. Called with the mutex held. */
static void
ensure_loaded (StachePluginLoader *self,
               Candidate          *candidate)
{
  StachePluginLogCapture capture = { 0 };
  g_autoptr(GError) peas_error = NULL;
  g_autofree char *detail = NULL;
  g_autofree char *crashed = NULL;
  g_autoptr(GArray) types_before = NULL;
  g_autoptr(GArray) types_after = NULL;
  g_autoptr(GArray) registered = NULL;
  gboolean loaded;

  if (candidate->load_attempted || candidate->error != NULL)
    return;
  candidate->load_attempted = TRUE;

  crashed = crashed_reason (candidate->plugin_file);
  if (crashed != NULL)
    {
      candidate_fail (candidate, STACHE_PLUGIN_ERROR_LOAD_FAILED,
                      _("Module “%s” crashed the process while it was loading (%s)"),
                      candidate->module_name, crashed);
      fail_declared_providers (candidate);
      return;
    }
  trace_loading (candidate->plugin_file);

  types_before = list_provider_types ();
  _stache_plugin_log_capture_begin (&capture);
  loaded = peas_engine_load_plugin (self->engine, candidate->peas_info);
  _stache_plugin_log_capture_end (&capture);
  types_after = list_provider_types ();
  registered = new_provider_types (types_before, types_after);
  detail = _stache_plugin_log_capture_describe (&capture);
  _stache_plugin_log_capture_clear (&capture);

  if (!loaded)
    {
      peas_plugin_info_is_available (candidate->peas_info, &peas_error);

      if (g_error_matches (peas_error, PEAS_PLUGIN_INFO_ERROR, PEAS_PLUGIN_INFO_ERROR_LOADER_NOT_FOUND))
        {
          g_autofree char *probed = peas_loader_module_path (candidate->loader);

          if (g_file_test (probed, G_FILE_TEST_EXISTS))
            candidate_fail (candidate, STACHE_PLUGIN_ERROR_LOADER_UNAVAILABLE,
                            _("The libpeas loader “%s” (%s) could not be loaded: %s"),
                            candidate->loader, probed,
                            detail != NULL ? detail : _("no reason given"));
          else if (g_getenv ("PEAS_PLUGIN_LOADERS_DIR") != NULL)
            candidate_fail (candidate, STACHE_PLUGIN_ERROR_LOADER_UNAVAILABLE,
                            _("The libpeas loader “%s” is not installed: libpeas looked for %s, "
                              "as PEAS_PLUGIN_LOADERS_DIR is set"),
                            candidate->loader, probed);
          else
            candidate_fail (candidate, STACHE_PLUGIN_ERROR_LOADER_UNAVAILABLE,
                            _("The libpeas loader “%s” is not installed: libpeas looked for %s "
                              "(with PEAS_PLUGIN_LOADERS_DIR set, it looks in that folder's "
                              "%s/ instead)"),
                            candidate->loader, probed, candidate->loader);
        }
      else if (detail != NULL)
        candidate_fail (candidate, STACHE_PLUGIN_ERROR_LOAD_FAILED,
                        _("Module “%s” failed to load: %s"), candidate->module_name, detail);
      else
        candidate_fail (candidate, STACHE_PLUGIN_ERROR_LOAD_FAILED,
                        _("Module “%s” failed to load: %s"), candidate->module_name,
                        peas_error != NULL ? peas_error->message : _("no reason given"));

      fail_declared_providers (candidate);
      return;
    }

  for (guint i = 0; i < candidate->provides->len; i++)
    {
      ProvidedEntry *entry = g_ptr_array_index (candidate->provides, i);
      GType iface = stache_provider_type_get_interface (entry->type);

      if (stache_provider_info_get_status (entry->info) == STACHE_PROVIDER_STATUS_SHADOWED)
        continue;

      if (peas_engine_provides_extension (self->engine, candidate->peas_info, iface))
        {
          g_autoptr(GError) error = check_registered_types (candidate, entry, registered);

          _stache_provider_info_set_status (entry->info,
                                            error == NULL ? STACHE_PROVIDER_STATUS_LOADED
                                                          : STACHE_PROVIDER_STATUS_FAILED,
                                            error);
        }
      else
        {
          g_autoptr(GError) error = NULL;

          error = g_error_new (STACHE_PLUGIN_ERROR, STACHE_PLUGIN_ERROR_NO_MATCHING_TYPE,
                               _("Module “%s” loaded but registers no type implementing %s, "
                                 "although the plugin file declares %s=%s"),
                               candidate->module_name, g_type_name (iface),
                               stache_provider_type_to_string (entry->type), entry->name);
          _stache_provider_info_set_status (entry->info, STACHE_PROVIDER_STATUS_FAILED, error);
        }
    }
}

static Candidate *
candidate_for_entry (StachePluginLoader *self,
                     ProvidedEntry      *entry)
{
  for (guint i = 0; i < self->candidates->len; i++)
    {
      Candidate *candidate = g_ptr_array_index (self->candidates, i);

      for (guint j = 0; j < candidate->provides->len; j++)
        if (g_ptr_array_index (candidate->provides, j) == entry)
          return candidate;
    }

  g_return_val_if_reached (NULL);
}

static void
stache_plugin_loader_finalize (GObject *object)
{
  StachePluginLoader *self = STACHE_PLUGIN_LOADER (object);

  for (guint i = 0; i < STACHE_N_PROVIDER_TYPES; i++)
    g_clear_pointer (&self->winners[i], g_hash_table_unref);
  g_clear_pointer (&self->infos, g_ptr_array_unref);
  g_clear_pointer (&self->candidates, g_ptr_array_unref);
  g_clear_pointer (&self->search_path, g_ptr_array_unref);
  g_clear_object (&self->engine);
  g_rec_mutex_clear (&self->mutex);

  G_OBJECT_CLASS (stache_plugin_loader_parent_class)->finalize (object);
}

static void
stache_plugin_loader_class_init (StachePluginLoaderClass *klass)
{
  GObjectClass *object_class = G_OBJECT_CLASS (klass);

  _stache_i18n_init ();

  object_class->finalize = stache_plugin_loader_finalize;
}

/* A Python plugin starts with `gi.require_version ("Stache", "1.0")`. In a
 * C program installed under a prefix that GI does not search by default
 * (~/.local), that would fail; so when no Stache typelib can be found, the
 * installed one is added to the search path. An existing GI_TYPELIB_PATH
 * (a build tree, a test) keeps precedence. */
static void
ensure_typelib_findable (void)
{
#ifdef HAVE_INTROSPECTION
  static gsize checked = 0;

  if (g_once_init_enter (&checked))
    {
      GList *versions = g_irepository_enumerate_versions (NULL, "Stache");

      if (versions == NULL)
        g_irepository_prepend_search_path (STACHE_TYPELIB_DIR);
      g_list_free_full (versions, g_free);
      g_once_init_leave (&checked, 1);
    }
#endif
}

static void
stache_plugin_loader_init (StachePluginLoader *self)
{
  g_rec_mutex_init (&self->mutex);
  self->candidates = g_ptr_array_new_with_free_func (candidate_free);
  self->infos = g_ptr_array_new_with_free_func (g_object_unref);
  for (guint i = 0; i < STACHE_N_PROVIDER_TYPES; i++)
    self->winners[i] = g_hash_table_new (g_str_hash, g_str_equal);

  /* Make sure the interfaces exist before a module registers types that
   * implement them. */
  for (guint i = 0; i < STACHE_N_PROVIDER_TYPES; i++)
    g_type_ensure (stache_provider_type_get_interface (i));

  ensure_typelib_findable ();
  self->engine = peas_engine_new_with_nonglobal_loaders ();
  peas_engine_enable_loader (self->engine, "python3");
  peas_engine_enable_loader (self->engine, "lua5.1");
  self->search_path = compute_search_path ();
}

/**
 * stache_plugin_loader_new:
 *
 * Creates a loader whose search path is read from the environment now
 * (`STACHE_PLUGIN_PATH`, `XDG_DATA_HOME`, `XDG_DATA_DIRS`). Discovery
 * happens on first use.
 *
 * Most programs use stache_plugin_loader_get_default() instead.
 *
 * Returns: (transfer full): a new loader
 */
StachePluginLoader *
stache_plugin_loader_new (void)
{
  return g_object_new (STACHE_TYPE_PLUGIN_LOADER, NULL);
}

/**
 * stache_plugin_loader_new_for_search_path:
 * @folders: (array zero-terminated=1) (element-type filename): the folders
 *   to search, first first
 *
 * Creates a loader that searches only @folders, ignoring
 * `STACHE_PLUGIN_PATH`, the XDG folders and the built-in plugins. Each
 * folder is searched as the default ones are: `.plugin` files in it and in
 * its direct subfolders.
 *
 * This is for tools that inspect plugins apart from the ones a program
 * would use, such as `stache plugins check`. Python modules still share the
 * one interpreter of the process, so such a loader is best used in a
 * process that loads no other plugins.
 *
 * Returns: (transfer full): a new loader
 */
StachePluginLoader *
stache_plugin_loader_new_for_search_path (const char * const *folders)
{
  StachePluginLoader *self;

  g_return_val_if_fail (folders != NULL, NULL);

  self = g_object_new (STACHE_TYPE_PLUGIN_LOADER, NULL);
  g_ptr_array_set_size (self->search_path, 0);
  for (guint i = 0; folders[i] != NULL; i++)
    add_search_dir (self->search_path, folders[i]);

  return self;
}

/**
 * stache_plugin_loader_get_default:
 *
 * Gets the loader of the process, created on first call. The factories
 * (stache_vector_db_provider_create() and the others) use it.
 *
 * Returns: (transfer none): the default loader
 */
StachePluginLoader *
stache_plugin_loader_get_default (void)
{
  static gsize initialized = 0;
  static StachePluginLoader *default_loader;

  if (g_once_init_enter (&initialized))
    {
      default_loader = stache_plugin_loader_new ();
      g_once_init_leave (&initialized, 1);
    }

  return default_loader;
}

/**
 * stache_plugin_loader_get_search_path:
 * @self: a #StachePluginLoader
 *
 * Gets the folders searched for plugins, first first.
 *
 * Returns: (transfer full) (array zero-terminated=1) (element-type filename):
 *   the folders
 */
char **
stache_plugin_loader_get_search_path (StachePluginLoader *self)
{
  g_autoptr(GStrvBuilder) builder = g_strv_builder_new ();

  g_return_val_if_fail (STACHE_IS_PLUGIN_LOADER (self), NULL);

  for (guint i = 0; i < self->search_path->len; i++)
    g_strv_builder_add (builder, g_ptr_array_index (self->search_path, i));

  return g_strv_builder_end (builder);
}

/**
 * stache_plugin_loader_list_providers:
 * @self: a #StachePluginLoader
 *
 * Lists every provider found, usable or not, in search-path order. Every
 * plugin is loaded first, so each entry's status is final.
 *
 * Returns: (transfer container) (element-type StacheProviderInfo): the providers; the
 *   array holds a reference on each and frees it
 */
GPtrArray *
stache_plugin_loader_list_providers (StachePluginLoader *self)
{
  GPtrArray *result;

  g_return_val_if_fail (STACHE_IS_PLUGIN_LOADER (self), NULL);

  g_rec_mutex_lock (&self->mutex);
  ensure_scanned (self);
  for (guint i = 0; i < self->candidates->len; i++)
    ensure_loaded (self, g_ptr_array_index (self->candidates, i));
  result = g_ptr_array_copy (self->infos, (GCopyFunc) (void (*) (void)) g_object_ref, NULL);
  g_ptr_array_set_free_func (result, g_object_unref);
  g_rec_mutex_unlock (&self->mutex);

  return result;
}

/**
 * stache_plugin_loader_get_available_providers:
 * @self: a #StachePluginLoader
 * @type: a provider type
 *
 * Lists the names of the providers of @type that can be created. Plugins
 * declaring @type are loaded to find out.
 *
 * Returns: (transfer full) (array zero-terminated=1): the names, sorted
 */
char **
stache_plugin_loader_get_available_providers (StachePluginLoader *self,
                                              StacheProviderType  type)
{
  g_autoptr(GPtrArray) names = g_ptr_array_new ();
  GHashTableIter iter;
  gpointer value;

  g_return_val_if_fail (STACHE_IS_PLUGIN_LOADER (self), NULL);
  g_return_val_if_fail ((guint) type < STACHE_N_PROVIDER_TYPES, NULL);

  g_rec_mutex_lock (&self->mutex);
  ensure_scanned (self);

  g_hash_table_iter_init (&iter, self->winners[type]);
  while (g_hash_table_iter_next (&iter, NULL, &value))
    {
      ProvidedEntry *entry = value;

      ensure_loaded (self, candidate_for_entry (self, entry));
      if (stache_provider_info_get_status (entry->info) == STACHE_PROVIDER_STATUS_LOADED)
        g_ptr_array_add (names, g_strdup (entry->name));
    }
  g_rec_mutex_unlock (&self->mutex);

  g_ptr_array_sort (names, compare_names);
  g_ptr_array_add (names, NULL);

  return (char **) g_ptr_array_free (g_steal_pointer (&names), FALSE);
}

static void
set_unknown_provider_error (StachePluginLoader  *self,
                            StacheProviderType   type,
                            const char          *name,
                            GError             **error)
{
  g_auto(GStrv) available = stache_plugin_loader_get_available_providers (self, type);
  g_autofree char *available_text = NULL;
  g_autoptr(GString) failures = g_string_new (NULL);
  g_autofree char *env_name = stache_settings_key_to_env_name (stache_provider_type_get_setting (type));

  if (available[0] != NULL)
    available_text = g_strjoinv (", ", available);
  else
    available_text = g_strdup (_("none"));

  /* Explain plugins that would have provided this name but cannot. */
  g_rec_mutex_lock (&self->mutex);
  for (guint i = 0; i < self->infos->len; i++)
    {
      StacheProviderInfo *info = g_ptr_array_index (self->infos, i);
      const char *reason = stache_provider_info_get_reason (info);
      gboolean same_name = g_strcmp0 (stache_provider_info_get_name (info), name) == 0 &&
                           g_strcmp0 (stache_provider_info_get_type_name (info),
                                      stache_provider_type_to_string (type)) == 0;
      gboolean same_module = stache_provider_info_get_name (info) == NULL &&
                             g_strcmp0 (stache_provider_info_get_module_name (info), name) == 0;

      if (reason != NULL && (same_name || same_module))
        g_string_append_printf (failures, _(" The plugin %s failed: %s."),
                                stache_provider_info_get_plugin_file (info), reason);
    }
  g_rec_mutex_unlock (&self->mutex);

  g_set_error (error, STACHE_ERROR, STACHE_ERROR_UNKNOWN_PROVIDER,
               /* Translators: e.g. No vectordb provider named “milvus” (set by
                * VECTORDB_PROVIDER). Available: sqlite, qdrant. */
               _("No %s provider named “%s” (chosen with %s). Available: %s.%s"),
               stache_provider_type_to_string (type), name, env_name, available_text,
               failures->str);
}

/**
 * stache_plugin_loader_create_provider:
 * @self: a #StachePluginLoader
 * @type: the provider type
 * @name: (nullable): the provider name, or %NULL to read the type's
 *   setting (`vectordb_provider`, …) from @settings
 * @settings: (nullable): settings for the provider, or %NULL for
 *   stache_settings_new()
 * @error: return location for a #GError
 *
 * Creates the provider of @type named @name. An unknown name is
 * %STACHE_ERROR_UNKNOWN_PROVIDER, with a message naming the type, the name,
 * the names available and, when a plugin of that name failed to load, why.
 * A class that leaves a method its interface requires unimplemented is
 * %STACHE_PLUGIN_ERROR_MISSING_METHODS, naming the methods. A provider
 * implementing #GInitable is initialized before it is returned.
 *
 * Returns: (transfer full): the provider, which implements the interface of
 *   @type, or %NULL with @error set
 */
StacheProvider *
stache_plugin_loader_create_provider (StachePluginLoader  *self,
                                      StacheProviderType   type,
                                      const char          *name,
                                      StacheSettings      *settings,
                                      GError             **error)
{
  g_autoptr(StacheSettings) own_settings = NULL;
  g_autofree char *chosen = NULL;
  g_autoptr(GObject) provider = NULL;
  g_autoptr(GError) local_error = NULL;
  g_autoptr(GPtrArray) missing = NULL;
  g_autofree char *module_loader = NULL;
  ProvidedEntry *entry;
  Candidate *candidate;
  GType iface;

  g_return_val_if_fail (STACHE_IS_PLUGIN_LOADER (self), NULL);
  g_return_val_if_fail ((guint) type < STACHE_N_PROVIDER_TYPES, NULL);
  g_return_val_if_fail (settings == NULL || STACHE_IS_SETTINGS (settings), NULL);
  g_return_val_if_fail (error == NULL || *error == NULL, NULL);

  if (settings == NULL)
    settings = own_settings = stache_settings_new ();

  if (!stache_settings_check (settings, error))
    return NULL;

  if (name != NULL)
    chosen = g_strdup (name);
  else
    chosen = stache_settings_get_string (settings, stache_provider_type_get_setting (type), NULL);

  if (chosen == NULL)
    {
      set_unknown_provider_error (self, type, "", error);
      return NULL;
    }
  g_strstrip (chosen);

  iface = stache_provider_type_get_interface (type);

  g_rec_mutex_lock (&self->mutex);
  ensure_scanned (self);
  entry = g_hash_table_lookup (self->winners[type], chosen);
  if (entry != NULL)
    {
      candidate = candidate_for_entry (self, entry);
      ensure_loaded (self, candidate);

      if (stache_provider_info_get_status (entry->info) == STACHE_PROVIDER_STATUS_LOADED)
        {
          StachePluginLogCapture capture = { 0 };

          StacheSettings *outer;

          module_loader = g_strdup (candidate->loader);
          _stache_plugin_log_capture_begin (&capture);
          /* The settings are a construct property, set after the instance
           * init in which a Python class's __init__ runs: handed over
           * beside it too, so that __init__ can read them already */
          outer = _stache_provider_swap_creating_settings (settings);
          provider = (GObject *) peas_engine_create_extension (self->engine, candidate->peas_info,
                                                               iface, "settings", settings, NULL);
          _stache_provider_swap_creating_settings (outer);
          _stache_plugin_log_capture_end (&capture);

          if (provider == NULL)
            {
              g_autofree char *detail = _stache_plugin_log_capture_describe (&capture);

              g_set_error (&local_error, STACHE_ERROR, STACHE_ERROR_FAILED,
                           _("The %s provider “%s” could not be created: %s"),
                           stache_provider_type_to_string (type), chosen,
                           detail != NULL ? detail : _("no reason given"));
            }
          _stache_plugin_log_capture_clear (&capture);
        }
    }
  g_rec_mutex_unlock (&self->mutex);

  if (local_error != NULL)
    {
      g_propagate_error (error, g_steal_pointer (&local_error));
      return NULL;
    }

  if (provider == NULL)
    {
      /* Not declared by any usable plugin, or its plugin failed to load. */
      set_unknown_provider_error (self, type, chosen, error);
      return NULL;
    }

  if (!STACHE_IS_PROVIDER (provider) || !G_TYPE_CHECK_INSTANCE_TYPE (provider, iface))
    {
      g_set_error (error, STACHE_ERROR, STACHE_ERROR_FAILED,
                   _("The %s provider “%s” is a %s, which does not derive from StacheProvider "
                     "and implement %s"),
                   stache_provider_type_to_string (type), chosen, G_OBJECT_TYPE_NAME (provider),
                   g_type_name (iface));
      return NULL;
    }

  /* The class libpeas picked, checked before GInitable runs: whatever a
   * module registered, this is the one that would be used. */
  missing = _stache_provider_type_list_missing_methods (type, G_OBJECT_TYPE (provider));
  if (missing->len > 0)
    {
      g_propagate_error (error, missing_methods_error_new (module_loader, type, chosen,
                                                           G_OBJECT_TYPE (provider), missing));
      return NULL;
    }

  if (G_IS_INITABLE (provider))
    {
      g_autoptr(GError) init_error = NULL;

      if (!g_initable_init (G_INITABLE (provider), NULL, &init_error))
        {
          g_set_error (error, init_error->domain, init_error->code,
                       _("The %s provider “%s” could not start: %s"),
                       stache_provider_type_to_string (type), chosen, init_error->message);
          return NULL;
        }
    }

  return STACHE_PROVIDER (g_steal_pointer (&provider));
}

/**
 * stache_plugin_loader_declare_settings:
 * @self: a #StachePluginLoader
 * @settings: a #StacheSettings
 *
 * Declares in @settings the keys plugins list in their `X-Stache-Settings`
 * key, so stache_settings_list_keys() (and `stache config`) shows them.
 */
void
stache_plugin_loader_declare_settings (StachePluginLoader *self,
                                       StacheSettings     *settings)
{
  g_auto(GStrv) known = NULL;

  g_return_if_fail (STACHE_IS_PLUGIN_LOADER (self));
  g_return_if_fail (STACHE_IS_SETTINGS (settings));

  known = stache_settings_list_keys (settings);

  g_rec_mutex_lock (&self->mutex);
  ensure_scanned (self);
  for (guint i = 0; i < self->candidates->len; i++)
    {
      Candidate *candidate = g_ptr_array_index (self->candidates, i);

      for (guint j = 0; candidate->setting_keys != NULL && candidate->setting_keys[j] != NULL; j++)
        {
          const char *key = g_strstrip (candidate->setting_keys[j]);

          /* Declare without touching a default someone already set. */
          if (stache_settings_is_valid_key (key) &&
              !g_strv_contains ((const char * const *) known, key))
            stache_settings_set_default (settings, key, NULL);
        }
    }
  g_rec_mutex_unlock (&self->mutex);
}

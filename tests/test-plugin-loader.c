/* test-plugin-loader.c: discovery, precedence, failures and factories
 *
 * SPDX-License-Identifier: LGPL-2.1-or-later
 *
 * Each case runs in a subprocess of its own: the default loader, the
 * environment it was created from and Python's module table are all
 * per-process, as they are for a real program.
 */
#include <math.h>
#include <string.h>
#include <stache.h>

#include "stache-test-utils.h"

typedef void (*IsolatedFunc) (const char *tmp);

static void
run_isolated (gconstpointer data)
{
  IsolatedFunc func = (IsolatedFunc) (void (*) (void)) data;

  if (g_test_subprocess ())
    {
      g_autofree char *tmp = test_isolated_environment ();

      /* libpeas explains failures with g_warning(); the loader collects
       * those, but GTest's fatal warnings would abort before it could. */
      g_log_set_always_fatal (G_LOG_FATAL_MASK | G_LOG_LEVEL_CRITICAL);
      func (tmp);
      test_remove_tree (tmp);
      return;
    }

  g_test_trap_subprocess (NULL, 0, G_TEST_SUBPROCESS_INHERIT_STDERR);
  g_test_trap_assert_passed ();
}

#define add_isolated(path, func) \
  g_test_add_data_func (path, (gconstpointer) (void (*) (void)) func, run_isolated)

/* Cases that load Python plugins need the Stache typelib. */
static void
run_isolated_python (gconstpointer data)
{
  if (g_strcmp0 (g_getenv ("STACHE_TEST_HAVE_INTROSPECTION"), "1") != 0)
    {
      g_test_skip ("built with -Dintrospection=false: Python plugins cannot import Stache");
      return;
    }

  run_isolated (data);
}

#define add_isolated_python(path, func) \
  g_test_add_data_func (path, (gconstpointer) (void (*) (void)) func, run_isolated_python)

static char *
make_dir (const char *tmp,
          const char *name)
{
  char *path = g_build_filename (tmp, name, NULL);

  g_assert_cmpint (g_mkdir_with_parents (path, 0700), ==, 0);
  return path;
}

static char *
data_home_plugins (void)
{
  char *path = g_build_filename (g_getenv ("XDG_DATA_HOME"), "stache", "plugins", NULL);

  g_assert_cmpint (g_mkdir_with_parents (path, 0700), ==, 0);
  return path;
}

static GArray *
floats (const float *values,
        guint        n_values)
{
  GArray *array = g_array_sized_new (FALSE, FALSE, sizeof (float), n_values);

  g_array_append_vals (array, values, n_values);
  return array;
}

static StacheChunk *
make_chunk (const char *id,
            const char *document_id,
            const char *text,
            const char *topic)
{
  StacheChunk *chunk = stache_chunk_new (id, text);
  g_autoptr(JsonObject) metadata = json_object_new ();

  stache_chunk_set_document_id (chunk, document_id);
  json_object_set_string_member (metadata, "topic", topic);
  stache_chunk_set_metadata (chunk, metadata);

  return chunk;
}

/* The behaviour every vector database must show, checked through the
 * interface only: insert, search (with namespace and filter), count and
 * delete. */
static void
exercise_vector_db (StacheVectorDbProvider *db)
{
  g_autoptr(GPtrArray) chunks = g_ptr_array_new_with_free_func (g_object_unref);
  const float rows[] = {
    1, 0, 0,
    0, 1, 0,
    0.9f, 0.1f, 0,
  };
  const float query_values[] = { 1, 0, 0 };
  g_autoptr(GArray) vectors = floats (rows, G_N_ELEMENTS (rows));
  g_autoptr(GArray) query = floats (query_values, 3);
  const char *doomed[] = { "c1", NULL };
  g_autoptr(GError) error = NULL;
  g_autoptr(GPtrArray) results = NULL;
  g_autoptr(GPtrArray) filtered = NULL;
  g_autoptr(JsonObject) filter = json_object_new ();
  gboolean ok;

  g_ptr_array_add (chunks, make_chunk ("c1", "doc-a", "cats purr", "pets"));
  g_ptr_array_add (chunks, make_chunk ("c2", "doc-b", "stars burn", "space"));
  g_ptr_array_add (chunks, make_chunk ("c3", "doc-a", "kittens nap", "pets"));

  ok = stache_vector_db_provider_insert (db, "notes", chunks, vectors, NULL, &error);
  g_assert_no_error (error);
  g_assert_true (ok);
  g_assert_cmpint (stache_vector_db_provider_count (db, "notes", NULL, &error), ==, 3);
  g_assert_cmpint (stache_vector_db_provider_count (db, "other", NULL, &error), ==, 0);
  g_assert_no_error (error);

  results = stache_vector_db_provider_search (db, "notes", query, 2, NULL, NULL, &error);
  g_assert_no_error (error);
  g_assert_cmpuint (results->len, ==, 2);
  g_assert_cmpstr (stache_search_result_get_id (g_ptr_array_index (results, 0)), ==, "c1");
  g_assert_cmpstr (stache_search_result_get_id (g_ptr_array_index (results, 1)), ==, "c3");
  g_assert_cmpfloat_with_epsilon (stache_search_result_get_score (g_ptr_array_index (results, 0)), 1.0, 1e-6);
  g_assert_cmpstr (stache_search_result_get_document_id (g_ptr_array_index (results, 0)), ==, "doc-a");
  g_assert_cmpstr (stache_search_result_get_text (g_ptr_array_index (results, 1)), ==, "kittens nap");

  json_object_set_string_member (filter, "topic", "space");
  filtered = stache_vector_db_provider_search (db, "notes", query, 10, filter, NULL, &error);
  g_assert_no_error (error);
  g_assert_cmpuint (filtered->len, ==, 1);
  g_assert_cmpstr (stache_search_result_get_id (g_ptr_array_index (filtered, 0)), ==, "c2");

  g_assert_cmpint (stache_vector_db_provider_delete_chunks (db, "notes", doomed, NULL, NULL, &error), ==, 1);
  g_assert_no_error (error);
  g_assert_cmpint (stache_vector_db_provider_count (db, "notes", NULL, &error), ==, 2);

  g_assert_cmpint (stache_vector_db_provider_delete_chunks (db, "notes", NULL, filter, NULL, &error), ==, 1);
  g_assert_no_error (error);
  g_assert_cmpint (stache_vector_db_provider_count (db, NULL, NULL, &error), ==, 1);
  g_assert_no_error (error);
}

static StacheProviderInfo *
find_info (GPtrArray  *infos,
           const char *plugin_dir_name)
{
  for (guint i = 0; i < infos->len; i++)
    {
      StacheProviderInfo *info = g_ptr_array_index (infos, i);
      g_autofree char *base = g_path_get_basename (stache_provider_info_get_folder (info));

      if (g_str_equal (base, plugin_dir_name))
        return info;
    }

  g_error ("no provider info for plugin folder %s", plugin_dir_name);
}

/* ---- discovery and use ---- */

static void
test_c_plugin_from_plugin_path (const char *tmp)
{
  g_autofree char *dir = make_dir (tmp, "path-a");
  g_autofree char *fixture = test_install_fixture (dir, "memory-c");
  g_autoptr(StacheVectorDbProvider) db = NULL;
  g_autoptr(GError) error = NULL;

  g_setenv ("STACHE_PLUGIN_PATH", dir, TRUE);
  g_setenv ("VECTORDB_PROVIDER", "memory-c", TRUE);

  db = stache_vector_db_provider_create (NULL, &error);
  g_assert_no_error (error);
  g_assert_cmpstr (G_OBJECT_TYPE_NAME (db), ==, "MemoryVectorDb");
  g_assert_true (stache_vector_db_provider_has_capability (db, "metadata_filter"));
  exercise_vector_db (db);
}

static void
test_c_plugin_from_data_home (const char *tmp)
{
  g_autofree char *dir = data_home_plugins ();
  g_autofree char *fixture = test_install_fixture (dir, "memory-c");
  g_autoptr(StacheVectorDbProvider) db = NULL;
  g_autoptr(GError) error = NULL;

  g_setenv ("VECTORDB_PROVIDER", "memory-c", TRUE);

  db = stache_vector_db_provider_create (NULL, &error);
  g_assert_no_error (error);
  g_assert_cmpstr (G_OBJECT_TYPE_NAME (db), ==, "MemoryVectorDb");
  exercise_vector_db (db);
}

/* A loader given its own folders searches those only: not
 * STACHE_PLUGIN_PATH, not the XDG folders, not the built-ins. */
static void
test_loader_for_search_path_sees_only_its_folders (const char *tmp)
{
  g_autofree char *env_dir = make_dir (tmp, "from-env");
  g_autofree char *home_dir = data_home_plugins ();
  g_autofree char *own_dir = make_dir (tmp, "own");
  g_autofree char *env_fixture = test_install_fixture (env_dir, "missing-module");
  g_autofree char *home_fixture = test_install_fixture (home_dir, "bad-file");
  g_autofree char *own_fixture = test_install_fixture (own_dir, "memory-c");
  g_autofree char *missing = g_build_filename (tmp, "not-there", NULL);
  const char *folders[] = { own_fixture, missing, NULL };
  g_autoptr(StachePluginLoader) loader = NULL;
  g_auto(GStrv) search_path = NULL;
  g_autoptr(GPtrArray) infos = NULL;
  g_autoptr(StacheProvider) provider = NULL;
  g_autoptr(GError) error = NULL;
  g_autofree char *canonical_own = g_canonicalize_filename (own_fixture, NULL);
  g_autofree char *canonical_missing = g_canonicalize_filename (missing, NULL);
  StacheProviderInfo *info;

  g_setenv ("STACHE_PLUGIN_PATH", env_dir, TRUE);

  loader = stache_plugin_loader_new_for_search_path (folders);
  search_path = stache_plugin_loader_get_search_path (loader);
  g_assert_cmpuint (g_strv_length (search_path), ==, 2);
  g_assert_cmpstr (search_path[0], ==, canonical_own);
  g_assert_cmpstr (search_path[1], ==, canonical_missing);

  infos = stache_plugin_loader_list_providers (loader);
  g_assert_cmpuint (infos->len, ==, 1);
  info = g_ptr_array_index (infos, 0);
  g_assert_cmpstr (stache_provider_info_get_folder (info), ==, canonical_own);
  g_assert_cmpstr (stache_provider_info_get_name (info), ==, "memory-c");
  g_assert_cmpint (stache_provider_info_get_status (info), ==, STACHE_PROVIDER_STATUS_LOADED);

  provider = stache_plugin_loader_create_provider (loader, STACHE_PROVIDER_TYPE_VECTORDB,
                                                   "memory-c", NULL, &error);
  g_assert_no_error (error);
  exercise_vector_db (STACHE_VECTOR_DB_PROVIDER (provider));
}

/* A failure seen through a private loader carries the same error as
 * through the default one: what `stache plugins check` reports. */
static void
test_loader_for_search_path_reports_failures (const char *tmp)
{
  g_autofree char *own_dir = make_dir (tmp, "own");
  g_autofree char *fixture = test_install_fixture (own_dir, "missing-module");
  const char *folders[] = { fixture, NULL };
  g_autoptr(StachePluginLoader) loader = stache_plugin_loader_new_for_search_path (folders);
  g_autoptr(GPtrArray) infos = stache_plugin_loader_list_providers (loader);
  StacheProviderInfo *info;

  g_assert_cmpuint (infos->len, ==, 1);
  info = g_ptr_array_index (infos, 0);
  g_assert_cmpint (stache_provider_info_get_status (info), ==, STACHE_PROVIDER_STATUS_FAILED);
  g_assert_error ((GError *) stache_provider_info_get_error (info),
                  STACHE_PLUGIN_ERROR, STACHE_PLUGIN_ERROR_MISSING_MODULE);
  g_assert_nonnull (strstr (stache_provider_info_get_reason (info), "libstachemissing.so"));
}

static void
test_python_plugin_from_plugin_path (const char *tmp)
{
  g_autofree char *dir = make_dir (tmp, "path-a");
  g_autofree char *fixture = test_install_fixture (dir, "memory-py");
  g_autoptr(StacheVectorDbProvider) db = NULL;
  g_autoptr(GError) error = NULL;

  g_setenv ("STACHE_PLUGIN_PATH", dir, TRUE);
  g_setenv ("VECTORDB_PROVIDER", "memory-py", TRUE);

  db = stache_vector_db_provider_create (NULL, &error);
  g_assert_no_error (error);
  g_assert_cmpstr (G_OBJECT_TYPE_NAME (db), ==, "MemoryPyVectorDb");
  g_assert_true (stache_vector_db_provider_has_capability (db, "namespaces"));
  exercise_vector_db (db);
}

static void
test_python_plugin_from_data_home (const char *tmp)
{
  g_autofree char *dir = data_home_plugins ();
  g_autofree char *fixture = test_install_fixture (dir, "memory-py");
  g_autoptr(StacheVectorDbProvider) db = NULL;
  g_autoptr(GError) error = NULL;

  g_setenv ("VECTORDB_PROVIDER", "memory-py", TRUE);

  db = stache_vector_db_provider_create (NULL, &error);
  g_assert_no_error (error);
  g_assert_cmpstr (G_OBJECT_TYPE_NAME (db), ==, "MemoryPyVectorDb");
  exercise_vector_db (db);
}

static void
test_settings_select_provider (const char *tmp)
{
  g_autofree char *dir = make_dir (tmp, "path-a");
  g_autofree char *c = test_install_fixture (dir, "memory-c");
  g_autofree char *py = test_install_fixture (dir, "memory-py");
  g_autoptr(StacheSettings) settings = stache_settings_new_from_file (NULL, NULL);
  g_autoptr(StacheVectorDbProvider) from_env = NULL;
  g_autoptr(StacheVectorDbProvider) explicit = NULL;
  g_autoptr(GError) error = NULL;

  g_setenv ("STACHE_PLUGIN_PATH", dir, TRUE);
  g_setenv ("VECTORDB_PROVIDER", "memory-c", TRUE);

  from_env = stache_vector_db_provider_create (settings, &error);
  g_assert_no_error (error);
  g_assert_cmpstr (G_OBJECT_TYPE_NAME (from_env), ==, "MemoryVectorDb");
  /* The provider carries the settings it was made with. */
  g_assert_true (stache_provider_get_settings (STACHE_PROVIDER (from_env)) == settings);

  stache_settings_set_string (settings, "vectordb_provider", "memory-py");
  explicit = stache_vector_db_provider_create (settings, &error);
  g_assert_no_error (error);
  g_assert_cmpstr (G_OBJECT_TYPE_NAME (explicit), ==, "MemoryPyVectorDb");
}

static void
test_available_providers (const char *tmp)
{
  g_autofree char *dir = make_dir (tmp, "path-a");
  g_autofree char *c = test_install_fixture (dir, "memory-c");
  g_autofree char *py = test_install_fixture (dir, "memory-py");
  g_autofree char *broken = test_install_fixture (dir, "no-type");
  g_auto(GStrv) names = NULL;
  g_auto(GStrv) rerankers = NULL;

  g_setenv ("STACHE_PLUGIN_PATH", dir, TRUE);

  names = stache_vector_db_provider_get_available_providers ();
  g_assert_cmpuint (g_strv_length (names), ==, 2);
  g_assert_cmpstr (names[0], ==, "memory-c");
  g_assert_cmpstr (names[1], ==, "memory-py");

  rerankers = stache_reranker_provider_get_available_providers ();
  g_assert_cmpuint (g_strv_length (rerankers), ==, 0);
}

/* ---- precedence and name clashes ---- */

static void
test_first_plugin_path_folder_wins (const char *tmp)
{
  g_autofree char *a = make_dir (tmp, "path-a");
  g_autofree char *b = make_dir (tmp, "path-b");
  g_autofree char *c = test_install_fixture (a, "memory-c");
  g_autofree char *clash = test_install_fixture (b, "clash-py");
  g_autofree char *path = g_strjoin (":", a, b, NULL);
  g_autoptr(StacheVectorDbProvider) db = NULL;
  g_autoptr(GPtrArray) infos = NULL;
  g_autoptr(GError) error = NULL;
  StacheProviderInfo *loser;

  g_setenv ("STACHE_PLUGIN_PATH", path, TRUE);
  g_setenv ("VECTORDB_PROVIDER", "memory-c", TRUE);

  db = stache_vector_db_provider_create (NULL, &error);
  g_assert_no_error (error);
  g_assert_cmpstr (G_OBJECT_TYPE_NAME (db), ==, "MemoryVectorDb");

  infos = stache_plugin_loader_list_providers (stache_plugin_loader_get_default ());
  g_assert_cmpuint (infos->len, ==, 2);
  g_assert_cmpint (stache_provider_info_get_status (find_info (infos, "memory-c")), ==,
                   STACHE_PROVIDER_STATUS_LOADED);
  loser = find_info (infos, "clash-py");
  g_assert_cmpint (stache_provider_info_get_status (loser), ==, STACHE_PROVIDER_STATUS_SHADOWED);
  g_assert_error ((GError *) stache_provider_info_get_error (loser), STACHE_PLUGIN_ERROR,
                  STACHE_PLUGIN_ERROR_SHADOWED);
  g_assert_nonnull (strstr (stache_provider_info_get_reason (loser), "memory-c.plugin"));
}

static void
test_later_plugin_path_folder_loses (const char *tmp)
{
  g_autofree char *a = make_dir (tmp, "path-a");
  g_autofree char *b = make_dir (tmp, "path-b");
  g_autofree char *clash = test_install_fixture (a, "clash-py");
  g_autofree char *c = test_install_fixture (b, "memory-c");
  g_autofree char *path = g_strjoin (":", a, b, NULL);
  g_autoptr(StacheVectorDbProvider) db = NULL;
  g_autoptr(GError) error = NULL;

  g_setenv ("STACHE_PLUGIN_PATH", path, TRUE);
  g_setenv ("VECTORDB_PROVIDER", "memory-c", TRUE);

  db = stache_vector_db_provider_create (NULL, &error);
  g_assert_no_error (error);
  g_assert_cmpstr (G_OBJECT_TYPE_NAME (db), ==, "ClashPyVectorDb");
}

static void
test_plugin_path_before_data_home (const char *tmp)
{
  g_autofree char *a = make_dir (tmp, "path-a");
  g_autofree char *home = data_home_plugins ();
  g_autofree char *clash = test_install_fixture (a, "clash-py");
  g_autofree char *c = test_install_fixture (home, "memory-c");
  g_autoptr(StacheVectorDbProvider) db = NULL;
  g_autoptr(GError) error = NULL;

  g_setenv ("STACHE_PLUGIN_PATH", a, TRUE);
  g_setenv ("VECTORDB_PROVIDER", "memory-c", TRUE);

  db = stache_vector_db_provider_create (NULL, &error);
  g_assert_no_error (error);
  g_assert_cmpstr (G_OBJECT_TYPE_NAME (db), ==, "ClashPyVectorDb");
}

static void
test_data_home_before_data_dirs (const char *tmp)
{
  g_autofree char *home = data_home_plugins ();
  g_autofree char *system = g_build_filename (g_getenv ("XDG_DATA_DIRS"), "stache", "plugins", NULL);
  g_autofree char *clash = test_install_fixture (home, "clash-py");
  g_autofree char *c = NULL;
  g_auto(GStrv) search_path = NULL;
  g_autoptr(StacheVectorDbProvider) db = NULL;
  g_autoptr(GError) error = NULL;

  g_assert_cmpint (g_mkdir_with_parents (system, 0700), ==, 0);
  c = test_install_fixture (system, "memory-c");
  g_setenv ("VECTORDB_PROVIDER", "memory-c", TRUE);

  search_path = stache_plugin_loader_get_search_path (stache_plugin_loader_get_default ());
  g_assert_cmpuint (g_strv_length (search_path), ==, 3);
  g_assert_cmpstr (search_path[0], ==, home);
  g_assert_cmpstr (search_path[1], ==, system);
  /* The built-in plugins come last. */
  g_assert_cmpstr (search_path[2], ==, g_getenv ("STACHE_TEST_BUILTIN_PLUGINS_DIR"));

  db = stache_vector_db_provider_create (NULL, &error);
  g_assert_no_error (error);
  g_assert_cmpstr (G_OBJECT_TYPE_NAME (db), ==, "ClashPyVectorDb");
}

static void
test_module_name_clash_is_reported (const char *tmp)
{
  g_autofree char *a = make_dir (tmp, "path-a");
  g_autofree char *b = make_dir (tmp, "path-b");
  g_autofree char *first = test_install_fixture (a, "memory-c");
  g_autofree char *second = test_install_fixture (b, "memory-c");
  g_autofree char *path = g_strjoin (":", a, b, NULL);
  g_autoptr(GPtrArray) infos = NULL;
  StacheProviderInfo *later;

  g_setenv ("STACHE_PLUGIN_PATH", path, TRUE);

  infos = stache_plugin_loader_list_providers (stache_plugin_loader_get_default ());
  g_assert_cmpuint (infos->len, ==, 2);
  g_assert_cmpint (stache_provider_info_get_status (g_ptr_array_index (infos, 0)), ==,
                   STACHE_PROVIDER_STATUS_LOADED);
  later = g_ptr_array_index (infos, 1);
  g_assert_cmpint (stache_provider_info_get_status (later), ==, STACHE_PROVIDER_STATUS_SHADOWED);
  g_assert_cmpstr (stache_provider_info_get_folder (later), ==, second);
  g_assert_nonnull (strstr (stache_provider_info_get_reason (later), "Module name “memoryc”"));
}

/* ---- failures are kept with their reason ---- */

static void
test_broken_plugins_are_reported (const char *tmp)
{
  g_autofree char *dir = make_dir (tmp, "path-a");
  const char *fixtures[] = { "memory-c", "bad-file", "missing-module", "import-error",
                             "syntax-error", "no-type" };
  g_autoptr(GPtrArray) infos = NULL;
  g_autoptr(StacheVectorDbProvider) db = NULL;
  g_autoptr(GError) error = NULL;
  StacheProviderInfo *info;

  for (guint i = 0; i < G_N_ELEMENTS (fixtures); i++)
    g_free (test_install_fixture (dir, fixtures[i]));
  g_setenv ("STACHE_PLUGIN_PATH", dir, TRUE);

  infos = stache_plugin_loader_list_providers (stache_plugin_loader_get_default ());
  g_assert_cmpuint (infos->len, ==, G_N_ELEMENTS (fixtures));

  info = find_info (infos, "memory-c");
  g_assert_cmpint (stache_provider_info_get_status (info), ==, STACHE_PROVIDER_STATUS_LOADED);
  g_assert_null (stache_provider_info_get_error (info));

  info = find_info (infos, "bad-file");
  g_assert_cmpint (stache_provider_info_get_status (info), ==, STACHE_PROVIDER_STATUS_FAILED);
  g_assert_error ((GError *) stache_provider_info_get_error (info), STACHE_PLUGIN_ERROR,
                  STACHE_PLUGIN_ERROR_BAD_PLUGIN_FILE);
  g_assert_null (stache_provider_info_get_type_name (info));

  info = find_info (infos, "missing-module");
  g_assert_cmpint (stache_provider_info_get_status (info), ==, STACHE_PROVIDER_STATUS_FAILED);
  g_assert_error ((GError *) stache_provider_info_get_error (info), STACHE_PLUGIN_ERROR,
                  STACHE_PLUGIN_ERROR_MISSING_MODULE);
  g_assert_nonnull (strstr (stache_provider_info_get_reason (info), "libstachemissing.so"));
  g_assert_cmpstr (stache_provider_info_get_type_name (info), ==, "vectordb");

  info = find_info (infos, "import-error");
  g_assert_cmpint (stache_provider_info_get_status (info), ==, STACHE_PROVIDER_STATUS_FAILED);
  g_assert_error ((GError *) stache_provider_info_get_error (info), STACHE_PLUGIN_ERROR,
                  STACHE_PLUGIN_ERROR_LOAD_FAILED);
  g_assert_nonnull (strstr (stache_provider_info_get_reason (info),
                            "ModuleNotFoundError: No module named 'stache_test_no_such_dependency'"));

  info = find_info (infos, "syntax-error");
  g_assert_cmpint (stache_provider_info_get_status (info), ==, STACHE_PROVIDER_STATUS_FAILED);
  g_assert_error ((GError *) stache_provider_info_get_error (info), STACHE_PLUGIN_ERROR,
                  STACHE_PLUGIN_ERROR_LOAD_FAILED);
  g_assert_nonnull (strstr (stache_provider_info_get_reason (info), "SyntaxError"));
  g_assert_nonnull (strstr (stache_provider_info_get_reason (info), "syntax_error.py\", line 2"));

  info = find_info (infos, "no-type");
  g_assert_cmpint (stache_provider_info_get_status (info), ==, STACHE_PROVIDER_STATUS_FAILED);
  g_assert_error ((GError *) stache_provider_info_get_error (info), STACHE_PLUGIN_ERROR,
                  STACHE_PLUGIN_ERROR_NO_MATCHING_TYPE);
  g_assert_nonnull (strstr (stache_provider_info_get_reason (info), "StacheVectorDbProvider"));

  /* The good plugin still works beside the broken ones. */
  g_setenv ("VECTORDB_PROVIDER", "memory-c", TRUE);
  db = stache_vector_db_provider_create (NULL, &error);
  g_assert_no_error (error);
  exercise_vector_db (db);
}

static void
test_missing_loader_is_reported (const char *tmp)
{
  g_autofree char *dir = make_dir (tmp, "path-a");
  g_autofree char *no_loaders = make_dir (tmp, "no-loaders");
  g_autofree char *lua = test_install_fixture (dir, "lua-reranker");
  g_autoptr(GPtrArray) infos = NULL;
  StacheProviderInfo *info;

  /* An empty loader folder makes the lua5.1 loader missing everywhere,
   * whether or not this machine has one. */
  g_setenv ("PEAS_PLUGIN_LOADERS_DIR", no_loaders, TRUE);
  g_setenv ("STACHE_PLUGIN_PATH", dir, TRUE);

  infos = stache_plugin_loader_list_providers (stache_plugin_loader_get_default ());
  g_assert_cmpuint (infos->len, ==, 1);
  info = g_ptr_array_index (infos, 0);
  g_assert_cmpstr (stache_provider_info_get_loader (info), ==, "lua5.1");
  g_assert_cmpint (stache_provider_info_get_status (info), ==, STACHE_PROVIDER_STATUS_FAILED);
  g_assert_error ((GError *) stache_provider_info_get_error (info), STACHE_PLUGIN_ERROR,
                  STACHE_PLUGIN_ERROR_LOADER_UNAVAILABLE);
  g_assert_nonnull (strstr (stache_provider_info_get_reason (info), "lua5.1"));

  /* It names the file libpeas looked for: with PEAS_PLUGIN_LOADERS_DIR
   * set, <that folder>/lua5.1/liblua51loader.so. */
  {
    g_autofree char *probed = g_build_filename (no_loaders, "lua5.1", "liblua51loader.so", NULL);

    g_assert_nonnull (strstr (stache_provider_info_get_reason (info), probed));
  }
}

/* ---- factories ---- */

static void
test_unknown_provider_lists_available (const char *tmp)
{
  g_autofree char *dir = make_dir (tmp, "path-a");
  g_autofree char *c = test_install_fixture (dir, "memory-c");
  g_autofree char *py = test_install_fixture (dir, "memory-py");
  g_autoptr(StacheVectorDbProvider) db = NULL;
  g_autoptr(GError) error = NULL;

  g_setenv ("STACHE_PLUGIN_PATH", dir, TRUE);
  g_setenv ("VECTORDB_PROVIDER", "milvus", TRUE);

  db = stache_vector_db_provider_create (NULL, &error);
  g_assert_null (db);
  g_assert_error (error, STACHE_ERROR, STACHE_ERROR_UNKNOWN_PROVIDER);
  g_assert_nonnull (strstr (error->message, "vectordb"));
  g_assert_nonnull (strstr (error->message, "“milvus”"));
  g_assert_nonnull (strstr (error->message, "VECTORDB_PROVIDER"));
  g_assert_nonnull (strstr (error->message, "memory-c, memory-py"));
}

static void
test_unknown_provider_explains_failed_plugin (const char *tmp)
{
  g_autofree char *dir = make_dir (tmp, "path-a");
  g_autofree char *c = test_install_fixture (dir, "memory-c");
  g_autofree char *broken = test_install_fixture (dir, "no-type");
  g_autoptr(StacheVectorDbProvider) db = NULL;
  g_autoptr(GError) error = NULL;

  g_setenv ("STACHE_PLUGIN_PATH", dir, TRUE);
  g_setenv ("VECTORDB_PROVIDER", "no-type", TRUE);

  db = stache_vector_db_provider_create (NULL, &error);
  g_assert_null (db);
  g_assert_error (error, STACHE_ERROR, STACHE_ERROR_UNKNOWN_PROVIDER);
  g_assert_nonnull (strstr (error->message, "Available: memory-c."));
  g_assert_nonnull (strstr (error->message, "registers no type implementing StacheVectorDbProvider"));
}

static void
test_malformed_config_file_stops_factory (const char *tmp)
{
  g_autofree char *dir = g_build_filename (g_getenv ("XDG_CONFIG_HOME"), "stache", NULL);
  g_autofree char *file = g_build_filename (dir, "stache.conf", NULL);
  g_autoptr(StacheVectorDbProvider) db = NULL;
  g_autoptr(GError) error = NULL;

  g_assert_cmpint (g_mkdir_with_parents (dir, 0700), ==, 0);
  g_assert_true (g_file_set_contents (file, "[stache\nbroken", -1, NULL));

  db = stache_vector_db_provider_create (NULL, &error);
  g_assert_null (db);
  g_assert_error (error, STACHE_ERROR, STACHE_ERROR_CONFIG_FILE);
  g_assert_nonnull (strstr (error->message, file));
}

typedef struct
{
  GMainLoop *loop;
  GAsyncResult *result;
} AsyncWait;

static void
store_result (GObject      *source,
              GAsyncResult *result,
              gpointer      user_data)
{
  AsyncWait *wait = user_data;

  wait->result = g_object_ref (result);
  g_main_loop_quit (wait->loop);
}

static GAsyncResult *
wait_for (AsyncWait *wait)
{
  g_main_loop_run (wait->loop);
  return wait->result;
}

static void
test_default_async_runs_sync_method_in_thread (const char *tmp)
{
  g_autofree char *dir = make_dir (tmp, "path-a");
  g_autofree char *py = test_install_fixture (dir, "memory-py");
  g_autoptr(StacheVectorDbProvider) db = NULL;
  g_autoptr(GPtrArray) chunks = g_ptr_array_new_with_free_func (g_object_unref);
  g_autoptr(GPtrArray) results = NULL;
  g_autoptr(GError) error = NULL;
  g_autoptr(GMainLoop) loop = g_main_loop_new (NULL, FALSE);
  g_autoptr(GCancellable) cancelled = g_cancellable_new ();
  const float rows[] = { 0, 1, 1, 0 };
  const float query_values[] = { 1, 0 };
  g_autoptr(GArray) vectors = floats (rows, 4);
  g_autoptr(GArray) query = floats (query_values, 2);
  g_autoptr(GArray) short_vectors = floats (rows, 3);
  AsyncWait wait = { loop, NULL };

  g_setenv ("STACHE_PLUGIN_PATH", dir, TRUE);
  g_setenv ("VECTORDB_PROVIDER", "memory-py", TRUE);
  db = stache_vector_db_provider_create (NULL, &error);
  g_assert_no_error (error);

  g_ptr_array_add (chunks, make_chunk ("up", "d", "up", "x"));
  g_ptr_array_add (chunks, make_chunk ("right", "d", "right", "x"));

  stache_vector_db_provider_insert_async (db, NULL, chunks, vectors, NULL, store_result, &wait);
  g_assert_true (stache_vector_db_provider_insert_finish (db, wait_for (&wait), &error));
  g_assert_no_error (error);
  g_clear_object (&wait.result);

  stache_vector_db_provider_search_async (db, NULL, query, 1, NULL, NULL, store_result, &wait);
  results = stache_vector_db_provider_search_finish (db, wait_for (&wait), &error);
  g_assert_no_error (error);
  g_assert_cmpuint (results->len, ==, 1);
  g_assert_cmpstr (stache_search_result_get_id (g_ptr_array_index (results, 0)), ==, "right");
  g_clear_object (&wait.result);

  stache_vector_db_provider_count_async (db, "default", NULL, store_result, &wait);
  g_assert_cmpint (stache_vector_db_provider_count_finish (db, wait_for (&wait), &error), ==, 2);
  g_assert_no_error (error);
  g_clear_object (&wait.result);

  /* A cancelled call reports cancellation rather than running. */
  g_cancellable_cancel (cancelled);
  stache_vector_db_provider_count_async (db, NULL, cancelled, store_result, &wait);
  g_assert_cmpint (stache_vector_db_provider_count_finish (db, wait_for (&wait), &error), ==, -1);
  g_assert_error (error, G_IO_ERROR, G_IO_ERROR_CANCELLED);
  g_clear_error (&error);
  g_clear_object (&wait.result);

  /* Bad arguments are refused before any thread starts. */
  stache_vector_db_provider_insert_async (db, NULL, chunks, short_vectors, NULL, store_result, &wait);
  g_assert_false (stache_vector_db_provider_insert_finish (db, wait_for (&wait), &error));
  g_assert_error (error, STACHE_ERROR, STACHE_ERROR_INVALID_ARGUMENT);
  g_clear_object (&wait.result);
}

static void
test_invalid_arguments_are_refused (const char *tmp)
{
  g_autofree char *dir = make_dir (tmp, "path-a");
  g_autofree char *c = test_install_fixture (dir, "memory-c");
  g_autoptr(StacheVectorDbProvider) db = NULL;
  g_autoptr(GPtrArray) chunks = g_ptr_array_new_with_free_func (g_object_unref);
  g_autoptr(JsonObject) bad_filter = json_object_new ();
  g_autoptr(GError) error = NULL;
  const float rows[] = { 1, NAN };
  const float query_values[] = { 1, 0 };
  g_autoptr(GArray) vectors = floats (rows, 2);
  g_autoptr(GArray) query = floats (query_values, 2);

  g_setenv ("STACHE_PLUGIN_PATH", dir, TRUE);
  g_setenv ("VECTORDB_PROVIDER", "memory-c", TRUE);
  db = stache_vector_db_provider_create (NULL, &error);
  g_assert_no_error (error);

  g_ptr_array_add (chunks, make_chunk ("nan", "d", "t", "x"));
  g_assert_false (stache_vector_db_provider_insert (db, NULL, chunks, vectors, NULL, &error));
  g_assert_error (error, STACHE_ERROR, STACHE_ERROR_INVALID_ARGUMENT);
  g_assert_nonnull (strstr (error->message, "“nan”"));
  g_clear_error (&error);
  g_assert_cmpint (stache_vector_db_provider_count (db, NULL, NULL, &error), ==, 0);

  json_object_set_string_member (bad_filter, "$regex", ".*");
  g_assert_null (stache_vector_db_provider_search (db, NULL, query, 5, bad_filter, NULL, &error));
  g_assert_error (error, STACHE_ERROR, STACHE_ERROR_INVALID_ARGUMENT);
  g_assert_nonnull (strstr (error->message, "$regex"));
  g_clear_error (&error);

  g_assert_cmpint (stache_vector_db_provider_delete_chunks (db, NULL, NULL, NULL, NULL, &error), ==, -1);
  g_assert_error (error, STACHE_ERROR, STACHE_ERROR_INVALID_ARGUMENT);
}

int
main (int    argc,
      char **argv)
{
  g_test_init (&argc, &argv, NULL);

  add_isolated ("/plugins/c/discovered-from-plugin-path", test_c_plugin_from_plugin_path);
  add_isolated ("/plugins/c/discovered-from-data-home", test_c_plugin_from_data_home);
  add_isolated ("/plugins/search-path/own-folders-only", test_loader_for_search_path_sees_only_its_folders);
  add_isolated ("/plugins/search-path/failures-reported", test_loader_for_search_path_reports_failures);
  add_isolated_python ("/plugins/python/discovered-from-plugin-path", test_python_plugin_from_plugin_path);
  add_isolated_python ("/plugins/python/discovered-from-data-home", test_python_plugin_from_data_home);
  add_isolated_python ("/plugins/settings-select-provider", test_settings_select_provider);
  add_isolated_python ("/plugins/available-providers", test_available_providers);
  add_isolated_python ("/plugins/precedence/first-plugin-path-folder-wins", test_first_plugin_path_folder_wins);
  add_isolated_python ("/plugins/precedence/later-plugin-path-folder-loses", test_later_plugin_path_folder_loses);
  add_isolated_python ("/plugins/precedence/plugin-path-before-data-home", test_plugin_path_before_data_home);
  add_isolated_python ("/plugins/precedence/data-home-before-data-dirs", test_data_home_before_data_dirs);
  add_isolated ("/plugins/precedence/module-name-clash", test_module_name_clash_is_reported);
  add_isolated_python ("/plugins/failures/broken-plugins-reported", test_broken_plugins_are_reported);
  add_isolated ("/plugins/failures/missing-loader", test_missing_loader_is_reported);
  add_isolated_python ("/factory/unknown-provider-lists-available", test_unknown_provider_lists_available);
  add_isolated ("/factory/unknown-provider-explains-failure", test_unknown_provider_explains_failed_plugin);
  add_isolated ("/factory/malformed-config-file", test_malformed_config_file_stops_factory);
  add_isolated_python ("/vectordb/default-async-in-thread", test_default_async_runs_sync_method_in_thread);
  add_isolated ("/vectordb/invalid-arguments", test_invalid_arguments_are_refused);

  return g_test_run ();
}

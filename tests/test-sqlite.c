/* test-sqlite.c: the embedded SQLite store (plugin `sqlite`)
 *
 * SPDX-License-Identifier: LGPL-2.1-or-later
 *
 * The providers live in the plugin, so they are created through one
 * plugin loader pointed at the built plugins (STACHE_TEST_BUILTIN_PLUGINS).
 * Every test works in a fresh temporary folder.
 *
 * Build note: this test reads the database file with SQLite itself (WAL
 * mode, foreign files), so in tests/meson.build it needs
 * dependency('sqlite3') besides libstache_dep.
 */
#include <math.h>
#include <string.h>

#include <glib/gstdio.h>
#include <sqlite3.h>
#include <stache.h>

static StachePluginLoader *loader;

typedef struct
{
  char           *dir;
  char           *db_path;
  StacheSettings *settings;
} Fixture;

static void
remove_tree (const char *path)
{
  g_autoptr(GDir) dir = g_dir_open (path, 0, NULL);
  const char *entry;

  if (dir != NULL)
    {
      while ((entry = g_dir_read_name (dir)) != NULL)
        {
          g_autofree char *child = g_build_filename (path, entry, NULL);

          if (g_file_test (child, G_FILE_TEST_IS_DIR) && !g_file_test (child, G_FILE_TEST_IS_SYMLINK))
            remove_tree (child);
          else
            g_unlink (child);
        }
    }
  g_rmdir (path);
}

static void
fixture_set_up (Fixture       *f,
                gconstpointer  data)
{
  g_autoptr(GError) error = NULL;

  f->dir = g_dir_make_tmp ("stache-sqlite-XXXXXX", &error);
  g_assert_no_error (error);
  /* A folder that does not exist yet: the provider creates it. */
  f->db_path = g_build_filename (f->dir, "store", "stache.db", NULL);
  f->settings = stache_settings_new_from_file (NULL, &error);
  g_assert_no_error (error);
  stache_settings_set_string (f->settings, "sqlite_path", f->db_path);
}

static void
fixture_tear_down (Fixture       *f,
                   gconstpointer  data)
{
  g_clear_object (&f->settings);
  remove_tree (f->dir);
  g_free (f->db_path);
  g_free (f->dir);
}

/* ---- helpers ---- */

static StacheProvider *
create_provider (StacheSettings      *settings,
                 StacheProviderType   type,
                 GError             **error)
{
  return stache_plugin_loader_create_provider (loader, type, "sqlite", settings, error);
}

static StacheVectorDbProvider *
open_vectordb (Fixture *f)
{
  g_autoptr(GError) error = NULL;
  StacheProvider *provider = create_provider (f->settings, STACHE_PROVIDER_TYPE_VECTORDB, &error);

  g_assert_no_error (error);
  g_assert_true (STACHE_IS_VECTOR_DB_PROVIDER (provider));
  return STACHE_VECTOR_DB_PROVIDER (provider);
}

static StacheNamespaceProvider *
open_namespaces (Fixture *f)
{
  g_autoptr(GError) error = NULL;
  StacheProvider *provider = create_provider (f->settings, STACHE_PROVIDER_TYPE_NAMESPACE, &error);

  g_assert_no_error (error);
  g_assert_true (STACHE_IS_NAMESPACE_PROVIDER (provider));
  return STACHE_NAMESPACE_PROVIDER (provider);
}

static StacheDocumentIndexProvider *
open_documents (Fixture *f)
{
  g_autoptr(GError) error = NULL;
  StacheProvider *provider = create_provider (f->settings, STACHE_PROVIDER_TYPE_DOCUMENT_INDEX, &error);

  g_assert_no_error (error);
  g_assert_true (STACHE_IS_DOCUMENT_INDEX_PROVIDER (provider));
  return STACHE_DOCUMENT_INDEX_PROVIDER (provider);
}

static GArray *
floats (guint        n,
        const float *values)
{
  GArray *array = g_array_sized_new (FALSE, FALSE, sizeof (float), n);

  g_array_append_vals (array, values, n);
  return array;
}

static JsonObject *
json_object (const char *text)
{
  g_autoptr(GError) error = NULL;
  g_autoptr(JsonNode) node = json_from_string (text, &error);

  g_assert_no_error (error);
  g_assert_true (JSON_NODE_HOLDS_OBJECT (node));
  return json_node_dup_object (node);
}

static StacheChunk *
chunk_new (const char *id,
           const char *text,
           const char *document_id,
           const char *metadata)
{
  StacheChunk *chunk = stache_chunk_new (id, text);

  stache_chunk_set_document_id (chunk, document_id);
  if (metadata != NULL)
    {
      g_autoptr(JsonObject) object = json_object (metadata);

      stache_chunk_set_metadata (chunk, object);
    }
  return chunk;
}

/* Inserts one chunk with a 3-dimensional vector. */
static void
insert_one (StacheVectorDbProvider *db,
            const char             *namespace_,
            const char             *id,
            const char             *text,
            const char             *document_id,
            const char             *metadata,
            float                   x,
            float                   y,
            float                   z)
{
  g_autoptr(GError) error = NULL;
  g_autoptr(GPtrArray) chunks = g_ptr_array_new_with_free_func (g_object_unref);
  const float values[3] = { x, y, z };
  g_autoptr(GArray) vectors = floats (3, values);

  g_ptr_array_add (chunks, chunk_new (id, text, document_id, metadata));
  g_assert_true (stache_vector_db_provider_insert (db, namespace_, chunks, vectors, NULL, &error));
  g_assert_no_error (error);
}

/* The ids of @results, comma-separated, in their order. */
static char *
ids_of (GPtrArray *results)
{
  g_autoptr(GString) ids = g_string_new (NULL);

  for (guint i = 0; i < results->len; i++)
    g_string_append_printf (ids, "%s%s", i > 0 ? "," : "",
                            stache_search_result_get_id (g_ptr_array_index (results, i)));
  return g_string_free (g_steal_pointer (&ids), FALSE);
}

static int
compare_strings (gconstpointer a,
                 gconstpointer b)
{
  return strcmp (*(const char * const *) a, *(const char * const *) b);
}

/* The ids of @results, comma-separated, sorted. */
static char *
sorted_ids_of (GPtrArray *results)
{
  g_autoptr(GPtrArray) ids = g_ptr_array_new ();

  for (guint i = 0; i < results->len; i++)
    g_ptr_array_add (ids, (gpointer) stache_search_result_get_id (g_ptr_array_index (results, i)));
  g_ptr_array_sort (ids, compare_strings);
  g_ptr_array_add (ids, NULL);
  return g_strjoinv (",", (char **) ids->pdata);
}

static char *
search_ids (StacheVectorDbProvider *db,
            const char             *namespace_,
            const char             *filter_json,
            guint                   top_k,
            gboolean                sorted)
{
  g_autoptr(GError) error = NULL;
  g_autoptr(JsonObject) filter = filter_json != NULL ? json_object (filter_json) : NULL;
  const float q[3] = { 1, 0, 0 };
  g_autoptr(GArray) query = floats (3, q);
  g_autoptr(GPtrArray) results = NULL;

  results = stache_vector_db_provider_search (db, namespace_, query, top_k, filter, NULL, &error);
  g_assert_no_error (error);
  g_assert_nonnull (results);
  return sorted ? sorted_ids_of (results) : ids_of (results);
}

static char *
keyword_ids (StacheVectorDbProvider *db,
             const char             *namespace_,
             const char             *words,
             const char             *filter_json)
{
  g_autoptr(GError) error = NULL;
  g_autoptr(JsonObject) filter = filter_json != NULL ? json_object (filter_json) : NULL;
  g_autoptr(GPtrArray) results = NULL;

  results = stache_vector_db_provider_keyword_search (db, namespace_, words, 10, filter, NULL, &error);
  g_assert_no_error (error);
  g_assert_nonnull (results);
  return ids_of (results);
}

static gint64
count (StacheVectorDbProvider *db,
       const char             *namespace_)
{
  g_autoptr(GError) error = NULL;
  gint64 n = stache_vector_db_provider_count (db, namespace_, NULL, &error);

  g_assert_no_error (error);
  return n;
}

static gint64
delete_chunks (StacheVectorDbProvider *db,
               const char             *namespace_,
               const char * const     *ids,
               const char             *filter_json)
{
  g_autoptr(GError) error = NULL;
  g_autoptr(JsonObject) filter = filter_json != NULL ? json_object (filter_json) : NULL;
  gint64 n = stache_vector_db_provider_delete_chunks (db, namespace_, ids, filter, NULL, &error);

  g_assert_no_error (error);
  return n;
}

/* Six chunks in namespace "f", for the filter and delete tests; c1 is the
 * nearest to the query (1, 0, 0), c6 the farthest. */
static void
insert_filter_corpus (StacheVectorDbProvider *db)
{
  insert_one (db, "f", "c1", "one", "d1", "{\"lang\": \"en\", \"year\": 2020, \"draft\": false}", 1.0f, 0.0f, 0);
  insert_one (db, "f", "c2", "two", "d1", "{\"lang\": \"fr\", \"year\": 2021, \"draft\": true}", 1.0f, 0.1f, 0);
  insert_one (db, "f", "c3", "three", "d2", "{\"lang\": \"de\", \"year\": 2020, \"draft\": true}", 1.0f, 0.2f, 0);
  insert_one (db, "f", "c4", "four", "d2", "{\"lang\": \"en\", \"year\": 2021, \"draft\": false}", 1.0f, 0.3f, 0);
  insert_one (db, "f", "c5", "five", "d3", "{\"lang\": \"fr\", \"year\": 2022}", 1.0f, 0.4f, 0);
  insert_one (db, "f", "c6", "six", NULL, NULL, 1.0f, 0.5f, 0);
}

static char *
file_contents (const char *path,
               gsize      *len)
{
  g_autoptr(GError) error = NULL;
  char *contents = NULL;

  g_file_get_contents (path, &contents, len, &error);
  g_assert_no_error (error);
  return contents;
}

/* ---- vector search ---- */

typedef struct
{
  double score;
  guint  index;
} Expected;

static int
compare_expected (gconstpointer a,
                  gconstpointer b)
{
  const Expected *ea = a, *eb = b;

  if (ea->score != eb->score)
    return ea->score > eb->score ? -1 : 1;
  return ea->index < eb->index ? -1 : ea->index > eb->index;
}

static double
brute_force_cosine (const float *a,
                    const float *b,
                    guint        n)
{
  double dot = 0, na = 0, nb = 0;

  for (guint i = 0; i < n; i++)
    {
      dot += (double) a[i] * b[i];
      na += (double) a[i] * a[i];
      nb += (double) b[i] * b[i];
    }
  return dot / (sqrt (na) * sqrt (nb));
}

static void
test_vectordb_exact_top_k (Fixture       *f,
                           gconstpointer  data)
{
  const guint n = 500, dims = 64;
  g_autoptr(StacheVectorDbProvider) db = open_vectordb (f);
  g_autoptr(GPtrArray) chunks = g_ptr_array_new_with_free_func (g_object_unref);
  g_autoptr(GArray) vectors = g_array_new (FALSE, FALSE, sizeof (float));
  g_autoptr(GRand) rand = g_rand_new_with_seed (20240607);
  g_autoptr(GError) error = NULL;

  for (guint i = 0; i < n; i++)
    {
      g_autofree char *id = g_strdup_printf ("v%03u", i);

      g_ptr_array_add (chunks, stache_chunk_new (id, id));
      for (guint j = 0; j < dims; j++)
        {
          float v = (float) g_rand_double_range (rand, -1, 1);

          g_array_append_val (vectors, v);
        }
    }
  g_assert_true (stache_vector_db_provider_insert (db, "random", chunks, vectors, NULL, &error));
  g_assert_no_error (error);
  g_assert_cmpint (count (db, "random"), ==, n);

  for (guint q = 0; q < 5; q++)
    {
      g_autoptr(GArray) query = g_array_new (FALSE, FALSE, sizeof (float));
      g_autofree Expected *expected = g_new (Expected, n);
      g_autoptr(GPtrArray) results = NULL;
      g_autoptr(GPtrArray) all = NULL;
      guint top_k = q == 0 ? 1 : 10 * q;

      for (guint j = 0; j < dims; j++)
        {
          float v = (float) g_rand_double_range (rand, -1, 1);

          g_array_append_val (query, v);
        }

      for (guint i = 0; i < n; i++)
        {
          expected[i].index = i;
          expected[i].score = brute_force_cosine ((const float *) (gpointer) query->data,
                                                  &g_array_index (vectors, float, i * dims), dims);
        }
      qsort (expected, n, sizeof (Expected), compare_expected);

      results = stache_vector_db_provider_search (db, "random", query, top_k, NULL, NULL, &error);
      g_assert_no_error (error);
      g_assert_cmpuint (results->len, ==, top_k);
      for (guint i = 0; i < top_k; i++)
        {
          StacheSearchResult *result = g_ptr_array_index (results, i);
          g_autofree char *id = g_strdup_printf ("v%03u", expected[i].index);

          g_assert_cmpstr (stache_search_result_get_id (result), ==, id);
          g_assert_cmpstr (stache_search_result_get_text (result), ==, id);
          g_assert_cmpstr (stache_search_result_get_namespace (result), ==, "random");
          /* The scan sums in float32, the reference in double. */
          g_assert_cmpfloat_with_epsilon (stache_search_result_get_score (result), expected[i].score, 1e-5);
        }

      /* Asking for more than there is returns everything, in order. */
      all = stache_vector_db_provider_search (db, NULL, query, 100000, NULL, NULL, &error);
      g_assert_no_error (error);
      g_assert_cmpuint (all->len, ==, n);
      for (guint i = 0; i < n; i++)
        {
          g_autofree char *id = g_strdup_printf ("v%03u", expected[i].index);

          g_assert_cmpstr (stache_search_result_get_id (g_ptr_array_index (all, i)), ==, id);
        }
    }
}

static void
test_vectordb_result_fields (Fixture       *f,
                             gconstpointer  data)
{
  g_autoptr(StacheVectorDbProvider) db = open_vectordb (f);
  g_autoptr(GError) error = NULL;
  g_autoptr(GPtrArray) results = NULL;
  g_autoptr(GPtrArray) chunks = g_ptr_array_new_with_free_func (g_object_unref);
  const float q[3] = { 0, 1, 0 };
  g_autoptr(GArray) query = floats (3, q);
  g_autofree char *old_words = NULL, *new_words = NULL;
  StacheSearchResult *result;
  JsonObject *metadata;

  insert_one (db, NULL, "c1", "first text", "doc-1", "{\"lang\": \"en\", \"n\": 3}", 0, 1, 0);
  insert_one (db, NULL, "c2", "zero vector", NULL, NULL, 0, 0, 0);

  results = stache_vector_db_provider_search (db, "default", query, 5, NULL, NULL, &error);
  g_assert_no_error (error);
  g_assert_cmpuint (results->len, ==, 2);
  result = g_ptr_array_index (results, 0);
  g_assert_cmpstr (stache_search_result_get_id (result), ==, "c1");
  g_assert_cmpstr (stache_search_result_get_text (result), ==, "first text");
  g_assert_cmpstr (stache_search_result_get_document_id (result), ==, "doc-1");
  g_assert_cmpstr (stache_search_result_get_namespace (result), ==, "default");
  g_assert_cmpfloat_with_epsilon (stache_search_result_get_score (result), 1.0, 1e-6);
  metadata = stache_search_result_get_metadata (result);
  g_assert_nonnull (metadata);
  g_assert_cmpstr (json_object_get_string_member (metadata, "lang"), ==, "en");
  g_assert_cmpint (json_object_get_int_member (metadata, "n"), ==, 3);

  /* A zero vector scores 0 rather than NaN. */
  result = g_ptr_array_index (results, 1);
  g_assert_cmpstr (stache_search_result_get_id (result), ==, "c2");
  g_assert_null (stache_search_result_get_document_id (result));
  g_assert_cmpfloat (stache_search_result_get_score (result), ==, 0.0);

  /* Inserting an existing id replaces the chunk. */
  insert_one (db, NULL, "c1", "new text", "doc-2", NULL, 0, -1, 0);
  g_assert_cmpint (count (db, NULL), ==, 2);
  g_clear_pointer (&results, g_ptr_array_unref);
  results = stache_vector_db_provider_search (db, NULL, query, 1, NULL, NULL, &error);
  g_assert_no_error (error);
  result = g_ptr_array_index (results, 0);
  g_assert_cmpstr (stache_search_result_get_id (result), ==, "c2");
  /* The words index follows the new text. */
  old_words = keyword_ids (db, NULL, "first", NULL);
  g_assert_cmpstr (old_words, ==, "");
  new_words = keyword_ids (db, NULL, "new", NULL);
  g_assert_cmpstr (new_words, ==, "c1");

  /* Inserting nothing succeeds. */
  g_assert_true (stache_vector_db_provider_insert (db, NULL, chunks, NULL, NULL, &error));
  g_assert_no_error (error);
}

static void
test_vectordb_namespaces_isolate (Fixture       *f,
                                  gconstpointer  data)
{
  g_autoptr(StacheVectorDbProvider) db = open_vectordb (f);
  g_autofree char *in_a = NULL, *in_b = NULL, *in_all = NULL, *in_none = NULL, *after = NULL;
  const char * const same_id[] = { "same", NULL };

  insert_one (db, "a", "same", "in a", NULL, NULL, 1, 0, 0);
  insert_one (db, "a", "only-a", "in a", NULL, NULL, 1, 1, 0);
  insert_one (db, "b", "same", "in b", NULL, NULL, 1, 0, 0);
  insert_one (db, "a/child", "child", "in a/child", NULL, NULL, 1, 0, 0);

  in_a = search_ids (db, "a", NULL, 10, TRUE);
  g_assert_cmpstr (in_a, ==, "only-a,same");
  in_b = search_ids (db, "b", NULL, 10, TRUE);
  g_assert_cmpstr (in_b, ==, "same");
  in_all = search_ids (db, NULL, NULL, 10, TRUE);
  g_assert_cmpstr (in_all, ==, "child,only-a,same,same");
  in_none = search_ids (db, "nowhere", NULL, 10, TRUE);
  g_assert_cmpstr (in_none, ==, "");

  g_assert_cmpint (count (db, "a"), ==, 2);
  g_assert_cmpint (count (db, "b"), ==, 1);
  g_assert_cmpint (count (db, "a/child"), ==, 1);

  /* Deleting in one namespace leaves the other alone. */
  g_assert_cmpint (delete_chunks (db, "a", same_id, NULL), ==, 1);
  g_assert_cmpint (count (db, "b"), ==, 1);
  after = search_ids (db, "b", NULL, 10, TRUE);
  g_assert_cmpstr (after, ==, "same");
}

static void
test_vectordb_filter_in (Fixture       *f,
                         gconstpointer  data)
{
  g_autoptr(StacheVectorDbProvider) db = open_vectordb (f);
  g_autofree char *en_fr = NULL, *top2 = NULL, *years = NULL, *none = NULL, *eq = NULL, *boolean = NULL;

  insert_filter_corpus (db);

  en_fr = search_ids (db, "f", "{\"lang\": {\"$in\": [\"en\", \"fr\"]}}", 10, FALSE);
  g_assert_cmpstr (en_fr, ==, "c1,c2,c4,c5");
  /* The filter applies before the cut to top_k. */
  top2 = search_ids (db, "f", "{\"lang\": {\"$in\": [\"de\", \"fr\"]}}", 2, FALSE);
  g_assert_cmpstr (top2, ==, "c2,c3");
  years = search_ids (db, "f", "{\"year\": {\"$in\": [2021, 2022]}}", 10, FALSE);
  g_assert_cmpstr (years, ==, "c2,c4,c5");
  none = search_ids (db, "f", "{\"lang\": {\"$in\": [\"it\"]}}", 10, FALSE);
  g_assert_cmpstr (none, ==, "");
  eq = search_ids (db, "f", "{\"lang\": \"en\"}", 10, FALSE);
  g_assert_cmpstr (eq, ==, "c1,c4");
  boolean = search_ids (db, "f", "{\"draft\": true}", 10, FALSE);
  g_assert_cmpstr (boolean, ==, "c2,c3");
}

static void
test_vectordb_filter_and_or (Fixture       *f,
                             gconstpointer  data)
{
  g_autoptr(StacheVectorDbProvider) db = open_vectordb (f);
  g_autofree char *and_ids = NULL, *or_ids = NULL, *nested = NULL, *members = NULL;

  insert_filter_corpus (db);

  and_ids = search_ids (db, "f", "{\"$and\": [{\"lang\": \"en\"}, {\"year\": 2021}]}", 10, FALSE);
  g_assert_cmpstr (and_ids, ==, "c4");
  or_ids = search_ids (db, "f", "{\"$or\": [{\"lang\": \"de\"}, {\"year\": 2022}]}", 10, FALSE);
  g_assert_cmpstr (or_ids, ==, "c3,c5");
  nested = search_ids (db, "f",
                       "{\"$or\": [{\"$and\": [{\"lang\": \"fr\"}, {\"draft\": true}]},"
                       "           {\"year\": {\"$in\": [2020]}, \"lang\": \"en\"}]}",
                       10, FALSE);
  g_assert_cmpstr (nested, ==, "c1,c2");
  /* Several members of one object must all match. */
  members = search_ids (db, "f", "{\"lang\": \"fr\", \"year\": 2022}", 10, FALSE);
  g_assert_cmpstr (members, ==, "c5");
}

static void
test_vectordb_filter_document_id (Fixture       *f,
                                  gconstpointer  data)
{
  g_autoptr(StacheVectorDbProvider) db = open_vectordb (f);
  g_autofree char *d2 = NULL, *in = NULL, *mixed = NULL, *keywords = NULL;

  insert_filter_corpus (db);

  d2 = search_ids (db, "f", "{\"document_id\": \"d2\"}", 10, FALSE);
  g_assert_cmpstr (d2, ==, "c3,c4");
  in = search_ids (db, "f", "{\"document_id\": {\"$in\": [\"d1\", \"d3\"]}}", 10, FALSE);
  g_assert_cmpstr (in, ==, "c1,c2,c5");
  mixed = search_ids (db, NULL, "{\"$and\": [{\"document_id\": \"d1\"}, {\"lang\": \"fr\"}]}", 10, FALSE);
  g_assert_cmpstr (mixed, ==, "c2");
  keywords = keyword_ids (db, "f", "one two three", "{\"document_id\": \"d1\"}");
  g_assert_cmpstr (keywords, ==, "c1,c2");
}

/* ---- delete and count ---- */

static void
test_vectordb_delete_ids (Fixture       *f,
                          gconstpointer  data)
{
  g_autoptr(StacheVectorDbProvider) db = open_vectordb (f);
  const char * const ids[] = { "c1", "c3", "c3", "missing", NULL };
  const char * const c2[] = { "c2", NULL };
  g_autofree char *left = NULL;

  insert_filter_corpus (db);
  insert_one (db, "other", "c2", "two elsewhere", NULL, NULL, 1, 0, 0);

  /* Duplicates and unknown ids count nothing. */
  g_assert_cmpint (delete_chunks (db, "f", ids, NULL), ==, 2);
  left = search_ids (db, "f", NULL, 10, TRUE);
  g_assert_cmpstr (left, ==, "c2,c4,c5,c6");

  /* Without a namespace, an id is deleted everywhere. */
  g_assert_cmpint (delete_chunks (db, NULL, c2, NULL), ==, 2);
  g_assert_cmpint (count (db, "f"), ==, 3);
  g_assert_cmpint (count (db, "other"), ==, 0);
}

static void
test_vectordb_delete_filter (Fixture       *f,
                             gconstpointer  data)
{
  g_autoptr(StacheVectorDbProvider) db = open_vectordb (f);
  g_autofree char *left = NULL, *found = NULL;

  insert_filter_corpus (db);
  insert_one (db, "other", "x1", "two", "d1", NULL, 1, 0, 0);

  g_assert_cmpint (delete_chunks (db, "f", NULL, "{\"lang\": {\"$in\": [\"fr\", \"de\"]}}"), ==, 3);
  /* By document, through the index. */
  g_assert_cmpint (delete_chunks (db, "f", NULL, "{\"document_id\": \"d1\"}"), ==, 1);
  g_assert_cmpint (delete_chunks (db, "f", NULL, "{\"lang\": \"it\"}"), ==, 0);
  left = search_ids (db, "f", NULL, 10, TRUE);
  g_assert_cmpstr (left, ==, "c4,c6");
  g_assert_cmpint (count (db, "other"), ==, 1);

  /* Deleted chunks no longer answer keyword searches either. */
  found = keyword_ids (db, NULL, "two", NULL);
  g_assert_cmpstr (found, ==, "x1");
}

static void
test_vectordb_delete_ids_and_filter (Fixture       *f,
                                     gconstpointer  data)
{
  g_autoptr(StacheVectorDbProvider) db = open_vectordb (f);
  const char * const ids[] = { "c1", "c2", "c3", NULL };
  g_autofree char *left = NULL;

  insert_filter_corpus (db);
  insert_one (db, "other", "c2", "two", NULL, "{\"draft\": true}", 1, 0, 0);

  /* Both must hold: among c1-c3 only the drafts. */
  g_assert_cmpint (delete_chunks (db, "f", ids, "{\"draft\": true}"), ==, 2);
  left = search_ids (db, "f", NULL, 10, TRUE);
  g_assert_cmpstr (left, ==, "c1,c4,c5,c6");
  g_assert_cmpint (count (db, "other"), ==, 1);

  /* Across namespaces. */
  g_assert_cmpint (delete_chunks (db, NULL, ids, "{\"draft\": true}"), ==, 1);
  g_assert_cmpint (count (db, "other"), ==, 0);
}

static void
test_vectordb_count (Fixture       *f,
                     gconstpointer  data)
{
  g_autoptr(StacheVectorDbProvider) db = open_vectordb (f);
  g_autoptr(GPtrArray) chunks = g_ptr_array_new_with_free_func (g_object_unref);
  g_autoptr(GArray) vectors = g_array_new (FALSE, FALSE, sizeof (float));
  g_autoptr(GError) error = NULL;

  g_assert_cmpint (count (db, NULL), ==, 0);
  g_assert_cmpint (count (db, "x"), ==, 0);

  for (guint i = 0; i < 50; i++)
    {
      g_autofree char *id = g_strdup_printf ("c%u", i);
      float v[2] = { 1, (float) i };

      g_ptr_array_add (chunks, stache_chunk_new (id, "text"));
      g_array_append_vals (vectors, v, 2);
    }
  g_assert_true (stache_vector_db_provider_insert (db, "x", chunks, vectors, NULL, &error));
  g_assert_no_error (error);
  /* Again: the same ids are replaced, not added. */
  g_assert_true (stache_vector_db_provider_insert (db, "x", chunks, vectors, NULL, &error));
  g_assert_no_error (error);
  g_assert_true (stache_vector_db_provider_insert (db, "y", chunks, vectors, NULL, &error));
  g_assert_no_error (error);

  g_assert_cmpint (count (db, "x"), ==, 50);
  g_assert_cmpint (count (db, "y"), ==, 50);
  g_assert_cmpint (count (db, NULL), ==, 100);
  g_assert_cmpint (count (db, "z"), ==, 0);
}

static void
test_vectordb_replace_document (Fixture       *f,
                                gconstpointer  data)
{
  g_autoptr(StacheVectorDbProvider) db = open_vectordb (f);
  g_autoptr(GPtrArray) chunks = g_ptr_array_new_with_free_func (g_object_unref);
  g_autoptr(GPtrArray) none = g_ptr_array_new_with_free_func (g_object_unref);
  g_autoptr(GError) error = NULL;
  const float values[6] = { 1, 0, 0, 0, 1, 0 };
  g_autoptr(GArray) vectors = floats (6, values);
  g_autofree char *after = NULL, *old_words = NULL, *new_words = NULL, *empty = NULL;

  insert_one (db, "r", "doc-0", "old zebra text", "doc", NULL, 1, 0, 0);
  insert_one (db, "r", "doc-1", "old zebra text", "doc", NULL, 1, 0, 0);
  insert_one (db, "r", "doc-2", "old zebra text", "doc", NULL, 1, 0, 0);
  insert_one (db, "r", "other-0", "other document", "other", NULL, 1, 0, 0);
  insert_one (db, "s", "doc-9", "same document elsewhere", "doc", NULL, 1, 0, 0);

  g_ptr_array_add (chunks, chunk_new ("doc-a", "new giraffe text", "doc", NULL));
  g_ptr_array_add (chunks, chunk_new ("doc-b", "new giraffe text", "doc", NULL));
  g_assert_true (stache_vector_db_provider_replace_document (db, "r", "doc", chunks, vectors, NULL, &error));
  g_assert_no_error (error);

  after = search_ids (db, "r", NULL, 10, TRUE);
  g_assert_cmpstr (after, ==, "doc-a,doc-b,other-0");
  old_words = keyword_ids (db, "r", "zebra", NULL);
  g_assert_cmpstr (old_words, ==, "");
  new_words = keyword_ids (db, "r", "giraffe", NULL);
  g_assert_cmpstr (new_words, ==, "doc-a,doc-b");
  g_assert_cmpint (count (db, "s"), ==, 1);

  /* Replacing with nothing empties the document. */
  g_assert_true (stache_vector_db_provider_replace_document (db, "r", "doc", none, NULL, NULL, &error));
  g_assert_no_error (error);
  empty = search_ids (db, "r", NULL, 10, TRUE);
  g_assert_cmpstr (empty, ==, "other-0");
}

/* ---- keyword search ---- */

static void
insert_texts (StacheVectorDbProvider *db,
              const char             *namespace_,
              const char * const     *texts)
{
  for (guint i = 0; texts[i] != NULL; i++)
    {
      g_autofree char *id = g_strdup_printf ("k%u", i);

      insert_one (db, namespace_, id, texts[i], NULL, NULL, 1, (float) i, 0);
    }
}

static void
test_vectordb_keyword_ranking (Fixture       *f,
                               gconstpointer  data)
{
  const char * const texts[] = {
    "Bears eat honey in the forest.",
    "The quick brown fox jumps over the lazy dog.",
    "A brown paper bag.",
    "Nothing to see here at all.",
    "Wolves are quick.",
    NULL
  };
  g_autoptr(StacheVectorDbProvider) db = open_vectordb (f);
  g_autoptr(GPtrArray) results = NULL;
  g_autoptr(GError) error = NULL;
  g_autofree char *other_ns = NULL, *missing = NULL;

  insert_texts (db, "kw", texts);
  insert_one (db, "elsewhere", "e0", "quick brown fox", NULL, NULL, 1, 0, 0);

  results = stache_vector_db_provider_keyword_search (db, "kw", "quick brown fox", 10, NULL, NULL, &error);
  g_assert_no_error (error);
  g_assert_cmpuint (results->len, ==, 3);
  /* The chunk with all the words first, then one with two of them. */
  g_assert_cmpstr (stache_search_result_get_id (g_ptr_array_index (results, 0)), ==, "k1");
  g_assert_cmpstr (stache_search_result_get_text (g_ptr_array_index (results, 0)), ==,
                   "The quick brown fox jumps over the lazy dog.");
  g_assert_cmpstr (stache_search_result_get_namespace (g_ptr_array_index (results, 0)), ==, "kw");
  for (guint i = 0; i < results->len; i++)
    {
      double score = stache_search_result_get_score (g_ptr_array_index (results, i));

      g_assert_cmpfloat (score, >, 0);
      if (i > 0)
        g_assert_cmpfloat (score, <=, stache_search_result_get_score (g_ptr_array_index (results, i - 1)));
    }

  g_clear_pointer (&results, g_ptr_array_unref);
  results = stache_vector_db_provider_keyword_search (db, "kw", "quick brown fox", 1, NULL, NULL, &error);
  g_assert_no_error (error);
  g_assert_cmpuint (results->len, ==, 1);
  g_assert_cmpstr (stache_search_result_get_id (g_ptr_array_index (results, 0)), ==, "k1");

  other_ns = keyword_ids (db, "elsewhere", "fox", NULL);
  g_assert_cmpstr (other_ns, ==, "e0");
  missing = keyword_ids (db, NULL, "elephant", NULL);
  g_assert_cmpstr (missing, ==, "");
}

/* The keyword index (sqlite-keywords.c) must rank exactly as FTS5's
 * bm25() does over the same chunks: the same chunks, in the same order,
 * with the same scores. Checked on a few thousand chunks of Zipf-distributed
 * words, for queries of one to six words (rare, middling, repeated), at
 * several k, in one namespace of two (which makes the search take more in
 * rounds), against an FTS5 table of the test's own holding the same texts
 * under the same rowids; then again after deletions (the index keeps
 * tombstones, and rewrites a segment a quarter deleted) and after enough
 * small writes to merge segments. */
#define RANK_CHUNKS 3000
#define RANK_VOCABULARY 1500

static gint64 read_int64      (const char             *path,
                               const char             *sql);
static void   assert_verified (StacheVectorDbProvider *db);

static char *
rank_word (guint i)
{
  return g_strdup_printf ("w%ux", i);
}

/* The cumulative Zipf weights of the vocabulary's words (s = 1) */
static double *
zipf_cumulative (void)
{
  double *cumulative = g_new (double, RANK_VOCABULARY);
  double total = 0;

  for (guint i = 0; i < RANK_VOCABULARY; i++)
    cumulative[i] = (total += 1.0 / (i + 1));
  return cumulative;
}

static guint
zipf_word (GRand        *rand,
           const double *cumulative)
{
  double u = g_rand_double (rand) * cumulative[RANK_VOCABULARY - 1];
  guint lo = 0, hi = RANK_VOCABULARY - 1;

  while (lo < hi)
    {
      guint mid = (lo + hi) / 2;

      if (cumulative[mid] < u)
        lo = mid + 1;
      else
        hi = mid;
    }
  return lo;
}

static char *
zipf_text (GRand        *rand,
           const double *cumulative)
{
  GString *text = g_string_new (NULL);
  guint n_words = 5 + g_rand_int_range (rand, 0, 60);

  for (guint w = 0; w < n_words; w++)
    {
      g_autofree char *word = rank_word (zipf_word (rand, cumulative));

      g_string_append_printf (text, "%s%s", w > 0 ? " " : "", word);
    }
  return g_string_free (text, FALSE);
}

/* Inserts @n chunks "PREFIX-i" of Zipf text into @ns; with @documents,
 * @n documents "PREFIX-i" of one to five chunks "PREFIX-i.c" instead */
static void
insert_zipf_of (StacheVectorDbProvider *db,
                const char             *ns,
                const char             *prefix,
                guint                   n,
                gboolean                documents,
                GRand                  *rand,
                const double           *cumulative)
{
  g_autoptr(GPtrArray) chunks = g_ptr_array_new_with_free_func (g_object_unref);
  g_autoptr(GArray) vectors = g_array_new (FALSE, FALSE, sizeof (float));
  g_autoptr(GError) error = NULL;

  for (guint i = 0; i < n; i++)
    {
      g_autofree char *name = g_strdup_printf ("%s-%u", prefix, i);
      guint n_chunks = documents ? 1 + (guint) g_rand_int_range (rand, 0, 5) : 1;

      for (guint c = 0; c < n_chunks; c++)
        {
          g_autofree char *id = documents ? g_strdup_printf ("%s.%u", name, c) : g_strdup (name);
          g_autofree char *text = zipf_text (rand, cumulative);
          float v[3] = { 1, (float) i, documents ? (float) c : 1 };

          g_ptr_array_add (chunks, chunk_new (id, text, documents ? name : NULL, NULL));
          g_array_append_vals (vectors, v, 3);
        }
    }
  g_assert_true (stache_vector_db_provider_insert (db, ns, chunks, vectors, NULL, &error));
  g_assert_no_error (error);
}

static void
insert_zipf (StacheVectorDbProvider *db,
             const char             *ns,
             const char             *prefix,
             guint                   n,
             GRand                  *rand,
             const double           *cumulative)
{
  insert_zipf_of (db, ns, prefix, n, FALSE, rand, cumulative);
}

/* Copies the texts of the store's file into an FTS5 table "ref" of an
 * in-memory database: the chunks under their rowids (@ids gets rowid →
 * "ns/id"), or with @documents one row per document, its chunks' texts in
 * rowid order joined by spaces (@ids gets rowid → "ns/document") */
static sqlite3 *
reference_index_of (const char *path,
                    GHashTable *ids,
                    gboolean    documents)
{
  sqlite3 *store = NULL, *ref = NULL;
  sqlite3_stmt *rows = NULL, *insert = NULL;
  gint64 n = 0;

  g_hash_table_remove_all (ids);
  g_assert_cmpint (sqlite3_open_v2 (path, &store, SQLITE_OPEN_READONLY, NULL), ==, SQLITE_OK);
  g_assert_cmpint (sqlite3_open (":memory:", &ref), ==, SQLITE_OK);
  g_assert_cmpint (sqlite3_exec (ref, "CREATE VIRTUAL TABLE ref USING fts5 (text, "
                                      "tokenize = 'unicode61 remove_diacritics 2')", NULL, NULL, NULL), ==, SQLITE_OK);
  g_assert_cmpint (sqlite3_prepare_v2 (store, documents ? "SELECT 0, namespace, document_id, group_concat (text, ' ') "
                                                          "FROM (SELECT * FROM chunks ORDER BY rowid) "
                                                          "GROUP BY namespace, document_id"
                                                        : "SELECT rowid, namespace, id, text FROM chunks",
                                       -1, &rows, NULL), ==, SQLITE_OK);
  g_assert_cmpint (sqlite3_prepare_v2 (ref, "INSERT INTO ref (rowid, text) VALUES (?1, ?2)", -1, &insert, NULL), ==,
                   SQLITE_OK);
  while (sqlite3_step (rows) == SQLITE_ROW)
    {
      gint64 *rowid = g_new (gint64, 1);

      *rowid = documents ? ++n : sqlite3_column_int64 (rows, 0);
      g_hash_table_insert (ids, rowid, g_strdup_printf ("%s/%s", sqlite3_column_text (rows, 1),
                                                        sqlite3_column_text (rows, 2)));
      sqlite3_reset (insert);
      sqlite3_bind_int64 (insert, 1, *rowid);
      sqlite3_bind_text (insert, 2, (const char *) sqlite3_column_text (rows, 3), -1, SQLITE_TRANSIENT);
      g_assert_cmpint (sqlite3_step (insert), ==, SQLITE_DONE);
    }
  sqlite3_finalize (rows);
  sqlite3_finalize (insert);
  sqlite3_close (store);
  return ref;
}

static sqlite3 *
reference_index (const char *path,
                 GHashTable *ids)
{
  return reference_index_of (path, ids, FALSE);
}

/* Runs @n_queries queries through the store and through FTS5's bm25() on
 * @ref, in namespace "rank"; returns how many rows were compared */
static guint
compare_with_bm25 (StacheVectorDbProvider *db,
                   sqlite3                *ref,
                   GHashTable             *ids,
                   GRand                  *rand,
                   guint                   n_queries,
                   guint                  *longer)
{
  sqlite3_stmt *expected = NULL;
  guint compared = 0;

  g_assert_cmpint (sqlite3_prepare_v2 (ref, "SELECT rowid, -bm25 (ref) FROM ref WHERE ref MATCH ?1 "
                                            "ORDER BY bm25 (ref), rowid",
                                       -1, &expected, NULL), ==, SQLITE_OK);
  for (guint q = 0; q < n_queries; q++)
    {
      g_autoptr(GString) query = g_string_new (NULL);
      g_autoptr(GString) match = g_string_new (NULL);
      guint n_words = 1 + q % 6;
      const guint ks[] = { 1, 10, 50 };

      for (guint w = 0; w < n_words; w++)
        {
          /* Middling and rare words (the commonest ten are left out: a
           * word in half the chunks or more is dropped by the search
           * itself, on purpose), now and then one twice. */
          guint index = q % 5 == 0 && w > 0 ? 10 + (guint) g_rand_int_range (rand, 0, 5)
                                            : 10 + (guint) g_rand_int_range (rand, 0, 400);
          g_autofree char *word = rank_word (index);

          g_string_append_printf (query, "%s%s", w > 0 ? " " : "", word);
          g_string_append_printf (match, "%s\"%s\"", w > 0 ? " OR " : "", word);
        }

      for (guint k = 0; k < G_N_ELEMENTS (ks); k++)
        {
          g_autoptr(GError) error = NULL;
          g_autoptr(GPtrArray) results = NULL;
          guint n = 0;

          results = stache_vector_db_provider_keyword_search (db, "rank", query->str, ks[k], NULL, NULL, &error);
          g_assert_no_error (error);

          sqlite3_reset (expected);
          sqlite3_bind_text (expected, 1, match->str, -1, SQLITE_TRANSIENT);
          while (n < ks[k] && sqlite3_step (expected) == SQLITE_ROW)
            {
              gint64 rowid = sqlite3_column_int64 (expected, 0);
              const char *name = g_hash_table_lookup (ids, &rowid);
              double want = sqlite3_column_double (expected, 1);
              StacheSearchResult *got;

              g_assert_nonnull (name);
              if (!g_str_has_prefix (name, "rank/"))
                continue;
              g_assert_cmpuint (n, <, results->len);
              got = g_ptr_array_index (results, n);
              g_assert_cmpstr (stache_search_result_get_id (got), ==, name + strlen ("rank/"));
              g_assert_cmpfloat_with_epsilon (stache_search_result_get_score (got), want, 1e-9 * MAX (1, fabs (want)));
              n++;
              compared++;
            }
          g_assert_cmpuint (n, ==, results->len);
          if (n > 10 && longer != NULL)
            (*longer)++;
        }
    }
  sqlite3_finalize (expected);
  return compared;
}

static void
test_vectordb_keyword_rank_equals_bm25 (Fixture       *f,
                                        gconstpointer  data)
{
  g_autoptr(StacheVectorDbProvider) db = open_vectordb (f);
  g_autoptr(GRand) rand = g_rand_new_with_seed (7);
  g_autofree double *cumulative = zipf_cumulative ();
  g_autoptr(GHashTable) ids = g_hash_table_new_full (g_int64_hash, g_int64_equal, g_free, g_free);
  g_autoptr(GPtrArray) doomed = g_ptr_array_new_with_free_func (g_free);
  g_autoptr(GError) error = NULL;
  sqlite3 *ref;
  guint compared, longer = 0;

  insert_zipf (db, "rank", "r0", RANK_CHUNKS / 2, rand, cumulative);
  insert_zipf (db, "other", "r1", RANK_CHUNKS / 2, rand, cumulative);
  ref = reference_index (f->db_path, ids);
  compared = compare_with_bm25 (db, ref, ids, rand, 60, &longer);
  sqlite3_close (ref);
  /* The comparison compared something: many rows, and lists longer than
   * the first round of a namespaced search. */
  g_assert_cmpuint (compared, >, 1000);
  g_assert_cmpuint (longer, >, 10);

  /* Deletions: a few here and there, then half of "other" (its segment is
   * rewritten without them) */
  for (guint i = 0; i < RANK_CHUNKS / 2; i += 7)
    g_ptr_array_add (doomed, g_strdup_printf ("r0-%u", i));
  g_ptr_array_add (doomed, NULL);
  stache_vector_db_provider_delete_chunks (db, "rank", (const char * const *) doomed->pdata, NULL, NULL, &error);
  g_assert_no_error (error);
  g_ptr_array_set_size (doomed, 0);
  for (guint i = 0; i < RANK_CHUNKS / 2; i += 2)
    g_ptr_array_add (doomed, g_strdup_printf ("r1-%u", i));
  g_ptr_array_add (doomed, NULL);
  stache_vector_db_provider_delete_chunks (db, "other", (const char * const *) doomed->pdata, NULL, NULL, &error);
  g_assert_no_error (error);
  /* "other"'s segment, half deleted, was rewritten without them at once;
   * "rank"'s seventh stays marked */
  g_assert_cmpint (read_int64 (f->db_path, "SELECT count (*) FROM keyword_deleted"), ==, (RANK_CHUNKS / 2 + 6) / 7);
  g_assert_cmpint (read_int64 (f->db_path, "SELECT sum (docs - deleted_docs) FROM keyword_segments"), ==,
                   RANK_CHUNKS / 2 - (RANK_CHUNKS / 2 + 6) / 7 + RANK_CHUNKS / 4);
  ref = reference_index (f->db_path, ids);
  g_assert_cmpuint (compare_with_bm25 (db, ref, ids, rand, 30, NULL), >, 500);
  sqlite3_close (ref);

  /* Many small writes: segments merge */
  for (guint w = 0; w < 20; w++)
    {
      g_autofree char *prefix = g_strdup_printf ("s%u", w);

      insert_zipf (db, w % 2 == 0 ? "rank" : "other", prefix, 20, rand, cumulative);
    }
  g_assert_cmpint (read_int64 (f->db_path, "SELECT count (*) FROM keyword_segments"), <, 12);
  ref = reference_index (f->db_path, ids);
  g_assert_cmpuint (compare_with_bm25 (db, ref, ids, rand, 30, NULL), >, 500);
  sqlite3_close (ref);
  assert_verified (db);
}

/* Whole documents by their words: the index scores each document as one
 * text, so its ranking must be FTS5's bm25() over a table with one row per
 * document holding its chunks' texts one after another. Documents of one
 * to five chunks in two namespaces, written a few at a time; compared
 * again after whole documents are deleted (tombstones) and after enough
 * small writes to merge segments. Each result is a chunk of its document,
 * one per document. */
#define DOC_RANK_DOCUMENTS 600

/* Runs @n_queries queries through the store's document search and through
 * bm25() on @ref, in namespace "rank"; returns how many rows were compared
 * (scores compared; documents of equal score may come in either order) */
static guint
compare_documents_with_bm25 (StacheVectorDbProvider *db,
                             sqlite3                *ref,
                             GHashTable             *ids,
                             GRand                  *rand,
                             guint                   n_queries)
{
  sqlite3_stmt *expected = NULL;
  guint compared = 0;

  g_assert_cmpint (sqlite3_prepare_v2 (ref, "SELECT rowid, -bm25 (ref) FROM ref WHERE ref MATCH ?1 "
                                            "ORDER BY bm25 (ref), rowid",
                                       -1, &expected, NULL), ==, SQLITE_OK);
  for (guint q = 0; q < n_queries; q++)
    {
      g_autoptr(GString) query = g_string_new (NULL);
      g_autoptr(GString) match = g_string_new (NULL);
      g_autoptr(GError) error = NULL;
      g_autoptr(GPtrArray) results = NULL;
      g_autoptr(GHashTable) seen = g_hash_table_new (g_str_hash, g_str_equal);
      guint n_words = 1 + q % 4, n = 0;

      for (guint w = 0; w < n_words; w++)
        {
          g_autofree char *word = rank_word (40 + (guint) g_rand_int_range (rand, 0, 600));

          g_string_append_printf (query, "%s%s", w > 0 ? " " : "", word);
          g_string_append_printf (match, "%s\"%s\"", w > 0 ? " OR " : "", word);
        }

      results = stache_vector_db_provider_keyword_search_documents (db, "rank", query->str, 20, NULL, NULL, &error);
      g_assert_no_error (error);

      sqlite3_reset (expected);
      sqlite3_bind_text (expected, 1, match->str, -1, SQLITE_TRANSIENT);
      while (n < 20 && sqlite3_step (expected) == SQLITE_ROW)
        {
          gint64 rowid = sqlite3_column_int64 (expected, 0);
          const char *name = g_hash_table_lookup (ids, &rowid);
          double want = sqlite3_column_double (expected, 1);
          StacheSearchResult *got;
          const char *document_id;

          g_assert_nonnull (name);
          if (!g_str_has_prefix (name, "rank/"))
            continue;
          g_assert_cmpuint (n, <, results->len);
          got = g_ptr_array_index (results, n);
          document_id = stache_search_result_get_document_id (got);
          g_assert_cmpfloat_with_epsilon (stache_search_result_get_score (got), want, 1e-9 * MAX (1, fabs (want)));
          /* a chunk of its document, each document once */
          g_assert_nonnull (document_id);
          g_assert_true (g_str_has_prefix (stache_search_result_get_id (got), document_id));
          g_assert_cmpint (stache_search_result_get_id (got)[strlen (document_id)], ==, '.');
          g_assert_true (g_hash_table_add (seen, (gpointer) document_id));
          n++;
          compared++;
        }
      g_assert_cmpuint (n, ==, results->len);
    }
  sqlite3_finalize (expected);
  return compared;
}

static void
test_vectordb_document_rank_equals_bm25 (Fixture       *f,
                                         gconstpointer  data)
{
  g_autoptr(StacheVectorDbProvider) db = open_vectordb (f);
  g_autoptr(GRand) rand = g_rand_new_with_seed (11);
  g_autofree double *cumulative = zipf_cumulative ();
  g_autoptr(GHashTable) ids = g_hash_table_new_full (g_int64_hash, g_int64_equal, g_free, g_free);
  g_autoptr(GError) error = NULL;
  sqlite3 *ref;

  for (guint w = 0; w < 6; w++)
    {
      g_autofree char *prefix = g_strdup_printf ("d%u", w);

      insert_zipf_of (db, w % 3 == 2 ? "other" : "rank", prefix, DOC_RANK_DOCUMENTS / 6, TRUE, rand, cumulative);
    }
  ref = reference_index_of (f->db_path, ids, TRUE);
  g_assert_cmpuint (compare_documents_with_bm25 (db, ref, ids, rand, 60), >, 500);
  sqlite3_close (ref);

  /* Whole documents deleted: their runs no longer count */
  for (guint i = 0; i < DOC_RANK_DOCUMENTS / 6; i += 5)
    {
      g_autofree char *filter = g_strdup_printf ("{\"document_id\": \"d0-%u\"}", i);
      g_autoptr(JsonObject) object = json_object (filter);

      stache_vector_db_provider_delete_chunks (db, "rank", NULL, object, NULL, &error);
      g_assert_no_error (error);
    }
  g_assert_cmpint (read_int64 (f->db_path, "SELECT count (*) FROM keyword_deleted"), >, 0);
  ref = reference_index_of (f->db_path, ids, TRUE);
  g_assert_cmpuint (compare_documents_with_bm25 (db, ref, ids, rand, 30), >, 250);
  sqlite3_close (ref);

  /* Many small writes: segments merge, runs with them */
  for (guint w = 0; w < 20; w++)
    {
      g_autofree char *prefix = g_strdup_printf ("s%u", w);

      insert_zipf_of (db, w % 2 == 0 ? "rank" : "other", prefix, 4, TRUE, rand, cumulative);
    }
  g_assert_cmpint (read_int64 (f->db_path, "SELECT count (*) FROM keyword_segments"), <, 12);
  ref = reference_index_of (f->db_path, ids, TRUE);
  g_assert_cmpuint (compare_documents_with_bm25 (db, ref, ids, rand, 30), >, 250);
  sqlite3_close (ref);
  assert_verified (db);
}

/* Runs @sql on the store's file through a connection of the test's own */
static void
exec_on_file (const char *path,
              const char *sql)
{
  sqlite3 *handle = NULL;

  g_assert_cmpint (sqlite3_open (path, &handle), ==, SQLITE_OK);
  g_assert_cmpint (sqlite3_exec (handle, sql, NULL, NULL, NULL), ==, SQLITE_OK);
  sqlite3_close (handle);
}

/* The check decodes the keyword index and holds it against the chunks: a
 * block that is not well formed, a chunk the index lost and one it kept
 * after the chunk went are each found; searches fail cleanly meanwhile. */
static void
test_vectordb_keyword_index_damage_found (Fixture       *f,
                                          gconstpointer  data)
{
  const char * const texts[] = { "alpha beta gamma", "beta gamma delta", "gamma delta epsilon", NULL };
  const char * const damage[] = {
    "UPDATE keyword_postings SET data = x'05616c706861' WHERE term = (SELECT min (term) FROM keyword_postings)",
    "UPDATE keyword_postings SET data = substr (data, 1, length (data) - 1)",
    "UPDATE keyword_segments SET docs = docs + 1",
    "DELETE FROM keyword_postings",
    "INSERT INTO chunks (namespace, id, position, vector_slot, text) VALUES ('x', 'stray', 0, 0, 'zeta')",
  };

  for (guint i = 0; i < G_N_ELEMENTS (damage); i++)
    {
      g_autoptr(StacheVectorDbProvider) db = NULL;
      g_autoptr(GError) error = NULL;

      g_autofree char *dir = g_path_get_dirname (f->db_path);
      g_autoptr(GDir) files = g_dir_open (dir, 0, NULL);
      const char *name;

      /* (the database and what lives beside it) */
      while (files != NULL && (name = g_dir_read_name (files)) != NULL)
        {
          g_autofree char *file = g_build_filename (dir, name, NULL);

          g_remove (file);
        }
      db = open_vectordb (f);
      insert_texts (db, NULL, texts);
      assert_verified (db);
      g_clear_object (&db);
      /* (a provider opened later sees the change: no connection is left) */
      exec_on_file (f->db_path, damage[i]);

      db = open_vectordb (f);
      g_assert_false (stache_vector_db_provider_verify (db, NULL, &error));
      g_assert_error (error, STACHE_ERROR, STACHE_ERROR_FAILED);
      g_assert_nonnull (strstr (error->message, "keyword index"));
      g_assert_nonnull (strstr (error->message, f->db_path));
    }
}

/* Words longer than the index keeps (128 bytes) are kept, and looked up,
 * by their first 128 bytes, in ASCII text (split in one pass) and in other
 * text (folded first) alike */
static void
test_vectordb_keyword_long_words (Fixture       *f,
                                  gconstpointer  data)
{
  g_autofree char *long_a = g_strnfill (200, 'A');
  g_autofree char *long_b = g_strnfill (150, 'b');
  g_autofree char *ascii = g_strdup_printf ("%s tail, %s.", long_a, long_b);
  g_autofree char *other = g_strdup_printf ("Été %s", long_a);
  const char *texts[] = { ascii, other, "short words only", NULL };
  g_autoptr(StacheVectorDbProvider) db = open_vectordb (f);
  g_autofree char *prefix = g_strnfill (128, 'a');
  g_autofree char *longer = g_strconcat (prefix, "zzzz", NULL);
  g_autofree char *shorter = g_strnfill (127, 'a');
  g_autofree char *found = NULL, *found_longer = NULL, *not_found = NULL, *b = NULL, *ete = NULL;

  insert_texts (db, NULL, texts);

  found = keyword_ids (db, NULL, prefix, NULL);
  g_assert_cmpstr (found, ==, "k1,k0");
  found_longer = keyword_ids (db, NULL, longer, NULL);
  g_assert_cmpstr (found_longer, ==, "k1,k0");
  not_found = keyword_ids (db, NULL, shorter, NULL);
  g_assert_cmpstr (not_found, ==, "");
  b = keyword_ids (db, NULL, long_b, NULL);
  g_assert_cmpstr (b, ==, "k0");
  ete = keyword_ids (db, NULL, "ETE", NULL);
  g_assert_cmpstr (ete, ==, "k1");
}

static void
test_vectordb_keyword_accents (Fixture       *f,
                               gconstpointer  data)
{
  const char * const texts[] = { "Cafe au lait", "tea time", "Crème brûlée for dessert", NULL };
  g_autoptr(StacheVectorDbProvider) db = open_vectordb (f);
  g_autofree char *cafe = NULL, *upper = NULL, *plain = NULL;

  insert_texts (db, NULL, texts);

  cafe = keyword_ids (db, NULL, "café", NULL);
  g_assert_cmpstr (cafe, ==, "k0");
  upper = keyword_ids (db, NULL, "CAFÉ", NULL);
  g_assert_cmpstr (upper, ==, "k0");
  plain = keyword_ids (db, NULL, "creme BRULEE", NULL);
  g_assert_cmpstr (plain, ==, "k2");
}

static void
test_vectordb_keyword_syntax (Fixture       *f,
                              gconstpointer  data)
{
  const char * const texts[] = { "and or near", "star power", "nothing else", NULL };
  const char * const queries[] = {
    "\"AND OR NEAR( * ^ :",
    "\"",
    "*",
    "^star:",
    "text:power",
    "NOT",
    "\"star\" AND \"\"\"",
    "-star +power {text}: NEAR(star power, 2)",
    "'; DROP TABLE chunks; --",
    "",
    "   ",
    "\xcc\x81",                 /* a lone combining accent */
    "\xc2\xb2 \xe2\x91\xa0 a\xcc\x81", /* ², ① and a + accent */
    NULL
  };
  g_autoptr(GString) long_query = g_string_new (NULL);
  g_autoptr(StacheVectorDbProvider) db = open_vectordb (f);
  g_autofree char *words = NULL, *star = NULL;

  insert_texts (db, NULL, texts);

  for (guint i = 0; queries[i] != NULL; i++)
    {
      g_autoptr(GError) error = NULL;
      g_autoptr(GPtrArray) results = NULL;

      results = stache_vector_db_provider_keyword_search (db, NULL, queries[i], 10, NULL, NULL, &error);
      g_assert_no_error (error);
      g_assert_nonnull (results);
    }

  /* Hundreds of words: only the first ones are looked for. */
  for (guint i = 0; i < 500; i++)
    g_string_append_printf (long_query, "word%u \"(", i);
  g_string_append (long_query, " star");
  {
    g_autoptr(GError) error = NULL;
    g_autoptr(GPtrArray) results = NULL;

    results = stache_vector_db_provider_keyword_search (db, NULL, long_query->str, 10, NULL, NULL, &error);
    g_assert_no_error (error);
    g_assert_cmpuint (results->len, ==, 0);
  }

  /* Operators are words like any other. */
  words = keyword_ids (db, NULL, "\"AND OR NEAR( * ^ :", NULL);
  g_assert_cmpstr (words, ==, "k0");
  star = keyword_ids (db, NULL, "^star:", NULL);
  g_assert_cmpstr (star, ==, "k1");
  g_assert_cmpint (count (db, NULL), ==, 3);
}

/* ---- errors ---- */

static void
test_vectordb_dimension_mismatch (Fixture       *f,
                                  gconstpointer  data)
{
  g_autoptr(StacheVectorDbProvider) db = open_vectordb (f);
  g_autoptr(GError) error = NULL;
  g_autoptr(GPtrArray) results = NULL;
  const float q[2] = { 1, 0 };
  g_autoptr(GArray) query = floats (2, q);

  insert_one (db, "dims", "three", "three dimensions", NULL, NULL, 1, 0, 0);

  results = stache_vector_db_provider_search (db, "dims", query, 5, NULL, NULL, &error);
  g_assert_error (error, STACHE_ERROR, STACHE_ERROR_INVALID_ARGUMENT);
  g_assert_null (results);
  g_assert_nonnull (strstr (error->message, "2 dimensions"));
  g_assert_nonnull (strstr (error->message, "has 3"));
  g_assert_nonnull (strstr (error->message, "three"));

  /* Another namespace with two dimensions is fine. */
  g_clear_error (&error);
  g_clear_pointer (&results, g_ptr_array_unref);
  {
    g_autoptr(GPtrArray) chunks = g_ptr_array_new_with_free_func (g_object_unref);
    const float v[2] = { 0, 1 };
    g_autoptr(GArray) vectors = floats (2, v);

    g_ptr_array_add (chunks, stache_chunk_new ("flat", "two dimensions"));
    g_assert_true (stache_vector_db_provider_insert (db, "flat", chunks, vectors, NULL, &error));
    g_assert_no_error (error);
  }
  results = stache_vector_db_provider_search (db, "flat", query, 5, NULL, NULL, &error);
  g_assert_no_error (error);
  g_assert_cmpuint (results->len, ==, 1);
}

static void
test_vectordb_cancelled (Fixture       *f,
                         gconstpointer  data)
{
  g_autoptr(StacheVectorDbProvider) db = open_vectordb (f);
  g_autoptr(GCancellable) cancellable = g_cancellable_new ();
  g_autoptr(GError) error = NULL;
  g_autoptr(GPtrArray) results = NULL;
  const float q[3] = { 1, 0, 0 };
  g_autoptr(GArray) query = floats (3, q);

  insert_one (db, NULL, "c", "text", NULL, NULL, 1, 0, 0);
  g_cancellable_cancel (cancellable);

  results = stache_vector_db_provider_search (db, NULL, query, 5, NULL, cancellable, &error);
  g_assert_error (error, G_IO_ERROR, G_IO_ERROR_CANCELLED);
  g_assert_null (results);
  g_clear_error (&error);
  g_assert_cmpint (stache_vector_db_provider_count (db, NULL, cancellable, &error), ==, -1);
  g_assert_error (error, G_IO_ERROR, G_IO_ERROR_CANCELLED);
}

static void
test_vectordb_capabilities (Fixture       *f,
                            gconstpointer  data)
{
  g_autoptr(StacheVectorDbProvider) db = open_vectordb (f);
  const char * const expected[] = {
    "vector_search", "keyword_search", "metadata_filter", "batch_insert", "namespaces"
  };

  for (guint i = 0; i < G_N_ELEMENTS (expected); i++)
    g_assert_true (stache_vector_db_provider_has_capability (db, expected[i]));
}

/* ---- the file ---- */

static void
test_database_persists (Fixture       *f,
                        gconstpointer  data)
{
  g_autoptr(GError) error = NULL;
  g_autofree char *found = NULL, *words = NULL;

  {
    g_autoptr(StacheVectorDbProvider) db = open_vectordb (f);
    g_autoptr(StacheNamespaceProvider) namespaces = open_namespaces (f);
    g_autoptr(StacheDocumentIndexProvider) documents = open_documents (f);
    g_autoptr(StacheNamespace) created = NULL;
    g_autoptr(StacheDocument) document = stache_document_new ("doc");

    insert_one (db, "keep", "c1", "persistent words", "doc", "{\"k\": 1}", 1, 0, 0);
    insert_one (db, "keep", "c2", "more words", "doc", NULL, 0, 1, 0);
    created = stache_namespace_provider_create_namespace (namespaces, "keep", "kept", NULL, NULL, &error);
    g_assert_no_error (error);
    stache_document_set_namespace (document, "keep");
    g_assert_true (stache_document_index_provider_index_document (documents, document, NULL, &error));
    g_assert_no_error (error);
  }

  {
    g_autoptr(StacheVectorDbProvider) db = open_vectordb (f);
    g_autoptr(StacheNamespaceProvider) namespaces = open_namespaces (f);
    g_autoptr(StacheDocumentIndexProvider) documents = open_documents (f);
    g_autoptr(StacheNamespace) kept = NULL;
    g_autoptr(StacheDocument) document = NULL;

    g_assert_cmpint (count (db, "keep"), ==, 2);
    found = search_ids (db, "keep", "{\"k\": 1}", 10, FALSE);
    g_assert_cmpstr (found, ==, "c1");
    words = keyword_ids (db, NULL, "persistent", NULL);
    g_assert_cmpstr (words, ==, "c1");
    kept = stache_namespace_provider_get_namespace (namespaces, "keep", NULL, &error);
    g_assert_no_error (error);
    g_assert_cmpstr (stache_namespace_get_description (kept), ==, "kept");
    document = stache_document_index_provider_get_document (documents, "doc", NULL, &error);
    g_assert_no_error (error);
    g_assert_cmpstr (stache_document_get_namespace (document), ==, "keep");
  }
}

static char *
pragma_text (sqlite3    *handle,
             const char *sql)
{
  sqlite3_stmt *stmt = NULL;
  char *answer;

  g_assert_cmpint (sqlite3_prepare_v2 (handle, sql, -1, &stmt, NULL), ==, SQLITE_OK);
  g_assert_cmpint (sqlite3_step (stmt), ==, SQLITE_ROW);
  answer = g_strdup ((const char *) sqlite3_column_text (stmt, 0));
  sqlite3_finalize (stmt);
  return answer;
}

static void
test_database_wal (Fixture       *f,
                   gconstpointer  data)
{
  g_autoptr(StacheVectorDbProvider) db = open_vectordb (f);
  g_autofree char *mode = NULL, *app_id = NULL, *dir = NULL;
  sqlite3 *handle = NULL;
  GStatBuf st;

  insert_one (db, NULL, "c", "text", NULL, NULL, 1, 0, 0);

  g_assert_cmpint (sqlite3_open_v2 (f->db_path, &handle, SQLITE_OPEN_READONLY, NULL), ==, SQLITE_OK);
  mode = pragma_text (handle, "PRAGMA journal_mode");
  g_assert_cmpstr (mode, ==, "wal");
  app_id = pragma_text (handle, "PRAGMA application_id");
  g_assert_cmpstr (app_id, ==, "1398031176"); /* 0x53544348, "STCH" */
  sqlite3_close (handle);

  /* The folder was created, private. */
  dir = g_path_get_dirname (f->db_path);
  g_assert_cmpint (g_stat (dir, &st), ==, 0);
  g_assert_cmpint (st.st_mode & 0777, ==, 0700);
}

static void
test_database_default_path (Fixture       *f,
                            gconstpointer  data)
{
  g_autoptr(GError) error = NULL;
  g_autoptr(StacheSettings) settings = stache_settings_new_from_file (NULL, &error);
  g_autofree char *old_data_home = g_strdup (g_getenv ("XDG_DATA_HOME"));
  g_autofree char *data_home = g_build_filename (f->dir, "xdg-data", NULL);
  g_autofree char *expected = g_build_filename (data_home, "stache", "stache.db", NULL);
  g_autoptr(StacheProvider) provider = NULL;

  g_assert_no_error (error);
  g_setenv ("XDG_DATA_HOME", data_home, TRUE);

  provider = create_provider (settings, STACHE_PROVIDER_TYPE_NAMESPACE, &error);
  g_assert_no_error (error);
  g_assert_true (g_file_test (expected, G_FILE_TEST_IS_REGULAR));

  if (old_data_home != NULL)
    g_setenv ("XDG_DATA_HOME", old_data_home, TRUE);
  else
    g_unsetenv ("XDG_DATA_HOME");
}

/* Each provider type refuses @path, which keeps its bytes. */
static void
assert_refused (Fixture    *f,
                const char *path,
                const char *expected_reason)
{
  g_autoptr(StacheSettings) settings = stache_settings_new_from_file (NULL, NULL);
  g_autofree char *wal = g_strconcat (path, "-wal", NULL);
  g_autofree char *journal = g_strconcat (path, "-journal", NULL);
  gsize before_len, after_len;
  g_autofree char *before = file_contents (path, &before_len);
  g_autofree char *after = NULL;
  const StacheProviderType types[] = {
    STACHE_PROVIDER_TYPE_VECTORDB, STACHE_PROVIDER_TYPE_NAMESPACE, STACHE_PROVIDER_TYPE_DOCUMENT_INDEX
  };

  stache_settings_set_string (settings, "sqlite_path", path);

  for (guint i = 0; i < G_N_ELEMENTS (types); i++)
    {
      g_autoptr(GError) error = NULL;
      g_autoptr(StacheProvider) provider = create_provider (settings, types[i], &error);

      g_assert_null (provider);
      g_assert_error (error, STACHE_ERROR, STACHE_ERROR_FAILED);
      g_assert_nonnull (strstr (error->message, path));
      g_assert_nonnull (strstr (error->message, "not a Stache database"));
      g_assert_nonnull (strstr (error->message, expected_reason));
    }

  after = file_contents (path, &after_len);
  g_assert_cmpmem (before, before_len, after, after_len);
  g_assert_false (g_file_test (wal, G_FILE_TEST_EXISTS));
  g_assert_false (g_file_test (journal, G_FILE_TEST_EXISTS));
}

static void
make_sqlite_file (const char *path,
                  const char *sql)
{
  sqlite3 *handle = NULL;

  g_assert_cmpint (sqlite3_open (path, &handle), ==, SQLITE_OK);
  g_assert_cmpint (sqlite3_exec (handle, sql, NULL, NULL, NULL), ==, SQLITE_OK);
  g_assert_cmpint (sqlite3_close (handle), ==, SQLITE_OK);
}

static void
test_database_foreign_refused (Fixture       *f,
                               gconstpointer  data)
{
  g_autofree char *tables = g_build_filename (f->dir, "foreign.db", NULL);
  g_autofree char *marked = g_build_filename (f->dir, "marked.db", NULL);

  make_sqlite_file (tables, "CREATE TABLE foo (x); INSERT INTO foo VALUES (42);");
  assert_refused (f, tables, "foo");

  /* Another application's mark, even without tables. */
  make_sqlite_file (marked, "PRAGMA application_id = 1234; CREATE TABLE chunks (x); DROP TABLE chunks;");
  assert_refused (f, marked, "application_id");
}

static void
test_database_garbage_refused (Fixture       *f,
                               gconstpointer  data)
{
  g_autofree char *garbage = g_build_filename (f->dir, "garbage.db", NULL);
  g_autofree char *big = g_build_filename (f->dir, "big-garbage.db", NULL);
  g_autoptr(GError) error = NULL;
  g_autofree char *noise = g_strnfill (8192, 'x');

  g_file_set_contents (garbage, "not a database\n", -1, &error);
  g_assert_no_error (error);
  assert_refused (f, garbage, "not an SQLite database");

  g_file_set_contents (big, noise, -1, &error);
  g_assert_no_error (error);
  assert_refused (f, big, "not an SQLite database");
}

static void
test_database_damaged_refused (Fixture       *f,
                               gconstpointer  data)
{
  g_autoptr(GError) error = NULL;
  g_autoptr(StacheProvider) provider = NULL;
  g_autofree char *contents = NULL, *after = NULL;
  gsize len, after_len, page;

  {
    g_autoptr(StacheVectorDbProvider) db = open_vectordb (f);

    for (guint i = 0; i < 50; i++)
      {
        g_autofree char *id = g_strdup_printf ("c%u", i);

        insert_one (db, NULL, id, "some words to index", NULL, "{\"n\": 1}", 1, (float) i, 0);
      }
  }

  /* Pages 2 to 5 (the roots of the first tables) overwritten; the header
   * (page 1, whose size the header gives) stays intact. */
  contents = file_contents (f->db_path, &len);
  page = ((guint8) contents[16] << 8) | (guint8) contents[17];
  if (page == 1)
    page = 65536;
  g_assert_cmpuint (len, >=, 5 * page);
  memset (contents + page, 0xAB, 4 * page);
  g_file_set_contents (f->db_path, contents, len, &error);
  g_assert_no_error (error);

  /* Opening reads the header and the schema only, so that it costs the
   * same whatever the size of the store; the damage shows in a check, and
   * neither touches the file. */
  provider = create_provider (f->settings, STACHE_PROVIDER_TYPE_VECTORDB, &error);
  g_assert_no_error (error);
  g_assert_nonnull (provider);
  g_assert_false (stache_vector_db_provider_verify (STACHE_VECTOR_DB_PROVIDER (provider), NULL, &error));
  g_assert_error (error, STACHE_ERROR, STACHE_ERROR_FAILED);
  g_assert_nonnull (strstr (error->message, f->db_path));
  g_assert_nonnull (strstr (error->message, "damaged"));
  g_clear_object (&provider);

  after = file_contents (f->db_path, &after_len);
  g_assert_cmpmem (contents, len, after, after_len);
}

static void
test_database_unusable_path (Fixture       *f,
                             gconstpointer  data)
{
  g_autoptr(StacheSettings) settings = stache_settings_new_from_file (NULL, NULL);
  g_autoptr(GError) error = NULL;
  g_autoptr(StacheProvider) provider = NULL;

  /* A folder where the file should be. */
  stache_settings_set_string (settings, "sqlite_path", f->dir);
  provider = create_provider (settings, STACHE_PROVIDER_TYPE_VECTORDB, &error);
  g_assert_null (provider);
  g_assert_error (error, STACHE_ERROR, STACHE_ERROR_FAILED);
  g_assert_nonnull (strstr (error->message, f->dir));
}

/* ---- two writers ---- */

typedef struct
{
  StacheVectorDbProvider *db;
  guint                   writer;
  gboolean                ok;
} Writer;

static gpointer
write_chunks (gpointer data)
{
  Writer *writer = data;

  writer->ok = TRUE;
  for (guint i = 0; i < 200 && writer->ok; i++)
    {
      g_autoptr(GError) error = NULL;
      g_autoptr(GPtrArray) chunks = g_ptr_array_new_with_free_func (g_object_unref);
      g_autofree char *id = g_strdup_printf ("w%u-%u", writer->writer, i);
      const float v[4] = { 1, (float) writer->writer, (float) i, 0.5f };
      g_autoptr(GArray) vectors = floats (4, v);

      g_ptr_array_add (chunks, stache_chunk_new (id, "concurrent words"));
      writer->ok = stache_vector_db_provider_insert (writer->db, "shared", chunks, vectors, NULL, &error);
      if (error != NULL)
        g_printerr ("writer %u: %s\n", writer->writer, error->message);
    }

  return NULL;
}

static void
test_database_concurrent_writers (Fixture       *f,
                                  gconstpointer  data)
{
  Writer writers[2] = { { open_vectordb (f), 0, FALSE }, { open_vectordb (f), 1, FALSE } };
  GThread *threads[2];

  for (guint i = 0; i < 2; i++)
    threads[i] = g_thread_new ("writer", write_chunks, &writers[i]);
  for (guint i = 0; i < 2; i++)
    g_thread_join (threads[i]);

  for (guint i = 0; i < 2; i++)
    g_assert_true (writers[i].ok);
  g_assert_cmpint (count (writers[0].db, "shared"), ==, 400);
  g_assert_cmpint (count (writers[1].db, NULL), ==, 400);

  for (guint i = 0; i < 2; i++)
    g_object_unref (writers[i].db);
}

/* ---- namespaces ---- */

static void
test_namespace_create_get (Fixture       *f,
                           gconstpointer  data)
{
  g_autoptr(StacheNamespaceProvider) namespaces = open_namespaces (f);
  g_autoptr(JsonObject) metadata = json_object ("{\"owner\": \"ada\", \"level\": 2}");
  g_autoptr(StacheNamespace) created = NULL;
  g_autoptr(StacheNamespace) again = NULL;
  g_autoptr(StacheNamespace) found = NULL;
  g_autoptr(StacheNamespace) missing = NULL;
  g_autoptr(GError) error = NULL;
  gint64 now = g_get_real_time () / G_USEC_PER_SEC;

  created = stache_namespace_provider_create_namespace (namespaces, "research/papers", "Papers",
                                                        metadata, NULL, &error);
  g_assert_no_error (error);
  g_assert_cmpstr (stache_namespace_get_name (created), ==, "research/papers");

  found = stache_namespace_provider_get_namespace (namespaces, "research/papers", NULL, &error);
  g_assert_no_error (error);
  g_assert_cmpstr (stache_namespace_get_name (found), ==, "research/papers");
  g_assert_cmpstr (stache_namespace_get_description (found), ==, "Papers");
  g_assert_cmpstr (json_object_get_string_member (stache_namespace_get_metadata (found), "owner"), ==, "ada");
  g_assert_cmpint (json_object_get_int_member (stache_namespace_get_metadata (found), "level"), ==, 2);
  g_assert_cmpint (stache_namespace_get_created (found), >=, now - 5);
  g_assert_cmpint (stache_namespace_get_created (found), <=, now + 5);
  g_assert_cmpint (stache_namespace_get_created (found), ==, stache_namespace_get_created (created));

  again = stache_namespace_provider_create_namespace (namespaces, "research/papers", NULL, NULL, NULL, &error);
  g_assert_null (again);
  g_assert_error (error, STACHE_ERROR, STACHE_ERROR_EXISTS);
  g_assert_nonnull (strstr (error->message, "already exists"));
  g_clear_error (&error);

  missing = stache_namespace_provider_get_namespace (namespaces, "research", NULL, &error);
  g_assert_error (error, STACHE_ERROR, STACHE_ERROR_NOT_FOUND);
  g_assert_null (missing);
}

static char *
namespace_names (StacheNamespaceProvider *namespaces,
                 const char              *parent)
{
  g_autoptr(GError) error = NULL;
  g_autoptr(GPtrArray) list = stache_namespace_provider_list_namespaces (namespaces, parent, NULL, &error);
  g_autoptr(GString) names = g_string_new (NULL);

  g_assert_no_error (error);
  for (guint i = 0; i < list->len; i++)
    g_string_append_printf (names, "%s%s", i > 0 ? "," : "",
                            stache_namespace_get_name (g_ptr_array_index (list, i)));
  return g_string_free (g_steal_pointer (&names), FALSE);
}

static void
create_namespace (StacheNamespaceProvider *namespaces,
                  const char              *name)
{
  g_autoptr(GError) error = NULL;
  g_autoptr(StacheNamespace) created = NULL;

  created = stache_namespace_provider_create_namespace (namespaces, name, NULL, NULL, NULL, &error);
  g_assert_no_error (error);
  g_assert_nonnull (created);
}

static void
index_document (StacheDocumentIndexProvider *documents,
                const char                  *id,
                const char                  *namespace_,
                const char                  *source)
{
  g_autoptr(GError) error = NULL;
  g_autoptr(StacheDocument) document = stache_document_new (id);

  stache_document_set_namespace (document, namespace_);
  stache_document_set_source (document, source);
  g_assert_true (stache_document_index_provider_index_document (documents, document, NULL, &error));
  g_assert_no_error (error);
}

static void
test_namespace_list (Fixture       *f,
                     gconstpointer  data)
{
  g_autoptr(StacheNamespaceProvider) namespaces = open_namespaces (f);
  g_autoptr(StacheVectorDbProvider) db = open_vectordb (f);
  g_autoptr(StacheDocumentIndexProvider) documents = open_documents (f);
  g_autoptr(StacheNamespace) implicit = NULL;
  g_autoptr(GError) error = NULL;
  g_autofree char *all = NULL, *research = NULL, *papers = NULL, *leaf = NULL, *none = NULL;

  create_namespace (namespaces, "research");
  create_namespace (namespaces, "research/papers");
  create_namespace (namespaces, "research/papers/2024");
  create_namespace (namespaces, "research/notes");
  create_namespace (namespaces, "researchers");
  create_namespace (namespaces, "researchXpapers");
  create_namespace (namespaces, "other");
  /* Namespaces nobody created: ingest put things in them. */
  insert_one (db, "research/chunks-only", "c", "text", NULL, NULL, 1, 0, 0);
  insert_one (db, "research/papers", "c", "text", NULL, NULL, 1, 0, 0);
  index_document (documents, "d", "research/docs-only", "file:///d");

  all = namespace_names (namespaces, NULL);
  g_assert_cmpstr (all, ==, "other,research,research/chunks-only,research/docs-only,research/notes,"
                            "research/papers,research/papers/2024,researchXpapers,researchers");
  research = namespace_names (namespaces, "research");
  g_assert_cmpstr (research, ==, "research/chunks-only,research/docs-only,research/notes,research/papers");
  papers = namespace_names (namespaces, "research/papers");
  g_assert_cmpstr (papers, ==, "research/papers/2024");
  leaf = namespace_names (namespaces, "research/papers/2024");
  g_assert_cmpstr (leaf, ==, "");
  none = namespace_names (namespaces, "nothing");
  g_assert_cmpstr (none, ==, "");

  implicit = stache_namespace_provider_get_namespace (namespaces, "research/chunks-only", NULL, &error);
  g_assert_no_error (error);
  g_assert_cmpstr (stache_namespace_get_name (implicit), ==, "research/chunks-only");
  g_assert_null (stache_namespace_get_description (implicit));
}

static void
test_namespace_create_registers_implicit (Fixture       *f,
                                          gconstpointer  data)
{
  g_autoptr(StacheNamespaceProvider) namespaces = open_namespaces (f);
  g_autoptr(StacheVectorDbProvider) db = open_vectordb (f);
  g_autoptr(StacheNamespace) created = NULL;
  g_autoptr(StacheNamespace) found = NULL;
  g_autoptr(StacheNamespace) again = NULL;
  g_autoptr(GError) error = NULL;
  g_autofree char *names = NULL;

  /* Ingest made "notes" exist; creating it adds what it lacked. */
  insert_one (db, "notes", "c", "text", NULL, NULL, 1, 0, 0);
  created = stache_namespace_provider_create_namespace (namespaces, "notes", "My notes", NULL, NULL, &error);
  g_assert_no_error (error);
  found = stache_namespace_provider_get_namespace (namespaces, "notes", NULL, &error);
  g_assert_no_error (error);
  g_assert_cmpstr (stache_namespace_get_description (found), ==, "My notes");
  g_assert_cmpint (stache_namespace_get_created (found), >, 0);
  names = namespace_names (namespaces, NULL);
  g_assert_cmpstr (names, ==, "notes");

  again = stache_namespace_provider_create_namespace (namespaces, "notes", NULL, NULL, NULL, &error);
  g_assert_null (again);
  g_assert_error (error, STACHE_ERROR, STACHE_ERROR_EXISTS);
  g_assert_nonnull (strstr (error->message, "already exists"));
}

static void
test_namespace_delete_refuses_non_empty (Fixture       *f,
                                         gconstpointer  data)
{
  g_autoptr(StacheNamespaceProvider) namespaces = open_namespaces (f);
  g_autoptr(StacheVectorDbProvider) db = open_vectordb (f);
  g_autoptr(StacheDocumentIndexProvider) documents = open_documents (f);
  g_autoptr(StacheNamespace) gone = NULL;
  g_autoptr(GError) error = NULL;
  const char * const refused[] = { "with-chunks", "with-docs", "with-child", "chunks-below", NULL };
  g_autofree char *left = NULL;

  create_namespace (namespaces, "with-chunks");
  insert_one (db, "with-chunks", "c", "text", NULL, NULL, 1, 0, 0);
  create_namespace (namespaces, "with-docs");
  index_document (documents, "d", "with-docs", NULL);
  create_namespace (namespaces, "with-child");
  create_namespace (namespaces, "with-child/kid");
  create_namespace (namespaces, "chunks-below");
  insert_one (db, "chunks-below/deep", "c", "text", NULL, NULL, 1, 0, 0);
  create_namespace (namespaces, "empty");

  for (guint i = 0; refused[i] != NULL; i++)
    {
      g_assert_false (stache_namespace_provider_delete_namespace (namespaces, refused[i], FALSE, NULL, &error));
      g_assert_error (error, STACHE_ERROR, STACHE_ERROR_NOT_EMPTY);
      g_assert_nonnull (strstr (error->message, "not empty"));
      g_assert_nonnull (strstr (error->message, "cascade"));
      g_assert_nonnull (strstr (error->message, refused[i]));
      /* counts in the singular where there is one */
      if (g_strcmp0 (refused[i], "with-chunks") == 0)
        g_assert_nonnull (strstr (error->message, "1 chunk, 0 documents and 0 child namespaces"));
      g_clear_error (&error);
    }

  /* Nothing was deleted. */
  left = namespace_names (namespaces, NULL);
  g_assert_cmpstr (left, ==, "chunks-below,chunks-below/deep,empty,with-child,with-child/kid,with-chunks,with-docs");
  g_assert_cmpint (count (db, NULL), ==, 2);

  /* An empty namespace goes; then it is not found. */
  g_assert_true (stache_namespace_provider_delete_namespace (namespaces, "empty", FALSE, NULL, &error));
  g_assert_no_error (error);
  gone = stache_namespace_provider_get_namespace (namespaces, "empty", NULL, &error);
  g_assert_error (error, STACHE_ERROR, STACHE_ERROR_NOT_FOUND);
  g_clear_error (&error);
  g_assert_false (stache_namespace_provider_delete_namespace (namespaces, "empty", FALSE, NULL, &error));
  g_assert_error (error, STACHE_ERROR, STACHE_ERROR_NOT_FOUND);
}

static void
test_namespace_delete_cascade (Fixture       *f,
                               gconstpointer  data)
{
  g_autoptr(StacheNamespaceProvider) namespaces = open_namespaces (f);
  g_autoptr(StacheVectorDbProvider) db = open_vectordb (f);
  g_autoptr(StacheDocumentIndexProvider) documents = open_documents (f);
  g_autoptr(GError) error = NULL;
  g_autoptr(GPtrArray) docs = NULL;
  g_autofree char *left = NULL, *words = NULL;

  create_namespace (namespaces, "research");
  create_namespace (namespaces, "research/papers");
  create_namespace (namespaces, "research_b");
  create_namespace (namespaces, "researchers");
  insert_one (db, "research", "c1", "cascade words", "d1", NULL, 1, 0, 0);
  insert_one (db, "research/papers", "c2", "cascade words", "d2", NULL, 1, 0, 0);
  insert_one (db, "research/implicit/deeper", "c3", "cascade words", NULL, NULL, 1, 0, 0);
  insert_one (db, "researchers", "c4", "cascade words", NULL, NULL, 1, 0, 0);
  index_document (documents, "d1", "research", "a");
  index_document (documents, "d2", "research/papers", "b");
  index_document (documents, "d4", "researchers", "c");

  g_assert_true (stache_namespace_provider_delete_namespace (namespaces, "research", TRUE, NULL, &error));
  g_assert_no_error (error);

  left = namespace_names (namespaces, NULL);
  g_assert_cmpstr (left, ==, "research_b,researchers");
  g_assert_cmpint (count (db, NULL), ==, 1);
  g_assert_cmpint (count (db, "researchers"), ==, 1);
  words = keyword_ids (db, NULL, "cascade", NULL);
  g_assert_cmpstr (words, ==, "c4");
  docs = stache_document_index_provider_list_documents (documents, NULL, NULL, &error);
  g_assert_no_error (error);
  g_assert_cmpuint (docs->len, ==, 1);
  g_assert_cmpstr (stache_document_get_id (g_ptr_array_index (docs, 0)), ==, "d4");

  /* An implicit namespace (chunks only) can be deleted too. */
  g_assert_true (stache_namespace_provider_delete_namespace (namespaces, "researchers", TRUE, NULL, &error));
  g_assert_no_error (error);
  g_assert_cmpint (count (db, NULL), ==, 0);
}

/* ---- documents ---- */

static void
test_documents_round_trip (Fixture       *f,
                           gconstpointer  data)
{
  g_autoptr(StacheDocumentIndexProvider) documents = open_documents (f);
  g_autoptr(StacheDocument) document = stache_document_new ("doc-1");
  g_autoptr(StacheDocument) found = NULL;
  g_autoptr(StacheDocument) bare = stache_document_new ("doc-bare");
  g_autoptr(StacheDocument) bare_found = NULL;
  g_autoptr(StacheDocument) missing = NULL;
  g_autoptr(JsonObject) metadata = json_object ("{\"author\": \"Grace\", \"pages\": 12, \"tags\": [\"a\", \"b\"]}");
  g_autoptr(GError) error = NULL;
  JsonObject *found_metadata;

  stache_document_set_namespace (document, "library/books");
  stache_document_set_source (document, "file:///home/ada/book.pdf");
  stache_document_set_title (document, "A Book — ünïcode");
  stache_document_set_media_type (document, "application/pdf");
  stache_document_set_content_hash (document, "sha256:0123456789abcdef");
  stache_document_set_summary (document, "What the book says.");
  stache_document_set_size (document, G_GUINT64_CONSTANT (5000000000));
  stache_document_set_chunk_count (document, 42);
  stache_document_set_created (document, 1700000000);
  stache_document_set_updated (document, 1700000123);
  stache_document_set_metadata (document, metadata);

  g_assert_true (stache_document_index_provider_index_document (documents, document, NULL, &error));
  g_assert_no_error (error);

  found = stache_document_index_provider_get_document (documents, "doc-1", NULL, &error);
  g_assert_no_error (error);
  g_assert_cmpstr (stache_document_get_id (found), ==, "doc-1");
  g_assert_cmpstr (stache_document_get_namespace (found), ==, "library/books");
  g_assert_cmpstr (stache_document_get_source (found), ==, "file:///home/ada/book.pdf");
  g_assert_cmpstr (stache_document_get_title (found), ==, "A Book — ünïcode");
  g_assert_cmpstr (stache_document_get_media_type (found), ==, "application/pdf");
  g_assert_cmpstr (stache_document_get_content_hash (found), ==, "sha256:0123456789abcdef");
  g_assert_cmpstr (stache_document_get_summary (found), ==, "What the book says.");
  g_assert_cmpuint (stache_document_get_size (found), ==, G_GUINT64_CONSTANT (5000000000));
  g_assert_cmpuint (stache_document_get_chunk_count (found), ==, 42);
  g_assert_cmpint (stache_document_get_created (found), ==, 1700000000);
  g_assert_cmpint (stache_document_get_updated (found), ==, 1700000123);
  found_metadata = stache_document_get_metadata (found);
  g_assert_nonnull (found_metadata);
  g_assert_cmpstr (json_object_get_string_member (found_metadata, "author"), ==, "Grace");
  g_assert_cmpint (json_object_get_int_member (found_metadata, "pages"), ==, 12);
  g_assert_cmpuint (json_array_get_length (json_object_get_array_member (found_metadata, "tags")), ==, 2);

  /* Unset properties stay unset. */
  g_assert_true (stache_document_index_provider_index_document (documents, bare, NULL, &error));
  g_assert_no_error (error);
  bare_found = stache_document_index_provider_get_document (documents, "doc-bare", NULL, &error);
  g_assert_no_error (error);
  g_assert_null (stache_document_get_namespace (bare_found));
  g_assert_null (stache_document_get_source (bare_found));
  g_assert_null (stache_document_get_title (bare_found));
  g_assert_null (stache_document_get_metadata (bare_found));
  g_assert_cmpuint (stache_document_get_size (bare_found), ==, 0);

  /* Indexing again replaces. */
  stache_document_set_title (document, "Second edition");
  g_assert_true (stache_document_index_provider_index_document (documents, document, NULL, &error));
  g_assert_no_error (error);
  g_clear_object (&found);
  found = stache_document_index_provider_get_document (documents, "doc-1", NULL, &error);
  g_assert_no_error (error);
  g_assert_cmpstr (stache_document_get_title (found), ==, "Second edition");

  missing = stache_document_index_provider_get_document (documents, "nope", NULL, &error);
  g_assert_error (error, STACHE_ERROR, STACHE_ERROR_NOT_FOUND);
  g_assert_null (missing);
}

static char *
document_ids (StacheDocumentIndexProvider *documents,
              const char                  *namespace_)
{
  g_autoptr(GError) error = NULL;
  g_autoptr(GPtrArray) list = stache_document_index_provider_list_documents (documents, namespace_, NULL, &error);
  g_autoptr(GString) ids = g_string_new (NULL);

  g_assert_no_error (error);
  for (guint i = 0; i < list->len; i++)
    g_string_append_printf (ids, "%s%s", i > 0 ? "," : "",
                            stache_document_get_id (g_ptr_array_index (list, i)));
  return g_string_free (g_steal_pointer (&ids), FALSE);
}

static void
test_documents_list (Fixture       *f,
                     gconstpointer  data)
{
  g_autoptr(StacheDocumentIndexProvider) documents = open_documents (f);
  g_autofree char *all = NULL, *a = NULL, *b = NULL, *none = NULL;

  index_document (documents, "z", "a", "file:///1");
  index_document (documents, "y", "a", "file:///2");
  index_document (documents, "x", "a", "file:///2");
  index_document (documents, "w", "b", "file:///0");
  index_document (documents, "v", "a/child", "file:///0");

  /* By source, then id. */
  all = document_ids (documents, NULL);
  g_assert_cmpstr (all, ==, "v,w,z,x,y");
  a = document_ids (documents, "a");
  g_assert_cmpstr (a, ==, "z,x,y");
  b = document_ids (documents, "b");
  g_assert_cmpstr (b, ==, "w");
  none = document_ids (documents, "c");
  g_assert_cmpstr (none, ==, "");
}

static void
test_documents_delete_removes_chunks (Fixture       *f,
                                      gconstpointer  data)
{
  g_autoptr(StacheDocumentIndexProvider) documents = open_documents (f);
  g_autoptr(StacheVectorDbProvider) db = open_vectordb (f);
  g_autoptr(StacheDocument) gone = NULL;
  g_autoptr(GError) error = NULL;
  g_autofree char *vector_hits = NULL, *word_hits = NULL, *left = NULL;

  index_document (documents, "d1", "n", "file:///d1");
  index_document (documents, "d2", "n", "file:///d2");
  insert_one (db, "n", "d1-0", "walrus facts", "d1", NULL, 1, 0, 0);
  insert_one (db, "n", "d1-1", "more walrus facts", "d1", NULL, 1, 0, 0);
  insert_one (db, "n", "d2-0", "walrus trivia", "d2", NULL, 1, 0, 0);
  insert_one (db, "m", "m-0", "walrus elsewhere", "d1", NULL, 1, 0, 0);

  g_assert_true (stache_document_index_provider_delete_document (documents, "d1", NULL, &error));
  g_assert_no_error (error);

  gone = stache_document_index_provider_get_document (documents, "d1", NULL, &error);
  g_assert_error (error, STACHE_ERROR, STACHE_ERROR_NOT_FOUND);
  g_clear_error (&error);

  vector_hits = search_ids (db, "n", NULL, 10, TRUE);
  g_assert_cmpstr (vector_hits, ==, "d2-0");
  word_hits = keyword_ids (db, "n", "walrus", NULL);
  g_assert_cmpstr (word_hits, ==, "d2-0");
  /* The document lived in "n": chunks of another namespace stay. */
  g_assert_cmpint (count (db, "m"), ==, 1);
  left = document_ids (documents, NULL);
  g_assert_cmpstr (left, ==, "d2");

  g_assert_false (stache_document_index_provider_delete_document (documents, "d1", NULL, &error));
  g_assert_error (error, STACHE_ERROR, STACHE_ERROR_NOT_FOUND);
}


/* A word in half of the chunks or more weighs nothing in BM25; the search
 * leaves it out first, and brings it back when the other words find too
 * few chunks, so the answers are those of the whole query. */
static void
test_vectordb_keyword_common_words (Fixture       *f,
                                    gconstpointer  data)
{
  g_autoptr(StacheVectorDbProvider) db = open_vectordb (f);
  g_autofree char *top = NULL;
  g_autofree char *all = NULL;
  g_autofree char *alone = NULL;

  for (guint i = 0; i < 12; i++)
    {
      g_autofree char *id = g_strdup_printf ("w%02u", i);
      g_autofree char *text = g_strdup_printf ("the quick note number %u about the weather", i);

      insert_one (db, "common", id, i == 7 ? "the zebra crossed the road" : text, NULL, NULL, 1, 0, 0);
    }

  top = keyword_ids (db, "common", "the zebra", NULL);
  g_assert_cmpstr (top, ==, "w07,w00,w01,w02,w03,w04,w05,w06,w08,w09");
  alone = keyword_ids (db, "common", "THE", NULL);
  g_assert_cmpuint (strlen (alone), >, 0);
  all = keyword_ids (db, "common", "zebra", NULL);
  g_assert_cmpstr (all, ==, "w07");
}

/* Searches from many threads at once share scans (the one that gets the
 * connection answers those waiting); each must get exactly the answer it
 * gets alone. */
typedef struct
{
  StacheVectorDbProvider *db;
  GArray                 *queries;   /* 20 queries of 64 floats */
  char                   *expected[20];
  guint                   first;
  gboolean                filtered;
} ConcurrentSearch;

static char *
busy_search_ids (StacheVectorDbProvider *db,
            const float            *query,
            gboolean                filtered)
{
  g_autoptr(GArray) q = floats (64, query);
  g_autoptr(JsonObject) filter = filtered ? json_object ("{\"half\": \"odd\"}") : NULL;
  g_autoptr(GPtrArray) results = NULL;
  g_autoptr(GError) error = NULL;

  results = stache_vector_db_provider_search (db, "busy", q, 7, filter, NULL, &error);
  g_assert_no_error (error);
  return ids_of (results);
}

static gpointer
concurrent_search_thread (gpointer data)
{
  ConcurrentSearch *cs = data;

  for (guint round = 0; round < 3; round++)
    for (guint i = 0; i < 20; i++)
      {
        guint q = (cs->first + i) % 20;
        g_autofree char *ids = busy_search_ids (cs->db, &g_array_index (cs->queries, float, q * 64),
                                           cs->filtered && q % 2 == 1);

        g_assert_cmpstr (ids, ==, cs->expected[q]);
      }

  return NULL;
}

static void
test_vectordb_concurrent_searches_share_scans (Fixture       *f,
                                               gconstpointer  data)
{
  g_autoptr(StacheVectorDbProvider) db = open_vectordb (f);
  g_autoptr(GPtrArray) chunks = g_ptr_array_new_with_free_func (g_object_unref);
  g_autoptr(GArray) vectors = g_array_new (FALSE, FALSE, sizeof (float));
  g_autoptr(GArray) queries = g_array_new (FALSE, FALSE, sizeof (float));
  g_autoptr(GRand) rand = g_rand_new_with_seed (21);
  g_autoptr(GError) error = NULL;
  ConcurrentSearch cs[8];
  GThread *threads[8];
  char *expected[20];

  for (guint i = 0; i < 3000; i++)
    {
      g_autofree char *id = g_strdup_printf ("b%04u", i);

      g_ptr_array_add (chunks, chunk_new (id, id, NULL, i % 2 ? "{\"half\": \"odd\"}" : "{\"half\": \"even\"}"));
      for (guint j = 0; j < 64; j++)
        {
          float v = (float) g_rand_double_range (rand, -1, 1);

          g_array_append_val (vectors, v);
        }
    }
  g_assert_true (stache_vector_db_provider_insert (db, "busy", chunks, vectors, NULL, &error));
  g_assert_no_error (error);

  for (guint i = 0; i < 20 * 64; i++)
    {
      float v = (float) g_rand_double_range (rand, -1, 1);

      g_array_append_val (queries, v);
    }
  for (guint q = 0; q < 20; q++)
    expected[q] = busy_search_ids (db, &g_array_index (queries, float, q * 64), q % 2 == 1);

  for (guint t = 0; t < G_N_ELEMENTS (threads); t++)
    {
      cs[t].db = db;
      cs[t].queries = queries;
      memcpy (cs[t].expected, expected, sizeof expected);
      cs[t].first = t * 3;
      cs[t].filtered = TRUE;
      threads[t] = g_thread_new ("search", concurrent_search_thread, &cs[t]);
    }
  for (guint t = 0; t < G_N_ELEMENTS (threads); t++)
    g_thread_join (threads[t]);

  for (guint q = 0; q < 20; q++)
    g_free (expected[q]);
}

static void assert_verified (StacheVectorDbProvider *db);

/* The ids of the best 5 chunks of @namespace_ for a 3-float query. */
static char *
search_ids_for (StacheVectorDbProvider *db,
                const char             *namespace_,
                const float            *q)
{
  g_autoptr(GArray) query = floats (3, q);
  g_autoptr(GPtrArray) results = NULL;
  g_autoptr(GError) error = NULL;

  results = stache_vector_db_provider_search (db, namespace_, query, 5, NULL, NULL, &error);
  g_assert_no_error (error);
  return ids_of (results);
}

/* Scans read a mapped copy of a namespace's vectors beside the database,
 * used only when it is of the generation the search sees. */
static void
test_vectordb_scan_file_is_a_checked_cache (Fixture       *f,
                                            gconstpointer  data)
{
  g_autofree char *scan = g_strdup_printf ("%s-scan-1", f->db_path);
  g_autoptr(GError) error = NULL;
  g_autofree char *before = NULL;
  g_autofree char *again = NULL;
  const float q[3] = { 1, 0.2f, 0 };

  {
    g_autoptr(StacheVectorDbProvider) db = open_vectordb (f);

    for (guint i = 0; i < 40; i++)
      {
        g_autofree char *id = g_strdup_printf ("s%02u", i);

        insert_one (db, "scan", id, id, NULL, NULL, 1, (float) i / 10, (float) (i % 3));
      }
    before = search_ids_for (db, "scan", q);
    /* The first scan read the segments and wrote the copy. */
    g_assert_true (g_file_test (scan, G_FILE_TEST_EXISTS));
    again = search_ids_for (db, "scan", q);
    g_assert_cmpstr (again, ==, before);
    assert_verified (db);
  }

  /* A copy from another generation (here: its header changed) is not used. */
  {
    g_autofree char *contents = NULL;
    gsize len;

    contents = file_contents (scan, &len);
    contents[16] ^= 1;   /* the generation */
    g_file_set_contents (scan, contents, len, &error);
    g_assert_no_error (error);
  }
  {
    g_autoptr(StacheVectorDbProvider) db = open_vectordb (f);

    g_autofree char *ignored = search_ids_for (db, "scan", q);
    g_autofree char *after = NULL;

    g_assert_cmpstr (ignored, ==, before);
    /* A write makes any copy stale: the new chunk is found at once. */
    insert_one (db, "scan", "new", "new", NULL, NULL, 1, 0.2f, 0);
    after = search_ids_for (db, "scan", q);
    g_assert_nonnull (strstr (after, "new"));
  }

  /* Damage inside a copy of the right generation: `stache check` finds it
   * and removes the copy. */
  {
    g_autoptr(StacheVectorDbProvider) db = open_vectordb (f);
    g_autofree char *contents = NULL;
    gsize len;

    g_autofree char *fresh = NULL;

    g_unlink (scan);
    fresh = search_ids_for (db, "scan", q);
    g_assert_true (g_file_test (scan, G_FILE_TEST_EXISTS));
    contents = file_contents (scan, &len);
    contents[4096 + 5] ^= 0x40;
    g_file_set_contents (scan, contents, len, &error);
    g_assert_no_error (error);
  }
  {
    g_autoptr(StacheVectorDbProvider) db = open_vectordb (f);

    assert_verified (db);
    g_assert_false (g_file_test (scan, G_FILE_TEST_EXISTS));
  }
}

/* The first scan of a scan file in a process reads it with pread() into a
 * buffer, a mebibyte at a time; later ones read the mapping. Both give
 * the exact nearest chunks: 600 vectors of 1024 floats (several reads),
 * searched from a fresh connection twice, against the dot products
 * computed here. */
#define WIDE_DIMS 1024
#define WIDE_COUNT 600

static void
test_vectordb_scan_file_read_then_mapped (Fixture       *f,
                                          gconstpointer  data)
{
  g_autoptr(GRand) rand = g_rand_new_with_seed (5);
  g_autofree float *vectors = g_new (float, (gsize) WIDE_COUNT * WIDE_DIMS);
  g_autofree float *q = g_new (float, WIDE_DIMS);
  g_autoptr(GString) expected = g_string_new (NULL);
  g_autofree char *scan = g_strdup_printf ("%s-scan-1", f->db_path);
  double scores[WIDE_COUNT];
  gboolean taken[WIDE_COUNT] = { FALSE };

  for (gsize i = 0; i < (gsize) WIDE_COUNT * WIDE_DIMS; i++)
    vectors[i] = (float) g_rand_double_range (rand, -1, 1);
  for (guint d = 0; d < WIDE_DIMS; d++)
    q[d] = (float) g_rand_double_range (rand, -1, 1);

  /* The expected five: cosine, as the store ranks */
  for (guint i = 0; i < WIDE_COUNT; i++)
    {
      double dot = 0, norm = 0;

      for (guint d = 0; d < WIDE_DIMS; d++)
        {
          dot += (double) vectors[(gsize) i * WIDE_DIMS + d] * q[d];
          norm += (double) vectors[(gsize) i * WIDE_DIMS + d] * vectors[(gsize) i * WIDE_DIMS + d];
        }
      scores[i] = dot / sqrt (norm);
    }
  for (guint k = 0; k < 5; k++)
    {
      guint best = 0;

      while (taken[best])
        best++;
      for (guint i = 0; i < WIDE_COUNT; i++)
        if (!taken[i] && scores[i] > scores[best])
          best = i;
      taken[best] = TRUE;
      g_string_append_printf (expected, "%sw%03u", k > 0 ? "," : "", best);
    }

  {
    g_autoptr(StacheVectorDbProvider) db = open_vectordb (f);
    g_autoptr(GPtrArray) chunks = g_ptr_array_new_with_free_func (g_object_unref);
    g_autoptr(GArray) array = g_array_new (FALSE, FALSE, sizeof (float));
    g_autoptr(GArray) query = floats (WIDE_DIMS, q);
    g_autoptr(GPtrArray) results = NULL;
    g_autoptr(GError) error = NULL;
    g_autofree char *ids = NULL;

    for (guint i = 0; i < WIDE_COUNT; i++)
      {
        g_autofree char *id = g_strdup_printf ("w%03u", i);

        g_ptr_array_add (chunks, chunk_new (id, id, NULL, NULL));
      }
    g_array_append_vals (array, vectors, (guint) WIDE_COUNT * WIDE_DIMS);
    g_assert_true (stache_vector_db_provider_insert (db, "wide", chunks, array, NULL, &error));
    g_assert_no_error (error);
    /* (the segments, then the copy written) */
    results = stache_vector_db_provider_search (db, "wide", query, 5, NULL, NULL, &error);
    g_assert_no_error (error);
    ids = ids_of (results);
    g_assert_cmpstr (ids, ==, expected->str);
    g_assert_true (g_file_test (scan, G_FILE_TEST_EXISTS));
  }

  {
    g_autoptr(StacheVectorDbProvider) db = open_vectordb (f);
    g_autoptr(GArray) query = floats (WIDE_DIMS, q);

    for (guint pass = 0; pass < 2; pass++)
      {
        g_autoptr(GPtrArray) results = NULL;
        g_autoptr(GError) error = NULL;
        g_autofree char *ids = NULL;

        results = stache_vector_db_provider_search (db, "wide", query, 5, NULL, NULL, &error);
        g_assert_no_error (error);
        ids = ids_of (results);
        g_assert_cmpstr (ids, ==, expected->str);
      }
  }
}

/* One integer that @sql selects from the file at @path, read-only; -1
 * when it selects no row. */
static gint64
read_int64 (const char *path,
            const char *sql)
{
  sqlite3 *handle = NULL;
  sqlite3_stmt *stmt = NULL;
  gint64 value = -1;

  g_assert_cmpint (sqlite3_open_v2 (path, &handle, SQLITE_OPEN_READONLY, NULL), ==, SQLITE_OK);
  g_assert_cmpint (sqlite3_prepare_v2 (handle, sql, -1, &stmt, NULL), ==, SQLITE_OK);
  if (sqlite3_step (stmt) == SQLITE_ROW)
    value = sqlite3_column_int64 (stmt, 0);
  sqlite3_finalize (stmt);
  sqlite3_close (handle);
  return value;
}

/* ---- the ANN index (HNSW) ---- */

#define ANN_DIMS 48
#define ANN_N 3000
#define ANN_CLUSTERS 30

/* Clustered unit vectors: Gaussian blobs around random centres, the way
 * embeddings of documents on a few topics fall. */
static void
clustered_vectors (GRand  *rand,
                   guint   n,
                   float  *out)
{
  static float centres[ANN_CLUSTERS][ANN_DIMS];
  static gboolean have_centres;

  if (!have_centres)
    {
      GRand *fixed = g_rand_new_with_seed (99);

      for (guint c = 0; c < ANN_CLUSTERS; c++)
        for (guint j = 0; j < ANN_DIMS; j++)
          centres[c][j] = (float) g_rand_double_range (fixed, -1, 1);
      g_rand_free (fixed);
      have_centres = TRUE;
    }

  for (guint i = 0; i < n; i++)
    {
      guint c = g_rand_int_range (rand, 0, ANN_CLUSTERS);

      for (guint j = 0; j < ANN_DIMS; j++)
        {
          /* Box-Muller */
          double u1 = g_rand_double_range (rand, 1e-12, 1), u2 = g_rand_double (rand);

          out[i * ANN_DIMS + j] = centres[c][j] + 0.35f * (float) (sqrt (-2 * log (u1)) * cos (2 * G_PI * u2));
        }
    }
}

static StacheVectorDbProvider *
open_vectordb_building (Fixture    *f,
                        const char *threshold,
                        const char *ef_search,
                        gboolean    background)
{
  g_autoptr(StacheSettings) settings = stache_settings_new_from_file (NULL, NULL);
  g_autoptr(GError) error = NULL;
  StacheProvider *provider;

  stache_settings_set_string (settings, "sqlite_path", f->db_path);
  stache_settings_set_string (settings, "sqlite_ann_threshold", threshold);
  /* At test sizes an exact scan is as fast as the index: use it anyway. */
  stache_settings_set_string (settings, "sqlite_ann_min_speedup", "0");
  /* The first search past the threshold builds the index before it
   * answers, so these tests see the index at once; the background build
   * has a test of its own. */
  if (background)
    stache_settings_set_string (settings, "sqlite_ann_build", "background");
  else
    stache_settings_set_string (settings, "sqlite_ann_build", "foreground");
  if (ef_search != NULL)
    stache_settings_set_string (settings, "sqlite_hnsw_ef_search", ef_search);
  provider = create_provider (settings, STACHE_PROVIDER_TYPE_VECTORDB, &error);
  g_assert_no_error (error);
  return STACHE_VECTOR_DB_PROVIDER (provider);
}

static StacheVectorDbProvider *
open_vectordb_with (Fixture    *f,
                    const char *threshold,
                    const char *ef_search)
{
  return open_vectordb_building (f, threshold, ef_search, FALSE);
}

static StacheVectorDbProvider *
open_vectordb_with_threshold (Fixture    *f,
                              const char *threshold)
{
  return open_vectordb_with (f, threshold, NULL);
}

static void
insert_clustered (StacheVectorDbProvider *db,
                  GRand                  *rand,
                  guint                   first,
                  guint                   n)
{
  g_autoptr(GPtrArray) chunks = g_ptr_array_new_with_free_func (g_object_unref);
  g_autoptr(GArray) vectors = g_array_new (FALSE, FALSE, sizeof (float));
  g_autoptr(GError) error = NULL;

  g_array_set_size (vectors, n * ANN_DIMS);
  clustered_vectors (rand, n, (float *) (gpointer) vectors->data);
  for (guint i = first; i < first + n; i++)
    {
      g_autofree char *id = g_strdup_printf ("a%05u", i);

      g_ptr_array_add (chunks, chunk_new (id, id, NULL, i % 2 == 0 ? "{\"half\": \"even\"}"
                                                                    : "{\"half\": \"odd\"}"));
    }
  g_assert_true (stache_vector_db_provider_insert (db, "ann", chunks, vectors, NULL, &error));
  g_assert_no_error (error);
}

/* Recall@10 of @ann against @exact over @n_queries clustered queries; no
 * result of @ann may be one @exact does not have at all. */
static double
ann_recall (StacheVectorDbProvider *ann,
            StacheVectorDbProvider *exact,
            guint                   n_queries,
            const char             *filter_json)
{
  g_autoptr(GRand) rand = g_rand_new_with_seed (5);
  g_autoptr(JsonObject) filter = filter_json != NULL ? json_object (filter_json) : NULL;
  guint found = 0, wanted = 0;

  for (guint q = 0; q < n_queries; q++)
    {
      g_autoptr(GArray) query = g_array_new (FALSE, FALSE, sizeof (float));
      g_autoptr(GPtrArray) truth = NULL;
      g_autoptr(GPtrArray) got = NULL;
      g_autoptr(GHashTable) expected = g_hash_table_new (g_str_hash, g_str_equal);
      g_autoptr(GError) error = NULL;

      g_array_set_size (query, ANN_DIMS);
      clustered_vectors (rand, 1, (float *) (gpointer) query->data);
      truth = stache_vector_db_provider_search (exact, "ann", query, 10, filter, NULL, &error);
      g_assert_no_error (error);
      got = stache_vector_db_provider_search (ann, "ann", query, 10, filter, NULL, &error);
      g_assert_no_error (error);

      for (guint i = 0; i < truth->len; i++)
        g_hash_table_add (expected, (gpointer) stache_search_result_get_id (g_ptr_array_index (truth, i)));
      wanted += truth->len;
      g_assert_cmpuint (got->len, ==, truth->len);
      for (guint i = 0; i < got->len; i++)
        {
          StacheSearchResult *hit = g_ptr_array_index (got, i);

          if (g_hash_table_contains (expected, stache_search_result_get_id (hit)))
            found++;
          if (filter != NULL)
            g_assert_nonnull (strstr (json_object_get_string_member (stache_search_result_get_metadata (hit), "half"),
                                      json_object_get_string_member (filter, "half")));
          /* Scores are the exact cosines, best first. */
          if (i > 0)
            g_assert_cmpfloat (stache_search_result_get_score (hit), <=,
                               stache_search_result_get_score (g_ptr_array_index (got, i - 1)));
        }
    }

  return (double) found / MAX (wanted, 1);
}

static void
test_ann_recall_at_defaults (Fixture       *f,
                             gconstpointer  data)
{
  g_autoptr(GRand) rand = g_rand_new_with_seed (11);
  g_autoptr(StacheVectorDbProvider) exact = open_vectordb_with_threshold (f, "0");
  g_autoptr(StacheVectorDbProvider) ann = open_vectordb_with_threshold (f, "1000");
  g_autofree char *index = g_strdup_printf ("%s-ann-1.hnsw", f->db_path);
  double recall;

  g_assert_true (stache_vector_db_provider_has_capability (ann, "ann"));
  insert_clustered (exact, rand, 0, ANN_N);
  g_assert_false (g_file_test (index, G_FILE_TEST_EXISTS));

  recall = ann_recall (ann, exact, 40, NULL);
  g_test_message ("recall@10 over %u clustered vectors of %u floats: %.3f", ANN_N, ANN_DIMS, recall);
  g_assert_cmpfloat (recall, >=, 0.95);
  /* Built on first use and saved beside the database. */
  g_assert_true (g_file_test (index, G_FILE_TEST_EXISTS));

  /* The answers do come from the graph: a walk with a tiny beam misses
   * some of the true neighbours, which an exact scan never does. */
  {
    g_autoptr(StacheVectorDbProvider) narrow = open_vectordb_with (f, "1000", "1");
    double narrow_recall = ann_recall (narrow, exact, 40, NULL);

    g_test_message ("recall@10 with ef_search 1 (k = 10): %.3f", narrow_recall);
    g_assert_cmpfloat (narrow_recall, <, 0.999);
  }
}

static void
test_ann_follows_deletes_and_inserts (Fixture       *f,
                                      gconstpointer  data)
{
  g_autoptr(GRand) rand = g_rand_new_with_seed (12);
  g_autoptr(StacheVectorDbProvider) exact = open_vectordb_with_threshold (f, "0");
  g_autoptr(StacheVectorDbProvider) ann = open_vectordb_with_threshold (f, "1000");
  g_autoptr(GPtrArray) doomed = g_ptr_array_new_with_free_func (g_free);
  double recall;

  insert_clustered (exact, rand, 0, ANN_N);
  g_assert_cmpfloat (ann_recall (ann, exact, 5, NULL), >=, 0.9);

  /* A third of the chunks go, new ones come: the index catches up from the
   * log of changes, and never answers with a deleted chunk (the exact
   * search would not have it, so recall would drop). */
  for (guint i = 0; i < ANN_N; i += 3)
    g_ptr_array_add (doomed, g_strdup_printf ("a%05u", i));
  g_ptr_array_add (doomed, NULL);
  g_assert_cmpint (delete_chunks (exact, "ann", (const char * const *) doomed->pdata, NULL), ==, ANN_N / 3);
  insert_clustered (exact, rand, ANN_N, 500);

  recall = ann_recall (ann, exact, 40, NULL);
  g_test_message ("recall@10 after deletes and inserts: %.3f", recall);
  g_assert_cmpfloat (recall, >=, 0.95);
  assert_verified (exact);
}

static void
test_ann_applies_filters (Fixture       *f,
                          gconstpointer  data)
{
  g_autoptr(GRand) rand = g_rand_new_with_seed (13);
  g_autoptr(StacheVectorDbProvider) exact = open_vectordb_with_threshold (f, "0");
  g_autoptr(StacheVectorDbProvider) ann = open_vectordb_with_threshold (f, "1000");
  double recall;

  insert_clustered (exact, rand, 0, ANN_N);
  recall = ann_recall (ann, exact, 40, "{\"half\": \"odd\"}");
  g_test_message ("recall@10 with a filter that takes half: %.3f", recall);
  g_assert_cmpfloat (recall, >=, 0.95);
}

/* A missing, damaged or stale index file is rebuilt from the vectors, and
 * the answers stay right. */
static void
test_ann_rebuilds_bad_index_files (Fixture       *f,
                                   gconstpointer  data)
{
  g_autoptr(GRand) rand = g_rand_new_with_seed (14);
  g_autofree char *index = g_strdup_printf ("%s-ann-1.hnsw", f->db_path);
  g_autoptr(GError) error = NULL;

  {
    g_autoptr(StacheVectorDbProvider) exact = open_vectordb_with_threshold (f, "0");
    g_autoptr(StacheVectorDbProvider) ann = open_vectordb_with_threshold (f, "1000");

    insert_clustered (exact, rand, 0, ANN_N);
    g_assert_cmpfloat (ann_recall (ann, exact, 5, NULL), >=, 0.9);
    g_assert_true (g_file_test (index, G_FILE_TEST_EXISTS));
  }

  for (guint round = 0; round < 4; round++)
    {
      g_autoptr(StacheVectorDbProvider) exact = NULL;
      g_autoptr(StacheVectorDbProvider) ann = NULL;
      double recall;

      switch (round)
        {
        case 0:   /* a byte flipped in the middle */
          {
            g_autofree char *contents = NULL;
            gsize len;

            contents = file_contents (index, &len);
            contents[len / 2] ^= 0x5a;
            g_file_set_contents (index, contents, len, &error);
            g_assert_no_error (error);
          }
          break;
        case 1:   /* cut short */
          {
            g_autofree char *contents = NULL;
            gsize len;

            contents = file_contents (index, &len);
            g_file_set_contents (index, contents, len / 3, &error);
            g_assert_no_error (error);
          }
          break;
        case 2:   /* gone */
          g_assert_cmpint (g_unlink (index), ==, 0);
          break;
        case 3:   /* stale: changes after it was saved, with their log gone */
          {
            g_autoptr(StacheVectorDbProvider) writer = open_vectordb_with_threshold (f, "0");
            sqlite3 *handle = NULL;

            insert_clustered (writer, rand, 10 * ANN_N, 300);
            g_clear_object (&writer);
            g_assert_cmpint (sqlite3_open (f->db_path, &handle), ==, SQLITE_OK);
            g_assert_cmpint (sqlite3_exec (handle, "DELETE FROM vector_changes", NULL, NULL, NULL), ==, SQLITE_OK);
            sqlite3_close (handle);
          }
          break;
        }

      /* New providers: a new connection, nothing of the index in memory. */
      exact = open_vectordb_with_threshold (f, "0");
      ann = open_vectordb_with_threshold (f, "1000");
      recall = ann_recall (ann, exact, 20, NULL);
      g_test_message ("round %u: recall@10 %.3f", round, recall);
      g_assert_cmpfloat (recall, >=, 0.95);
      g_assert_true (g_file_test (index, G_FILE_TEST_EXISTS));
    }
}

static gint64
space_generation (const char *path)
{
  return read_int64 (path, "SELECT generation FROM vector_spaces WHERE id = 1");
}

/* A database restored from a backup counts its generations on from an
 * older one; an index saved later beside it, even one whose generation
 * the restored copy reaches again, is of another history and not used. */
static void
test_ann_ignores_index_of_another_history (Fixture       *f,
                                           gconstpointer  data)
{
  g_autoptr(GRand) rand = g_rand_new_with_seed (15);
  g_autofree char *backup = NULL;
  g_autofree char *index = g_strdup_printf ("%s-ann-1.hnsw", f->db_path);
  g_autofree char *saved_index = NULL;
  g_autoptr(GError) error = NULL;
  gsize backup_len;
  gint64 later;

  {
    g_autoptr(StacheVectorDbProvider) exact = open_vectordb_with_threshold (f, "0");
    g_autoptr(StacheVectorDbProvider) ann = open_vectordb_with_threshold (f, "1000");

    insert_clustered (exact, rand, 0, ANN_N);
    g_assert_cmpfloat (ann_recall (ann, exact, 5, NULL), >=, 0.9);
  }
  backup = file_contents (f->db_path, &backup_len);
  {
    g_autofree char *contents = NULL;
    gsize len;

    contents = file_contents (index, &len);
    saved_index = g_compute_checksum_for_data (G_CHECKSUM_SHA256, (guchar *) contents, len);
  }

  /* Another history: most chunks replaced, so the index is rebuilt and
   * saved at a later generation. */
  {
    g_autoptr(StacheVectorDbProvider) exact = open_vectordb_with_threshold (f, "0");
    g_autoptr(StacheVectorDbProvider) ann = open_vectordb_with_threshold (f, "1000");
    g_autoptr(GPtrArray) doomed = g_ptr_array_new_with_free_func (g_free);

    for (guint i = 0; i < ANN_N; i++)
      if (i % 5 != 0)
        g_ptr_array_add (doomed, g_strdup_printf ("a%05u", i));
    g_ptr_array_add (doomed, NULL);
    delete_chunks (exact, "ann", (const char * const *) doomed->pdata, NULL);
    insert_clustered (exact, rand, 20000, 1800);
    g_assert_cmpfloat (ann_recall (ann, exact, 5, NULL), >=, 0.9);
  }
  later = space_generation (f->db_path);
  {
    g_autofree char *contents = NULL;
    g_autofree char *now = NULL;
    gsize len;

    /* Saved again after the changes. */
    contents = file_contents (index, &len);
    now = g_compute_checksum_for_data (G_CHECKSUM_SHA256, (guchar *) contents, len);
    g_assert_cmpstr (saved_index, !=, now);
  }

  /* The backup comes back, and is written to until it reaches the same
   * generation as the saved index. */
  g_file_set_contents (f->db_path, backup, backup_len, &error);
  g_assert_no_error (error);
  {
    g_autoptr(StacheVectorDbProvider) writer = open_vectordb_with_threshold (f, "0");

    for (guint k = 0; space_generation (f->db_path) < later && k < 1000; k++)
      insert_clustered (writer, rand, 40000 + k, 1);
  }
  g_assert_cmpint (space_generation (f->db_path), ==, later);

  {
    g_autoptr(StacheVectorDbProvider) exact = open_vectordb_with_threshold (f, "0");
    g_autoptr(StacheVectorDbProvider) ann = open_vectordb_with_threshold (f, "1000");
    double recall = ann_recall (ann, exact, 20, NULL);

    g_test_message ("recall@10 on the restored database: %.3f", recall);
    g_assert_cmpfloat (recall, >=, 0.95);
  }
}

static gint64
space_ann_ef (const char *path)
{
  return read_int64 (path, "SELECT ann_ef FROM vector_spaces WHERE namespace = 'hard'");
}

/* Vectors with no structure (uniform in a cube of 256 dimensions) are hard
 * for HNSW: the index measures its recall on sample queries when it is
 * built and searches as wide as it must to reach 0.95 (or not at all). */
static void
test_ann_measures_the_breadth_it_needs (Fixture       *f,
                                        gconstpointer  data)
{
  const guint n = 5000, dims = 256;
  g_autoptr(StacheVectorDbProvider) exact = open_vectordb_with_threshold (f, "0");
  g_autoptr(StacheVectorDbProvider) ann = open_vectordb_with_threshold (f, "1000");
  g_autoptr(GPtrArray) chunks = g_ptr_array_new_with_free_func (g_object_unref);
  g_autoptr(GArray) vectors = g_array_new (FALSE, FALSE, sizeof (float));
  g_autoptr(GRand) rand = g_rand_new_with_seed (16);
  g_autoptr(GError) error = NULL;
  guint found = 0, wanted = 0;

  for (guint i = 0; i < n; i++)
    {
      g_autofree char *id = g_strdup_printf ("h%05u", i);

      g_ptr_array_add (chunks, chunk_new (id, id, NULL, NULL));
      for (guint j = 0; j < dims; j++)
        {
          float v = (float) g_rand_double_range (rand, -1, 1);

          g_array_append_val (vectors, v);
        }
    }
  g_assert_true (stache_vector_db_provider_insert (exact, "hard", chunks, vectors, NULL, &error));
  g_assert_no_error (error);

  for (guint q = 0; q < 30; q++)
    {
      g_autoptr(GArray) query = g_array_new (FALSE, FALSE, sizeof (float));
      g_autoptr(GPtrArray) truth = NULL;
      g_autoptr(GPtrArray) got = NULL;
      g_autoptr(GHashTable) expected = g_hash_table_new (g_str_hash, g_str_equal);

      for (guint j = 0; j < dims; j++)
        {
          float v = (float) g_rand_double_range (rand, -1, 1);

          g_array_append_val (query, v);
        }
      truth = stache_vector_db_provider_search (exact, "hard", query, 10, NULL, NULL, &error);
      g_assert_no_error (error);
      got = stache_vector_db_provider_search (ann, "hard", query, 10, NULL, NULL, &error);
      g_assert_no_error (error);
      for (guint i = 0; i < truth->len; i++)
        g_hash_table_add (expected, (gpointer) stache_search_result_get_id (g_ptr_array_index (truth, i)));
      for (guint i = 0; i < got->len; i++)
        if (g_hash_table_contains (expected, stache_search_result_get_id (g_ptr_array_index (got, i))))
          found++;
      wanted += truth->len;
    }

  g_test_message ("unstructured vectors: measured ef_search %ld, recall@10 %.3f",
                  (long) space_ann_ef (f->db_path), (double) found / wanted);
  g_assert_cmpfloat ((double) found / wanted, >=, 0.90);
  /* Wider than the default, or exact scans (-1). */
  g_assert_true (space_ann_ef (f->db_path) > 96 || space_ann_ef (f->db_path) == -1);
}

/* By default an index that answers no faster than an exact scan is not
 * kept, and searches scan: a small namespace gains nothing from one. */
static void
test_ann_not_kept_when_no_faster (Fixture       *f,
                                  gconstpointer  data)
{
  g_autoptr(StacheSettings) settings = stache_settings_new_from_file (NULL, NULL);
  g_autoptr(GRand) rand = g_rand_new_with_seed (17);
  g_autoptr(StacheVectorDbProvider) exact = open_vectordb_with_threshold (f, "0");
  g_autofree char *index = g_strdup_printf ("%s-ann-1.hnsw", f->db_path);
  g_autoptr(GError) error = NULL;
  g_autoptr(StacheVectorDbProvider) ann = NULL;
  sqlite3 *handle = NULL;
  sqlite3_stmt *stmt = NULL;

  stache_settings_set_string (settings, "sqlite_path", f->db_path);
  stache_settings_set_string (settings, "sqlite_ann_threshold", "1000");
  stache_settings_set_string (settings, "sqlite_ann_min_speedup", "1000");
  stache_settings_set_string (settings, "sqlite_ann_build", "foreground");
  ann = STACHE_VECTOR_DB_PROVIDER (create_provider (settings, STACHE_PROVIDER_TYPE_VECTORDB, &error));
  g_assert_no_error (error);

  insert_clustered (exact, rand, 0, ANN_N);
  g_assert_cmpfloat (ann_recall (ann, exact, 10, NULL), ==, 1.0);
  g_assert_false (g_file_test (index, G_FILE_TEST_EXISTS));

  g_assert_cmpint (sqlite3_open_v2 (f->db_path, &handle, SQLITE_OPEN_READONLY, NULL), ==, SQLITE_OK);
  g_assert_cmpint (sqlite3_prepare_v2 (handle, "SELECT ann_ef, ann_checked FROM vector_spaces", -1, &stmt, NULL),
                   ==, SQLITE_OK);
  g_assert_cmpint (sqlite3_step (stmt), ==, SQLITE_ROW);
  g_assert_cmpint (sqlite3_column_int64 (stmt, 0), ==, -1);
  g_assert_cmpint (sqlite3_column_int64 (stmt, 1), ==, ANN_N);
  sqlite3_finalize (stmt);
  sqlite3_close (handle);
}

/* Waits (up to five minutes: valgrind) until the space's row says an index of its
 * current generation was saved. */
static gboolean
wait_for_saved_index (const char *path)
{
  for (guint i = 0; i < 30000; i++)
    {
      if (read_int64 (path, "SELECT ann_generation = generation FROM vector_spaces WHERE namespace = 'ann'") == 1)
        return TRUE;
      g_usleep (10000);
    }

  return FALSE;
}

/* Asserts that @ann answers exactly as @exact for a few queries. */
static void
assert_answers_exactly (StacheVectorDbProvider *ann,
                        StacheVectorDbProvider *exact)
{
  g_autoptr(GRand) rand = g_rand_new_with_seed (21);

  for (guint q = 0; q < 5; q++)
    {
      g_autoptr(GArray) query = g_array_new (FALSE, FALSE, sizeof (float));
      g_autoptr(GPtrArray) truth = NULL;
      g_autoptr(GPtrArray) got = NULL;
      g_autoptr(GError) error = NULL;

      g_array_set_size (query, ANN_DIMS);
      clustered_vectors (rand, 1, (float *) (gpointer) query->data);
      got = stache_vector_db_provider_search (ann, "ann", query, 10, NULL, NULL, &error);
      g_assert_no_error (error);
      truth = stache_vector_db_provider_search (exact, "ann", query, 10, NULL, NULL, &error);
      g_assert_no_error (error);
      g_assert_cmpuint (got->len, ==, truth->len);
      for (guint i = 0; i < got->len; i++)
        g_assert_cmpstr (stache_search_result_get_id (g_ptr_array_index (got, i)), ==,
                         stache_search_result_get_id (g_ptr_array_index (truth, i)));
    }
}

/* By default the index is built on a thread of its own: the search that
 * finds it missing, and those after it until it is ready, scan exactly
 * (so they answer as an exact search, at once); then the index is used.
 * A log too long to replay before a search is replayed there too. And a
 * connection closed while a build runs stops it and waits for it. */
static void
test_ann_builds_in_background (Fixture       *f,
                               gconstpointer  data)
{
  g_autoptr(GRand) rand = g_rand_new_with_seed (19);
  g_autoptr(StacheVectorDbProvider) exact = open_vectordb_with_threshold (f, "0");
  g_autoptr(StacheVectorDbProvider) ann = open_vectordb_building (f, "1000", NULL, TRUE);
  g_autofree char *index = g_strdup_printf ("%s-ann-1.hnsw", f->db_path);
  gint64 saved_generation;
  double recall;

  insert_clustered (exact, rand, 0, ANN_N);
  g_assert_cmpint (read_int64 (f->db_path, "SELECT ann_generation FROM vector_spaces"), ==, -1);

  /* Not one of these waits for the index. */
  assert_answers_exactly (ann, exact);

  g_assert_true (wait_for_saved_index (f->db_path));
  g_assert_true (g_file_test (index, G_FILE_TEST_EXISTS));
  recall = ann_recall (ann, exact, 40, NULL);
  g_test_message ("recall@10 once the background build is done: %.3f", recall);
  g_assert_cmpfloat (recall, >=, 0.95);

  /* More changes than a search replays itself (and enough to be saved
   * again): replayed on the thread, the index saved at the new
   * generation, and the answers right all along. */
  saved_generation = read_int64 (f->db_path, "SELECT ann_generation FROM vector_spaces");
  insert_clustered (exact, rand, ANN_N, 4200);
  assert_answers_exactly (ann, exact);
  g_assert_true (wait_for_saved_index (f->db_path));
  g_assert_cmpint (read_int64 (f->db_path, "SELECT ann_generation FROM vector_spaces"), >, saved_generation);
  g_assert_cmpfloat (ann_recall (ann, exact, 20, NULL), >=, 0.95);
  assert_verified (exact);

  /* A build under way when the last provider of the file goes: stopped,
   * waited for, nothing half-built kept; the next connection builds
   * again. */
  {
    g_autoptr(GPtrArray) doomed = g_ptr_array_new_with_free_func (g_free);

    /* Most of the chunks go: once caught up, the graph is mostly deleted
     * nodes, so it is built again. */
    for (guint i = 0; i < ANN_N + 4200; i++)
      if (i % 4 != 0)
        g_ptr_array_add (doomed, g_strdup_printf ("a%05u", i));
    g_ptr_array_add (doomed, NULL);
    delete_chunks (exact, "ann", (const char * const *) doomed->pdata, NULL);
    insert_clustered (exact, rand, 20000, 1000);
    assert_answers_exactly (ann, exact);
    g_clear_object (&ann);
    g_clear_object (&exact);
  }

  exact = open_vectordb_with_threshold (f, "0");
  ann = open_vectordb_building (f, "1000", NULL, TRUE);
  assert_answers_exactly (ann, exact);
  g_assert_true (wait_for_saved_index (f->db_path));
  g_assert_cmpfloat (ann_recall (ann, exact, 20, NULL), >=, 0.95);
  assert_verified (exact);
}

static void
test_ann_build_setting_checked (Fixture       *f,
                                gconstpointer  data)
{
  g_autoptr(StacheSettings) settings = stache_settings_new_from_file (NULL, NULL);
  g_autoptr(GError) error = NULL;
  g_autoptr(StacheProvider) provider = NULL;

  stache_settings_set_string (settings, "sqlite_path", f->db_path);
  stache_settings_set_string (settings, "sqlite_ann_build", "sideways");
  provider = create_provider (settings, STACHE_PROVIDER_TYPE_VECTORDB, &error);
  g_assert_null (provider);
  g_assert_error (error, STACHE_ERROR, STACHE_ERROR_INVALID_SETTING);
  g_assert_nonnull (strstr (error->message, "sqlite_ann_build"));
  g_assert_nonnull (strstr (error->message, "sideways"));
}

/* ---- the scan layout (schema 2) ---- */

static void
assert_verified (StacheVectorDbProvider *db)
{
  g_autoptr(GError) error = NULL;

  g_assert_true (stache_vector_db_provider_verify (db, NULL, &error));
  g_assert_no_error (error);
}

/* Vectors of 1024 floats fill a 64 KiB segment with 15, so 200 chunks
 * span 14 segments; deleting moves vectors between them, and every search
 * must still be exactly the brute-force answer over what is left. */
static void
test_vectordb_deletes_keep_segments_dense (Fixture       *f,
                                           gconstpointer  data)
{
  const guint n = 200, dims = 1024;
  g_autoptr(StacheVectorDbProvider) db = open_vectordb (f);
  g_autoptr(GPtrArray) chunks = g_ptr_array_new_with_free_func (g_object_unref);
  g_autoptr(GArray) vectors = g_array_new (FALSE, FALSE, sizeof (float));
  g_autoptr(GRand) rand = g_rand_new_with_seed (7);
  g_autofree gboolean *alive = g_new0 (gboolean, n);
  g_autoptr(GError) error = NULL;

  for (guint i = 0; i < n; i++)
    {
      g_autofree char *id = g_strdup_printf ("s%03u", i);
      g_autofree char *doc = g_strdup_printf ("doc%u", i % 7);

      g_ptr_array_add (chunks, chunk_new (id, id, doc, NULL));
      for (guint j = 0; j < dims; j++)
        {
          float v = (float) g_rand_double_range (rand, -1, 1);

          g_array_append_val (vectors, v);
        }
      alive[i] = TRUE;
    }
  g_assert_true (stache_vector_db_provider_insert (db, "dense", chunks, vectors, NULL, &error));
  g_assert_no_error (error);
  assert_verified (db);

  for (guint round = 0; round < 6; round++)
    {
      g_autoptr(GPtrArray) ids = g_ptr_array_new_with_free_func (g_free);
      g_autoptr(GArray) query = g_array_new (FALSE, FALSE, sizeof (float));
      g_autoptr(GPtrArray) results = NULL;
      double best = -2;
      guint best_index = 0, n_alive = 0;

      /* Round 3 deletes a whole document, the others scattered ids. */
      if (round == 3)
        {
          g_assert_cmpint (delete_chunks (db, "dense", NULL, "{\"document_id\": \"doc3\"}"), >, 0);
          for (guint i = 3; i < n; i += 7)
            alive[i] = FALSE;
        }
      else
        {
          for (guint k = 0; k < 15; k++)
            {
              guint i = g_rand_int_range (rand, 0, n);

              if (alive[i])
                g_ptr_array_add (ids, g_strdup_printf ("s%03u", i));
              alive[i] = FALSE;
            }
          g_ptr_array_add (ids, NULL);
          delete_chunks (db, "dense", (const char * const *) ids->pdata, NULL);
        }
      assert_verified (db);

      for (guint j = 0; j < dims; j++)
        {
          float v = (float) g_rand_double_range (rand, -1, 1);

          g_array_append_val (query, v);
        }
      for (guint i = 0; i < n; i++)
        {
          double score;

          if (!alive[i])
            continue;
          n_alive++;
          score = brute_force_cosine ((const float *) (gpointer) query->data,
                                      &g_array_index (vectors, float, i * dims), dims);
          if (score > best)
            {
              best = score;
              best_index = i;
            }
        }
      g_assert_cmpint (count (db, "dense"), ==, n_alive);

      results = stache_vector_db_provider_search (db, "dense", query, n, NULL, NULL, &error);
      g_assert_no_error (error);
      g_assert_cmpuint (results->len, ==, n_alive);
      {
        g_autofree char *id = g_strdup_printf ("s%03u", best_index);

        g_assert_cmpstr (stache_search_result_get_id (g_ptr_array_index (results, 0)), ==, id);
        g_assert_cmpfloat_with_epsilon (stache_search_result_get_score (g_ptr_array_index (results, 0)),
                                        best, 1e-5);
      }
      for (guint r = 0; r < results->len; r++)
        {
          const char *id = stache_search_result_get_id (g_ptr_array_index (results, r));

          g_assert_true (alive[atoi (id + 1)]);
        }
    }
}

/* A namespace re-embedded with another model holds vectors of two lengths
 * for a while: inserting is allowed, searching says what is wrong, and
 * once the old ones are gone search works again. */
static void
test_vectordb_two_lengths_in_one_namespace (Fixture       *f,
                                            gconstpointer  data)
{
  g_autoptr(StacheVectorDbProvider) db = open_vectordb (f);
  g_autoptr(GPtrArray) chunks = g_ptr_array_new_with_free_func (g_object_unref);
  const float two[2] = { 0, 1 };
  g_autoptr(GArray) vector = floats (2, two);
  g_autoptr(GArray) query = floats (2, two);
  g_autoptr(GPtrArray) results = NULL;
  g_autoptr(GError) error = NULL;
  const char *old_ids[] = { "old", NULL };

  insert_one (db, "mixed", "old", "three floats", NULL, NULL, 1, 0, 0);
  g_ptr_array_add (chunks, chunk_new ("new", "two floats", NULL, NULL));
  g_assert_true (stache_vector_db_provider_insert (db, "mixed", chunks, vector, NULL, &error));
  g_assert_no_error (error);
  g_assert_cmpint (count (db, "mixed"), ==, 2);
  assert_verified (db);

  results = stache_vector_db_provider_search (db, "mixed", query, 5, NULL, NULL, &error);
  g_assert_error (error, STACHE_ERROR, STACHE_ERROR_INVALID_ARGUMENT);
  g_assert_nonnull (strstr (error->message, "“old”"));
  g_clear_error (&error);

  g_assert_cmpint (delete_chunks (db, "mixed", old_ids, NULL), ==, 1);
  results = stache_vector_db_provider_search (db, "mixed", query, 5, NULL, NULL, &error);
  g_assert_no_error (error);
  g_assert_cmpuint (results->len, ==, 1);
  g_assert_cmpstr (stache_search_result_get_id (g_ptr_array_index (results, 0)), ==, "new");
  assert_verified (db);
}

static gint64
user_version (const char *path)
{
  return read_int64 (path, "PRAGMA user_version");
}

/* Copies tests/data/@name to where the store's file goes */
static void
install_fixture (Fixture    *f,
                 const char *name)
{
  g_autofree char *fixture = g_test_build_filename (G_TEST_DIST, "data", name, NULL);
  g_autofree char *contents = NULL;
  g_autofree char *dir = g_path_get_dirname (f->db_path);
  g_autoptr(GError) error = NULL;
  gsize len;

  contents = file_contents (fixture, &len);
  g_assert_cmpint (g_mkdir_with_parents (dir, 0700), ==, 0);
  g_file_set_contents (f->db_path, contents, len, &error);
  g_assert_no_error (error);
}

/* tests/data/sqlite-schema1.db was written by the release before the
 * scan layout: the sample notes in `default` (19 chunks, 7 documents) and
 * two of them again in `research` (7 chunks). */
static void
test_database_migrates_schema_1 (Fixture       *f,
                                 gconstpointer  data)
{
  g_autoptr(GError) error = NULL;

  install_fixture (f, "sqlite-schema1.db");
  g_assert_cmpint (user_version (f->db_path), ==, 1);

  {
    g_autoptr(StacheVectorDbProvider) db = open_vectordb (f);
    g_autoptr(StacheDocumentIndexProvider) documents = open_documents (f);
    g_autoptr(StacheNamespaceProvider) namespaces = open_namespaces (f);
    g_autoptr(GPtrArray) listed = NULL;
    g_autoptr(GPtrArray) results = NULL;
    g_autoptr(StacheNamespace) research = NULL;
    g_autoptr(GArray) query = g_array_new (FALSE, FALSE, sizeof (float));
    g_autofree char *found = NULL;

    g_assert_cmpint (user_version (f->db_path), ==, 5);
    g_assert_cmpint (count (db, "default"), ==, 19);
    g_assert_cmpint (count (db, "research"), ==, 7);
    assert_verified (db);

    listed = stache_document_index_provider_list_documents (documents, NULL, NULL, &error);
    g_assert_no_error (error);
    g_assert_cmpuint (listed->len, ==, 9);

    research = stache_namespace_provider_get_namespace (namespaces, "research", NULL, &error);
    g_assert_no_error (error);
    g_assert_cmpstr (stache_namespace_get_description (research), ==, "Papers and notes");

    /* The keyword index was built anew from the chunks. */
    found = keyword_ids (db, "research", "starter", NULL);
    g_assert_nonnull (strstr (found, ":"));

    /* Vectors too: every chunk is found by a query of the right length. */
    for (guint i = 0; i < 384; i++)
      {
        float v = (i % 7) * 0.1f;

        g_array_append_val (query, v);
      }
    results = stache_vector_db_provider_search (db, "default", query, 100, NULL, NULL, &error);
    g_assert_no_error (error);
    g_assert_cmpuint (results->len, ==, 19);
  }

  /* A second open finds schema 4 and leaves it alone. */
  {
    g_autoptr(StacheVectorDbProvider) db = open_vectordb (f);

    g_assert_cmpint (count (db, "default"), ==, 19);
  }
}

/* tests/data/sqlite-schema2.db is the schema-1 fixture as the release with
 * FTS5 for keywords left it (schema 2). Opening it builds the keyword index
 * of schema 3 from the chunks and drops FTS5's tables; searches give what
 * they gave. */
static void
test_database_migrates_schema_2 (Fixture       *f,
                                 gconstpointer  data)
{
  g_autoptr(GError) error = NULL;

  install_fixture (f, "sqlite-schema2.db");
  g_assert_cmpint (user_version (f->db_path), ==, 2);
  g_assert_cmpint (read_int64 (f->db_path, "SELECT count (*) FROM sqlite_master WHERE name = 'chunks_fts'"), ==, 1);

  {
    g_autoptr(StacheVectorDbProvider) db = open_vectordb (f);
    g_autofree char *starter = NULL, *everywhere = NULL, *none = NULL;

    g_assert_cmpint (user_version (f->db_path), ==, 5);
    g_assert_cmpint (read_int64 (f->db_path, "SELECT count (*) FROM sqlite_master WHERE name LIKE 'chunks_fts%'"),
                     ==, 0);
    g_assert_cmpint (read_int64 (f->db_path, "SELECT sum (docs) FROM keyword_segments"), ==, 26);
    g_assert_cmpint (count (db, "default"), ==, 19);
    g_assert_cmpint (count (db, "research"), ==, 7);
    assert_verified (db);

    starter = keyword_ids (db, "research", "starter", NULL);
    g_assert_nonnull (strstr (starter, ":"));
    everywhere = keyword_ids (db, NULL, "starter", NULL);
    g_assert_cmpuint (strlen (everywhere), >, strlen (starter));
    none = keyword_ids (db, NULL, "xylophonist", NULL);
    g_assert_cmpstr (none, ==, "");
  }
}

/* tests/data/sqlite-schema3.db is the schema-2 fixture as the release
 * with a keyword index of its own left it (schema 3): words as they are.
 * Opening it with the default text language (english) records that the
 * index has no stems, then rebuilds it with stems: "starters" finds the
 * chunks that say "starter". With text_language=none it is rebuilt back
 * and the plural finds nothing. */
static void
test_database_migrates_schema_3 (Fixture       *f,
                                 gconstpointer  data)
{
  install_fixture (f, "sqlite-schema3.db");
  g_assert_cmpint (user_version (f->db_path), ==, 3);

  {
    g_autoptr(StacheVectorDbProvider) db = open_vectordb (f);
    g_autofree char *starter = NULL, *starters = NULL;

    g_assert_cmpint (user_version (f->db_path), ==, 5);
    g_assert_cmpint (read_int64 (f->db_path, "SELECT count (*) FROM keyword_language WHERE language = 'english'"),
                     ==, 1);
    g_assert_cmpint (read_int64 (f->db_path, "SELECT sum (docs) FROM keyword_segments"), ==, 26);
    g_assert_cmpint (count (db, "research"), ==, 7);
    assert_verified (db);

    starter = keyword_ids (db, "research", "starter", NULL);
    g_assert_nonnull (strstr (starter, ":"));
    starters = keyword_ids (db, "research", "starters", NULL);
    g_assert_cmpstr (starters, ==, starter);
  }

  stache_settings_set_string (f->settings, "text_language", "none");
  {
    g_autoptr(StacheVectorDbProvider) db = open_vectordb (f);
    g_autofree char *starter = NULL, *starters = NULL;

    g_assert_cmpint (read_int64 (f->db_path, "SELECT count (*) FROM keyword_language WHERE language = 'none'"),
                     ==, 1);
    starter = keyword_ids (db, "research", "starter", NULL);
    g_assert_nonnull (strstr (starter, ":"));
    starters = keyword_ids (db, "research", "starters", NULL);
    g_assert_cmpstr (starters, ==, "");
    assert_verified (db);

    /* Another process rebuilds the index in English meanwhile: this one's
     * words would not meet it, so its searches and writes say so. */
    make_sqlite_file (f->db_path, "UPDATE keyword_language SET language = 'english'");
    {
      g_autoptr(GError) error = NULL;
      g_autoptr(GPtrArray) results = NULL;

      results = stache_vector_db_provider_keyword_search (db, "research", "starter", 10, NULL, NULL, &error);
      g_assert_null (results);
      g_assert_error (error, STACHE_ERROR, STACHE_ERROR_FAILED);
      g_assert_nonnull (strstr (error->message, "another process"));
      g_assert_nonnull (strstr (error->message, "text_language"));
      g_clear_error (&error);
      {
        g_autoptr(GPtrArray) chunks = g_ptr_array_new_with_free_func (g_object_unref);
        const float values[3] = { 1, 0, 0 };
        g_autoptr(GArray) vectors = floats (3, values);

        g_ptr_array_add (chunks, chunk_new ("late", "a late starter", NULL, NULL));
        g_assert_false (stache_vector_db_provider_insert (db, "research", chunks, vectors, NULL, &error));
        g_assert_error (error, STACHE_ERROR, STACHE_ERROR_FAILED);
        g_assert_nonnull (strstr (error->message, "another process"));
      }
      g_assert_cmpint (count (db, "research"), ==, 7);
    }
  }
}

/* ---- main ---- */

int
main (int    argc,
      char **argv)
{
  const char *plugins = g_getenv ("STACHE_TEST_BUILTIN_PLUGINS");
  g_autofree char *sub = NULL;
  g_autoptr(GError) error = NULL;
  char *home;
  int status;

  if (plugins == NULL)
    {
      g_printerr ("STACHE_TEST_BUILTIN_PLUGINS must name the folder of the built plugins\n");
      return 1;
    }
  g_setenv ("STACHE_PLUGIN_PATH", plugins, TRUE);

  /* Nothing of the user's own configuration, data or plugins. */
  home = g_dir_make_tmp ("stache-sqlite-home-XXXXXX", &error);
  g_assert_no_error (error);
  sub = g_build_filename (home, "config", NULL);
  g_setenv ("XDG_CONFIG_HOME", sub, TRUE);
  g_free (sub);
  sub = g_build_filename (home, "data", NULL);
  g_setenv ("XDG_DATA_HOME", sub, TRUE);
  g_free (sub);
  sub = g_build_filename (home, "data-dirs", NULL);
  g_setenv ("XDG_DATA_DIRS", sub, TRUE);
  g_unsetenv ("SQLITE_PATH");

  g_test_init (&argc, &argv, NULL);

  loader = stache_plugin_loader_new ();

#define ADD(path, func) g_test_add (path, Fixture, NULL, fixture_set_up, func, fixture_tear_down)
  ADD ("/sqlite/vectordb/exact-top-k", test_vectordb_exact_top_k);
  ADD ("/sqlite/vectordb/result-fields", test_vectordb_result_fields);
  ADD ("/sqlite/vectordb/namespaces-isolate", test_vectordb_namespaces_isolate);
  ADD ("/sqlite/vectordb/filter-in", test_vectordb_filter_in);
  ADD ("/sqlite/vectordb/filter-and-or", test_vectordb_filter_and_or);
  ADD ("/sqlite/vectordb/filter-document-id", test_vectordb_filter_document_id);
  ADD ("/sqlite/vectordb/delete-ids", test_vectordb_delete_ids);
  ADD ("/sqlite/vectordb/delete-filter", test_vectordb_delete_filter);
  ADD ("/sqlite/vectordb/delete-ids-and-filter", test_vectordb_delete_ids_and_filter);
  ADD ("/sqlite/vectordb/count", test_vectordb_count);
  ADD ("/sqlite/vectordb/replace-document", test_vectordb_replace_document);
  ADD ("/sqlite/vectordb/keyword-ranking", test_vectordb_keyword_ranking);
  ADD ("/sqlite/vectordb/keyword-rank-equals-bm25", test_vectordb_keyword_rank_equals_bm25);
  ADD ("/sqlite/vectordb/document-rank-equals-bm25", test_vectordb_document_rank_equals_bm25);
  ADD ("/sqlite/vectordb/keyword-index-damage-found", test_vectordb_keyword_index_damage_found);
  ADD ("/sqlite/vectordb/keyword-long-words", test_vectordb_keyword_long_words);
  ADD ("/sqlite/vectordb/keyword-accents-and-case", test_vectordb_keyword_accents);
  ADD ("/sqlite/vectordb/keyword-syntax-is-literal", test_vectordb_keyword_syntax);
  ADD ("/sqlite/vectordb/keyword-common-words", test_vectordb_keyword_common_words);
  ADD ("/sqlite/vectordb/dimension-mismatch", test_vectordb_dimension_mismatch);
  ADD ("/sqlite/vectordb/cancelled", test_vectordb_cancelled);
  ADD ("/sqlite/vectordb/capabilities", test_vectordb_capabilities);
  ADD ("/sqlite/vectordb/deletes-keep-segments-dense", test_vectordb_deletes_keep_segments_dense);
  ADD ("/sqlite/vectordb/two-lengths-in-one-namespace", test_vectordb_two_lengths_in_one_namespace);
  ADD ("/sqlite/vectordb/concurrent-searches-share-scans", test_vectordb_concurrent_searches_share_scans);
  ADD ("/sqlite/vectordb/scan-file-is-a-checked-cache", test_vectordb_scan_file_is_a_checked_cache);
  ADD ("/sqlite/vectordb/scan-file-read-then-mapped", test_vectordb_scan_file_read_then_mapped);
  ADD ("/sqlite/ann/recall-at-defaults", test_ann_recall_at_defaults);
  ADD ("/sqlite/ann/follows-deletes-and-inserts", test_ann_follows_deletes_and_inserts);
  ADD ("/sqlite/ann/applies-filters", test_ann_applies_filters);
  ADD ("/sqlite/ann/rebuilds-bad-index-files", test_ann_rebuilds_bad_index_files);
  ADD ("/sqlite/ann/ignores-index-of-another-history", test_ann_ignores_index_of_another_history);
  ADD ("/sqlite/ann/measures-the-breadth-it-needs", test_ann_measures_the_breadth_it_needs);
  ADD ("/sqlite/ann/not-kept-when-no-faster", test_ann_not_kept_when_no_faster);
  ADD ("/sqlite/ann/builds-in-background", test_ann_builds_in_background);
  ADD ("/sqlite/ann/build-setting-checked", test_ann_build_setting_checked);
  ADD ("/sqlite/database/persists", test_database_persists);
  ADD ("/sqlite/database/wal", test_database_wal);
  ADD ("/sqlite/database/default-path", test_database_default_path);
  ADD ("/sqlite/database/foreign-refused", test_database_foreign_refused);
  ADD ("/sqlite/database/garbage-refused", test_database_garbage_refused);
  ADD ("/sqlite/database/damaged-refused", test_database_damaged_refused);
  ADD ("/sqlite/database/unusable-path", test_database_unusable_path);
  ADD ("/sqlite/database/concurrent-writers", test_database_concurrent_writers);
  ADD ("/sqlite/database/migrates-schema-1", test_database_migrates_schema_1);
  ADD ("/sqlite/database/migrates-schema-2", test_database_migrates_schema_2);
  ADD ("/sqlite/database/migrates-schema-3", test_database_migrates_schema_3);
  ADD ("/sqlite/namespace/create-get", test_namespace_create_get);
  ADD ("/sqlite/namespace/list", test_namespace_list);
  ADD ("/sqlite/namespace/create-registers-implicit", test_namespace_create_registers_implicit);
  ADD ("/sqlite/namespace/delete-refuses-non-empty", test_namespace_delete_refuses_non_empty);
  ADD ("/sqlite/namespace/delete-cascade", test_namespace_delete_cascade);
  ADD ("/sqlite/documents/round-trip", test_documents_round_trip);
  ADD ("/sqlite/documents/list", test_documents_list);
  ADD ("/sqlite/documents/delete-removes-chunks", test_documents_delete_removes_chunks);
#undef ADD

  status = g_test_run ();

  g_clear_object (&loader);
  remove_tree (home);
  g_free (home);

  return status;
}

/* test-store.c: the pipeline with the embedded defaults, no configuration
 *
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */
#include <string.h>
#include <unistd.h>
#include <sys/stat.h>
#include <stache.h>

#include "stache-test-utils.h"

typedef struct
{
  char           *tmp;
  char           *db_path;
  StacheSettings *settings;
  StacheStore    *store;
} Fixture;

static void
fixture_set_up (Fixture       *fixture,
                gconstpointer  data)
{
  g_autoptr(GError) error = NULL;

  fixture->tmp = test_isolated_environment ();
  g_setenv ("STACHE_PLUGIN_PATH", g_getenv ("STACHE_TEST_BUILTIN_PLUGINS"), TRUE);
  fixture->db_path = g_build_filename (fixture->tmp, "stache.db", NULL);
  fixture->settings = stache_settings_new_from_file (NULL, &error);
  g_assert_no_error (error);
  stache_settings_set_string (fixture->settings, "sqlite_path", fixture->db_path);
  fixture->store = stache_store_new (fixture->settings, &error);
  g_assert_no_error (error);
}

static void
fixture_tear_down (Fixture       *fixture,
                   gconstpointer  data)
{
  g_clear_object (&fixture->store);
  g_clear_object (&fixture->settings);
  test_remove_tree (fixture->tmp);
  g_free (fixture->tmp);
  g_free (fixture->db_path);
}

static char *
write_file (Fixture    *fixture,
            const char *name,
            const char *contents,
            gssize      length)
{
  char *path = g_build_filename (fixture->tmp, name, NULL);
  g_autofree char *dir = g_path_get_dirname (path);
  g_autoptr(GError) error = NULL;

  g_assert_cmpint (g_mkdir_with_parents (dir, 0700), ==, 0);
  g_file_set_contents (path, contents, length, &error);
  g_assert_no_error (error);

  return path;
}

static StacheIngestResult *
ingest_path (Fixture    *fixture,
             const char *path,
             const char *namespace_)
{
  g_autoptr(GFile) file = g_file_new_for_path (path);
  g_autoptr(GError) error = NULL;
  StacheIngestResult *result = stache_store_ingest_file (fixture->store, file, namespace_, NULL, &error);

  g_assert_no_error (error);
  return result;
}

static const char *
result_source (StacheSearchResult *result)
{
  JsonObject *metadata = stache_search_result_get_metadata (result);

  g_assert_nonnull (metadata);
  return json_object_get_string_member_with_default (metadata, "source", "");
}

static GPtrArray *
ingest_samples (Fixture *fixture)
{
  g_autoptr(GFile) samples = g_file_new_for_path (g_getenv ("STACHE_TEST_SAMPLES"));
  g_autoptr(GError) error = NULL;
  GPtrArray *results;

  results = stache_store_ingest_directory (fixture->store, samples, NULL, NULL, NULL, NULL, &error);
  g_assert_no_error (error);
  return results;
}

/* ---- no configuration ---- */

static void
test_defaults_are_embedded (Fixture       *fixture,
                            gconstpointer  data)
{
  g_autoptr(StacheEmbeddingProvider) embedder = NULL;
  g_autoptr(StacheVectorDbProvider) vectordb = NULL;
  g_autoptr(StacheRerankerProvider) reranker = NULL;

  g_object_get (fixture->store, "embedding-provider", &embedder, "vector-db-provider", &vectordb,
                "reranker-provider", &reranker, NULL);
  g_assert_nonnull (embedder);
  g_assert_nonnull (vectordb);
  g_assert_nonnull (reranker);
  g_assert_true (stache_vector_db_provider_has_capability (vectordb, "keyword_search"));
  g_assert_true (g_file_test (fixture->db_path, G_FILE_TEST_EXISTS));
}

static void
test_sample_notes_right_document_first (Fixture       *fixture,
                                        gconstpointer  data)
{
  const struct { const char *query; const char *file; } cases[] = {
    { "how do I keep a sourdough starter alive", "sourdough.md" },
    { "treating varroa mites in the colony", "beekeeping.txt" },
    { "how to collimate the mirrors of a reflector", "telescope.html" },
    { "what does a checkpoint do with the WAL file", "sqlite-wal.md" },
    { "ratio of greens to browns", "composting.md" },
    { "how often should I oil my chain", "bicycle-maintenance.txt" },
    { "where do sea anemones live", "tide-pools.html" },
  };
  const StacheSearchMode modes[] = { STACHE_SEARCH_MODE_HYBRID, STACHE_SEARCH_MODE_VECTOR,
                                     STACHE_SEARCH_MODE_KEYWORD };
  g_autoptr(GPtrArray) ingested = ingest_samples (fixture);

  g_assert_cmpuint (ingested->len, ==, 7);
  for (guint i = 0; i < ingested->len; i++)
    g_assert_cmpint (stache_ingest_result_get_outcome (g_ptr_array_index (ingested, i)), ==,
                     STACHE_INGEST_OUTCOME_ADDED);

  for (guint m = 0; m < G_N_ELEMENTS (modes); m++)
    for (guint i = 0; i < G_N_ELEMENTS (cases); i++)
      {
        g_autoptr(GError) error = NULL;
        g_autoptr(GPtrArray) results = NULL;

        results = stache_store_search_full (fixture->store, cases[i].query, NULL, 3, modes[m], NULL,
                                            NULL, &error);
        g_assert_no_error (error);
        g_assert_cmpuint (results->len, >, 0);
        if (!g_str_has_suffix (result_source (g_ptr_array_index (results, 0)), cases[i].file))
          g_error ("mode %u, “%s”: expected %s first, got %s", m, cases[i].query, cases[i].file,
                   result_source (g_ptr_array_index (results, 0)));
      }
}

static void
test_heading_path_in_metadata (Fixture       *fixture,
                               gconstpointer  data)
{
  g_autoptr(GPtrArray) ingested = ingest_samples (fixture);
  g_autoptr(GPtrArray) results = NULL;
  g_autoptr(GError) error = NULL;
  JsonObject *metadata;

  results = stache_store_search (fixture->store, "hooch grey liquid starter hungry", NULL, 1, NULL, &error);
  g_assert_no_error (error);
  g_assert_cmpuint (results->len, ==, 1);
  metadata = stache_search_result_get_metadata (g_ptr_array_index (results, 0));
  g_assert_cmpstr (json_object_get_string_member_with_default (metadata, "heading_path", NULL), ==,
                   "Sourdough at home > Keeping a starter alive");
  g_assert_cmpstr (json_object_get_string_member_with_default (metadata, "title", NULL), ==,
                   "Sourdough at home");
}

static void
test_ask_cites_sources (Fixture       *fixture,
                        gconstpointer  data)
{
  g_autoptr(GPtrArray) ingested = ingest_samples (fixture);
  g_autoptr(StacheAnswer) answer = NULL;
  g_autoptr(GError) error = NULL;
  GPtrArray *sources;
  const char *cite;
  guint n;

  answer = stache_store_ask (fixture->store, "How often does a starter in the refrigerator need feeding?",
                             NULL, 3, NULL, &error);
  g_assert_no_error (error);
  g_assert_cmpstr (stache_answer_get_model (answer), ==, "extractive");
  g_assert_nonnull (strstr (stache_answer_get_text (answer), "once a week"));

  cite = strchr (stache_answer_get_text (answer), '[');
  g_assert_nonnull (cite);
  n = (guint) g_ascii_strtoull (cite + 1, NULL, 10);
  sources = stache_answer_get_sources (answer);
  g_assert_cmpuint (n, >=, 1);
  g_assert_cmpuint (n, <=, sources->len);
  g_assert_true (g_str_has_suffix (result_source (g_ptr_array_index (sources, n - 1)), "sourdough.md"));
}

/* ---- idempotence and replacement ---- */

static void
test_reingest_identical_is_noop (Fixture       *fixture,
                                 gconstpointer  data)
{
  g_autofree char *path = write_file (fixture, "a.md", "# A\n\nAlpha paragraph about otters.\n", -1);
  g_autoptr(StacheIngestResult) first = ingest_path (fixture, path, NULL);
  g_autoptr(StacheIngestResult) second = NULL;
  g_autoptr(GError) error = NULL;
  gint64 chunks;

  g_assert_cmpint (stache_ingest_result_get_outcome (first), ==, STACHE_INGEST_OUTCOME_ADDED);
  chunks = stache_store_count_chunks (fixture->store, NULL, NULL, &error);
  g_assert_cmpint (chunks, ==, stache_ingest_result_get_chunk_count (first));

  second = ingest_path (fixture, path, NULL);
  g_assert_cmpint (stache_ingest_result_get_outcome (second), ==, STACHE_INGEST_OUTCOME_UNCHANGED);
  g_assert_cmpstr (stache_ingest_result_get_document_id (second), ==,
                   stache_ingest_result_get_document_id (first));
  g_assert_cmpint (stache_store_count_chunks (fixture->store, NULL, NULL, &error), ==, chunks);
}

static void
test_changed_content_replaces_chunks (Fixture       *fixture,
                                      gconstpointer  data)
{
  g_autoptr(GString) big = g_string_new ("# Long\n\n");
  g_autofree char *path = NULL;
  g_autoptr(StacheIngestResult) first = NULL;
  g_autoptr(StacheIngestResult) second = NULL;
  g_autoptr(GPtrArray) old_hits = NULL;
  g_autoptr(GError) error = NULL;

  for (guint i = 0; i < 60; i++)
    g_string_append_printf (big, "Paragraph %u talks about zebras and their stripes at length.\n\n", i);
  path = write_file (fixture, "b.md", big->str, -1);
  first = ingest_path (fixture, path, NULL);
  g_assert_cmpuint (stache_ingest_result_get_chunk_count (first), >, 1);

  g_file_set_contents (path, "# Short\n\nNow only about giraffes.\n", -1, &error);
  g_assert_no_error (error);
  second = ingest_path (fixture, path, NULL);
  g_assert_cmpint (stache_ingest_result_get_outcome (second), ==, STACHE_INGEST_OUTCOME_REPLACED);
  g_assert_cmpuint (stache_ingest_result_get_chunk_count (second), ==, 1);
  g_assert_cmpint (stache_store_count_chunks (fixture->store, NULL, NULL, &error), ==, 1);

  old_hits = stache_store_search_full (fixture->store, "zebras stripes", NULL, 5,
                                       STACHE_SEARCH_MODE_KEYWORD, NULL, NULL, &error);
  g_assert_no_error (error);
  g_assert_cmpuint (old_hits->len, ==, 0);
}

static void
test_ingest_text_stable_id (Fixture       *fixture,
                            gconstpointer  data)
{
  g_autoptr(StacheIngestResult) a = NULL;
  g_autoptr(StacheIngestResult) b = NULL;
  g_autoptr(GError) error = NULL;

  a = stache_store_ingest_text (fixture->store, "Plugins are discovered by libpeas.", "notes", NULL, &error);
  g_assert_no_error (error);
  b = stache_store_ingest_text (fixture->store, "Plugins are discovered by libpeas.", "notes", NULL, &error);
  g_assert_no_error (error);
  g_assert_cmpint (stache_ingest_result_get_outcome (b), ==, STACHE_INGEST_OUTCOME_UNCHANGED);
  g_assert_cmpstr (stache_ingest_result_get_document_id (a), ==, stache_ingest_result_get_document_id (b));
}

static void
test_delete_document_removes_chunks (Fixture       *fixture,
                                     gconstpointer  data)
{
  g_autofree char *path = write_file (fixture, "c.txt", "Quokkas smile on Rottnest Island.\n", -1);
  g_autoptr(StacheIngestResult) result = ingest_path (fixture, path, NULL);
  g_autoptr(GPtrArray) hits = NULL;
  g_autoptr(GError) error = NULL;

  g_assert_true (stache_store_delete_document (fixture->store, stache_ingest_result_get_document_id (result),
                                               NULL, &error));
  g_assert_no_error (error);
  g_assert_cmpint (stache_store_count_chunks (fixture->store, NULL, NULL, &error), ==, 0);
  hits = stache_store_search (fixture->store, "quokkas", NULL, 5, NULL, &error);
  g_assert_no_error (error);
  g_assert_cmpuint (hits->len, ==, 0);

  g_assert_false (stache_store_delete_document (fixture->store, "no-such-id", NULL, &error));
  g_assert_error (error, STACHE_ERROR, STACHE_ERROR_NOT_FOUND);
}

static void
test_namespaces_keep_documents_apart (Fixture       *fixture,
                                      gconstpointer  data)
{
  g_autoptr(StacheIngestResult) a = NULL;
  g_autoptr(GPtrArray) in_papers = NULL;
  g_autoptr(GPtrArray) in_other = NULL;
  g_autoptr(GPtrArray) namespaces = NULL;
  g_autoptr(GError) error = NULL;
  gboolean listed = FALSE;

  a = stache_store_ingest_text (fixture->store, "Pangolins have scales made of keratin.", "research/papers",
                                NULL, &error);
  g_assert_no_error (error);

  in_papers = stache_store_search (fixture->store, "pangolin scales", "research/papers", 5, NULL, &error);
  g_assert_no_error (error);
  g_assert_cmpuint (in_papers->len, ==, 1);
  in_other = stache_store_search (fixture->store, "pangolin scales", "other", 5, NULL, &error);
  g_assert_no_error (error);
  g_assert_cmpuint (in_other->len, ==, 0);

  namespaces = stache_store_list_namespaces (fixture->store, NULL, NULL, &error);
  g_assert_no_error (error);
  for (guint i = 0; i < namespaces->len; i++)
    listed |= g_strcmp0 (stache_namespace_get_name (g_ptr_array_index (namespaces, i)), "research/papers") == 0;
  g_assert_true (listed);

  g_assert_null (stache_store_ingest_text (fixture->store, "x", "../escape", NULL, &error));
  g_assert_error (error, STACHE_ERROR, STACHE_ERROR_INVALID_ARGUMENT);
}

static void
test_namespace_created_twice_exists (Fixture       *fixture,
                                     gconstpointer  data)
{
  g_autoptr(StacheNamespace) created = NULL;
  g_autoptr(StacheNamespace) again = NULL;
  g_autoptr(GError) error = NULL;

  created = stache_store_create_namespace (fixture->store, "garden", "Outdoor notes", NULL, &error);
  g_assert_no_error (error);
  again = stache_store_create_namespace (fixture->store, "garden", NULL, NULL, &error);
  g_assert_null (again);
  g_assert_error (error, STACHE_ERROR, STACHE_ERROR_EXISTS);
  g_assert_nonnull (strstr (error->message, "garden"));
}

static void
test_namespace_delete_non_empty_refused (Fixture       *fixture,
                                         gconstpointer  data)
{
  g_autoptr(StacheIngestResult) a = NULL;
  g_autoptr(GError) error = NULL;

  a = stache_store_ingest_text (fixture->store, "Tomatoes want full sun.", "garden", NULL, &error);
  g_assert_no_error (error);

  g_assert_false (stache_store_delete_namespace (fixture->store, "garden", FALSE, NULL, &error));
  g_assert_error (error, STACHE_ERROR, STACHE_ERROR_NOT_EMPTY);
  g_assert_nonnull (strstr (error->message, "garden"));
  g_clear_error (&error);
  g_assert_cmpint (stache_store_count_chunks (fixture->store, "garden", NULL, &error), ==, 1);
  g_assert_no_error (error);

  g_assert_true (stache_store_delete_namespace (fixture->store, "garden", TRUE, NULL, &error));
  g_assert_no_error (error);
  g_assert_false (stache_store_delete_namespace (fixture->store, "garden", FALSE, NULL, &error));
  g_assert_error (error, STACHE_ERROR, STACHE_ERROR_NOT_FOUND);
}

/* The summary kept for listings: white space collapsed (Unicode spaces
 * too), a leading heading mark dropped, cut after the first sentence that
 * ends past 60 characters, or after 240 characters with an ellipsis. */
static void
test_document_summary (Fixture       *fixture,
                       gconstpointer  data)
{
  static const struct
  {
    const char *text;
    const char *summary;
  } cases[] = {
    { "# Otters\n\n  Sea otters\t use  stones\n\nto open shellfish. They float on their backs while they eat them. More.",
      "Otters Sea otters use stones to open shellfish. They float on their backs while they eat them." },
    { "Short. Then\u00a0a no-break\u2003em space and é and 日本語 in a sentence that runs on past sixty characters. Rest.",
      "Short. Then a no-break em space and é and 日本語 in a sentence that runs on past sixty characters." },
    { "## ## Two marks, then # inside: kept as it is in a sentence long enough to end here! Next one.",
      "Two marks, then # inside: kept as it is in a sentence long enough to end here!" },
    { "   ", NULL },
  };
  g_autoptr(GError) error = NULL;

  for (guint i = 0; i < G_N_ELEMENTS (cases); i++)
    {
      g_autoptr(StacheIngestResult) result = NULL;
      g_autoptr(StacheDocument) document = NULL;

      result = stache_store_ingest_text (fixture->store, cases[i].text, "summaries", NULL, &error);
      g_assert_no_error (error);
      if (cases[i].summary == NULL)
        {
          g_assert_cmpint (stache_ingest_result_get_outcome (result), ==, STACHE_INGEST_OUTCOME_SKIPPED);
          continue;
        }
      document = stache_store_get_document (fixture->store, stache_ingest_result_get_document_id (result),
                                            NULL, &error);
      g_assert_no_error (error);
      g_assert_cmpstr (stache_document_get_summary (document), ==, cases[i].summary);
    }

  /* no sentence end: 240 characters (not bytes; the spaces between words
   * not counted) and an ellipsis */
  {
    g_autoptr(GString) text = g_string_new (NULL);
    g_autoptr(StacheIngestResult) result = NULL;
    g_autoptr(StacheDocument) document = NULL;
    const char *summary;

    for (guint i = 0; i < 100; i++)
      g_string_append (text, "wörd  ");
    result = stache_store_ingest_text (fixture->store, text->str, "summaries", NULL, &error);
    g_assert_no_error (error);
    document = stache_store_get_document (fixture->store, stache_ingest_result_get_document_id (result),
                                          NULL, &error);
    g_assert_no_error (error);
    summary = stache_document_get_summary (document);
    g_assert_cmpuint (g_utf8_strlen (summary, -1), ==, 60 * 4 + 59 + 1);
    g_assert_true (g_str_has_prefix (summary, "wörd wörd "));
    g_assert_true (g_str_has_suffix (summary, "wörd wörd…"));
  }
}

/* ---- bad input ---- */

static void
test_binary_file_skipped (Fixture       *fixture,
                          gconstpointer  data)
{
  const char png[] = "\x89PNG\r\n\x1a\n\0\0\0\rIHDR\0\0\0\x10";
  g_autofree char *path = write_file (fixture, "image.png", png, sizeof png);
  g_autoptr(StacheIngestResult) result = ingest_path (fixture, path, NULL);

  g_assert_cmpint (stache_ingest_result_get_outcome (result), ==, STACHE_INGEST_OUTCOME_SKIPPED);
  g_assert_nonnull (strstr (stache_ingest_result_get_reason (result), "binary"));
}

static void
test_large_file_skipped (Fixture       *fixture,
                         gconstpointer  data)
{
  g_autoptr(StacheStore) store = NULL;
  g_autoptr(GError) error = NULL;
  g_autofree char *text = g_strnfill (5000, 'a');
  g_autofree char *path = write_file (fixture, "big.txt", text, -1);
  g_autoptr(GFile) file = g_file_new_for_path (path);
  g_autoptr(StacheIngestResult) result = NULL;

  stache_settings_set_string (fixture->settings, "max_file_size", "1000");
  store = stache_store_new (fixture->settings, &error);
  g_assert_no_error (error);
  result = stache_store_ingest_file (store, file, NULL, NULL, &error);
  g_assert_no_error (error);
  g_assert_cmpint (stache_ingest_result_get_outcome (result), ==, STACHE_INGEST_OUTCOME_SKIPPED);
  g_assert_nonnull (strstr (stache_ingest_result_get_reason (result), "max_file_size"));
}

static void
test_invalid_utf8_repaired (Fixture       *fixture,
                            gconstpointer  data)
{
  g_autofree char *path = write_file (fixture, "latin1.txt", "Caf\xe9 au lait with narwhals.\n", -1);
  g_autoptr(StacheIngestResult) result = ingest_path (fixture, path, NULL);
  g_autoptr(GPtrArray) hits = NULL;
  g_autoptr(GError) error = NULL;
  const char *text;

  g_assert_cmpint (stache_ingest_result_get_outcome (result), ==, STACHE_INGEST_OUTCOME_ADDED);
  hits = stache_store_search (fixture->store, "narwhals", NULL, 1, NULL, &error);
  g_assert_no_error (error);
  g_assert_cmpuint (hits->len, ==, 1);
  text = stache_search_result_get_text (g_ptr_array_index (hits, 0));
  g_assert_true (g_utf8_validate (text, -1, NULL));
  g_assert_nonnull (strstr (text, "Caf\xef\xbf\xbd au lait"));
}

static void
test_empty_file_skipped (Fixture       *fixture,
                         gconstpointer  data)
{
  g_autofree char *path = write_file (fixture, "empty.md", "", 0);
  g_autoptr(StacheIngestResult) result = ingest_path (fixture, path, NULL);

  g_assert_cmpint (stache_ingest_result_get_outcome (result), ==, STACHE_INGEST_OUTCOME_SKIPPED);
  g_assert_nonnull (stache_ingest_result_get_reason (result));
}

static void
test_missing_path_is_error_naming_it (Fixture       *fixture,
                                      gconstpointer  data)
{
  g_autofree char *path = g_build_filename (fixture->tmp, "does-not-exist.md", NULL);
  g_autoptr(GFile) file = g_file_new_for_path (path);
  g_autoptr(GError) error = NULL;
  g_autoptr(GPtrArray) results = NULL;

  g_assert_null (stache_store_ingest_file (fixture->store, file, NULL, NULL, &error));
  g_assert_error (error, G_IO_ERROR, G_IO_ERROR_NOT_FOUND);
  g_assert_nonnull (strstr (error->message, path));
  g_clear_error (&error);

  results = stache_store_ingest_directory (fixture->store, file, NULL, NULL, NULL, NULL, &error);
  g_assert_null (results);
  g_assert_nonnull (strstr (error->message, path));
}

static void
test_unreadable_file_fails_alone (Fixture       *fixture,
                                  gconstpointer  data)
{
  g_autofree char *dir = g_build_filename (fixture->tmp, "docs", NULL);
  g_autofree char *good = write_file (fixture, "docs/good.txt", "Axolotls regrow limbs.\n", -1);
  g_autofree char *locked = write_file (fixture, "docs/locked.txt", "secret\n", -1);
  g_autoptr(GFile) folder = g_file_new_for_path (dir);
  g_autoptr(GPtrArray) results = NULL;
  g_autoptr(GError) error = NULL;

  if (geteuid () == 0)
    {
      g_test_skip ("running as root: file permissions do not stop reading");
      return;
    }

  g_assert_cmpint (g_chmod (locked, 0), ==, 0);
  results = stache_store_ingest_directory (fixture->store, folder, NULL, NULL, NULL, NULL, &error);
  g_chmod (locked, 0600);
  g_assert_no_error (error);
  g_assert_cmpuint (results->len, ==, 2);
  g_assert_cmpint (stache_ingest_result_get_outcome (g_ptr_array_index (results, 0)), ==,
                   STACHE_INGEST_OUTCOME_ADDED);
  g_assert_cmpint (stache_ingest_result_get_outcome (g_ptr_array_index (results, 1)), ==,
                   STACHE_INGEST_OUTCOME_FAILED);
  g_assert_nonnull (strstr (stache_ingest_result_get_reason (g_ptr_array_index (results, 1)), "locked.txt"));
}

static void
expect_database_refused (Fixture    *fixture,
                         const char *contents,
                         gssize      length)
{
  g_autofree char *path = g_build_filename (fixture->tmp, "other.db", NULL);
  g_autofree char *before = NULL;
  g_autofree char *after = NULL;
  gsize before_len, after_len;
  g_autoptr(StacheStore) store = NULL;
  g_autoptr(GError) error = NULL;

  g_assert_true (g_file_set_contents (path, contents, length, NULL));
  g_assert_true (g_file_get_contents (path, &before, &before_len, NULL));

  stache_settings_set_string (fixture->settings, "sqlite_path", path);
  store = stache_store_new (fixture->settings, &error);
  g_assert_null (store);
  g_assert_nonnull (error);
  g_assert_nonnull (strstr (error->message, path));

  g_assert_true (g_file_get_contents (path, &after, &after_len, NULL));
  g_assert_cmpmem (before, before_len, after, after_len);
}

static void
test_corrupt_database_refused (Fixture       *fixture,
                               gconstpointer  data)
{
  expect_database_refused (fixture, "this is not a database, it is a shopping list\n", -1);
}

static void
test_foreign_database_refused (Fixture       *fixture,
                               gconstpointer  data)
{
  /* A real SQLite database of another program (a recipes table), kept in
   * tests/data: valid SQLite, but not ours. */
  g_autofree char *foreign = g_build_filename (g_getenv ("STACHE_TEST_SOURCE_PLUGINS"), "..", "data",
                                               "foreign.sqlite", NULL);
  g_autofree char *contents = NULL;
  gsize length;

  g_assert_true (g_file_get_contents (foreign, &contents, &length, NULL));
  expect_database_refused (fixture, contents, length);
}

/* ---- async ---- */

static void
keep_result (GObject      *source,
             GAsyncResult *result,
             gpointer      user_data)
{
  *(GAsyncResult **) user_data = g_object_ref (result);
}

static void
test_async_search_and_ask (Fixture       *fixture,
                           gconstpointer  data)
{
  g_autoptr(GPtrArray) ingested = ingest_samples (fixture);
  g_autoptr(GAsyncResult) searched = NULL;
  g_autoptr(GAsyncResult) asked = NULL;
  g_autoptr(GPtrArray) results = NULL;
  g_autoptr(StacheAnswer) answer = NULL;
  g_autoptr(GError) error = NULL;

  stache_store_search_async (fixture->store, "sea stars", NULL, 2, STACHE_SEARCH_MODE_HYBRID, NULL, NULL,
                             keep_result, &searched);
  stache_store_ask_async (fixture->store, "what do purple urchins eat", NULL, 3, NULL, keep_result, &asked);
  while (searched == NULL || asked == NULL)
    g_main_context_iteration (NULL, TRUE);

  results = stache_store_search_finish (fixture->store, searched, &error);
  g_assert_no_error (error);
  g_assert_true (g_str_has_suffix (result_source (g_ptr_array_index (results, 0)), "tide-pools.html"));
  answer = stache_store_ask_finish (fixture->store, asked, &error);
  g_assert_no_error (error);
  g_assert_nonnull (strstr (stache_answer_get_text (answer), "algae"));
}

/* ---- the embedding model is part of what makes a document unchanged ---- */

#define TEST_TYPE_MODEL_EMBEDDER (test_model_embedder_get_type ())
G_DECLARE_FINAL_TYPE (TestModelEmbedder, test_model_embedder, TEST, MODEL_EMBEDDER, StacheProvider)
struct _TestModelEmbedder { StacheProvider parent_instance; const char *model; };

static GArray *
model_embed_batch (StacheEmbeddingProvider  *provider,
                   const char * const       *texts,
                   GCancellable             *cancellable,
                   GError                  **error)
{
  GArray *v = g_array_new (FALSE, FALSE, sizeof (float));

  for (guint i = 0; texts[i] != NULL; i++)
    {
      float row[4] = { (float) strlen (texts[i]), 1, 2, 3 };

      g_array_append_vals (v, row, 4);
    }
  return v;
}

static char *
model_get_model_id (StacheEmbeddingProvider *provider)
{
  return g_strdup (TEST_MODEL_EMBEDDER (provider)->model);
}

static guint
model_get_dimensions (StacheEmbeddingProvider *provider)
{
  return 4;
}

static void
model_embedder_iface_init (StacheEmbeddingProviderInterface *iface)
{
  iface->embed_batch = model_embed_batch;
  iface->get_model_id = model_get_model_id;
  iface->get_dimensions = model_get_dimensions;
}

G_DEFINE_FINAL_TYPE_WITH_CODE (TestModelEmbedder, test_model_embedder, STACHE_TYPE_PROVIDER,
                               G_IMPLEMENT_INTERFACE (STACHE_TYPE_EMBEDDING_PROVIDER,
                                                      model_embedder_iface_init))
static void test_model_embedder_class_init (TestModelEmbedderClass *klass) { }
static void test_model_embedder_init (TestModelEmbedder *self) { }

static void
test_new_model_reembeds (Fixture       *fixture,
                         gconstpointer  data)
{
  g_autoptr(StacheEmbeddingProvider) embedder = g_object_new (TEST_TYPE_MODEL_EMBEDDER, NULL);
  g_autoptr(StacheStore) store = NULL;
  g_autoptr(StacheIngestResult) first = NULL;
  g_autoptr(StacheIngestResult) same = NULL;
  g_autoptr(StacheIngestResult) other = NULL;
  g_autoptr(GError) error = NULL;
  g_autofree char *id = NULL;
  const char *text = "Kept in the refrigerator, a starter needs feeding once a week.";

  TEST_MODEL_EMBEDDER (embedder)->model = "model-a";
  store = g_initable_new (STACHE_TYPE_STORE, NULL, &error, "settings", fixture->settings,
                          "embedding-provider", embedder, NULL);
  g_assert_no_error (error);

  first = stache_store_ingest_text (store, text, "notes", NULL, &error);
  g_assert_no_error (error);
  g_assert_cmpint (stache_ingest_result_get_outcome (first), ==, STACHE_INGEST_OUTCOME_ADDED);
  same = stache_store_ingest_text (store, text, "notes", NULL, &error);
  g_assert_no_error (error);
  g_assert_cmpint (stache_ingest_result_get_outcome (same), ==, STACHE_INGEST_OUTCOME_UNCHANGED);

  /* Same provider type, another model: the old vectors are no good */
  TEST_MODEL_EMBEDDER (embedder)->model = "model-b";
  other = stache_store_ingest_text (store, text, "notes", NULL, &error);
  g_assert_no_error (error);
  g_assert_cmpint (stache_ingest_result_get_outcome (other), ==, STACHE_INGEST_OUTCOME_REPLACED);

  /* The built-in embedder names its scheme and length */
  {
    g_autoptr(StacheEmbeddingProvider) hashing =
      STACHE_EMBEDDING_PROVIDER (stache_plugin_loader_create_provider (stache_plugin_loader_get_default (),
                                                                       STACHE_PROVIDER_TYPE_EMBEDDINGS,
                                                                       "hashing", fixture->settings,
                                                                       &error));
    g_assert_no_error (error);
    id = stache_embedding_provider_get_model_id (hashing);
    g_assert_cmpstr (id, ==, "hashing:v1:384:english");
  }
}

/* ---- streaming the answer ---- */

#define TEST_TYPE_STREAM_LLM (test_stream_llm_get_type ())
G_DECLARE_FINAL_TYPE (TestStreamLlm, test_stream_llm, TEST, STREAM_LLM, StacheProvider)
struct _TestStreamLlm { StacheProvider parent_instance; };

/* Answers with the first line of the prompt, one word at a time */
static StacheCompletion *
stream_llm_generate_stream (StacheLlmProvider  *provider,
                            const char         *prompt,
                            const char         *system_prompt,
                            JsonObject         *options,
                            StacheTokenFunc     token_func,
                            gpointer            token_data,
                            GCancellable       *cancellable,
                            GError            **error)
{
  g_autofree char *line = g_strndup (prompt, strcspn (prompt, "\n"));
  g_auto(GStrv) words = g_strsplit (line, " ", -1);
  g_autoptr(GString) text = g_string_new (NULL);

  for (guint i = 0; words[i] != NULL; i++)
    {
      g_autofree char *piece = g_strdup_printf ("%s%s", i > 0 ? " " : "", words[i]);

      token_func (piece, token_data);
      g_string_append (text, piece);
      g_usleep (2000);
    }

  return stache_completion_new (text->str);
}

static StacheCompletion *
stream_llm_generate (StacheLlmProvider  *provider,
                     const char         *prompt,
                     const char         *system_prompt,
                     JsonObject         *options,
                     GCancellable       *cancellable,
                     GError            **error)
{
  g_assert_not_reached ();
  return NULL;
}

static void
stream_llm_iface_init (StacheLlmProviderInterface *iface)
{
  iface->generate = stream_llm_generate;
  iface->generate_stream = stream_llm_generate_stream;
}

G_DEFINE_FINAL_TYPE_WITH_CODE (TestStreamLlm, test_stream_llm, STACHE_TYPE_PROVIDER,
                               G_IMPLEMENT_INTERFACE (STACHE_TYPE_LLM_PROVIDER, stream_llm_iface_init))
static void test_stream_llm_class_init (TestStreamLlmClass *klass) { }
static void test_stream_llm_init (TestStreamLlm *self) { }

typedef struct
{
  GString  *text;
  guint     n_tokens;
  gboolean  wrong_thread;
  GThread  *expected_thread;
  guint     n_tokens_at_callback;
  GAsyncResult *result;
} TokenLog;

static void
on_token (StacheStore *store,
          const char  *token,
          gpointer     user_data)
{
  TokenLog *log = user_data;

  g_string_append (log->text, token);
  log->n_tokens++;
  if (g_thread_self () != log->expected_thread)
    log->wrong_thread = TRUE;
}

static void
keep_result_and_count (GObject      *source,
                       GAsyncResult *result,
                       gpointer      user_data)
{
  TokenLog *log = user_data;

  log->n_tokens_at_callback = log->n_tokens;
  log->result = g_object_ref (result);
}

static void
test_ask_streams_tokens (Fixture       *fixture,
                         gconstpointer  data)
{
  g_autoptr(GPtrArray) ingested = ingest_samples (fixture);
  g_autoptr(StacheLlmProvider) llm = g_object_new (TEST_TYPE_STREAM_LLM, NULL);
  g_autoptr(StacheStore) store = NULL;
  g_autoptr(StacheAnswer) answer = NULL;
  g_autoptr(StacheAnswer) async_answer = NULL;
  g_autoptr(GError) error = NULL;
  TokenLog log = { g_string_new (NULL), 0, FALSE, g_thread_self (), 0, NULL };

  store = g_initable_new (STACHE_TYPE_STORE, NULL, &error,
                          "settings", fixture->settings, "llm-provider", llm, NULL);
  g_assert_no_error (error);
  g_signal_connect (store, "token", G_CALLBACK (on_token), &log);

  /* Sync: emitted in the calling thread, joined = the answer */
  answer = stache_store_ask (store, "what do purple urchins eat", NULL, 3, NULL, &error);
  g_assert_no_error (error);
  g_assert_cmpstr (stache_answer_get_text (answer), ==, "Question: what do purple urchins eat");
  g_assert_cmpstr (log.text->str, ==, stache_answer_get_text (answer));
  g_assert_cmpuint (log.n_tokens, ==, 6);
  g_assert_false (log.wrong_thread);

  /* Async: the provider runs in a worker, the tokens arrive in this
   * thread's context, all of them before the callback */
  g_string_truncate (log.text, 0);
  log.n_tokens = 0;
  stache_store_ask_async (store, "how often feed a starter", NULL, 3, NULL,
                          keep_result_and_count, &log);
  while (log.result == NULL)
    g_main_context_iteration (NULL, TRUE);
  async_answer = stache_store_ask_finish (store, log.result, &error);
  g_assert_no_error (error);
  g_assert_cmpstr (log.text->str, ==, "Question: how often feed a starter");
  g_assert_cmpuint (log.n_tokens, ==, 6);
  g_assert_cmpuint (log.n_tokens_at_callback, ==, 6);
  g_assert_false (log.wrong_thread);

  /* A model that cannot stream gives the whole answer once */
  g_string_truncate (log.text, 0);
  log.n_tokens = 0;
  g_signal_connect (fixture->store, "token", G_CALLBACK (on_token), &log);
  g_clear_object (&answer);
  answer = stache_store_ask (fixture->store, "what do purple urchins eat", NULL, 3, NULL, &error);
  g_assert_no_error (error);
  g_assert_cmpuint (log.n_tokens, ==, 1);
  g_assert_cmpstr (log.text->str, ==, stache_answer_get_text (answer));

  g_object_unref (log.result);
  g_string_free (log.text, TRUE);
}

/* The candidate pool does not grow with top_k (search_candidates): the
 * reranker weighs words over the pool, so the same query must rank the
 * same chunks first at -k 5 and at -k 20. */
static void
test_top_k_does_not_reorder (Fixture       *fixture,
                             gconstpointer  data)
{
  static const char * const words[] = {
    "river", "stone", "garden", "winter", "copper", "lantern", "harbor", "meadow", "signal", "orchard",
    "bridge", "canvas", "thunder", "pepper", "violet", "anchor", "marble", "forest", "silver", "candle",
  };
  g_autoptr(GRand) rand = g_rand_new_with_seed (42);

  for (guint d = 0; d < 90; d++)
    {
      g_autoptr(GString) text = g_string_new (NULL);
      g_autofree char *source = g_strdup_printf ("note-%02u", d);
      g_autoptr(StacheIngestResult) result = NULL;
      g_autoptr(GError) error = NULL;

      for (guint w = 0; w < 12; w++)
        g_string_append_printf (text, "%s ", words[g_rand_int_range (rand, 0, G_N_ELEMENTS (words))]);
      result = stache_store_ingest_text_full (fixture->store, text->str, NULL, source, NULL, NULL, NULL, &error);
      g_assert_no_error (error);
    }

  for (guint q = 0; q < 12; q++)
    {
      g_autofree char *query = g_strdup_printf ("%s %s %s", words[q], words[(q * 7 + 3) % G_N_ELEMENTS (words)],
                                                words[(q * 11 + 5) % G_N_ELEMENTS (words)]);
      g_autoptr(GPtrArray) five = NULL;
      g_autoptr(GPtrArray) twenty = NULL;
      g_autoptr(GError) error = NULL;

      five = stache_store_search_full (fixture->store, query, NULL, 5, STACHE_SEARCH_MODE_HYBRID, NULL, NULL,
                                       &error);
      g_assert_no_error (error);
      twenty = stache_store_search_full (fixture->store, query, NULL, 20, STACHE_SEARCH_MODE_HYBRID, NULL, NULL,
                                         &error);
      g_assert_no_error (error);
      g_assert_cmpuint (five->len, ==, 5);
      g_assert_cmpuint (twenty->len, ==, 20);
      for (guint i = 0; i < 5; i++)
        g_assert_cmpstr (stache_search_result_get_id (g_ptr_array_index (five, i)), ==,
                         stache_search_result_get_id (g_ptr_array_index (twenty, i)));
    }
}

/* The first hit of "signing requests" in a store of @language, where only
 * one chunk has both words, as "sign" and "request" */
static char *
first_hit_in (Fixture    *fixture,
              const char *language)
{
  static const char * const texts[] = {
    "To sign a request, hash the body and add the key id.",
    "The signing ceremony took an hour.",
    "Requests wait in the queue until a worker is free.",
    "Lunch is served at noon in the hall.",
  };
  g_autofree char *path = g_strdup_printf ("%s/%s.db", fixture->tmp, language);
  g_autoptr(StacheSettings) settings = stache_settings_new ();
  g_autoptr(StacheStore) store = NULL;
  g_autoptr(GPtrArray) results = NULL;
  g_autoptr(GError) error = NULL;

  stache_settings_set_string (settings, "sqlite_path", path);
  stache_settings_set_string (settings, "text_language", language);
  store = stache_store_new (settings, &error);
  g_assert_no_error (error);
  for (guint i = 0; i < G_N_ELEMENTS (texts); i++)
    {
      g_autofree char *source = g_strdup_printf ("text-%u", i);
      g_autoptr(StacheIngestResult) result = NULL;

      result = stache_store_ingest_text_full (store, texts[i], NULL, source, NULL, NULL, NULL, &error);
      g_assert_no_error (error);
    }

  results = stache_store_search (store, "signing requests", NULL, 3, NULL, &error);
  g_assert_no_error (error);
  g_assert_cmpuint (results->len, >, 0);
  return g_strdup (stache_search_result_get_text (g_ptr_array_index (results, 0)));
}

/* Words meet by their stems (text_language, english by default): the
 * query's "signing requests" finds the chunk that says "sign a request";
 * with text_language=none words must match as they are, and it does not
 * come first. An unknown language is refused, naming the setting. */
static void
test_search_stems_words (Fixture       *fixture,
                         gconstpointer  data)
{
  g_autofree char *english = first_hit_in (fixture, "english");
  g_autofree char *none = first_hit_in (fixture, "none");
  g_autoptr(StacheSettings) settings = stache_settings_new ();
  g_autoptr(StacheStore) store = NULL;
  g_autoptr(GError) error = NULL;

  g_assert_cmpstr (english, ==, "To sign a request, hash the body and add the key id.");
  g_assert_cmpstr (none, !=, english);

  stache_settings_set_string (settings, "sqlite_path", fixture->db_path);
  stache_settings_set_string (settings, "text_language", "klingon");
  store = stache_store_new (settings, &error);
  g_assert_null (store);
  g_assert_error (error, STACHE_ERROR, STACHE_ERROR_INVALID_SETTING);
  g_assert_nonnull (strstr (error->message, "text_language"));
  g_assert_nonnull (strstr (error->message, "klingon"));
}

/* The document of the first of the best 3 chunks for "saffron quinoa
 * turmeric" in a store where one document holds the three words in three
 * chunks, and fifteen one-chunk documents one word each in shorter
 * chunks (so each of those beats each of its chunks, by keyword and by
 * vector); "" when the three-chunk document is not among the three. */
static char *
spread_document_rank (Fixture    *fixture,
                      const char *document_weight)
{
  static const char * const words[] = { "saffron", "quinoa", "turmeric" };
  static const char * const filler[] = {
    "alder", "birch", "cedar", "dogwood", "elm", "fir", "ginkgo", "hazel", "juniper", "larch", "maple",
    "oak", "pine", "rowan", "spruce", "teak", "willow", "yew",
  };
  g_autofree char *path = g_strdup_printf ("%s/spread-%s.db", fixture->tmp, document_weight);
  g_autoptr(StacheSettings) settings = stache_settings_new ();
  g_autoptr(StacheStore) store = NULL;
  g_autoptr(GPtrArray) results = NULL;
  g_autoptr(GString) spread = g_string_new (NULL);
  g_autoptr(StacheIngestResult) ingested = NULL;
  g_autoptr(GError) error = NULL;
  g_autofree char *spread_id = NULL;
  StacheSearchResult *hit;

  stache_settings_set_string (settings, "sqlite_path", path);
  stache_settings_set_string (settings, "chunk_size", "180");
  stache_settings_set_string (settings, "chunk_overlap", "0");
  stache_settings_set_string (settings, "hybrid_document_weight", document_weight);
  store = stache_store_new (settings, &error);
  g_assert_no_error (error);

  for (guint i = 0; i < 15; i++)
    {
      g_autoptr(GString) text = g_string_new (words[i % 3]);
      g_autofree char *source = g_strdup_printf ("short-%u", i);
      g_autoptr(StacheIngestResult) result = NULL;

      for (guint w = 0; w < 11; w++)
        g_string_append_printf (text, " %s%u", filler[(i + w) % G_N_ELEMENTS (filler)], i);
      g_string_append_c (text, '.');
      result = stache_store_ingest_text_full (store, text->str, NULL, source, NULL, NULL, NULL, &error);
      g_assert_no_error (error);
    }
  /* Three paragraphs of 16 words, one query word each */
  for (guint p = 0; p < 3; p++)
    {
      g_string_append_printf (spread, "%s%s", p > 0 ? "\n\n" : "", words[p]);
      for (guint w = 0; w < 15; w++)
        g_string_append_printf (spread, " %sx%u", filler[(p * 5 + w) % G_N_ELEMENTS (filler)], p);
      g_string_append_c (spread, '.');
    }
  ingested = stache_store_ingest_text_full (store, spread->str, NULL, "spread", NULL, NULL, NULL, &error);
  g_assert_no_error (error);
  g_assert_cmpuint (stache_ingest_result_get_chunk_count (ingested), ==, 3);
  spread_id = g_strdup (stache_ingest_result_get_document_id (ingested));

  results = stache_store_search (store, "saffron quinoa turmeric", NULL, 3, NULL, &error);
  g_assert_no_error (error);
  g_assert_cmpuint (results->len, ==, 3);
  for (guint i = 0; i < results->len; i++)
    if (g_strcmp0 (stache_search_result_get_document_id (g_ptr_array_index (results, i)), spread_id) == 0)
      {
        g_autofree char *rank = g_strdup_printf ("%u", i + 1);

        hit = g_ptr_array_index (results, i);
        g_assert_nonnull (strstr (spread->str, stache_search_result_get_text (hit)));
        return g_steal_pointer (&rank);
      }
  return g_strdup ("");
}

/* Hybrid search fuses a list of whole documents ranked by their words
 * (hybrid_document_weight): the document whose chunks hold the query's
 * words between them is found though none of its chunks is among the best
 * by keyword or by vector; with the list left out (0) it is not among the
 * first three, and a weight out of range is refused. */
static void
test_search_whole_documents (Fixture       *fixture,
                             gconstpointer  data)
{
  g_autofree char *heavy = spread_document_rank (fixture, "10");
  g_autofree char *none = spread_document_rank (fixture, "0");
  g_autoptr(StacheSettings) settings = stache_settings_new ();
  g_autoptr(StacheStore) store = NULL;
  g_autoptr(GError) error = NULL;

  g_assert_cmpstr (heavy, ==, "1");
  g_assert_cmpstr (none, ==, "");

  stache_settings_set_string (settings, "sqlite_path", fixture->db_path);
  stache_settings_set_string (settings, "hybrid_document_weight", "-1");
  store = stache_store_new (settings, &error);
  g_assert_null (store);
  g_assert_error (error, STACHE_ERROR, STACHE_ERROR_INVALID_SETTING);
  g_assert_nonnull (strstr (error->message, "hybrid_document_weight"));
}

/* The outcomes of @results, counted: "added 1, removed 2, …" (non-zero only) */
static char *
outcomes_of (GPtrArray *results)
{
  guint counts[STACHE_INGEST_OUTCOME_REMOVED + 1] = { 0 };
  g_autoptr(GString) text = g_string_new (NULL);

  for (guint i = 0; i < results->len; i++)
    counts[stache_ingest_result_get_outcome (g_ptr_array_index (results, i))]++;
  for (guint o = 0; o <= STACHE_INGEST_OUTCOME_REMOVED; o++)
    if (counts[o] > 0)
      g_string_append_printf (text, "%s%s %u", text->len > 0 ? ", " : "", stache_ingest_outcome_to_string (o),
                              counts[o]);
  return g_string_free (g_steal_pointer (&text), FALSE);
}

static char *
sync_folder (Fixture    *fixture,
             const char *folder)
{
  g_autoptr(GFile) dir = g_file_new_for_path (folder);
  g_autoptr(GPtrArray) results = NULL;
  g_autoptr(GError) error = NULL;

  results = stache_store_sync_directory (fixture->store, dir, "mirror", NULL, NULL, NULL, &error);
  g_assert_no_error (error);
  return outcomes_of (results);
}

static guint
documents_in (Fixture    *fixture,
              const char *namespace_)
{
  g_autoptr(GPtrArray) documents = NULL;
  g_autoptr(GError) error = NULL;

  documents = stache_store_list_documents (fixture->store, namespace_, NULL, &error);
  g_assert_no_error (error);
  return documents->len;
}

/* A namespace mirrors a folder: a deleted file's document goes (and its
 * chunks with it), a renamed file is one document, not two; a file that
 * cannot be read, a text ingested under a path-like source and documents
 * of other folders stay; a folder that cannot be read removes nothing. */
static void
test_sync_mirrors_folder (Fixture       *fixture,
                          gconstpointer  data)
{
  g_autofree char *folder = g_build_filename (fixture->tmp, "mirror", NULL);
  g_autofree char *a = write_file (fixture, "mirror/a.txt", "Anteaters eat termites.", -1);
  g_autofree char *b = write_file (fixture, "mirror/b.txt", "Bison roam the prairie.", -1);
  g_autofree char *c = write_file (fixture, "mirror/sub/c.txt", "Cormorants dive for fish.", -1);
  g_autofree char *other = write_file (fixture, "elsewhere/d.txt", "Dromedaries cross deserts.", -1);
  g_autofree char *renamed = g_build_filename (folder, "bison.txt", NULL);
  g_autofree char *outcomes = NULL;
  g_autoptr(GFile) other_file = g_file_new_for_path (other);
  g_autoptr(StacheIngestResult) text = NULL;
  g_autoptr(StacheIngestResult) elsewhere = NULL;
  g_autoptr(GPtrArray) hits = NULL;
  g_autoptr(GError) error = NULL;

  outcomes = sync_folder (fixture, folder);
  g_assert_cmpstr (outcomes, ==, "added 3");
  g_clear_pointer (&outcomes, g_free);
  elsewhere = stache_store_ingest_file (fixture->store, other_file, "mirror", NULL, &error);
  g_assert_no_error (error);
  /* a text whose source names a file below the folder is not that file */
  text = stache_store_ingest_text_full (fixture->store, "Egrets wade.", "mirror", c, NULL, NULL, NULL, &error);
  g_assert_no_error (error);
  g_assert_cmpuint (documents_in (fixture, "mirror"), ==, 5);

  g_assert_cmpint (g_unlink (a), ==, 0);
  g_assert_cmpint (g_rename (b, renamed), ==, 0);
  g_assert_cmpint (g_unlink (c), ==, 0);
  g_assert_cmpint (g_unlink (other), ==, 0);
  outcomes = sync_folder (fixture, folder);
  g_assert_cmpstr (outcomes, ==, "added 1, removed 3");
  g_clear_pointer (&outcomes, g_free);
  /* bison.txt, the text, and d.txt (gone, but not below the folder) */
  g_assert_cmpuint (documents_in (fixture, "mirror"), ==, 3);
  hits = stache_store_search_full (fixture->store, "anteaters termites", "mirror", 10,
                                   STACHE_SEARCH_MODE_KEYWORD, NULL, NULL, &error);
  g_assert_no_error (error);
  g_assert_cmpuint (hits->len, ==, 0);

  /* A path that is there but cannot be ingested (here a FIFO where the
   * file was) keeps its document */
  g_assert_cmpint (g_rename (renamed, a), ==, 0);
  g_assert_cmpint (mkfifo (renamed, 0600), ==, 0);
  outcomes = sync_folder (fixture, folder);
  g_assert_cmpstr (outcomes, ==, "added 1");   /* (a folder walk passes over FIFOs) */
  g_clear_pointer (&outcomes, g_free);
  g_assert_cmpuint (documents_in (fixture, "mirror"), ==, 4);
  g_assert_cmpint (g_unlink (renamed), ==, 0);
  g_assert_cmpint (g_unlink (a), ==, 0);

  /* A folder that is gone is an error, and nothing is removed */
  {
    g_autoptr(GFile) missing = g_file_new_for_path (folder);
    g_autoptr(GPtrArray) results = NULL;
    g_autofree char *sub = g_build_filename (folder, "sub", NULL);

    g_assert_cmpint (g_rmdir (sub), ==, 0);
    g_assert_cmpint (g_rmdir (folder), ==, 0);
    results = stache_store_sync_directory (fixture->store, missing, "mirror", NULL, NULL, NULL, &error);
    g_assert_null (results);
    g_assert_error (error, G_IO_ERROR, G_IO_ERROR_NOT_FOUND);
    g_assert_cmpuint (documents_in (fixture, "mirror"), ==, 4);
  }
}

#define add_store_test(path, func) \
  g_test_add (path, Fixture, NULL, fixture_set_up, func, fixture_tear_down)

int
main (int    argc,
      char **argv)
{
  g_test_init (&argc, &argv, NULL);
  g_setenv ("STACHE_PLUGIN_PATH", g_getenv ("STACHE_TEST_BUILTIN_PLUGINS"), TRUE);

  add_store_test ("/store/defaults/embedded", test_defaults_are_embedded);
  add_store_test ("/store/defaults/sample-notes-right-document-first", test_sample_notes_right_document_first);
  add_store_test ("/store/chunks/heading-path", test_heading_path_in_metadata);
  add_store_test ("/store/ask/cites-sources", test_ask_cites_sources);
  add_store_test ("/store/ingest/identical-is-noop", test_reingest_identical_is_noop);
  add_store_test ("/store/ingest/changed-replaces", test_changed_content_replaces_chunks);
  add_store_test ("/store/ingest/text-stable-id", test_ingest_text_stable_id);
  add_store_test ("/store/documents/delete-removes-chunks", test_delete_document_removes_chunks);
  add_store_test ("/store/namespaces/apart", test_namespaces_keep_documents_apart);
  add_store_test ("/store/namespaces/created-twice-exists", test_namespace_created_twice_exists);
  add_store_test ("/store/namespaces/delete-non-empty-refused", test_namespace_delete_non_empty_refused);
  add_store_test ("/store/documents/summary", test_document_summary);
  add_store_test ("/store/bad-input/binary-skipped", test_binary_file_skipped);
  add_store_test ("/store/bad-input/large-skipped", test_large_file_skipped);
  add_store_test ("/store/bad-input/invalid-utf8-repaired", test_invalid_utf8_repaired);
  add_store_test ("/store/bad-input/empty-skipped", test_empty_file_skipped);
  add_store_test ("/store/bad-input/missing-path", test_missing_path_is_error_naming_it);
  add_store_test ("/store/bad-input/unreadable-file-fails-alone", test_unreadable_file_fails_alone);
  add_store_test ("/store/bad-input/corrupt-database-refused", test_corrupt_database_refused);
  add_store_test ("/store/bad-input/foreign-database-refused", test_foreign_database_refused);
  add_store_test ("/store/async/search-and-ask", test_async_search_and_ask);
  add_store_test ("/store/ask/streams-tokens", test_ask_streams_tokens);
  add_store_test ("/store/ingest/new-model-reembeds", test_new_model_reembeds);
  add_store_test ("/store/search/top-k-does-not-reorder", test_top_k_does_not_reorder);
  add_store_test ("/store/search/stems-words", test_search_stems_words);
  add_store_test ("/store/search/whole-documents", test_search_whole_documents);
  add_store_test ("/store/sync/mirrors-folder", test_sync_mirrors_folder);

  return g_test_run ();
}

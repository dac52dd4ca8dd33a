/* test-settings.c: lookup order, typed getters, malformed values, secrets
 *
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */
#include <math.h>
#include <string.h>
#include <stache.h>

#include "stache-test-utils.h"

typedef struct
{
  char *tmp;
  char *config_file;
} Fixture;

static void
fixture_set_up (Fixture       *fixture,
                gconstpointer  data)
{
  g_autofree char *dir = NULL;

  fixture->tmp = test_isolated_environment ();
  dir = g_build_filename (g_getenv ("XDG_CONFIG_HOME"), "stache", NULL);
  g_assert_cmpint (g_mkdir_with_parents (dir, 0700), ==, 0);
  fixture->config_file = g_build_filename (dir, "stache.conf", NULL);

  g_unsetenv ("STACHE_TEST_COLOUR");
  g_unsetenv ("CHUNK_SIZE");
  g_unsetenv ("TEMPERATURE");
  g_unsetenv ("USE_GPU");
  g_unsetenv ("MILVUS_API_KEY");
  g_unsetenv ("FALLBACKS");
}

static void
fixture_tear_down (Fixture       *fixture,
                   gconstpointer  data)
{
  test_remove_tree (fixture->tmp);
  g_free (fixture->tmp);
  g_free (fixture->config_file);
}

static void
write_config (Fixture    *fixture,
              const char *contents)
{
  g_autoptr(GError) error = NULL;

  g_file_set_contents (fixture->config_file, contents, -1, &error);
  g_assert_no_error (error);
}

/* `stache config` lists every setting the core reads, with its source,
 * set or not. */
static void
test_core_settings_listed (void)
{
  const char * const core[] = {
    "chunk_size", "chunk_overlap", "max_file_size", "search_top_k", "search_candidates", "hybrid_vector_weight",
    "hybrid_rrf_k", "hybrid_document_weight",
    "http_connect_timeout", "http_timeout", "http_max_retries", "http_retry_budget", "http_backoff_ms",
    "llm_provider", "embedding_provider", "vectordb_provider", "namespace_provider", "reranker_provider",
    "document_index_provider",
  };
  g_autoptr(StacheSettings) settings = stache_settings_new ();
  g_auto(GStrv) keys = stache_settings_list_keys (settings);

  for (guint i = 0; i < G_N_ELEMENTS (core); i++)
    {
      g_autofree char *value = stache_settings_get_string (settings, core[i], NULL);

      g_assert_true (g_strv_contains ((const char * const *) keys, core[i]));
      g_assert_nonnull (value);
      g_assert_cmpint (stache_settings_get_source (settings, core[i]), ==, STACHE_SETTING_SOURCE_DEFAULT);
    }

  stache_settings_set_string (settings, "chunk_size", "500");
  g_assert_cmpint (stache_settings_get_source (settings, "chunk_size"), >, STACHE_SETTING_SOURCE_DEFAULT);
}

static void
test_explicit_beats_environment_beats_file_beats_default (Fixture       *fixture,
                                                          gconstpointer  data)
{
  g_autoptr(StacheSettings) settings = NULL;
  g_autofree char *value = NULL;

  write_config (fixture, "[stache]\nstache_test_colour=from-file\n");
  settings = stache_settings_new ();
  stache_settings_set_default (settings, "stache_test_colour", "from-default");

  value = stache_settings_get_string (settings, "stache_test_colour", NULL);
  g_assert_cmpstr (value, ==, "from-file");
  g_assert_cmpint (stache_settings_get_source (settings, "stache_test_colour"), ==,
                   STACHE_SETTING_SOURCE_CONFIG_FILE);
  g_clear_pointer (&value, g_free);

  g_setenv ("STACHE_TEST_COLOUR", "from-env", TRUE);
  value = stache_settings_get_string (settings, "stache_test_colour", NULL);
  g_assert_cmpstr (value, ==, "from-env");
  g_assert_cmpint (stache_settings_get_source (settings, "stache_test_colour"), ==,
                   STACHE_SETTING_SOURCE_ENVIRONMENT);
  g_clear_pointer (&value, g_free);

  stache_settings_set_string (settings, "stache_test_colour", "from-code");
  value = stache_settings_get_string (settings, "stache_test_colour", NULL);
  g_assert_cmpstr (value, ==, "from-code");
  g_assert_cmpint (stache_settings_get_source (settings, "stache_test_colour"), ==,
                   STACHE_SETTING_SOURCE_EXPLICIT);
  g_clear_pointer (&value, g_free);

  /* Removing each layer uncovers the next one. */
  stache_settings_set_string (settings, "stache_test_colour", NULL);
  g_unsetenv ("STACHE_TEST_COLOUR");
  value = stache_settings_get_string (settings, "stache_test_colour", NULL);
  g_assert_cmpstr (value, ==, "from-file");
}

static void
test_default_then_unset (Fixture       *fixture,
                         gconstpointer  data)
{
  g_autoptr(StacheSettings) settings = stache_settings_new ();
  g_autofree char *provider = stache_settings_get_string (settings, "vectordb_provider", NULL);
  g_autofree char *missing = stache_settings_get_string (settings, "stache_test_colour", "fallback");
  g_autofree char *null_missing = stache_settings_get_string (settings, "stache_test_colour", NULL);

  g_assert_cmpstr (provider, ==, "sqlite");
  g_assert_cmpint (stache_settings_get_source (settings, "vectordb_provider"), ==,
                   STACHE_SETTING_SOURCE_DEFAULT);
  g_assert_cmpstr (missing, ==, "fallback");
  g_assert_null (null_missing);
  g_assert_cmpint (stache_settings_get_source (settings, "stache_test_colour"), ==,
                   STACHE_SETTING_SOURCE_UNSET);
}

static void
test_empty_environment_variable_counts_as_unset (Fixture       *fixture,
                                                 gconstpointer  data)
{
  g_autoptr(StacheSettings) settings = NULL;
  g_autofree char *value = NULL;

  write_config (fixture, "[stache]\nstache_test_colour=from-file\n");
  settings = stache_settings_new ();
  g_setenv ("STACHE_TEST_COLOUR", "", TRUE);
  value = stache_settings_get_string (settings, "stache_test_colour", NULL);
  g_assert_cmpstr (value, ==, "from-file");
}

static void
test_any_key_works (Fixture       *fixture,
                    gconstpointer  data)
{
  g_autoptr(StacheSettings) settings = stache_settings_new ();
  g_autofree char *uri = NULL;
  g_autofree char *env_name = stache_settings_key_to_env_name ("milvus_uri");

  g_assert_cmpstr (env_name, ==, "MILVUS_URI");
  g_setenv ("MILVUS_URI", "http://127.0.0.1:19530", TRUE);
  uri = stache_settings_get_string (settings, "milvus_uri", NULL);
  g_unsetenv ("MILVUS_URI");
  g_assert_cmpstr (uri, ==, "http://127.0.0.1:19530");
}

static void
test_typed_getters (Fixture       *fixture,
                    gconstpointer  data)
{
  g_autoptr(StacheSettings) settings = NULL;
  g_autoptr(GError) error = NULL;
  g_auto(GStrv) list = NULL;
  g_auto(GStrv) empty = NULL;

  write_config (fixture,
                "[stache]\nchunk_size= 512 \ntemperature=0.25\nuse_gpu=Yes\nfallbacks=anthropic, ollama;;extractive\n");
  settings = stache_settings_new ();

  g_assert_cmpint (stache_settings_get_int (settings, "chunk_size", 1, &error), ==, 512);
  g_assert_no_error (error);
  g_assert_cmpfloat (stache_settings_get_double (settings, "temperature", 1, &error), ==, 0.25);
  g_assert_no_error (error);
  g_assert_true (stache_settings_get_boolean (settings, "use_gpu", FALSE, &error));
  g_assert_no_error (error);

  list = stache_settings_get_string_list (settings, "fallbacks");
  g_assert_cmpuint (g_strv_length (list), ==, 3);
  g_assert_cmpstr (list[0], ==, "anthropic");
  g_assert_cmpstr (list[1], ==, "ollama");
  g_assert_cmpstr (list[2], ==, "extractive");

  /* Defaults when unset: the caller's, or for a setting the core reads,
   * the one it declares (so `stache config` can show it) */
  g_assert_cmpint (stache_settings_get_int (settings, "window_overlap", 64, &error), ==, 64);
  g_assert_cmpint (stache_settings_get_int (settings, "chunk_overlap", 64, &error), ==, 120);
  g_assert_cmpint (stache_settings_get_source (settings, "chunk_overlap"), ==, STACHE_SETTING_SOURCE_DEFAULT);
  g_assert_cmpfloat (stache_settings_get_double (settings, "top_p", 0.5, &error), ==, 0.5);
  g_assert_false (stache_settings_get_boolean (settings, "verbose", FALSE, &error));
  g_assert_no_error (error);
  empty = stache_settings_get_string_list (settings, "nothing_here");
  g_assert_cmpuint (g_strv_length (empty), ==, 0);
}

static void
test_malformed_int_names_key_and_variable (Fixture       *fixture,
                                           gconstpointer  data)
{
  g_autoptr(StacheSettings) settings = stache_settings_new ();
  g_autoptr(GError) error = NULL;
  gint64 value;

  g_setenv ("CHUNK_SIZE", "abc", TRUE);
  value = stache_settings_get_int (settings, "chunk_size", 512, &error);
  g_unsetenv ("CHUNK_SIZE");

  g_assert_error (error, STACHE_ERROR, STACHE_ERROR_INVALID_SETTING);
  g_assert_cmpint (value, ==, 0);
  g_assert_nonnull (strstr (error->message, "“chunk_size”"));
  g_assert_nonnull (strstr (error->message, "CHUNK_SIZE"));
  g_assert_nonnull (strstr (error->message, "“abc”"));
}

static void
test_malformed_values_in_file_name_the_file (Fixture       *fixture,
                                             gconstpointer  data)
{
  g_autoptr(StacheSettings) settings = NULL;
  g_autoptr(GError) error = NULL;

  write_config (fixture, "[stache]\ntemperature=warm\nuse_gpu=maybe\nchunk_size=12abc\n");
  settings = stache_settings_new ();

  stache_settings_get_double (settings, "temperature", 1, &error);
  g_assert_error (error, STACHE_ERROR, STACHE_ERROR_INVALID_SETTING);
  g_assert_nonnull (strstr (error->message, "temperature"));
  g_assert_nonnull (strstr (error->message, fixture->config_file));
  g_clear_error (&error);

  stache_settings_get_boolean (settings, "use_gpu", TRUE, &error);
  g_assert_error (error, STACHE_ERROR, STACHE_ERROR_INVALID_SETTING);
  g_assert_nonnull (strstr (error->message, "“maybe”"));
  g_clear_error (&error);

  stache_settings_get_int (settings, "chunk_size", 1, &error);
  g_assert_error (error, STACHE_ERROR, STACHE_ERROR_INVALID_SETTING);
  g_clear_error (&error);
}

static void
test_malformed_config_file_is_reported (Fixture       *fixture,
                                        gconstpointer  data)
{
  g_autoptr(StacheSettings) settings = NULL;
  g_autoptr(StacheSettings) strict = NULL;
  g_autoptr(GError) error = NULL;
  g_autofree char *provider = NULL;

  write_config (fixture, "this is = not\n[a key file");
  settings = stache_settings_new ();
  g_assert_false (stache_settings_check (settings, &error));
  g_assert_error (error, STACHE_ERROR, STACHE_ERROR_CONFIG_FILE);
  g_assert_nonnull (strstr (error->message, fixture->config_file));
  g_clear_error (&error);

  /* The environment and defaults still answer. */
  provider = stache_settings_get_string (settings, "vectordb_provider", NULL);
  g_assert_cmpstr (provider, ==, "sqlite");

  strict = stache_settings_new_from_file (fixture->config_file, &error);
  g_assert_null (strict);
  g_assert_error (error, STACHE_ERROR, STACHE_ERROR_CONFIG_FILE);
}

static void
test_new_from_file_null_ignores_user_config (Fixture       *fixture,
                                             gconstpointer  data)
{
  g_autoptr(StacheSettings) settings = NULL;
  g_autoptr(GError) error = NULL;
  g_autofree char *value = NULL;

  write_config (fixture, "[stache]\nstache_test_colour=from-file\n");
  settings = stache_settings_new_from_file (NULL, &error);
  g_assert_no_error (error);
  g_assert_null (stache_settings_get_config_path (settings));
  value = stache_settings_get_string (settings, "stache_test_colour", NULL);
  g_assert_null (value);
}

static void
test_secrets_are_redacted (Fixture       *fixture,
                           gconstpointer  data)
{
  g_autoptr(StacheSettings) settings = NULL;
  g_autoptr(GError) error = NULL;
  g_autofree char *shown = NULL;
  g_autofree char *plain = NULL;
  g_autofree char *real = NULL;

  g_assert_true (stache_settings_is_secret_key ("openai_api_key"));
  g_assert_true (stache_settings_is_secret_key ("qdrant_token"));
  g_assert_true (stache_settings_is_secret_key ("pg_password"));
  g_assert_true (stache_settings_is_secret_key ("webhook_secret"));
  g_assert_false (stache_settings_is_secret_key ("keyword_weight"));
  g_assert_false (stache_settings_is_secret_key ("monkey"));

  settings = stache_settings_new ();
  g_setenv ("MILVUS_API_KEY", "sk-do-not-print-me", TRUE);
  shown = stache_settings_get_display_value (settings, "milvus_api_key");
  real = stache_settings_get_string (settings, "milvus_api_key", NULL);
  g_assert_cmpstr (shown, ==, "********");
  g_assert_cmpstr (real, ==, "sk-do-not-print-me");

  /* A malformed secret is reported without its value. */
  stache_settings_get_int (settings, "milvus_api_key", 0, &error);
  g_unsetenv ("MILVUS_API_KEY");
  g_assert_error (error, STACHE_ERROR, STACHE_ERROR_INVALID_SETTING);
  g_assert_null (strstr (error->message, "sk-do-not-print-me"));
  g_assert_nonnull (strstr (error->message, "MILVUS_API_KEY"));

  stache_settings_set_string (settings, "stache_test_colour", "blue");
  plain = stache_settings_get_display_value (settings, "stache_test_colour");
  g_assert_cmpstr (plain, ==, "blue");
}

/* A URL can carry secrets of its own: a password in its user information
 * or a key in its query. They are hidden wherever a value is shown. */
static void
test_url_secrets_are_redacted (Fixture       *fixture,
                               gconstpointer  data)
{
  static const struct
  {
    const char *value;
    const char *shown;
  } cases[] = {
    { "http://admin:pw-do-not-print@host:11434/api", "http://admin:********@host:11434/api" },
    { "https://TOKEN-do-not-print@example.org", "https://********@example.org" },
    { "https://h/v1?api_key=k-do-not-print&model=m&access_token=t-do-not-print#frag",
      "https://h/v1?api_key=********&model=m&access_token=********#frag" },
    { "https://h/v1?Signature=s-do-not-print", "https://h/v1?Signature=********" },
    { "http://host:8080/plain", "http://host:8080/plain" },
    { "not a url @ all?key=1", "not a url @ all?key=1" },
  };
  g_autoptr(StacheSettings) settings = stache_settings_new ();
  g_autoptr(GError) error = NULL;
  g_autofree char *url = NULL;

  for (guint i = 0; i < G_N_ELEMENTS (cases); i++)
    {
      g_autofree char *shown = NULL;

      stache_settings_set_string (settings, "stache_test_url", cases[i].value);
      shown = stache_settings_get_display_value (settings, "stache_test_url");
      g_assert_cmpstr (shown, ==, cases[i].shown);
    }

  /* Nor in the error about a base URL that cannot be used */
  stache_settings_set_string (settings, "stache_test_url", "https://u:pw-do-not-print@h/v1?api_key=k-do-not-print");
  url = stache_settings_get_http_url (settings, "stache_test_url", "http://localhost", &error);
  g_assert_null (url);
  g_assert_error (error, STACHE_ERROR, STACHE_ERROR_INVALID_SETTING);
  g_assert_null (strstr (error->message, "do-not-print"));
  g_assert_nonnull (strstr (error->message, "api_key=********"));
}

static void
test_list_keys_and_sources (Fixture       *fixture,
                            gconstpointer  data)
{
  g_autoptr(StacheSettings) settings = NULL;
  g_auto(GStrv) keys = NULL;
  g_autofree char *from_file = NULL;
  g_autofree char *from_env = NULL;

  write_config (fixture, "[stache]\nfile_only_key=1\nBadKey=2\n");
  settings = stache_settings_new ();
  stache_settings_set_string (settings, "code_only", "x");
  stache_settings_set_default (settings, "plugin_declared", NULL);

  keys = stache_settings_list_keys (settings);
  g_assert_true (g_strv_contains ((const char * const *) keys, "file_only_key"));
  g_assert_true (g_strv_contains ((const char * const *) keys, "code_only"));
  g_assert_true (g_strv_contains ((const char * const *) keys, "plugin_declared"));
  g_assert_true (g_strv_contains ((const char * const *) keys, "vectordb_provider"));
  g_assert_false (g_strv_contains ((const char * const *) keys, "BadKey"));
  for (guint i = 1; keys[i] != NULL; i++)
    g_assert_cmpstr (keys[i - 1], <, keys[i]);

  from_file = stache_settings_describe_source (settings, "file_only_key");
  g_assert_nonnull (strstr (from_file, fixture->config_file));
  g_setenv ("STACHE_TEST_COLOUR", "x", TRUE);
  from_env = stache_settings_describe_source (settings, "stache_test_colour");
  g_assert_nonnull (strstr (from_env, "STACHE_TEST_COLOUR"));
}

static void
test_nonempty_range_and_url (Fixture       *fixture,
                             gconstpointer  data)
{
  g_autoptr(StacheSettings) settings = NULL;
  g_autoptr(GError) error = NULL;
  g_autofree char *blank = NULL;
  g_autofree char *url = NULL;
  g_autofree char *fallback = NULL;
  gint64 value = 0;

  write_config (fixture, "[stache]\nstache_test_colour=   \nchunk_size=5000\n");
  settings = stache_settings_new ();

  blank = stache_settings_get_nonempty (settings, "stache_test_colour", "red");
  g_assert_cmpstr (blank, ==, "red");

  g_assert_false (stache_settings_get_int_range (settings, "chunk_size", 1, 1, 100, &value, &error));
  g_assert_error (error, STACHE_ERROR, STACHE_ERROR_INVALID_SETTING);
  g_assert_nonnull (strstr (error->message, "“5000”"));
  g_clear_error (&error);
  g_assert_true (stache_settings_get_int_range (settings, "chunk_size", 1, 1, 10000, &value, &error));
  g_assert_cmpint (value, ==, 5000);
  g_assert_true (stache_settings_get_int_range (settings, "window_overlap", 7, 0, 10, &value, &error));
  g_assert_cmpint (value, ==, 7);

  fallback = stache_settings_get_http_url (settings, "test_url", "http://localhost:1234//", &error);
  g_assert_no_error (error);
  g_assert_cmpstr (fallback, ==, "http://localhost:1234");

  stache_settings_set_string (settings, "test_url", "ftp://user:hunter2@example.org/");
  url = stache_settings_get_http_url (settings, "test_url", "http://localhost", &error);
  g_assert_null (url);
  g_assert_error (error, STACHE_ERROR, STACHE_ERROR_INVALID_SETTING);
  g_assert_nonnull (strstr (error->message, "TEST_URL"));
  g_assert_null (strstr (error->message, "hunter2"));
}

static void
test_key_validation (void)
{
  g_assert_true (stache_settings_is_valid_key ("vectordb_provider"));
  g_assert_true (stache_settings_is_valid_key ("a1"));
  g_assert_false (stache_settings_is_valid_key ("VECTORDB_PROVIDER"));
  g_assert_false (stache_settings_is_valid_key ("1abc"));
  g_assert_false (stache_settings_is_valid_key ("with space"));
  g_assert_false (stache_settings_is_valid_key (""));
  g_assert_false (stache_settings_is_valid_key (NULL));
}

static gpointer
read_many_times (gpointer data)
{
  StacheSettings *settings = data;

  for (guint i = 0; i < 2000; i++)
    {
      g_autofree char *value = stache_settings_get_string (settings, "shared_key", NULL);

      g_assert_true (value == NULL || g_str_has_prefix (value, "v"));
    }

  return NULL;
}

static void
test_concurrent_reads_and_writes (Fixture       *fixture,
                                  gconstpointer  data)
{
  g_autoptr(StacheSettings) settings = stache_settings_new ();
  GThread *threads[4];

  for (guint i = 0; i < G_N_ELEMENTS (threads); i++)
    threads[i] = g_thread_new ("reader", read_many_times, settings);

  for (guint i = 0; i < 2000; i++)
    {
      g_autofree char *value = g_strdup_printf ("v%u", i);

      stache_settings_set_string (settings, "shared_key", value);
    }

  for (guint i = 0; i < G_N_ELEMENTS (threads); i++)
    g_thread_join (threads[i]);
}

#define add_fixture_test(path, func) \
  g_test_add (path, Fixture, NULL, fixture_set_up, func, fixture_tear_down)

int
main (int    argc,
      char **argv)
{
  g_test_init (&argc, &argv, NULL);

  add_fixture_test ("/settings/precedence", test_explicit_beats_environment_beats_file_beats_default);
  add_fixture_test ("/settings/default-and-unset", test_default_then_unset);
  add_fixture_test ("/settings/empty-env-is-unset", test_empty_environment_variable_counts_as_unset);
  add_fixture_test ("/settings/any-key", test_any_key_works);
  add_fixture_test ("/settings/typed-getters", test_typed_getters);
  add_fixture_test ("/settings/malformed/int-names-key-and-variable", test_malformed_int_names_key_and_variable);
  add_fixture_test ("/settings/malformed/values-in-file", test_malformed_values_in_file_name_the_file);
  add_fixture_test ("/settings/malformed/config-file", test_malformed_config_file_is_reported);
  add_fixture_test ("/settings/no-config-file", test_new_from_file_null_ignores_user_config);
  add_fixture_test ("/settings/secrets-redacted", test_secrets_are_redacted);
  add_fixture_test ("/settings/url-secrets-redacted", test_url_secrets_are_redacted);
  add_fixture_test ("/settings/list-keys-and-sources", test_list_keys_and_sources);
  add_fixture_test ("/settings/thread-safety", test_concurrent_reads_and_writes);
  add_fixture_test ("/settings/nonempty-range-url", test_nonempty_range_and_url);
  g_test_add_func ("/settings/key-validation", test_key_validation);

  g_test_add_func ("/settings/core-settings-listed", test_core_settings_listed);
  return g_test_run ();
}

/* test-remote-provider.c: StacheRemoteProvider, the base class of the
 * providers that call a service, and the `@http` entry of plugin files
 *
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */
#include <string.h>

#include <glib/gstdio.h>
#include <stache-plugin.h>

/* A remote provider that counts its setups and fails when told to */
#define TEST_TYPE_REMOTE (test_remote_get_type ())
G_DECLARE_FINAL_TYPE (TestRemote, test_remote, TEST, REMOTE, StacheRemoteProvider)

struct _TestRemote
{
  StacheRemoteProvider parent_instance;
  gint                 setups;       /* atomic */
  gboolean             saw_settings;
};

G_DEFINE_FINAL_TYPE (TestRemote, test_remote, STACHE_TYPE_REMOTE_PROVIDER)

static gboolean
test_remote_setup (StacheRemoteProvider  *provider,
                   StacheSettings        *settings,
                   GCancellable          *cancellable,
                   GError               **error)
{
  TestRemote *self = TEST_REMOTE (provider);
  g_autofree char *mode = stache_settings_get_string (settings, "testremote_mode", "ok");

  g_atomic_int_inc (&self->setups);
  self->saw_settings = STACHE_IS_SETTINGS (settings);
  /* Slow enough that threads calling init at once overlap */
  g_usleep (20000);

  if (g_str_equal (mode, "fail"))
    {
      g_set_error (error, STACHE_ERROR, STACHE_ERROR_INVALID_SETTING, "told to fail");
      return FALSE;
    }
  if (g_str_equal (mode, "silent"))
    return FALSE;

  return stache_remote_provider_create_client (provider, settings, "testremote", "Test Remote", error) != NULL &&
         stache_remote_provider_set_api_key (provider, settings, "testremote_api_key", "Authorization",
                                             "Bearer ", g_str_equal (mode, "key-required"), error);
}

static void
test_remote_class_init (TestRemoteClass *klass)
{
  STACHE_REMOTE_PROVIDER_CLASS (klass)->setup = test_remote_setup;
}

static void
test_remote_init (TestRemote *self)
{
}

static TestRemote *
remote_new (StacheSettings *settings)
{
  if (settings == NULL)
    return g_object_new (TEST_TYPE_REMOTE, NULL);
  return g_object_new (TEST_TYPE_REMOTE, "settings", settings, NULL);
}

static gpointer
init_in_thread (gpointer data)
{
  return GINT_TO_POINTER (g_initable_init (G_INITABLE (data), NULL, NULL));
}

/* Set up once, from any number of threads; the client is there after;
 * a provider made without settings still gets some. */
static void
test_setup_once (void)
{
  g_autoptr(TestRemote) remote = remote_new (NULL);
  GThread *threads[4];
  g_autoptr(GError) error = NULL;

  g_assert_null (stache_remote_provider_get_client (STACHE_REMOTE_PROVIDER (remote)));
  for (guint i = 0; i < G_N_ELEMENTS (threads); i++)
    threads[i] = g_thread_new ("init", init_in_thread, remote);
  for (guint i = 0; i < G_N_ELEMENTS (threads); i++)
    g_assert_true (GPOINTER_TO_INT (g_thread_join (threads[i])));
  g_assert_true (g_initable_init (G_INITABLE (remote), NULL, &error));
  g_assert_no_error (error);

  g_assert_cmpint (g_atomic_int_get (&remote->setups), ==, 1);
  g_assert_true (remote->saw_settings);
  g_assert_true (STACHE_IS_HTTP_CLIENT (stache_remote_provider_get_client (STACHE_REMOTE_PROVIDER (remote))));
}

/* A failed setup fails every later init the same way, without running
 * again; one that fails without a reason still gives one. */
static void
test_failure_repeated (void)
{
  g_autoptr(StacheSettings) settings = stache_settings_new ();
  g_autoptr(TestRemote) remote = NULL;
  g_autoptr(TestRemote) silent = NULL;

  stache_settings_set_string (settings, "testremote_mode", "fail");
  remote = remote_new (settings);
  for (guint i = 0; i < 2; i++)
    {
      g_autoptr(GError) error = NULL;

      g_assert_false (g_initable_init (G_INITABLE (remote), NULL, &error));
      g_assert_error (error, STACHE_ERROR, STACHE_ERROR_INVALID_SETTING);
      g_assert_cmpstr (error->message, ==, "told to fail");
    }
  g_assert_cmpint (remote->setups, ==, 1);

  stache_settings_set_string (settings, "testremote_mode", "silent");
  silent = remote_new (settings);
  {
    g_autoptr(GError) error = NULL;

    g_assert_false (g_initable_init (G_INITABLE (silent), NULL, &error));
    g_assert_error (error, STACHE_ERROR, STACHE_ERROR_FAILED);
    g_assert_nonnull (strstr (error->message, "TestRemote"));
  }
}

/* API keys: missing (an error only when required, naming the setting and
 * its variable), with a line break (refused, never quoted), or set (sent,
 * and hidden from every message). */
static void
test_api_key (void)
{
  const char *secret = "sk-test-0123456789abcdef";
  g_autoptr(StacheSettings) settings = stache_settings_new ();
  g_autoptr(GError) error = NULL;
  g_autoptr(TestRemote) optional = NULL;
  g_autoptr(TestRemote) required = NULL;
  g_autoptr(TestRemote) broken = NULL;
  g_autoptr(TestRemote) keyed = NULL;
  g_autofree char *message = NULL;
  g_autofree char *redacted = NULL;

  optional = remote_new (settings);
  g_assert_true (g_initable_init (G_INITABLE (optional), NULL, &error));
  g_assert_no_error (error);

  stache_settings_set_string (settings, "testremote_mode", "key-required");
  required = remote_new (settings);
  g_assert_false (g_initable_init (G_INITABLE (required), NULL, &error));
  g_assert_error (error, STACHE_ERROR, STACHE_ERROR_INVALID_SETTING);
  g_assert_nonnull (strstr (error->message, "testremote_api_key"));
  g_assert_nonnull (strstr (error->message, "TESTREMOTE_API_KEY"));
  g_clear_error (&error);

  stache_settings_set_string (settings, "testremote_api_key", "sk-secret\nX-Injected: 1");
  broken = remote_new (settings);
  g_assert_false (g_initable_init (G_INITABLE (broken), NULL, &error));
  g_assert_error (error, STACHE_ERROR, STACHE_ERROR_INVALID_SETTING);
  g_assert_null (strstr (error->message, "sk-secret"));
  g_assert_null (strstr (error->message, "Injected"));
  g_clear_error (&error);

  stache_settings_set_string (settings, "testremote_api_key", secret);
  keyed = remote_new (settings);
  g_assert_true (g_initable_init (G_INITABLE (keyed), NULL, &error));
  g_assert_no_error (error);
  message = g_strdup_printf ("the server said: bad key %s (Bearer %s)", secret, secret);
  redacted = stache_http_client_redact (stache_remote_provider_get_client (STACHE_REMOTE_PROVIDER (keyed)), message);
  g_assert_null (strstr (redacted, secret));
  g_assert_nonnull (strstr (redacted, "the server said"));
}

/* `@http` in a plugin file's X-Stache-Settings stands for the HTTP
 * client's settings. */
static void
test_http_entry_in_plugin_file (void)
{
  g_autofree char *dir = g_dir_make_tmp ("stache-remote-XXXXXX", NULL);
  g_autofree char *folder = g_build_filename (dir, "myremote", NULL);
  g_autofree char *plugin = g_build_filename (folder, "myremote.plugin", NULL);
  const char *search_path[] = { dir, NULL };
  g_autoptr(StachePluginLoader) loader = NULL;
  g_autoptr(StacheSettings) settings = stache_settings_new ();
  g_auto(GStrv) keys = NULL;

  g_assert_cmpint (g_mkdir_with_parents (folder, 0700), ==, 0);
  g_assert_true (g_file_set_contents (plugin,
                                      "[Plugin]\nModule=myremote\nName=My remote\n"
                                      "X-Stache-Providers=llm=myremote\n"
                                      "X-Stache-Settings=myremote_url;@http\n", -1, NULL));

  loader = stache_plugin_loader_new_for_search_path (search_path);
  stache_plugin_loader_declare_settings (loader, settings);
  keys = stache_settings_list_keys (settings);
  g_assert_true (g_strv_contains ((const char * const *) keys, "myremote_url"));
  g_assert_true (g_strv_contains ((const char * const *) keys, "http_timeout"));
  g_assert_true (g_strv_contains ((const char * const *) keys, "http_backoff_ms"));
  g_assert_false (g_strv_contains ((const char * const *) keys, "@http"));

  g_assert_cmpint (g_remove (plugin), ==, 0);
  g_assert_cmpint (g_rmdir (folder), ==, 0);
  g_assert_cmpint (g_rmdir (dir), ==, 0);
}

int
main (int    argc,
      char **argv)
{
  g_test_init (&argc, &argv, NULL);

  g_test_add_func ("/remote-provider/setup-once", test_setup_once);
  g_test_add_func ("/remote-provider/failure-repeated", test_failure_repeated);
  g_test_add_func ("/remote-provider/api-key", test_api_key);
  g_test_add_func ("/remote-provider/http-entry-in-plugin-file", test_http_entry_in_plugin_file);

  return g_test_run ();
}

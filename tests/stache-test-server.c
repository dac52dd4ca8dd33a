/* stache-test-server.c: what the fake API servers of the remote provider
 * suites share (see stache-test-server.h)
 *
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */
#include "stache-test-server.h"

void
stache_test_server_init (StacheTestServer *ts,
                         GMainContext     *context)
{
  ts->context = context;
  ts->sources = g_ptr_array_new_with_free_func ((GDestroyNotify) g_source_unref);
  ts->held = g_ptr_array_new_with_free_func (g_object_unref);
}

void
stache_test_server_stop (StacheTestServer *ts)
{
  for (guint i = 0; i < ts->sources->len; i++)
    g_source_destroy (g_ptr_array_index (ts->sources, i));
  g_ptr_array_set_size (ts->sources, 0);
  g_ptr_array_set_size (ts->held, 0);
}

void
stache_test_server_clear (StacheTestServer *ts)
{
  g_clear_pointer (&ts->sources, g_ptr_array_unref);
  g_clear_pointer (&ts->held, g_ptr_array_unref);
}

void
stache_test_pending_stop (SoupServerMessage *msg,
                          gpointer           data)
{
  ((StacheTestPending *) data)->done = TRUE;
}

void
stache_test_pending_free (gpointer data)
{
  StacheTestPending *pending = data;

  g_signal_handlers_disconnect_by_data (pending->msg, pending);
  g_object_unref (pending->msg);
  g_strfreev (pending->chunks);
  g_free (pending);
}

gboolean
stache_test_pending_step (gpointer data)
{
  StacheTestPending *pending = data;
  SoupMessageBody *body;
  const char *chunk;

  if (pending->done)
    return G_SOURCE_REMOVE;

  if (pending->chunks == NULL)
    {
      pending->done = TRUE;
      soup_server_message_unpause (pending->msg);
      return G_SOURCE_REMOVE;
    }

  body = soup_server_message_get_response_body (pending->msg);
  chunk = pending->chunks[pending->next_chunk];
  if (chunk == NULL)
    {
      pending->done = TRUE;
      soup_message_body_complete (body);
      soup_server_message_unpause (pending->msg);
      return G_SOURCE_REMOVE;
    }

  pending->next_chunk++;
  soup_message_body_append (body, SOUP_MEMORY_COPY, chunk, strlen (chunk));
  soup_server_message_unpause (pending->msg);

  return G_SOURCE_CONTINUE;
}

void
stache_test_server_schedule (StacheTestServer  *ts,
                             SoupServerMessage *msg,
                             GStrv              chunks,
                             guint              interval_ms)
{
  StacheTestPending *pending = g_new0 (StacheTestPending, 1);
  GSource *source = g_timeout_source_new (interval_ms);

  pending->msg = g_object_ref (msg);
  pending->chunks = chunks;
  g_signal_connect (msg, "finished", G_CALLBACK (stache_test_pending_stop), pending);
  g_signal_connect (msg, "disconnected", G_CALLBACK (stache_test_pending_stop), pending);

  soup_server_message_pause (msg);
  g_source_set_callback (source, stache_test_pending_step, pending, stache_test_pending_free);
  g_source_attach (source, ts->context);
  g_ptr_array_add (ts->sources, source);
}

void
stache_test_server_stream (StacheTestServer   *ts,
                           SoupServerMessage  *msg,
                           const char         *content_type,
                           const char * const *chunks,
                           guint               interval_ms)
{
  SoupMessageHeaders *headers = soup_server_message_get_response_headers (msg);

  soup_server_message_set_status (msg, SOUP_STATUS_OK, NULL);
  soup_message_headers_set_encoding (headers, SOUP_ENCODING_CHUNKED);
  soup_message_headers_replace (headers, "Content-Type", content_type);
  soup_message_headers_replace (headers, "Cache-Control", "no-cache");
  stache_test_server_schedule (ts, msg, g_strdupv ((char **) chunks), interval_ms);
}

void
stache_test_server_delay (StacheTestServer  *ts,
                          SoupServerMessage *msg,
                          guint              delay_ms)
{
  stache_test_server_schedule (ts, msg, NULL, delay_ms);
}

void
stache_test_server_hang (StacheTestServer  *ts,
                         SoupServerMessage *msg)
{
  soup_server_message_pause (msg);
  g_ptr_array_add (ts->held, g_object_ref (msg));
}

void
stache_test_server_respond (SoupServerMessage *msg,
                            guint              status,
                            const char        *content_type,
                            const char        *body)
{
  /* libsoup 3.2 has no phrase of its own for 429 */
  soup_server_message_set_status (msg, status, status == 429 ? "Too Many Requests" : NULL);
  soup_server_message_set_response (msg, content_type, SOUP_MEMORY_COPY, body, strlen (body));
}

gboolean
stache_test_server_fault (StacheTestServer  *ts,
                          StacheTestFault    fault,
                          SoupServerMessage *msg,
                          guint              n_request,
                          const char        *error_body)
{
  switch (fault)
    {
    case STACHE_TEST_FAULT_RATE_LIMIT_ONCE:
      if (n_request != 1)
        return FALSE;
      soup_message_headers_replace (soup_server_message_get_response_headers (msg),
                                    "Retry-After", "1");
      stache_test_server_respond (msg, 429, "application/json", error_body);
      return TRUE;

    case STACHE_TEST_FAULT_SERVER_ERROR:
      stache_test_server_respond (msg, SOUP_STATUS_INTERNAL_SERVER_ERROR, "application/json",
                                  error_body);
      return TRUE;

    case STACHE_TEST_FAULT_SLOW:
      stache_test_server_delay (ts, msg, STACHE_TEST_SLOW_MS);
      return FALSE;

    case STACHE_TEST_FAULT_HANG:
      stache_test_server_hang (ts, msg);
      return TRUE;

    case STACHE_TEST_FAULT_MALFORMED:
      stache_test_server_respond (msg, SOUP_STATUS_OK, "application/json",
                                  STACHE_TEST_MALFORMED_BODY);
      return TRUE;

    case STACHE_TEST_FAULT_NONE:
    default:
      return FALSE;
    }
}

void
stache_test_http_problem (StacheTestHttp *http,
                          const char     *format,
                          ...)
{
  va_list args;

  va_start (args, format);
  g_ptr_array_add (http->problems, g_strdup_vprintf (format, args));
  va_end (args);
}

guint
stache_test_http_begin (StacheTestHttp    *http,
                        SoupServerMessage *msg,
                        const char        *path)
{
  gint64 now = g_get_monotonic_time ();

  g_mutex_lock (&http->mutex);
  http->n_requests++;
  g_ptr_array_add (http->paths, g_strdup (path));
  g_array_append_val (http->times, now);

  return http->problems->len;
}

JsonObject *
stache_test_http_parse (StacheTestHttp    *http,
                        SoupServerMessage *msg,
                        const char        *what,
                        JsonParser        *parser)
{
  SoupMessageHeaders *headers = soup_server_message_get_request_headers (msg);
  const char *content_type = soup_message_headers_get_content_type (headers, NULL);
  g_autoptr(GBytes) bytes = soup_message_body_flatten (soup_server_message_get_request_body (msg));
  g_autoptr(GError) error = NULL;
  JsonNode *root;

  if (g_strcmp0 (content_type, "application/json") != 0)
    stache_test_http_problem (http, "%s: Content-Type is “%s”", what,
                              content_type ? content_type : "(none)");

  if (!json_parser_load_from_data (parser, g_bytes_get_data (bytes, NULL),
                                   (gssize) g_bytes_get_size (bytes), &error))
    stache_test_http_problem (http, "%s: the body is not JSON: %s", what, error->message);
  else if (!JSON_NODE_HOLDS_OBJECT (root = json_parser_get_root (parser)))
    stache_test_http_problem (http, "%s: the body is not a JSON object", what);
  else
    return json_node_get_object (root);

  return NULL;
}

void
stache_test_respond_json (SoupServerMessage *msg,
                          guint              status,
                          JsonNode          *root)
{
  g_autofree char *body = json_to_string (root, FALSE);

  stache_test_server_respond (msg, status, "application/json", body);
}

gboolean
stache_test_json_is (JsonNode *node,
                     GType     type)
{
  return node != NULL && JSON_NODE_HOLDS_VALUE (node) && json_node_get_value_type (node) == type;
}

gboolean
stache_test_json_is_string (JsonNode *node)
{
  return stache_test_json_is (node, G_TYPE_STRING);
}

gboolean
stache_test_json_is_integer (JsonNode *node)
{
  return stache_test_json_is (node, G_TYPE_INT64);
}

gboolean
stache_test_json_is_number (JsonNode *node)
{
  return stache_test_json_is (node, G_TYPE_INT64) || stache_test_json_is (node, G_TYPE_DOUBLE);
}

void
stache_test_http_check_members (StacheTestHttp     *http,
                                const char         *what,
                                JsonObject         *object,
                                const char * const *known)
{
  g_autoptr(GList) members = json_object_get_members (object);

  for (GList *l = members; l != NULL; l = l->next)
    if (!g_strv_contains (known, l->data))
      stache_test_http_problem (http, "%s: unknown member “%s”", what, (const char *) l->data);
}

gboolean
stache_test_http_accept (GSocketService    *service,
                         GSocketConnection *connection,
                         GObject           *source_object,
                         gpointer           user_data)
{
  StacheTestHttp *http = user_data;
  g_autoptr(GSocketAddress) local = g_socket_connection_get_local_address (connection, NULL);
  g_autoptr(GSocketAddress) remote = g_socket_connection_get_remote_address (connection, NULL);
  g_autoptr(GError) error = NULL;

  soup_server_accept_iostream (http->server, G_IO_STREAM (connection), local, remote, &error);
  g_assert_no_error (error);

  return TRUE;
}

gpointer
stache_test_http_thread (gpointer data)
{
  StacheTestHttp *http = data;
  g_autoptr(GInetAddress) loopback = g_inet_address_new_loopback (G_SOCKET_FAMILY_IPV4);
  g_autoptr(GSocketAddress) any_port = g_inet_socket_address_new (loopback, 0);
  g_autoptr(GSocketAddress) address = NULL;
  g_autoptr(GSocketService) service = NULL;
  g_autoptr(GError) error = NULL;
  g_autofree char *header = g_strdup_printf ("%s ", http->name);

  g_main_context_push_thread_default (http->context);

  http->server = soup_server_new ("server-header", header, NULL);
  soup_server_add_handler (http->server, NULL, http->handler, http->handler_data, NULL);

  /* Loopback only, on a port the system picks */
  service = g_socket_service_new ();
  g_socket_listener_add_address (G_SOCKET_LISTENER (service), any_port, G_SOCKET_TYPE_STREAM,
                                 G_SOCKET_PROTOCOL_TCP, NULL, &address, &error);
  g_assert_no_error (error);
  g_signal_connect (service, "incoming", G_CALLBACK (stache_test_http_accept), http);
  g_socket_service_start (service);

  g_mutex_lock (&http->mutex);
  http->base_url = g_strdup_printf ("http://127.0.0.1:%u%s",
                                    g_inet_socket_address_get_port (G_INET_SOCKET_ADDRESS (address)),
                                    http->url_path);
  http->ready = TRUE;
  g_cond_signal (&http->cond);
  g_mutex_unlock (&http->mutex);

  g_main_loop_run (http->loop);

  /* What the server thread made is undone in the server thread: answers
   * still waiting first, then the server */
  g_socket_service_stop (service);
  g_socket_listener_close (G_SOCKET_LISTENER (service));
  stache_test_server_stop (&http->ts);
  soup_server_disconnect (http->server);
  g_clear_object (&http->server);
  g_clear_object (&service);
  while (g_main_context_iteration (http->context, FALSE))
    ;

  g_main_context_pop_thread_default (http->context);

  return NULL;
}

void
stache_test_http_start (StacheTestHttp     *http,
                        const char         *name,
                        const char         *url_path,
                        SoupServerCallback  handler,
                        gpointer            handler_data)
{
  g_autofree char *thread_name = g_strdup_printf ("fake-%s", name);

  http->name = name;
  http->url_path = url_path;
  http->handler = handler;
  http->handler_data = handler_data;
  g_mutex_init (&http->mutex);
  g_cond_init (&http->cond);
  http->paths = g_ptr_array_new_with_free_func (g_free);
  http->times = g_array_new (FALSE, FALSE, sizeof (gint64));
  http->bodies = g_ptr_array_new_with_free_func ((GDestroyNotify) json_node_unref);
  http->problems = g_ptr_array_new_with_free_func (g_free);
  http->context = g_main_context_new ();
  http->loop = g_main_loop_new (http->context, FALSE);
  stache_test_server_init (&http->ts, http->context);

  http->thread = g_thread_new (thread_name, stache_test_http_thread, http);

  g_mutex_lock (&http->mutex);
  while (!http->ready)
    g_cond_wait (&http->cond, &http->mutex);
  g_mutex_unlock (&http->mutex);
}

gboolean
stache_test_http_quit (gpointer user_data)
{
  g_main_loop_quit (user_data);

  return G_SOURCE_REMOVE;
}

void
stache_test_http_stop (StacheTestHttp *http)
{
  /* Through the server's context: a g_main_loop_quit() before the server
   * thread reaches g_main_loop_run() would be lost */
  GSource *quit = g_idle_source_new ();

  g_source_set_callback (quit, stache_test_http_quit, http->loop, NULL);
  g_source_attach (quit, http->context);
  g_source_unref (quit);
  g_thread_join (http->thread);

  /* No request broke the API's rules */
  for (guint i = 0; i < http->problems->len; i++)
    g_test_message ("request problem: %s", (const char *) g_ptr_array_index (http->problems, i));
  g_assert_cmpuint (http->problems->len, ==, 0);

  g_main_loop_unref (http->loop);
  g_main_context_unref (http->context);
  g_ptr_array_unref (http->paths);
  g_array_unref (http->times);
  g_ptr_array_unref (http->bodies);
  g_ptr_array_unref (http->problems);
  stache_test_server_clear (&http->ts);
  g_free (http->base_url);
  g_mutex_clear (&http->mutex);
  g_cond_clear (&http->cond);
}

guint
stache_test_http_n_requests (StacheTestHttp *http)
{
  guint n;

  g_mutex_lock (&http->mutex);
  n = http->n_requests;
  g_mutex_unlock (&http->mutex);

  return n;
}

const char *
stache_test_http_seen (StacheTestHttp *http,
                       GPtrArray      *array,
                       guint           i)
{
  const char *value;

  g_mutex_lock (&http->mutex);
  g_assert_cmpuint (i, <, array->len);
  value = g_ptr_array_index (array, i);
  g_mutex_unlock (&http->mutex);

  return value;
}

JsonObject *
stache_test_http_body (StacheTestHttp *http,
                       guint           i)
{
  JsonObject *object;

  g_mutex_lock (&http->mutex);
  g_assert_cmpuint (i, <, http->bodies->len);
  object = json_node_get_object (g_ptr_array_index (http->bodies, i));
  g_mutex_unlock (&http->mutex);

  return object;
}

gint64
stache_test_http_time_between (StacheTestHttp *http,
                               guint           i,
                               guint           j)
{
  gint64 span;

  g_mutex_lock (&http->mutex);
  g_assert_cmpuint (MAX (i, j), <, http->times->len);
  span = g_array_index (http->times, gint64, j) - g_array_index (http->times, gint64, i);
  g_mutex_unlock (&http->mutex);

  return span;
}

void
stache_test_init (int                *argc,
                  char             ***argv,
                  const char * const *own_settings)
{
  g_setenv ("STACHE_PLUGIN_PATH", g_getenv ("STACHE_TEST_BUILTIN_PLUGINS"), TRUE);
  g_setenv ("GIO_USE_PROXY_RESOLVER", "dummy", TRUE);
  for (guint i = 0; own_settings != NULL && own_settings[i] != NULL; i++)
    g_unsetenv (own_settings[i]);

  g_test_init (argc, argv, NULL);
}

StacheSettings *
stache_test_settings_new (const char * const *base,
                          const char * const *extra)
{
  g_autoptr(GError) error = NULL;
  StacheSettings *settings = stache_settings_new_from_file (NULL, &error);

  g_assert_no_error (error);
  g_assert_nonnull (settings);

  for (guint i = 0; base != NULL && base[i] != NULL; i += 2)
    stache_settings_set_string (settings, base[i], base[i + 1]);
  for (guint i = 0; extra != NULL && extra[i] != NULL; i += 2)
    stache_settings_set_string (settings, extra[i], extra[i + 1]);

  return settings;
}

GPtrArray *
stache_test_pairs_va (va_list args)
{
  GPtrArray *pairs = g_ptr_array_new ();
  const char *key;

  while ((key = va_arg (args, const char *)) != NULL)
    {
      g_ptr_array_add (pairs, (gpointer) key);
      g_ptr_array_add (pairs, (gpointer) va_arg (args, const char *));
    }
  g_ptr_array_add (pairs, NULL);

  return pairs;
}

StacheProvider *
stache_test_create_provider (StachePluginLoader *loader,
                             StacheProviderType  type,
                             const char         *name,
                             const char * const *base,
                             const char * const *extra)
{
  g_autoptr(StacheSettings) settings = stache_test_settings_new (base, extra);
  g_autoptr(GError) error = NULL;
  StacheProvider *provider;

  provider = stache_plugin_loader_create_provider (loader, type, name, settings, &error);
  g_assert_no_error (error);
  g_assert_true (STACHE_IS_PROVIDER (provider));

  return provider;
}

gboolean
stache_test_generate_hello (StacheLlmProvider  *llm,
                            GCancellable       *cancellable,
                            GError            **error)
{
  g_autoptr(StacheCompletion) completion = NULL;

  completion = stache_llm_provider_generate (llm, "Hello", NULL, NULL, cancellable, error);
  if (completion != NULL)
    g_assert_cmpstr (stache_completion_get_text (completion), ==, "You said: Hello");

  return completion != NULL;
}

double
stache_test_seconds_since (gint64 start)
{
  return (double) (g_get_monotonic_time () - start) / G_USEC_PER_SEC;
}

gpointer
stache_test_canceller_main (gpointer data)
{
  StacheTestCanceller *canceller = data;

  g_usleep (canceller->delay_ms * 1000);
  canceller->cancelled_at = g_get_monotonic_time ();
  g_cancellable_cancel (canceller->cancellable);

  return NULL;
}

void
stache_test_cancel_later (StacheTestCanceller *canceller,
                          GCancellable        *cancellable,
                          guint                delay_ms)
{
  canceller->cancellable = cancellable;
  canceller->delay_ms = delay_ms;
  canceller->thread = g_thread_new ("test-canceller", stache_test_canceller_main, canceller);
}

void
stache_test_tokens_init (StacheTestTokens *tokens)
{
  memset (tokens, 0, sizeof *tokens);
  tokens->tokens = g_ptr_array_new_with_free_func (g_free);
  tokens->times = g_array_new (FALSE, FALSE, sizeof (gint64));
}

void
stache_test_tokens_clear (StacheTestTokens *tokens)
{
  g_clear_pointer (&tokens->tokens, g_ptr_array_unref);
  g_clear_pointer (&tokens->times, g_array_unref);
}

void
stache_test_tokens_add (const char *token,
                        gpointer    data)
{
  StacheTestTokens *tokens = data;
  gint64 now = g_get_monotonic_time ();

  g_assert_nonnull (token);
  g_assert_cmpstr (token, !=, "");
  g_ptr_array_add (tokens->tokens, g_strdup (token));
  g_array_append_val (tokens->times, now);
  if (tokens->cancel != NULL && tokens->tokens->len == tokens->cancel_after)
    g_cancellable_cancel (tokens->cancel);
}

char *
stache_test_tokens_join (StacheTestTokens *tokens)
{
  GString *joined = g_string_new (NULL);

  for (guint i = 0; i < tokens->tokens->len; i++)
    g_string_append (joined, g_ptr_array_index (tokens->tokens, i));

  return g_string_free (joined, FALSE);
}

void
stache_test_tokens_assert (StacheTestTokens   *tokens,
                           const char * const *expected,
                           guint               interval_ms)
{
  guint n = g_strv_length ((char **) expected);
  gint64 first, last;

  g_assert_cmpuint (tokens->tokens->len, ==, n);
  for (guint i = 0; i < n; i++)
    g_assert_cmpstr (g_ptr_array_index (tokens->tokens, i), ==, expected[i]);

  if (n < 2)
    return;
  first = g_array_index (tokens->times, gint64, 0);
  last = g_array_index (tokens->times, gint64, n - 1);
  g_assert_cmpint (last - first, >=, (gint64) (n - 1) * interval_ms * 1000 / 2);
}

void
stache_test_check_stream_cancelled (StacheLlmProvider *llm,
                                    double             max_seconds)
{
  g_autoptr(StacheCompletion) completion = NULL;
  g_autoptr(GCancellable) cancellable = g_cancellable_new ();
  g_autoptr(GError) error = NULL;
  StacheTestTokens tokens;
  gint64 start = g_get_monotonic_time ();

  stache_test_tokens_init (&tokens);
  tokens.cancel = cancellable;
  tokens.cancel_after = 2;

  completion = stache_llm_provider_generate_stream (llm, "one two three four five six seven",
                                                    NULL, NULL, stache_test_tokens_add, &tokens,
                                                    cancellable, &error);
  g_assert_null (completion);
  g_assert_error (error, G_IO_ERROR, G_IO_ERROR_CANCELLED);
  g_assert_cmpuint (tokens.tokens->len, ==, 2);
  g_assert_cmpfloat (stache_test_seconds_since (start), <, max_seconds);

  stache_test_tokens_clear (&tokens);
}

void
stache_test_check_rate_limited_then_ok (const StacheTestApi *api,
                                        gpointer             fixture)
{
  const char * const settings[] = { NULL };
  g_autoptr(GError) error = NULL;
  gint64 start = g_get_monotonic_time ();

  api->set_fault (fixture, STACHE_TEST_FAULT_RATE_LIMIT_ONCE);
  g_assert_true (api->run (fixture, settings, NULL, &error));
  g_assert_no_error (error);
  g_assert_cmpuint (api->n_requests (fixture), ==, 2);
  /* http_backoff_ms is small: only Retry-After explains the wait */
  g_assert_cmpfloat (stache_test_seconds_since (start), >=, 0.9);
}

void
stache_test_check_server_error (const StacheTestApi *api,
                                gpointer             fixture)
{
  const char * const settings[] = { "http_max_retries", "2", NULL };
  g_autoptr(GError) error = NULL;

  api->set_fault (fixture, STACHE_TEST_FAULT_SERVER_ERROR);
  g_assert_false (api->run (fixture, settings, NULL, &error));
  g_assert_error (error, STACHE_HTTP_ERROR, STACHE_HTTP_ERROR_SERVER);
  g_test_message ("%s", error->message);
  g_assert_nonnull (strstr (error->message, "500"));
  if (api->server_error_text != NULL && strstr (error->message, api->server_error_text) == NULL)
    g_error ("“%s” is not in the error “%s”", api->server_error_text, error->message);
  g_assert_true (stache_http_error_is_transient (error));
  g_assert_cmpuint (api->n_requests (fixture), ==, 3);
}

void
stache_test_check_timeout (const StacheTestApi *api,
                           gpointer             fixture)
{
  const char * const settings[] = { "http_timeout", "1", "http_max_retries", "0", NULL };
  g_autoptr(GError) error = NULL;
  gint64 start = g_get_monotonic_time ();

  api->set_fault (fixture, STACHE_TEST_FAULT_SLOW);
  g_assert_false (api->run (fixture, settings, NULL, &error));
  g_assert_error (error, STACHE_HTTP_ERROR, STACHE_HTTP_ERROR_TIMEOUT);
  g_test_message ("%s", error->message);
  g_assert_true (stache_http_error_is_transient (error));
  g_assert_cmpfloat (stache_test_seconds_since (start), >=, 0.9);
  g_assert_cmpfloat (stache_test_seconds_since (start), <, 2.5);
  g_assert_cmpuint (api->n_requests (fixture), ==, 1);
}

void
stache_test_check_cancel_in_flight (const StacheTestApi *api,
                                    gpointer             fixture)
{
  const char * const settings[] = { NULL };
  g_autoptr(GCancellable) cancellable = g_cancellable_new ();
  g_autoptr(GError) error = NULL;
  StacheTestCanceller canceller = { 0 };

  api->set_fault (fixture, STACHE_TEST_FAULT_HANG);
  stache_test_cancel_later (&canceller, cancellable, 200);
  g_assert_false (api->run (fixture, settings, cancellable, &error));
  g_assert_error (error, G_IO_ERROR, G_IO_ERROR_CANCELLED);
  g_thread_join (canceller.thread);
  g_assert_cmpfloat (stache_test_seconds_since (canceller.cancelled_at), <, 0.5);
  g_assert_cmpuint (api->n_requests (fixture), ==, 1);
}

void
stache_test_check_malformed (const StacheTestApi *api,
                             gpointer             fixture)
{
  const char * const settings[] = { NULL };
  g_autoptr(GError) error = NULL;

  api->set_fault (fixture, STACHE_TEST_FAULT_MALFORMED);
  g_assert_false (api->run (fixture, settings, NULL, &error));
  g_assert_error (error, STACHE_HTTP_ERROR, STACHE_HTTP_ERROR_MALFORMED_RESPONSE);
  g_test_message ("%s", error->message);
  g_assert_false (stache_http_error_is_transient (error));
  /* Not retried */
  g_assert_cmpuint (api->n_requests (fixture), ==, 1);
}

void
stache_test_http_set_fault (gpointer        fixture,
                            StacheTestFault fault)
{
  StacheTestHttp *http = fixture;

  g_mutex_lock (&http->mutex);
  http->fault = fault;
  g_mutex_unlock (&http->mutex);
}

guint
stache_test_http_fault_n_requests (gpointer fixture)
{
  return stache_test_http_n_requests (fixture);
}

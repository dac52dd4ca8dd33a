/* test-http-client.c: the shared HTTP layer of remote providers
 *
 * Each test talks to an in-process SoupServer on the loopback interface,
 * running in its own thread and main context, and scripted with a queue of
 * responses.
 *
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */
#include <string.h>

#include <libsoup/soup.h>
#include <stache-plugin.h>

/* ---- the scripted server ---- */

typedef struct
{
  guint        status;
  const char  *body;            /* nullable */
  const char  *content_type;    /* default application/json */
  const char  *retry_after;     /* nullable */
  const char  *location;        /* nullable */
  guint        delay_ms;        /* answer after this long */
  gboolean     never;           /* never answer */
  gboolean     echo_auth;       /* an OpenAI-style 401 quoting the Authorization header */
  const char **chunks;          /* a chunked 200 response, one chunk per interval */
  guint        chunk_interval_ms;
} Response;

typedef struct
{
  char *method;
  char *path;
  char *query;
  char *body;
  char *content_type;
  char *accept;
  char *x_test;
} Seen;

static void
seen_free (gpointer p)
{
  Seen *seen = p;

  g_free (seen->method);
  g_free (seen->path);
  g_free (seen->query);
  g_free (seen->body);
  g_free (seen->content_type);
  g_free (seen->accept);
  g_free (seen->x_test);
  g_free (seen);
}

typedef struct
{
  GThread      *thread;
  GMainContext *context;
  GMainLoop    *loop;
  SoupServer   *server;           /* server thread only */
  char         *base_url;

  GMutex        mutex;            /* guards what follows */
  GCond         cond;
  gboolean      ready;
  GQueue        responses;        /* Response*, not owned */
  const Response *default_response;
  GPtrArray    *seen;             /* Seen* */

  GPtrArray    *sources;          /* GSource*, server thread only */
  GPtrArray    *held;             /* SoupServerMessage* never answered */
} Fixture;

typedef struct
{
  Fixture           *fixture;
  SoupServerMessage *msg;
  const Response    *response;
  guint              next_chunk;
  gboolean           done;        /* the client went away or all was sent */
} Pending;

static void
pending_stop (SoupServerMessage *msg,
              gpointer           data)
{
  ((Pending *) data)->done = TRUE;
}

static void
pending_free (gpointer p)
{
  Pending *pending = p;

  g_signal_handlers_disconnect_by_data (pending->msg, pending);
  g_object_unref (pending->msg);
  g_free (pending);
}

static void
fill_response (SoupServerMessage *msg,
               const Response    *response)
{
  SoupMessageHeaders *headers = soup_server_message_get_response_headers (msg);
  g_autofree char *body = NULL;

  if (response->echo_auth)
    {
      const char *auth = soup_message_headers_get_one (soup_server_message_get_request_headers (msg),
                                                       "Authorization");

      body = g_strdup_printf ("{\"error\": {\"message\": \"Incorrect API key provided: %s\", "
                              "\"type\": \"invalid_request_error\"}}", auth != NULL ? auth : "");
    }
  else
    {
      body = g_strdup (response->body);
    }

  soup_server_message_set_status (msg, response->status,
                                  response->status == 429 ? "Too Many Requests" : NULL);
  if (response->retry_after != NULL)
    soup_message_headers_replace (headers, "Retry-After", response->retry_after);
  if (response->location != NULL)
    soup_message_headers_replace (headers, "Location", response->location);
  if (body != NULL)
    soup_server_message_set_response (msg,
                                      response->content_type != NULL ? response->content_type
                                                                     : "application/json",
                                      SOUP_MEMORY_COPY, body, strlen (body));
}

static gboolean
answer_late (gpointer data)
{
  Pending *pending = data;

  if (!pending->done)
    {
      fill_response (pending->msg, pending->response);
      soup_server_message_unpause (pending->msg);
    }

  return G_SOURCE_REMOVE;
}

static gboolean
send_chunk (gpointer data)
{
  Pending *pending = data;
  SoupMessageBody *body;
  const char *chunk;

  if (pending->done)
    return G_SOURCE_REMOVE;

  body = soup_server_message_get_response_body (pending->msg);
  chunk = pending->response->chunks[pending->next_chunk];
  if (chunk == NULL)
    {
      soup_message_body_complete (body);
      soup_server_message_unpause (pending->msg);
      pending->done = TRUE;
      return G_SOURCE_REMOVE;
    }

  pending->next_chunk++;
  soup_message_body_append (body, SOUP_MEMORY_COPY, chunk, strlen (chunk));
  soup_server_message_unpause (pending->msg);

  return G_SOURCE_CONTINUE;
}

static void
schedule (Fixture           *fixture,
          SoupServerMessage *msg,
          const Response    *response,
          guint              interval_ms,
          GSourceFunc        func)
{
  Pending *pending = g_new0 (Pending, 1);
  GSource *source = g_timeout_source_new (interval_ms);

  pending->fixture = fixture;
  pending->msg = g_object_ref (msg);
  pending->response = response;
  g_signal_connect (msg, "finished", G_CALLBACK (pending_stop), pending);
  g_signal_connect (msg, "disconnected", G_CALLBACK (pending_stop), pending);

  g_source_set_callback (source, func, pending, pending_free);
  g_source_attach (source, fixture->context);
  g_ptr_array_add (fixture->sources, source);
}

static void
handle_request (SoupServer        *server,
                SoupServerMessage *msg,
                const char        *path,
                GHashTable        *query,
                gpointer           data)
{
  Fixture *fixture = data;
  SoupMessageHeaders *headers = soup_server_message_get_request_headers (msg);
  SoupMessageBody *request_body = soup_server_message_get_request_body (msg);
  GUri *uri = soup_server_message_get_uri (msg);
  const Response *response;
  Seen *seen = g_new0 (Seen, 1);

  seen->method = g_strdup (soup_server_message_get_method (msg));
  seen->path = g_strdup (path);
  seen->query = g_strdup (g_uri_get_query (uri));
  seen->body = g_strndup (request_body->data, request_body->length);
  seen->content_type = g_strdup (soup_message_headers_get_one (headers, "Content-Type"));
  seen->accept = g_strdup (soup_message_headers_get_one (headers, "Accept"));
  seen->x_test = g_strdup (soup_message_headers_get_one (headers, "X-Test"));

  g_mutex_lock (&fixture->mutex);
  g_ptr_array_add (fixture->seen, seen);
  response = g_queue_pop_head (&fixture->responses);
  if (response == NULL)
    response = fixture->default_response;
  g_mutex_unlock (&fixture->mutex);

  if (response == NULL)
    {
      static const Response unexpected = { 599, "{\"error\": \"no scripted response\"}" };

      response = &unexpected;
    }

  if (response->never)
    {
      soup_server_message_pause (msg);
      g_ptr_array_add (fixture->held, g_object_ref (msg));
    }
  else if (response->chunks != NULL)
    {
      soup_server_message_set_status (msg, SOUP_STATUS_OK, NULL);
      soup_message_headers_set_encoding (soup_server_message_get_response_headers (msg),
                                         SOUP_ENCODING_CHUNKED);
      soup_message_headers_replace (soup_server_message_get_response_headers (msg),
                                    "Content-Type", "text/event-stream");
      soup_server_message_pause (msg);
      schedule (fixture, msg, response, response->chunk_interval_ms, send_chunk);
    }
  else if (response->delay_ms > 0)
    {
      soup_server_message_pause (msg);
      schedule (fixture, msg, response, response->delay_ms, answer_late);
    }
  else
    {
      fill_response (msg, response);
    }
}

/* Listens on 127.0.0.1 on a free port; returns the port. */
static guint16
listen_on_loopback (GSocketListener *listener)
{
  g_autoptr(GInetAddress) loopback = g_inet_address_new_loopback (G_SOCKET_FAMILY_IPV4);
  g_autoptr(GSocketAddress) address = g_inet_socket_address_new (loopback, 0);
  g_autoptr(GSocketAddress) effective = NULL;
  g_autoptr(GError) error = NULL;

  g_socket_listener_add_address (listener, address, G_SOCKET_TYPE_STREAM, G_SOCKET_PROTOCOL_TCP,
                                 NULL, &effective, &error);
  g_assert_no_error (error);

  return g_inet_socket_address_get_port (G_INET_SOCKET_ADDRESS (effective));
}

/* Connections are accepted here and handed to the SoupServer, rather than
 * with soup_server_listen_local(): the listener of libsoup 3.2 leaks every
 * socket it accepts, and the address it caches. */
static gboolean
on_incoming (GSocketService    *service,
             GSocketConnection *connection,
             GObject           *source_object,
             gpointer           data)
{
  Fixture *fixture = data;
  g_autoptr(GSocketAddress) local = g_socket_connection_get_local_address (connection, NULL);
  g_autoptr(GSocketAddress) remote = g_socket_connection_get_remote_address (connection, NULL);
  g_autoptr(GError) error = NULL;

  soup_server_accept_iostream (fixture->server, G_IO_STREAM (connection), local, remote, &error);
  g_assert_no_error (error);

  return TRUE;
}

static gpointer
server_thread (gpointer data)
{
  Fixture *fixture = data;
  g_autoptr(GSocketService) service = NULL;
  guint16 port;

  g_main_context_push_thread_default (fixture->context);

  fixture->server = soup_server_new ("server-header", "stache-test", NULL);
  soup_server_add_handler (fixture->server, NULL, handle_request, fixture, NULL);

  service = g_socket_service_new ();
  port = listen_on_loopback (G_SOCKET_LISTENER (service));
  g_signal_connect (service, "incoming", G_CALLBACK (on_incoming), fixture);
  g_socket_service_start (service);

  g_mutex_lock (&fixture->mutex);
  fixture->base_url = g_strdup_printf ("http://127.0.0.1:%u", port);
  fixture->ready = TRUE;
  g_cond_signal (&fixture->cond);
  g_mutex_unlock (&fixture->mutex);

  g_main_loop_run (fixture->loop);

  /* Everything the server thread made is undone in the server thread. */
  g_socket_service_stop (service);
  g_socket_listener_close (G_SOCKET_LISTENER (service));
  soup_server_disconnect (fixture->server);
  for (guint i = 0; i < fixture->sources->len; i++)
    g_source_destroy (g_ptr_array_index (fixture->sources, i));
  g_ptr_array_set_size (fixture->sources, 0);
  g_ptr_array_set_size (fixture->held, 0);
  g_clear_object (&fixture->server);
  while (g_main_context_iteration (fixture->context, FALSE))
    ;

  g_main_context_pop_thread_default (fixture->context);

  return NULL;
}

static void
fixture_set_up (Fixture       *fixture,
                gconstpointer  data)
{
  g_mutex_init (&fixture->mutex);
  g_cond_init (&fixture->cond);
  g_queue_init (&fixture->responses);
  fixture->seen = g_ptr_array_new_with_free_func (seen_free);
  fixture->sources = g_ptr_array_new_with_free_func ((GDestroyNotify) g_source_unref);
  fixture->held = g_ptr_array_new_with_free_func (g_object_unref);
  fixture->context = g_main_context_new ();
  fixture->loop = g_main_loop_new (fixture->context, FALSE);
  fixture->thread = g_thread_new ("test-http-server", server_thread, fixture);

  g_mutex_lock (&fixture->mutex);
  while (!fixture->ready)
    g_cond_wait (&fixture->cond, &fixture->mutex);
  g_mutex_unlock (&fixture->mutex);
}

static gboolean
quit_loop (gpointer data)
{
  g_main_loop_quit (data);
  return G_SOURCE_REMOVE;
}

static void
fixture_tear_down (Fixture       *fixture,
                   gconstpointer  data)
{
  g_main_context_invoke (fixture->context, quit_loop, fixture->loop);
  g_thread_join (fixture->thread);

  g_main_loop_unref (fixture->loop);
  g_main_context_unref (fixture->context);
  g_ptr_array_unref (fixture->held);
  g_ptr_array_unref (fixture->sources);
  g_ptr_array_unref (fixture->seen);
  g_queue_clear (&fixture->responses);
  g_free (fixture->base_url);
  g_cond_clear (&fixture->cond);
  g_mutex_clear (&fixture->mutex);
}

static void
script (Fixture        *fixture,
        const Response *response)
{
  g_mutex_lock (&fixture->mutex);
  g_queue_push_tail (&fixture->responses, (gpointer) response);
  g_mutex_unlock (&fixture->mutex);
}

static guint
n_seen (Fixture *fixture)
{
  guint n;

  g_mutex_lock (&fixture->mutex);
  n = fixture->seen->len;
  g_mutex_unlock (&fixture->mutex);

  return n;
}

static char *
url (Fixture    *fixture,
     const char *path)
{
  return g_strconcat (fixture->base_url, path, NULL);
}

/* ---- helpers ---- */

/* A client with short backoffs and the given key/value settings. */
static StacheHttpClient *
new_client (const char *first_key,
            ...)
{
  g_autoptr(StacheSettings) settings = stache_settings_new ();
  g_autoptr(GError) error = NULL;
  StacheHttpClient *client;
  const char *key;
  va_list args;

  stache_settings_set_string (settings, "http_backoff_ms", "10");

  va_start (args, first_key);
  for (key = first_key; key != NULL; key = va_arg (args, const char *))
    stache_settings_set_string (settings, key, va_arg (args, const char *));
  va_end (args);

  client = stache_http_client_new (settings, "testprov", &error);
  g_assert_no_error (error);
  g_assert_nonnull (client);

  return client;
}

static double
seconds_since (gint64 start)
{
  return (g_get_monotonic_time () - start) / (double) G_USEC_PER_SEC;
}

typedef struct
{
  GCancellable *cancellable;
  guint         delay_ms;
  gint64        cancelled_at;
  GThread      *thread;
} Canceller;

static gpointer
canceller_main (gpointer data)
{
  Canceller *canceller = data;

  g_usleep (canceller->delay_ms * 1000);
  canceller->cancelled_at = g_get_monotonic_time ();
  g_cancellable_cancel (canceller->cancellable);

  return NULL;
}

static void
cancel_later (Canceller    *canceller,
              GCancellable *cancellable,
              guint         delay_ms)
{
  canceller->cancellable = cancellable;
  canceller->delay_ms = delay_ms;
  canceller->thread = g_thread_new ("test-canceller", canceller_main, canceller);
}

/* ---- tests ---- */

static void
test_json_round_trip (Fixture       *fixture,
                      gconstpointer  data)
{
  static const Response ok = { 200, "{\"ok\": true, \"items\": [1, 2]}" };
  g_autoptr(StacheHttpClient) client = new_client (NULL);
  g_autoptr(JsonNode) body = json_from_string ("{\"model\": \"m\", \"input\": [\"a\", \"b\"]}", NULL);
  g_autoptr(JsonNode) sent = NULL;
  g_autoptr(JsonNode) result = NULL;
  g_autoptr(GError) error = NULL;
  g_autofree char *target = url (fixture, "/v1/embeddings?x=1");
  Seen *seen;

  script (fixture, &ok);
  stache_http_client_set_header (client, "X-Test", "hello");

  result = stache_http_client_request_json (client, "POST", target, body, NULL, &error);
  g_assert_no_error (error);
  g_assert_nonnull (result);
  g_assert_true (JSON_NODE_HOLDS_OBJECT (result));
  g_assert_true (json_object_get_boolean_member (json_node_get_object (result), "ok"));
  g_assert_cmpuint (json_array_get_length (json_object_get_array_member (json_node_get_object (result),
                                                                          "items")), ==, 2);
  g_assert_cmpuint (stache_http_client_get_attempts (client), ==, 1);

  g_assert_cmpuint (fixture->seen->len, ==, 1);
  seen = g_ptr_array_index (fixture->seen, 0);
  g_assert_cmpstr (seen->method, ==, "POST");
  g_assert_cmpstr (seen->path, ==, "/v1/embeddings");
  g_assert_cmpstr (seen->query, ==, "x=1");
  g_assert_cmpstr (seen->content_type, ==, "application/json");
  g_assert_cmpstr (seen->accept, ==, "application/json");
  g_assert_cmpstr (seen->x_test, ==, "hello");
  sent = json_from_string (seen->body, &error);
  g_assert_no_error (error);
  g_assert_true (json_node_equal (sent, body));
}

static void
test_get_without_body (Fixture       *fixture,
                       gconstpointer  data)
{
  static const Response ok = { 200, "[\"llama3\"]" };
  g_autoptr(StacheHttpClient) client = new_client (NULL);
  g_autoptr(JsonNode) result = NULL;
  g_autoptr(GError) error = NULL;
  g_autofree char *target = url (fixture, "/api/tags");
  Seen *seen;

  script (fixture, &ok);
  result = stache_http_client_request_json (client, "GET", target, NULL, NULL, &error);
  g_assert_no_error (error);
  g_assert_true (JSON_NODE_HOLDS_ARRAY (result));

  seen = g_ptr_array_index (fixture->seen, 0);
  g_assert_cmpstr (seen->method, ==, "GET");
  g_assert_cmpstr (seen->body, ==, "");
  g_assert_null (seen->content_type);
}

static void
test_empty_body_is_null (Fixture       *fixture,
                         gconstpointer  data)
{
  static const Response no_content = { 204 };
  static const Response blank = { 200, "  \n" };
  g_autoptr(StacheHttpClient) client = new_client (NULL);
  g_autofree char *target = url (fixture, "/collections/c");

  script (fixture, &no_content);
  script (fixture, &blank);

  for (guint i = 0; i < 2; i++)
    {
      g_autoptr(JsonNode) result = NULL;
      g_autoptr(GError) error = NULL;

      result = stache_http_client_request_json (client, "DELETE", target, NULL, NULL, &error);
      g_assert_no_error (error);
      g_assert_nonnull (result);
      g_assert_true (JSON_NODE_HOLDS_NULL (result));
    }
}

static void
test_retry_after_then_success (Fixture       *fixture,
                               gconstpointer  data)
{
  static const Response limited = { 429, "{\"error\": {\"message\": \"slow down\"}}", .retry_after = "1" };
  static const Response ok = { 200, "{\"done\": true}" };
  g_autoptr(StacheHttpClient) client = new_client (NULL);
  g_autoptr(JsonNode) result = NULL;
  g_autoptr(GError) error = NULL;
  g_autofree char *target = url (fixture, "/v1/chat/completions");
  gint64 start = g_get_monotonic_time ();

  script (fixture, &limited);
  script (fixture, &ok);

  result = stache_http_client_request_json (client, "POST", target, NULL, NULL, &error);
  g_assert_no_error (error);
  g_assert_true (JSON_NODE_HOLDS_OBJECT (result));
  g_assert_cmpuint (stache_http_client_get_attempts (client), ==, 2);
  g_assert_cmpuint (n_seen (fixture), ==, 2);
  g_assert_cmpfloat (seconds_since (start), >=, 0.95);
}

static void
test_retry_after_http_date (Fixture       *fixture,
                            gconstpointer  data)
{
  g_autoptr(GDateTime) now = g_date_time_new_now_utc ();
  g_autoptr(GDateTime) past = g_date_time_add_seconds (now, -30);
  g_autofree char *date = soup_date_time_to_string (past, SOUP_DATE_HTTP);
  Response unavailable = { 503, "{\"error\": \"loading model\"}", .retry_after = date };
  static const Response ok = { 200, "{}" };
  g_autoptr(StacheHttpClient) client = new_client (NULL);
  g_autoptr(JsonNode) result = NULL;
  g_autoptr(GError) error = NULL;
  g_autofree char *target = url (fixture, "/api/embed");
  gint64 start = g_get_monotonic_time ();

  /* A date in the past: retry at once. */
  script (fixture, &unavailable);
  script (fixture, &ok);

  result = stache_http_client_request_json (client, "POST", target, NULL, NULL, &error);
  g_assert_no_error (error);
  g_assert_cmpuint (stache_http_client_get_attempts (client), ==, 2);
  g_assert_cmpfloat (seconds_since (start), <, 0.5);
}

static void
test_retry_after_beyond_budget (Fixture       *fixture,
                                gconstpointer  data)
{
  static const Response limited = { 429, "{\"message\": \"quota exceeded\"}", .retry_after = "120" };
  g_autoptr(StacheHttpClient) client = new_client ("http_retry_budget", "60", NULL);
  g_autoptr(JsonNode) result = NULL;
  g_autoptr(GError) error = NULL;
  g_autofree char *target = url (fixture, "/v1/rerank");
  gint64 start = g_get_monotonic_time ();

  script (fixture, &limited);

  result = stache_http_client_request_json (client, "POST", target, NULL, NULL, &error);
  g_assert_null (result);
  g_assert_error (error, STACHE_HTTP_ERROR, STACHE_HTTP_ERROR_RATE_LIMITED);
  g_test_message ("%s", error->message);
  g_assert_nonnull (strstr (error->message, "HTTP 429"));
  g_assert_nonnull (strstr (error->message, "quota exceeded"));
  g_assert_nonnull (strstr (error->message, "http_retry_budget"));
  g_assert_true (stache_http_error_is_transient (error));
  g_assert_cmpuint (stache_http_client_get_attempts (client), ==, 1);
  g_assert_cmpfloat (seconds_since (start), <, 0.5);
}

static void
test_server_error_after_retries (Fixture       *fixture,
                                 gconstpointer  data)
{
  static const Response broken = { 500, "{\"type\": \"error\", \"error\": {\"type\": \"api_error\", "
                                         "\"message\": \"Internal server error\"}}" };
  g_autoptr(StacheHttpClient) client = new_client ("http_max_retries", "2", NULL);
  g_autoptr(JsonNode) result = NULL;
  g_autoptr(GError) error = NULL;
  g_autofree char *target = url (fixture, "/v1/messages");

  for (guint i = 0; i < 3; i++)
    script (fixture, &broken);

  result = stache_http_client_request_json (client, "POST", target, NULL, NULL, &error);
  g_assert_null (result);
  g_assert_error (error, STACHE_HTTP_ERROR, STACHE_HTTP_ERROR_SERVER);
  g_test_message ("%s", error->message);
  g_assert_true (g_str_has_prefix (error->message, "testprov: "));
  g_assert_nonnull (strstr (error->message, "HTTP 500"));
  g_assert_nonnull (strstr (error->message, "after 3 attempts"));
  g_assert_nonnull (strstr (error->message, "Internal server error"));
  g_assert_nonnull (strstr (error->message, "/v1/messages"));
  g_assert_true (stache_http_error_is_transient (error));
  g_assert_cmpuint (stache_http_client_get_attempts (client), ==, 3);
  g_assert_cmpuint (n_seen (fixture), ==, 3);
}

static void
test_client_error_not_retried (Fixture       *fixture,
                               gconstpointer  data)
{
  static const Response bad = { 400, "{\"error\": {\"message\": \"The model `gpt-9` does not exist\", "
                                      "\"type\": \"invalid_request_error\", \"code\": null}}" };
  g_autoptr(StacheHttpClient) client = new_client (NULL);
  g_autoptr(JsonNode) result = NULL;
  g_autoptr(GError) error = NULL;
  g_autofree char *target = url (fixture, "/v1/chat/completions?api-version=2024");

  script (fixture, &bad);

  result = stache_http_client_request_json (client, "POST", target, NULL, NULL, &error);
  g_assert_null (result);
  g_assert_error (error, STACHE_HTTP_ERROR, STACHE_HTTP_ERROR_CLIENT);
  g_test_message ("%s", error->message);
  g_assert_nonnull (strstr (error->message, "HTTP 400 Bad Request"));
  g_assert_nonnull (strstr (error->message, "The model `gpt-9` does not exist"));
  g_assert_nonnull (strstr (error->message, "/v1/chat/completions"));
  g_assert_null (strstr (error->message, "api-version"));
  g_assert_null (strstr (error->message, "attempt"));
  g_assert_false (stache_http_error_is_transient (error));
  g_assert_cmpuint (stache_http_client_get_attempts (client), ==, 1);
  g_assert_cmpuint (n_seen (fixture), ==, 1);
}

static void
test_service_error_messages (Fixture       *fixture,
                             gconstpointer  data)
{
  static const Response anthropic = { 404, "{\"type\": \"error\", \"error\": {\"type\": \"not_found_error\", "
                                            "\"message\": \"model: claude-0\"}}" };
  static const Response ollama = { 404, "{\"error\": \"model \\\"llama9\\\" not found, try pulling it first\"}" };
  static const Response qdrant = { 404, "{\"status\": {\"error\": \"Not found: Collection `c` doesn't exist!\"}, "
                                         "\"time\": 0.001}" };
  static const Response cohere = { 422, "{\"message\": \"invalid request: texts must not be empty\"}" };
  static const Response text = { 403, "Forbidden by proxy\nsecond line", .content_type = "text/plain" };
  static const Response empty = { 401 };
  static const struct {
    const Response *response;
    const char     *expected;
  } cases[] = {
    { &anthropic, ": model: claude-0" },
    { &ollama, ": model \"llama9\" not found, try pulling it first" },
    { &qdrant, ": Not found: Collection `c` doesn't exist!" },
    { &cohere, ": invalid request: texts must not be empty" },
    { &text, ": Forbidden by proxy second line" },
    { &empty, "HTTP 401 Unauthorized from " },
  };
  g_autoptr(StacheHttpClient) client = new_client (NULL);
  g_autofree char *target = url (fixture, "/x");

  for (guint i = 0; i < G_N_ELEMENTS (cases); i++)
    {
      g_autoptr(JsonNode) result = NULL;
      g_autoptr(GError) error = NULL;

      script (fixture, cases[i].response);
      result = stache_http_client_request_json (client, "POST", target, NULL, NULL, &error);
      g_assert_null (result);
      g_assert_error (error, STACHE_HTTP_ERROR, STACHE_HTTP_ERROR_CLIENT);
      g_test_message ("%s", error->message);
      if (!g_str_has_suffix (error->message, cases[i].expected) &&
          strstr (error->message, cases[i].expected) == NULL)
        g_error ("“%s” does not end with “%s”", error->message, cases[i].expected);
    }
}

static void
test_long_error_body_is_cut (Fixture       *fixture,
                             gconstpointer  data)
{
  g_autofree char *long_text = g_strnfill (1000, 'x');
  Response huge = { 400, long_text, .content_type = "text/html" };
  g_autoptr(StacheHttpClient) client = new_client (NULL);
  g_autoptr(JsonNode) result = NULL;
  g_autoptr(GError) error = NULL;
  g_autofree char *target = url (fixture, "/x");
  g_autofree char *two_hundred = g_strnfill (200, 'x');
  g_autofree char *more = g_strnfill (201, 'x');

  script (fixture, &huge);
  result = stache_http_client_request_json (client, "POST", target, NULL, NULL, &error);
  g_assert_error (error, STACHE_HTTP_ERROR, STACHE_HTTP_ERROR_CLIENT);
  g_test_message ("%s", error->message);
  g_assert_nonnull (strstr (error->message, two_hundred));
  g_assert_null (strstr (error->message, more));
}

static void
test_redirect_not_followed (Fixture       *fixture,
                            gconstpointer  data)
{
  static const Response moved = { 301, NULL, .location = "/v2/embed?key=k" };
  g_autoptr(StacheHttpClient) client = new_client (NULL);
  g_autoptr(JsonNode) result = NULL;
  g_autoptr(GError) error = NULL;
  g_autofree char *target = url (fixture, "/v1/embed");

  script (fixture, &moved);
  result = stache_http_client_request_json (client, "POST", target, NULL, NULL, &error);
  g_assert_error (error, STACHE_HTTP_ERROR, STACHE_HTTP_ERROR_CLIENT);
  g_test_message ("%s", error->message);
  g_assert_nonnull (strstr (error->message, "HTTP 301"));
  g_assert_nonnull (strstr (error->message, "/v2/embed"));
  g_assert_null (strstr (error->message, "key=k"));
  g_assert_cmpuint (n_seen (fixture), ==, 1);
}

static void
test_timeout (Fixture       *fixture,
              gconstpointer  data)
{
  static const Response slow = { 200, "{}", .delay_ms = 3000 };
  g_autoptr(StacheHttpClient) client = new_client ("http_timeout", "1", "http_max_retries", "0", NULL);
  g_autoptr(JsonNode) result = NULL;
  g_autoptr(GError) error = NULL;
  g_autofree char *target = url (fixture, "/api/generate");
  gint64 start = g_get_monotonic_time ();

  script (fixture, &slow);
  result = stache_http_client_request_json (client, "POST", target, NULL, NULL, &error);
  g_assert_null (result);
  g_assert_error (error, STACHE_HTTP_ERROR, STACHE_HTTP_ERROR_TIMEOUT);
  g_test_message ("%s", error->message);
  g_assert_nonnull (strstr (error->message, "http_timeout"));
  g_assert_true (stache_http_error_is_transient (error));
  g_assert_cmpfloat (seconds_since (start), >=, 0.9);
  g_assert_cmpfloat (seconds_since (start), <, 2.5);
}

static void
test_slow_connect_phase_is_not_the_response_deadline (Fixture       *fixture,
                                                      gconstpointer  data)
{
  /* The response takes longer than http_connect_timeout: only http_timeout
   * applies once connected. */
  static const Response slowish = { 200, "{\"late\": true}", .delay_ms = 1300 };
  g_autoptr(StacheHttpClient) client = new_client ("http_connect_timeout", "1",
                                                   "http_max_retries", "0", NULL);
  g_autoptr(JsonNode) result = NULL;
  g_autoptr(GError) error = NULL;
  g_autofree char *target = url (fixture, "/api/generate");

  script (fixture, &slowish);
  result = stache_http_client_request_json (client, "POST", target, NULL, NULL, &error);
  g_assert_no_error (error);
  g_assert_true (JSON_NODE_HOLDS_OBJECT (result));
}

static void
test_cancel_in_flight (Fixture       *fixture,
                       gconstpointer  data)
{
  static const Response never = { 200, .never = TRUE };
  g_autoptr(StacheHttpClient) client = new_client (NULL);
  g_autoptr(GCancellable) cancellable = g_cancellable_new ();
  g_autoptr(JsonNode) result = NULL;
  g_autoptr(GError) error = NULL;
  g_autofree char *target = url (fixture, "/v1/chat/completions");
  Canceller canceller = { 0 };

  script (fixture, &never);
  cancel_later (&canceller, cancellable, 200);

  result = stache_http_client_request_json (client, "POST", target, NULL, cancellable, &error);
  g_assert_null (result);
  g_assert_error (error, G_IO_ERROR, G_IO_ERROR_CANCELLED);
  g_assert_false (stache_http_error_is_transient (error));
  g_thread_join (canceller.thread);
  g_assert_cmpfloat (seconds_since (canceller.cancelled_at), <, 0.5);
  g_assert_cmpuint (stache_http_client_get_attempts (client), ==, 1);
}

static void
test_cancel_during_retry_wait (Fixture       *fixture,
                               gconstpointer  data)
{
  static const Response limited = { 429, "{}", .retry_after = "30" };
  g_autoptr(StacheHttpClient) client = new_client (NULL);
  g_autoptr(GCancellable) cancellable = g_cancellable_new ();
  g_autoptr(JsonNode) result = NULL;
  g_autoptr(GError) error = NULL;
  g_autofree char *target = url (fixture, "/v1/embeddings");
  Canceller canceller = { 0 };

  script (fixture, &limited);
  cancel_later (&canceller, cancellable, 300);

  result = stache_http_client_request_json (client, "POST", target, NULL, cancellable, &error);
  g_assert_null (result);
  g_assert_error (error, G_IO_ERROR, G_IO_ERROR_CANCELLED);
  g_thread_join (canceller.thread);
  g_assert_cmpfloat (seconds_since (canceller.cancelled_at), <, 0.5);
  g_assert_cmpuint (stache_http_client_get_attempts (client), ==, 1);
  g_assert_cmpuint (n_seen (fixture), ==, 1);
}

static void
test_cancelled_before_start (Fixture       *fixture,
                             gconstpointer  data)
{
  g_autoptr(StacheHttpClient) client = new_client (NULL);
  g_autoptr(GCancellable) cancellable = g_cancellable_new ();
  g_autoptr(JsonNode) result = NULL;
  g_autoptr(GError) error = NULL;
  g_autofree char *target = url (fixture, "/x");

  g_cancellable_cancel (cancellable);
  result = stache_http_client_request_json (client, "GET", target, NULL, cancellable, &error);
  g_assert_error (error, G_IO_ERROR, G_IO_ERROR_CANCELLED);
  g_assert_cmpuint (stache_http_client_get_attempts (client), ==, 0);
  g_assert_cmpuint (n_seen (fixture), ==, 0);
}

static void
test_malformed_json (Fixture       *fixture,
                     gconstpointer  data)
{
  static const Response html = { 200, "<html><body>Welcome to nginx!</body></html>", .content_type = "text/html" };
  g_autoptr(StacheHttpClient) client = new_client (NULL);
  g_autoptr(JsonNode) result = NULL;
  g_autoptr(GError) error = NULL;
  g_autofree char *target = url (fixture, "/v1/embeddings");

  script (fixture, &html);
  result = stache_http_client_request_json (client, "POST", target, NULL, NULL, &error);
  g_assert_null (result);
  g_assert_error (error, STACHE_HTTP_ERROR, STACHE_HTTP_ERROR_MALFORMED_RESPONSE);
  g_test_message ("%s", error->message);
  g_assert_nonnull (strstr (error->message, "<html><body>Welcome to nginx!"));
  g_assert_false (stache_http_error_is_transient (error));
  g_assert_cmpuint (stache_http_client_get_attempts (client), ==, 1);
}

static void
test_connection_refused (void)
{
  g_autoptr(GSocketListener) listener = g_socket_listener_new ();
  g_autoptr(StacheHttpClient) client = new_client ("http_max_retries", "2", NULL);
  g_autoptr(JsonNode) result = NULL;
  g_autoptr(GError) error = NULL;
  g_autofree char *target = NULL;

  /* The port of a socket that has stopped listening. */
  target = g_strdup_printf ("http://127.0.0.1:%u/api/embed", listen_on_loopback (listener));
  g_socket_listener_close (listener);

  result = stache_http_client_request_json (client, "POST", target, NULL, NULL, &error);
  g_assert_null (result);
  g_assert_error (error, STACHE_HTTP_ERROR, STACHE_HTTP_ERROR_CONNECT);
  g_test_message ("%s", error->message);
  g_assert_true (stache_http_error_is_transient (error));
  g_assert_nonnull (strstr (error->message, "after 3 attempts"));
  g_assert_cmpuint (stache_http_client_get_attempts (client), ==, 3);
  /* No response, no status */
  g_assert_cmpuint (stache_http_client_get_last_status (client), ==, 0);
}

static void
test_invalid_url (void)
{
  g_autoptr(StacheHttpClient) client = new_client (NULL);
  const char *urls[] = { "ftp://example.com/x", "not a url", "http:///path?key=sk-1" };

  stache_http_client_add_secret (client, "sk-1");

  for (guint i = 0; i < G_N_ELEMENTS (urls); i++)
    {
      g_autoptr(JsonNode) result = NULL;
      g_autoptr(GError) error = NULL;

      result = stache_http_client_request_json (client, "GET", urls[i], NULL, NULL, &error);
      g_assert_null (result);
      g_assert_error (error, STACHE_HTTP_ERROR, STACHE_HTTP_ERROR_CLIENT);
      g_test_message ("%s", error->message);
      g_assert_null (strstr (error->message, "sk-1"));
    }
}

typedef struct
{
  GPtrArray *lines;
  guint      stop_after;   /* 0: never stop */
} Collector;

static gboolean
collect_line (const char *line,
              gpointer    data)
{
  Collector *collector = data;

  g_ptr_array_add (collector->lines, g_strdup (line));

  return collector->stop_after == 0 || collector->lines->len < collector->stop_after;
}

static const char *sse_chunks[] = {
  "data: 1\nda",
  "ta: 2\r\n",
  "data: 3\ndata: 4\n",
  "data: 5",
  "\n",
  NULL,
};

static void
test_stream_lines (Fixture       *fixture,
                   gconstpointer  data)
{
  static const Response stream = { 200, .chunks = sse_chunks, .chunk_interval_ms = 50 };
  g_autoptr(StacheHttpClient) client = new_client (NULL);
  g_autoptr(GPtrArray) lines = g_ptr_array_new_with_free_func (g_free);
  g_autoptr(GError) error = NULL;
  g_autofree char *target = url (fixture, "/v1/chat/completions");
  Collector collector = { lines, 0 };
  Seen *seen;

  script (fixture, &stream);
  g_assert_true (stache_http_client_stream_lines (client, "POST", target, NULL, collect_line,
                                                  &collector, NULL, &error));
  g_assert_no_error (error);

  g_assert_cmpuint (lines->len, ==, 5);
  for (guint i = 0; i < 5; i++)
    {
      g_autofree char *expected = g_strdup_printf ("data: %u", i + 1);

      g_assert_cmpstr (g_ptr_array_index (lines, i), ==, expected);
    }

  seen = g_ptr_array_index (fixture->seen, 0);
  g_assert_nonnull (strstr (seen->accept, "text/event-stream"));
}

static void
test_stream_stop_early (Fixture       *fixture,
                        gconstpointer  data)
{
  static const Response stream = { 200, .chunks = sse_chunks, .chunk_interval_ms = 1000 };
  g_autoptr(StacheHttpClient) client = new_client (NULL);
  g_autoptr(GPtrArray) lines = g_ptr_array_new_with_free_func (g_free);
  g_autoptr(GError) error = NULL;
  g_autofree char *target = url (fixture, "/api/chat");
  Collector collector = { lines, 1 };
  gint64 start = g_get_monotonic_time ();

  script (fixture, &stream);
  g_assert_true (stache_http_client_stream_lines (client, "POST", target, NULL, collect_line,
                                                  &collector, NULL, &error));
  g_assert_no_error (error);
  g_assert_cmpuint (lines->len, ==, 1);
  g_assert_cmpstr (g_ptr_array_index (lines, 0), ==, "data: 1");
  /* Stopping does not wait for the rest of the stream. */
  g_assert_cmpfloat (seconds_since (start), <, 1.9);
}

static void
test_stream_retries_before_body (Fixture       *fixture,
                                 gconstpointer  data)
{
  static const Response busy = { 503, "{\"error\": \"server busy\"}" };
  static const Response stream = { 200, .chunks = sse_chunks, .chunk_interval_ms = 10 };
  g_autoptr(StacheHttpClient) client = new_client (NULL);
  g_autoptr(GPtrArray) lines = g_ptr_array_new_with_free_func (g_free);
  g_autoptr(GError) error = NULL;
  g_autofree char *target = url (fixture, "/api/chat");
  Collector collector = { lines, 0 };

  script (fixture, &busy);
  script (fixture, &stream);
  g_assert_true (stache_http_client_stream_lines (client, "POST", target, NULL, collect_line,
                                                  &collector, NULL, &error));
  g_assert_no_error (error);
  g_assert_cmpuint (lines->len, ==, 5);
  g_assert_cmpuint (stache_http_client_get_attempts (client), ==, 2);
}

static void
test_stream_error_status (Fixture       *fixture,
                          gconstpointer  data)
{
  static const Response denied = { 401, "{\"error\": {\"message\": \"invalid x-api-key\"}}" };
  g_autoptr(StacheHttpClient) client = new_client (NULL);
  g_autoptr(GPtrArray) lines = g_ptr_array_new_with_free_func (g_free);
  g_autoptr(GError) error = NULL;
  g_autofree char *target = url (fixture, "/v1/messages");
  Collector collector = { lines, 0 };

  script (fixture, &denied);
  g_assert_false (stache_http_client_stream_lines (client, "POST", target, NULL, collect_line,
                                                   &collector, NULL, &error));
  g_assert_error (error, STACHE_HTTP_ERROR, STACHE_HTTP_ERROR_CLIENT);
  g_test_message ("%s", error->message);
  g_assert_nonnull (strstr (error->message, "invalid x-api-key"));
  g_assert_cmpuint (lines->len, ==, 0);
}

/* ---- events of a stream ---- */

typedef struct
{
  GString *log;           /* "event=data;" for each event */
  guint    stop_after;    /* 0: never stop */
  gboolean fail;          /* fail at stop_after instead of stopping */
  guint    n;
} EventLog;

static gboolean
log_event (const char  *event,
           JsonNode    *data,
           gpointer     user_data,
           GError     **error)
{
  EventLog *log = user_data;
  g_autofree char *json = data != NULL ? json_to_string (data, FALSE) : g_strdup ("(null)");

  g_string_append_printf (log->log, "%s=%s;", event != NULL ? event : "-", json);
  log->n++;
  if (log->stop_after != 0 && log->n >= log->stop_after)
    {
      if (log->fail)
        g_set_error_literal (error, G_IO_ERROR, G_IO_ERROR_FAILED, "the reader gave up");
      return FALSE;
    }
  return TRUE;
}

/* Events split across chunks, a comment, an id, a multi-line data field,
 * a [DONE] marker and a last event without its blank line */
static const char *sse_event_chunks[] = {
  ": keep-alive\n\nevent: message_start\ndata: {\"a\"",
  ": 1}\n\nid: 7\ndata: [1,\ndata: 2]\r\n\r\n",
  "event: ping\n\n",            /* no data: no event */
  "data: [DONE]\n\n",
  "data: {\"last\": true}",
  NULL,
};

static void
test_stream_events_sse (Fixture       *fixture,
                        gconstpointer  data)
{
  static const Response stream = { 200, .chunks = sse_event_chunks, .chunk_interval_ms = 20,
                                   .content_type = "text/event-stream" };
  g_autoptr(StacheHttpClient) client = new_client (NULL);
  g_autoptr(GString) log = g_string_new (NULL);
  g_autoptr(GError) error = NULL;
  g_autofree char *target = url (fixture, "/v1/messages");
  EventLog events = { log, 0, FALSE, 0 };

  script (fixture, &stream);
  g_assert_true (stache_http_client_stream_events (client, "POST", target, NULL,
                                                   STACHE_HTTP_STREAM_SSE, log_event, &events,
                                                   NULL, &error));
  g_assert_no_error (error);
  g_assert_cmpstr (log->str, ==,
                   "message_start={\"a\":1};-=[1,2];-=(null);-={\"last\":true};");
  g_assert_cmpuint (stache_http_client_get_last_status (client), ==, 200);

  /* The reader stops: success, and no more events */
  g_string_truncate (log, 0);
  events.n = 0;
  events.stop_after = 2;
  script (fixture, &stream);
  g_assert_true (stache_http_client_stream_events (client, "POST", target, NULL,
                                                   STACHE_HTTP_STREAM_SSE, log_event, &events,
                                                   NULL, &error));
  g_assert_no_error (error);
  g_assert_cmpuint (events.n, ==, 2);

  /* The reader fails: its error */
  events.n = 0;
  events.fail = TRUE;
  script (fixture, &stream);
  g_assert_false (stache_http_client_stream_events (client, "POST", target, NULL,
                                                    STACHE_HTTP_STREAM_SSE, log_event, &events,
                                                    NULL, &error));
  g_assert_error (error, G_IO_ERROR, G_IO_ERROR_FAILED);
}

static const char *ndjson_chunks[] = {
  "{\"n\": 1}\n\n{\"n\"",
  ": 2}\n",
  "  {\"n\": 3}",
  NULL,
};

static const char *bad_ndjson_chunks[] = {
  "{\"n\": 1}\n",
  "not json, key sk-stream-secret\n",
  "{\"n\": 3}\n",
  NULL,
};

static void
test_stream_events_ndjson (Fixture       *fixture,
                           gconstpointer  data)
{
  static const Response stream = { 200, .chunks = ndjson_chunks, .chunk_interval_ms = 20,
                                   .content_type = "application/x-ndjson" };
  static const Response bad = { 200, .chunks = bad_ndjson_chunks, .chunk_interval_ms = 20,
                                .content_type = "application/x-ndjson" };
  g_autoptr(StacheHttpClient) client = new_client (NULL);
  g_autoptr(GString) log = g_string_new (NULL);
  g_autoptr(GError) error = NULL;
  g_autofree char *target = url (fixture, "/api/chat");
  EventLog events = { log, 0, FALSE, 0 };

  script (fixture, &stream);
  g_assert_true (stache_http_client_stream_events (client, "POST", target, NULL,
                                                   STACHE_HTTP_STREAM_NDJSON, log_event, &events,
                                                   NULL, &error));
  g_assert_no_error (error);
  g_assert_cmpstr (log->str, ==, "-={\"n\":1};-={\"n\":2};-={\"n\":3};");

  /* A line that is not JSON ends the stream, quoted with secrets redacted */
  stache_http_client_add_secret (client, "sk-stream-secret");
  stache_http_client_set_api_name (client, "Ollama");
  g_string_truncate (log, 0);
  script (fixture, &bad);
  g_assert_false (stache_http_client_stream_events (client, "POST", target, NULL,
                                                    STACHE_HTTP_STREAM_NDJSON, log_event, &events,
                                                    NULL, &error));
  g_assert_error (error, STACHE_HTTP_ERROR, STACHE_HTTP_ERROR_MALFORMED_RESPONSE);
  g_test_message ("%s", error->message);
  g_assert_nonnull (strstr (error->message, "not json"));
  g_assert_nonnull (strstr (error->message, "the Ollama API"));
  g_assert_null (strstr (error->message, "sk-stream-secret"));
  g_assert_cmpstr (log->str, ==, "-={\"n\":1};");
}

/* Cancels the stream's cancellable (@user_data) on the first event and
 * reads on: the next wait for the body is cut short */
static gboolean
cancel_event (const char  *event,
              JsonNode    *data,
              gpointer     user_data,
              GError     **error)
{
  g_cancellable_cancel (user_data);
  return TRUE;
}

static void
test_stream_events_cancelled (Fixture       *fixture,
                              gconstpointer  data)
{
  static const Response stream = { 200, .chunks = ndjson_chunks, .chunk_interval_ms = 300 };
  g_autoptr(StacheHttpClient) client = new_client (NULL);
  g_autoptr(GCancellable) cancellable = g_cancellable_new ();
  g_autoptr(GError) error = NULL;
  g_autofree char *target = url (fixture, "/api/chat");

  script (fixture, &stream);
  g_assert_false (stache_http_client_stream_events (client, "POST", target, NULL,
                                                    STACHE_HTTP_STREAM_NDJSON, cancel_event,
                                                    cancellable, cancellable, &error));
  g_assert_error (error, G_IO_ERROR, G_IO_ERROR_CANCELLED);
}

static void
test_error_helpers (void)
{
  g_autoptr(StacheHttpClient) client = new_client (NULL);
  g_autoptr(GError) error = NULL;

  stache_http_client_add_secret (client, "sk-helper-secret");

  /* Named by provider (the API name defaults to it); user info hidden */
  stache_http_client_set_malformed (client, &error, "http://user:pw@127.0.0.1:9/v1/x",
                                    "“data[%u]” quotes sk-helper-secret", 3u);
  g_assert_error (error, STACHE_HTTP_ERROR, STACHE_HTTP_ERROR_MALFORMED_RESPONSE);
  g_test_message ("%s", error->message);
  g_assert_true (g_str_has_prefix (error->message, "testprov: the response from http://127.0.0.1:9/v1/x"));
  g_assert_nonnull (strstr (error->message, "the testprov API"));
  g_assert_nonnull (strstr (error->message, "“data[3]”"));
  g_assert_null (strstr (error->message, "sk-helper-secret"));
  g_assert_null (strstr (error->message, "pw"));
  g_clear_error (&error);

  stache_http_client_set_stream_error (client, &error, STACHE_HTTP_ERROR_SERVER,
                                       "http://127.0.0.1:9/v1/messages",
                                       "Overloaded, key sk-helper-secret", "overloaded_error");
  g_assert_error (error, STACHE_HTTP_ERROR, STACHE_HTTP_ERROR_SERVER);
  g_test_message ("%s", error->message);
  g_assert_true (stache_http_error_is_transient (error));
  g_assert_nonnull (strstr (error->message, "Overloaded"));
  g_assert_nonnull (strstr (error->message, "(overloaded_error)"));
  g_assert_null (strstr (error->message, "sk-helper-secret"));
}

static void
test_last_status (Fixture       *fixture,
                  gconstpointer  data)
{
  static const Response missing = { 404, "{\"status\": {\"error\": \"Not found\"}}" };
  static const Response found = { 200, "{}" };
  g_autoptr(StacheHttpClient) client = new_client (NULL);
  g_autoptr(StacheHttpClient) other = new_client (NULL);
  g_autoptr(JsonNode) result = NULL;
  g_autoptr(GError) error = NULL;
  g_autofree char *target = url (fixture, "/collections/x");

  g_assert_cmpuint (stache_http_client_get_last_status (client), ==, 0);
  script (fixture, &missing);
  g_assert_null (stache_http_client_request_json (client, "GET", target, NULL, NULL, &error));
  g_assert_error (error, STACHE_HTTP_ERROR, STACHE_HTTP_ERROR_CLIENT);
  g_assert_cmpuint (stache_http_client_get_last_status (client), ==, 404);
  /* Per client: another client's request is not this one's */
  g_assert_cmpuint (stache_http_client_get_last_status (other), ==, 0);

  script (fixture, &found);
  result = stache_http_client_request_json (client, "GET", target, NULL, NULL, NULL);
  g_assert_nonnull (result);
  g_assert_cmpuint (stache_http_client_get_last_status (client), ==, 200);
}

static void
test_secret_redaction (Fixture       *fixture,
                       gconstpointer  data)
{
  static const Response unauthorized = { 401, .echo_auth = TRUE };
  g_autoptr(StacheHttpClient) client = new_client (NULL);
  g_autoptr(JsonNode) result = NULL;
  g_autoptr(GError) error = NULL;
  g_autofree char *target = url (fixture, "/v1/models");

  script (fixture, &unauthorized);
  stache_http_client_set_header (client, "Authorization", "Bearer sk-secret-123");

  result = stache_http_client_request_json (client, "GET", target, NULL, NULL, &error);
  g_assert_null (result);
  g_assert_error (error, STACHE_HTTP_ERROR, STACHE_HTTP_ERROR_CLIENT);
  g_test_message ("%s", error->message);
  g_assert_null (strstr (error->message, "sk-secret-123"));
  g_assert_nonnull (strstr (error->message, "********"));
  g_assert_nonnull (strstr (error->message, "Incorrect API key provided"));
}

static void
test_redact (void)
{
  g_autoptr(StacheHttpClient) client = new_client (NULL);
  g_autofree char *plain = NULL;
  g_autofree char *twice = NULL;
  g_autofree char *bearer = NULL;
  g_autofree char *escaped = NULL;
  g_autofree char *api_key = NULL;
  g_autofree char *removed = NULL;

  plain = stache_http_client_redact (client, "nothing to hide");
  g_assert_cmpstr (plain, ==, "nothing to hide");

  stache_http_client_add_secret (client, "k3y");
  stache_http_client_add_secret (client, "");
  twice = stache_http_client_redact (client, "k3y and k3y again, k3");
  g_assert_cmpstr (twice, ==, "******** and ******** again, k3");

  stache_http_client_set_header (client, "authorization", "Bearer tok/en+1");
  bearer = stache_http_client_redact (client, "sent Bearer tok/en+1, then tok/en+1");
  g_assert_cmpstr (bearer, ==, "sent ********, then ********");
  escaped = stache_http_client_redact (client, "http://h/x?t=tok%2Fen%2B1");
  g_assert_cmpstr (escaped, ==, "http://h/x?t=********");

  stache_http_client_set_header (client, "X-Api-Key", "abcdef");
  api_key = stache_http_client_redact (client, "key abcdef");
  g_assert_cmpstr (api_key, ==, "key ********");

  /* Removing a header does not forget its secret. */
  stache_http_client_set_header (client, "X-Api-Key", NULL);
  removed = stache_http_client_redact (client, "abcdef");
  g_assert_cmpstr (removed, ==, "********");
}

static void
test_error_is_transient (void)
{
  static const struct {
    StacheHttpError code;
    gboolean        transient;
  } cases[] = {
    { STACHE_HTTP_ERROR_CONNECT, TRUE },
    { STACHE_HTTP_ERROR_TIMEOUT, TRUE },
    { STACHE_HTTP_ERROR_RATE_LIMITED, TRUE },
    { STACHE_HTTP_ERROR_SERVER, TRUE },
    { STACHE_HTTP_ERROR_CLIENT, FALSE },
    { STACHE_HTTP_ERROR_MALFORMED_RESPONSE, FALSE },
  };

  for (guint i = 0; i < G_N_ELEMENTS (cases); i++)
    {
      g_autoptr(GError) error = g_error_new_literal (STACHE_HTTP_ERROR, cases[i].code, "x");

      g_assert_cmpint (stache_http_error_is_transient (error), ==, cases[i].transient);
    }

  {
    g_autoptr(GError) cancelled = g_error_new_literal (G_IO_ERROR, G_IO_ERROR_CANCELLED, "x");
    g_autoptr(GError) timed_out = g_error_new_literal (G_IO_ERROR, G_IO_ERROR_TIMED_OUT, "x");
    g_autoptr(GError) core = g_error_new_literal (STACHE_ERROR, STACHE_ERROR_FAILED, "x");

    g_assert_false (stache_http_error_is_transient (cancelled));
    g_assert_false (stache_http_error_is_transient (timed_out));
    g_assert_false (stache_http_error_is_transient (core));
    g_assert_false (stache_http_error_is_transient (NULL));
  }
}

static void
test_invalid_settings (void)
{
  static const struct {
    const char *key;
    const char *value;
  } cases[] = {
    { "http_connect_timeout", "0" },
    { "http_timeout", "-5" },
    { "http_max_retries", "1000" },
    { "http_retry_budget", "abc" },
    { "http_backoff_ms", "1.5" },
  };

  for (guint i = 0; i < G_N_ELEMENTS (cases); i++)
    {
      g_autoptr(StacheSettings) settings = stache_settings_new ();
      g_autoptr(StacheHttpClient) client = NULL;
      g_autoptr(GError) error = NULL;

      stache_settings_set_string (settings, cases[i].key, cases[i].value);
      client = stache_http_client_new (settings, "testprov", &error);
      g_assert_null (client);
      g_assert_error (error, STACHE_ERROR, STACHE_ERROR_INVALID_SETTING);
      g_test_message ("%s", error->message);
      g_assert_nonnull (strstr (error->message, cases[i].key));
    }
}

typedef struct
{
  StacheHttpClient *client;
  const char       *target;
  guint             successes;
} Worker;

static gpointer
worker_main (gpointer data)
{
  Worker *worker = data;

  for (guint i = 0; i < 5; i++)
    {
      g_autoptr(JsonNode) body = json_from_string ("{\"n\": 1}", NULL);
      g_autoptr(JsonNode) result = NULL;
      g_autoptr(GError) error = NULL;

      result = stache_http_client_request_json (worker->client, "POST", worker->target, body,
                                                NULL, &error);
      g_assert_no_error (error);
      if (JSON_NODE_HOLDS_OBJECT (result) &&
          stache_http_client_get_attempts (worker->client) == 1)
        worker->successes++;
    }

  return NULL;
}

static void
test_concurrent_requests (Fixture       *fixture,
                          gconstpointer  data)
{
  static const Response ok = { 200, "{\"ok\": true}" };
  g_autoptr(StacheHttpClient) client = new_client (NULL);
  g_autofree char *target = url (fixture, "/v1/embeddings");
  Worker workers[4];
  GThread *threads[G_N_ELEMENTS (workers)];

  fixture->default_response = &ok;
  stache_http_client_set_header (client, "Authorization", "Bearer shared");

  for (guint i = 0; i < G_N_ELEMENTS (workers); i++)
    {
      workers[i] = (Worker) { client, target, 0 };
      threads[i] = g_thread_new ("test-worker", worker_main, &workers[i]);
    }
  for (guint i = 0; i < G_N_ELEMENTS (workers); i++)
    {
      g_thread_join (threads[i]);
      g_assert_cmpuint (workers[i].successes, ==, 5);
    }

  g_assert_cmpuint (n_seen (fixture), ==, 20);
}

#define ADD_SERVER_TEST(path, func) \
  g_test_add (path, Fixture, NULL, fixture_set_up, func, fixture_tear_down)

int
main (int    argc,
      char **argv)
{
  g_test_init (&argc, &argv, NULL);

  ADD_SERVER_TEST ("/http/json-round-trip", test_json_round_trip);
  ADD_SERVER_TEST ("/http/get-without-body", test_get_without_body);
  ADD_SERVER_TEST ("/http/empty-body-is-null", test_empty_body_is_null);
  ADD_SERVER_TEST ("/http/retry-after-then-success", test_retry_after_then_success);
  ADD_SERVER_TEST ("/http/retry-after-http-date", test_retry_after_http_date);
  ADD_SERVER_TEST ("/http/retry-after-beyond-budget", test_retry_after_beyond_budget);
  ADD_SERVER_TEST ("/http/server-error-after-retries", test_server_error_after_retries);
  ADD_SERVER_TEST ("/http/client-error-not-retried", test_client_error_not_retried);
  ADD_SERVER_TEST ("/http/service-error-messages", test_service_error_messages);
  ADD_SERVER_TEST ("/http/long-error-body-is-cut", test_long_error_body_is_cut);
  ADD_SERVER_TEST ("/http/redirect-not-followed", test_redirect_not_followed);
  ADD_SERVER_TEST ("/http/timeout", test_timeout);
  ADD_SERVER_TEST ("/http/connect-timeout-ends-at-connection",
                   test_slow_connect_phase_is_not_the_response_deadline);
  ADD_SERVER_TEST ("/http/cancel-in-flight", test_cancel_in_flight);
  ADD_SERVER_TEST ("/http/cancel-during-retry-wait", test_cancel_during_retry_wait);
  ADD_SERVER_TEST ("/http/cancelled-before-start", test_cancelled_before_start);
  ADD_SERVER_TEST ("/http/malformed-json", test_malformed_json);
  g_test_add_func ("/http/connection-refused", test_connection_refused);
  g_test_add_func ("/http/invalid-url", test_invalid_url);
  ADD_SERVER_TEST ("/http/stream-lines", test_stream_lines);
  ADD_SERVER_TEST ("/http/stream-stop-early", test_stream_stop_early);
  ADD_SERVER_TEST ("/http/stream-retries-before-body", test_stream_retries_before_body);
  ADD_SERVER_TEST ("/http/stream-error-status", test_stream_error_status);
  ADD_SERVER_TEST ("/http/stream-events-sse", test_stream_events_sse);
  ADD_SERVER_TEST ("/http/stream-events-ndjson", test_stream_events_ndjson);
  ADD_SERVER_TEST ("/http/stream-events-cancelled", test_stream_events_cancelled);
  ADD_SERVER_TEST ("/http/last-status", test_last_status);
  g_test_add_func ("/http/error-helpers", test_error_helpers);
  ADD_SERVER_TEST ("/http/secret-redaction", test_secret_redaction);
  g_test_add_func ("/http/redact", test_redact);
  g_test_add_func ("/http/error-is-transient", test_error_is_transient);
  g_test_add_func ("/http/invalid-settings", test_invalid_settings);
  ADD_SERVER_TEST ("/http/concurrent-requests", test_concurrent_requests);

  return g_test_run ();
}

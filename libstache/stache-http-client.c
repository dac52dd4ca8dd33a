/* stache-http-client.c: the HTTP behaviour every remote provider shares
 *
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */
#include "config.h"

#include <string.h>

#include "stache-http-client-private.h"

/**
 * StacheHttpClient:
 *
 * The HTTP layer that remote providers (Ollama, OpenAI-compatible servers,
 * Anthropic, rerank services, Qdrant, …) share, so that they all time out,
 * retry, report errors and keep secrets the same way.
 *
 * A client is created from #StacheSettings with stache_http_client_new(),
 * which reads:
 *
 * - `http_connect_timeout`: seconds allowed to connect, TLS included (10)
 * - `http_timeout`: seconds allowed for the rest of one attempt, from
 *   sending the request to the end of the response body (120); for a
 *   streamed response, for the response headers and then for each wait
 *   between two pieces of the body
 * - `http_max_retries`: how many times a failed request is sent again (3)
 * - `http_retry_budget`: seconds all the waits between attempts of one
 *   request may add up to (60); a wait is shortened to what is left, and
 *   once nothing is left there are no more retries
 * - `http_backoff_ms`: the first wait between attempts, in milliseconds
 *   (500); it doubles with each attempt, at most 30 s, and the actual wait is
 *   a random time between zero and that ("full jitter")
 *
 * Requests are retried after connection errors, timeouts, HTTP 429 and HTTP
 * 5xx, never after another 4xx. For HTTP 429 and 503 a `Retry-After` header
 * is obeyed, unless it asks for a longer wait than what is left of the retry
 * budget: then the request fails at once. Redirections are not followed
 * (they would carry API keys elsewhere); an HTTP 3xx is an error that names
 * the new location.
 *
 * Connections use GIO's proxy settings (the desktop's, or the `http_proxy`
 * family of environment variables), except where GSettings has no schemas
 * installed (GIO's GNOME proxy resolver would abort the process there):
 * then they are direct, unless `GIO_USE_PROXY_RESOLVER` names a resolver.
 *
 * Every error message and every debug line goes through
 * stache_http_client_redact(), which hides every secret registered with
 * stache_http_client_add_secret() or stache_http_client_set_header(). Query
 * strings and user names or passwords in URLs are never shown.
 *
 * The API is synchronous and meant to be called from worker threads, such as
 * the ones the core runs a provider's sync methods in. One client may be used
 * from several threads at once: each request uses its own #SoupSession,
 * created, used and destroyed in the calling thread. (libsoup 3.2 lets
 * several threads send through one session, but its connection pool frees
 * entries from the wrong thread without a lock, fixed only in 3.4; and it
 * opens a new connection for every POST anyway, so a shared session would
 * save little.) Only headers and secrets are shared, behind a lock.
 */

G_DEFINE_FINAL_TYPE (StacheHttpClient, stache_http_client, G_TYPE_OBJECT)

G_DEFINE_QUARK (stache-http-error-quark, stache_http_error)

/* ---- attempts made by the last request of each thread ---- */

/* Clients are told apart by a serial number, not their address: a client
 * freed and another made at the same address must not inherit its
 * figures (it did, now and then, in the tests). */
typedef struct
{
  guint64 client;     /* the client's serial */
  guint   attempts;
  guint   status;     /* HTTP status of the last attempt, 0 for none */
} LastAttempts;

static GPrivate last_attempts = G_PRIVATE_INIT (g_free);

static void
record_attempts (StacheHttpClient *self,
                 guint             attempts)
{
  LastAttempts *last = g_private_get (&last_attempts);

  if (last == NULL)
    {
      last = g_new0 (LastAttempts, 1);
      g_private_set (&last_attempts, last);
    }

  last->client = self->serial;
  last->attempts = attempts;
  last->status = 0;
}

static void
record_status (StacheHttpClient *self,
               guint             status)
{
  LastAttempts *last = g_private_get (&last_attempts);

  if (last != NULL && last->client == self->serial)
    last->status = status;
}

/* ---- object ---- */

static void
stache_http_client_finalize (GObject *object)
{
  StacheHttpClient *self = STACHE_HTTP_CLIENT (object);

  g_free (self->provider_name);
  g_free (self->api_name);
  g_clear_pointer (&self->headers, g_ptr_array_unref);
  g_clear_pointer (&self->secrets, g_ptr_array_unref);
  g_mutex_clear (&self->mutex);

  G_OBJECT_CLASS (stache_http_client_parent_class)->finalize (object);
}

static void
stache_http_client_class_init (StacheHttpClientClass *klass)
{
  _stache_i18n_init ();

  G_OBJECT_CLASS (klass)->finalize = stache_http_client_finalize;
}

static void
stache_http_client_init (StacheHttpClient *self)
{
  static gsize next_serial;   /* pointer-sized, changed with atomic operations */

  /* (on 32-bit systems it wraps after 4 billion clients) */
  self->serial = (guint64) g_atomic_pointer_add (&next_serial, 1) + 1;
  g_mutex_init (&self->mutex);
  self->headers = g_ptr_array_new_with_free_func (_stache_http_header_free);
  self->secrets = g_ptr_array_new_with_free_func (g_free);
}

/**
 * stache_http_error_is_transient:
 * @error: (nullable): an error
 *
 * Checks whether @error may go away if the request is made again later:
 * %STACHE_HTTP_ERROR_CONNECT, %STACHE_HTTP_ERROR_TIMEOUT,
 * %STACHE_HTTP_ERROR_RATE_LIMITED and %STACHE_HTTP_ERROR_SERVER are
 * transient; other HTTP errors, errors of other domains and cancellation are
 * not.
 *
 * Returns: %TRUE if @error is transient
 */
gboolean
stache_http_error_is_transient (const GError *error)
{
  if (error == NULL || error->domain != STACHE_HTTP_ERROR)
    return FALSE;

  switch ((StacheHttpError) error->code)
    {
    case STACHE_HTTP_ERROR_CONNECT:
    case STACHE_HTTP_ERROR_TIMEOUT:
    case STACHE_HTTP_ERROR_RATE_LIMITED:
    case STACHE_HTTP_ERROR_SERVER:
      return TRUE;
    case STACHE_HTTP_ERROR_CLIENT:
    case STACHE_HTTP_ERROR_MALFORMED_RESPONSE:
    default:
      return FALSE;
    }
}

static gboolean
read_setting (StacheSettings  *settings,
              const char      *key,
              gint64           default_value,
              gint64           min,
              gint64           max,
              guint           *out,
              GError         **error)
{
  g_autofree char *env_name = NULL;
  GError *local_error = NULL;
  gint64 value;

  value = stache_settings_get_int (settings, key, default_value, &local_error);
  if (local_error != NULL)
    {
      g_propagate_error (error, local_error);
      return FALSE;
    }

  if (value < min || value > max)
    {
      env_name = stache_settings_key_to_env_name (key);
      g_set_error (error, STACHE_ERROR, STACHE_ERROR_INVALID_SETTING,
                   _("Setting “%s” (%s) must be between %" G_GINT64_FORMAT " and %"
                     G_GINT64_FORMAT ", not %" G_GINT64_FORMAT),
                   key, env_name, min, max, value);
      return FALSE;
    }

  *out = (guint) value;
  return TRUE;
}

/* The settings stache_http_client_new() reads, for the `@http` entry of
 * a plugin file's X-Stache-Settings (stache-plugin-loader.c). */
const char * const *
_stache_http_client_setting_keys (void)
{
  static const char * const keys[] = {
    "http_connect_timeout", "http_timeout", "http_max_retries", "http_retry_budget", "http_backoff_ms", NULL,
  };

  return keys;
}

/**
 * stache_http_client_new:
 * @settings: (nullable): the settings to read the `http_*` keys from, or
 *   %NULL for a new #StacheSettings
 * @provider_name: the name of the provider using the client, such as
 *   `openai`; every error message starts with it
 * @error: return location for a #GError
 *
 * Creates an HTTP client configured by `http_connect_timeout`,
 * `http_timeout`, `http_max_retries`, `http_retry_budget` and
 * `http_backoff_ms` (see #StacheHttpClient). A malformed or out-of-range
 * value is %STACHE_ERROR_INVALID_SETTING, naming the key.
 *
 * Returns: (transfer full): the new client, or %NULL with @error set
 */
StacheHttpClient *
stache_http_client_new (StacheSettings  *settings,
                        const char      *provider_name,
                        GError         **error)
{
  g_autoptr(StacheHttpClient) self = NULL;
  g_autoptr(StacheSettings) own_settings = NULL;

  g_return_val_if_fail (settings == NULL || STACHE_IS_SETTINGS (settings), NULL);
  g_return_val_if_fail (provider_name != NULL && provider_name[0] != '\0', NULL);
  g_return_val_if_fail (error == NULL || *error == NULL, NULL);

  if (settings == NULL)
    settings = own_settings = stache_settings_new ();

  self = g_object_new (STACHE_TYPE_HTTP_CLIENT, NULL);
  self->provider_name = g_strdup (provider_name);

  if (!read_setting (settings, "http_connect_timeout", STACHE_DEFAULT_HTTP_CONNECT_TIMEOUT, 1, 3600,
                     &self->connect_timeout, error) ||
      !read_setting (settings, "http_timeout", STACHE_DEFAULT_HTTP_TIMEOUT, 1, 86400, &self->timeout, error) ||
      !read_setting (settings, "http_max_retries", STACHE_DEFAULT_HTTP_MAX_RETRIES, 0, 100,
                     &self->max_retries, error) ||
      !read_setting (settings, "http_retry_budget", STACHE_DEFAULT_HTTP_RETRY_BUDGET, 0, 86400,
                     &self->retry_budget, error) ||
      !read_setting (settings, "http_backoff_ms", STACHE_DEFAULT_HTTP_BACKOFF_MS, 0, 600000,
                     &self->backoff_ms, error))
    return NULL;

  return g_steal_pointer (&self);
}

/* ---- messages ---- */

/* Up to @max_chars characters of @data, valid UTF-8 on one line. */
char *
_stache_http_excerpt (const char *data,
         gsize       len,
         guint       max_chars)
{
  g_autofree char *valid = g_utf8_make_valid (data, (gssize) MIN (len, (gsize) max_chars * 4));

  g_strdelimit (valid, "\r\n\t", ' ');
  g_strstrip (valid);

  if (g_utf8_strlen (valid, -1) > (glong) max_chars)
    {
      g_autofree char *cut = g_utf8_substring (valid, 0, max_chars);

      return g_strconcat (cut, "…", NULL);
    }

  if (len > (gsize) max_chars * 4)
    return g_strconcat (valid, "…", NULL);

  return g_steal_pointer (&valid);
}

static const char *
object_get_string (JsonObject *object,
                   const char *member)
{
  JsonNode *node = json_object_get_member (object, member);

  if (node != NULL && JSON_NODE_HOLDS_VALUE (node) &&
      json_node_get_value_type (node) == G_TYPE_STRING)
    return json_node_get_string (node);

  return NULL;
}

static JsonObject *
object_get_object (JsonObject *object,
                   const char *member)
{
  JsonNode *node = json_object_get_member (object, member);

  if (node != NULL && JSON_NODE_HOLDS_OBJECT (node))
    return json_node_get_object (node);

  return NULL;
}

/* The service's own explanation in an error body: the message of the common
 * JSON error shapes, else the start of the body. NULL for an empty body. */
static char *
service_message (GBytes *body)
{
  g_autoptr(JsonNode) node = NULL;
  const char *data;
  gsize len;

  if (body == NULL)
    return NULL;

  data = g_bytes_get_data (body, &len);
  if (len == 0)
    return NULL;

  node = stache_json_parse (data, (gssize) len, 0, FALSE, NULL, NULL);
  if (node != NULL && JSON_NODE_HOLDS_OBJECT (node))
    {
      JsonObject *root = json_node_get_object (node);
      JsonObject *nested;
      const char *message;

      /* OpenAI {"error": {"message"}}, Anthropic {"type": "error",
       * "error": {"type", "message"}} */
      nested = object_get_object (root, "error");
      if (nested != NULL && (message = object_get_string (nested, "message")) != NULL)
        return _stache_http_excerpt (message, strlen (message), ERROR_EXCERPT_CHARS);

      /* Ollama, TEI {"error": "…"} */
      if ((message = object_get_string (root, "error")) != NULL)
        return _stache_http_excerpt (message, strlen (message), ERROR_EXCERPT_CHARS);

      /* Qdrant {"status": {"error": "…"}} */
      nested = object_get_object (root, "status");
      if (nested != NULL && (message = object_get_string (nested, "error")) != NULL)
        return _stache_http_excerpt (message, strlen (message), ERROR_EXCERPT_CHARS);

      /* Cohere {"message": "…"}, FastAPI-based servers {"detail": "…"} */
      if ((message = object_get_string (root, "message")) != NULL ||
          (message = object_get_string (root, "detail")) != NULL)
        return _stache_http_excerpt (message, strlen (message), ERROR_EXCERPT_CHARS);
    }

  return _stache_http_excerpt (data, len, ERROR_EXCERPT_CHARS);
}

/* @url without its query, fragment or user information. */
static char *
display_url (GUri *uri)
{
  const char *scheme = g_uri_get_scheme (uri);
  gint port = g_uri_get_port (uri);

  /* Parsing with SOUP_HTTP_URI_FLAGS fills in the default port. */
  if ((port == 80 && g_strcmp0 (scheme, "http") == 0) ||
      (port == 443 && g_strcmp0 (scheme, "https") == 0))
    port = -1;

  return g_uri_join (G_URI_FLAGS_ENCODED, scheme, NULL, g_uri_get_host (uri), port,
                     g_uri_get_path (uri), NULL, NULL);
}

/* ---- one request ---- */

typedef struct
{
  StacheHttpClient   *self;
  const char         *method;
  GUri               *uri;
  char               *url;           /* for messages */
  GBytes             *body;          /* nullable */
  GPtrArray          *headers;
  StacheHttpLineFunc  line_func;     /* NULL: read JSON */
  gpointer            user_data;
  GCancellable       *cancellable;   /* the caller's, nullable */
  JsonNode           *result;
} Request;

typedef struct
{
  gboolean         cancelled;
  StacheHttpError  code;
  char            *summary;          /* what failed, naming the URL */
  char            *detail;           /* nullable: the service's or GIO's explanation */
  gboolean         retryable;
  gint64           retry_after_ms;   /* -1: the server did not say */
} Failure;

static void
failure_clear (Failure *failure)
{
  g_clear_pointer (&failure->summary, g_free);
  g_clear_pointer (&failure->detail, g_free);
}

typedef struct
{
  Request      *request;
  GCancellable *cancellable;   /* cancelled by the caller's or a deadline */
  Deadline     *deadline;
  GSource      *timer;
  gboolean      started;       /* the request went out on a connection */
} Attempt;

static void
forward_cancel (GCancellable *cancellable,
                gpointer      data)
{
  g_cancellable_cancel (G_CANCELLABLE (data));
}

static void
on_message_starting (SoupMessage *msg,
                     gpointer     data)
{
  Attempt *attempt = data;

  /* Connected (TLS included): from now on, the response deadline. */
  if (!attempt->started)
    {
      attempt->started = TRUE;
      _stache_http_deadline_disarm (&attempt->timer);
      attempt->timer = _stache_http_deadline_arm (attempt->deadline, PHASE_RESPONSE,
                                     attempt->request->self->timeout);
    }
}

/* Fills @failure from an error of libsoup or of a read. */
static void
fail_with_io_error (Attempt      *attempt,
                    const GError *error,
                    Failure      *failure)
{
  StacheHttpClient *self = attempt->request->self;
  const char *url = attempt->request->url;
  Phase expired = g_atomic_int_get (&attempt->deadline->expired);

  failure->retryable = FALSE;

  if (g_cancellable_is_cancelled (attempt->request->cancellable))
    {
      failure->cancelled = TRUE;
    }
  else if (expired == PHASE_CONNECT)
    {
      failure->code = STACHE_HTTP_ERROR_TIMEOUT;
      failure->retryable = TRUE;
      failure->summary = g_strdup_printf (_("could not connect to %s within %u s (http_connect_timeout)"),
                                          url, self->connect_timeout);
    }
  else if (expired == PHASE_RESPONSE)
    {
      failure->code = STACHE_HTTP_ERROR_TIMEOUT;
      failure->retryable = TRUE;
      failure->summary = g_strdup_printf (_("no complete response from %s within %u s (http_timeout)"),
                                          url, self->timeout);
    }
  else if (g_error_matches (error, G_IO_ERROR, G_IO_ERROR_TIMED_OUT))
    {
      failure->code = STACHE_HTTP_ERROR_TIMEOUT;
      failure->retryable = TRUE;
      failure->summary = g_strdup_printf (_("no data from %s for %u s (http_timeout)"),
                                          url, self->timeout);
    }
  else if (error->domain == G_TLS_ERROR)
    {
      /* A certificate will not become valid by asking again. */
      failure->code = STACHE_HTTP_ERROR_CONNECT;
      failure->summary = g_strdup_printf (_("TLS connection to %s failed"), url);
      failure->detail = g_strdup (error->message);
    }
  else if (error->domain == SOUP_SESSION_ERROR)
    {
      failure->code = STACHE_HTTP_ERROR_MALFORMED_RESPONSE;
      failure->summary = g_strdup_printf (_("invalid HTTP response from %s"), url);
      failure->detail = g_strdup (error->message);
    }
  else
    {
      failure->code = STACHE_HTTP_ERROR_CONNECT;
      failure->retryable = TRUE;
      failure->summary = attempt->started
        ? g_strdup_printf (_("the connection to %s failed"), url)
        : g_strdup_printf (_("could not connect to %s"), url);
      failure->detail = g_strdup (error->message);
    }
}

/* Reads @stream to its end, or to @limit bytes (then *@truncated is TRUE). */
static GBytes *
read_body (GInputStream  *stream,
           gsize          limit,
           gboolean      *truncated,
           GCancellable  *cancellable,
           GError       **error)
{
  g_autoptr(GByteArray) data = g_byte_array_new ();

  *truncated = FALSE;

  for (;;)
    {
      gsize old_len = data->len;
      gssize n;

      if (data->len >= limit)
        {
          *truncated = TRUE;
          break;
        }

      g_byte_array_set_size (data, old_len + READ_CHUNK_SIZE);
      n = g_input_stream_read (stream, data->data + old_len, READ_CHUNK_SIZE, cancellable, error);
      g_byte_array_set_size (data, old_len + MAX (n, 0));
      if (n < 0)
        return NULL;
      if (n == 0)
        break;
    }

  return g_byte_array_free_to_bytes (g_steal_pointer (&data));
}

/* How long a Retry-After header asks to wait, in ms, or -1. */
static gint64
parse_retry_after (const char *value)
{
  g_autofree char *stripped = NULL;
  g_autoptr(GDateTime) date = NULL;
  g_autoptr(GDateTime) now = NULL;
  guint64 seconds;
  GTimeSpan span;

  if (value == NULL)
    return -1;

  stripped = g_strstrip (g_strdup (value));
  if (g_ascii_string_to_unsigned (stripped, 10, 0, G_MAXINT32, &seconds, NULL))
    return (gint64) seconds * 1000;

  date = soup_date_time_new_from_http_string (stripped);
  if (date == NULL)
    return -1;

  now = g_date_time_new_now_utc ();
  span = g_date_time_difference (date, now);

  return MAX (span, 0) / G_TIME_SPAN_MILLISECOND;
}

static void
fail_with_status (Attempt     *attempt,
                  SoupMessage *msg,
                  GBytes      *body,
                  Failure     *failure)
{
  guint status = soup_message_get_status (msg);
  const char *reason = soup_message_get_reason_phrase (msg);
  SoupMessageHeaders *headers = soup_message_get_response_headers (msg);

  if (reason == NULL || reason[0] == '\0')
    reason = status == STATUS_TOO_MANY_REQUESTS ? "Too Many Requests" : soup_status_get_phrase (status);

  failure->summary = g_strdup_printf (_("HTTP %u %s from %s"), status, reason, attempt->request->url);

  if (status == STATUS_TOO_MANY_REQUESTS)
    {
      failure->code = STACHE_HTTP_ERROR_RATE_LIMITED;
      failure->retryable = TRUE;
    }
  else if (status >= 500 && status < 600)
    {
      failure->code = STACHE_HTTP_ERROR_SERVER;
      failure->retryable = TRUE;
    }
  else
    {
      failure->code = STACHE_HTTP_ERROR_CLIENT;
      failure->retryable = FALSE;
    }

  if (status == STATUS_TOO_MANY_REQUESTS || status == SOUP_STATUS_SERVICE_UNAVAILABLE)
    failure->retry_after_ms = parse_retry_after (soup_message_headers_get_one (headers, "Retry-After"));

  if (SOUP_STATUS_IS_REDIRECTION (status) &&
      soup_message_headers_get_one (headers, "Location") != NULL)
    {
      g_autoptr(GUri) location = g_uri_parse_relative (attempt->request->uri,
                                                       soup_message_headers_get_one (headers, "Location"),
                                                       SOUP_HTTP_URI_FLAGS, NULL);

      if (location != NULL)
        {
          g_autofree char *shown = display_url (location);

          failure->detail = g_strdup_printf (_("redirected to %s; redirections are not followed, "
                                               "use that URL instead"), shown);
        }
    }

  if (failure->detail == NULL)
    failure->detail = service_message (body);
}

static gboolean
is_blank (GBytes *bytes)
{
  gsize len;
  const char *data = g_bytes_get_data (bytes, &len);

  for (gsize i = 0; i < len; i++)
    {
      if (!g_ascii_isspace (data[i]))
        return FALSE;
    }

  return TRUE;
}

static gboolean
parse_json_body (Attempt *attempt,
                 GBytes  *body,
                 Failure *failure)
{
  g_autoptr(JsonNode) root = NULL;
  g_autoptr(GError) error = NULL;
  const char *data;
  gsize len;

  if (is_blank (body))
    {
      attempt->request->result = json_node_new (JSON_NODE_NULL);
      return TRUE;
    }

  data = g_bytes_get_data (body, &len);
  /* Nesting limited first: json-glib's parser recurses per level */
  root = stache_json_parse (data, (gssize) len, 0, FALSE, _("the response"), &error);
  if (root == NULL)
    {
      g_autofree char *start = _stache_http_excerpt (data, len, MALFORMED_EXCERPT_CHARS);

      failure->code = STACHE_HTTP_ERROR_MALFORMED_RESPONSE;
      failure->retryable = FALSE;
      failure->summary = g_strdup_printf (_("the response from %s is not JSON (%s)"),
                                          attempt->request->url, error->message);
      failure->detail = g_strdup_printf (_("it begins with “%s”"), start);
      return FALSE;
    }

  attempt->request->result = g_steal_pointer (&root);
  return TRUE;
}

/* Reads the lines of a 2xx body. Failures before the first byte may be
 * retried; later ones not, since the caller has seen part of the stream. */
static gboolean
read_lines (Attempt      *attempt,
            GInputStream *stream,
            gboolean     *finished,
            Failure      *failure)
{
  Request *request = attempt->request;
  g_autoptr(GDataInputStream) lines = g_data_input_stream_new (stream);
  g_autoptr(GError) error = NULL;
  gssize filled;

  g_filter_input_stream_set_close_base_stream (G_FILTER_INPUT_STREAM (lines), FALSE);
  g_data_input_stream_set_newline_type (lines, G_DATA_STREAM_NEWLINE_TYPE_LF);

  filled = g_buffered_input_stream_fill (G_BUFFERED_INPUT_STREAM (lines), -1,
                                         attempt->cancellable, &error);
  if (filled < 0)
    {
      fail_with_io_error (attempt, error, failure);
      return FALSE;
    }

  for (;;)
    {
      g_autofree char *line = NULL;
      gsize len;

      line = g_data_input_stream_read_line (lines, &len, attempt->cancellable, &error);
      if (line == NULL)
        {
          if (error != NULL)
            {
              fail_with_io_error (attempt, error, failure);
              failure->retryable = FALSE;
              return FALSE;
            }

          *finished = TRUE;
          return TRUE;
        }

      if (len > 0 && line[len - 1] == '\r')
        line[--len] = '\0';

      if (!g_utf8_validate_len (line, len, NULL))
        {
          char *valid = g_utf8_make_valid (line, (gssize) len);

          g_free (line);
          line = valid;
        }

      if (!request->line_func (line, request->user_data))
        return TRUE;
    }
}

static SoupMessage *
build_message (Request *request)
{
  SoupMessage *msg = soup_message_new_from_uri (request->method, request->uri);
  SoupMessageHeaders *headers = soup_message_get_request_headers (msg);

  soup_message_add_flags (msg, SOUP_MESSAGE_NO_REDIRECT);

  if (request->line_func != NULL)
    soup_message_headers_replace (headers, "Accept",
                                  "text/event-stream, application/x-ndjson, application/json");
  else
    soup_message_headers_replace (headers, "Accept", "application/json");

  if (request->body != NULL)
    soup_message_set_request_body_from_bytes (msg, "application/json", request->body);

  for (guint i = 0; i < request->headers->len; i++)
    {
      Header *header = g_ptr_array_index (request->headers, i);

      soup_message_headers_replace (headers, header->name, header->value);
    }

  return msg;
}

/* One HTTP exchange. Returns TRUE on success, else fills @failure. */
static gboolean
run_attempt (Request     *request,
             SoupSession *session,
             Failure     *failure)
{
  StacheHttpClient *self = request->self;
  g_autoptr(SoupMessage) msg = build_message (request);
  g_autoptr(GInputStream) stream = NULL;
  g_autoptr(GBytes) body = NULL;
  g_autoptr(GError) error = NULL;
  Attempt attempt = { 0 };
  gulong cancel_handler = 0;
  gboolean finished = FALSE;   /* the body was read to its end */
  gboolean truncated;
  gboolean ok = FALSE;
  guint status;

  attempt.request = request;
  attempt.cancellable = g_cancellable_new ();
  attempt.deadline = g_atomic_rc_box_new0 (Deadline);
  attempt.deadline->cancellable = g_object_ref (attempt.cancellable);

  if (request->cancellable != NULL)
    cancel_handler = g_cancellable_connect (request->cancellable, G_CALLBACK (forward_cancel),
                                            g_object_ref (attempt.cancellable), g_object_unref);

  g_signal_connect (msg, "starting", G_CALLBACK (on_message_starting), &attempt);
  attempt.timer = _stache_http_deadline_arm (attempt.deadline, PHASE_CONNECT, self->connect_timeout);

  stream = soup_session_send (session, msg, attempt.cancellable, &error);
  if (stream == NULL)
    {
      fail_with_io_error (&attempt, error, failure);
      goto out;
    }

  status = soup_message_get_status (msg);
  record_status (self, status);
  if (!SOUP_STATUS_IS_SUCCESSFUL (status))
    {
      /* What can be read of the error body; a failure to read it does not
       * hide the status. */
      body = read_body (stream, MAX_ERROR_BODY_SIZE, &truncated, attempt.cancellable, NULL);
      finished = body != NULL && !truncated;
      if (body == NULL && g_cancellable_is_cancelled (request->cancellable))
        failure->cancelled = TRUE;
      else
        fail_with_status (&attempt, msg, body, failure);
    }
  else if (request->line_func == NULL)
    {
      body = read_body (stream, MAX_RESPONSE_SIZE, &truncated, attempt.cancellable, &error);
      if (body == NULL)
        {
          fail_with_io_error (&attempt, error, failure);
        }
      else if (truncated)
        {
          failure->code = STACHE_HTTP_ERROR_MALFORMED_RESPONSE;
          failure->summary = g_strdup_printf (_("the response from %s is larger than %u MiB"),
                                              request->url, MAX_RESPONSE_SIZE / (1024 * 1024));
        }
      else
        {
          finished = TRUE;
          ok = parse_json_body (&attempt, body, failure);
        }
    }
  else
    {
      /* Streams may last long: from here on only the wait for each piece
       * is bounded, by the session's I/O timeout. */
      _stache_http_deadline_disarm (&attempt.timer);
      ok = read_lines (&attempt, stream, &finished, failure);
    }

out:
  _stache_http_deadline_disarm (&attempt.timer);

  if (stream != NULL)
    {
      /* Closing reads what is left of the body; a body abandoned half-way
       * (an error, a callback that stopped) is dropped with its connection
       * instead. */
      if (!finished)
        g_cancellable_cancel (attempt.cancellable);
      g_input_stream_close (stream, attempt.cancellable, NULL);
    }

  if (request->cancellable != NULL)
    g_cancellable_disconnect (request->cancellable, cancel_handler);
  g_signal_handlers_disconnect_by_data (msg, &attempt);
  _stache_http_deadline_release (attempt.deadline);
  g_object_unref (attempt.cancellable);

  return ok;
}

static guint64
backoff_delay_ms (StacheHttpClient *self,
                  guint             attempt)
{
  guint64 ceiling = self->backoff_ms;

  /* backoff · 2^(attempt - 1), at most MAX_BACKOFF_MS */
  for (guint i = 1; i < attempt && ceiling < MAX_BACKOFF_MS; i++)
    ceiling *= 2;
  ceiling = MIN (ceiling, MAX_BACKOFF_MS);

  return (guint64) g_random_int_range (0, (gint32) ceiling + 1);
}

static void
set_failure_error (Request  *request,
                   Failure  *failure,
                   guint     attempts,
                   GError  **error)
{
  StacheHttpClient *self = request->self;
  g_autofree char *attempts_text = NULL;
  g_autofree char *message = NULL;
  g_autofree char *redacted = NULL;

  if (attempts > 1)
    attempts_text = g_strdup_printf (g_dngettext (GETTEXT_PACKAGE, " after %u attempt",
                                                  " after %u attempts", attempts),
                                     attempts);

  message = g_strdup_printf ("%s: %s%s%s%s", self->provider_name, failure->summary,
                             attempts_text != NULL ? attempts_text : "",
                             failure->detail != NULL ? ": " : "",
                             failure->detail != NULL ? failure->detail : "");
  redacted = stache_http_client_redact (self, message);

  g_set_error_literal (error, STACHE_HTTP_ERROR, failure->code, redacted);
}

static gboolean
set_cancelled_error (GCancellable  *cancellable,
                     GError       **error)
{
  if (g_cancellable_set_error_if_cancelled (cancellable, error))
    return TRUE;

  g_set_error_literal (error, G_IO_ERROR, G_IO_ERROR_CANCELLED, _("Operation was cancelled"));
  return TRUE;
}

static gboolean
run_request (Request  *request,
             GError  **error)
{
  StacheHttpClient *self = request->self;
  g_autoptr(GMainContext) context = NULL;
  SoupSession *session;
  guint64 budget_left_ms = (guint64) self->retry_budget * 1000;
  gboolean ok = FALSE;

  record_attempts (self, 0);

  if (g_cancellable_is_cancelled (request->cancellable))
    return !set_cancelled_error (request->cancellable, error);

  /* The session, and whatever sources libsoup attaches to the thread-default
   * context, live and die in this thread and this call. */
  context = g_main_context_new ();
  g_main_context_push_thread_default (context);
  session = soup_session_new_with_options ("timeout", self->timeout,
                                           "user-agent", "libstache/" STACHE_VERSION_S,
                                           NULL);
  if (!_stache_http_proxies_usable ())
    soup_session_set_proxy_resolver (session, NULL);

  for (guint attempt = 1; ; attempt++)
    {
      Failure failure = { .retry_after_ms = -1 };
      guint64 delay_ms;

      record_attempts (self, attempt);
      _stache_http_debug_message (self, "%s %s (attempt %u of %u)", request->method, request->url,
                     attempt, self->max_retries + 1);

      if (run_attempt (request, session, &failure))
        {
          ok = TRUE;
          break;
        }

      if (failure.cancelled)
        {
          set_cancelled_error (request->cancellable, error);
          break;
        }

      if (!failure.retryable || attempt > self->max_retries || budget_left_ms == 0)
        {
          set_failure_error (request, &failure, attempt, error);
          failure_clear (&failure);
          break;
        }

      if (failure.retry_after_ms >= 0)
        {
          if ((guint64) failure.retry_after_ms > budget_left_ms)
            {
              char *detail = g_strdup_printf (_("the server asks to wait %" G_GINT64_FORMAT
                                                " s, more than the %" G_GUINT64_FORMAT
                                                " s left of http_retry_budget%s%s"),
                                              (failure.retry_after_ms + 999) / 1000,
                                              budget_left_ms / 1000,
                                              failure.detail != NULL ? "; " : "",
                                              failure.detail != NULL ? failure.detail : "");

              g_free (failure.detail);
              failure.detail = detail;
              set_failure_error (request, &failure, attempt, error);
              failure_clear (&failure);
              break;
            }
          delay_ms = (guint64) failure.retry_after_ms;
        }
      else
        {
          delay_ms = MIN (backoff_delay_ms (self, attempt), budget_left_ms);
        }

      {
        g_autofree char *reason = g_strdup_printf ("%s%s%s", failure.summary,
                                                   failure.detail != NULL ? ": " : "",
                                                   failure.detail != NULL ? failure.detail : "");

        _stache_http_debug_message (self, "%s; retrying in %" G_GUINT64_FORMAT " ms", reason, delay_ms);
      }
      failure_clear (&failure);

      if (!_stache_http_sleep_cancellable (delay_ms, request->cancellable))
        {
          set_cancelled_error (request->cancellable, error);
          break;
        }
      budget_left_ms -= delay_ms;
    }

  soup_session_abort (session);
  g_object_unref (session);
  g_main_context_pop_thread_default (context);

  return ok;
}

static gboolean
request_init (Request           *request,
              StacheHttpClient  *self,
              const char        *method,
              const char        *url,
              JsonNode          *body,
              GCancellable      *cancellable,
              GError           **error)
{
  g_autoptr(GError) parse_error = NULL;

  request->self = self;
  request->method = method;
  request->cancellable = cancellable;
  request->uri = g_uri_parse (url, SOUP_HTTP_URI_FLAGS, &parse_error);

  if (request->uri == NULL ||
      (g_strcmp0 (g_uri_get_scheme (request->uri), "http") != 0 &&
       g_strcmp0 (g_uri_get_scheme (request->uri), "https") != 0) ||
      g_uri_get_host (request->uri) == NULL || g_uri_get_host (request->uri)[0] == '\0')
    {
      /* The user information and the query may hold a key */
      g_autofree char *shown = _stache_redact_url (url);
      g_autofree char *message = g_strdup_printf (_("%s: “%s” is not an http:// or https:// URL"),
                                                  self->provider_name, shown);
      g_autofree char *redacted = stache_http_client_redact (self, message);

      g_set_error_literal (error, STACHE_HTTP_ERROR, STACHE_HTTP_ERROR_CLIENT, redacted);
      return FALSE;
    }

  _stache_http_register_url_secrets (self, request->uri);
  request->url = display_url (request->uri);
  request->headers = _stache_http_copy_headers (self);

  if (body != NULL)
    {
      g_autoptr(JsonGenerator) generator = json_generator_new ();
      gsize len;
      char *data;

      json_generator_set_root (generator, body);
      data = json_generator_to_data (generator, &len);
      request->body = g_bytes_new_take (data, len);
    }

  return TRUE;
}

static void
request_clear (Request *request)
{
  g_clear_pointer (&request->uri, g_uri_unref);
  g_clear_pointer (&request->url, g_free);
  g_clear_pointer (&request->body, g_bytes_unref);
  g_clear_pointer (&request->headers, g_ptr_array_unref);
  g_clear_pointer (&request->result, json_node_unref);
}

/**
 * stache_http_client_request_json:
 * @self: a #StacheHttpClient
 * @method: an HTTP method, such as `POST`
 * @url: an `http://` or `https://` URL
 * @body: (nullable): the JSON to send, or %NULL to send no body
 * @cancellable: (nullable): a #GCancellable
 * @error: return location for a #GError
 *
 * Sends a request with `Accept: application/json` (and `Content-Type:
 * application/json` when there is a body), plus the headers set with
 * stache_http_client_set_header(), and reads the JSON response. Blocks;
 * call it from a worker thread.
 *
 * Failures are retried as described for #StacheHttpClient. Cancelling
 * @cancellable stops the request or the wait between attempts at once, with
 * %G_IO_ERROR_CANCELLED. Other errors are in the %STACHE_HTTP_ERROR domain,
 * with a message that starts with the provider's name and gives the HTTP
 * status, the URL without its query and the service's own error message.
 *
 * Returns: (transfer full): the response body, a %JSON_NODE_NULL node if
 *   it is empty, or %NULL with @error set
 */
JsonNode *
stache_http_client_request_json (StacheHttpClient  *self,
                                 const char        *method,
                                 const char        *url,
                                 JsonNode          *body,
                                 GCancellable      *cancellable,
                                 GError           **error)
{
  Request request = { 0 };
  JsonNode *result = NULL;

  g_return_val_if_fail (STACHE_IS_HTTP_CLIENT (self), NULL);
  g_return_val_if_fail (method != NULL, NULL);
  g_return_val_if_fail (url != NULL, NULL);
  g_return_val_if_fail (cancellable == NULL || G_IS_CANCELLABLE (cancellable), NULL);
  g_return_val_if_fail (error == NULL || *error == NULL, NULL);

  if (request_init (&request, self, method, url, body, cancellable, error) &&
      run_request (&request, error))
    result = g_steal_pointer (&request.result);

  request_clear (&request);

  return result;
}

/**
 * stache_http_client_stream_lines:
 * @self: a #StacheHttpClient
 * @method: an HTTP method, such as `POST`
 * @url: an `http://` or `https://` URL
 * @body: (nullable): the JSON to send, or %NULL to send no body
 * @line_func: (scope call) (closure user_data): called with each line of
 *   the response body
 * @user_data: data for @line_func
 * @cancellable: (nullable): a #GCancellable
 * @error: return location for a #GError
 *
 * Sends a request like stache_http_client_request_json() and reads a
 * successful response incrementally, calling @line_func with each line
 * (without its `\n` or `\r\n`) as soon as it arrives, until the body ends
 * or @line_func returns %FALSE. This suits Server-Sent Events and
 * newline-delimited JSON. Bytes that are not UTF-8 are replaced with U+FFFD.
 *
 * A request is retried only before the first byte of a successful body has
 * been read. After that, the wait for each piece of the body is bounded by
 * `http_timeout`, not the whole body. An unsuccessful response is read
 * whole and reported as by stache_http_client_request_json().
 *
 * Returns: %TRUE if the body was read to its end or @line_func stopped it,
 *   %FALSE with @error set otherwise
 */
gboolean
stache_http_client_stream_lines (StacheHttpClient    *self,
                                 const char          *method,
                                 const char          *url,
                                 JsonNode            *body,
                                 StacheHttpLineFunc   line_func,
                                 gpointer             user_data,
                                 GCancellable        *cancellable,
                                 GError             **error)
{
  Request request = { 0 };
  gboolean ok;

  g_return_val_if_fail (STACHE_IS_HTTP_CLIENT (self), FALSE);
  g_return_val_if_fail (method != NULL, FALSE);
  g_return_val_if_fail (url != NULL, FALSE);
  g_return_val_if_fail (line_func != NULL, FALSE);
  g_return_val_if_fail (cancellable == NULL || G_IS_CANCELLABLE (cancellable), FALSE);
  g_return_val_if_fail (error == NULL || *error == NULL, FALSE);

  request.line_func = line_func;
  request.user_data = user_data;

  ok = request_init (&request, self, method, url, body, cancellable, error) &&
       run_request (&request, error);

  request_clear (&request);

  return ok;
}

/* ---- errors about what a service answered ---- */

/**
 * stache_http_client_set_api_name:
 * @self: a #StacheHttpClient
 * @api_name: how errors name the API the service speaks, such as
 *   `OpenAI` or `Anthropic Messages`
 *
 * Sets the API name stache_http_client_set_malformed() uses; the default
 * is the provider name.
 */
void
stache_http_client_set_api_name (StacheHttpClient *self,
                                 const char       *api_name)
{
  g_return_if_fail (STACHE_IS_HTTP_CLIENT (self));
  g_return_if_fail (api_name != NULL);

  g_mutex_lock (&self->mutex);
  g_free (self->api_name);
  self->api_name = g_strdup (api_name);
  g_mutex_unlock (&self->mutex);
}

/**
 * stache_http_client_set_malformed: (skip)
 * @self: a #StacheHttpClient
 * @error: return location for a #GError
 * @url: the URL the response came from
 * @format: a printf() format saying what is wrong with the response
 * @...: its arguments
 *
 * Sets @error to %STACHE_HTTP_ERROR_MALFORMED_RESPONSE with a message that
 * names the provider, @url (without any user name or password) and the
 * API, and says what is wrong; every secret of @self is redacted from it.
 * Providers use it for answers that are JSON but not the JSON their API
 * describes.
 */
void
stache_http_client_set_malformed (StacheHttpClient  *self,
                                  GError           **error,
                                  const char        *url,
                                  const char        *format,
                                  ...)
{
  g_autoptr(GUri) uri = NULL;
  g_autofree char *shown = NULL;
  g_autofree char *detail = NULL;
  g_autofree char *message = NULL;
  g_autofree char *redacted = NULL;
  g_autofree char *api = NULL;
  va_list args;

  g_return_if_fail (STACHE_IS_HTTP_CLIENT (self));
  g_return_if_fail (url != NULL);
  g_return_if_fail (format != NULL);

  va_start (args, format);
  detail = g_strdup_vprintf (format, args);
  va_end (args);

  uri = g_uri_parse (url, G_URI_FLAGS_NONE, NULL);
  shown = uri != NULL ? display_url (uri) : g_strdup (url);

  g_mutex_lock (&self->mutex);
  api = g_strdup (self->api_name != NULL ? self->api_name : self->provider_name);
  g_mutex_unlock (&self->mutex);

  /* Translators: the first %s is a provider name, the second a URL, the
   * third an API name ("OpenAI"), the fourth what is wrong */
  message = g_strdup_printf (_("%s: the response from %s is not what the %s API describes: %s"),
                             self->provider_name, shown, api, detail);
  redacted = stache_http_client_redact (self, message);
  g_set_error_literal (error, STACHE_HTTP_ERROR, STACHE_HTTP_ERROR_MALFORMED_RESPONSE, redacted);
}

/**
 * stache_http_client_set_stream_error:
 * @self: a #StacheHttpClient
 * @error: return location for a #GError
 * @code: the error code: %STACHE_HTTP_ERROR_SERVER or
 *   %STACHE_HTTP_ERROR_RATE_LIMITED for what may pass (so fallbacks move
 *   on), %STACHE_HTTP_ERROR_CLIENT for a request the service refuses
 * @url: the URL the stream came from
 * @service_message: (nullable): the service's own message
 * @service_type: (nullable): the service's error type, such as
 *   `overloaded_error`
 *
 * Sets @error for a stream that the service ended with an error of its own
 * after a successful status, naming the provider, @url (without any user
 * name or password) and the service's message, with every secret of @self
 * redacted.
 */
void
stache_http_client_set_stream_error (StacheHttpClient  *self,
                                     GError           **error,
                                     StacheHttpError    code,
                                     const char        *url,
                                     const char        *service_message,
                                     const char        *service_type)
{
  g_autoptr(GUri) uri = NULL;
  g_autofree char *shown = NULL;
  g_autofree char *message = NULL;
  g_autofree char *redacted = NULL;

  g_return_if_fail (STACHE_IS_HTTP_CLIENT (self));
  g_return_if_fail (url != NULL);

  uri = g_uri_parse (url, G_URI_FLAGS_NONE, NULL);
  shown = uri != NULL ? display_url (uri) : g_strdup (url);

  if (service_type != NULL)
    /* Translators: the first %s is a provider name, the second a URL, the
     * third the service's message, the fourth its error type */
    message = g_strdup_printf (_("%s: the stream from %s failed midway; the service says: %s (%s)"),
                               self->provider_name, shown,
                               service_message != NULL ? service_message : _("no message"),
                               service_type);
  else
    message = g_strdup_printf (_("%s: the stream from %s failed midway; the service says: %s"),
                               self->provider_name, shown,
                               service_message != NULL ? service_message : _("no message"));

  redacted = stache_http_client_redact (self, message);
  g_set_error_literal (error, STACHE_HTTP_ERROR, code, redacted);
}

/**
 * stache_http_client_get_last_status:
 * @self: a #StacheHttpClient
 *
 * Gets the HTTP status of the last attempt of the last request that the
 * calling thread made with @self, such as 404 for an error a provider
 * handles (a collection that does not exist yet), without reading error
 * messages.
 *
 * Returns: the status, or 0 if no response was received (the server was
 *   not reached, the request was cancelled, or the thread's last request
 *   was made with another client)
 */
guint
stache_http_client_get_last_status (StacheHttpClient *self)
{
  LastAttempts *last;

  g_return_val_if_fail (STACHE_IS_HTTP_CLIENT (self), 0);

  last = g_private_get (&last_attempts);
  if (last == NULL || last->client != self->serial)
    return 0;

  return last->status;
}

/**
 * stache_http_client_get_attempts:
 * @self: a #StacheHttpClient
 *
 * Gets how many HTTP attempts the last request that the calling thread made
 * with @self took: 1 when it succeeded or failed at once, more after
 * retries, 0 if it was cancelled before it started or the thread's last
 * request was made with another client.
 *
 * Returns: the number of attempts
 */
guint
stache_http_client_get_attempts (StacheHttpClient *self)
{
  LastAttempts *last;

  g_return_val_if_fail (STACHE_IS_HTTP_CLIENT (self), 0);

  last = g_private_get (&last_attempts);
  if (last == NULL || last->client != self->serial)
    return 0;

  return last->attempts;
}

/* stache-http-client.h: the HTTP behaviour every remote provider shares
 *
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */
#pragma once

#if !defined(STACHE_INSIDE_PLUGIN_SDK) && !defined(STACHE_COMPILATION)
# error "Only <stache-plugin.h> can be included directly."
#endif

#include <gio/gio.h>
#include <json-glib/json-glib.h>

#include "stache-settings.h"

G_BEGIN_DECLS

/**
 * STACHE_HTTP_ERROR:
 *
 * Error domain of #StacheHttpClient. Errors in this domain use the
 * #StacheHttpError codes; their messages name the provider, the HTTP status
 * when there is one and the service's own error message, with every secret
 * redacted.
 */
#define STACHE_HTTP_ERROR (stache_http_error_quark ())

/**
 * StacheHttpError:
 * @STACHE_HTTP_ERROR_CONNECT: the server could not be reached
 * @STACHE_HTTP_ERROR_TIMEOUT: connecting or reading took too long
 * @STACHE_HTTP_ERROR_RATE_LIMITED: HTTP 429, still after the retries
 * @STACHE_HTTP_ERROR_SERVER: HTTP 5xx, still after the retries
 * @STACHE_HTTP_ERROR_CLIENT: HTTP 4xx other than 429: the request is wrong
 *   (a bad key, an unknown model); never retried
 * @STACHE_HTTP_ERROR_MALFORMED_RESPONSE: the body is not the JSON expected
 *
 * Error codes in the %STACHE_HTTP_ERROR domain.
 */
typedef enum {
  STACHE_HTTP_ERROR_CONNECT,
  STACHE_HTTP_ERROR_TIMEOUT,
  STACHE_HTTP_ERROR_RATE_LIMITED,
  STACHE_HTTP_ERROR_SERVER,
  STACHE_HTTP_ERROR_CLIENT,
  STACHE_HTTP_ERROR_MALFORMED_RESPONSE,
} StacheHttpError;

/**
 * StacheHttpLineFunc:
 * @line: one line of a streamed response body, without its line end
 * @user_data: the data passed with the function
 *
 * Called for each line of a streamed response (Server-Sent Events or
 * newline-delimited JSON), in the thread that made the request.
 *
 * Returns: %FALSE to stop reading the stream
 */
typedef gboolean (*StacheHttpLineFunc) (const char *line,
                                        gpointer    user_data);

/**
 * StacheHttpStreamFormat:
 * @STACHE_HTTP_STREAM_SSE: Server-Sent Events (`text/event-stream`): events
 *   separated by blank lines, each with an optional `event:` name and
 *   `data:` lines holding JSON; `:` comments, `id:` and `retry:` are
 *   ignored. The data `[DONE]` (OpenAI's end marker) is given as a %NULL
 *   node. Used by OpenAI-compatible servers and Anthropic.
 * @STACHE_HTTP_STREAM_NDJSON: newline-delimited JSON
 *   (`application/x-ndjson`): one JSON value a line, blank lines skipped;
 *   events have no name. Used by Ollama.
 *
 * How a streamed response body is framed; see
 * stache_http_client_stream_events().
 */
typedef enum {
  STACHE_HTTP_STREAM_SSE,
  STACHE_HTTP_STREAM_NDJSON,
} StacheHttpStreamFormat;

/**
 * StacheHttpEventFunc:
 * @event: (nullable): the event's name (`event:` in Server-Sent Events), or
 *   %NULL when it has none
 * @data: (nullable): the event's JSON, or %NULL for the `[DONE]` marker
 * @user_data: the data passed with the function
 * @error: return location for a #GError that ends the stream
 *
 * Called for each event of a streamed response, in the thread that made
 * the request.
 *
 * Returns: %TRUE to read on, %FALSE to stop: with @error set the stream
 *   fails with it, without the stream ends successfully
 */
typedef gboolean (*StacheHttpEventFunc) (const char  *event,
                                         JsonNode    *data,
                                         gpointer     user_data,
                                         GError     **error);

#define STACHE_TYPE_HTTP_CLIENT (stache_http_client_get_type ())

STACHE_AVAILABLE_IN_ALL
G_DECLARE_FINAL_TYPE (StacheHttpClient, stache_http_client, STACHE, HTTP_CLIENT, GObject)

STACHE_AVAILABLE_IN_ALL
GQuark            stache_http_error_quark              (void);
STACHE_AVAILABLE_IN_ALL
gboolean          stache_http_error_is_transient       (const GError        *error);

STACHE_AVAILABLE_IN_ALL
StacheHttpClient *stache_http_client_new               (StacheSettings      *settings,
                                                        const char          *provider_name,
                                                        GError             **error);
STACHE_AVAILABLE_IN_ALL
void              stache_http_client_add_secret        (StacheHttpClient    *self,
                                                        const char          *secret);
STACHE_AVAILABLE_IN_ALL
void              stache_http_client_set_header        (StacheHttpClient    *self,
                                                        const char          *name,
                                                        const char          *value);
STACHE_AVAILABLE_IN_ALL
char             *stache_http_client_redact            (StacheHttpClient    *self,
                                                        const char          *text);
STACHE_AVAILABLE_IN_ALL
JsonNode         *stache_http_client_request_json      (StacheHttpClient    *self,
                                                        const char          *method,
                                                        const char          *url,
                                                        JsonNode            *body,
                                                        GCancellable        *cancellable,
                                                        GError             **error);
STACHE_AVAILABLE_IN_ALL
gboolean          stache_http_client_stream_lines      (StacheHttpClient    *self,
                                                        const char          *method,
                                                        const char          *url,
                                                        JsonNode            *body,
                                                        StacheHttpLineFunc   line_func,
                                                        gpointer             user_data,
                                                        GCancellable        *cancellable,
                                                        GError             **error);
STACHE_AVAILABLE_IN_ALL
gboolean          stache_http_client_stream_events     (StacheHttpClient    *self,
                                                        const char          *method,
                                                        const char          *url,
                                                        JsonNode            *body,
                                                        StacheHttpStreamFormat format,
                                                        StacheHttpEventFunc  event_func,
                                                        gpointer             user_data,
                                                        GCancellable        *cancellable,
                                                        GError             **error);
STACHE_AVAILABLE_IN_ALL
void              stache_http_client_set_api_name      (StacheHttpClient    *self,
                                                        const char          *api_name);
STACHE_AVAILABLE_IN_ALL
void              stache_http_client_set_malformed     (StacheHttpClient    *self,
                                                        GError             **error,
                                                        const char          *url,
                                                        const char          *format,
                                                        ...) G_GNUC_PRINTF (4, 5);
STACHE_AVAILABLE_IN_ALL
void              stache_http_client_set_stream_error  (StacheHttpClient    *self,
                                                        GError             **error,
                                                        StacheHttpError      code,
                                                        const char          *url,
                                                        const char          *service_message,
                                                        const char          *service_type);
STACHE_AVAILABLE_IN_ALL
guint             stache_http_client_get_last_status   (StacheHttpClient    *self);
STACHE_AVAILABLE_IN_ALL
guint             stache_http_client_get_attempts      (StacheHttpClient    *self);

G_END_DECLS

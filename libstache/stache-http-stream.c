/* stache-http-stream.c: StacheHttpClient's streamed answers: Server-Sent
 * Events and newline-delimited JSON, one event at a time
 *
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */
#include "config.h"

#include <string.h>

#include "stache-http-client-private.h"

/* ---- streamed events ---- */

typedef struct
{
  StacheHttpClient       *self;
  const char             *url;
  StacheHttpStreamFormat  format;
  StacheHttpEventFunc     event_func;
  gpointer                user_data;
  GCancellable           *cancellable;

  char                   *event;     /* SSE: the `event:` of the event being read */
  GString                *data;      /* SSE: its `data:` lines */
  gboolean                has_data;
  gboolean                stopped;   /* the event function stopped the stream */
  GError                 *error;
} EventStream;

static void
event_stream_reset (EventStream *stream)
{
  g_clear_pointer (&stream->event, g_free);
  g_string_truncate (stream->data, 0);
  stream->has_data = FALSE;
}

/* Parses @text and hands it to the event function; FALSE stops the stream */
static gboolean
dispatch_event (EventStream *stream,
                const char  *text)
{
  g_autoptr(JsonNode) node = NULL;

  if (stream->format == STACHE_HTTP_STREAM_SSE && strcmp (text, "[DONE]") == 0)
    node = NULL;
  else
    {
      g_autoptr(GError) parse_error = NULL;

      node = stache_json_parse (text, -1, 0, FALSE, _("the event"), &parse_error);
      if (node == NULL)
        {
          g_autofree char *start = _stache_http_excerpt (text, strlen (text), MALFORMED_EXCERPT_CHARS);

          stache_http_client_set_malformed (stream->self, &stream->error, stream->url,
                                            _("a streamed event is not JSON: %s"), start);
          return FALSE;
        }
    }

  if (!stream->event_func (stream->event, node, stream->user_data, &stream->error))
    {
      stream->stopped = TRUE;
      return FALSE;
    }

  return TRUE;
}

static gboolean
read_event_line (const char *line,
                 gpointer    user_data)
{
  EventStream *stream = user_data;
  const char *value;
  gsize name_len;

  if (g_cancellable_is_cancelled (stream->cancellable))
    return FALSE;

  if (stream->format == STACHE_HTTP_STREAM_NDJSON)
    {
      while (g_ascii_isspace (*line))
        line++;
      return *line == '\0' || dispatch_event (stream, line);
    }

  /* A blank line ends an event; one without data is no event */
  if (*line == '\0')
    {
      gboolean go_on = TRUE;

      if (stream->has_data)
        go_on = dispatch_event (stream, stream->data->str);
      event_stream_reset (stream);
      return go_on;
    }

  if (*line == ':')
    return TRUE;

  name_len = strcspn (line, ":");
  value = line[name_len] == ':' ? line + name_len + 1 : "";
  if (*value == ' ')
    value++;

  if (name_len == strlen ("event") && strncmp (line, "event", name_len) == 0)
    {
      g_free (stream->event);
      stream->event = g_strdup (value);
    }
  else if (name_len == strlen ("data") && strncmp (line, "data", name_len) == 0)
    {
      if (stream->has_data)
        g_string_append_c (stream->data, '\n');
      g_string_append (stream->data, value);
      stream->has_data = TRUE;
    }

  return TRUE;
}

/**
 * stache_http_client_stream_events:
 * @self: a #StacheHttpClient
 * @method: an HTTP method, such as `POST`
 * @url: an `http://` or `https://` URL
 * @body: (nullable): the JSON to send, or %NULL to send no body
 * @format: how the response body is framed
 * @event_func: (scope call) (closure user_data): called with each event
 * @user_data: data for @event_func
 * @cancellable: (nullable): a #GCancellable
 * @error: return location for a #GError
 *
 * Sends a request like stache_http_client_stream_lines() and gives each
 * event of the streamed response to @event_func as soon as it is whole:
 * the framing of @format is taken apart here, and each event's data parsed
 * as JSON, so a provider only reads the JSON its API describes.
 *
 * Data that is not JSON fails the stream with
 * %STACHE_HTTP_ERROR_MALFORMED_RESPONSE; the start of it is quoted, with
 * secrets redacted. A last Server-Sent Event not followed by a blank line
 * is still given. Cancelling @cancellable stops the stream between events
 * with %G_IO_ERROR_CANCELLED.
 *
 * Whether the stream was complete is the provider's to judge: most APIs
 * end with an event of their own (`[DONE]`, `message_stop`, `"done": true`).
 *
 * Returns: %TRUE if the body was read to its end or @event_func stopped
 *   it without an error, %FALSE with @error set otherwise
 */
gboolean
stache_http_client_stream_events (StacheHttpClient       *self,
                                  const char             *method,
                                  const char             *url,
                                  JsonNode               *body,
                                  StacheHttpStreamFormat  format,
                                  StacheHttpEventFunc     event_func,
                                  gpointer                user_data,
                                  GCancellable           *cancellable,
                                  GError                **error)
{
  EventStream stream = { 0 };
  gboolean ok;

  g_return_val_if_fail (STACHE_IS_HTTP_CLIENT (self), FALSE);
  g_return_val_if_fail (url != NULL, FALSE);
  g_return_val_if_fail (event_func != NULL, FALSE);
  g_return_val_if_fail (format == STACHE_HTTP_STREAM_SSE || format == STACHE_HTTP_STREAM_NDJSON,
                        FALSE);
  g_return_val_if_fail (error == NULL || *error == NULL, FALSE);

  stream.self = self;
  stream.url = url;
  stream.format = format;
  stream.event_func = event_func;
  stream.user_data = user_data;
  stream.cancellable = cancellable;
  stream.data = g_string_new (NULL);

  ok = stache_http_client_stream_lines (self, method, url, body, read_event_line, &stream,
                                        cancellable, error);

  /* A last event the server did not end with a blank line */
  if (ok && stream.error == NULL && !stream.stopped && stream.has_data &&
      !g_cancellable_is_cancelled (cancellable))
    dispatch_event (&stream, stream.data->str);

  event_stream_reset (&stream);
  g_string_free (stream.data, TRUE);

  if (!ok)
    {
      g_clear_error (&stream.error);
      return FALSE;
    }
  if (stream.error != NULL)
    {
      g_propagate_error (error, stream.error);
      return FALSE;
    }
  if (!stream.stopped && g_cancellable_set_error_if_cancelled (cancellable, error))
    return FALSE;

  return TRUE;
}

/* stache-test-server.h: what the fake API servers of the remote provider
 * suites share
 *
 * SPDX-License-Identifier: LGPL-2.1-or-later
 *
 * Each suite (test-openai.c, test-anthropic.c, test-ollama.c,
 * test-qdrant.c) runs a SoupServer of its own in a thread with its own
 * GMainContext. This header adds, on the server side, answers spread over
 * time (a body sent in timed chunks, an answer that comes late or never)
 * and the faults every remote API can show, and on the client side, the
 * checks of how a provider copes with them. Everything is static inline so
 * each suite takes what it uses.
 *
 * A suite embeds a StacheTestServer in its fixture:
 *   - stache_test_server_init() in the set-up, with the server's context;
 *   - stache_test_server_stop() in the server thread, before the
 *     SoupServer is dropped;
 *   - stache_test_server_clear() in the tear-down.
 */
#pragma once

#include <string.h>

#include <libsoup/soup.h>
#include <stache.h>

/* ---- the server side ---- */

typedef enum {
  STACHE_TEST_FAULT_NONE,
  STACHE_TEST_FAULT_RATE_LIMIT_ONCE,  /* 429 with Retry-After: 1 first, then the normal answer */
  STACHE_TEST_FAULT_SERVER_ERROR,     /* 500 every time */
  STACHE_TEST_FAULT_SLOW,             /* the normal answer after 3 s */
  STACHE_TEST_FAULT_HANG,             /* no answer ever */
  STACHE_TEST_FAULT_MALFORMED,        /* 200 with a body that is not JSON */
} StacheTestFault;

#define STACHE_TEST_SLOW_MS        3000
#define STACHE_TEST_MALFORMED_BODY "<html><body><h1>502 Bad Gateway</h1> nginx</body></html>"

typedef struct
{
  GMainContext *context;   /* the server's, not owned */
  GPtrArray    *sources;   /* GSource *, server thread only */
  GPtrArray    *held;      /* SoupServerMessage * never answered, server thread only */
} StacheTestServer;

typedef struct
{
  SoupServerMessage *msg;
  GStrv              chunks;      /* NULL: unpause once */
  guint              next_chunk;
  gboolean           done;        /* the client went away or all was sent */
} StacheTestPending;

static inline void
stache_test_server_init (StacheTestServer *ts,
                         GMainContext     *context)
{
  ts->context = context;
  ts->sources = g_ptr_array_new_with_free_func ((GDestroyNotify) g_source_unref);
  ts->held = g_ptr_array_new_with_free_func (g_object_unref);
}

/* In the server thread, before the SoupServer goes */
static inline void
stache_test_server_stop (StacheTestServer *ts)
{
  for (guint i = 0; i < ts->sources->len; i++)
    g_source_destroy (g_ptr_array_index (ts->sources, i));
  g_ptr_array_set_size (ts->sources, 0);
  g_ptr_array_set_size (ts->held, 0);
}

static inline void
stache_test_server_clear (StacheTestServer *ts)
{
  g_clear_pointer (&ts->sources, g_ptr_array_unref);
  g_clear_pointer (&ts->held, g_ptr_array_unref);
}

static inline void
stache_test_pending_stop (SoupServerMessage *msg,
                          gpointer           data)
{
  ((StacheTestPending *) data)->done = TRUE;
}

static inline void
stache_test_pending_free (gpointer data)
{
  StacheTestPending *pending = data;

  g_signal_handlers_disconnect_by_data (pending->msg, pending);
  g_object_unref (pending->msg);
  g_strfreev (pending->chunks);
  g_free (pending);
}

static inline gboolean
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

static inline void
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

/* Answers @msg 200 with a chunked body of @content_type, sending one of
 * @chunks (copied) every @interval_ms, then ending the body. Runs in the
 * server thread. */
static inline void
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

/* Sends the answer already set on @msg after @delay_ms */
static inline void
stache_test_server_delay (StacheTestServer  *ts,
                          SoupServerMessage *msg,
                          guint              delay_ms)
{
  stache_test_server_schedule (ts, msg, NULL, delay_ms);
}

/* Never answers @msg */
static inline void
stache_test_server_hang (StacheTestServer  *ts,
                         SoupServerMessage *msg)
{
  soup_server_message_pause (msg);
  g_ptr_array_add (ts->held, g_object_ref (msg));
}

static inline void
stache_test_server_respond (SoupServerMessage *msg,
                            guint              status,
                            const char        *content_type,
                            const char        *body)
{
  /* libsoup 3.2 has no phrase of its own for 429 */
  soup_server_message_set_status (msg, status, status == 429 ? "Too Many Requests" : NULL);
  soup_server_message_set_response (msg, content_type, SOUP_MEMORY_COPY, body, strlen (body));
}

/* Applies @fault to request number @n_request (from 1) of a test. Returns
 * TRUE when the fault answered @msg, FALSE when the server should answer
 * as normal; with STACHE_TEST_FAULT_SLOW it should, and the answer then
 * leaves 3 s late. @error_body is the service's JSON error body for the
 * 429 and the 500. Runs in the server thread. */
static inline gboolean
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

/* ---- the client side ---- */

static inline double
stache_test_seconds_since (gint64 start)
{
  return (double) (g_get_monotonic_time () - start) / G_USEC_PER_SEC;
}

/* Cancels a GCancellable from another thread after a while */
typedef struct
{
  GCancellable *cancellable;
  guint         delay_ms;
  gint64        cancelled_at;
  GThread      *thread;
} StacheTestCanceller;

static inline gpointer
stache_test_canceller_main (gpointer data)
{
  StacheTestCanceller *canceller = data;

  g_usleep (canceller->delay_ms * 1000);
  canceller->cancelled_at = g_get_monotonic_time ();
  g_cancellable_cancel (canceller->cancellable);

  return NULL;
}

static inline void
stache_test_cancel_later (StacheTestCanceller *canceller,
                          GCancellable        *cancellable,
                          guint                delay_ms)
{
  canceller->cancellable = cancellable;
  canceller->delay_ms = delay_ms;
  canceller->thread = g_thread_new ("test-canceller", stache_test_canceller_main, canceller);
}

/* Gathers streamed tokens, with the time each came */
typedef struct
{
  GPtrArray    *tokens;        /* char * */
  GArray       *times;         /* gint64 */
  GCancellable *cancel;        /* nullable: cancelled after cancel_after tokens */
  guint         cancel_after;
} StacheTestTokens;

static inline void
stache_test_tokens_init (StacheTestTokens *tokens)
{
  memset (tokens, 0, sizeof *tokens);
  tokens->tokens = g_ptr_array_new_with_free_func (g_free);
  tokens->times = g_array_new (FALSE, FALSE, sizeof (gint64));
}

static inline void
stache_test_tokens_clear (StacheTestTokens *tokens)
{
  g_clear_pointer (&tokens->tokens, g_ptr_array_unref);
  g_clear_pointer (&tokens->times, g_array_unref);
}

/* A StacheTokenFunc */
static inline void
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

static inline char *
stache_test_tokens_join (StacheTestTokens *tokens)
{
  GString *joined = g_string_new (NULL);

  for (guint i = 0; i < tokens->tokens->len; i++)
    g_string_append (joined, g_ptr_array_index (tokens->tokens, i));

  return g_string_free (joined, FALSE);
}

/* Checks that the tokens are @expected, in order, and that they came
 * spread over time rather than in one burst: the server sends them
 * @interval_ms apart */
static inline void
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

/* ---- the fault checks every remote provider passes ----
 *
 * A suite describes how to drive its provider once against its fake
 * server; the checks below then set a fault and look at what comes out. */

typedef struct
{
  /* Creates the provider with the NULL-terminated key/value @settings on
   * top of the suite's own, calls it once and returns whether it succeeded */
  gboolean (*run)        (gpointer             fixture,
                          const char * const  *settings,
                          GCancellable        *cancellable,
                          GError             **error);
  /* Sets the server's fault for the requests to come */
  void     (*set_fault)  (gpointer             fixture,
                          StacheTestFault      fault);
  /* The requests the server saw */
  guint    (*n_requests) (gpointer             fixture);
  /* A word of the service's error body that the 500 error must quote */
  const char *server_error_text;
} StacheTestApi;

/* A 429 with Retry-After: 1, then success after a wait of about 1 s */
static inline void
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

/* A 500 every time: three attempts with http_max_retries=2, then an error
 * that names the status and quotes the service */
static inline void
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

/* A server slower than http_timeout=1 */
static inline void
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

/* Cancelling while the server has not answered stops at once */
static inline void
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

/* A 200 whose body is not JSON */
static inline void
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

/* Defines the test functions test_fault_* for a suite whose fixture type
 * is @Fixture, from its StacheTestApi @api */
#define STACHE_TEST_DEFINE_FAULT_TESTS(Fixture, api)                                           \
  static void test_fault_rate_limited (Fixture *f, gconstpointer d)                            \
  { stache_test_check_rate_limited_then_ok (&(api), f); }                                      \
  static void test_fault_server_error (Fixture *f, gconstpointer d)                            \
  { stache_test_check_server_error (&(api), f); }                                              \
  static void test_fault_timeout (Fixture *f, gconstpointer d)                                 \
  { stache_test_check_timeout (&(api), f); }                                                   \
  static void test_fault_cancel_in_flight (Fixture *f, gconstpointer d)                        \
  { stache_test_check_cancel_in_flight (&(api), f); }                                          \
  static void test_fault_malformed (Fixture *f, gconstpointer d)                               \
  { stache_test_check_malformed (&(api), f); }

/* Adds the tests STACHE_TEST_DEFINE_FAULT_TESTS defined, under @prefix
 * ("/openai/llm" gives "/openai/llm/fault/timeout"…), run with the fixture
 * data @data */
#define STACHE_TEST_ADD_FAULT_TESTS(prefix, Fixture, data, setup, teardown)                    \
  G_STMT_START {                                                                               \
    g_test_add (prefix "/fault/rate-limited", Fixture, data, setup, test_fault_rate_limited,   \
                teardown);                                                                     \
    g_test_add (prefix "/fault/server-error", Fixture, data, setup, test_fault_server_error,   \
                teardown);                                                                     \
    g_test_add (prefix "/fault/timeout", Fixture, data, setup, test_fault_timeout, teardown);  \
    g_test_add (prefix "/fault/cancel-in-flight", Fixture, data, setup,                        \
                test_fault_cancel_in_flight, teardown);                                        \
    g_test_add (prefix "/fault/malformed", Fixture, data, setup, test_fault_malformed,         \
                teardown);                                                                     \
  } G_STMT_END

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
 * checks of how a provider copes with them. The code is in
 * stache-test-server.c, a static library the suites link.
 *
 * A suite's fixture begins with a StacheTestHttp, which runs the server:
 *   - stache_test_http_start() in the set-up, with the suite's handler;
 *   - stache_test_http_begin() at the start of the handler, which then
 *     ends with g_mutex_unlock (&http->mutex);
 *   - stache_test_http_stop() in the tear-down, which also checks that
 *     no request broke the API's rules.
 * Its StacheTestServer (ts) holds the answers spread over time.
 */
#pragma once

#include <string.h>

#include <libsoup/soup.h>
#include <stache-plugin.h>

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

void
stache_test_server_init (StacheTestServer *ts,
                         GMainContext     *context);

/* In the server thread, before the SoupServer goes */
void
stache_test_server_stop (StacheTestServer *ts);

void
stache_test_server_clear (StacheTestServer *ts);

void
stache_test_pending_stop (SoupServerMessage *msg,
                          gpointer           data);

void
stache_test_pending_free (gpointer data);

gboolean
stache_test_pending_step (gpointer data);

void
stache_test_server_schedule (StacheTestServer  *ts,
                             SoupServerMessage *msg,
                             GStrv              chunks,
                             guint              interval_ms);

/* Answers @msg 200 with a chunked body of @content_type, sending one of
 * @chunks (copied) every @interval_ms, then ending the body. Runs in the
 * server thread. */
void
stache_test_server_stream (StacheTestServer   *ts,
                           SoupServerMessage  *msg,
                           const char         *content_type,
                           const char * const *chunks,
                           guint               interval_ms);

/* Sends the answer already set on @msg after @delay_ms */
void
stache_test_server_delay (StacheTestServer  *ts,
                          SoupServerMessage *msg,
                          guint              delay_ms);

/* Never answers @msg */
void
stache_test_server_hang (StacheTestServer  *ts,
                         SoupServerMessage *msg);

void
stache_test_server_respond (SoupServerMessage *msg,
                            guint              status,
                            const char        *content_type,
                            const char        *body);

/* Applies @fault to request number @n_request (from 1) of a test. Returns
 * TRUE when the fault answered @msg, FALSE when the server should answer
 * as normal; with STACHE_TEST_FAULT_SLOW it should, and the answer then
 * leaves 3 s late. @error_body is the service's JSON error body for the
 * 429 and the 500. Runs in the server thread. */
gboolean
stache_test_server_fault (StacheTestServer  *ts,
                          StacheTestFault    fault,
                          SoupServerMessage *msg,
                          guint              n_request,
                          const char        *error_body);

/* ---- the server thread and what it saw ---- */

typedef struct
{
  GThread      *thread;
  GMainContext *context;
  GMainLoop    *loop;
  SoupServer   *server;        /* owned by the server thread */
  char         *base_url;      /* http://127.0.0.1:<port><the suite's path> */

  GMutex        mutex;
  GCond         cond;
  gboolean      ready;
  /* Under mutex: what the server saw */
  guint         n_requests;    /* every request */
  GPtrArray    *paths;         /* char *: the path of every request */
  GArray       *times;         /* gint64: g_get_monotonic_time() of every request */
  GPtrArray    *bodies;        /* JsonNode *: every well-formed request body */
  GPtrArray    *problems;      /* char *: how requests broke the API's rules */
  StacheTestFault  fault;      /* what the server does wrong */
  StacheTestServer ts;         /* server thread only */

  /* What stache_test_http_start() was given */
  const char          *name;
  const char          *url_path;
  SoupServerCallback   handler;
  gpointer             handler_data;
} StacheTestHttp;

/* Records how a request broke the API's rules; under the mutex */
void
stache_test_http_problem (StacheTestHttp *http,
                          const char     *format,
                          ...) G_GNUC_PRINTF (2, 3);

/* At the start of the handler: takes the mutex (the handler lets it go)
 * and records the request. Returns the number of problems so far, so that
 * the handler can tell whether this request added any. */
guint
stache_test_http_begin (StacheTestHttp    *http,
                        SoupServerMessage *msg,
                        const char        *path);

/* Checks that the request body is JSON of type application/json (the
 * problems name @what) and loads it into @parser; returns its object, or
 * NULL if it has none. Under the mutex. */
JsonObject *
stache_test_http_parse (StacheTestHttp    *http,
                        SoupServerMessage *msg,
                        const char        *what,
                        JsonParser        *parser);

/* Answers @msg with @root as its JSON body */
void
stache_test_respond_json (SoupServerMessage *msg,
                          guint              status,
                          JsonNode          *root);

gboolean
stache_test_json_is (JsonNode *node,
                     GType     type);

gboolean
stache_test_json_is_string (JsonNode *node);

gboolean
stache_test_json_is_integer (JsonNode *node);

gboolean
stache_test_json_is_number (JsonNode *node);

/* Members of @object not in @known are problems (named after @what): the
 * real APIs refuse unknown parameters. Under the mutex. */
void
stache_test_http_check_members (StacheTestHttp     *http,
                                const char         *what,
                                JsonObject         *object,
                                const char * const *known);

/* Runs in the server thread: hands each connection to the SoupServer.
 *
 * Connections are accepted here rather than by soup_server_listen_local():
 * the listener of libsoup 3.2 (Debian 12) leaks every socket it accepts
 * and the local address it caches (fixed upstream in libsoup 3.4.0 and
 * 3.4.3), which valgrind reports as definite leaks. */
gboolean
stache_test_http_accept (GSocketService    *service,
                         GSocketConnection *connection,
                         GObject           *source_object,
                         gpointer           user_data);

gpointer
stache_test_http_thread (gpointer data);

/* Starts a server called @name (its Server header, and the thread's name
 * "fake-@name") in a thread of its own with its own GMainContext, on the
 * loopback interface, on a port the system picks. Its base_url ends in
 * @url_path. @handler runs in that thread with @handler_data. Returns
 * when the server listens. */
void
stache_test_http_start (StacheTestHttp     *http,
                        const char         *name,
                        const char         *url_path,
                        SoupServerCallback  handler,
                        gpointer            handler_data);

gboolean
stache_test_http_quit (gpointer user_data);

/* Stops the server, checks that no request broke the API's rules and
 * frees what stache_test_http_start() made */
void
stache_test_http_stop (StacheTestHttp *http);

/* What the server saw, read from the test's thread */
guint
stache_test_http_n_requests (StacheTestHttp *http);

/* Entry @i of the string array @array that the server fills, valid while
 * the server's fixture lives */
const char *
stache_test_http_seen (StacheTestHttp *http,
                       GPtrArray      *array,
                       guint           i);

/* The body of well-formed request @i, valid while the fixture lives */
JsonObject *
stache_test_http_body (StacheTestHttp *http,
                       guint           i);

/* The time from request @i to request @j, in microseconds */
gint64
stache_test_http_time_between (StacheTestHttp *http,
                               guint           i,
                               guint           j);

/* ---- the client side ---- */

/* The start of a suite's main(): the plugins come from the build tree
 * (STACHE_TEST_BUILTIN_PLUGINS), no proxy of the developer's may stand
 * between the client and the loopback server, even when the test runs
 * outside meson, and the developer's own settings, the NULL-terminated
 * environment variables @own_settings, must not reach the tests. Then
 * g_test_init(). */
void
stache_test_init (int                *argc,
                  char             ***argv,
                  const char * const *own_settings);

/* Settings from no file, with the NULL-terminated key/value pairs of
 * @base, then those of @extra (either may be NULL) */
StacheSettings *
stache_test_settings_new (const char * const *base,
                          const char * const *extra);

/* The NULL-terminated key/value pairs of @args as a NULL-terminated
 * array (of the same strings, not copies) */
GPtrArray *
stache_test_pairs_va (va_list args);

/* Creates provider @name of @type through @loader with the settings
 * stache_test_settings_new() makes of @base and @extra; it must work */
StacheProvider *
stache_test_create_provider (StachePluginLoader *loader,
                             StacheProviderType  type,
                             const char         *name,
                             const char * const *base,
                             const char * const *extra);

/* Asks @llm for a completion of "Hello"; the fake servers answer
 * "You said: Hello" */
gboolean
stache_test_generate_hello (StacheLlmProvider  *llm,
                            GCancellable       *cancellable,
                            GError            **error);

double
stache_test_seconds_since (gint64 start);

/* Cancels a GCancellable from another thread after a while */
typedef struct
{
  GCancellable *cancellable;
  guint         delay_ms;
  gint64        cancelled_at;
  GThread      *thread;
} StacheTestCanceller;

gpointer
stache_test_canceller_main (gpointer data);

void
stache_test_cancel_later (StacheTestCanceller *canceller,
                          GCancellable        *cancellable,
                          guint                delay_ms);

/* Gathers streamed tokens, with the time each came */
typedef struct
{
  GPtrArray    *tokens;        /* char * */
  GArray       *times;         /* gint64 */
  GCancellable *cancel;        /* nullable: cancelled after cancel_after tokens */
  guint         cancel_after;
} StacheTestTokens;

void
stache_test_tokens_init (StacheTestTokens *tokens);

void
stache_test_tokens_clear (StacheTestTokens *tokens);

/* A StacheTokenFunc */
void
stache_test_tokens_add (const char *token,
                        gpointer    data);

char *
stache_test_tokens_join (StacheTestTokens *tokens);

/* Checks that the tokens are @expected, in order, and that they came
 * spread over time rather than in one burst: the server sends them
 * @interval_ms apart */
void
stache_test_tokens_assert (StacheTestTokens   *tokens,
                           const char * const *expected,
                           guint               interval_ms);

/* Streams a seven-word prompt from a server sending its pieces slowly and
 * cancels from the token function after the second piece: the call must
 * fail with G_IO_ERROR_CANCELLED, having given exactly two pieces, well
 * before the rest of the stream would have come (@max_seconds) */
void
stache_test_check_stream_cancelled (StacheLlmProvider *llm,
                                    double             max_seconds);

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
void
stache_test_check_rate_limited_then_ok (const StacheTestApi *api,
                                        gpointer             fixture);

/* A 500 every time: three attempts with http_max_retries=2, then an error
 * that names the status and quotes the service */
void
stache_test_check_server_error (const StacheTestApi *api,
                                gpointer             fixture);

/* A server slower than http_timeout=1 */
void
stache_test_check_timeout (const StacheTestApi *api,
                           gpointer             fixture);

/* Cancelling while the server has not answered stops at once */
void
stache_test_check_cancel_in_flight (const StacheTestApi *api,
                                    gpointer             fixture);

/* A 200 whose body is not JSON */
void
stache_test_check_malformed (const StacheTestApi *api,
                             gpointer             fixture);

/* StacheTestApi.set_fault and .n_requests for a fixture that begins with
 * its StacheTestHttp */
void
stache_test_http_set_fault (gpointer        fixture,
                            StacheTestFault fault);

guint
stache_test_http_fault_n_requests (gpointer fixture);

/* Defines the StacheTestApi @api of a suite whose fixture type @Fixture
 * begins with its StacheTestHttp http, from its @run and the word of the
 * service's error body @server_error_text */
#define STACHE_TEST_DEFINE_HTTP_API(Fixture, api, run, server_error_text)                        G_STATIC_ASSERT (G_STRUCT_OFFSET (Fixture, http) == 0);                                        static const StacheTestApi api = {                                                               run, stache_test_http_set_fault, stache_test_http_fault_n_requests, server_error_text,       }

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

/* test-cohere.c: the `cohere` reranker provider
 *
 * SPDX-License-Identifier: LGPL-2.1-or-later
 *
 * Each test starts the fake server of stache-test-server.h (a SoupServer
 * on the loopback interface, port 0, in a thread of its own with its own
 * GMainContext) that plays the /rerank API in the flavour the test
 * configures: Cohere (POST /v1/rerank, answers {"id", "results", "meta"}),
 * Jina (POST /v1/rerank, answers {"model", "usage", "results"}) or Text
 * Embeddings Inference (POST /rerank, answers a bare array). It checks
 * every request against the documented shape (path, method,
 * `Content-Type: application/json`, the JSON members and their types) and
 * answers like the service, best first and cut to top_n, or with the
 * service's error bodies. A request that breaks the API's rules is
 * answered 400 and recorded; every test ends by checking that none did.
 *
 * The server scores a document by the number it starts with ("0.75 …"),
 * so each test knows the order to expect.
 *
 * The provider is created through the plugin loader from the build tree
 * (STACHE_TEST_BUILTIN_PLUGINS), as an application creates it, and used
 * through the public interface functions, which check what they return.
 */
#include <string.h>

#include <libsoup/soup.h>
#include <stache-plugin.h>

#include "stache-test-server.h"

#define TEST_KEY          "co-test-key-xyz"
#define TEST_QUERY        "How do bees make honey?"
#define SERVER_ERROR_TEXT "internal server error, please retry later"
#define RATE_LIMIT_TEXT   "You are using a Trial key, which is limited to 10 API calls / minute."
#define ECHO_TEXT         "invalid api token"
#define TEI_ERROR_TEXT    "batch size 3 > maximum allowed batch size 2"

static StachePluginLoader *loader;

/* ---- the fake rerank server ---- */

typedef enum {
  SCENARIO_NORMAL,           /* answers every valid request */
  SCENARIO_RATE_LIMIT_ONCE,  /* 429 with Retry-After: 1 first, then NORMAL */
  SCENARIO_SERVER_ERROR,     /* 500 with Cohere's {"message"} body, always */
  SCENARIO_SLOW,             /* answers after STACHE_TEST_SLOW_MS, without blocking the server */
  SCENARIO_MALFORMED_JSON,   /* a body that is not JSON */
  SCENARIO_OUT_OF_RANGE,     /* the first item has the index of no document */
  SCENARIO_DUPLICATE_INDEX,  /* the second item repeats the first one's index */
  SCENARIO_BAD_SCORE,        /* the first item's score is a string */
  SCENARIO_INFINITE_SCORE,   /* the first item's score overflows a double */
  SCENARIO_TOO_FEW,          /* one item fewer than top_n (or than the texts) */
  SCENARIO_ECHO_KEY,         /* 401 quoting the Authorization header back */
  SCENARIO_TEI_ERROR,        /* 413 with TEI's {"error", "error_type"} body */
} Scenario;

typedef struct {
  StacheTestHttp http;           /* first */
  Scenario       scenario;
  /* Under http.mutex */
  const char    *api;            /* the flavour the test configured */
  GPtrArray     *methods;        /* char *: the method of every request */
  GPtrArray     *authorizations; /* char *: the Authorization of every request, NULL for none */
} Fixture;

static gboolean
is_tei (Fixture *f)
{
  return g_strcmp0 (f->api, "tei") == 0;
}

/* The service's error body: Cohere's and Jina's {"message": …}, TEI's
 * {"error": …, "error_type": …} */
static char *
error_body (Fixture    *f,
            guint       status,
            const char *message)
{
  g_autoptr(JsonBuilder) b = json_builder_new ();
  g_autoptr(JsonNode) root = NULL;

  json_builder_begin_object (b);
  if (is_tei (f))
    {
      json_builder_set_member_name (b, "error");
      json_builder_add_string_value (b, message);
      json_builder_set_member_name (b, "error_type");
      json_builder_add_string_value (b, status == 413 ? "Validation" : "Backend");
    }
  else
    {
      json_builder_set_member_name (b, "message");
      json_builder_add_string_value (b, message);
    }
  json_builder_end_object (b);

  root = json_builder_get_root (b);
  return json_to_string (root, FALSE);
}

static void
respond_error (Fixture           *f,
               SoupServerMessage *msg,
               guint              status,
               const char        *message)
{
  g_autofree char *body = error_body (f, status, message);

  stache_test_server_respond (msg, status, "application/json", body);
}

/* Checks a rerank request body; FALSE if it is not valid */
static gboolean
check_rerank_request (Fixture    *f,
                      JsonObject *request)
{
  const char * const known_cohere[] = { "model", "query", "documents", "top_n",
                                        "return_documents", "max_chunks_per_doc", NULL };
  const char * const known_tei[] = { "query", "texts", "raw_scores", "return_text", "truncate",
                                     "truncation_direction", NULL };
  guint n_problems = f->http.problems->len;
  const char *documents_member = is_tei (f) ? "texts" : "documents";
  JsonNode *node;
  guint n_documents = 0;

  stache_test_http_check_members (&f->http, "rerank", request,
                                  is_tei (f) ? known_tei : known_cohere);

  if (!is_tei (f))
    {
      node = json_object_get_member (request, "model");
      if (!stache_test_json_is_string (node) || *json_node_get_string (node) == '\0')
        stache_test_http_problem (&f->http, "“model” is not a non-empty string");
    }

  if (!stache_test_json_is_string (json_object_get_member (request, "query")))
    stache_test_http_problem (&f->http, "“query” is not a string");

  node = json_object_get_member (request, documents_member);
  if (node == NULL || !JSON_NODE_HOLDS_ARRAY (node) ||
      (n_documents = json_array_get_length (json_node_get_array (node))) == 0)
    stache_test_http_problem (&f->http, "“%s” is not a non-empty array", documents_member);
  else
    {
      for (guint i = 0; i < n_documents; i++)
        if (!stache_test_json_is_string (json_array_get_element (json_node_get_array (node), i)))
          stache_test_http_problem (&f->http, "“%s[%u]” is not a string", documents_member, i);
    }

  node = json_object_get_member (request, "top_n");
  if (node != NULL &&
      (!stache_test_json_is_integer (node) || json_node_get_int (node) < 1 ||
       json_node_get_int (node) > n_documents))
    stache_test_http_problem (&f->http,
                              "“top_n” is not a whole number from 1 to the number of documents");

  for (guint i = 0; i < 3; i++)
    {
      const char *member = (const char *[]) { "return_documents", "raw_scores", "return_text" }[i];

      node = json_object_get_member (request, member);
      if (node != NULL && !stache_test_json_is (node, G_TYPE_BOOLEAN))
        stache_test_http_problem (&f->http, "“%s” is not a boolean", member);
    }

  return f->http.problems->len == n_problems;
}
/* The score the server gives a document: the number it starts with */
static double
score_of (const char *text)
{
  return g_ascii_strtod (text, NULL);
}

typedef struct {
  gint64 index;
  double score;
} Scored;

static int
compare_scored (gconstpointer a,
                gconstpointer b)
{
  const Scored *sa = a;
  const Scored *sb = b;

  if (sa->score != sb->score)
    return sa->score > sb->score ? -1 : 1;
  return (sa->index > sb->index) - (sa->index < sb->index);
}

static void
respond_rerank (Fixture           *f,
                SoupServerMessage *msg,
                JsonObject        *request)
{
  JsonArray *documents = json_object_get_array_member (request, is_tei (f) ? "texts" : "documents");
  guint n_documents = json_array_get_length (documents);
  guint top_n = json_object_has_member (request, "top_n")
                  ? (guint) json_object_get_int_member (request, "top_n") : n_documents;
  gboolean with_documents = !json_object_has_member (request, "return_documents") ||
                            json_object_get_boolean_member (request, "return_documents");
  g_autoptr(GArray) scored = g_array_new (FALSE, FALSE, sizeof (Scored));
  g_autoptr(JsonBuilder) b = json_builder_new ();
  g_autoptr(JsonNode) root = NULL;
  guint n_items;

  for (guint i = 0; i < n_documents; i++)
    {
      Scored s = { i, score_of (json_array_get_string_element (documents, i)) };

      g_array_append_val (scored, s);
    }
  /* Best first, cut to top_n, like the services */
  g_array_sort (scored, compare_scored);
  n_items = MIN (top_n, n_documents);

  switch (f->scenario)
    {
    case SCENARIO_OUT_OF_RANGE:
      g_array_index (scored, Scored, 0).index = n_documents;
      break;
    case SCENARIO_DUPLICATE_INDEX:
      if (n_items > 1)
        g_array_index (scored, Scored, 1).index = g_array_index (scored, Scored, 0).index;
      break;
    case SCENARIO_TOO_FEW:
      n_items--;
      break;
    case SCENARIO_NORMAL:
    case SCENARIO_RATE_LIMIT_ONCE:
    case SCENARIO_SERVER_ERROR:
    case SCENARIO_SLOW:
    case SCENARIO_MALFORMED_JSON:
    case SCENARIO_BAD_SCORE:
    case SCENARIO_INFINITE_SCORE:
    case SCENARIO_ECHO_KEY:
    case SCENARIO_TEI_ERROR:
    default:
      break;
    }

  if (!is_tei (f))
    {
      json_builder_begin_object (b);
      if (g_str_equal (f->api, "jina"))
        {
          json_builder_set_member_name (b, "model");
          json_builder_add_string_value (b, json_object_get_string_member (request, "model"));
          json_builder_set_member_name (b, "usage");
          json_builder_begin_object (b);
          json_builder_set_member_name (b, "total_tokens");
          json_builder_add_int_value (b, 42);
          json_builder_end_object (b);
        }
      else
        {
          json_builder_set_member_name (b, "id");
          json_builder_add_string_value (b, "07734bd2-2473-4f07-94e1-0d9f0e6843cf");
        }
      json_builder_set_member_name (b, "results");
    }

  json_builder_begin_array (b);
  for (guint i = 0; i < n_items; i++)
    {
      Scored *s = &g_array_index (scored, Scored, i);

      json_builder_begin_object (b);
      json_builder_set_member_name (b, "index");
      json_builder_add_int_value (b, s->index);
      if (g_str_equal (f->api, "jina") && with_documents && s->index < n_documents)
        {
          json_builder_set_member_name (b, "document");
          json_builder_begin_object (b);
          json_builder_set_member_name (b, "text");
          json_builder_add_string_value (b, json_array_get_string_element (documents, s->index));
          json_builder_end_object (b);
        }
      json_builder_set_member_name (b, is_tei (f) ? "score" : "relevance_score");
      if (f->scenario == SCENARIO_BAD_SCORE && i == 0)
        json_builder_add_string_value (b, "high");
      else
        json_builder_add_double_value (b, s->score);
      json_builder_end_object (b);
    }
  json_builder_end_array (b);

  if (g_str_equal (f->api, "cohere"))
    {
      json_builder_set_member_name (b, "meta");
      json_builder_begin_object (b);
      json_builder_set_member_name (b, "billed_units");
      json_builder_begin_object (b);
      json_builder_set_member_name (b, "search_units");
      json_builder_add_int_value (b, 1);
      json_builder_end_object (b);
      json_builder_end_object (b);
    }
  if (!is_tei (f))
    json_builder_end_object (b);

  root = json_builder_get_root (b);
  stache_test_respond_json (msg, SOUP_STATUS_OK, root);
}

/* Runs in the server thread */
static void
handle_request (SoupServer        *server,
                SoupServerMessage *msg,
                const char        *path,
                GHashTable        *query,
                gpointer           user_data)
{
  Fixture *f = user_data;
  const char *method = soup_server_message_get_method (msg);
  const char *authorization =
    soup_message_headers_get_one (soup_server_message_get_request_headers (msg), "Authorization");
  g_autoptr(JsonParser) parser = json_parser_new ();
  guint n_problems = stache_test_http_begin (&f->http, msg, path);
  const char *expected_path = is_tei (f) ? "/rerank" : "/v1/rerank";
  JsonObject *request;

  g_ptr_array_add (f->methods, g_strdup (method));
  g_ptr_array_add (f->authorizations, g_strdup (authorization));

  if (f->scenario == SCENARIO_ECHO_KEY)
    {
      /* A careless server: the key comes back */
      g_autofree char *message = g_strdup_printf (ECHO_TEXT ": %s",
                                                  authorization != NULL ? authorization : "none");

      respond_error (f, msg, SOUP_STATUS_UNAUTHORIZED, message);
      goto out;
    }

  if (g_strcmp0 (path, expected_path) != 0)
    {
      stache_test_http_problem (&f->http, "path %s instead of %s", path, expected_path);
      respond_error (f, msg, SOUP_STATUS_NOT_FOUND, "Not found");
      goto out;
    }

  if (g_strcmp0 (method, "POST") != 0)
    stache_test_http_problem (&f->http, "method %s instead of POST", method);

  request = stache_test_http_parse (&f->http, msg, path, parser);
  if (request != NULL && check_rerank_request (f, request))
    g_ptr_array_add (f->http.bodies, json_node_copy (json_parser_get_root (parser)));

  if (f->http.problems->len != n_problems)
    {
      respond_error (f, msg, SOUP_STATUS_BAD_REQUEST,
                     g_ptr_array_index (f->http.problems, f->http.problems->len - 1));
      goto out;
    }

  if (f->http.fault != STACHE_TEST_FAULT_NONE)
    {
      g_autofree char *body = f->http.fault == STACHE_TEST_FAULT_RATE_LIMIT_ONCE
                                ? error_body (f, 429, RATE_LIMIT_TEXT)
                                : error_body (f, SOUP_STATUS_INTERNAL_SERVER_ERROR,
                                              SERVER_ERROR_TEXT);

      if (stache_test_server_fault (&f->http.ts, f->http.fault, msg, f->http.n_requests, body))
        goto out;
    }

  switch (f->scenario)
    {
    case SCENARIO_MALFORMED_JSON:
      /* Cut off in the middle */
      stache_test_server_respond (msg, SOUP_STATUS_OK, "application/json",
                                  "{\"results\": [{\"index\": 0, \"relevance_");
      goto out;

    case SCENARIO_TEI_ERROR:
      respond_error (f, msg, SOUP_STATUS_REQUEST_ENTITY_TOO_LARGE, TEI_ERROR_TEXT);
      goto out;

    case SCENARIO_INFINITE_SCORE:
      /* Valid JSON, but no finite double */
      stache_test_server_respond (msg, SOUP_STATUS_OK, "application/json",
                                  "{\"id\": \"x\", \"results\": ["
                                  "{\"index\": 1, \"relevance_score\": 1e999}, "
                                  "{\"index\": 4, \"relevance_score\": 0.7}, "
                                  "{\"index\": 2, \"relevance_score\": 0.5}]}");
      goto out;

    case SCENARIO_NORMAL:
    case SCENARIO_RATE_LIMIT_ONCE:
    case SCENARIO_SERVER_ERROR:
    case SCENARIO_SLOW:
    case SCENARIO_OUT_OF_RANGE:
    case SCENARIO_DUPLICATE_INDEX:
    case SCENARIO_BAD_SCORE:
    case SCENARIO_TOO_FEW:
    case SCENARIO_ECHO_KEY:
    default:
      break;
    }

  respond_rerank (f, msg, request);

out:
  g_mutex_unlock (&f->http.mutex);
}

static void
fixture_setup (Fixture       *f,
               gconstpointer  data)
{
  /* The faults every remote API shows are played by the shared server */
  static const StacheTestFault faults[] = {
    [SCENARIO_RATE_LIMIT_ONCE] = STACHE_TEST_FAULT_RATE_LIMIT_ONCE,
    [SCENARIO_SERVER_ERROR] = STACHE_TEST_FAULT_SERVER_ERROR,
    [SCENARIO_SLOW] = STACHE_TEST_FAULT_SLOW,
  };

  f->scenario = GPOINTER_TO_INT (data);
  f->api = "cohere";
  f->methods = g_ptr_array_new_with_free_func (g_free);
  f->authorizations = g_ptr_array_new_with_free_func (g_free);
  if (f->scenario < G_N_ELEMENTS (faults))
    f->http.fault = faults[f->scenario];
  stache_test_http_start (&f->http, "cohere", "", handle_request, f);
}

static void
fixture_teardown (Fixture       *f,
                  gconstpointer  data)
{
  stache_test_http_stop (&f->http);
  g_ptr_array_unref (f->methods);
  g_ptr_array_unref (f->authorizations);
}

/* Asserts that @object has exactly the members of the NULL-terminated
 * @expected, in any order */
static void
assert_members (JsonObject         *object,
                const char * const *expected)
{
  g_autoptr(GList) members = json_object_get_members (object);

  for (GList *l = members; l != NULL; l = l->next)
    if (!g_strv_contains (expected, l->data))
      g_error ("Unexpected member “%s” in the request", (const char *) l->data);
  g_assert_cmpuint (g_list_length (members), ==, g_strv_length ((char **) expected));
}

/* ---- creating the provider and the candidates ---- */

/* Creates the provider in flavour @api with settings that point at the
 * fake server and the test key, plus the NULL-terminated key/value pairs
 * after @api */
static StacheRerankerProvider *
create_reranker (Fixture    *f,
                 const char *api,
                 ...) G_GNUC_NULL_TERMINATED;

static StacheRerankerProvider *
create_reranker (Fixture    *f,
                 const char *api,
                 ...)
{
  const char * const base[] = {
    "cohere_url", f->http.base_url, "cohere_api", api, "cohere_api_key", TEST_KEY,
    "http_backoff_ms", "10", NULL,
  };
  g_autoptr(GPtrArray) extra = NULL;
  StacheProvider *provider;
  va_list args;

  g_mutex_lock (&f->http.mutex);
  f->api = api;
  g_mutex_unlock (&f->http.mutex);

  va_start (args, api);
  extra = stache_test_pairs_va (args);
  va_end (args);

  provider = stache_test_create_provider (loader, STACHE_PROVIDER_TYPE_RERANKER, "cohere", base,
                                          (const char * const *) extra->pdata);
  g_assert_true (STACHE_IS_RERANKER_PROVIDER (provider));

  return STACHE_RERANKER_PROVIDER (provider);
}

/* Candidates "r0", "r1", … whose texts start with the scores the server
 * will give them; their own scores fall with their position */
static GPtrArray *
make_results (const double *scores,
              guint         n)
{
  GPtrArray *results = g_ptr_array_new_with_free_func (g_object_unref);

  for (guint i = 0; i < n; i++)
    {
      g_autofree char *id = g_strdup_printf ("r%u", i);
      char number[G_ASCII_DTOSTR_BUF_SIZE];
      g_autofree char *text = g_strdup_printf ("%s passage %u about bees",
                                               g_ascii_dtostr (number, sizeof number, scores[i]), i);

      g_ptr_array_add (results, stache_search_result_new (id, text, 1.0 - i * 0.01));
    }

  return results;
}

/* Asserts that @ranked holds the results of @ids, in that order, with the
 * scores their texts start with */
static void
assert_ranked (GPtrArray          *ranked,
               const char * const *ids)
{
  g_assert_nonnull (ranked);
  g_assert_cmpuint (ranked->len, ==, g_strv_length ((char **) ids));

  for (guint i = 0; i < ranked->len; i++)
    {
      StacheSearchResult *result = g_ptr_array_index (ranked, i);

      g_assert_cmpstr (stache_search_result_get_id (result), ==, ids[i]);
      g_assert_cmpfloat_with_epsilon (stache_search_result_get_score (result),
                                      score_of (stache_search_result_get_text (result)), 1e-9);
    }
}

/* The strings of member @member of @object */
static void
assert_documents (JsonObject *object,
                  const char *member,
                  GPtrArray  *results,
                  guint       start,
                  guint       n)
{
  JsonArray *documents = json_object_get_array_member (object, member);

  g_assert_nonnull (documents);
  g_assert_cmpuint (json_array_get_length (documents), ==, n);
  for (guint i = 0; i < n; i++)
    g_assert_cmpstr (json_array_get_string_element (documents, i), ==,
                     stache_search_result_get_text (g_ptr_array_index (results, start + i)));
}

/* ---- round trips ---- */

static const double five_scores[] = { 0.1, 0.9, 0.5, 0.05, 0.7 };

static void
test_cohere_round_trip (Fixture       *f,
                        gconstpointer  data)
{
  const char * const members[] = { "model", "query", "documents", "top_n", NULL };
  const char * const expected[] = { "r1", "r4", "r2", NULL };
  g_autoptr(StacheRerankerProvider) reranker = create_reranker (f, "cohere", NULL);
  g_autoptr(GPtrArray) results = make_results (five_scores, G_N_ELEMENTS (five_scores));
  g_autoptr(GPtrArray) ranked = NULL;
  g_autoptr(GError) error = NULL;
  JsonObject *body;

  ranked = stache_reranker_provider_rerank (reranker, TEST_QUERY, results, 3, NULL, &error);
  g_assert_no_error (error);
  assert_ranked (ranked, expected);

  /* The caller's results are untouched */
  g_assert_cmpfloat (stache_search_result_get_score (g_ptr_array_index (results, 1)), ==, 0.99);

  g_assert_cmpuint (stache_test_http_n_requests (&f->http), ==, 1);
  g_assert_cmpstr (stache_test_http_seen (&f->http, f->methods, 0), ==, "POST");
  g_assert_cmpstr (stache_test_http_seen (&f->http, f->http.paths, 0), ==, "/v1/rerank");
  g_assert_cmpstr (stache_test_http_seen (&f->http, f->authorizations, 0), ==, "Bearer " TEST_KEY);

  body = stache_test_http_body (&f->http, 0);
  assert_members (body, members);
  g_assert_cmpstr (json_object_get_string_member (body, "model"), ==, "rerank-v3.5");
  g_assert_cmpstr (json_object_get_string_member (body, "query"), ==, TEST_QUERY);
  assert_documents (body, "documents", results, 0, results->len);
  g_assert_cmpint (json_object_get_int_member (body, "top_n"), ==, 3);
}

static void
test_jina_round_trip (Fixture       *f,
                      gconstpointer  data)
{
  const char * const members[] = { "model", "query", "documents", "top_n", "return_documents",
                                   NULL };
  const char * const expected[] = { "r1", "r4", "r2", "r0", "r3", NULL };
  g_autoptr(StacheRerankerProvider) reranker =
    create_reranker (f, "jina", "cohere_model", "jina-reranker-v2-base-multilingual", NULL);
  g_autoptr(GPtrArray) results = make_results (five_scores, G_N_ELEMENTS (five_scores));
  g_autoptr(GPtrArray) ranked = NULL;
  g_autoptr(GError) error = NULL;
  JsonObject *body;

  /* top_k beyond the candidates: all of them, top_n no more than they */
  ranked = stache_reranker_provider_rerank (reranker, TEST_QUERY, results, 10, NULL, &error);
  g_assert_no_error (error);
  assert_ranked (ranked, expected);

  g_assert_cmpuint (stache_test_http_n_requests (&f->http), ==, 1);
  g_assert_cmpstr (stache_test_http_seen (&f->http, f->methods, 0), ==, "POST");
  g_assert_cmpstr (stache_test_http_seen (&f->http, f->http.paths, 0), ==, "/v1/rerank");
  g_assert_cmpstr (stache_test_http_seen (&f->http, f->authorizations, 0), ==, "Bearer " TEST_KEY);

  body = stache_test_http_body (&f->http, 0);
  assert_members (body, members);
  g_assert_cmpstr (json_object_get_string_member (body, "model"), ==,
                   "jina-reranker-v2-base-multilingual");
  g_assert_cmpstr (json_object_get_string_member (body, "query"), ==, TEST_QUERY);
  assert_documents (body, "documents", results, 0, results->len);
  g_assert_cmpint (json_object_get_int_member (body, "top_n"), ==, 5);
  g_assert_false (json_object_get_boolean_member (body, "return_documents"));
}

static void
test_tei_round_trip (Fixture       *f,
                     gconstpointer  data)
{
  const char * const members[] = { "query", "texts", "raw_scores", "return_text", NULL };
  const char * const expected[] = { "r1", "r4", NULL };
  /* No key: TEI runs without one; a model set anyway is not sent */
  g_autoptr(StacheRerankerProvider) reranker =
    create_reranker (f, "tei", "cohere_api_key", "", "cohere_model", "ignored-model", NULL);
  g_autoptr(GPtrArray) results = make_results (five_scores, G_N_ELEMENTS (five_scores));
  g_autoptr(GPtrArray) ranked = NULL;
  g_autoptr(GError) error = NULL;
  JsonObject *body;

  ranked = stache_reranker_provider_rerank (reranker, TEST_QUERY, results, 2, NULL, &error);
  g_assert_no_error (error);
  assert_ranked (ranked, expected);

  g_assert_cmpuint (stache_test_http_n_requests (&f->http), ==, 1);
  g_assert_cmpstr (stache_test_http_seen (&f->http, f->methods, 0), ==, "POST");
  g_assert_cmpstr (stache_test_http_seen (&f->http, f->http.paths, 0), ==, "/rerank");
  g_assert_null (stache_test_http_seen (&f->http, f->authorizations, 0));

  body = stache_test_http_body (&f->http, 0);
  assert_members (body, members);
  g_assert_cmpstr (json_object_get_string_member (body, "query"), ==, TEST_QUERY);
  assert_documents (body, "texts", results, 0, results->len);
  g_assert_false (json_object_get_boolean_member (body, "raw_scores"));
  g_assert_false (json_object_get_boolean_member (body, "return_text"));
}

static void
test_empty (Fixture       *f,
            gconstpointer  data)
{
  g_autoptr(StacheRerankerProvider) reranker = create_reranker (f, "cohere", NULL);
  g_autoptr(GPtrArray) results = g_ptr_array_new_with_free_func (g_object_unref);
  g_autoptr(GPtrArray) ranked = NULL;
  g_autoptr(GError) error = NULL;
  GList *list;

  ranked = stache_reranker_provider_rerank (reranker, TEST_QUERY, results, 5, NULL, &error);
  g_assert_no_error (error);
  g_assert_cmpuint (ranked->len, ==, 0);

  /* The provider's own method too, which the interface spares */
  list = STACHE_RERANKER_PROVIDER_GET_IFACE (reranker)->rerank (reranker, TEST_QUERY, results, 5,
                                                                NULL, &error);
  g_assert_no_error (error);
  g_assert_null (list);

  g_assert_cmpuint (stache_test_http_n_requests (&f->http), ==, 0);
}

/* ---- batching ---- */

static const double eight_scores[] = { 0.3, 0.8, 0.1, 0.95, 0.2, 0.6, 0.85, 0.4 };

static void
check_batches (Fixture    *f,
               const char *api,
               guint       top_k)
{
  const char * const expected_all[] = { "r3", "r6", "r1", "r5", "r7", "r0", "r4", "r2", NULL };
  const char *documents_member = g_str_equal (api, "tei") ? "texts" : "documents";
  g_autoptr(StacheRerankerProvider) reranker =
    create_reranker (f, api, "cohere_max_documents", "3", NULL);
  g_autoptr(GPtrArray) results = make_results (eight_scores, G_N_ELEMENTS (eight_scores));
  g_autoptr(GPtrArray) ranked = NULL;
  g_autoptr(GError) error = NULL;
  g_auto(GStrv) expected = NULL;

  ranked = stache_reranker_provider_rerank (reranker, TEST_QUERY, results, top_k, NULL, &error);
  g_assert_no_error (error);
  expected = g_new0 (char *, top_k + 1);
  for (guint i = 0; i < top_k; i++)
    expected[i] = g_strdup (expected_all[i]);
  assert_ranked (ranked, (const char * const *) expected);

  /* 3 + 3 + 2, in order, each asked for its best min (top_k, size) */
  g_assert_cmpuint (stache_test_http_n_requests (&f->http), ==, 3);
  for (guint r = 0; r < 3; r++)
    {
      JsonObject *body = stache_test_http_body (&f->http, r);
      guint size = r < 2 ? 3 : 2;

      assert_documents (body, documents_member, results, r * 3, size);
      g_assert_cmpstr (json_object_get_string_member (body, "query"), ==, TEST_QUERY);
      if (g_str_equal (api, "tei"))
        g_assert_false (json_object_has_member (body, "top_n"));
      else
        g_assert_cmpint (json_object_get_int_member (body, "top_n"), ==, MIN (top_k, size));
    }
}

static void
test_batches (Fixture       *f,
              gconstpointer  data)
{
  /* The best 4 of 8 spread over the three requests: r3 (first), r6, r5
   * (second), r1 (first) */
  check_batches (f, "cohere", 4);
}

static void
test_batches_tei (Fixture       *f,
                  gconstpointer  data)
{
  check_batches (f, "tei", 8);
}

/* ---- HTTP errors, timeouts, cancellation ---- */

static void
test_retry_after (Fixture       *f,
                  gconstpointer  data)
{
  const char * const expected[] = { "r1", "r4", NULL };
  g_autoptr(StacheRerankerProvider) reranker =
    create_reranker (f, "cohere", "http_retry_budget", "5", NULL);
  g_autoptr(GPtrArray) results = make_results (five_scores, G_N_ELEMENTS (five_scores));
  g_autoptr(GPtrArray) ranked = NULL;
  g_autoptr(GError) error = NULL;

  ranked = stache_reranker_provider_rerank (reranker, TEST_QUERY, results, 2, NULL, &error);
  g_assert_no_error (error);
  assert_ranked (ranked, expected);

  /* With http_backoff_ms at 10, only Retry-After explains a wait of 1 s */
  g_assert_cmpuint (stache_test_http_n_requests (&f->http), ==, 2);
  g_assert_cmpint (stache_test_http_time_between (&f->http, 0, 1), >=,
                   900 * G_TIME_SPAN_MILLISECOND);
}

static void
test_server_error (Fixture       *f,
                   gconstpointer  data)
{
  g_autoptr(StacheRerankerProvider) reranker =
    create_reranker (f, "cohere", "http_max_retries", "2", NULL);
  g_autoptr(GPtrArray) results = make_results (five_scores, G_N_ELEMENTS (five_scores));
  g_autoptr(GPtrArray) ranked = NULL;
  g_autoptr(GError) error = NULL;

  ranked = stache_reranker_provider_rerank (reranker, TEST_QUERY, results, 3, NULL, &error);
  g_assert_null (ranked);
  g_assert_error (error, STACHE_HTTP_ERROR, STACHE_HTTP_ERROR_SERVER);
  g_test_message ("%s", error->message);
  g_assert_true (g_str_has_prefix (error->message, "cohere"));
  g_assert_nonnull (strstr (error->message, "500"));
  /* Cohere's {"message": …} comes out */
  if (strstr (error->message, SERVER_ERROR_TEXT) == NULL)
    g_error ("The service's message is not in “%s”", error->message);
  /* One try and two retries */
  g_assert_cmpuint (stache_test_http_n_requests (&f->http), ==, 3);
}

static void
test_tei_error (Fixture       *f,
                gconstpointer  data)
{
  g_autoptr(StacheRerankerProvider) reranker = create_reranker (f, "tei", NULL);
  g_autoptr(GPtrArray) results = make_results (five_scores, G_N_ELEMENTS (five_scores));
  g_autoptr(GPtrArray) ranked = NULL;
  g_autoptr(GError) error = NULL;

  ranked = stache_reranker_provider_rerank (reranker, TEST_QUERY, results, 3, NULL, &error);
  g_assert_null (ranked);
  g_assert_error (error, STACHE_HTTP_ERROR, STACHE_HTTP_ERROR_CLIENT);
  g_test_message ("%s", error->message);
  g_assert_nonnull (strstr (error->message, "413"));
  /* TEI's {"error": …, "error_type": …} comes out */
  if (strstr (error->message, TEI_ERROR_TEXT) == NULL)
    g_error ("The service's message is not in “%s”", error->message);
  /* A 4xx is never retried */
  g_assert_cmpuint (stache_test_http_n_requests (&f->http), ==, 1);
}

static void
test_timeout (Fixture       *f,
              gconstpointer  data)
{
  g_autoptr(StacheRerankerProvider) reranker =
    create_reranker (f, "cohere", "http_timeout", "1", "http_max_retries", "0", NULL);
  g_autoptr(GPtrArray) results = make_results (five_scores, G_N_ELEMENTS (five_scores));
  g_autoptr(GPtrArray) ranked = NULL;
  g_autoptr(GError) error = NULL;
  gint64 start = g_get_monotonic_time ();
  gint64 elapsed;

  ranked = stache_reranker_provider_rerank (reranker, TEST_QUERY, results, 3, NULL, &error);
  elapsed = g_get_monotonic_time () - start;
  g_assert_null (ranked);
  g_assert_error (error, STACHE_HTTP_ERROR, STACHE_HTTP_ERROR_TIMEOUT);
  g_test_message ("%s", error->message);
  g_assert_cmpuint (stache_test_http_n_requests (&f->http), ==, 1);
  /* Gave up after about a second, long before the server answered */
  g_assert_cmpint (elapsed, >=, 900 * G_TIME_SPAN_MILLISECOND);
  g_assert_cmpint (elapsed, <, (STACHE_TEST_SLOW_MS - 500) * G_TIME_SPAN_MILLISECOND);
}

typedef struct {
  GMainLoop *loop;
  GPtrArray *ranked;
  GError    *error;
} AsyncResult;

static void
rerank_done (GObject      *source,
             GAsyncResult *result,
             gpointer      user_data)
{
  AsyncResult *async = user_data;

  async->ranked = stache_reranker_provider_rerank_finish (STACHE_RERANKER_PROVIDER (source),
                                                          result, &async->error);
  g_main_loop_quit (async->loop);
}

static gboolean
cancel_now (gpointer user_data)
{
  g_cancellable_cancel (user_data);

  return G_SOURCE_REMOVE;
}

static void
test_cancelled (Fixture       *f,
                gconstpointer  data)
{
  g_autoptr(StacheRerankerProvider) reranker = create_reranker (f, "cohere", NULL);
  g_autoptr(GPtrArray) results = make_results (five_scores, G_N_ELEMENTS (five_scores));
  g_autoptr(GCancellable) cancellable = g_cancellable_new ();
  g_autoptr(GMainLoop) loop = g_main_loop_new (NULL, FALSE);
  AsyncResult async = { loop, NULL, NULL };
  gint64 start = g_get_monotonic_time ();
  gint64 elapsed;

  /* Cancelled while the server holds the request back */
  stache_reranker_provider_rerank_async (reranker, TEST_QUERY, results, 3, cancellable,
                                         rerank_done, &async);
  g_timeout_add (300, cancel_now, cancellable);
  g_main_loop_run (loop);
  elapsed = g_get_monotonic_time () - start;

  g_assert_null (async.ranked);
  g_assert_error (async.error, G_IO_ERROR, G_IO_ERROR_CANCELLED);
  g_clear_error (&async.error);
  g_assert_cmpuint (stache_test_http_n_requests (&f->http), ==, 1);
  g_assert_cmpint (elapsed, <, (STACHE_TEST_SLOW_MS - 1000) * G_TIME_SPAN_MILLISECOND);
}

/* ---- malformed responses ---- */

/* Reranks the five candidates, expecting a malformed-response error whose
 * message holds @detail; returns nothing, checks everything */
static void
assert_malformed (Fixture    *f,
                  const char *api,
                  const char *detail)
{
  g_autoptr(StacheRerankerProvider) reranker = create_reranker (f, api, NULL);
  g_autoptr(GPtrArray) results = make_results (five_scores, G_N_ELEMENTS (five_scores));
  g_autoptr(GPtrArray) ranked = NULL;
  g_autoptr(GError) error = NULL;
  g_autofree char *url = NULL;

  ranked = stache_reranker_provider_rerank (reranker, TEST_QUERY, results, 3, NULL, &error);
  g_assert_null (ranked);
  g_assert_error (error, STACHE_HTTP_ERROR, STACHE_HTTP_ERROR_MALFORMED_RESPONSE);
  g_test_message ("%s", error->message);
  /* The provider, the URL and what is wrong */
  g_assert_true (g_str_has_prefix (error->message, "cohere"));
  url = g_strconcat (f->http.base_url, g_str_equal (api, "tei") ? "/rerank" : "/v1/rerank", NULL);
  if (strstr (error->message, url) == NULL)
    g_error ("The URL %s is not in “%s”", url, error->message);
  if (strstr (error->message, detail) == NULL)
    g_error ("“%s” is not in “%s”", detail, error->message);
  g_assert_null (strstr (error->message, TEST_KEY));
  /* Not retried */
  g_assert_cmpuint (stache_test_http_n_requests (&f->http), ==, 1);
}

static void
test_malformed_json (Fixture       *f,
                     gconstpointer  data)
{
  g_autoptr(StacheRerankerProvider) reranker = create_reranker (f, "cohere", NULL);
  g_autoptr(GPtrArray) results = make_results (five_scores, G_N_ELEMENTS (five_scores));
  g_autoptr(GPtrArray) ranked = NULL;
  g_autoptr(GError) error = NULL;

  ranked = stache_reranker_provider_rerank (reranker, TEST_QUERY, results, 3, NULL, &error);
  g_assert_null (ranked);
  g_assert_error (error, STACHE_HTTP_ERROR, STACHE_HTTP_ERROR_MALFORMED_RESPONSE);
  g_test_message ("%s", error->message);
  g_assert_true (g_str_has_prefix (error->message, "cohere"));
}

static void
test_out_of_range (Fixture       *f,
                   gconstpointer  data)
{
  assert_malformed (f, "cohere", "is 5, outside 0 to 4");
}

static void
test_out_of_range_tei (Fixture       *f,
                       gconstpointer  data)
{
  assert_malformed (f, "tei", "is 5, outside 0 to 4");
}

static void
test_duplicate_index (Fixture       *f,
                      gconstpointer  data)
{
  assert_malformed (f, "jina", "index 1 is scored twice");
}

static void
test_bad_score (Fixture       *f,
                gconstpointer  data)
{
  assert_malformed (f, "cohere", "“relevance_score” of item 0 is not a finite number");
}

static void
test_infinite_score (Fixture       *f,
                     gconstpointer  data)
{
  assert_malformed (f, "cohere", "“relevance_score” of item 0 is not a finite number");
}

static void
test_too_few (Fixture       *f,
              gconstpointer  data)
{
  assert_malformed (f, "cohere", "it scores 2 items for 5 documents and top_n 3");
}

static void
test_too_few_tei (Fixture       *f,
                  gconstpointer  data)
{
  assert_malformed (f, "tei", "it scores 4 items for 5 documents");
}

/* ---- secrets and settings ---- */

static void
test_key_echo (Fixture       *f,
               gconstpointer  data)
{
  g_autoptr(StacheRerankerProvider) reranker = create_reranker (f, "cohere", NULL);
  g_autoptr(GPtrArray) results = make_results (five_scores, G_N_ELEMENTS (five_scores));
  g_autoptr(GPtrArray) ranked = NULL;
  g_autoptr(GError) error = NULL;

  ranked = stache_reranker_provider_rerank (reranker, TEST_QUERY, results, 3, NULL, &error);
  g_assert_null (ranked);
  g_assert_error (error, STACHE_HTTP_ERROR, STACHE_HTTP_ERROR_CLIENT);
  g_test_message ("%s", error->message);
  g_assert_nonnull (strstr (error->message, ECHO_TEXT));
  g_assert_nonnull (strstr (error->message, "401"));
  if (strstr (error->message, TEST_KEY) != NULL)
    g_error ("The key leaked into “%s”", error->message);
  /* The server did get the key: only the message was cleaned */
  g_assert_cmpstr (stache_test_http_seen (&f->http, f->authorizations, 0), ==, "Bearer " TEST_KEY);
  g_assert_cmpuint (stache_test_http_n_requests (&f->http), ==, 1);
}

/* Creating the provider with @key set to @value fails; returns the error */
static GError *
create_fails (const char *key,
              const char *value)
{
  const char * const pairs[] = { key, value, NULL };
  g_autoptr(StacheSettings) settings = stache_test_settings_new (pairs, NULL);
  g_autoptr(StacheProvider) provider = NULL;
  GError *error = NULL;

  provider = stache_plugin_loader_create_provider (loader, STACHE_PROVIDER_TYPE_RERANKER, "cohere",
                                                   settings, &error);
  g_assert_null (provider);
  g_assert_nonnull (error);

  return error;
}

static void
test_invalid_api (void)
{
  g_autoptr(GError) error = create_fails ("cohere_api", "voyage");

  g_assert_error (error, STACHE_ERROR, STACHE_ERROR_INVALID_SETTING);
  g_test_message ("%s", error->message);
  g_assert_nonnull (strstr (error->message, "cohere_api"));
  g_assert_nonnull (strstr (error->message, "COHERE_API"));
  g_assert_nonnull (strstr (error->message, "voyage"));
  g_assert_nonnull (strstr (error->message, "cohere, jina or tei"));
}

static void
test_invalid_settings (void)
{
  g_autoptr(GError) documents = create_fails ("cohere_max_documents", "0");
  g_autoptr(GError) url = create_fails ("cohere_url", "ftp://example.com");
  g_autoptr(GError) key = create_fails ("cohere_api_key", "secret-part\nmore-secret");

  g_assert_error (documents, STACHE_ERROR, STACHE_ERROR_INVALID_SETTING);
  g_test_message ("%s", documents->message);
  g_assert_nonnull (strstr (documents->message, "cohere_max_documents"));
  g_assert_error (url, STACHE_ERROR, STACHE_ERROR_INVALID_SETTING);
  g_test_message ("%s", url->message);
  g_assert_nonnull (strstr (url->message, "cohere_url"));
  g_assert_error (key, STACHE_ERROR, STACHE_ERROR_INVALID_SETTING);
  g_test_message ("%s", key->message);
  g_assert_null (strstr (key->message, "secret-part"));
}

static void
test_listed (void)
{
  g_auto(GStrv) rerankers = stache_plugin_loader_get_available_providers (loader,
                                                                          STACHE_PROVIDER_TYPE_RERANKER);

  g_assert_true (g_strv_contains ((const char * const *) rerankers, "cohere"));
}

/* ---- main ---- */

#define ADD(path, scenario, func) \
  g_test_add (path, Fixture, GINT_TO_POINTER (scenario), fixture_setup, func, fixture_teardown)

int
main (int   argc,
      char *argv[])
{
  /* The developer's own Cohere settings must not reach the tests */
  const char * const own_settings[] = {
    "COHERE_URL", "COHERE_API_KEY", "COHERE_MODEL", "COHERE_API", "COHERE_MAX_DOCUMENTS", NULL,
  };
  int status;

  stache_test_init (&argc, &argv, own_settings);
  loader = stache_plugin_loader_new ();

  g_test_add_func ("/cohere/listed", test_listed);
  g_test_add_func ("/cohere/invalid-api", test_invalid_api);
  g_test_add_func ("/cohere/invalid-settings", test_invalid_settings);

  ADD ("/cohere/cohere/round-trip", SCENARIO_NORMAL, test_cohere_round_trip);
  ADD ("/cohere/jina/round-trip", SCENARIO_NORMAL, test_jina_round_trip);
  ADD ("/cohere/tei/round-trip", SCENARIO_NORMAL, test_tei_round_trip);
  ADD ("/cohere/empty", SCENARIO_NORMAL, test_empty);
  ADD ("/cohere/batches", SCENARIO_NORMAL, test_batches);
  ADD ("/cohere/tei/batches", SCENARIO_NORMAL, test_batches_tei);

  ADD ("/cohere/retry-after", SCENARIO_RATE_LIMIT_ONCE, test_retry_after);
  ADD ("/cohere/server-error", SCENARIO_SERVER_ERROR, test_server_error);
  ADD ("/cohere/tei/error", SCENARIO_TEI_ERROR, test_tei_error);
  ADD ("/cohere/timeout", SCENARIO_SLOW, test_timeout);
  ADD ("/cohere/cancelled", SCENARIO_SLOW, test_cancelled);

  ADD ("/cohere/malformed-json", SCENARIO_MALFORMED_JSON, test_malformed_json);
  ADD ("/cohere/out-of-range", SCENARIO_OUT_OF_RANGE, test_out_of_range);
  ADD ("/cohere/tei/out-of-range", SCENARIO_OUT_OF_RANGE, test_out_of_range_tei);
  ADD ("/cohere/duplicate-index", SCENARIO_DUPLICATE_INDEX, test_duplicate_index);
  ADD ("/cohere/bad-score", SCENARIO_BAD_SCORE, test_bad_score);
  ADD ("/cohere/infinite-score", SCENARIO_INFINITE_SCORE, test_infinite_score);
  ADD ("/cohere/too-few", SCENARIO_TOO_FEW, test_too_few);
  ADD ("/cohere/tei/too-few", SCENARIO_TOO_FEW, test_too_few_tei);

  ADD ("/cohere/key-echo", SCENARIO_ECHO_KEY, test_key_echo);

  status = g_test_run ();

  g_clear_object (&loader);

  return status;
}

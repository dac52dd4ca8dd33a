/* test-ollama.c: the `ollama` LLM and embeddings providers
 *
 * SPDX-License-Identifier: LGPL-2.1-or-later
 *
 * Each test starts a SoupServer on the loopback interface (port 0: the
 * system picks one), in a thread of its own with its own GMainContext
 * pushed as thread-default, that plays Ollama's native API (POST /api/chat
 * and POST /api/embed). It records every request body and answers with
 * bodies shaped like Ollama's, or with its {"error": "…"} bodies. A request
 * on another path, with another method or without a JSON body is recorded
 * as a problem; every test ends by checking that none was.
 *
 * The providers are created through the plugin loader from the build tree
 * (STACHE_TEST_BUILTIN_PLUGINS), as an application creates them.
 */
#include <string.h>

#include <libsoup/soup.h>
#include <stache-plugin.h>

#include "stache-test-server.h"

#define SERVED_CHAT_MODEL  "llama3.2:latest"
#define SERVED_EMBED_MODEL "nomic-embed-text:latest"
#define DIMENSIONS         4
#define NOT_FOUND_TEXT     "model \"x\" not found, try pulling it first"

static StachePluginLoader *loader;

/* ---- the fake Ollama server ---- */

typedef enum {
  SCENARIO_NORMAL,            /* answers every valid request */
  SCENARIO_NOT_FOUND,         /* 404 with Ollama's error body */
  SCENARIO_SERVER_ERROR_ONCE, /* 500 first, then NORMAL */
  SCENARIO_NO_MESSAGE,        /* a chat answer without "message" */
  SCENARIO_STREAM_ERROR,      /* a streamed chat fails midway with an error line */
  SCENARIO_STREAM_TRUNCATED,  /* a streamed chat stops before "done": true */
} Scenario;

/* A streamed chat sends a line every STREAM_INTERVAL_MS */
#define STREAM_INTERVAL_MS 30
#define STREAM_SLOW_MS     150
#define STREAM_ERROR_TEXT  "an error was encountered while running the model: unexpected EOF"

typedef struct {
  StacheTestHttp http;         /* first; its problems: requests Ollama would not take */
  Scenario       scenario;
  guint          stream_interval_ms;  /* under http.mutex */
} Fixture;

/* The vector the server gives @text: small multiples of 1/4, which float,
 * double and JSON all represent exactly */
static void
expected_vector (const char *text,
                 float      *out)
{
  guint h = g_str_hash (text);

  for (guint k = 0; k < DIMENSIONS; k++)
    out[k] = (float) ((h >> (k * 3)) % 997) + 0.25f * (float) k - 100.0f;
}

/* Answers with Ollama's error body */
static void
respond_error (SoupServerMessage *msg,
               guint              status,
               const char        *message)
{
  g_autoptr(JsonNode) root = json_node_new (JSON_NODE_OBJECT);
  g_autoptr(JsonObject) object = json_object_new ();

  json_object_set_string_member (object, "error", message);
  json_node_set_object (root, object);
  stache_test_respond_json (msg, status, root);
}

/* The reply to @prompt, in the pieces a streamed answer sends: words,
 * each after the first with the space before it */
static GStrv
reply_pieces (const char *prompt)
{
  g_autofree char *reply = g_strdup_printf ("You said: %s", prompt);
  g_auto(GStrv) words = g_strsplit (reply, " ", -1);
  GPtrArray *pieces = g_ptr_array_new ();

  for (guint i = 0; words[i] != NULL; i++)
    g_ptr_array_add (pieces, g_strconcat (i > 0 ? " " : "", words[i], NULL));
  g_ptr_array_add (pieces, NULL);

  return (GStrv) g_ptr_array_free (pieces, FALSE);
}

/* One line of a streamed chat: a piece of the message, or the last line */
static char *
stream_line (const char *content,
             gboolean    done)
{
  g_autoptr(JsonBuilder) b = json_builder_new ();
  g_autoptr(JsonNode) root = NULL;
  g_autofree char *json = NULL;

  json_builder_begin_object (b);
  json_builder_set_member_name (b, "model");
  json_builder_add_string_value (b, SERVED_CHAT_MODEL);
  json_builder_set_member_name (b, "created_at");
  json_builder_add_string_value (b, "2024-07-22T20:33:28.123648Z");
  json_builder_set_member_name (b, "message");
  json_builder_begin_object (b);
  json_builder_set_member_name (b, "role");
  json_builder_add_string_value (b, "assistant");
  json_builder_set_member_name (b, "content");
  json_builder_add_string_value (b, content);
  json_builder_end_object (b);
  json_builder_set_member_name (b, "done");
  json_builder_add_boolean_value (b, done);
  if (done)
    {
      json_builder_set_member_name (b, "done_reason");
      json_builder_add_string_value (b, "stop");
      json_builder_set_member_name (b, "total_duration");
      json_builder_add_int_value (b, 1231234000);
      json_builder_set_member_name (b, "load_duration");
      json_builder_add_int_value (b, 5025959);
      json_builder_set_member_name (b, "prompt_eval_count");
      json_builder_add_int_value (b, 26);
      json_builder_set_member_name (b, "prompt_eval_duration");
      json_builder_add_int_value (b, 325953000);
      json_builder_set_member_name (b, "eval_count");
      json_builder_add_int_value (b, 9);
      json_builder_set_member_name (b, "eval_duration");
      json_builder_add_int_value (b, 900000000);
    }
  json_builder_end_object (b);

  root = json_builder_get_root (b);
  json = json_to_string (root, FALSE);

  return g_strconcat (json, "\n", NULL);
}

/* Answers a chat with "stream": true as Ollama does: newline-delimited
 * JSON, one piece of the reply per line */
static void
respond_chat_stream (Fixture           *f,
                     SoupServerMessage *msg,
                     JsonObject        *request)
{
  JsonArray *messages = json_object_get_array_member (request, "messages");
  JsonObject *last = json_array_get_object_element (messages, json_array_get_length (messages) - 1);
  g_auto(GStrv) pieces = reply_pieces (json_object_get_string_member (last, "content"));
  g_autoptr(GPtrArray) lines = g_ptr_array_new_with_free_func (g_free);
  char *final;

  for (guint i = 0; pieces[i] != NULL; i++)
    {
      if (i == 2 && f->scenario == SCENARIO_STREAM_ERROR)
        {
          g_ptr_array_add (lines, g_strdup ("{\"error\":\"" STREAM_ERROR_TEXT "\"}\n"));
          goto send;
        }
      if (i == 2 && f->scenario == SCENARIO_STREAM_TRUNCATED)
        goto send;
      g_ptr_array_add (lines, stream_line (pieces[i], FALSE));
    }

  /* The last line comes in two pieces */
  final = stream_line ("", TRUE);
  g_ptr_array_add (lines, g_strndup (final, 20));
  g_ptr_array_add (lines, g_strdup (final + 20));
  g_free (final);

send:
  g_ptr_array_add (lines, NULL);
  stache_test_server_stream (&f->http.ts, msg, "application/x-ndjson",
                             (const char * const *) lines->pdata, f->stream_interval_ms);
}

static void
respond_chat (Fixture           *f,
              SoupServerMessage *msg,
              JsonObject        *request)
{
  JsonArray *messages = json_object_get_array_member (request, "messages");
  JsonObject *last = json_array_get_object_element (messages, json_array_get_length (messages) - 1);
  g_autofree char *reply = g_strdup_printf ("You said: %s",
                                            json_object_get_string_member (last, "content"));
  g_autoptr(JsonBuilder) b = json_builder_new ();
  g_autoptr(JsonNode) root = NULL;

  json_builder_begin_object (b);
  json_builder_set_member_name (b, "model");
  json_builder_add_string_value (b, SERVED_CHAT_MODEL);
  json_builder_set_member_name (b, "created_at");
  json_builder_add_string_value (b, "2024-07-22T20:33:28.123648Z");
  if (f->scenario != SCENARIO_NO_MESSAGE)
    {
      json_builder_set_member_name (b, "message");
      json_builder_begin_object (b);
      json_builder_set_member_name (b, "role");
      json_builder_add_string_value (b, "assistant");
      json_builder_set_member_name (b, "content");
      json_builder_add_string_value (b, reply);
      json_builder_end_object (b);
    }
  json_builder_set_member_name (b, "done");
  json_builder_add_boolean_value (b, TRUE);
  json_builder_set_member_name (b, "done_reason");
  json_builder_add_string_value (b, "stop");
  json_builder_set_member_name (b, "total_duration");
  json_builder_add_int_value (b, 1231234000);
  json_builder_set_member_name (b, "prompt_eval_count");
  json_builder_add_int_value (b, 26);
  json_builder_set_member_name (b, "eval_count");
  json_builder_add_int_value (b, 9);
  json_builder_end_object (b);

  root = json_builder_get_root (b);
  stache_test_respond_json (msg, SOUP_STATUS_OK, root);
}

static void
respond_embed (SoupServerMessage *msg,
               JsonObject        *request)
{
  JsonArray *input = json_object_get_array_member (request, "input");
  g_autoptr(JsonBuilder) b = json_builder_new ();
  g_autoptr(JsonNode) root = NULL;

  json_builder_begin_object (b);
  json_builder_set_member_name (b, "model");
  json_builder_add_string_value (b, SERVED_EMBED_MODEL);
  json_builder_set_member_name (b, "embeddings");
  json_builder_begin_array (b);
  for (guint i = 0; i < json_array_get_length (input); i++)
    {
      float vector[DIMENSIONS];

      expected_vector (json_array_get_string_element (input, i), vector);
      json_builder_begin_array (b);
      for (guint k = 0; k < DIMENSIONS; k++)
        json_builder_add_double_value (b, vector[k]);
      json_builder_end_array (b);
    }
  json_builder_end_array (b);
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
  SoupMessageHeaders *headers = soup_server_message_get_request_headers (msg);
  const char *content_type = soup_message_headers_get_content_type (headers, NULL);
  g_autoptr(GBytes) bytes = soup_message_body_flatten (soup_server_message_get_request_body (msg));
  g_autoptr(JsonParser) parser = json_parser_new ();
  gboolean is_chat = g_strcmp0 (path, "/api/chat") == 0;
  gboolean is_embed = g_strcmp0 (path, "/api/embed") == 0;
  JsonNode *root = NULL;

  stache_test_http_begin (&f->http, msg, path);

  if ((!is_chat && !is_embed) ||
      g_strcmp0 (soup_server_message_get_method (msg), "POST") != 0 ||
      g_strcmp0 (content_type, "application/json") != 0 ||
      soup_message_headers_get_one (headers, "Authorization") != NULL ||
      !json_parser_load_from_data (parser, g_bytes_get_data (bytes, NULL),
                                   (gssize) g_bytes_get_size (bytes), NULL) ||
      !JSON_NODE_HOLDS_OBJECT (root = json_parser_get_root (parser)))
    {
      g_ptr_array_add (f->http.problems, g_strdup_printf ("%s %s (%s)",
                                                     soup_server_message_get_method (msg), path,
                                                     content_type ? content_type : "no type"));
      respond_error (msg, SOUP_STATUS_BAD_REQUEST, "bad request");
      goto out;
    }
  g_ptr_array_add (f->http.bodies, json_node_copy (root));

  if (f->scenario == SCENARIO_NOT_FOUND)
    respond_error (msg, SOUP_STATUS_NOT_FOUND, NOT_FOUND_TEXT);
  else if (f->scenario == SCENARIO_SERVER_ERROR_ONCE && f->http.n_requests == 1)
    respond_error (msg, SOUP_STATUS_INTERNAL_SERVER_ERROR, "llama runner process has terminated");
  else if (stache_test_server_fault (&f->http.ts, f->http.fault, msg, f->http.n_requests,
                                     "{\"error\": \"llama runner process has terminated\"}"))
    ;
  else if (is_chat && json_object_get_boolean_member_with_default (json_node_get_object (root),
                                                                   "stream", FALSE))
    respond_chat_stream (f, msg, json_node_get_object (root));
  else if (is_chat)
    respond_chat (f, msg, json_node_get_object (root));
  else
    respond_embed (msg, json_node_get_object (root));

out:
  g_mutex_unlock (&f->http.mutex);
}

static void
fixture_setup (Fixture       *f,
               gconstpointer  data)
{
  f->scenario = GPOINTER_TO_INT (data);
  f->stream_interval_ms = STREAM_INTERVAL_MS;
  stache_test_http_start (&f->http, "ollama", "", handle_request, f);
}

static void
fixture_teardown (Fixture       *f,
                  gconstpointer  data)
{
  stache_test_http_stop (&f->http);
}

/* Asserts that @actual is the JSON text @expected, member order aside */
static void
assert_json_equal (JsonObject *object,
                   const char *expected)
{
  g_autoptr(GError) error = NULL;
  g_autoptr(JsonNode) want = json_from_string (expected, &error);
  g_autoptr(JsonNode) actual = json_node_init_object (json_node_alloc (), object);

  g_assert_no_error (error);
  if (!json_node_equal (actual, want))
    {
      g_autofree char *got = json_to_string (actual, FALSE);

      g_error ("The request is %s, not %s", got, expected);
    }
}

/* ---- creating providers ---- */

/* A provider of @type with settings that point at the fake server, plus
 * the NULL-terminated key/value pairs @extra */
static StacheProvider *
create (Fixture            *f,
        StacheProviderType  type,
        const char * const *extra)
{
  const char * const base[] = { "ollama_url", f->http.base_url, "http_backoff_ms", "10", NULL };

  return stache_test_create_provider (loader, type, "ollama", base, extra);
}

static StacheProvider *
create_va (Fixture            *f,
           StacheProviderType  type,
           va_list             args)
{
  g_autoptr(GPtrArray) extra = stache_test_pairs_va (args);

  return create (f, type, (const char * const *) extra->pdata);
}

static StacheLlmProvider *
create_llm (Fixture *f,
            ...) G_GNUC_NULL_TERMINATED;

static StacheLlmProvider *
create_llm (Fixture *f,
            ...)
{
  StacheProvider *provider;
  va_list args;

  va_start (args, f);
  provider = create_va (f, STACHE_PROVIDER_TYPE_LLM, args);
  va_end (args);

  g_assert_true (STACHE_IS_LLM_PROVIDER (provider));

  return STACHE_LLM_PROVIDER (provider);
}

static StacheEmbeddingProvider *
create_embedder (Fixture *f,
                 ...) G_GNUC_NULL_TERMINATED;

static StacheEmbeddingProvider *
create_embedder (Fixture *f,
                 ...)
{
  StacheProvider *provider;
  va_list args;

  va_start (args, f);
  provider = create_va (f, STACHE_PROVIDER_TYPE_EMBEDDINGS, args);
  va_end (args);

  g_assert_true (STACHE_IS_EMBEDDING_PROVIDER (provider));

  return STACHE_EMBEDDING_PROVIDER (provider);
}

/* ---- tests ---- */

static void
test_chat_round_trip (Fixture       *f,
                      gconstpointer  data)
{
  g_autoptr(StacheLlmProvider) llm = create_llm (f, "ollama_model", "test-model",
                                                 "ollama_keep_alive", "5m", NULL);
  g_autoptr(StacheCompletion) completion = NULL;
  g_autoptr(JsonObject) options = json_object_new ();
  g_autoptr(GError) error = NULL;

  json_object_set_int_member (options, "max_tokens", 64);
  json_object_set_double_member (options, "temperature", 0.25);
  completion = stache_llm_provider_generate (llm, "What is Stache?", "You answer briefly.",
                                             options, NULL, &error);
  g_assert_no_error (error);

  g_assert_cmpstr (stache_completion_get_text (completion), ==, "You said: What is Stache?");
  g_assert_cmpstr (stache_completion_get_model (completion), ==, SERVED_CHAT_MODEL);
  g_assert_cmpstr (stache_completion_get_finish_reason (completion), ==, "stop");
  g_assert_cmpint (stache_completion_get_prompt_tokens (completion), ==, 26);
  g_assert_cmpint (stache_completion_get_completion_tokens (completion), ==, 9);

  g_assert_cmpuint (stache_test_http_n_requests (&f->http), ==, 1);
  assert_json_equal (stache_test_http_body (&f->http, 0),
                     "{\"model\": \"test-model\","
                     " \"messages\": [{\"role\": \"system\", \"content\": \"You answer briefly.\"},"
                     "              {\"role\": \"user\", \"content\": \"What is Stache?\"}],"
                     " \"stream\": false,"
                     " \"options\": {\"num_predict\": 64, \"temperature\": 0.25},"
                     " \"keep_alive\": \"5m\"}");
}

static void
test_embeddings_batches (Fixture       *f,
                         gconstpointer  data)
{
  const char * const texts[] = { "alpha", "beta", "gamma", "delta", "epsilon", NULL };
  g_autoptr(StacheEmbeddingProvider) embedder = create_embedder (f, "ollama_batch_size", "2",
                                                                 NULL);
  g_autoptr(GArray) values = NULL;
  g_autoptr(GError) error = NULL;

  /* Ollama does not tell the length before the first answer */
  g_assert_cmpuint (stache_embedding_provider_get_dimensions (embedder), ==, 0);

  values = stache_embedding_provider_embed_batch (embedder, texts, NULL, &error);
  g_assert_no_error (error);
  g_assert_cmpuint (stache_embedding_provider_get_dimensions (embedder), ==, DIMENSIONS);

  g_assert_cmpuint (values->len, ==, 5 * DIMENSIONS);
  for (guint i = 0; i < 5; i++)
    {
      float expected[DIMENSIONS];

      expected_vector (texts[i], expected);
      for (guint k = 0; k < DIMENSIONS; k++)
        g_assert_cmpfloat (g_array_index (values, float, i * DIMENSIONS + k), ==, expected[k]);
    }

  g_assert_cmpuint (stache_test_http_n_requests (&f->http), ==, 3);
  assert_json_equal (stache_test_http_body (&f->http, 0),
                     "{\"model\": \"nomic-embed-text\", \"input\": [\"alpha\", \"beta\"]}");
  assert_json_equal (stache_test_http_body (&f->http, 1),
                     "{\"model\": \"nomic-embed-text\", \"input\": [\"gamma\", \"delta\"]}");
  assert_json_equal (stache_test_http_body (&f->http, 2),
                     "{\"model\": \"nomic-embed-text\", \"input\": [\"epsilon\"]}");
}

static void
test_not_found (Fixture       *f,
                gconstpointer  data)
{
  g_autoptr(StacheLlmProvider) llm = create_llm (f, "ollama_model", "x", NULL);
  g_autoptr(StacheCompletion) completion = NULL;
  g_autoptr(GError) error = NULL;

  completion = stache_llm_provider_generate (llm, "Hello", NULL, NULL, NULL, &error);
  g_assert_null (completion);
  g_assert_error (error, STACHE_HTTP_ERROR, STACHE_HTTP_ERROR_CLIENT);
  g_test_message ("%s", error->message);
  if (strstr (error->message, NOT_FOUND_TEXT) == NULL)
    g_error ("The server's message is not in “%s”", error->message);
  /* A 4xx is never retried */
  g_assert_cmpuint (stache_test_http_n_requests (&f->http), ==, 1);
}

static void
test_retry (Fixture       *f,
            gconstpointer  data)
{
  g_autoptr(StacheLlmProvider) llm = create_llm (f, NULL);
  g_autoptr(StacheCompletion) completion = NULL;
  g_autoptr(GError) error = NULL;

  completion = stache_llm_provider_generate (llm, "Again", NULL, NULL, NULL, &error);
  g_assert_no_error (error);
  g_assert_cmpstr (stache_completion_get_text (completion), ==, "You said: Again");
  g_assert_cmpuint (stache_test_http_n_requests (&f->http), ==, 2);
}

static void
test_no_message (Fixture       *f,
                 gconstpointer  data)
{
  g_autoptr(StacheLlmProvider) llm = create_llm (f, NULL);
  g_autoptr(StacheCompletion) completion = NULL;
  g_autoptr(GError) error = NULL;

  completion = stache_llm_provider_generate (llm, "Hello", NULL, NULL, NULL, &error);
  g_assert_null (completion);
  g_assert_error (error, STACHE_HTTP_ERROR, STACHE_HTTP_ERROR_MALFORMED_RESPONSE);
  g_test_message ("%s", error->message);
  g_assert_nonnull (strstr (error->message, "message"));
}

/* ---- streaming ---- */

static void
test_stream_round_trip (Fixture       *f,
                        gconstpointer  data)
{
  g_autoptr(StacheLlmProvider) llm = create_llm (f, "ollama_model", "llama3.2:1b",
                                                 "ollama_keep_alive", "5m", NULL);
  g_autoptr(StacheCompletion) completion = NULL;
  g_autoptr(JsonObject) options = json_object_new ();
  g_autoptr(GError) error = NULL;
  g_auto(GStrv) expected = reply_pieces ("What is Stache?");
  g_autofree char *joined = NULL;
  StacheTestTokens tokens;

  g_assert_true (stache_llm_provider_has_capability (llm, "streaming"));
  g_assert_true (stache_llm_provider_has_capability (llm, "generate"));

  stache_test_tokens_init (&tokens);
  json_object_set_int_member (options, "max_tokens", 64);
  json_object_set_double_member (options, "temperature", 0.25);
  completion = stache_llm_provider_generate_stream (llm, "What is Stache?", "You answer briefly.",
                                                    options, stache_test_tokens_add, &tokens,
                                                    NULL, &error);
  g_assert_no_error (error);
  g_assert_nonnull (completion);

  stache_test_tokens_assert (&tokens, (const char * const *) expected, STREAM_INTERVAL_MS);
  joined = stache_test_tokens_join (&tokens);
  g_assert_cmpstr (joined, ==, "You said: What is Stache?");
  g_assert_cmpstr (stache_completion_get_text (completion), ==, joined);
  g_assert_cmpstr (stache_completion_get_model (completion), ==, SERVED_CHAT_MODEL);
  g_assert_cmpstr (stache_completion_get_finish_reason (completion), ==, "stop");
  g_assert_cmpint (stache_completion_get_prompt_tokens (completion), ==, 26);
  g_assert_cmpint (stache_completion_get_completion_tokens (completion), ==, 9);

  /* The request of generate(), streamed */
  g_assert_cmpuint (stache_test_http_n_requests (&f->http), ==, 1);
  assert_json_equal (stache_test_http_body (&f->http, 0),
                     "{\"model\": \"llama3.2:1b\","
                     " \"messages\": [{\"role\": \"system\", \"content\": \"You answer briefly.\"},"
                     "              {\"role\": \"user\", \"content\": \"What is Stache?\"}],"
                     " \"stream\": true,"
                     " \"options\": {\"num_predict\": 64, \"temperature\": 0.25},"
                     " \"keep_alive\": \"5m\"}");

  stache_test_tokens_clear (&tokens);
}

static void
test_stream_error_line (Fixture       *f,
                        gconstpointer  data)
{
  g_autoptr(StacheLlmProvider) llm = create_llm (f, NULL);
  g_autoptr(StacheCompletion) completion = NULL;
  g_autoptr(GError) error = NULL;
  g_auto(GStrv) pieces = reply_pieces ("Tell me more");
  StacheTestTokens tokens;

  stache_test_tokens_init (&tokens);
  completion = stache_llm_provider_generate_stream (llm, "Tell me more", NULL, NULL,
                                                    stache_test_tokens_add, &tokens, NULL, &error);
  g_assert_null (completion);
  g_assert_error (error, STACHE_HTTP_ERROR, STACHE_HTTP_ERROR_SERVER);
  g_test_message ("%s", error->message);
  if (strstr (error->message, STREAM_ERROR_TEXT) == NULL)
    g_error ("The server's message is not in “%s”", error->message);
  g_assert_cmpuint (tokens.tokens->len, ==, 2);
  g_assert_cmpstr (g_ptr_array_index (tokens.tokens, 0), ==, pieces[0]);
  g_assert_cmpstr (g_ptr_array_index (tokens.tokens, 1), ==, pieces[1]);
  g_assert_cmpuint (stache_test_http_n_requests (&f->http), ==, 1);

  stache_test_tokens_clear (&tokens);
}

static void
test_stream_truncated (Fixture       *f,
                       gconstpointer  data)
{
  g_autoptr(StacheLlmProvider) llm = create_llm (f, NULL);
  g_autoptr(StacheCompletion) completion = NULL;
  g_autoptr(GError) error = NULL;
  StacheTestTokens tokens;

  stache_test_tokens_init (&tokens);
  completion = stache_llm_provider_generate_stream (llm, "Tell me more", NULL, NULL,
                                                    stache_test_tokens_add, &tokens, NULL, &error);
  g_assert_null (completion);
  g_assert_error (error, STACHE_HTTP_ERROR, STACHE_HTTP_ERROR_MALFORMED_RESPONSE);
  g_test_message ("%s", error->message);
  g_assert_nonnull (strstr (error->message, "done"));
  g_assert_cmpuint (tokens.tokens->len, ==, 2);

  stache_test_tokens_clear (&tokens);
}

static void
test_stream_cancelled (Fixture       *f,
                       gconstpointer  data)
{
  g_autoptr(StacheLlmProvider) llm = create_llm (f, NULL);

  /* Slow pieces (the rest of the stream takes about 1.2 s) */
  g_mutex_lock (&f->http.mutex);
  f->stream_interval_ms = STREAM_SLOW_MS;
  g_mutex_unlock (&f->http.mutex);
  stache_test_check_stream_cancelled (llm, 1.0);
}

/* ---- faults ---- */

static gboolean
fault_run (gpointer             fixture,
           const char * const  *settings,
           GCancellable        *cancellable,
           GError             **error)
{
  g_autoptr(StacheLlmProvider) llm = STACHE_LLM_PROVIDER (create (fixture, STACHE_PROVIDER_TYPE_LLM, settings));

  return stache_test_generate_hello (llm, cancellable, error);
}

STACHE_TEST_DEFINE_HTTP_API (Fixture, fault_api, fault_run, "llama runner process has terminated");

STACHE_TEST_DEFINE_FAULT_TESTS (Fixture, fault_api)

static void
test_invalid_url (void)
{
  const StacheProviderType types[] = { STACHE_PROVIDER_TYPE_LLM, STACHE_PROVIDER_TYPE_EMBEDDINGS };

  for (guint i = 0; i < G_N_ELEMENTS (types); i++)
    {
      g_autoptr(GError) error = NULL;
      g_autoptr(StacheSettings) settings = stache_settings_new_from_file (NULL, &error);
      g_autoptr(StacheProvider) provider = NULL;

      g_assert_no_error (error);
      stache_settings_set_string (settings, "ollama_url", "ftp://localhost:11434");

      provider = stache_plugin_loader_create_provider (loader, types[i], "ollama", settings, &error);
      g_assert_null (provider);
      g_assert_error (error, STACHE_ERROR, STACHE_ERROR_INVALID_SETTING);
      g_test_message ("%s", error->message);
      g_assert_nonnull (strstr (error->message, "OLLAMA_URL"));
    }
}

/* ---- main ---- */

#define ADD(path, scenario, func) \
  g_test_add (path, Fixture, GINT_TO_POINTER (scenario), fixture_setup, func, fixture_teardown)

int
main (int   argc,
      char *argv[])
{
  const char * const own_settings[] = {
    "OLLAMA_URL", "OLLAMA_MODEL", "OLLAMA_EMBEDDING_MODEL", "OLLAMA_KEEP_ALIVE",
    "OLLAMA_BATCH_SIZE",
  };
  int status;

  g_setenv ("STACHE_PLUGIN_PATH", g_getenv ("STACHE_TEST_BUILTIN_PLUGINS"), TRUE);
  /* No proxy may stand between the client and the loopback server */
  g_setenv ("GIO_USE_PROXY_RESOLVER", "dummy", TRUE);
  /* The developer's own Ollama settings must not reach the tests */
  for (guint i = 0; i < G_N_ELEMENTS (own_settings); i++)
    g_unsetenv (own_settings[i]);

  g_test_init (&argc, &argv, NULL);

  loader = stache_plugin_loader_new ();

  g_test_add_func ("/ollama/invalid-url", test_invalid_url);
  ADD ("/ollama/chat/round-trip", SCENARIO_NORMAL, test_chat_round_trip);
  ADD ("/ollama/chat/not-found", SCENARIO_NOT_FOUND, test_not_found);
  ADD ("/ollama/chat/retry", SCENARIO_SERVER_ERROR_ONCE, test_retry);
  ADD ("/ollama/chat/no-message", SCENARIO_NO_MESSAGE, test_no_message);
  ADD ("/ollama/embeddings/batches", SCENARIO_NORMAL, test_embeddings_batches);
  ADD ("/ollama/chat/stream", SCENARIO_NORMAL, test_stream_round_trip);
  ADD ("/ollama/chat/stream-error-line", SCENARIO_STREAM_ERROR, test_stream_error_line);
  ADD ("/ollama/chat/stream-truncated", SCENARIO_STREAM_TRUNCATED, test_stream_truncated);
  ADD ("/ollama/chat/stream-cancelled", SCENARIO_NORMAL, test_stream_cancelled);
  STACHE_TEST_ADD_FAULT_TESTS ("/ollama/chat", Fixture, GINT_TO_POINTER (SCENARIO_NORMAL),
                               fixture_setup, fixture_teardown);

  status = g_test_run ();

  g_clear_object (&loader);

  return status;
}

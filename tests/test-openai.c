/* test-openai.c: the `openai` LLM and embeddings providers
 *
 * SPDX-License-Identifier: LGPL-2.1-or-later
 *
 * Each test starts a SoupServer on the loopback interface (port 0: the
 * system picks one), in a thread of its own with its own GMainContext
 * pushed as thread-default, that plays the OpenAI REST API: it
 * checks every request against the documented shape (path, method,
 * `Authorization: Bearer test-key-xyz`, `Content-Type: application/json`,
 * the JSON members and their types) and answers with bodies shaped like
 * OpenAI's, or with OpenAI's error bodies. A request that breaks the API's
 * rules is answered 400 and recorded; every test ends by checking that none
 * did.
 *
 * The providers are created through the plugin loader from the build tree
 * (STACHE_TEST_BUILTIN_PLUGINS), as an application creates them, and used
 * through the public interface functions, which check what they return.
 */
#include <string.h>

#include <libsoup/soup.h>
#include <stache-plugin.h>

#include "stache-test-server.h"

#define TEST_KEY           "test-key-xyz"
#define SERVED_CHAT_MODEL  "gpt-4o-mini-2024-07-18"
#define SERVED_EMBED_MODEL "text-embedding-3-small"
#define DEFAULT_DIMENSIONS 4
#define BAD_REQUEST_TEXT   "This model's maximum context length is 8192 tokens. However, " \
                           "your messages resulted in 9001 tokens. Please reduce the length " \
                           "of the messages."

static StachePluginLoader *loader;

/* ---- the fake OpenAI server ---- */

typedef enum {
  SCENARIO_NORMAL,            /* answers every valid request */
  SCENARIO_NO_KEY,            /* like NORMAL, but expects no Authorization */
  SCENARIO_RATE_LIMIT_ONCE,   /* 429 with Retry-After: 1 first, then NORMAL */
  SCENARIO_BAD_REQUEST,       /* 400 with an OpenAI error body */
  SCENARIO_ECHO_AUTH,         /* 401 quoting the Authorization header back */
  SCENARIO_NO_CHOICES,        /* a chat completion without "choices" */
  SCENARIO_DUPLICATE_INDEX,   /* embeddings with one index twice */
  SCENARIO_RAGGED,            /* embeddings of different lengths */
  SCENARIO_WRONG_DIMENSIONS,  /* ignores the "dimensions" asked for */
  SCENARIO_STREAM_ERROR,      /* a streamed chat fails midway with an error chunk */
  SCENARIO_STREAM_TRUNCATED,  /* a streamed chat stops before its end */
} Scenario;

/* A streamed chat sends a piece every STREAM_INTERVAL_MS */
#define STREAM_INTERVAL_MS 30
#define STREAM_SLOW_MS     150
#define STREAM_ERROR_TEXT  "The server had an error while processing your request. Sorry about that!"

typedef struct {
  StacheTestHttp http;         /* first */
  Scenario       scenario;
  guint          stream_interval_ms;  /* under mutex */
} Fixture;

/* The vector the server gives @text: made of small multiples of 1/4, which
 * float, double and JSON represent exactly. */
static void
expected_vector (const char *text,
                 guint       dimensions,
                 float      *out)
{
  guint h = g_str_hash (text);

  for (guint k = 0; k < dimensions; k++)
    out[k] = (float) ((h >> (k % 24)) % 997) + 0.25f * (float) k - 100.0f;
}

/* Answers with OpenAI's error body */
static void
respond_error (SoupServerMessage *msg,
               guint              status,
               const char        *message,
               const char        *type,
               const char        *param,
               const char        *code)
{
  g_autoptr(JsonBuilder) b = json_builder_new ();
  g_autoptr(JsonNode) root = NULL;

  json_builder_begin_object (b);
  json_builder_set_member_name (b, "error");
  json_builder_begin_object (b);
  json_builder_set_member_name (b, "message");
  json_builder_add_string_value (b, message);
  json_builder_set_member_name (b, "type");
  json_builder_add_string_value (b, type);
  json_builder_set_member_name (b, "param");
  if (param != NULL)
    json_builder_add_string_value (b, param);
  else
    json_builder_add_null_value (b);
  json_builder_set_member_name (b, "code");
  if (code != NULL)
    json_builder_add_string_value (b, code);
  else
    json_builder_add_null_value (b);
  json_builder_end_object (b);
  json_builder_end_object (b);

  root = json_builder_get_root (b);
  stache_test_respond_json (msg, status, root);
}

/* Checks a POST /v1/chat/completions body; FALSE if it is not valid */
static gboolean
check_chat_request (Fixture    *f,
                    JsonObject *request)
{
  const char * const known[] = { "model", "messages", "max_tokens", "temperature", "stream",
                                 "stream_options", NULL };
  guint n_problems = f->http.problems->len;
  JsonNode *messages = json_object_get_member (request, "messages");
  JsonNode *node;
  gboolean stream = FALSE;

  stache_test_http_check_members (&f->http, "chat", request, known);

  node = json_object_get_member (request, "stream");
  if (node != NULL && (!JSON_NODE_HOLDS_VALUE (node) ||
                       json_node_get_value_type (node) != G_TYPE_BOOLEAN))
    stache_test_http_problem (&f->http, "chat: “stream” is not a boolean");
  else if (node != NULL)
    stream = json_node_get_boolean (node);

  node = json_object_get_member (request, "stream_options");
  if (node != NULL)
    {
      const char * const options_known[] = { "include_usage", NULL };
      JsonNode *usage;

      /* The real API refuses stream_options without "stream": true */
      if (!stream)
        stache_test_http_problem (&f->http, "chat: “stream_options” without “stream”: true");
      if (!JSON_NODE_HOLDS_OBJECT (node))
        stache_test_http_problem (&f->http, "chat: “stream_options” is not an object");
      else
        {
          stache_test_http_check_members (&f->http, "chat stream_options", json_node_get_object (node), options_known);
          usage = json_object_get_member (json_node_get_object (node), "include_usage");
          if (usage != NULL && (!JSON_NODE_HOLDS_VALUE (usage) ||
                                json_node_get_value_type (usage) != G_TYPE_BOOLEAN))
            stache_test_http_problem (&f->http, "chat: “stream_options.include_usage” is not a boolean");
        }
    }

  node = json_object_get_member (request, "model");
  if (!stache_test_json_is_string (node) || *json_node_get_string (node) == '\0')
    stache_test_http_problem (&f->http, "chat: “model” is not a non-empty string");

  if (messages == NULL || !JSON_NODE_HOLDS_ARRAY (messages) ||
      json_array_get_length (json_node_get_array (messages)) == 0)
    stache_test_http_problem (&f->http, "chat: “messages” is not a non-empty array");
  else
    {
      JsonArray *array = json_node_get_array (messages);

      for (guint i = 0; i < json_array_get_length (array); i++)
        {
          JsonNode *message = json_array_get_element (array, i);
          JsonObject *object;
          const char * const message_known[] = { "role", "content", NULL };
          const char * const roles[] = { "system", "user", "assistant", NULL };

          if (!JSON_NODE_HOLDS_OBJECT (message))
            {
              stache_test_http_problem (&f->http, "chat: messages[%u] is not an object", i);
              continue;
            }
          object = json_node_get_object (message);
          stache_test_http_check_members (&f->http, "chat message", object, message_known);
          node = json_object_get_member (object, "role");
          if (!stache_test_json_is_string (node) || !g_strv_contains (roles, json_node_get_string (node)))
            stache_test_http_problem (&f->http, "chat: messages[%u].role is not a known role", i);
          if (!stache_test_json_is_string (json_object_get_member (object, "content")))
            stache_test_http_problem (&f->http, "chat: messages[%u].content is not a string", i);
        }
    }

  node = json_object_get_member (request, "max_tokens");
  if (node != NULL && (!stache_test_json_is_integer (node) || json_node_get_int (node) < 1))
    stache_test_http_problem (&f->http, "chat: “max_tokens” is not an integer of at least 1");

  node = json_object_get_member (request, "temperature");
  if (node != NULL &&
      (!stache_test_json_is_number (node) || json_node_get_double (node) < 0 || json_node_get_double (node) > 2))
    stache_test_http_problem (&f->http, "chat: “temperature” is not a number from 0 to 2");

  return f->http.problems->len == n_problems;
}

/* Checks a POST /v1/embeddings body; FALSE if it is not valid */
static gboolean
check_embeddings_request (Fixture    *f,
                          JsonObject *request)
{
  const char * const known[] = { "model", "input", "dimensions", "encoding_format", "user", NULL };
  guint n_problems = f->http.problems->len;
  JsonNode *input = json_object_get_member (request, "input");
  JsonNode *node;

  stache_test_http_check_members (&f->http, "embeddings", request, known);

  node = json_object_get_member (request, "model");
  if (!stache_test_json_is_string (node) || *json_node_get_string (node) == '\0')
    stache_test_http_problem (&f->http, "embeddings: “model” is not a non-empty string");

  if (input == NULL || !JSON_NODE_HOLDS_ARRAY (input) ||
      json_array_get_length (json_node_get_array (input)) == 0 ||
      json_array_get_length (json_node_get_array (input)) > 2048)
    stache_test_http_problem (&f->http, "embeddings: “input” is not an array of 1 to 2048 items");
  else
    {
      JsonArray *array = json_node_get_array (input);

      for (guint i = 0; i < json_array_get_length (array); i++)
        {
          node = json_array_get_element (array, i);
          if (!stache_test_json_is_string (node) || *json_node_get_string (node) == '\0')
            stache_test_http_problem (&f->http, "embeddings: input[%u] is not a non-empty string", i);
        }
    }

  node = json_object_get_member (request, "dimensions");
  if (node != NULL && (!stache_test_json_is_integer (node) || json_node_get_int (node) < 1))
    stache_test_http_problem (&f->http, "embeddings: “dimensions” is not an integer of at least 1");

  return f->http.problems->len == n_problems;
}

/* The reply to @prompt, in the pieces a streamed answer sends: words,
 * each after the first with the space before it */
static GStrv
reply_pieces (const char *prompt)
{
  g_autofree char *reply = g_strdup_printf ("You said: %s", prompt);
  g_auto(GStrv) words = g_strsplit (reply, " ", -1);
  g_autoptr(GStrvBuilder) pieces = g_strv_builder_new ();

  for (guint i = 0; words[i] != NULL; i++)
    {
      g_autofree char *piece = g_strconcat (i > 0 ? " " : "", words[i], NULL);

      g_strv_builder_add (pieces, piece);
    }

  return g_strv_builder_end (pieces);
}

/* One Server-Sent Event: `data: <json>` and a blank line */
static char *
sse_data (JsonBuilder *b)
{
  g_autoptr(JsonNode) root = json_builder_get_root (b);
  g_autofree char *json = json_to_string (root, FALSE);

  return g_strdup_printf ("data: %s\n\n", json);
}

/* A chat.completion.chunk with @content (NULL: none) in its delta, the role
 * when @role, and @finish_reason (NULL: null) */
static char *
stream_chunk (const char *content,
              gboolean    role,
              const char *finish_reason)
{
  g_autoptr(JsonBuilder) b = json_builder_new ();

  json_builder_begin_object (b);
  json_builder_set_member_name (b, "id");
  json_builder_add_string_value (b, "chatcmpl-1");
  json_builder_set_member_name (b, "object");
  json_builder_add_string_value (b, "chat.completion.chunk");
  json_builder_set_member_name (b, "created");
  json_builder_add_int_value (b, 1721000000);
  json_builder_set_member_name (b, "model");
  json_builder_add_string_value (b, SERVED_CHAT_MODEL);
  json_builder_set_member_name (b, "system_fingerprint");
  json_builder_add_string_value (b, "fp_0ba0d124f1");
  json_builder_set_member_name (b, "choices");
  json_builder_begin_array (b);
  json_builder_begin_object (b);
  json_builder_set_member_name (b, "index");
  json_builder_add_int_value (b, 0);
  json_builder_set_member_name (b, "delta");
  json_builder_begin_object (b);
  if (role)
    {
      json_builder_set_member_name (b, "role");
      json_builder_add_string_value (b, "assistant");
    }
  if (content != NULL)
    {
      json_builder_set_member_name (b, "content");
      json_builder_add_string_value (b, content);
    }
  json_builder_end_object (b);
  json_builder_set_member_name (b, "logprobs");
  json_builder_add_null_value (b);
  json_builder_set_member_name (b, "finish_reason");
  if (finish_reason != NULL)
    json_builder_add_string_value (b, finish_reason);
  else
    json_builder_add_null_value (b);
  json_builder_end_object (b);
  json_builder_end_array (b);
  json_builder_set_member_name (b, "usage");
  json_builder_add_null_value (b);
  json_builder_end_object (b);

  return sse_data (b);
}

/* Answers a chat with "stream": true as OpenAI does: Server-Sent Events,
 * one piece of the reply per chunk */
static void
respond_chat_stream (Fixture           *f,
                     SoupServerMessage *msg,
                     JsonObject        *request)
{
  JsonArray *messages = json_object_get_array_member (request, "messages");
  JsonObject *last = json_array_get_object_element (messages, json_array_get_length (messages) - 1);
  g_auto(GStrv) pieces = reply_pieces (json_object_get_string_member (last, "content"));
  g_autoptr(GPtrArray) events = g_ptr_array_new_with_free_func (g_free);
  JsonObject *stream_options = json_object_has_member (request, "stream_options")
                                 ? json_object_get_object_member (request, "stream_options")
                                 : NULL;

  g_ptr_array_add (events, g_strdup (": keep-alive\n\n"));
  g_ptr_array_add (events, stream_chunk ("", TRUE, NULL));
  for (guint i = 0; pieces[i] != NULL; i++)
    {
      if (i == 2 && f->scenario == SCENARIO_STREAM_ERROR)
        {
          g_autofree char *message = NULL;

          message = g_strdup_printf ("data: {\"error\": {\"message\": \"%s\", "
                                     "\"type\": \"server_error\", \"param\": null, "
                                     "\"code\": null}}\n\n", STREAM_ERROR_TEXT);
          g_ptr_array_add (events, g_steal_pointer (&message));
          goto send;
        }
      if (i == 2 && f->scenario == SCENARIO_STREAM_TRUNCATED)
        goto send;
      g_ptr_array_add (events, stream_chunk (pieces[i], FALSE, NULL));
    }
  g_ptr_array_add (events, stream_chunk (NULL, FALSE, "stop"));

  if (stream_options != NULL && json_object_get_boolean_member_with_default (stream_options,
                                                                             "include_usage",
                                                                             FALSE))
    g_ptr_array_add (events,
                     g_strdup ("data: {\"id\":\"chatcmpl-1\",\"object\":\"chat.completion.chunk\","
                        "\"created\":1721000000,\"model\":\"" SERVED_CHAT_MODEL "\","
                        "\"choices\":[],\"usage\":{\"prompt_tokens\":21,"
                        "\"completion_tokens\":7,\"total_tokens\":28}}\n\n"));
  /* The last event comes in two pieces */
  g_ptr_array_add (events, g_strdup ("data: [DO"));
  g_ptr_array_add (events, g_strdup ("NE]\n\n"));

send:
  g_ptr_array_add (events, NULL);
  stache_test_server_stream (&f->http.ts, msg, "text/event-stream", (const char * const *) events->pdata,
                             f->stream_interval_ms);
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
  json_builder_set_member_name (b, "id");
  json_builder_add_string_value (b, "chatcmpl-1");
  json_builder_set_member_name (b, "object");
  json_builder_add_string_value (b, "chat.completion");
  json_builder_set_member_name (b, "created");
  json_builder_add_int_value (b, 1721000000);
  json_builder_set_member_name (b, "model");
  json_builder_add_string_value (b, SERVED_CHAT_MODEL);
  if (f->scenario != SCENARIO_NO_CHOICES)
    {
      json_builder_set_member_name (b, "choices");
      json_builder_begin_array (b);
      json_builder_begin_object (b);
      json_builder_set_member_name (b, "index");
      json_builder_add_int_value (b, 0);
      json_builder_set_member_name (b, "message");
      json_builder_begin_object (b);
      json_builder_set_member_name (b, "role");
      json_builder_add_string_value (b, "assistant");
      json_builder_set_member_name (b, "content");
      json_builder_add_string_value (b, reply);
      json_builder_end_object (b);
      json_builder_set_member_name (b, "logprobs");
      json_builder_add_null_value (b);
      json_builder_set_member_name (b, "finish_reason");
      json_builder_add_string_value (b, "stop");
      json_builder_end_object (b);
      json_builder_end_array (b);
    }
  json_builder_set_member_name (b, "usage");
  json_builder_begin_object (b);
  json_builder_set_member_name (b, "prompt_tokens");
  json_builder_add_int_value (b, 21);
  json_builder_set_member_name (b, "completion_tokens");
  json_builder_add_int_value (b, 7);
  json_builder_set_member_name (b, "total_tokens");
  json_builder_add_int_value (b, 28);
  json_builder_end_object (b);
  json_builder_end_object (b);

  root = json_builder_get_root (b);
  stache_test_respond_json (msg, SOUP_STATUS_OK, root);
}

static void
respond_embeddings (Fixture           *f,
                    SoupServerMessage *msg,
                    JsonObject        *request)
{
  JsonArray *input = json_object_get_array_member (request, "input");
  guint n = json_array_get_length (input);
  guint dimensions = DEFAULT_DIMENSIONS;
  g_autoptr(JsonBuilder) b = json_builder_new ();
  g_autoptr(JsonNode) root = NULL;
  gint64 tokens = 0;

  if (json_object_has_member (request, "dimensions") && f->scenario != SCENARIO_WRONG_DIMENSIONS)
    dimensions = (guint) json_object_get_int_member (request, "dimensions");

  json_builder_begin_object (b);
  json_builder_set_member_name (b, "object");
  json_builder_add_string_value (b, "list");
  json_builder_set_member_name (b, "data");
  json_builder_begin_array (b);
  /* Reversed, to prove the client places vectors by "index" */
  for (guint i = n; i-- > 0;)
    {
      const char *text = json_array_get_string_element (input, i);
      guint index = i;
      guint length = dimensions;
      g_autofree float *vector = g_new (float, dimensions);

      tokens += (gint64) strlen (text) / 4 + 1;
      if (f->scenario == SCENARIO_DUPLICATE_INDEX && n > 1 && i == 0)
        index = 1;
      if (f->scenario == SCENARIO_RAGGED && n > 1 && i == 0)
        length = dimensions - 1;

      expected_vector (text, dimensions, vector);
      json_builder_begin_object (b);
      json_builder_set_member_name (b, "object");
      json_builder_add_string_value (b, "embedding");
      json_builder_set_member_name (b, "index");
      json_builder_add_int_value (b, index);
      json_builder_set_member_name (b, "embedding");
      json_builder_begin_array (b);
      for (guint k = 0; k < length; k++)
        json_builder_add_double_value (b, vector[k]);
      json_builder_end_array (b);
      json_builder_end_object (b);
    }
  json_builder_end_array (b);
  json_builder_set_member_name (b, "model");
  json_builder_add_string_value (b, SERVED_EMBED_MODEL);
  json_builder_set_member_name (b, "usage");
  json_builder_begin_object (b);
  json_builder_set_member_name (b, "prompt_tokens");
  json_builder_add_int_value (b, tokens);
  json_builder_set_member_name (b, "total_tokens");
  json_builder_add_int_value (b, tokens);
  json_builder_end_object (b);
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
  const char *authorization = soup_message_headers_get_one (headers, "Authorization");
  g_autoptr(JsonParser) parser = json_parser_new ();
  gboolean is_chat = g_strcmp0 (path, "/v1/chat/completions") == 0;
  gboolean is_embeddings = g_strcmp0 (path, "/v1/embeddings") == 0;
  guint n_problems = stache_test_http_begin (&f->http, msg, path);
  JsonObject *request;

  if (f->scenario == SCENARIO_ECHO_AUTH)
    {
      /* A careless server: the whole header comes back, twice */
      g_autofree char *message =
        g_strdup_printf ("Incorrect API key provided: %s. You can find your API key at "
                         "https://platform.openai.com/account/api-keys. (Authorization: %s)",
                         authorization != NULL && g_str_has_prefix (authorization, "Bearer ")
                           ? authorization + strlen ("Bearer ") : "none",
                         authorization != NULL ? authorization : "none");

      respond_error (msg, SOUP_STATUS_UNAUTHORIZED, message, "invalid_request_error", NULL,
                     "invalid_api_key");
      goto out;
    }

  if (!is_chat && !is_embeddings)
    {
      g_autofree char *message = g_strdup_printf ("Invalid URL (%s %s)",
                                                  soup_server_message_get_method (msg), path);

      stache_test_http_problem (&f->http, "unknown path %s", path);
      respond_error (msg, SOUP_STATUS_NOT_FOUND, message, "invalid_request_error", NULL, NULL);
      goto out;
    }

  if (g_strcmp0 (soup_server_message_get_method (msg), "POST") != 0)
    stache_test_http_problem (&f->http, "%s: method %s instead of POST", path,
                              soup_server_message_get_method (msg));

  if (f->scenario == SCENARIO_NO_KEY)
    {
      if (authorization != NULL)
        stache_test_http_problem (&f->http, "%s: an Authorization header without a key configured",
                                  path);
    }
  else if (g_strcmp0 (authorization, "Bearer " TEST_KEY) != 0)
    stache_test_http_problem (&f->http, "%s: Authorization is “%s”", path,
                              authorization ? authorization : "(none)");

  request = stache_test_http_parse (&f->http, msg, path, parser);
  if (request != NULL && (is_chat ? check_chat_request (f, request)
                                  : check_embeddings_request (f, request)))
    g_ptr_array_add (f->http.bodies, json_node_copy (json_parser_get_root (parser)));

  if (f->http.problems->len != n_problems)
    {
      respond_error (msg, SOUP_STATUS_BAD_REQUEST,
                     g_ptr_array_index (f->http.problems, f->http.problems->len - 1),
                     "invalid_request_error", NULL, NULL);
      goto out;
    }

  if (stache_test_server_fault (&f->http.ts, f->http.fault, msg, f->http.n_requests,
                                "{\"error\": {\"message\": \"The server had an error while "
                                "processing your request.\", \"type\": \"server_error\", "
                                "\"param\": null, \"code\": null}}"))
    goto out;

  switch (f->scenario)
    {
    case SCENARIO_RATE_LIMIT_ONCE:
      if (f->http.n_requests == 1)
        {
          soup_message_headers_replace (soup_server_message_get_response_headers (msg),
                                        "Retry-After", "1");
          respond_error (msg, 429 /* Too Many Requests */,
                         "Rate limit reached for requests per min (RPM): Limit 3, Used 3, "
                         "Requested 1. Please try again in 1s.",
                         "requests", "requests", "rate_limit_exceeded");
          goto out;
        }
      break;

    case SCENARIO_BAD_REQUEST:
      respond_error (msg, SOUP_STATUS_BAD_REQUEST, BAD_REQUEST_TEXT,
                     "invalid_request_error", "messages", "context_length_exceeded");
      goto out;

    case SCENARIO_NORMAL:
    case SCENARIO_NO_KEY:
    case SCENARIO_ECHO_AUTH:
    case SCENARIO_NO_CHOICES:
    case SCENARIO_DUPLICATE_INDEX:
    case SCENARIO_RAGGED:
    case SCENARIO_WRONG_DIMENSIONS:
    case SCENARIO_STREAM_ERROR:
    case SCENARIO_STREAM_TRUNCATED:
    default:
      break;
    }

  if (is_chat && json_object_get_boolean_member_with_default (request, "stream", FALSE))
    respond_chat_stream (f, msg, request);
  else if (is_chat)
    respond_chat (f, msg, request);
  else
    respond_embeddings (f, msg, request);

out:
  g_mutex_unlock (&f->http.mutex);
}

static void
fixture_setup (Fixture       *f,
               gconstpointer  data)
{
  f->scenario = GPOINTER_TO_INT (data);
  f->stream_interval_ms = STREAM_INTERVAL_MS;
  stache_test_http_start (&f->http, "openai", "/v1", handle_request, f);
}

static void
fixture_teardown (Fixture       *f,
                  gconstpointer  data)
{
  stache_test_http_stop (&f->http);
}

/* ---- creating providers ---- */

/* A provider of @type with settings that point at the fake server, plus
 * the NULL-terminated key/value pairs @extra */
static StacheProvider *
create (Fixture            *f,
        StacheProviderType  type,
        const char * const *extra)
{
  const char * const base[] = {
    "openai_base_url", f->http.base_url, "openai_api_key", TEST_KEY, "http_backoff_ms", "10", NULL,
  };

  return stache_test_create_provider (loader, type, "openai", base, extra);
}

static StacheProvider *
create_va (Fixture            *f,
           StacheProviderType  type,
           va_list             args)
{
  g_autoptr(GPtrArray) extra = stache_test_pairs_va (args);

  return create (f, type, (const char * const *) extra->pdata);
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

/* Creating a provider of @type with the setting @key at @value fails
 * with a message that contains @needle; returns the error */
static GError *
create_fails (StacheProviderType  type,
              const char         *key,
              const char         *value,
              const char         *needle)
{
  g_autoptr(GError) error = NULL;
  g_autoptr(StacheSettings) settings = stache_settings_new_from_file (NULL, &error);
  g_autoptr(StacheProvider) provider = NULL;

  g_assert_no_error (error);
  stache_settings_set_string (settings, "openai_api_key", TEST_KEY);
  stache_settings_set_string (settings, key, value);

  provider = stache_plugin_loader_create_provider (loader, type, "openai", settings, &error);
  g_assert_null (provider);
  g_assert_nonnull (error);
  if (strstr (error->message, needle) == NULL)
    g_error ("“%s” is not in the error “%s”", needle, error->message);
  g_assert_null (strstr (error->message, TEST_KEY));

  return g_steal_pointer (&error);
}

/* Checks that @values holds the server's vectors of @texts, in order */
static void
assert_vectors (GArray             *values,
                const char * const *texts,
                guint               dimensions)
{
  guint n = g_strv_length ((char **) texts);
  g_autofree float *expected = g_new (float, dimensions);

  g_assert_cmpuint (g_array_get_element_size (values), ==, sizeof (float));
  g_assert_cmpuint (values->len, ==, n * dimensions);

  for (guint i = 0; i < n; i++)
    {
      expected_vector (texts[i], dimensions, expected);
      for (guint k = 0; k < dimensions; k++)
        g_assert_cmpfloat (g_array_index (values, float, i * dimensions + k), ==, expected[k]);
    }
}

/* Checks that request @i of @f embedded exactly @texts */
static void
assert_input (Fixture            *f,
              guint               i,
              const char * const *texts)
{
  JsonObject *body = stache_test_http_body (&f->http, i);
  JsonArray *input = json_object_get_array_member (body, "input");
  guint n = g_strv_length ((char **) texts);

  g_assert_nonnull (input);
  g_assert_cmpuint (json_array_get_length (input), ==, n);
  for (guint k = 0; k < n; k++)
    g_assert_cmpstr (json_array_get_string_element (input, k), ==, texts[k]);
}

/* ---- chat ---- */

static void
test_chat_round_trip (Fixture       *f,
                      gconstpointer  data)
{
  g_autoptr(StacheLlmProvider) llm = NULL;
  g_autoptr(StacheCompletion) completion = NULL;
  g_autoptr(JsonObject) options = json_object_new ();
  g_autoptr(GError) error = NULL;
  g_autofree char *slashed = g_strconcat (f->http.base_url, "/", NULL);
  JsonObject *body;
  JsonArray *messages;
  JsonObject *message;

  /* A trailing slash on the base URL is tolerated */
  llm = create_llm (f, "openai_model", "test-chat-model", "openai_base_url", slashed, NULL);
  g_assert_true (stache_llm_provider_has_capability (llm, "generate"));

  json_object_set_int_member (options, "max_tokens", 64);
  json_object_set_string_member (options, "some_other_engine_option", "ignored");
  completion = stache_llm_provider_generate (llm, "What is Stache?", "You answer briefly.",
                                             options, NULL, &error);
  g_assert_no_error (error);
  g_assert_nonnull (completion);

  g_assert_cmpstr (stache_completion_get_text (completion), ==, "You said: What is Stache?");
  g_assert_cmpstr (stache_completion_get_model (completion), ==, SERVED_CHAT_MODEL);
  g_assert_cmpstr (stache_completion_get_finish_reason (completion), ==, "stop");
  g_assert_cmpint (stache_completion_get_prompt_tokens (completion), ==, 21);
  g_assert_cmpint (stache_completion_get_completion_tokens (completion), ==, 7);

  g_assert_cmpuint (stache_test_http_n_requests (&f->http), ==, 1);
  body = stache_test_http_body (&f->http, 0);
  g_assert_cmpstr (json_object_get_string_member (body, "model"), ==, "test-chat-model");
  g_assert_cmpint (json_object_get_int_member (body, "max_tokens"), ==, 64);
  g_assert_false (json_object_has_member (body, "temperature"));
  messages = json_object_get_array_member (body, "messages");
  g_assert_cmpuint (json_array_get_length (messages), ==, 2);
  message = json_array_get_object_element (messages, 0);
  g_assert_cmpstr (json_object_get_string_member (message, "role"), ==, "system");
  g_assert_cmpstr (json_object_get_string_member (message, "content"), ==, "You answer briefly.");
  message = json_array_get_object_element (messages, 1);
  g_assert_cmpstr (json_object_get_string_member (message, "role"), ==, "user");
  g_assert_cmpstr (json_object_get_string_member (message, "content"), ==, "What is Stache?");
}

static void
test_chat_options (Fixture       *f,
                   gconstpointer  data)
{
  g_autoptr(StacheLlmProvider) llm = create_llm (f, NULL);
  g_autoptr(StacheCompletion) completion = NULL;
  g_autoptr(StacheCompletion) again = NULL;
  g_autoptr(JsonObject) options = json_object_new ();
  g_autoptr(JsonObject) bad = json_object_new ();
  g_autoptr(GError) error = NULL;
  JsonObject *body;

  /* No system prompt, no options: one user message, the default model */
  completion = stache_llm_provider_generate (llm, "Hello", NULL, NULL, NULL, &error);
  g_assert_no_error (error);
  g_assert_cmpstr (stache_completion_get_text (completion), ==, "You said: Hello");
  body = stache_test_http_body (&f->http, 0);
  g_assert_cmpstr (json_object_get_string_member (body, "model"), ==, "gpt-4o-mini");
  g_assert_cmpuint (json_array_get_length (json_object_get_array_member (body, "messages")), ==, 1);
  g_assert_false (json_object_has_member (body, "max_tokens"));
  g_assert_false (json_object_has_member (body, "temperature"));

  /* temperature, and model replacing the configured one for one call */
  json_object_set_double_member (options, "temperature", 0.25);
  json_object_set_string_member (options, "model", "gpt-4o");
  again = stache_llm_provider_generate (llm, "Hello again", "", options, NULL, &error);
  g_assert_no_error (error);
  body = stache_test_http_body (&f->http, 1);
  g_assert_cmpstr (json_object_get_string_member (body, "model"), ==, "gpt-4o");
  g_assert_cmpfloat (json_object_get_double_member (body, "temperature"), ==, 0.25);
  g_assert_cmpuint (json_array_get_length (json_object_get_array_member (body, "messages")), ==, 1);

  /* A malformed option is refused before any request */
  json_object_set_string_member (bad, "max_tokens", "many");
  g_assert_null (stache_llm_provider_generate (llm, "Hello", NULL, bad, NULL, &error));
  g_assert_error (error, STACHE_ERROR, STACHE_ERROR_INVALID_ARGUMENT);
  g_test_message ("%s", error->message);
  g_assert_nonnull (strstr (error->message, "max_tokens"));
  g_assert_cmpuint (stache_test_http_n_requests (&f->http), ==, 2);
}

static void
test_chat_no_key (Fixture       *f,
                  gconstpointer  data)
{
  /* A local server needs no key: no Authorization header is sent */
  g_autoptr(StacheLlmProvider) llm = create_llm (f, "openai_api_key", "", NULL);
  g_autoptr(StacheCompletion) completion = NULL;
  g_autoptr(GError) error = NULL;

  completion = stache_llm_provider_generate (llm, "Hi", NULL, NULL, NULL, &error);
  g_assert_no_error (error);
  g_assert_cmpstr (stache_completion_get_text (completion), ==, "You said: Hi");
  g_assert_cmpuint (stache_test_http_n_requests (&f->http), ==, 1);
}

/* ---- streamed chat ---- */

static void
test_stream_round_trip (Fixture       *f,
                        gconstpointer  data)
{
  g_autoptr(StacheLlmProvider) llm = create_llm (f, "openai_model", "test-chat-model", NULL);
  g_autoptr(StacheCompletion) completion = NULL;
  g_autoptr(JsonObject) options = json_object_new ();
  g_autoptr(GError) error = NULL;
  g_auto(GStrv) expected = reply_pieces ("What is Stache?");
  g_autofree char *joined = NULL;
  StacheTestTokens tokens;
  JsonObject *body;

  g_assert_true (stache_llm_provider_has_capability (llm, "streaming"));
  g_assert_true (stache_llm_provider_has_capability (llm, "generate"));

  stache_test_tokens_init (&tokens);
  json_object_set_int_member (options, "max_tokens", 64);
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
  g_assert_cmpint (stache_completion_get_prompt_tokens (completion), ==, 21);
  g_assert_cmpint (stache_completion_get_completion_tokens (completion), ==, 7);

  /* The same request as generate(), plus the stream members */
  g_assert_cmpuint (stache_test_http_n_requests (&f->http), ==, 1);
  body = stache_test_http_body (&f->http, 0);
  g_assert_cmpstr (json_object_get_string_member (body, "model"), ==, "test-chat-model");
  g_assert_cmpint (json_object_get_int_member (body, "max_tokens"), ==, 64);
  g_assert_cmpuint (json_array_get_length (json_object_get_array_member (body, "messages")), ==, 2);
  g_assert_true (json_object_get_boolean_member (body, "stream"));
  g_assert_true (json_object_get_boolean_member (json_object_get_object_member (body,
                                                                                "stream_options"),
                                                 "include_usage"));

  stache_test_tokens_clear (&tokens);
}

static void
test_stream_error_event (Fixture       *f,
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
    g_error ("The service's message is not in “%s”", error->message);
  g_assert_null (strstr (error->message, TEST_KEY));
  /* What came before the error was given */
  g_assert_cmpuint (tokens.tokens->len, ==, 2);
  g_assert_cmpstr (g_ptr_array_index (tokens.tokens, 0), ==, pieces[0]);
  g_assert_cmpstr (g_ptr_array_index (tokens.tokens, 1), ==, pieces[1]);
  /* Not retried: the caller has seen part of the answer */
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
  g_assert_cmpuint (tokens.tokens->len, ==, 2);

  stache_test_tokens_clear (&tokens);
}

static void
test_stream_cancelled (Fixture       *f,
                       gconstpointer  data)
{
  g_autoptr(StacheLlmProvider) llm = create_llm (f, NULL);

  /* Slow pieces (the rest of the stream takes about 1.5 s) */
  g_mutex_lock (&f->http.mutex);
  f->stream_interval_ms = STREAM_SLOW_MS;
  g_mutex_unlock (&f->http.mutex);
  stache_test_check_stream_cancelled (llm, 1.0);
}

/* ---- embeddings ---- */

static void
test_embeddings_batches (Fixture       *f,
                         gconstpointer  data)
{
  const char * const texts[] = {
    "zero", "one", "two", "three", "four", "five", "six", "seven", "eight", "nine", NULL
  };
  g_autoptr(StacheEmbeddingProvider) embedder = create_embedder (f, "openai_batch_size", "3",
                                                                 NULL);
  g_autoptr(GArray) values = NULL;
  g_autoptr(GError) error = NULL;

  g_assert_true (stache_embedding_provider_has_capability (embedder, "batch"));
  /* Not known before the first answer */
  g_assert_cmpuint (stache_embedding_provider_get_dimensions (embedder), ==, 0);

  values = stache_embedding_provider_embed_batch (embedder, texts, NULL, &error);
  g_assert_no_error (error);
  assert_vectors (values, texts, DEFAULT_DIMENSIONS);
  g_assert_cmpuint (stache_embedding_provider_get_dimensions (embedder), ==, DEFAULT_DIMENSIONS);

  /* 3 + 3 + 3 + 1, in order */
  g_assert_cmpuint (stache_test_http_n_requests (&f->http), ==, 4);
  assert_input (f, 0, (const char * const[]) { "zero", "one", "two", NULL });
  assert_input (f, 1, (const char * const[]) { "three", "four", "five", NULL });
  assert_input (f, 2, (const char * const[]) { "six", "seven", "eight", NULL });
  assert_input (f, 3, (const char * const[]) { "nine", NULL });
  for (guint i = 0; i < 4; i++)
    {
      JsonObject *body = stache_test_http_body (&f->http, i);

      g_assert_cmpstr (json_object_get_string_member (body, "model"), ==, "text-embedding-3-small");
      g_assert_false (json_object_has_member (body, "dimensions"));
      g_mutex_lock (&f->http.mutex);
      g_assert_cmpstr (g_ptr_array_index (f->http.paths, i), ==, "/v1/embeddings");
      g_mutex_unlock (&f->http.mutex);
    }
}

static void
test_embeddings_single (Fixture       *f,
                        gconstpointer  data)
{
  const char * const texts[] = { "a lone text", NULL };
  g_autoptr(StacheEmbeddingProvider) embedder =
    create_embedder (f, "openai_embedding_model", "nomic-embed-text", NULL);
  g_autoptr(GArray) values = NULL;
  g_autoptr(GError) error = NULL;

  values = stache_embedding_provider_embed (embedder, texts[0], NULL, &error);
  g_assert_no_error (error);
  assert_vectors (values, texts, DEFAULT_DIMENSIONS);
  g_assert_cmpuint (stache_test_http_n_requests (&f->http), ==, 1);
  assert_input (f, 0, texts);
  g_assert_cmpstr (json_object_get_string_member (stache_test_http_body (&f->http, 0), "model"), ==,
                   "nomic-embed-text");
}

static void
test_embeddings_byte_limit (Fixture       *f,
                            gconstpointer  data)
{
  const char * const texts[] = {
    "ééééé",                                 /* 10 bytes, 5 characters */
    "0123456789",                            /* 10 bytes: 20 with the one before */
    "abcde",                                 /* 5 */
    "a text that is longer than twenty bytes on its own",  /* over the limit */
    "z",
    NULL
  };
  g_autoptr(StacheEmbeddingProvider) embedder = create_embedder (f, "openai_batch_bytes", "20",
                                                                 NULL);
  g_autoptr(GArray) values = NULL;
  g_autoptr(GError) error = NULL;

  values = stache_embedding_provider_embed_batch (embedder, texts, NULL, &error);
  g_assert_no_error (error);
  assert_vectors (values, texts, DEFAULT_DIMENSIONS);

  g_assert_cmpuint (stache_test_http_n_requests (&f->http), ==, 4);
  assert_input (f, 0, (const char * const[]) { texts[0], texts[1], NULL });
  assert_input (f, 1, (const char * const[]) { texts[2], NULL });
  assert_input (f, 2, (const char * const[]) { texts[3], NULL });
  assert_input (f, 3, (const char * const[]) { texts[4], NULL });
}

static void
test_embeddings_dimensions (Fixture       *f,
                            gconstpointer  data)
{
  const char * const texts[] = { "alpha", "beta", "gamma", NULL };
  g_autoptr(StacheEmbeddingProvider) embedder = create_embedder (f, "openai_dimensions", "8",
                                                                 NULL);
  g_autoptr(GArray) values = NULL;
  g_autoptr(GError) error = NULL;

  /* Known from the start */
  g_assert_cmpuint (stache_embedding_provider_get_dimensions (embedder), ==, 8);

  values = stache_embedding_provider_embed_batch (embedder, texts, NULL, &error);
  g_assert_no_error (error);
  assert_vectors (values, texts, 8);
  g_assert_cmpuint (stache_embedding_provider_get_dimensions (embedder), ==, 8);
  g_assert_cmpuint (stache_test_http_n_requests (&f->http), ==, 1);
  g_assert_cmpint (json_object_get_int_member (stache_test_http_body (&f->http, 0), "dimensions"), ==, 8);
}

static void
test_embeddings_wrong_dimensions (Fixture       *f,
                                  gconstpointer  data)
{
  const char * const texts[] = { "alpha", "beta", NULL };
  g_autoptr(StacheEmbeddingProvider) embedder = create_embedder (f, "openai_dimensions", "8",
                                                                 NULL);
  g_autoptr(GArray) values = NULL;
  g_autoptr(GError) error = NULL;

  values = stache_embedding_provider_embed_batch (embedder, texts, NULL, &error);
  g_assert_null (values);
  g_assert_error (error, STACHE_HTTP_ERROR, STACHE_HTTP_ERROR_MALFORMED_RESPONSE);
  g_test_message ("%s", error->message);
  g_assert_nonnull (strstr (error->message, "openai_dimensions"));
}

static void
test_embeddings_duplicate_index (Fixture       *f,
                                 gconstpointer  data)
{
  const char * const texts[] = { "alpha", "beta", "gamma", NULL };
  g_autoptr(StacheEmbeddingProvider) embedder = create_embedder (f, NULL);
  g_autoptr(GArray) values = NULL;
  g_autoptr(GError) error = NULL;

  values = stache_embedding_provider_embed_batch (embedder, texts, NULL, &error);
  g_assert_null (values);
  g_assert_error (error, STACHE_HTTP_ERROR, STACHE_HTTP_ERROR_MALFORMED_RESPONSE);
  g_test_message ("%s", error->message);
  g_assert_nonnull (strstr (error->message, "index 1"));
  /* Nothing was learnt from a bad answer */
  g_assert_cmpuint (stache_embedding_provider_get_dimensions (embedder), ==, 0);
}

static void
test_embeddings_ragged (Fixture       *f,
                        gconstpointer  data)
{
  const char * const texts[] = { "alpha", "beta", "gamma", NULL };
  g_autoptr(StacheEmbeddingProvider) embedder = create_embedder (f, NULL);
  g_autoptr(GArray) values = NULL;
  g_autoptr(GError) error = NULL;

  values = stache_embedding_provider_embed_batch (embedder, texts, NULL, &error);
  g_assert_null (values);
  g_assert_error (error, STACHE_HTTP_ERROR, STACHE_HTTP_ERROR_MALFORMED_RESPONSE);
  g_test_message ("%s", error->message);
  g_assert_nonnull (strstr (error->message, "embedding"));
}

static void
test_embeddings_cancelled (Fixture       *f,
                           gconstpointer  data)
{
  const char * const texts[] = { "alpha", NULL };
  g_autoptr(StacheEmbeddingProvider) embedder = create_embedder (f, NULL);
  g_autoptr(GCancellable) cancellable = g_cancellable_new ();
  g_autoptr(GArray) values = NULL;
  g_autoptr(GError) error = NULL;

  g_cancellable_cancel (cancellable);
  values = stache_embedding_provider_embed_batch (embedder, texts, cancellable, &error);
  g_assert_null (values);
  g_assert_error (error, G_IO_ERROR, G_IO_ERROR_CANCELLED);
  g_assert_cmpuint (stache_test_http_n_requests (&f->http), ==, 0);
}

/* Several threads share one provider, as the core's workers do */
typedef struct {
  StacheEmbeddingProvider *embedder;
  guint                    seed;
} ThreadData;

static gpointer
embed_in_thread (gpointer user_data)
{
  ThreadData *data = user_data;

  for (guint round = 0; round < 3; round++)
    {
      g_autoptr(GPtrArray) texts = g_ptr_array_new_with_free_func (g_free);
      g_autoptr(GArray) values = NULL;
      g_autoptr(GError) error = NULL;

      for (guint i = 0; i < 5; i++)
        g_ptr_array_add (texts, g_strdup_printf ("thread %u round %u text %u", data->seed, round, i));
      g_ptr_array_add (texts, NULL);

      values = stache_embedding_provider_embed_batch (data->embedder,
                                                      (const char * const *) texts->pdata,
                                                      NULL, &error);
      g_assert_no_error (error);
      assert_vectors (values, (const char * const *) texts->pdata, DEFAULT_DIMENSIONS);
    }

  return NULL;
}

static void
test_embeddings_threads (Fixture       *f,
                         gconstpointer  data)
{
  g_autoptr(StacheEmbeddingProvider) embedder = create_embedder (f, "openai_batch_size", "2",
                                                                 NULL);
  ThreadData thread_data[4];
  GThread *threads[4];

  for (guint i = 0; i < G_N_ELEMENTS (threads); i++)
    {
      thread_data[i].embedder = embedder;
      thread_data[i].seed = i;
      threads[i] = g_thread_new ("embed", embed_in_thread, &thread_data[i]);
    }
  for (guint i = 0; i < G_N_ELEMENTS (threads); i++)
    g_thread_join (threads[i]);

  /* 4 threads × 3 rounds × (2 + 2 + 1) */
  g_assert_cmpuint (stache_test_http_n_requests (&f->http), ==, 4 * 3 * 3);
  g_assert_cmpuint (stache_embedding_provider_get_dimensions (embedder), ==, DEFAULT_DIMENSIONS);
}

/* ---- errors ---- */

static void
test_retry_after (Fixture       *f,
                  gconstpointer  data)
{
  const char * const texts[] = { "patience", NULL };
  g_autoptr(StacheEmbeddingProvider) embedder = create_embedder (f, NULL);
  g_autoptr(GArray) values = NULL;
  g_autoptr(GError) error = NULL;
  gint64 waited;

  values = stache_embedding_provider_embed_batch (embedder, texts, NULL, &error);
  g_assert_no_error (error);
  assert_vectors (values, texts, DEFAULT_DIMENSIONS);

  /* With http_backoff_ms at 10, only Retry-After explains a wait of 1 s */
  g_assert_cmpuint (stache_test_http_n_requests (&f->http), ==, 2);
  g_mutex_lock (&f->http.mutex);
  waited = g_array_index (f->http.times, gint64, 1) - g_array_index (f->http.times, gint64, 0);
  g_mutex_unlock (&f->http.mutex);
  g_assert_cmpint (waited, >=, 900 * G_TIME_SPAN_MILLISECOND);
}

static void
test_bad_request (Fixture       *f,
                  gconstpointer  data)
{
  g_autoptr(StacheLlmProvider) llm = create_llm (f, NULL);
  g_autoptr(StacheCompletion) completion = NULL;
  g_autoptr(GError) error = NULL;

  completion = stache_llm_provider_generate (llm, "A very long question", NULL, NULL, NULL, &error);
  g_assert_null (completion);
  g_assert_error (error, STACHE_HTTP_ERROR, STACHE_HTTP_ERROR_CLIENT);
  g_test_message ("%s", error->message);
  if (strstr (error->message, "maximum context length is 8192 tokens") == NULL)
    g_error ("The service's message is not in “%s”", error->message);
  g_assert_nonnull (strstr (error->message, "400"));
  g_assert_null (strstr (error->message, TEST_KEY));
  /* A 4xx is never retried */
  g_assert_cmpuint (stache_test_http_n_requests (&f->http), ==, 1);
}

static void
test_no_choices (Fixture       *f,
                 gconstpointer  data)
{
  g_autoptr(StacheLlmProvider) llm = create_llm (f, NULL);
  g_autoptr(StacheCompletion) completion = NULL;
  g_autoptr(GError) error = NULL;

  completion = stache_llm_provider_generate (llm, "Hello", NULL, NULL, NULL, &error);
  g_assert_null (completion);
  g_assert_error (error, STACHE_HTTP_ERROR, STACHE_HTTP_ERROR_MALFORMED_RESPONSE);
  g_test_message ("%s", error->message);
  g_assert_nonnull (strstr (error->message, "choices"));
}

static void
test_key_echo (Fixture       *f,
               gconstpointer  data)
{
  const char * const texts[] = { "secret stuff", NULL };
  g_autoptr(StacheLlmProvider) llm = create_llm (f, NULL);
  g_autoptr(StacheEmbeddingProvider) embedder = create_embedder (f, NULL);
  g_autoptr(StacheCompletion) completion = NULL;
  g_autoptr(GArray) values = NULL;
  g_autoptr(GError) error = NULL;
  g_autoptr(GError) embed_error = NULL;

  completion = stache_llm_provider_generate (llm, "Hello", NULL, NULL, NULL, &error);
  g_assert_null (completion);
  g_assert_error (error, STACHE_HTTP_ERROR, STACHE_HTTP_ERROR_CLIENT);
  g_test_message ("%s", error->message);
  g_assert_nonnull (strstr (error->message, "Incorrect API key provided"));
  if (strstr (error->message, TEST_KEY) != NULL)
    g_error ("The key leaked into “%s”", error->message);

  values = stache_embedding_provider_embed_batch (embedder, texts, NULL, &embed_error);
  g_assert_null (values);
  g_assert_error (embed_error, STACHE_HTTP_ERROR, STACHE_HTTP_ERROR_CLIENT);
  g_test_message ("%s", embed_error->message);
  if (strstr (embed_error->message, TEST_KEY) != NULL)
    g_error ("The key leaked into “%s”", embed_error->message);
}

/* ---- faults, through a chat ---- */

static gboolean
fault_run (gpointer             fixture,
           const char * const  *settings,
           GCancellable        *cancellable,
           GError             **error)
{
  g_autoptr(StacheLlmProvider) llm = STACHE_LLM_PROVIDER (create (fixture, STACHE_PROVIDER_TYPE_LLM, settings));

  return stache_test_generate_hello (llm, cancellable, error);
}

STACHE_TEST_DEFINE_HTTP_API (Fixture, fault_api, fault_run, "The server had an error while processing your request");

STACHE_TEST_DEFINE_FAULT_TESTS (Fixture, fault_api)

static void
test_invalid_settings (void)
{
  const StacheProviderType types[] = { STACHE_PROVIDER_TYPE_LLM, STACHE_PROVIDER_TYPE_EMBEDDINGS };

  for (guint i = 0; i < G_N_ELEMENTS (types); i++)
    {
      g_autoptr(GError) ftp = create_fails (types[i], "openai_base_url", "ftp://x", "OPENAI_BASE_URL");
      g_autoptr(GError) relative = create_fails (types[i], "openai_base_url", "localhost:8080/v1",
                                                 "OPENAI_BASE_URL");
      g_autoptr(GError) no_host = create_fails (types[i], "openai_base_url", "http:///v1",
                                                "OPENAI_BASE_URL");
      g_autoptr(GError) query = create_fails (types[i], "openai_base_url", "http://x/v1?a=b",
                                              "OPENAI_BASE_URL");

      g_autoptr(GError) password = create_fails (types[i], "openai_base_url",
                                                 "ftp://user:hunter2@x/v1", "OPENAI_BASE_URL");

      g_assert_null (strstr (password->message, "hunter2"));
      g_assert_error (ftp, STACHE_ERROR, STACHE_ERROR_INVALID_SETTING);
      g_test_message ("%s", ftp->message);
      g_assert_nonnull (strstr (ftp->message, "ftp://x"));
    }

  {
    g_autoptr(GError) size = create_fails (STACHE_PROVIDER_TYPE_EMBEDDINGS, "openai_batch_size",
                                           "0", "openai_batch_size");
    g_autoptr(GError) bytes = create_fails (STACHE_PROVIDER_TYPE_EMBEDDINGS, "openai_batch_bytes",
                                            "lots", "openai_batch_bytes");
    g_autoptr(GError) dims = create_fails (STACHE_PROVIDER_TYPE_EMBEDDINGS, "openai_dimensions",
                                           "-3", "openai_dimensions");

    g_assert_error (size, STACHE_ERROR, STACHE_ERROR_INVALID_SETTING);
    g_test_message ("%s", size->message);
    g_assert_error (bytes, STACHE_ERROR, STACHE_ERROR_INVALID_SETTING);
    g_test_message ("%s", bytes->message);
    g_assert_error (dims, STACHE_ERROR, STACHE_ERROR_INVALID_SETTING);
    g_test_message ("%s", dims->message);
  }
}

static void
test_listed (void)
{
  g_auto(GStrv) llms = stache_plugin_loader_get_available_providers (loader, STACHE_PROVIDER_TYPE_LLM);
  g_auto(GStrv) embedders = stache_plugin_loader_get_available_providers (loader,
                                                                          STACHE_PROVIDER_TYPE_EMBEDDINGS);

  g_assert_true (g_strv_contains ((const char * const *) llms, "openai"));
  g_assert_true (g_strv_contains ((const char * const *) embedders, "openai"));
}

/* ---- main ---- */

#define ADD(path, scenario, func) \
  g_test_add (path, Fixture, GINT_TO_POINTER (scenario), fixture_setup, func, fixture_teardown)

int
main (int   argc,
      char *argv[])
{
  const char * const own_settings[] = {
    "OPENAI_BASE_URL", "OPENAI_API_KEY", "OPENAI_MODEL", "OPENAI_EMBEDDING_MODEL",
    "OPENAI_DIMENSIONS", "OPENAI_BATCH_SIZE", "OPENAI_BATCH_BYTES",
  };
  int status;

  g_setenv ("STACHE_PLUGIN_PATH", g_getenv ("STACHE_TEST_BUILTIN_PLUGINS"), TRUE);
  /* No proxy of the developer's may stand between the client and the
   * loopback server, even when the test runs outside meson */
  g_setenv ("GIO_USE_PROXY_RESOLVER", "dummy", TRUE);
  /* The developer's own OpenAI settings must not reach the tests */
  for (guint i = 0; i < G_N_ELEMENTS (own_settings); i++)
    g_unsetenv (own_settings[i]);

  g_test_init (&argc, &argv, NULL);

  loader = stache_plugin_loader_new ();

  g_test_add_func ("/openai/listed", test_listed);
  g_test_add_func ("/openai/invalid-settings", test_invalid_settings);

  ADD ("/openai/chat/round-trip", SCENARIO_NORMAL, test_chat_round_trip);
  ADD ("/openai/chat/options", SCENARIO_NORMAL, test_chat_options);
  ADD ("/openai/chat/no-key", SCENARIO_NO_KEY, test_chat_no_key);
  ADD ("/openai/chat/bad-request", SCENARIO_BAD_REQUEST, test_bad_request);
  ADD ("/openai/chat/no-choices", SCENARIO_NO_CHOICES, test_no_choices);
  ADD ("/openai/chat/stream", SCENARIO_NORMAL, test_stream_round_trip);
  ADD ("/openai/chat/stream-error-event", SCENARIO_STREAM_ERROR, test_stream_error_event);
  ADD ("/openai/chat/stream-truncated", SCENARIO_STREAM_TRUNCATED, test_stream_truncated);
  ADD ("/openai/chat/stream-cancelled", SCENARIO_NORMAL, test_stream_cancelled);
  STACHE_TEST_ADD_FAULT_TESTS ("/openai/chat", Fixture, GINT_TO_POINTER (SCENARIO_NORMAL),
                               fixture_setup, fixture_teardown);

  ADD ("/openai/embeddings/batches", SCENARIO_NORMAL, test_embeddings_batches);
  ADD ("/openai/embeddings/single", SCENARIO_NORMAL, test_embeddings_single);
  ADD ("/openai/embeddings/byte-limit", SCENARIO_NORMAL, test_embeddings_byte_limit);
  ADD ("/openai/embeddings/dimensions", SCENARIO_NORMAL, test_embeddings_dimensions);
  ADD ("/openai/embeddings/wrong-dimensions", SCENARIO_WRONG_DIMENSIONS,
       test_embeddings_wrong_dimensions);
  ADD ("/openai/embeddings/duplicate-index", SCENARIO_DUPLICATE_INDEX,
       test_embeddings_duplicate_index);
  ADD ("/openai/embeddings/ragged", SCENARIO_RAGGED, test_embeddings_ragged);
  ADD ("/openai/embeddings/cancelled", SCENARIO_NORMAL, test_embeddings_cancelled);
  ADD ("/openai/embeddings/threads", SCENARIO_NORMAL, test_embeddings_threads);

  ADD ("/openai/retry-after", SCENARIO_RATE_LIMIT_ONCE, test_retry_after);
  ADD ("/openai/key-echo", SCENARIO_ECHO_AUTH, test_key_echo);

  status = g_test_run ();

  g_clear_object (&loader);

  return status;
}

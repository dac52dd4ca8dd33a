/* test-anthropic.c: the `anthropic` LLM provider
 *
 * SPDX-License-Identifier: LGPL-2.1-or-later
 *
 * Each test starts a SoupServer on the loopback interface (port 0: the
 * system picks one), in a thread of its own with its own GMainContext
 * pushed as thread-default, that plays Anthropic's Messages API: it checks
 * every request against the documented shape (POST /v1/messages,
 * `x-api-key`, `anthropic-version`, `Content-Type: application/json`, the
 * JSON members and their types) and answers with bodies shaped like
 * Anthropic's, or with Anthropic's error bodies. A request that breaks the
 * API's rules is answered 400 and recorded; every test ends by checking
 * that none did.
 *
 * The provider is created through the plugin loader from the build tree
 * (STACHE_TEST_BUILTIN_PLUGINS), as an application creates it, and used
 * through the public interface functions.
 */
#include <string.h>

#include <libsoup/soup.h>
#include <stache-plugin.h>

#include "stache-test-server.h"

#define TEST_KEY         "sk-ant-test-key-xyz"
#define TEST_VERSION     "2023-06-01"
#define SERVED_MODEL     "claude-3-5-haiku-20241022"
#define UNAUTHORIZED_TEXT "invalid x-api-key"

static StachePluginLoader *loader;

/* ---- the fake Anthropic server ---- */

typedef enum {
  SCENARIO_NORMAL,          /* answers every valid request with one text block */
  SCENARIO_MULTI_BLOCK,     /* text, tool_use, text, thinking, text blocks */
  SCENARIO_UNAUTHORIZED,    /* 401 with Anthropic's authentication_error body */
  SCENARIO_OVERLOADED_ONCE, /* 529 overloaded_error first, then NORMAL */
  SCENARIO_ECHO_KEY,        /* 401 quoting the x-api-key header back */
  SCENARIO_NO_CONTENT,      /* a message without "content" */
  SCENARIO_STREAM_OVERLOADED, /* a streamed message fails midway: overloaded_error */
  SCENARIO_STREAM_INVALID,  /* a streamed message fails midway: invalid_request_error */
  SCENARIO_STREAM_TRUNCATED, /* a streamed message stops before message_stop */
} Scenario;

/* A streamed message sends an event every STREAM_INTERVAL_MS */
#define STREAM_INTERVAL_MS  30
#define STREAM_SLOW_MS      150
#define OVERLOADED_TEXT     "Overloaded"
#define INVALID_TEXT        "messages: text content blocks must be non-empty"

typedef struct {
  StacheTestHttp http;         /* first */
  Scenario       scenario;
  /* Under http.mutex: what the server saw besides what http records */
  GPtrArray     *api_keys;      /* char *: the x-api-key of every request */
  GPtrArray     *versions;      /* char *: the anthropic-version of every request */
  GPtrArray     *content_types; /* char *: the Content-Type of every request */
  guint          stream_interval_ms;  /* under http.mutex */
} Fixture;

/* Answers with Anthropic's error body */
static void
respond_error (SoupServerMessage *msg,
               guint              status,
               const char        *type,
               const char        *message)
{
  g_autoptr(JsonBuilder) b = json_builder_new ();
  g_autoptr(JsonNode) root = NULL;

  json_builder_begin_object (b);
  json_builder_set_member_name (b, "type");
  json_builder_add_string_value (b, "error");
  json_builder_set_member_name (b, "error");
  json_builder_begin_object (b);
  json_builder_set_member_name (b, "type");
  json_builder_add_string_value (b, type);
  json_builder_set_member_name (b, "message");
  json_builder_add_string_value (b, message);
  json_builder_end_object (b);
  json_builder_end_object (b);

  root = json_builder_get_root (b);
  stache_test_respond_json (msg, status, root);
}

/* Checks a POST /v1/messages body; FALSE if it is not valid */
static gboolean
check_messages_request (Fixture    *f,
                        JsonObject *request)
{
  const char * const known[] = { "model", "max_tokens", "system", "messages", "temperature",
                                 "stream", NULL };
  guint n_problems = f->http.problems->len;
  JsonNode *messages = json_object_get_member (request, "messages");
  JsonNode *node;

  stache_test_http_check_members (&f->http, "messages", request, known);

  node = json_object_get_member (request, "stream");
  if (node != NULL && (!JSON_NODE_HOLDS_VALUE (node) ||
                       json_node_get_value_type (node) != G_TYPE_BOOLEAN))
    stache_test_http_problem (&f->http, "messages: “stream” is not a boolean");

  node = json_object_get_member (request, "model");
  if (!stache_test_json_is_string (node) || *json_node_get_string (node) == '\0')
    stache_test_http_problem (&f->http, "messages: “model” is not a non-empty string");

  /* Required by the Messages API */
  node = json_object_get_member (request, "max_tokens");
  if (!stache_test_json_is_integer (node) || json_node_get_int (node) < 1)
    stache_test_http_problem (&f->http, "messages: “max_tokens” is not an integer of at least 1");

  node = json_object_get_member (request, "system");
  if (node != NULL && !stache_test_json_is_string (node))
    stache_test_http_problem (&f->http, "messages: “system” is not a string");

  if (messages == NULL || !JSON_NODE_HOLDS_ARRAY (messages) ||
      json_array_get_length (json_node_get_array (messages)) == 0)
    stache_test_http_problem (&f->http, "messages: “messages” is not a non-empty array");
  else
    {
      JsonArray *array = json_node_get_array (messages);

      for (guint i = 0; i < json_array_get_length (array); i++)
        {
          JsonNode *message = json_array_get_element (array, i);
          JsonObject *object;
          const char * const message_known[] = { "role", "content", NULL };
          const char * const roles[] = { "user", "assistant", NULL };

          if (!JSON_NODE_HOLDS_OBJECT (message))
            {
              stache_test_http_problem (&f->http, "messages: messages[%u] is not an object", i);
              continue;
            }
          object = json_node_get_object (message);
          stache_test_http_check_members (&f->http, "message", object, message_known);
          node = json_object_get_member (object, "role");
          /* "system" is a top-level member, never a role */
          if (!stache_test_json_is_string (node) || !g_strv_contains (roles, json_node_get_string (node)))
            stache_test_http_problem (&f->http, "messages: messages[%u].role is not user or assistant", i);
          if (!stache_test_json_is_string (json_object_get_member (object, "content")))
            stache_test_http_problem (&f->http, "messages: messages[%u].content is not a string", i);
        }
    }

  node = json_object_get_member (request, "temperature");
  if (node != NULL &&
      (!stache_test_json_is_number (node) || json_node_get_double (node) < 0 || json_node_get_double (node) > 1))
    stache_test_http_problem (&f->http, "messages: “temperature” is not a number from 0 to 1");

  return f->http.problems->len == n_problems;
}

static void
add_block (JsonBuilder *b,
           const char  *type,
           const char  *text)
{
  json_builder_begin_object (b);
  json_builder_set_member_name (b, "type");
  json_builder_add_string_value (b, type);
  if (g_str_equal (type, "text"))
    {
      json_builder_set_member_name (b, "text");
      json_builder_add_string_value (b, text);
    }
  else if (g_str_equal (type, "thinking"))
    {
      json_builder_set_member_name (b, "thinking");
      json_builder_add_string_value (b, text);
      json_builder_set_member_name (b, "signature");
      json_builder_add_string_value (b, "c2lnbmF0dXJl");
    }
  else
    {
      /* tool_use */
      json_builder_set_member_name (b, "id");
      json_builder_add_string_value (b, "toolu_01");
      json_builder_set_member_name (b, "name");
      json_builder_add_string_value (b, text);
      json_builder_set_member_name (b, "input");
      json_builder_begin_object (b);
      json_builder_set_member_name (b, "text");
      json_builder_add_string_value (b, "not part of the answer");
      json_builder_end_object (b);
    }
  json_builder_end_object (b);
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

/* One Server-Sent Event: `event: <type>`, `data: <json>`, a blank line;
 * the type is the JSON's own "type" */
static char *
sse_event (JsonBuilder *b)
{
  g_autoptr(JsonNode) root = json_builder_get_root (b);
  g_autofree char *json = json_to_string (root, FALSE);

  return g_strdup_printf ("event: %s\ndata: %s\n\n",
                          json_object_get_string_member (json_node_get_object (root), "type"),
                          json);
}

/* A content_block_start, _delta or _stop event of block @index; @kind is
 * "text" or "thinking" */
static char *
block_event (const char *event,
             guint       index,
             const char *kind,
             const char *text)
{
  g_autoptr(JsonBuilder) b = json_builder_new ();
  g_autofree char *delta_type = g_strconcat (kind, "_delta", NULL);

  json_builder_begin_object (b);
  json_builder_set_member_name (b, "type");
  json_builder_add_string_value (b, event);
  json_builder_set_member_name (b, "index");
  json_builder_add_int_value (b, index);
  if (g_str_equal (event, "content_block_start"))
    {
      json_builder_set_member_name (b, "content_block");
      json_builder_begin_object (b);
      json_builder_set_member_name (b, "type");
      json_builder_add_string_value (b, kind);
      json_builder_set_member_name (b, kind);
      json_builder_add_string_value (b, "");
      json_builder_end_object (b);
    }
  else if (g_str_equal (event, "content_block_delta"))
    {
      json_builder_set_member_name (b, "delta");
      json_builder_begin_object (b);
      json_builder_set_member_name (b, "type");
      json_builder_add_string_value (b, delta_type);
      json_builder_set_member_name (b, kind);
      json_builder_add_string_value (b, text);
      json_builder_end_object (b);
    }
  json_builder_end_object (b);

  return sse_event (b);
}

/* Answers a message with "stream": true as Anthropic does: Server-Sent
 * Events, one piece of the reply per content_block_delta */
static void
respond_message_stream (Fixture           *f,
                        SoupServerMessage *msg,
                        JsonObject        *request)
{
  JsonArray *messages = json_object_get_array_member (request, "messages");
  JsonObject *last = json_array_get_object_element (messages, json_array_get_length (messages) - 1);
  g_auto(GStrv) pieces = reply_pieces (json_object_get_string_member (last, "content"));
  g_autoptr(GPtrArray) events = g_ptr_array_new_with_free_func (g_free);
  guint text_index = 0;

  g_ptr_array_add (events, g_strdup_printf (
    "event: message_start\n"
    "data: {\"type\":\"message_start\",\"message\":{\"id\":\"msg_1nZdL29xx5MUA1yADyHTEsnR8uuvGzszyY\","
    "\"type\":\"message\",\"role\":\"assistant\",\"content\":[],\"model\":\"%s\","
    "\"stop_reason\":null,\"stop_sequence\":null,"
    "\"usage\":{\"input_tokens\":25,\"output_tokens\":1}}}\n\n", SERVED_MODEL));

  if (f->scenario == SCENARIO_MULTI_BLOCK)
    {
      /* A thinking block first: not part of the answer */
      g_ptr_array_add (events, block_event ("content_block_start", 0, "thinking", NULL));
      g_ptr_array_add (events, block_event ("content_block_delta", 0, "thinking",
                                            "Let me think."));
      g_ptr_array_add (events, g_strdup ("event: content_block_delta\n"
                                         "data: {\"type\":\"content_block_delta\",\"index\":0,"
                                         "\"delta\":{\"type\":\"signature_delta\","
                                         "\"signature\":\"c2lnbmF0dXJl\"}}\n\n"));
      g_ptr_array_add (events, block_event ("content_block_stop", 0, NULL, NULL));
      text_index = 1;
    }

  g_ptr_array_add (events, block_event ("content_block_start", text_index, "text", NULL));
  g_ptr_array_add (events, g_strdup ("event: ping\ndata: {\"type\": \"ping\"}\n\n"));
  for (guint i = 0; pieces[i] != NULL; i++)
    {
      if (i == 2 && (f->scenario == SCENARIO_STREAM_OVERLOADED ||
                     f->scenario == SCENARIO_STREAM_INVALID))
        {
          gboolean overloaded = f->scenario == SCENARIO_STREAM_OVERLOADED;

          g_ptr_array_add (events, g_strdup_printf (
            "event: error\n"
            "data: {\"type\": \"error\", \"error\": {\"type\": \"%s\", \"message\": \"%s\"}}\n\n",
            overloaded ? "overloaded_error" : "invalid_request_error",
            overloaded ? OVERLOADED_TEXT : INVALID_TEXT));
          goto send;
        }
      g_ptr_array_add (events, block_event ("content_block_delta", text_index, "text", pieces[i]));
    }
  g_ptr_array_add (events, block_event ("content_block_stop", text_index, NULL, NULL));
  g_ptr_array_add (events, g_strdup ("event: message_delta\n"
                                     "data: {\"type\":\"message_delta\",\"delta\":"
                                     "{\"stop_reason\":\"end_turn\",\"stop_sequence\":null},"
                                     "\"usage\":{\"output_tokens\":9}}\n\n"));
  if (f->scenario == SCENARIO_STREAM_TRUNCATED)
    goto send;
  /* The last event comes in two pieces */
  g_ptr_array_add (events, g_strdup ("event: message_stop\ndata: {\"type\":\"mess"));
  g_ptr_array_add (events, g_strdup ("age_stop\"}\n\n"));

send:
  g_ptr_array_add (events, NULL);
  stache_test_server_stream (&f->http.ts, msg, "text/event-stream", (const char * const *) events->pdata,
                             f->stream_interval_ms);
}

static void
respond_message (Fixture           *f,
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
  json_builder_add_string_value (b, "msg_013Zva2CMHLNnXjNJJKqJ2EF");
  json_builder_set_member_name (b, "type");
  json_builder_add_string_value (b, "message");
  json_builder_set_member_name (b, "role");
  json_builder_add_string_value (b, "assistant");
  json_builder_set_member_name (b, "model");
  json_builder_add_string_value (b, SERVED_MODEL);
  if (f->scenario != SCENARIO_NO_CONTENT)
    {
      json_builder_set_member_name (b, "content");
      json_builder_begin_array (b);
      if (f->scenario == SCENARIO_MULTI_BLOCK)
        {
          add_block (b, "thinking", "Let me think.");
          add_block (b, "text", "One, ");
          add_block (b, "tool_use", "get_weather");
          add_block (b, "text", "two, ");
          add_block (b, "text", "three.");
        }
      else
        add_block (b, "text", reply);
      json_builder_end_array (b);
    }
  json_builder_set_member_name (b, "stop_reason");
  json_builder_add_string_value (b, "end_turn");
  json_builder_set_member_name (b, "stop_sequence");
  json_builder_add_null_value (b);
  json_builder_set_member_name (b, "usage");
  json_builder_begin_object (b);
  json_builder_set_member_name (b, "input_tokens");
  json_builder_add_int_value (b, 25);
  json_builder_set_member_name (b, "output_tokens");
  json_builder_add_int_value (b, 9);
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
  const char *api_key = soup_message_headers_get_one (headers, "x-api-key");
  const char *version = soup_message_headers_get_one (headers, "anthropic-version");
  const char *content_type = soup_message_headers_get_content_type (headers, NULL);
  g_autoptr(JsonParser) parser = json_parser_new ();
  guint n_problems = stache_test_http_begin (&f->http, msg, path);
  JsonObject *request;
  g_ptr_array_add (f->api_keys, g_strdup (api_key));
  g_ptr_array_add (f->versions, g_strdup (version));
  g_ptr_array_add (f->content_types, g_strdup (content_type));

  if (f->scenario == SCENARIO_ECHO_KEY)
    {
      /* A careless server: the key comes back */
      g_autofree char *message = g_strdup_printf ("invalid x-api-key: %s",
                                                  api_key != NULL ? api_key : "none");

      respond_error (msg, SOUP_STATUS_UNAUTHORIZED, "authentication_error", message);
      goto out;
    }

  if (g_strcmp0 (path, "/v1/messages") != 0)
    {
      stache_test_http_problem (&f->http, "unknown path %s", path);
      respond_error (msg, SOUP_STATUS_NOT_FOUND, "not_found_error", "Not found");
      goto out;
    }

  if (g_strcmp0 (soup_server_message_get_method (msg), "POST") != 0)
    stache_test_http_problem (&f->http, "method %s instead of POST", soup_server_message_get_method (msg));

  if (g_strcmp0 (api_key, TEST_KEY) != 0)
    stache_test_http_problem (&f->http, "x-api-key is wrong or missing");
  if (g_strcmp0 (version, TEST_VERSION) != 0)
    stache_test_http_problem (&f->http, "anthropic-version is “%s”", version ? version : "(none)");
  if (soup_message_headers_get_one (headers, "Authorization") != NULL)
    stache_test_http_problem (&f->http, "an Authorization header, which the Messages API does not use");

  request = stache_test_http_parse (&f->http, msg, path, parser);
  if (request != NULL && check_messages_request (f, request))
    g_ptr_array_add (f->http.bodies, json_node_copy (json_parser_get_root (parser)));

  if (f->http.problems->len != n_problems)
    {
      respond_error (msg, SOUP_STATUS_BAD_REQUEST, "invalid_request_error",
                     g_ptr_array_index (f->http.problems, f->http.problems->len - 1));
      goto out;
    }

  if (stache_test_server_fault (&f->http.ts, f->http.fault, msg, f->http.n_requests,
                                "{\"type\": \"error\", \"error\": {\"type\": \"api_error\", "
                                "\"message\": \"Internal server error\"}}"))
    goto out;

  switch (f->scenario)
    {
    case SCENARIO_UNAUTHORIZED:
      respond_error (msg, SOUP_STATUS_UNAUTHORIZED, "authentication_error", UNAUTHORIZED_TEXT);
      goto out;

    case SCENARIO_OVERLOADED_ONCE:
      if (f->http.n_requests == 1)
        {
          respond_error (msg, 529, "overloaded_error", "Overloaded");
          goto out;
        }
      break;

    case SCENARIO_NORMAL:
    case SCENARIO_MULTI_BLOCK:
    case SCENARIO_ECHO_KEY:
    case SCENARIO_NO_CONTENT:
    case SCENARIO_STREAM_OVERLOADED:
    case SCENARIO_STREAM_INVALID:
    case SCENARIO_STREAM_TRUNCATED:
    default:
      break;
    }

  if (json_object_get_boolean_member_with_default (request, "stream", FALSE))
    respond_message_stream (f, msg, request);
  else
    respond_message (f, msg, request);

out:
  g_mutex_unlock (&f->http.mutex);
}

static void
fixture_setup (Fixture       *f,
               gconstpointer  data)
{
  f->scenario = GPOINTER_TO_INT (data);
  f->api_keys = g_ptr_array_new_with_free_func (g_free);
  f->versions = g_ptr_array_new_with_free_func (g_free);
  f->content_types = g_ptr_array_new_with_free_func (g_free);
  f->stream_interval_ms = STREAM_INTERVAL_MS;
  stache_test_http_start (&f->http, "anthropic", "", handle_request, f);
}

static void
fixture_teardown (Fixture       *f,
                  gconstpointer  data)
{
  stache_test_http_stop (&f->http);
  g_ptr_array_unref (f->api_keys);
  g_ptr_array_unref (f->versions);
  g_ptr_array_unref (f->content_types);
}

/* ---- creating the provider ---- */

/* Creates the provider with settings that point at the fake server, plus
 * the NULL-terminated key/value pairs @extra */
static StacheLlmProvider *
create_llm_with (Fixture            *f,
                 const char * const *extra)
{
  const char * const base[] = {
    "anthropic_base_url", f->http.base_url, "anthropic_api_key", TEST_KEY,
    "http_backoff_ms", "10", NULL,
  };
  StacheProvider *provider;

  provider = stache_test_create_provider (loader, STACHE_PROVIDER_TYPE_LLM, "anthropic", base, extra);
  g_assert_true (STACHE_IS_LLM_PROVIDER (provider));

  return STACHE_LLM_PROVIDER (provider);
}

/* The same, with the pairs after @f */
static StacheLlmProvider *
create_llm (Fixture *f,
            ...) G_GNUC_NULL_TERMINATED;

static StacheLlmProvider *
create_llm (Fixture *f,
            ...)
{
  g_autoptr(GPtrArray) extra = NULL;
  va_list args;

  va_start (args, f);
  extra = stache_test_pairs_va (args);
  va_end (args);

  return create_llm_with (f, (const char * const *) extra->pdata);
}

/* ---- tests ---- */

static void
test_round_trip (Fixture       *f,
                 gconstpointer  data)
{
  g_autoptr(StacheLlmProvider) llm = NULL;
  g_autoptr(StacheCompletion) completion = NULL;
  g_autoptr(GError) error = NULL;
  g_autoptr(GList) members = NULL;
  JsonObject *body;
  JsonArray *messages;
  JsonObject *message;

  llm = create_llm (f, "anthropic_model", "claude-test-model", "anthropic_max_tokens", "321", NULL);
  g_assert_true (stache_llm_provider_has_capability (llm, "generate"));

  completion = stache_llm_provider_generate (llm, "What is Stache?", "You answer briefly.",
                                             NULL, NULL, &error);
  g_assert_no_error (error);
  g_assert_nonnull (completion);

  g_assert_cmpstr (stache_completion_get_text (completion), ==, "You said: What is Stache?");
  g_assert_cmpstr (stache_completion_get_model (completion), ==, SERVED_MODEL);
  g_assert_cmpstr (stache_completion_get_finish_reason (completion), ==, "end_turn");
  g_assert_cmpint (stache_completion_get_prompt_tokens (completion), ==, 25);
  g_assert_cmpint (stache_completion_get_completion_tokens (completion), ==, 9);

  /* The headers, exactly */
  g_assert_cmpuint (stache_test_http_n_requests (&f->http), ==, 1);
  g_assert_cmpstr (stache_test_http_seen (&f->http, f->api_keys, 0), ==, TEST_KEY);
  g_assert_cmpstr (stache_test_http_seen (&f->http, f->versions, 0), ==, TEST_VERSION);
  g_assert_cmpstr (stache_test_http_seen (&f->http, f->content_types, 0), ==, "application/json");

  /* The body, exactly */
  body = stache_test_http_body (&f->http, 0);
  members = json_object_get_members (body);
  g_assert_cmpuint (g_list_length (members), ==, 4);
  g_assert_cmpstr (json_object_get_string_member (body, "model"), ==, "claude-test-model");
  g_assert_cmpint (json_object_get_int_member (body, "max_tokens"), ==, 321);
  g_assert_cmpstr (json_object_get_string_member (body, "system"), ==, "You answer briefly.");
  messages = json_object_get_array_member (body, "messages");
  g_assert_cmpuint (json_array_get_length (messages), ==, 1);
  message = json_array_get_object_element (messages, 0);
  g_assert_cmpuint (json_object_get_size (message), ==, 2);
  g_assert_cmpstr (json_object_get_string_member (message, "role"), ==, "user");
  g_assert_cmpstr (json_object_get_string_member (message, "content"), ==, "What is Stache?");
}

static void
test_multi_block (Fixture       *f,
                  gconstpointer  data)
{
  g_autoptr(StacheLlmProvider) llm = create_llm (f, NULL);
  g_autoptr(StacheCompletion) completion = NULL;
  g_autoptr(GError) error = NULL;

  completion = stache_llm_provider_generate (llm, "Count to three", NULL, NULL, NULL, &error);
  g_assert_no_error (error);
  g_assert_nonnull (completion);

  /* The text blocks in order; thinking and tool_use blocks left out */
  g_assert_cmpstr (stache_completion_get_text (completion), ==, "One, two, three.");
  g_assert_cmpuint (stache_test_http_n_requests (&f->http), ==, 1);
}

static void
test_unauthorized (Fixture       *f,
                   gconstpointer  data)
{
  g_autoptr(StacheLlmProvider) llm = create_llm (f, NULL);
  g_autoptr(StacheCompletion) completion = NULL;
  g_autoptr(GError) error = NULL;

  completion = stache_llm_provider_generate (llm, "Hello", NULL, NULL, NULL, &error);
  g_assert_null (completion);
  g_assert_error (error, STACHE_HTTP_ERROR, STACHE_HTTP_ERROR_CLIENT);
  g_test_message ("%s", error->message);
  if (strstr (error->message, UNAUTHORIZED_TEXT) == NULL)
    g_error ("The service's message is not in “%s”", error->message);
  g_assert_nonnull (strstr (error->message, "401"));
  if (strstr (error->message, TEST_KEY) != NULL)
    g_error ("The key leaked into “%s”", error->message);
  /* A 4xx is never retried */
  g_assert_cmpuint (stache_test_http_n_requests (&f->http), ==, 1);
}

static void
test_overloaded_retry (Fixture       *f,
                       gconstpointer  data)
{
  g_autoptr(StacheLlmProvider) llm = create_llm (f, NULL);
  g_autoptr(StacheCompletion) completion = NULL;
  g_autoptr(GError) error = NULL;

  completion = stache_llm_provider_generate (llm, "Are you busy?", NULL, NULL, NULL, &error);
  g_assert_no_error (error);
  g_assert_nonnull (completion);
  g_assert_cmpstr (stache_completion_get_text (completion), ==, "You said: Are you busy?");

  /* The 529 was retried once */
  g_assert_cmpuint (stache_test_http_n_requests (&f->http), ==, 2);
}

static void
test_missing_key (void)
{
  g_autoptr(GError) error = NULL;
  g_autoptr(StacheSettings) settings = stache_settings_new_from_file (NULL, &error);
  g_autoptr(StacheProvider) provider = NULL;

  g_assert_no_error (error);
  /* Blank counts as unset */
  stache_settings_set_string (settings, "anthropic_api_key", "  ");

  provider = stache_plugin_loader_create_provider (loader, STACHE_PROVIDER_TYPE_LLM, "anthropic",
                                                   settings, &error);
  g_assert_null (provider);
  g_assert_error (error, STACHE_ERROR, STACHE_ERROR_INVALID_SETTING);
  g_test_message ("%s", error->message);
  if (strstr (error->message, "ANTHROPIC_API_KEY") == NULL)
    g_error ("ANTHROPIC_API_KEY is not named in “%s”", error->message);
}

static void
test_key_echo (Fixture       *f,
               gconstpointer  data)
{
  g_autoptr(StacheLlmProvider) llm = create_llm (f, NULL);
  g_autoptr(StacheCompletion) completion = NULL;
  g_autoptr(GError) error = NULL;

  completion = stache_llm_provider_generate (llm, "Hello", NULL, NULL, NULL, &error);
  g_assert_null (completion);
  g_assert_error (error, STACHE_HTTP_ERROR, STACHE_HTTP_ERROR_CLIENT);
  g_test_message ("%s", error->message);
  g_assert_nonnull (strstr (error->message, "invalid x-api-key"));
  if (strstr (error->message, TEST_KEY) != NULL)
    g_error ("The key leaked into “%s”", error->message);
  /* The server did get the key: only the message was cleaned */
  g_assert_cmpstr (stache_test_http_seen (&f->http, f->api_keys, 0), ==, TEST_KEY);
}

static void
test_no_content (Fixture       *f,
                 gconstpointer  data)
{
  g_autoptr(StacheLlmProvider) llm = create_llm (f, NULL);
  g_autoptr(StacheCompletion) completion = NULL;
  g_autoptr(GError) error = NULL;

  completion = stache_llm_provider_generate (llm, "Hello", NULL, NULL, NULL, &error);
  g_assert_null (completion);
  g_assert_error (error, STACHE_HTTP_ERROR, STACHE_HTTP_ERROR_MALFORMED_RESPONSE);
  g_test_message ("%s", error->message);
  g_assert_nonnull (strstr (error->message, "content"));
}

/* ---- streaming ---- */

static void
test_stream_round_trip (Fixture       *f,
                        gconstpointer  data)
{
  g_autoptr(StacheLlmProvider) llm = NULL;
  g_autoptr(StacheCompletion) completion = NULL;
  g_autoptr(GError) error = NULL;
  g_auto(GStrv) expected = reply_pieces ("What is Stache?");
  g_autofree char *joined = NULL;
  StacheTestTokens tokens;
  JsonObject *body;

  llm = create_llm (f, "anthropic_model", "claude-test-model", "anthropic_max_tokens", "321", NULL);
  g_assert_true (stache_llm_provider_has_capability (llm, "streaming"));
  g_assert_true (stache_llm_provider_has_capability (llm, "generate"));

  stache_test_tokens_init (&tokens);
  completion = stache_llm_provider_generate_stream (llm, "What is Stache?", "You answer briefly.",
                                                    NULL, stache_test_tokens_add, &tokens,
                                                    NULL, &error);
  g_assert_no_error (error);
  g_assert_nonnull (completion);

  stache_test_tokens_assert (&tokens, (const char * const *) expected, STREAM_INTERVAL_MS);
  joined = stache_test_tokens_join (&tokens);
  g_assert_cmpstr (joined, ==, "You said: What is Stache?");
  g_assert_cmpstr (stache_completion_get_text (completion), ==, joined);
  /* As generate() fills it */
  g_assert_cmpstr (stache_completion_get_model (completion), ==, SERVED_MODEL);
  g_assert_cmpstr (stache_completion_get_finish_reason (completion), ==, "end_turn");
  g_assert_cmpint (stache_completion_get_prompt_tokens (completion), ==, 25);
  g_assert_cmpint (stache_completion_get_completion_tokens (completion), ==, 9);

  g_assert_cmpuint (stache_test_http_n_requests (&f->http), ==, 1);
  body = stache_test_http_body (&f->http, 0);
  g_assert_true (json_object_get_boolean_member (body, "stream"));
  g_assert_cmpstr (json_object_get_string_member (body, "model"), ==, "claude-test-model");
  g_assert_cmpint (json_object_get_int_member (body, "max_tokens"), ==, 321);
  g_assert_cmpstr (json_object_get_string_member (body, "system"), ==, "You answer briefly.");

  stache_test_tokens_clear (&tokens);
}

static void
test_stream_multi_block (Fixture       *f,
                         gconstpointer  data)
{
  g_autoptr(StacheLlmProvider) llm = create_llm (f, NULL);
  g_autoptr(StacheCompletion) completion = NULL;
  g_autoptr(GError) error = NULL;
  g_auto(GStrv) expected = reply_pieces ("Think first");
  StacheTestTokens tokens;

  /* The thinking block's deltas are not part of the answer */
  stache_test_tokens_init (&tokens);
  completion = stache_llm_provider_generate_stream (llm, "Think first", NULL, NULL,
                                                    stache_test_tokens_add, &tokens, NULL, &error);
  g_assert_no_error (error);
  stache_test_tokens_assert (&tokens, (const char * const *) expected, STREAM_INTERVAL_MS);
  g_assert_cmpstr (stache_completion_get_text (completion), ==, "You said: Think first");

  stache_test_tokens_clear (&tokens);
}

static void
test_stream_error_event (Fixture       *f,
                         gconstpointer  data)
{
  gboolean overloaded = GPOINTER_TO_INT (data) == SCENARIO_STREAM_OVERLOADED;
  g_autoptr(StacheLlmProvider) llm = create_llm (f, NULL);
  g_autoptr(StacheCompletion) completion = NULL;
  g_autoptr(GError) error = NULL;
  g_auto(GStrv) pieces = reply_pieces ("Tell me more");
  StacheTestTokens tokens;

  stache_test_tokens_init (&tokens);
  completion = stache_llm_provider_generate_stream (llm, "Tell me more", NULL, NULL,
                                                    stache_test_tokens_add, &tokens, NULL, &error);
  g_assert_null (completion);
  g_test_message ("%s", error->message);
  if (overloaded)
    {
      /* Transient: a fallback may move on */
      g_assert_error (error, STACHE_HTTP_ERROR, STACHE_HTTP_ERROR_SERVER);
      g_assert_true (stache_http_error_is_transient (error));
      g_assert_nonnull (strstr (error->message, OVERLOADED_TEXT));
    }
  else
    {
      g_assert_error (error, STACHE_HTTP_ERROR, STACHE_HTTP_ERROR_CLIENT);
      g_assert_false (stache_http_error_is_transient (error));
      g_assert_nonnull (strstr (error->message, INVALID_TEXT));
    }
  g_assert_null (strstr (error->message, TEST_KEY));
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
  g_assert_nonnull (strstr (error->message, "message_stop"));
  /* All the text came, but not the end */
  g_assert_cmpuint (tokens.tokens->len, ==, 5);

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
  stache_test_check_stream_cancelled (llm, 1.2);
}

/* ---- faults ---- */

static gboolean
fault_run (gpointer             fixture,
           const char * const  *settings,
           GCancellable        *cancellable,
           GError             **error)
{
  g_autoptr(StacheLlmProvider) llm = create_llm_with (fixture, settings);

  return stache_test_generate_hello (llm, cancellable, error);
}

STACHE_TEST_DEFINE_HTTP_API (Fixture, fault_api, fault_run, "Internal server error");

STACHE_TEST_DEFINE_FAULT_TESTS (Fixture, fault_api)

static void
test_listed (void)
{
  g_auto(GStrv) llms = stache_plugin_loader_get_available_providers (loader, STACHE_PROVIDER_TYPE_LLM);

  g_assert_true (g_strv_contains ((const char * const *) llms, "anthropic"));
}

/* ---- main ---- */

#define ADD(path, scenario, func) \
  g_test_add (path, Fixture, GINT_TO_POINTER (scenario), fixture_setup, func, fixture_teardown)

int
main (int   argc,
      char *argv[])
{
  const char * const own_settings[] = {
    "ANTHROPIC_API_KEY", "ANTHROPIC_BASE_URL", "ANTHROPIC_MODEL", "ANTHROPIC_MAX_TOKENS",
    "ANTHROPIC_VERSION",
  };
  int status;

  g_setenv ("STACHE_PLUGIN_PATH", g_getenv ("STACHE_TEST_BUILTIN_PLUGINS"), TRUE);
  /* No proxy of the developer's may stand between the client and the
   * loopback server, even when the test runs outside meson */
  g_setenv ("GIO_USE_PROXY_RESOLVER", "dummy", TRUE);
  /* The developer's own Anthropic settings must not reach the tests */
  for (guint i = 0; i < G_N_ELEMENTS (own_settings); i++)
    g_unsetenv (own_settings[i]);

  g_test_init (&argc, &argv, NULL);

  loader = stache_plugin_loader_new ();

  g_test_add_func ("/anthropic/listed", test_listed);
  g_test_add_func ("/anthropic/missing-key", test_missing_key);

  ADD ("/anthropic/round-trip", SCENARIO_NORMAL, test_round_trip);
  ADD ("/anthropic/multi-block", SCENARIO_MULTI_BLOCK, test_multi_block);
  ADD ("/anthropic/unauthorized", SCENARIO_UNAUTHORIZED, test_unauthorized);
  ADD ("/anthropic/overloaded-retry", SCENARIO_OVERLOADED_ONCE, test_overloaded_retry);
  ADD ("/anthropic/key-echo", SCENARIO_ECHO_KEY, test_key_echo);
  ADD ("/anthropic/no-content", SCENARIO_NO_CONTENT, test_no_content);
  ADD ("/anthropic/stream", SCENARIO_NORMAL, test_stream_round_trip);
  ADD ("/anthropic/stream-multi-block", SCENARIO_MULTI_BLOCK, test_stream_multi_block);
  ADD ("/anthropic/stream-overloaded", SCENARIO_STREAM_OVERLOADED, test_stream_error_event);
  ADD ("/anthropic/stream-invalid-request", SCENARIO_STREAM_INVALID, test_stream_error_event);
  ADD ("/anthropic/stream-truncated", SCENARIO_STREAM_TRUNCATED, test_stream_truncated);
  ADD ("/anthropic/stream-cancelled", SCENARIO_NORMAL, test_stream_cancelled);
  STACHE_TEST_ADD_FAULT_TESTS ("/anthropic", Fixture, GINT_TO_POINTER (SCENARIO_NORMAL),
                               fixture_setup, fixture_teardown);

  status = g_test_run ();

  g_clear_object (&loader);

  return status;
}

/* anthropic-llm.c: the `anthropic` LLM provider, POST {base}/v1/messages
 *
 * SPDX-License-Identifier: LGPL-2.1-or-later
 *
 * A prompt becomes one Messages API request:
 *
 *   {"model": "claude-3-5-haiku-latest",
 *    "max_tokens": 1024,                                   (always: required)
 *    "system": <system prompt>,                            (if any)
 *    "messages": [{"role": "user", "content": <prompt>}],
 *    "temperature": <options.temperature>}                 (if given)
 *
 * sent with the headers `x-api-key` and `anthropic-version`. The answer's
 * text blocks (content[i] with "type": "text"), joined in order, "model",
 * "stop_reason" and "usage" become the StacheCompletion; blocks of other
 * types (tool_use, thinking…) are skipped. The options `model` and
 * `max_tokens` replace the configured values for one call; other option
 * keys are ignored, as the interface asks.
 *
 * Settings: `anthropic_model` (default claude-3-5-haiku-latest),
 * `anthropic_max_tokens` (default 1024), and `anthropic_base_url`,
 * `anthropic_api_key` (required) and `anthropic_version` (see
 * anthropic-common.c).
 *
 * What the service returns is checked: a body without a "content" array,
 * or with a member of the wrong type, is reported as
 * STACHE_HTTP_ERROR_MALFORMED_RESPONSE naming the member. "model",
 * "stop_reason" and "usage" may be absent: the completion then has the
 * requested model, no finish reason and -1 tokens.
 *
 * Streaming (generate_stream) sends the same request with "stream": true.
 * The answer is Server-Sent Events, `event: <type>` and `data: {json}`:
 * message_start (message.model, message.usage.input_tokens),
 * content_block_start, content_block_delta (delta.type "text_delta" gives
 * a piece of text; other deltas, of tool_use or thinking blocks, are
 * skipped), content_block_stop, ping, message_delta (delta.stop_reason,
 * usage.output_tokens) and message_stop. An `error` event is the service
 * failing midway: its error.message is reported as STACHE_HTTP_ERROR_SERVER
 * for overloaded_error, api_error and unknown types (transient, so a
 * fallback can move on), _RATE_LIMITED for rate_limit_error and _CLIENT for
 * the request's own faults (invalid_request_error…). A stream without
 * message_stop was cut short: MALFORMED_RESPONSE.
 *
 * The provider holds no mutable state once initialised; its HTTP client is
 * shared by the threads that call it.
 */
#include <math.h>
#include <string.h>

#include <glib/gi18n-lib.h>
#include <libpeas/peas.h>

#include "anthropic-common.h"
#include "anthropic-llm.h"

#define ANTHROPIC_SETTING_MODEL       "anthropic_model"
#define ANTHROPIC_SETTING_MAX_TOKENS  "anthropic_max_tokens"
#define ANTHROPIC_DEFAULT_MODEL       "claude-3-5-haiku-latest"
#define ANTHROPIC_DEFAULT_MAX_TOKENS  1024
#define MESSAGES_PATH                 "/v1/messages"

struct _AnthropicLlm
{
  StacheRemoteProvider parent_instance;

  /* Set once, by setup, before the provider is handed out */
  StacheHttpClient *client;
  char             *url;
  char             *model;
  gint64            max_tokens;
};

static void anthropic_llm_iface_init (StacheLlmProviderInterface *iface);

G_DEFINE_DYNAMIC_TYPE_EXTENDED (AnthropicLlm, anthropic_llm, STACHE_TYPE_REMOTE_PROVIDER,
                                G_TYPE_FLAG_FINAL,
                                G_IMPLEMENT_INTERFACE_DYNAMIC (STACHE_TYPE_LLM_PROVIDER,
                                                               anthropic_llm_iface_init))

/* ---- the request ---- */

/* The option @key of @options, or NULL when it is absent or null */
static JsonNode *
get_option (JsonObject *options,
            const char *key)
{
  JsonNode *node = options != NULL ? json_object_get_member (options, key) : NULL;

  if (node == NULL || JSON_NODE_HOLDS_NULL (node))
    return NULL;

  return node;
}

static void
set_bad_option (GError     **error,
                const char  *key,
                const char  *expected)
{
  g_set_error (error, STACHE_ERROR, STACHE_ERROR_INVALID_ARGUMENT,
               /* Translators: the first %s is an option name, the second
                * what it must be */
               _("anthropic: the option “%s” must be %s"), key, expected);
}

static JsonNode *
build_request (const char  *model,
               gint64       default_max_tokens,
               const char  *prompt,
               const char  *system_prompt,
               JsonObject  *options,
               gboolean     stream,
               GError     **error)
{
  g_autoptr(JsonBuilder) builder = json_builder_new ();
  JsonNode *max_tokens = get_option (options, "max_tokens");
  JsonNode *temperature = get_option (options, "temperature");

  if (max_tokens != NULL &&
      (!stache_json_node_is_integer (max_tokens) || json_node_get_double (max_tokens) < 1 ||
       json_node_get_double (max_tokens) > G_MAXINT32))
    {
      set_bad_option (error, "max_tokens", _("a whole number of at least 1"));
      return NULL;
    }

  /* The Messages API takes temperatures from 0 to 1 */
  if (temperature != NULL &&
      (!stache_json_node_is_number (temperature) ||
       !isfinite (json_node_get_double (temperature)) ||
       json_node_get_double (temperature) < 0 || json_node_get_double (temperature) > 1))
    {
      set_bad_option (error, "temperature", _("a number from 0 to 1"));
      return NULL;
    }

  json_builder_begin_object (builder);

  json_builder_set_member_name (builder, "model");
  json_builder_add_string_value (builder, model);

  json_builder_set_member_name (builder, "max_tokens");
  json_builder_add_int_value (builder, max_tokens != NULL
                                         ? (gint64) json_node_get_double (max_tokens)
                                         : default_max_tokens);

  if (system_prompt != NULL && *system_prompt != '\0')
    {
      json_builder_set_member_name (builder, "system");
      json_builder_add_string_value (builder, system_prompt);
    }

  json_builder_set_member_name (builder, "messages");
  json_builder_begin_array (builder);
  json_builder_begin_object (builder);
  json_builder_set_member_name (builder, "role");
  json_builder_add_string_value (builder, "user");
  json_builder_set_member_name (builder, "content");
  json_builder_add_string_value (builder, prompt);
  json_builder_end_object (builder);
  json_builder_end_array (builder);

  if (temperature != NULL)
    {
      json_builder_set_member_name (builder, "temperature");
      json_builder_add_double_value (builder, json_node_get_double (temperature));
    }

  if (stream)
    {
      json_builder_set_member_name (builder, "stream");
      json_builder_add_boolean_value (builder, TRUE);
    }

  json_builder_end_object (builder);

  return json_builder_get_root (builder);
}

/* ---- the response ---- */

/* Reads the token count @member of @usage into @out (-1 when absent) */
static gboolean
read_token_count (AnthropicLlm  *self,
                  JsonObject    *usage,
                  const char    *member,
                  gint          *out,
                  GError       **error)
{
  JsonNode *node = json_object_get_member (usage, member);
  double value;

  *out = -1;
  if (node == NULL || JSON_NODE_HOLDS_NULL (node))
    return TRUE;

  if (!stache_json_node_is_integer (node) || (value = json_node_get_double (node)) < 0)
    {
      stache_http_client_set_malformed (self->client, error, self->url,
                                        _("“usage.%s” is not a whole number of at least 0"), member);
      return FALSE;
    }

  *out = value > G_MAXINT ? G_MAXINT : (gint) value;
  return TRUE;
}

/* Reads the optional string @member of @object into @out (NULL when it is
 * absent or null) */
static gboolean
read_optional_string (AnthropicLlm  *self,
                      JsonObject    *object,
                      const char    *member,
                      const char   **out,
                      GError       **error)
{
  JsonNode *node = json_object_get_member (object, member);

  *out = NULL;
  if (node == NULL || JSON_NODE_HOLDS_NULL (node))
    return TRUE;

  if (!stache_json_node_is_string (node))
    {
      stache_http_client_set_malformed (self->client, error, self->url,
                                        _("“%s” is not a string"), member);
      return FALSE;
    }

  *out = json_node_get_string (node);
  return TRUE;
}

/* Joins the text of the "text" blocks of @content into a new string */
static char *
join_text_blocks (AnthropicLlm  *self,
                  JsonArray     *content,
                  GError       **error)
{
  g_autoptr(GString) text = g_string_new (NULL);
  guint n = json_array_get_length (content);

  for (guint i = 0; i < n; i++)
    {
      JsonNode *node = json_array_get_element (content, i);
      JsonObject *block;
      JsonNode *type, *block_text;

      if (!JSON_NODE_HOLDS_OBJECT (node))
        {
          stache_http_client_set_malformed (self->client, error, self->url,
                                            _("“content[%u]” is not an object"), i);
          return NULL;
        }
      block = json_node_get_object (node);

      type = json_object_get_member (block, "type");
      if (!stache_json_node_is_string (type))
        {
          stache_http_client_set_malformed (self->client, error, self->url,
                                            _("“content[%u].type” is not a string"), i);
          return NULL;
        }

      /* tool_use, thinking and other blocks carry no answer text */
      if (g_strcmp0 (json_node_get_string (type), "text") != 0)
        continue;

      block_text = json_object_get_member (block, "text");
      if (!stache_json_node_is_string (block_text))
        {
          stache_http_client_set_malformed (self->client, error, self->url,
                                            _("the text block “content[%u]” has no “text” string"), i);
          return NULL;
        }
      g_string_append (text, json_node_get_string (block_text));
    }

  return g_string_free (g_steal_pointer (&text), FALSE);
}

static StacheCompletion *
parse_completion (AnthropicLlm  *self,
                  JsonNode      *root,
                  const char    *requested_model,
                  GError       **error)
{
  g_autoptr(StacheCompletion) completion = NULL;
  g_autofree char *text = NULL;
  JsonObject *object;
  JsonArray *content;
  JsonNode *node;
  const char *model, *stop_reason;
  gint input_tokens = -1, output_tokens = -1;

  if (!JSON_NODE_HOLDS_OBJECT (root))
    {
      stache_http_client_set_malformed (self->client, error, self->url,
                                        _("the body is not a JSON object"));
      return NULL;
    }
  object = json_node_get_object (root);

  content = stache_json_object_get_array (object, "content");
  if (content == NULL)
    {
      JsonObject *service_error = NULL;
      JsonNode *what = NULL;

      /* An error body with status 200, as a proxy may send */
      node = json_object_get_member (object, "error");
      if (node != NULL && JSON_NODE_HOLDS_OBJECT (node))
        service_error = json_node_get_object (node);
      if (service_error != NULL)
        what = json_object_get_member (service_error, "message");

      if (stache_json_node_is_string (what))
        {
          g_autofree char *redacted = stache_http_client_redact (self->client,
                                                                 json_node_get_string (what));

          stache_http_client_set_malformed (self->client, error, self->url,
                                            _("it has no “content” array; the service says: %s"),
                                            redacted);
        }
      else
        stache_http_client_set_malformed (self->client, error, self->url,
                                          _("it has no “content” array"));
      return NULL;
    }

  text = join_text_blocks (self, content, error);
  if (text == NULL)
    return NULL;

  if (!read_optional_string (self, object, "stop_reason", &stop_reason, error) ||
      !read_optional_string (self, object, "model", &model, error))
    return NULL;

  node = json_object_get_member (object, "usage");
  if (node != NULL && !JSON_NODE_HOLDS_NULL (node))
    {
      JsonObject *usage;

      if (!JSON_NODE_HOLDS_OBJECT (node))
        {
          stache_http_client_set_malformed (self->client, error, self->url,
                                            _("“usage” is not an object"));
          return NULL;
        }
      usage = json_node_get_object (node);

      if (!read_token_count (self, usage, "input_tokens", &input_tokens, error) ||
          !read_token_count (self, usage, "output_tokens", &output_tokens, error))
        return NULL;
    }

  completion = stache_completion_new_full (text, model != NULL ? model : requested_model,
                                           stop_reason, input_tokens, output_tokens);

  return g_steal_pointer (&completion);
}

/* ---- StacheLlmProvider ---- */

/* The request for one call, streamed or not; sets *@model to the model
 * asked for (owned by @self or @options) */
static JsonNode *
prepare_request (AnthropicLlm  *self,
                 const char    *prompt,
                 const char    *system_prompt,
                 JsonObject    *options,
                 gboolean       stream,
                 const char   **model,
                 GError       **error)
{
  JsonNode *model_option = get_option (options, "model");

  *model = self->model;
  if (model_option != NULL)
    {
      if (!stache_json_node_is_string (model_option) ||
          *json_node_get_string (model_option) == '\0')
        {
          set_bad_option (error, "model", _("a non-empty string"));
          return NULL;
        }
      *model = json_node_get_string (model_option);
    }

  return build_request (*model, self->max_tokens, prompt, system_prompt, options, stream, error);
}

static StacheCompletion *
anthropic_llm_generate (StacheLlmProvider  *provider,
                        const char         *prompt,
                        const char         *system_prompt,
                        JsonObject         *options,
                        GCancellable       *cancellable,
                        GError            **error)
{
  AnthropicLlm *self = ANTHROPIC_LLM (provider);
  g_autoptr(JsonNode) request = NULL;
  g_autoptr(JsonNode) response = NULL;
  const char *model;

  request = prepare_request (self, prompt, system_prompt, options, FALSE, &model, error);
  if (request == NULL)
    return NULL;

  response = stache_http_client_request_json (self->client, "POST", self->url, request,
                                              cancellable, error);
  if (response == NULL)
    return NULL;

  return parse_completion (self, response, model, error);
}

/* ---- streaming ---- */

typedef struct
{
  AnthropicLlm    *self;
  StacheTokenFunc  token_func;
  gpointer         token_data;

  GString         *text;
  char            *model;           /* as message_start names it */
  char            *stop_reason;
  gint             input_tokens;
  gint             output_tokens;
  gboolean         done;            /* message_stop was read */
} Stream;

/* An `error` event: {"type": "error", "error": {"type", "message"}} */
static void
set_stream_error (AnthropicLlm  *self,
                  JsonObject    *data,
                  GError       **error)
{
  JsonObject *what = stache_json_object_get_object (data, "error");
  JsonNode *type = what != NULL ? json_object_get_member (what, "type") : NULL;
  JsonNode *message = what != NULL ? json_object_get_member (what, "message") : NULL;
  const char *type_name = stache_json_node_is_string (type) ? json_node_get_string (type) : NULL;
  const char * const client_faults[] = {
    "invalid_request_error", "authentication_error", "permission_error", "not_found_error",
    "request_too_large", NULL
  };
  StacheHttpError code = STACHE_HTTP_ERROR_SERVER;

  if (g_strcmp0 (type_name, "rate_limit_error") == 0)
    code = STACHE_HTTP_ERROR_RATE_LIMITED;
  else if (type_name != NULL && g_strv_contains (client_faults, type_name))
    code = STACHE_HTTP_ERROR_CLIENT;

  stache_http_client_set_stream_error (self->client, error, code, self->url,
                                       stache_json_node_is_string (message)
                                         ? json_node_get_string (message) : NULL,
                                       type_name != NULL ? type_name : "error");
}

/* Reads the usage counts that @usage has into the stream */
static gboolean
read_stream_usage (Stream      *stream,
                   JsonObject  *object,
                   GError     **error)
{
  JsonNode *node = json_object_get_member (object, "usage");
  JsonObject *usage;
  gint count;

  if (node == NULL || JSON_NODE_HOLDS_NULL (node))
    return TRUE;
  if (!JSON_NODE_HOLDS_OBJECT (node))
    {
      stache_http_client_set_malformed (stream->self->client, error, stream->self->url,
                                        _("“usage” is not an object"));
      return FALSE;
    }
  usage = json_node_get_object (node);

  if (!read_token_count (stream->self, usage, "input_tokens", &count, error))
    return FALSE;
  if (count >= 0)
    stream->input_tokens = count;
  if (!read_token_count (stream->self, usage, "output_tokens", &count, error))
    return FALSE;
  if (count >= 0)
    stream->output_tokens = count;

  return TRUE;
}

/* Reads the text of a text block or delta, when it has some */
static gboolean
read_stream_text (Stream      *stream,
                  JsonObject  *object,
                  const char  *text_type,
                  const char  *path,
                  GError     **error)
{
  JsonNode *type = object != NULL ? json_object_get_member (object, "type") : NULL;
  JsonNode *text;

  if (object == NULL || !stache_json_node_is_string (type) ||
      strcmp (json_node_get_string (type), text_type) != 0)
    return TRUE;

  text = json_object_get_member (object, "text");
  if (text == NULL || JSON_NODE_HOLDS_NULL (text))
    return TRUE;
  if (!stache_json_node_is_string (text))
    {
      stache_http_client_set_malformed (stream->self->client, error, stream->self->url,
                                        _("“%s.text” is not a string"),
                                        path);
      return FALSE;
    }
  if (*json_node_get_string (text) != '\0')
    {
      g_string_append (stream->text, json_node_get_string (text));
      stream->token_func (json_node_get_string (text), stream->token_data);
    }

  return TRUE;
}

/* A StacheHttpEventFunc: one event; FALSE with @error set to fail, or
 * with stream->done set at the end */
static gboolean
read_event (const char  *event,
            JsonNode    *node,
            gpointer     user_data,
            GError     **error)
{
  Stream *stream = user_data;
  AnthropicLlm *self = stream->self;
  JsonObject *data;
  const char *type;
  JsonObject *object;

  if (node == NULL || !JSON_NODE_HOLDS_OBJECT (node))
    {
      stache_http_client_set_malformed (self->client, error, self->url,
                                        _("the data of an event is not a JSON object"));
      return FALSE;
    }
  data = json_node_get_object (node);
  type = stache_json_object_get_string (data, "type");
  if (type == NULL)
    type = event;

  if (type == NULL)
    {
      stache_http_client_set_malformed (self->client, error, self->url, _("an event has no type"));
      return FALSE;
    }

  if (strcmp (type, "error") == 0)
    {
      set_stream_error (self, data, error);
      return FALSE;
    }

  if (strcmp (type, "message_start") == 0)
    {
      const char *model;

      object = stache_json_object_get_object (data, "message");
      if (object == NULL)
        {
          stache_http_client_set_malformed (self->client, error, self->url,
                                            _("message_start has no “message” object"));
          return FALSE;
        }
      if (!read_optional_string (self, object, "model", &model, error) ||
          !read_stream_usage (stream, object, error))
        return FALSE;
      g_free (stream->model);
      stream->model = g_strdup (model);
      return TRUE;
    }

  if (strcmp (type, "content_block_start") == 0)
    return read_stream_text (stream, stache_json_object_get_object (data, "content_block"), "text", "content_block",
                             error);

  if (strcmp (type, "content_block_delta") == 0)
    return read_stream_text (stream, stache_json_object_get_object (data, "delta"), "text_delta", "delta",
                             error);

  if (strcmp (type, "message_delta") == 0)
    {
      const char *stop_reason;

      object = stache_json_object_get_object (data, "delta");
      if (object != NULL)
        {
          if (!read_optional_string (self, object, "stop_reason", &stop_reason, error))
            return FALSE;
          if (stop_reason != NULL)
            {
              g_free (stream->stop_reason);
              stream->stop_reason = g_strdup (stop_reason);
            }
        }
      return read_stream_usage (stream, data, error);
    }

  if (strcmp (type, "message_stop") == 0)
    {
      stream->done = TRUE;
      return FALSE;
    }

  /* ping, content_block_stop and event types added later */
  return TRUE;
}

static StacheCompletion *
anthropic_llm_generate_stream (StacheLlmProvider  *provider,
                               const char         *prompt,
                               const char         *system_prompt,
                               JsonObject         *options,
                               StacheTokenFunc     token_func,
                               gpointer            token_data,
                               GCancellable       *cancellable,
                               GError            **error)
{
  AnthropicLlm *self = ANTHROPIC_LLM (provider);
  g_autoptr(JsonNode) request = NULL;
  g_autoptr(GString) text = NULL;
  g_autofree char *served_model = NULL;
  g_autofree char *stop_reason = NULL;
  StacheCompletion *completion;
  const char *model;
  gboolean ok;
  Stream stream = { 0 };

  request = prepare_request (self, prompt, system_prompt, options, TRUE, &model, error);
  if (request == NULL)
    return NULL;

  stream.self = self;
  stream.token_func = token_func;
  stream.token_data = token_data;
  stream.text = text = g_string_new (NULL);
  stream.input_tokens = stream.output_tokens = -1;

  ok = stache_http_client_stream_events (self->client, "POST", self->url, request,
                                         STACHE_HTTP_STREAM_SSE, read_event, &stream,
                                         cancellable, error);
  served_model = stream.model;
  stop_reason = stream.stop_reason;
  if (!ok)
    return NULL;

  if (!stream.done)
    {
      stache_http_client_set_malformed (self->client, error, self->url,
                                        _("the stream ended before its message_stop event"));
      return NULL;
    }

  completion = stache_completion_new_full (text->str, served_model != NULL ? served_model : model,
                                           stop_reason, stream.input_tokens, stream.output_tokens);

  return completion;
}

static char **
anthropic_llm_get_capabilities (StacheLlmProvider *provider)
{
  const char * const caps[] = { "generate", "chat", "streaming", NULL };

  return g_strdupv ((char **) caps);
}

static void
anthropic_llm_iface_init (StacheLlmProviderInterface *iface)
{
  iface->generate = anthropic_llm_generate;
  iface->get_capabilities = anthropic_llm_get_capabilities;
  iface->generate_stream = anthropic_llm_generate_stream;
}

/* ---- setup: reads and checks the settings ---- */

static gboolean
anthropic_llm_setup (StacheRemoteProvider  *provider,
                     StacheSettings        *settings,
                     GCancellable          *cancellable,
                     GError               **error)
{
  AnthropicLlm *self = ANTHROPIC_LLM (provider);
  StacheHttpClient *client;
  g_autofree char *url = NULL;
  gint64 max_tokens;

  if (!stache_settings_get_int_range (settings, ANTHROPIC_SETTING_MAX_TOKENS,
                                     ANTHROPIC_DEFAULT_MAX_TOKENS, 1, G_MAXINT32,
                                     &max_tokens, error))
    return FALSE;

  client = anthropic_client_new (provider, settings, MESSAGES_PATH, &url, error);
  if (client == NULL)
    return FALSE;

  self->max_tokens = max_tokens;
  self->model = stache_settings_get_nonempty (settings, ANTHROPIC_SETTING_MODEL,
                                                 ANTHROPIC_DEFAULT_MODEL);
  self->url = g_steal_pointer (&url);
  self->client = client;

  return TRUE;
}

/* ---- GObject ---- */

static void
anthropic_llm_finalize (GObject *object)
{
  AnthropicLlm *self = ANTHROPIC_LLM (object);

  g_clear_pointer (&self->url, g_free);
  g_clear_pointer (&self->model, g_free);

  G_OBJECT_CLASS (anthropic_llm_parent_class)->finalize (object);
}

static void
anthropic_llm_class_init (AnthropicLlmClass *klass)
{
  STACHE_REMOTE_PROVIDER_CLASS (klass)->setup = anthropic_llm_setup;
  G_OBJECT_CLASS (klass)->finalize = anthropic_llm_finalize;
}

static void
anthropic_llm_class_finalize (AnthropicLlmClass *klass)
{
}

static void
anthropic_llm_init (AnthropicLlm *self)
{
}

void
anthropic_llm_register (GTypeModule *module)
{
  anthropic_llm_register_type (module);
}

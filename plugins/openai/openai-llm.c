/* openai-llm.c: the `openai` LLM provider, POST {base}/chat/completions
 *
 * SPDX-License-Identifier: LGPL-2.1-or-later
 *
 * A prompt becomes one chat request:
 *
 *   {"model": "gpt-4o-mini",
 *    "messages": [{"role": "system", "content": <system prompt>},   (if any)
 *                 {"role": "user", "content": <prompt>}],
 *    "max_tokens": <options.max_tokens>,                            (if given)
 *    "temperature": <options.temperature>}                          (if given)
 *
 * and the answer's choices[0].message.content, "model",
 * choices[0].finish_reason and "usage" become the StacheCompletion. The
 * option `model` replaces the configured model for one call; other option
 * keys are ignored, as the interface asks.
 *
 * Settings: `openai_model` (default gpt-4o-mini), and `openai_base_url` and
 * `openai_api_key` (see openai-common.c).
 *
 * What the service returns is checked: a body without choices[0].message.
 * content, or with a member of the wrong type, is reported as
 * STACHE_HTTP_ERROR_MALFORMED_RESPONSE naming the member. "model",
 * "finish_reason" and "usage" may be absent (some compatible servers leave
 * them out): the completion then has the requested model, no finish reason
 * and -1 tokens.
 *
 * Streaming (generate_stream) sends the same request with "stream": true and
 * "stream_options": {"include_usage": true}. The answer is Server-Sent
 * Events: `data: {chunk}` lines, each chunk with choices[0].delta.content
 * (a piece of text) and, at the end, choices[0].finish_reason; then a chunk
 * with empty choices and the "usage"; then `data: [DONE]`. Comment lines
 * (`:`) and other fields are skipped. A chunk `{"error": {...}}` is the
 * service failing midway: STACHE_HTTP_ERROR_SERVER (or _CLIENT, _RATE_LIMITED
 * from its type) with its message. A stream that ends with neither a
 * finish_reason nor [DONE] was cut short: MALFORMED_RESPONSE.
 *
 * The provider holds no mutable state once initialised; its HTTP client is
 * shared by the threads that call it.
 */
#include <math.h>
#include <string.h>

#include <glib/gi18n-lib.h>
#include <libpeas/peas.h>

#include "openai-common.h"
#include "openai-llm.h"

#define OPENAI_SETTING_MODEL  "openai_model"
#define OPENAI_DEFAULT_MODEL  "gpt-4o-mini"
#define CHAT_PATH             "/chat/completions"

struct _OpenaiLlm
{
  StacheRemoteProvider parent_instance;

  /* Set once, by setup, before the provider is handed out */
  StacheHttpClient *client;
  char             *url;
  char             *model;
};

static void openai_llm_iface_init (StacheLlmProviderInterface *iface);

G_DEFINE_DYNAMIC_TYPE_EXTENDED (OpenaiLlm, openai_llm, STACHE_TYPE_REMOTE_PROVIDER, G_TYPE_FLAG_FINAL,
                                G_IMPLEMENT_INTERFACE_DYNAMIC (STACHE_TYPE_LLM_PROVIDER,
                                                               openai_llm_iface_init))

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
               _("openai: the option “%s” must be %s"), key, expected);
}

static JsonNode *
build_request (const char  *model,
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

  if (temperature != NULL &&
      (!stache_json_node_is_number (temperature) || !isfinite (json_node_get_double (temperature)) ||
       json_node_get_double (temperature) < 0))
    {
      set_bad_option (error, "temperature", _("a number of at least 0"));
      return NULL;
    }

  json_builder_begin_object (builder);

  json_builder_set_member_name (builder, "model");
  json_builder_add_string_value (builder, model);

  json_builder_set_member_name (builder, "messages");
  json_builder_begin_array (builder);
  if (system_prompt != NULL && *system_prompt != '\0')
    {
      json_builder_begin_object (builder);
      json_builder_set_member_name (builder, "role");
      json_builder_add_string_value (builder, "system");
      json_builder_set_member_name (builder, "content");
      json_builder_add_string_value (builder, system_prompt);
      json_builder_end_object (builder);
    }
  json_builder_begin_object (builder);
  json_builder_set_member_name (builder, "role");
  json_builder_add_string_value (builder, "user");
  json_builder_set_member_name (builder, "content");
  json_builder_add_string_value (builder, prompt);
  json_builder_end_object (builder);
  json_builder_end_array (builder);

  if (max_tokens != NULL)
    {
      json_builder_set_member_name (builder, "max_tokens");
      json_builder_add_int_value (builder, (gint64) json_node_get_double (max_tokens));
    }

  if (temperature != NULL)
    {
      json_builder_set_member_name (builder, "temperature");
      json_builder_add_double_value (builder, json_node_get_double (temperature));
    }

  if (stream)
    {
      json_builder_set_member_name (builder, "stream");
      json_builder_add_boolean_value (builder, TRUE);
      json_builder_set_member_name (builder, "stream_options");
      json_builder_begin_object (builder);
      json_builder_set_member_name (builder, "include_usage");
      json_builder_add_boolean_value (builder, TRUE);
      json_builder_end_object (builder);
    }

  json_builder_end_object (builder);

  return json_builder_get_root (builder);
}

/* ---- the response ---- */

/* Reads the token count @member of @usage into @out (-1 when absent) */
static gboolean
read_token_count (OpenaiLlm   *self,
                  JsonObject  *usage,
                  const char  *member,
                  gint        *out,
                  GError     **error)
{
  JsonNode *node = json_object_get_member (usage, member);
  double value;

  *out = -1;
  if (node == NULL || JSON_NODE_HOLDS_NULL (node))
    return TRUE;

  if (!stache_json_node_is_integer (node) || (value = json_node_get_double (node)) < 0)
    {
      stache_http_client_set_malformed (self->client, error, self->url,
                                        _("“usage.%s” is not a whole number of at least 0"),
                                        member);
      return FALSE;
    }

  *out = value > G_MAXINT ? G_MAXINT : (gint) value;
  return TRUE;
}

/* Reads the optional string @member of @object into @out (NULL when it is
 * absent or null); @path is its name for the error message. */
static gboolean
read_optional_string (OpenaiLlm    *self,
                      JsonObject   *object,
                      const char   *member,
                      const char   *path,
                      const char  **out,
                      GError      **error)
{
  JsonNode *node = json_object_get_member (object, member);

  *out = NULL;
  if (node == NULL || JSON_NODE_HOLDS_NULL (node))
    return TRUE;

  if (!JSON_NODE_HOLDS_VALUE (node) || json_node_get_value_type (node) != G_TYPE_STRING)
    {
      stache_http_client_set_malformed (self->client, error, self->url,
                                        _("“%s” is not a string"), path);
      return FALSE;
    }

  *out = json_node_get_string (node);
  return TRUE;
}

static StacheCompletion *
parse_completion (OpenaiLlm   *self,
                  JsonNode    *root,
                  const char  *requested_model,
                  GError     **error)
{
  g_autoptr(StacheCompletion) completion = NULL;
  JsonObject *object, *choice, *message, *usage;
  JsonArray *choices;
  JsonNode *node;
  const char *content, *model, *finish_reason;
  gint prompt_tokens = -1, completion_tokens = -1;

  if (!JSON_NODE_HOLDS_OBJECT (root))
    {
      stache_http_client_set_malformed (self->client, error, self->url,
                                        _("the body is not a JSON object"));
      return NULL;
    }
  object = json_node_get_object (root);

  choices = stache_json_object_get_array (object, "choices");
  if (choices == NULL)
    {
      /* A few servers answer an error with status 200 */
      JsonObject *service_error = stache_json_object_get_object (object, "error");
      JsonNode *what = service_error != NULL ? json_object_get_member (service_error, "message") : NULL;

      if (what != NULL && JSON_NODE_HOLDS_VALUE (what) &&
          json_node_get_value_type (what) == G_TYPE_STRING)
        {
          g_autofree char *redacted = stache_http_client_redact (self->client,
                                                                 json_node_get_string (what));

          stache_http_client_set_malformed (self->client, error, self->url,
                                            _("it has no “choices” array; the service says: %s"), redacted);
        }
      else
        stache_http_client_set_malformed (self->client, error, self->url,
                                          _("it has no “choices” array"));
      return NULL;
    }

  if (json_array_get_length (choices) == 0)
    {
      stache_http_client_set_malformed (self->client, error, self->url,
                                        _("its “choices” array is empty"));
      return NULL;
    }

  node = json_array_get_element (choices, 0);
  if (!JSON_NODE_HOLDS_OBJECT (node))
    {
      stache_http_client_set_malformed (self->client, error, self->url,
                                        _("“choices[0]” is not an object"));
      return NULL;
    }
  choice = json_node_get_object (node);

  message = stache_json_object_get_object (choice, "message");
  if (message == NULL)
    {
      stache_http_client_set_malformed (self->client, error, self->url,
                                        _("it has no “choices[0].message” object"));
      return NULL;
    }

  node = json_object_get_member (message, "content");
  if (node == NULL || !JSON_NODE_HOLDS_VALUE (node) ||
      json_node_get_value_type (node) != G_TYPE_STRING)
    {
      stache_http_client_set_malformed (self->client, error, self->url,
                                        _("it has no “choices[0].message.content” string"));
      return NULL;
    }
  content = json_node_get_string (node);

  if (!read_optional_string (self, choice, "finish_reason", "choices[0].finish_reason",
                             &finish_reason, error) ||
      !read_optional_string (self, object, "model", "model", &model, error))
    return NULL;

  node = json_object_get_member (object, "usage");
  if (node != NULL && !JSON_NODE_HOLDS_NULL (node))
    {
      if (!JSON_NODE_HOLDS_OBJECT (node))
        {
          stache_http_client_set_malformed (self->client, error, self->url,
                                            _("“usage” is not an object"));
          return NULL;
        }
      usage = json_node_get_object (node);

      if (!read_token_count (self, usage, "prompt_tokens", &prompt_tokens, error) ||
          !read_token_count (self, usage, "completion_tokens", &completion_tokens, error))
        return NULL;
    }

  completion = stache_completion_new_full (content, model != NULL ? model : requested_model,
                                           finish_reason, prompt_tokens, completion_tokens);

  return g_steal_pointer (&completion);
}

/* ---- StacheLlmProvider ---- */

/* The request for one call, streamed or not; sets *@model to the model
 * asked for (owned by @self or @options) */
static JsonNode *
prepare_request (OpenaiLlm    *self,
                 const char   *prompt,
                 const char   *system_prompt,
                 JsonObject   *options,
                 gboolean      stream,
                 const char  **model,
                 GError      **error)
{
  JsonNode *model_option = get_option (options, "model");

  *model = self->model;
  if (model_option != NULL)
    {
      if (!JSON_NODE_HOLDS_VALUE (model_option) ||
          json_node_get_value_type (model_option) != G_TYPE_STRING ||
          *json_node_get_string (model_option) == '\0')
        {
          set_bad_option (error, "model", _("a non-empty string"));
          return NULL;
        }
      *model = json_node_get_string (model_option);
    }

  return build_request (*model, prompt, system_prompt, options, stream, error);
}

static StacheCompletion *
openai_llm_generate (StacheLlmProvider  *provider,
                     const char         *prompt,
                     const char         *system_prompt,
                     JsonObject         *options,
                     GCancellable       *cancellable,
                     GError            **error)
{
  OpenaiLlm *self = OPENAI_LLM (provider);
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
  OpenaiLlm       *self;
  StacheTokenFunc  token_func;
  gpointer         token_data;

  GString         *text;
  char            *model;           /* as the chunks name it */
  char            *finish_reason;
  gint             prompt_tokens;
  gint             completion_tokens;
  gboolean         done;            /* data: [DONE] was read */
} Stream;

/* The error of a chunk {"error": {"message", "type", "code"}} */
static void
set_stream_error (OpenaiLlm  *self,
                  JsonNode   *node,
                  GError    **error)
{
  JsonObject *object = JSON_NODE_HOLDS_OBJECT (node) ? json_node_get_object (node) : NULL;
  const char *message = NULL, *type = NULL, *code = NULL;
  StacheHttpError error_code = STACHE_HTTP_ERROR_SERVER;

  if (object != NULL)
    {
      GError *ignored = NULL;

      if (!read_optional_string (self, object, "message", "error.message", &message,
                                 &ignored) ||
          !read_optional_string (self, object, "type", "error.type", &type, &ignored))
        g_clear_error (&ignored);
      node = json_object_get_member (object, "code");
      if (node != NULL && JSON_NODE_HOLDS_VALUE (node) &&
          json_node_get_value_type (node) == G_TYPE_STRING)
        code = json_node_get_string (node);
    }
  else if (JSON_NODE_HOLDS_VALUE (node) && json_node_get_value_type (node) == G_TYPE_STRING)
    message = json_node_get_string (node);

  if ((type != NULL && strstr (type, "rate_limit") != NULL) ||
      (code != NULL && strstr (code, "rate_limit") != NULL))
    error_code = STACHE_HTTP_ERROR_RATE_LIMITED;
  else if (g_strcmp0 (type, "invalid_request_error") == 0 ||
           g_strcmp0 (type, "authentication_error") == 0 ||
           g_strcmp0 (type, "permission_error") == 0 ||
           g_strcmp0 (type, "not_found_error") == 0)
    error_code = STACHE_HTTP_ERROR_CLIENT;

  stache_http_client_set_stream_error (self->client, error, error_code, self->url, message, NULL);
}

/* A StacheHttpEventFunc: one chunk of the stream, or the [DONE] marker */
static gboolean
read_chunk (const char  *event,
            JsonNode    *data,
            gpointer     user_data,
            GError     **error)
{
  Stream *stream = user_data;
  OpenaiLlm *self = stream->self;
  JsonObject *chunk;
  JsonNode *node;
  JsonArray *choices;
  const char *model;

  if (data == NULL)
    {
      stream->done = TRUE;
      return FALSE;
    }
  if (!JSON_NODE_HOLDS_OBJECT (data))
    {
      stache_http_client_set_malformed (self->client, error, self->url,
                                        _("a streamed chunk is not a JSON object"));
      return FALSE;
    }
  chunk = json_node_get_object (data);

  node = json_object_get_member (chunk, "error");
  if (node != NULL && !JSON_NODE_HOLDS_NULL (node))
    {
      set_stream_error (self, node, error);
      return FALSE;
    }

  if (!read_optional_string (self, chunk, "model", "model", &model, error))
    return FALSE;
  if (model != NULL && *model != '\0' && g_strcmp0 (model, stream->model) != 0)
    {
      g_free (stream->model);
      stream->model = g_strdup (model);
    }

  node = json_object_get_member (chunk, "choices");
  if (node != NULL && !JSON_NODE_HOLDS_NULL (node) && !JSON_NODE_HOLDS_ARRAY (node))
    {
      stache_http_client_set_malformed (self->client, error, self->url,
                                        _("“choices” is not an array"));
      return FALSE;
    }
  choices = node != NULL && JSON_NODE_HOLDS_ARRAY (node) ? json_node_get_array (node) : NULL;

  /* Only the first choice is asked for (no "n"), but a server may number it */
  for (guint i = 0; choices != NULL && i < json_array_get_length (choices); i++)
    {
      JsonNode *element = json_array_get_element (choices, i);
      JsonObject *choice, *delta;
      const char *content, *finish_reason;

      if (!JSON_NODE_HOLDS_OBJECT (element))
        {
          stache_http_client_set_malformed (self->client, error, self->url,
                                            _("“choices[%u]” is not an object"), i);
          return FALSE;
        }
      choice = json_node_get_object (element);

      node = json_object_get_member (choice, "index");
      if (node != NULL && stache_json_node_is_integer (node) && json_node_get_double (node) != 0)
        continue;

      node = json_object_get_member (choice, "delta");
      if (node != NULL && !JSON_NODE_HOLDS_NULL (node))
        {
          if (!JSON_NODE_HOLDS_OBJECT (node))
            {
              stache_http_client_set_malformed (self->client, error, self->url,
                                                _("“choices[%u].delta” is not an object"), i);
              return FALSE;
            }
          delta = json_node_get_object (node);
          if (!read_optional_string (self, delta, "content", "choices[].delta.content", &content,
                                     error))
            return FALSE;
          if (content != NULL && *content != '\0')
            {
              g_string_append (stream->text, content);
              stream->token_func (content, stream->token_data);
            }
        }

      if (!read_optional_string (self, choice, "finish_reason", "choices[].finish_reason",
                                 &finish_reason, error))
        return FALSE;
      if (finish_reason != NULL)
        {
          g_free (stream->finish_reason);
          stream->finish_reason = g_strdup (finish_reason);
        }
    }

  node = json_object_get_member (chunk, "usage");
  if (node != NULL && !JSON_NODE_HOLDS_NULL (node))
    {
      if (!JSON_NODE_HOLDS_OBJECT (node))
        {
          stache_http_client_set_malformed (self->client, error, self->url,
                                            _("“usage” is not an object"));
          return FALSE;
        }
      if (!read_token_count (self, json_node_get_object (node), "prompt_tokens",
                             &stream->prompt_tokens, error) ||
          !read_token_count (self, json_node_get_object (node), "completion_tokens",
                             &stream->completion_tokens, error))
        return FALSE;
    }

  return TRUE;
}

static StacheCompletion *
openai_llm_generate_stream (StacheLlmProvider  *provider,
                            const char         *prompt,
                            const char         *system_prompt,
                            JsonObject         *options,
                            StacheTokenFunc     token_func,
                            gpointer            token_data,
                            GCancellable       *cancellable,
                            GError            **error)
{
  OpenaiLlm *self = OPENAI_LLM (provider);
  g_autoptr(JsonNode) request = NULL;
  g_autoptr(GString) text = NULL;
  g_autofree char *served_model = NULL;
  g_autofree char *finish_reason = NULL;
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
  stream.prompt_tokens = stream.completion_tokens = -1;

  ok = stache_http_client_stream_events (self->client, "POST", self->url, request,
                                         STACHE_HTTP_STREAM_SSE, read_chunk, &stream,
                                         cancellable, error);
  served_model = stream.model;
  finish_reason = stream.finish_reason;
  if (!ok)
    return NULL;

  if (!stream.done && finish_reason == NULL)
    {
      stache_http_client_set_malformed (self->client, error, self->url,
                                        _("the stream ended before its end (no finish_reason, no [DONE])"));
      return NULL;
    }

  completion = stache_completion_new_full (text->str, served_model != NULL ? served_model : model,
                                           finish_reason, stream.prompt_tokens, stream.completion_tokens);

  return completion;
}

static char **
openai_llm_get_capabilities (StacheLlmProvider *provider)
{
  const char * const caps[] = { "generate", "chat", "streaming", NULL };

  return g_strdupv ((char **) caps);
}

static void
openai_llm_iface_init (StacheLlmProviderInterface *iface)
{
  iface->generate = openai_llm_generate;
  iface->get_capabilities = openai_llm_get_capabilities;
  iface->generate_stream = openai_llm_generate_stream;
}

/* ---- setup: reads and checks the settings ---- */

static gboolean
openai_llm_setup (StacheRemoteProvider  *provider,
                  StacheSettings        *settings,
                  GCancellable          *cancellable,
                  GError               **error)
{
  OpenaiLlm *self = OPENAI_LLM (provider);

  self->client = openai_client_new (provider, settings, CHAT_PATH, &self->url, error);
  if (self->client == NULL)
    return FALSE;

  self->model = stache_settings_get_nonempty (settings, OPENAI_SETTING_MODEL, OPENAI_DEFAULT_MODEL);

  return TRUE;
}

/* ---- GObject ---- */

static void
openai_llm_finalize (GObject *object)
{
  OpenaiLlm *self = OPENAI_LLM (object);

  g_clear_pointer (&self->url, g_free);
  g_clear_pointer (&self->model, g_free);

  G_OBJECT_CLASS (openai_llm_parent_class)->finalize (object);
}

static void
openai_llm_class_init (OpenaiLlmClass *klass)
{
  STACHE_REMOTE_PROVIDER_CLASS (klass)->setup = openai_llm_setup;
  G_OBJECT_CLASS (klass)->finalize = openai_llm_finalize;
}

static void
openai_llm_class_finalize (OpenaiLlmClass *klass)
{
}

static void
openai_llm_init (OpenaiLlm *self)
{
}

void
openai_llm_register (GTypeModule *module)
{
  openai_llm_register_type (module);
}

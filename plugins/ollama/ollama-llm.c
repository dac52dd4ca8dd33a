/* ollama-llm.c: the `ollama` LLM provider, POST {url}/api/chat
 *
 * SPDX-License-Identifier: LGPL-2.1-or-later
 *
 * A prompt becomes one chat request, answered in one piece (or streamed,
 * see below):
 *
 *   {"model": "llama3.2",
 *    "messages": [{"role": "system", "content": <system prompt>},   (if any)
 *                 {"role": "user", "content": <prompt>}],
 *    "stream": false,
 *    "options": {"num_predict": <options.max_tokens>,               (if given)
 *                "temperature": <options.temperature>},             (if given)
 *    "keep_alive": <ollama_keep_alive>}                             (if set)
 *
 * "options" is left out when neither option is given. The answer's
 * message.content, "model", "done_reason", "prompt_eval_count" and
 * "eval_count" become the StacheCompletion. The option `model` replaces
 * the configured model for one call; other option keys are ignored.
 *
 * Settings: `ollama_model` (default llama3.2), and `ollama_url` and
 * `ollama_keep_alive` (see ollama-common.c).
 *
 * A body without message.content, or with a member of the wrong type, is
 * reported as STACHE_HTTP_ERROR_MALFORMED_RESPONSE naming the member.
 * "model", "done_reason" and the counts may be absent: the completion then
 * has the requested model, no finish reason and -1 tokens.
 *
 * Streaming (generate_stream) sends the same request with "stream": true.
 * The answer is newline-delimited JSON: objects with message.content (a
 * piece of text) and "done": false, then one with "done": true and the
 * members read above. A line {"error": "..."} is the server failing
 * midway: STACHE_HTTP_ERROR_SERVER with its message. A stream without a
 * "done": true object was cut short: MALFORMED_RESPONSE.
 *
 * The provider holds no mutable state once initialised; its HTTP client is
 * shared by the threads that call it.
 */
#include <math.h>

#include <glib/gi18n-lib.h>
#include <libpeas/peas.h>

#include "ollama-common.h"
#include "ollama-llm.h"

#define OLLAMA_SETTING_MODEL  "ollama_model"
#define OLLAMA_DEFAULT_MODEL  "llama3.2"
#define CHAT_PATH             "/api/chat"

struct _OllamaLlm
{
  StacheRemoteProvider parent_instance;

  /* Set once, by setup, before the provider is handed out; the client
   * belongs to the base class */
  StacheHttpClient *client;
  char             *url;
  char             *model;
  char             *keep_alive;   /* NULL: the server's default */
};

static void ollama_llm_iface_init (StacheLlmProviderInterface *iface);

G_DEFINE_DYNAMIC_TYPE_EXTENDED (OllamaLlm, ollama_llm, STACHE_TYPE_REMOTE_PROVIDER, G_TYPE_FLAG_FINAL,
                                G_IMPLEMENT_INTERFACE_DYNAMIC (STACHE_TYPE_LLM_PROVIDER,
                                                               ollama_llm_iface_init))

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
               _("ollama: the option “%s” must be %s"), key, expected);
}

static void
add_message (JsonBuilder *builder,
             const char  *role,
             const char  *content)
{
  json_builder_begin_object (builder);
  json_builder_set_member_name (builder, "role");
  json_builder_add_string_value (builder, role);
  json_builder_set_member_name (builder, "content");
  json_builder_add_string_value (builder, content);
  json_builder_end_object (builder);
}

static JsonNode *
build_request (OllamaLlm   *self,
               const char  *model,
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
    add_message (builder, "system", system_prompt);
  add_message (builder, "user", prompt);
  json_builder_end_array (builder);

  json_builder_set_member_name (builder, "stream");
  json_builder_add_boolean_value (builder, stream);

  if (max_tokens != NULL || temperature != NULL)
    {
      json_builder_set_member_name (builder, "options");
      json_builder_begin_object (builder);
      if (max_tokens != NULL)
        {
          json_builder_set_member_name (builder, "num_predict");
          json_builder_add_int_value (builder, (gint64) json_node_get_double (max_tokens));
        }
      if (temperature != NULL)
        {
          json_builder_set_member_name (builder, "temperature");
          json_builder_add_double_value (builder, json_node_get_double (temperature));
        }
      json_builder_end_object (builder);
    }

  if (self->keep_alive != NULL)
    {
      json_builder_set_member_name (builder, "keep_alive");
      json_builder_add_string_value (builder, self->keep_alive);
    }

  json_builder_end_object (builder);

  return json_builder_get_root (builder);
}

/* ---- the response ---- */

/* Reads the token count @member of @object into @out (-1 when absent) */
static gboolean
read_token_count (OllamaLlm   *self,
                  JsonObject  *object,
                  const char  *member,
                  gint        *out,
                  GError     **error)
{
  JsonNode *node = json_object_get_member (object, member);
  double value;

  *out = -1;
  if (node == NULL || JSON_NODE_HOLDS_NULL (node))
    return TRUE;

  if (!stache_json_node_is_integer (node) || (value = json_node_get_double (node)) < 0)
    {
      stache_http_client_set_malformed (self->client, error, self->url,
                                        _("“%s” is not a whole number of at least 0"),
                                        member);
      return FALSE;
    }

  *out = value > G_MAXINT ? G_MAXINT : (gint) value;
  return TRUE;
}

/* Reads the optional string @member of @object into @out (NULL when it is
 * absent or null) */
static gboolean
read_optional_string (OllamaLlm    *self,
                      JsonObject   *object,
                      const char   *member,
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
                                        _("“%s” is not a string"), member);
      return FALSE;
    }

  *out = json_node_get_string (node);
  return TRUE;
}

static StacheCompletion *
parse_completion (OllamaLlm   *self,
                  JsonNode    *root,
                  const char  *requested_model,
                  GError     **error)
{
  g_autoptr(StacheCompletion) completion = NULL;
  JsonObject *object, *message;
  JsonNode *node;
  const char *content, *model, *done_reason;
  gint prompt_tokens = -1, completion_tokens = -1;

  if (!JSON_NODE_HOLDS_OBJECT (root))
    {
      stache_http_client_set_malformed (self->client, error, self->url,
                                        _("the body is not a JSON object"));
      return NULL;
    }
  object = json_node_get_object (root);

  message = stache_json_object_get_object (object, "message");
  if (message == NULL)
    {
      /* An error may come with status 200 */
      node = json_object_get_member (object, "error");
      if (node != NULL && JSON_NODE_HOLDS_VALUE (node) &&
          json_node_get_value_type (node) == G_TYPE_STRING)
        stache_http_client_set_malformed (self->client, error, self->url,
                                          _("it has no “message” object; the server says: %s"),
                                          json_node_get_string (node));
      else
        stache_http_client_set_malformed (self->client, error, self->url,
                                          _("it has no “message” object"));
      return NULL;
    }

  node = json_object_get_member (message, "content");
  if (node == NULL || !JSON_NODE_HOLDS_VALUE (node) ||
      json_node_get_value_type (node) != G_TYPE_STRING)
    {
      stache_http_client_set_malformed (self->client, error, self->url,
                                        _("it has no “message.content” string"));
      return NULL;
    }
  content = json_node_get_string (node);

  if (!read_optional_string (self, object, "done_reason", &done_reason, error) ||
      !read_optional_string (self, object, "model", &model, error) ||
      !read_token_count (self, object, "prompt_eval_count", &prompt_tokens, error) ||
      !read_token_count (self, object, "eval_count", &completion_tokens, error))
    return NULL;

  completion = stache_completion_new_full (content, model != NULL ? model : requested_model,
                                           done_reason, prompt_tokens, completion_tokens);

  return g_steal_pointer (&completion);
}

/* ---- StacheLlmProvider ---- */

/* The request for one call, streamed or not; sets *@model to the model
 * asked for (owned by @self or @options) */
static JsonNode *
prepare_request (OllamaLlm    *self,
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

  return build_request (self, *model, prompt, system_prompt, options, stream, error);
}

static StacheCompletion *
ollama_llm_generate (StacheLlmProvider  *provider,
                     const char         *prompt,
                     const char         *system_prompt,
                     JsonObject         *options,
                     GCancellable       *cancellable,
                     GError            **error)
{
  OllamaLlm *self = OLLAMA_LLM (provider);
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
  OllamaLlm       *self;
  StacheTokenFunc  token_func;
  gpointer         token_data;

  GString         *text;
  char            *model;           /* as the objects name it */
  char            *done_reason;
  gint             prompt_tokens;
  gint             completion_tokens;
  gboolean         done;            /* the "done": true object was read */
} Stream;

/* A StacheHttpEventFunc: one object of the newline-delimited stream */
static gboolean
read_object (const char  *event,
             JsonNode    *data,
             gpointer     user_data,
             GError     **error)
{
  Stream *stream = user_data;
  OllamaLlm *self = stream->self;
  JsonObject *object;
  JsonNode *node;
  const char *model, *done_reason;

  if (data == NULL || !JSON_NODE_HOLDS_OBJECT (data))
    {
      stache_http_client_set_malformed (self->client, error, self->url,
                                        _("a streamed line is not a JSON object"));
      return FALSE;
    }
  object = json_node_get_object (data);

  node = json_object_get_member (object, "error");
  if (node != NULL && !JSON_NODE_HOLDS_NULL (node))
    {
      stache_http_client_set_stream_error (self->client, error, STACHE_HTTP_ERROR_SERVER,
                                           self->url,
                                           stache_json_node_is_string (node)
                                             ? json_node_get_string (node) : NULL,
                                           NULL);
      return FALSE;
    }

  if (!read_optional_string (self, object, "model", &model, error))
    return FALSE;
  if (model != NULL && *model != '\0' && g_strcmp0 (model, stream->model) != 0)
    {
      g_free (stream->model);
      stream->model = g_strdup (model);
    }

  node = json_object_get_member (object, "message");
  if (node != NULL && !JSON_NODE_HOLDS_NULL (node))
    {
      const char *content;

      if (!JSON_NODE_HOLDS_OBJECT (node))
        {
          stache_http_client_set_malformed (self->client, error, self->url,
                                            _("“message” is not an object"));
          return FALSE;
        }
      if (!read_optional_string (self, json_node_get_object (node), "content", &content, error))
        return FALSE;
      if (content != NULL && *content != '\0')
        {
          g_string_append (stream->text, content);
          stream->token_func (content, stream->token_data);
        }
    }

  node = json_object_get_member (object, "done");
  if (node == NULL || !JSON_NODE_HOLDS_VALUE (node) ||
      json_node_get_value_type (node) != G_TYPE_BOOLEAN)
    {
      stache_http_client_set_malformed (self->client, error, self->url,
                                        _("a streamed object has no “done” boolean"));
      return FALSE;
    }
  if (!json_node_get_boolean (node))
    return TRUE;

  if (!read_optional_string (self, object, "done_reason", &done_reason, error) ||
      !read_token_count (self, object, "prompt_eval_count", &stream->prompt_tokens, error) ||
      !read_token_count (self, object, "eval_count", &stream->completion_tokens, error))
    return FALSE;
  stream->done_reason = g_strdup (done_reason);
  stream->done = TRUE;

  /* The end: stop reading, successfully */
  return FALSE;
}

static StacheCompletion *
ollama_llm_generate_stream (StacheLlmProvider  *provider,
                            const char         *prompt,
                            const char         *system_prompt,
                            JsonObject         *options,
                            StacheTokenFunc     token_func,
                            gpointer            token_data,
                            GCancellable       *cancellable,
                            GError            **error)
{
  OllamaLlm *self = OLLAMA_LLM (provider);
  g_autoptr(JsonNode) request = NULL;
  g_autoptr(GString) text = NULL;
  g_autofree char *served_model = NULL;
  g_autofree char *done_reason = NULL;
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
                                         STACHE_HTTP_STREAM_NDJSON, read_object, &stream,
                                         cancellable, error);
  served_model = stream.model;
  done_reason = stream.done_reason;
  if (!ok)
    return NULL;

  if (!stream.done)
    {
      stache_http_client_set_malformed (self->client, error, self->url,
                                        _("the stream ended before its “done”: true object"));
      return NULL;
    }

  completion = stache_completion_new_full (text->str, served_model != NULL ? served_model : model,
                                           done_reason, stream.prompt_tokens, stream.completion_tokens);

  return completion;
}

static char **
ollama_llm_get_capabilities (StacheLlmProvider *provider)
{
  const char * const caps[] = { "generate", "chat", "streaming", NULL };

  return g_strdupv ((char **) caps);
}

static void
ollama_llm_iface_init (StacheLlmProviderInterface *iface)
{
  iface->generate = ollama_llm_generate;
  iface->get_capabilities = ollama_llm_get_capabilities;
  iface->generate_stream = ollama_llm_generate_stream;
}

/* ---- setup: reads and checks the settings ---- */

static gboolean
ollama_llm_setup (StacheRemoteProvider  *provider,
                  StacheSettings        *settings,
                  GCancellable          *cancellable,
                  GError               **error)
{
  OllamaLlm *self = OLLAMA_LLM (provider);

  self->client = ollama_client_new (provider, settings, CHAT_PATH, &self->url, &self->keep_alive, error);
  if (self->client == NULL)
    return FALSE;

  self->model = stache_settings_get_nonempty (settings, OLLAMA_SETTING_MODEL, OLLAMA_DEFAULT_MODEL);

  return TRUE;
}

/* ---- GObject ---- */

static void
ollama_llm_finalize (GObject *object)
{
  OllamaLlm *self = OLLAMA_LLM (object);

  g_clear_pointer (&self->url, g_free);
  g_clear_pointer (&self->model, g_free);
  g_clear_pointer (&self->keep_alive, g_free);

  G_OBJECT_CLASS (ollama_llm_parent_class)->finalize (object);
}

static void
ollama_llm_class_init (OllamaLlmClass *klass)
{
  STACHE_REMOTE_PROVIDER_CLASS (klass)->setup = ollama_llm_setup;
  G_OBJECT_CLASS (klass)->finalize = ollama_llm_finalize;
}

static void
ollama_llm_class_finalize (OllamaLlmClass *klass)
{
}

static void
ollama_llm_init (OllamaLlm *self)
{
}

void
ollama_llm_register (GTypeModule *module)
{
  ollama_llm_register_type (module);
}

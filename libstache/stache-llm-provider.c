/* stache-llm-provider.c: the language model provider interface
 *
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */
#include "config.h"

#include "stache-completion.h"
#include "stache-error.h"
#include "stache-llm-provider.h"
#include "stache-private.h"
#include "stache-provider-private.h"
#include "stache-task-private.h"

/**
 * StacheLlmProvider:
 *
 * Generates text with a language model.
 *
 * A provider turns a prompt, an optional system prompt and a few generation
 * options into a #StacheCompletion: the generated text together with the
 * model that wrote it, why it stopped and how many tokens it used. Stache
 * uses it to answer questions from retrieved chunks and to summarize
 * documents.
 *
 * Options are a #JsonObject with well-known keys: `max_tokens` (an integer,
 * the most tokens to generate), `temperature` (a double) and `model` (a
 * string naming the model to use instead of the configured one). A provider
 * ignores keys it does not know, so callers can pass engine-specific keys
 * without breaking other providers.
 *
 * Capabilities are strings (`generate`, `chat`, `streaming`, …) so a plugin
 * can announce features the core does not know of.
 *
 * The extension point name is `llm`; the setting `llm_provider`
 * (environment variable `LLM_PROVIDER`) selects the provider.
 *
 * A plugin written in Python or Lua implements `do_generate` (and, if it
 * has more to announce than `generate`, `do_get_capabilities`); the
 * asynchronous method then runs `do_generate` in a worker thread.
 */

G_DEFINE_INTERFACE (StacheLlmProvider, stache_llm_provider, STACHE_TYPE_PROVIDER)

/* ---- checking what a provider returns ---- */

/* Takes @completion and @local_error; returns @completion, or NULL with
 * @error set if the provider failed or returned nothing without saying why. */
static StacheCompletion *
check_completion (StacheLlmProvider  *self,
                  StacheCompletion   *completion,
                  GError             *local_error,
                  GError            **error)
{
  if (local_error != NULL)
    {
      g_clear_object (&completion);
      g_propagate_error (error, local_error);
      return NULL;
    }

  if (completion == NULL)
    {
      g_set_error (error, STACHE_ERROR, STACHE_ERROR_FAILED,
                   _("Language model provider %s returned no completion and no error"),
                   G_OBJECT_TYPE_NAME (self));
      return NULL;
    }

  return completion;
}

/* ---- the asynchronous form: the public sync function in a thread ---- */

/* The arguments of one call, owned by it: the caller may free its own as
 * soon as the _async function returns. */
typedef struct
{
  char       *prompt;
  char       *system_prompt;
  JsonObject *options;
} CallData;

static void
call_data_free (gpointer p)
{
  CallData *data = p;

  g_free (data->prompt);
  g_free (data->system_prompt);
  g_clear_pointer (&data->options, json_object_unref);
  g_free (data);
}

static gpointer
generate_work (gpointer       source,
               gpointer       task_data,
               GCancellable  *cancellable,
               GError       **error)
{
  CallData *data = task_data;

  return stache_llm_provider_generate (source, data->prompt, data->system_prompt, data->options,
                                       cancellable, error);
}

static char **
real_get_capabilities (StacheLlmProvider *self)
{
  const char * const caps[] = { "generate", NULL };

  return g_strdupv ((char **) caps);
}

static void
stache_llm_provider_default_init (StacheLlmProviderInterface *iface)
{
  _stache_i18n_init ();

  iface->get_capabilities = real_get_capabilities;
}

/* ---- argument checks ---- */

static gboolean
check_generate_args (StacheLlmProvider  *self,
                     const char         *prompt,
                     const char         *system_prompt,
                     GError            **error)
{
  if (prompt == NULL)
    {
      g_set_error (error, STACHE_ERROR, STACHE_ERROR_INVALID_ARGUMENT,
                   _("Generate with %s: no prompt was given"),
                   G_OBJECT_TYPE_NAME (self));
      return FALSE;
    }

  if (!g_utf8_validate (prompt, -1, NULL))
    {
      g_set_error (error, STACHE_ERROR, STACHE_ERROR_INVALID_ARGUMENT,
                   _("Generate with %s: the prompt is not valid UTF-8"),
                   G_OBJECT_TYPE_NAME (self));
      return FALSE;
    }

  if (*prompt == '\0')
    {
      g_set_error (error, STACHE_ERROR, STACHE_ERROR_INVALID_ARGUMENT,
                   _("Generate with %s: the prompt is empty"),
                   G_OBJECT_TYPE_NAME (self));
      return FALSE;
    }

  if (system_prompt != NULL && !g_utf8_validate (system_prompt, -1, NULL))
    {
      g_set_error (error, STACHE_ERROR, STACHE_ERROR_INVALID_ARGUMENT,
                   _("Generate with %s: the system prompt is not valid UTF-8"),
                   G_OBJECT_TYPE_NAME (self));
      return FALSE;
    }

  return TRUE;
}

/* ---- public entry points ---- */

/**
 * stache_llm_provider_generate: (virtual generate)
 * @self: a #StacheLlmProvider
 * @prompt: the prompt, a non-empty UTF-8 string
 * @system_prompt: (nullable): instructions that frame the conversation, or
 *   %NULL for none
 * @options: (nullable): generation options: `max_tokens` (integer),
 *   `temperature` (double), `model` (string); keys a provider does not know
 *   are ignored
 * @cancellable: (nullable): a #GCancellable
 * @error: return location for a #GError
 *
 * Generates a completion for @prompt.
 *
 * A missing, empty or invalid prompt fails with
 * %STACHE_ERROR_INVALID_ARGUMENT before the provider is called.
 *
 * Returns: (transfer full): the completion, or %NULL with @error set
 */
StacheCompletion *
stache_llm_provider_generate (StacheLlmProvider  *self,
                              const char         *prompt,
                              const char         *system_prompt,
                              JsonObject         *options,
                              GCancellable       *cancellable,
                              GError            **error)
{
  StacheLlmProviderInterface *iface;
  StacheCompletion *completion;
  GError *local_error = NULL;

  g_return_val_if_fail (STACHE_IS_LLM_PROVIDER (self), NULL);
  g_return_val_if_fail (cancellable == NULL || G_IS_CANCELLABLE (cancellable), NULL);
  g_return_val_if_fail (error == NULL || *error == NULL, NULL);

  if (!check_generate_args (self, prompt, system_prompt, error))
    return NULL;

  iface = STACHE_LLM_PROVIDER_GET_IFACE (self);
  if (iface->generate == NULL)
    {
      _stache_set_not_supported (error, self, "generate");
      return NULL;
    }

  completion = iface->generate (self, prompt, system_prompt, options, cancellable, &local_error);

  return check_completion (self, completion, local_error, error);
}

/**
 * stache_llm_provider_generate_async:
 * @self: a #StacheLlmProvider
 * @prompt: the prompt, a non-empty UTF-8 string
 * @system_prompt: (nullable): instructions that frame the conversation, or
 *   %NULL for none
 * @options: (nullable): generation options; see
 *   stache_llm_provider_generate()
 * @cancellable: (nullable): a #GCancellable
 * @callback: (scope async): called with the completion
 * @user_data: data for @callback
 *
 * Asynchronously generates a completion; see stache_llm_provider_generate().
 * The arguments are copied, so the caller may free them at once.
 */
void
stache_llm_provider_generate_async (StacheLlmProvider   *self,
                                    const char          *prompt,
                                    const char          *system_prompt,
                                    JsonObject          *options,
                                    GCancellable        *cancellable,
                                    GAsyncReadyCallback  callback,
                                    gpointer             user_data)
{
  CallData *data;

  g_return_if_fail (STACHE_IS_LLM_PROVIDER (self));
  g_return_if_fail (cancellable == NULL || G_IS_CANCELLABLE (cancellable));

  data = g_new0 (CallData, 1);
  data->prompt = g_strdup (prompt);
  data->system_prompt = g_strdup (system_prompt);
  data->options = options != NULL ? json_object_ref (options) : NULL;
  _stache_task_run_in_thread (self, stache_llm_provider_generate_async, generate_work, data, call_data_free,
                              g_object_unref, cancellable, callback, user_data);
}

/**
 * stache_llm_provider_generate_finish:
 * @self: a #StacheLlmProvider
 * @result: the #GAsyncResult passed to the callback
 * @error: return location for a #GError
 *
 * Finishes stache_llm_provider_generate_async().
 *
 * Returns: (transfer full): the completion, or %NULL with @error set
 */
StacheCompletion *
stache_llm_provider_generate_finish (StacheLlmProvider  *self,
                                     GAsyncResult       *result,
                                     GError            **error)
{
  g_return_val_if_fail (STACHE_IS_LLM_PROVIDER (self), NULL);

  return _stache_task_finish_pointer (self, result, stache_llm_provider_generate_async, error);
}

/* Passes the provider's pieces on, dropping empty ones and refusing
 * invalid UTF-8 so the caller never sees either. */
typedef struct
{
  StacheLlmProvider *self;
  StacheTokenFunc    token_func;
  gpointer           token_data;
  gboolean           bad_utf8;
} StreamRelay;

static void
relay_token (const char *token,
             gpointer    user_data)
{
  StreamRelay *relay = user_data;

  if (token == NULL || *token == '\0' || relay->bad_utf8)
    return;
  if (!g_utf8_validate (token, -1, NULL))
    {
      relay->bad_utf8 = TRUE;
      return;
    }
  relay->token_func (token, relay->token_data);
}

/**
 * stache_llm_provider_generate_stream: (virtual generate_stream)
 * @self: a #StacheLlmProvider
 * @prompt: the prompt, a non-empty UTF-8 string
 * @system_prompt: (nullable): instructions that frame the conversation, or
 *   %NULL for none
 * @options: (nullable): generation options; see
 *   stache_llm_provider_generate()
 * @token_func: (scope call) (closure token_data): receives the text as it
 *   is generated
 * @token_data: data for @token_func
 * @cancellable: (nullable): a #GCancellable
 * @error: return location for a #GError
 *
 * Generates a completion for @prompt like stache_llm_provider_generate(),
 * and gives its text to @token_func piece by piece, in the calling thread,
 * as the model writes it. The pieces joined are the completion's text.
 *
 * A provider that cannot stream (one without the `streaming` capability)
 * gives the whole text in one piece when it is done, so callers need only
 * one code path. Cancelling @cancellable stops the stream.
 *
 * Returns: (transfer full): the completion, or %NULL with @error set; when
 *   the stream fails midway @token_func may already have been called
 */
StacheCompletion *
stache_llm_provider_generate_stream (StacheLlmProvider  *self,
                                     const char         *prompt,
                                     const char         *system_prompt,
                                     JsonObject         *options,
                                     StacheTokenFunc     token_func,
                                     gpointer            token_data,
                                     GCancellable       *cancellable,
                                     GError            **error)
{
  StacheLlmProviderInterface *iface;
  StacheCompletion *completion;
  GError *local_error = NULL;
  StreamRelay relay = { self, token_func, token_data, FALSE };

  g_return_val_if_fail (STACHE_IS_LLM_PROVIDER (self), NULL);
  g_return_val_if_fail (token_func != NULL, NULL);
  g_return_val_if_fail (cancellable == NULL || G_IS_CANCELLABLE (cancellable), NULL);
  g_return_val_if_fail (error == NULL || *error == NULL, NULL);

  if (!check_generate_args (self, prompt, system_prompt, error))
    return NULL;

  iface = STACHE_LLM_PROVIDER_GET_IFACE (self);
  if (iface->generate_stream == NULL)
    {
      const char *text;

      completion = stache_llm_provider_generate (self, prompt, system_prompt, options,
                                                 cancellable, error);
      if (completion == NULL)
        return NULL;

      text = stache_completion_get_text (completion);
      if (text != NULL && *text != '\0')
        token_func (text, token_data);
      return completion;
    }

  completion = iface->generate_stream (self, prompt, system_prompt, options,
                                       relay_token, &relay, cancellable, &local_error);
  completion = check_completion (self, completion, local_error, error);
  if (completion != NULL && relay.bad_utf8)
    {
      g_clear_object (&completion);
      g_set_error (error, STACHE_ERROR, STACHE_ERROR_FAILED,
                   _("Language model provider %s streamed text that is not valid UTF-8"),
                   G_OBJECT_TYPE_NAME (self));
    }

  return completion;
}

/**
 * stache_llm_provider_get_capabilities: (virtual get_capabilities)
 * @self: a #StacheLlmProvider
 *
 * Lists what the model can do, such as `generate`, `chat` or `streaming`.
 *
 * Returns: (transfer full) (array zero-terminated=1): the capabilities
 */
char **
stache_llm_provider_get_capabilities (StacheLlmProvider *self)
{
  StacheLlmProviderInterface *iface;
  char **caps = NULL;

  g_return_val_if_fail (STACHE_IS_LLM_PROVIDER (self), NULL);

  iface = STACHE_LLM_PROVIDER_GET_IFACE (self);
  if (iface->get_capabilities != NULL)
    caps = iface->get_capabilities (self);
  if (caps == NULL)
    caps = g_new0 (char *, 1);

  return caps;
}

/**
 * stache_llm_provider_has_capability:
 * @self: a #StacheLlmProvider
 * @capability: a capability name such as `streaming`
 *
 * Checks whether the model announces @capability.
 *
 * Returns: %TRUE if it does
 */
gboolean
stache_llm_provider_has_capability (StacheLlmProvider *self,
                                    const char        *capability)
{
  g_auto(GStrv) caps = NULL;

  g_return_val_if_fail (STACHE_IS_LLM_PROVIDER (self), FALSE);
  g_return_val_if_fail (capability != NULL, FALSE);

  caps = stache_llm_provider_get_capabilities (self);

  return g_strv_contains ((const char * const *) caps, capability);
}

void
_stache_llm_provider_add_missing_methods (const StacheLlmProviderInterface *iface,
                                          GPtrArray                        *missing)
{
  if (iface->generate == NULL)
    g_ptr_array_add (missing, (gpointer) "generate");
}

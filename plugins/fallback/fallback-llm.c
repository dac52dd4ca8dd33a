/* fallback-llm.c: the `fallback` LLM provider
 *
 * SPDX-License-Identifier: LGPL-2.1-or-later
 *
 * LLM_PROVIDER=fallback LLM_FALLBACK_PROVIDERS=anthropic,ollama,extractive
 * asks Anthropic; if Anthropic cannot be reached, times out, is overloaded
 * or rate-limits us after the HTTP client's own retries, it asks Ollama,
 * and then the extractive provider, which needs no service. See
 * fallback-chain.c for when the chain moves on.
 *
 * Streaming: a member streams its answer through to the caller. Once a
 * member has given text, the chain cannot take it back, so a member that
 * fails midway ends the call with its error instead of moving on.
 *
 * Capabilities: `generate`, `fallback`, and `streaming` if any member
 * streams.
 */
#include <glib/gi18n-lib.h>
#include <libpeas/peas.h>

#include "fallback-chain.h"
#include "fallback-llm.h"

#define FALLBACK_SETTING_LLM_PROVIDERS "llm_fallback_providers"

struct _FallbackLlm
{
  StacheProvider  parent_instance;

  /* Set once, by initable_init, before the provider is handed out */
  FallbackChain  *chain;
};

static void fallback_llm_iface_init (StacheLlmProviderInterface *iface);
static void fallback_llm_initable_iface_init (GInitableIface *iface);

G_DEFINE_DYNAMIC_TYPE_EXTENDED (FallbackLlm, fallback_llm, STACHE_TYPE_PROVIDER,
                                G_TYPE_FLAG_FINAL,
                                G_IMPLEMENT_INTERFACE_DYNAMIC (STACHE_TYPE_LLM_PROVIDER,
                                                               fallback_llm_iface_init)
                                G_IMPLEMENT_INTERFACE_DYNAMIC (G_TYPE_INITABLE,
                                                               fallback_llm_initable_iface_init))

/* ---- StacheLlmProvider ---- */

/* Counts the pieces a member streams on their way to the caller */
typedef struct
{
  StacheTokenFunc token_func;
  gpointer        token_data;
  guint           n_tokens;
} Relay;

static void
relay_token (const char *token,
             gpointer    user_data)
{
  Relay *relay = user_data;

  relay->n_tokens++;
  relay->token_func (token, relay->token_data);
}

/* Both entry points: with @token_func NULL it generates, else it streams */
static StacheCompletion *
run_chain (FallbackLlm      *self,
           const char       *prompt,
           const char       *system_prompt,
           JsonObject       *options,
           StacheTokenFunc   token_func,
           gpointer          token_data,
           GCancellable     *cancellable,
           GError          **error)
{
  g_autoptr(GString) failures = g_string_new (NULL);
  GError *last_error = NULL;

  for (guint i = 0; i < self->chain->members->len; i++)
    {
      StacheLlmProvider *member = g_ptr_array_index (self->chain->members, i);
      const char *name = g_ptr_array_index (self->chain->names, i);
      Relay relay = { token_func, token_data, 0 };
      StacheCompletion *completion;
      GError *local_error = NULL;

      if (token_func != NULL)
        completion = stache_llm_provider_generate_stream (member, prompt, system_prompt, options,
                                                          relay_token, &relay, cancellable,
                                                          &local_error);
      else
        completion = stache_llm_provider_generate (member, prompt, system_prompt, options,
                                                   cancellable, &local_error);
      if (completion != NULL)
        {
          g_clear_error (&last_error);
          if (i > 0)
            g_debug ("Answered by “%s” after: %s", name, failures->str);
          return completion;
        }

      if (relay.n_tokens > 0 || !fallback_chain_moves_on (local_error, cancellable))
        {
          g_clear_error (&last_error);
          g_propagate_error (error, local_error);
          return NULL;
        }

      g_debug ("“%s” failed, trying the next provider: %s", name, local_error->message);
      fallback_chain_add_failure (failures, name, local_error);
      g_clear_error (&last_error);
      last_error = local_error;
    }

  fallback_chain_set_exhausted (self->chain, failures, last_error, error);
  return NULL;
}

static StacheCompletion *
fallback_llm_generate (StacheLlmProvider  *provider,
                       const char         *prompt,
                       const char         *system_prompt,
                       JsonObject         *options,
                       GCancellable       *cancellable,
                       GError            **error)
{
  return run_chain (FALLBACK_LLM (provider), prompt, system_prompt, options, NULL, NULL,
                    cancellable, error);
}

static StacheCompletion *
fallback_llm_generate_stream (StacheLlmProvider  *provider,
                              const char         *prompt,
                              const char         *system_prompt,
                              JsonObject         *options,
                              StacheTokenFunc     token_func,
                              gpointer            token_data,
                              GCancellable       *cancellable,
                              GError            **error)
{
  return run_chain (FALLBACK_LLM (provider), prompt, system_prompt, options, token_func,
                    token_data, cancellable, error);
}

static char **
fallback_llm_get_capabilities (StacheLlmProvider *provider)
{
  FallbackLlm *self = FALLBACK_LLM (provider);
  g_autoptr(GStrvBuilder) builder = g_strv_builder_new ();

  g_strv_builder_add_many (builder, "generate", "fallback", NULL);
  for (guint i = 0; i < self->chain->members->len; i++)
    {
      if (stache_llm_provider_has_capability (g_ptr_array_index (self->chain->members, i),
                                              "streaming"))
        {
          g_strv_builder_add (builder, "streaming");
          break;
        }
    }

  return g_strv_builder_end (builder);
}

static void
fallback_llm_iface_init (StacheLlmProviderInterface *iface)
{
  iface->generate = fallback_llm_generate;
  iface->generate_stream = fallback_llm_generate_stream;
  iface->get_capabilities = fallback_llm_get_capabilities;
}

/* ---- GInitable: creates the members ---- */

static gboolean
fallback_llm_initable_init (GInitable     *initable,
                            GCancellable  *cancellable,
                            GError       **error)
{
  FallbackLlm *self = FALLBACK_LLM (initable);
  StacheSettings *settings = stache_provider_get_settings (STACHE_PROVIDER (self));
  g_autoptr(StacheSettings) own_settings = NULL;

  /* GInitable allows a second call; the first one's result stands */
  if (self->chain != NULL)
    return TRUE;

  if (settings == NULL)
    settings = own_settings = stache_settings_new ();

  self->chain = fallback_chain_new (settings, STACHE_PROVIDER_TYPE_LLM,
                                    FALLBACK_SETTING_LLM_PROVIDERS, error);

  return self->chain != NULL;
}

static void
fallback_llm_initable_iface_init (GInitableIface *iface)
{
  iface->init = fallback_llm_initable_init;
}

/* ---- GObject ---- */

static void
fallback_llm_finalize (GObject *object)
{
  FallbackLlm *self = FALLBACK_LLM (object);

  g_clear_pointer (&self->chain, fallback_chain_free);

  G_OBJECT_CLASS (fallback_llm_parent_class)->finalize (object);
}

static void
fallback_llm_class_init (FallbackLlmClass *klass)
{
  G_OBJECT_CLASS (klass)->finalize = fallback_llm_finalize;
}

static void
fallback_llm_class_finalize (FallbackLlmClass *klass)
{
}

static void
fallback_llm_init (FallbackLlm *self)
{
}

void
fallback_llm_register (GTypeModule *module)
{
  fallback_llm_register_type (module);
}

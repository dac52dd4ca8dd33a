/* stache-llm-provider.h: the language model provider interface
 *
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */
#pragma once

#if !defined(STACHE_INSIDE) && !defined(STACHE_COMPILATION)
# error "Only <stache.h> can be included directly."
#endif

#include <gio/gio.h>
#include <json-glib/json-glib.h>

#include "stache-completion.h"
#include "stache-provider.h"

G_BEGIN_DECLS

/**
 * StacheTokenFunc:
 * @token: the next piece of generated text, valid UTF-8, never empty
 * @user_data: the data passed with the function
 *
 * Receives generated text as the model writes it; the pieces, joined, are
 * the text of the completion. See stache_llm_provider_generate_stream().
 */
typedef void (*StacheTokenFunc) (const char *token,
                                 gpointer    user_data);

#define STACHE_TYPE_LLM_PROVIDER (stache_llm_provider_get_type ())

STACHE_AVAILABLE_IN_ALL
G_DECLARE_INTERFACE (StacheLlmProvider, stache_llm_provider, STACHE, LLM_PROVIDER, StacheProvider)

/**
 * StacheLlmProviderInterface:
 * @parent_iface: the parent interface
 * @generate: generates a completion for a prompt; required
 * @get_capabilities: lists what the model can do; optional, the default is
 *   `generate`
 * @generate_stream: generates a completion, giving its text to a
 *   #StacheTokenFunc piece by piece as the model writes it; optional, the
 *   default calls @generate and gives the whole text at once. A provider
 *   that implements it also announces the `streaming` capability.
 *
 * The virtual methods of #StacheLlmProvider, all synchronous (a plugin in
 * a scripting language implements `do_generate`, and optionally
 * `do_get_capabilities`); stache_llm_provider_generate_async() runs
 * stache_llm_provider_generate() in a worker thread.
 */
struct _StacheLlmProviderInterface
{
  GTypeInterface parent_iface;

  StacheCompletion *(*generate)         (StacheLlmProvider    *self,
                                         const char           *prompt,
                                         const char           *system_prompt,
                                         JsonObject           *options,
                                         GCancellable         *cancellable,
                                         GError              **error);
  char            **(*get_capabilities) (StacheLlmProvider    *self);

  StacheCompletion *(*generate_stream)  (StacheLlmProvider    *self,
                                         const char           *prompt,
                                         const char           *system_prompt,
                                         JsonObject           *options,
                                         StacheTokenFunc       token_func,
                                         gpointer              token_data,
                                         GCancellable         *cancellable,
                                         GError              **error);

  /*< private >*/
  gpointer padding[11];
};

STACHE_AVAILABLE_IN_ALL
StacheCompletion *stache_llm_provider_generate         (StacheLlmProvider    *self,
                                                        const char           *prompt,
                                                        const char           *system_prompt,
                                                        JsonObject           *options,
                                                        GCancellable         *cancellable,
                                                        GError              **error);
STACHE_AVAILABLE_IN_ALL
void              stache_llm_provider_generate_async   (StacheLlmProvider    *self,
                                                        const char           *prompt,
                                                        const char           *system_prompt,
                                                        JsonObject           *options,
                                                        GCancellable         *cancellable,
                                                        GAsyncReadyCallback   callback,
                                                        gpointer              user_data);
STACHE_AVAILABLE_IN_ALL
StacheCompletion *stache_llm_provider_generate_finish  (StacheLlmProvider    *self,
                                                        GAsyncResult         *result,
                                                        GError              **error);
STACHE_AVAILABLE_IN_ALL
StacheCompletion *stache_llm_provider_generate_stream  (StacheLlmProvider    *self,
                                                        const char           *prompt,
                                                        const char           *system_prompt,
                                                        JsonObject           *options,
                                                        StacheTokenFunc       token_func,
                                                        gpointer              token_data,
                                                        GCancellable         *cancellable,
                                                        GError              **error);
STACHE_AVAILABLE_IN_ALL
char            **stache_llm_provider_get_capabilities (StacheLlmProvider    *self);
STACHE_AVAILABLE_IN_ALL
gboolean          stache_llm_provider_has_capability   (StacheLlmProvider    *self,
                                                        const char           *capability);

G_END_DECLS

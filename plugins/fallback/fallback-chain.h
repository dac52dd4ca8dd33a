/* fallback-chain.h: the ordered providers a `fallback` provider tries
 *
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */
#pragma once

#include <stache-plugin.h>

G_BEGIN_DECLS

#define FALLBACK_PROVIDER_NAME "fallback"

typedef struct
{
  char      *setting;    /* llm_fallback_providers, … */
  GPtrArray *names;      /* char *: the members that could be created */
  GPtrArray *members;    /* StacheProvider *: in the same order */
} FallbackChain;

FallbackChain *fallback_chain_new           (StacheSettings      *settings,
                                             StacheProviderType   type,
                                             const char          *setting,
                                             GError             **error);
void           fallback_chain_free          (FallbackChain       *chain);

gboolean       fallback_chain_moves_on      (const GError        *error,
                                             GCancellable        *cancellable);
void           fallback_chain_add_failure   (GString             *failures,
                                             const char          *name,
                                             const GError        *error);
void           fallback_chain_set_exhausted (FallbackChain       *chain,
                                             GString             *failures,
                                             GError              *last_error,
                                             GError             **error);

G_DEFINE_AUTOPTR_CLEANUP_FUNC (FallbackChain, fallback_chain_free)

G_END_DECLS

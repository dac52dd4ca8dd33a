/* stache-provider.h: the base class of every provider, and provider types
 *
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */
#pragma once

#if !defined(STACHE_INSIDE) && !defined(STACHE_COMPILATION)
# error "Only <stache.h> can be included directly."
#endif

#include <glib-object.h>
#include "stache-version.h"
#include "stache-settings.h"

G_BEGIN_DECLS

/**
 * StacheProviderType:
 * @STACHE_PROVIDER_TYPE_LLM: a #StacheLlmProvider (setting `llm_provider`)
 * @STACHE_PROVIDER_TYPE_EMBEDDINGS: a #StacheEmbeddingProvider (setting
 *   `embedding_provider`)
 * @STACHE_PROVIDER_TYPE_VECTORDB: a #StacheVectorDbProvider (setting
 *   `vectordb_provider`)
 * @STACHE_PROVIDER_TYPE_NAMESPACE: a #StacheNamespaceProvider (setting
 *   `namespace_provider`)
 * @STACHE_PROVIDER_TYPE_RERANKER: a #StacheRerankerProvider (setting
 *   `reranker_provider`)
 * @STACHE_PROVIDER_TYPE_DOCUMENT_INDEX: a #StacheDocumentIndexProvider
 *   (setting `document_index_provider`)
 *
 * The six kinds of provider. Each has a GInterface, an extension point name
 * used in `X-Stache-Providers` (see stache_provider_type_to_string()) and a
 * setting that selects the provider by name.
 */
typedef enum {
  STACHE_PROVIDER_TYPE_LLM,
  STACHE_PROVIDER_TYPE_EMBEDDINGS,
  STACHE_PROVIDER_TYPE_VECTORDB,
  STACHE_PROVIDER_TYPE_NAMESPACE,
  STACHE_PROVIDER_TYPE_RERANKER,
  STACHE_PROVIDER_TYPE_DOCUMENT_INDEX,
} StacheProviderType;

/**
 * STACHE_N_PROVIDER_TYPES:
 *
 * The number of #StacheProviderType values.
 */
#define STACHE_N_PROVIDER_TYPES 6

STACHE_AVAILABLE_IN_ALL
const char *stache_provider_type_to_string     (StacheProviderType  type);
STACHE_AVAILABLE_IN_ALL
gboolean    stache_provider_type_from_string   (const char         *name,
                                                StacheProviderType *out_type);
STACHE_AVAILABLE_IN_ALL
const char *stache_provider_type_get_setting   (StacheProviderType  type);
STACHE_AVAILABLE_IN_ALL
GType       stache_provider_type_get_interface (StacheProviderType  type);

#define STACHE_TYPE_PROVIDER (stache_provider_get_type ())

STACHE_AVAILABLE_IN_ALL
G_DECLARE_DERIVABLE_TYPE (StacheProvider, stache_provider, STACHE, PROVIDER, GObject)

/**
 * StacheProviderClass:
 * @parent_class: the parent class
 *
 * The class structure of #StacheProvider.
 */
struct _StacheProviderClass
{
  GObjectClass parent_class;

  /*< private >*/
  gpointer padding[8];
};

STACHE_AVAILABLE_IN_ALL
StacheSettings *stache_provider_get_settings (StacheProvider *self);

G_END_DECLS

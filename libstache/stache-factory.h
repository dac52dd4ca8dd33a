/* stache-factory.h: how each provider type is created
 *
 * SPDX-License-Identifier: LGPL-2.1-or-later
 *
 * Static functions of the six provider interfaces:
 * stache_llm_provider_create() is Stache.LlmProvider.create() in Python,
 * and so on for every type.
 */
#pragma once

#if !defined(STACHE_INSIDE) && !defined(STACHE_COMPILATION)
# error "Only <stache.h> can be included directly."
#endif

#include "stache-llm-provider.h"
#include "stache-embedding-provider.h"
#include "stache-vector-db-provider.h"
#include "stache-namespace-provider.h"
#include "stache-reranker-provider.h"
#include "stache-document-index-provider.h"
#include "stache-settings.h"

G_BEGIN_DECLS

STACHE_AVAILABLE_IN_ALL
StacheLlmProvider *stache_llm_provider_create (StacheSettings  *settings,
                                              GError         **error);
STACHE_AVAILABLE_IN_ALL
char **stache_llm_provider_get_available_providers (void);

STACHE_AVAILABLE_IN_ALL
StacheEmbeddingProvider *stache_embedding_provider_create (StacheSettings  *settings,
                                                          GError         **error);
STACHE_AVAILABLE_IN_ALL
char **stache_embedding_provider_get_available_providers (void);

STACHE_AVAILABLE_IN_ALL
StacheVectorDbProvider *stache_vector_db_provider_create (StacheSettings  *settings,
                                                         GError         **error);
STACHE_AVAILABLE_IN_ALL
char **stache_vector_db_provider_get_available_providers (void);

STACHE_AVAILABLE_IN_ALL
StacheNamespaceProvider *stache_namespace_provider_create (StacheSettings  *settings,
                                                          GError         **error);
STACHE_AVAILABLE_IN_ALL
char **stache_namespace_provider_get_available_providers (void);

STACHE_AVAILABLE_IN_ALL
StacheRerankerProvider *stache_reranker_provider_create (StacheSettings  *settings,
                                                        GError         **error);
STACHE_AVAILABLE_IN_ALL
char **stache_reranker_provider_get_available_providers (void);

STACHE_AVAILABLE_IN_ALL
StacheDocumentIndexProvider *stache_document_index_provider_create (StacheSettings  *settings,
                                                                   GError         **error);
STACHE_AVAILABLE_IN_ALL
char **stache_document_index_provider_get_available_providers (void);

G_END_DECLS

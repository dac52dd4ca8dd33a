/* stache-factory.h: one factory per provider type
 *
 * SPDX-License-Identifier: LGPL-2.1-or-later
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
StacheLlmProvider *stache_llm_factory_create (StacheSettings  *settings,
                                              GError         **error);
STACHE_AVAILABLE_IN_ALL
char **stache_llm_factory_get_available_providers (void);

STACHE_AVAILABLE_IN_ALL
StacheEmbeddingProvider *stache_embedding_factory_create (StacheSettings  *settings,
                                                          GError         **error);
STACHE_AVAILABLE_IN_ALL
char **stache_embedding_factory_get_available_providers (void);

STACHE_AVAILABLE_IN_ALL
StacheVectorDbProvider *stache_vector_db_factory_create (StacheSettings  *settings,
                                                         GError         **error);
STACHE_AVAILABLE_IN_ALL
char **stache_vector_db_factory_get_available_providers (void);

STACHE_AVAILABLE_IN_ALL
StacheNamespaceProvider *stache_namespace_factory_create (StacheSettings  *settings,
                                                          GError         **error);
STACHE_AVAILABLE_IN_ALL
char **stache_namespace_factory_get_available_providers (void);

STACHE_AVAILABLE_IN_ALL
StacheRerankerProvider *stache_reranker_factory_create (StacheSettings  *settings,
                                                        GError         **error);
STACHE_AVAILABLE_IN_ALL
char **stache_reranker_factory_get_available_providers (void);

STACHE_AVAILABLE_IN_ALL
StacheDocumentIndexProvider *stache_document_index_factory_create (StacheSettings  *settings,
                                                                   GError         **error);
STACHE_AVAILABLE_IN_ALL
char **stache_document_index_factory_get_available_providers (void);

G_END_DECLS

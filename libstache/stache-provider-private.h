/* stache-provider-private.h: what each provider interface requires, and
 * the settings of a provider under creation
 *
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */
#pragma once

#include "stache-factory.h"

G_BEGIN_DECLS

/* Each adds to @missing (static strings) the virtual methods its interface
 * requires that @iface, a class's vtable of that interface, leaves unset:
 * the ones whose public function would fail with
 * %STACHE_ERROR_NOT_SUPPORTED. An item names the C vfunc; where any of
 * several will do, they are joined by '|' ("rerank|rescore"). */
void _stache_llm_provider_add_missing_methods            (const StacheLlmProviderInterface           *iface,
                                                          GPtrArray                                  *missing);
void _stache_embedding_provider_add_missing_methods      (const StacheEmbeddingProviderInterface     *iface,
                                                          GPtrArray                                  *missing);
void _stache_vector_db_provider_add_missing_methods      (const StacheVectorDbProviderInterface      *iface,
                                                          GPtrArray                                  *missing);
void _stache_namespace_provider_add_missing_methods      (const StacheNamespaceProviderInterface     *iface,
                                                          GPtrArray                                  *missing);
void _stache_reranker_provider_add_missing_methods       (const StacheRerankerProviderInterface      *iface,
                                                          GPtrArray                                  *missing);
void _stache_document_index_provider_add_missing_methods (const StacheDocumentIndexProviderInterface *iface,
                                                          GPtrArray                                  *missing);

/* The methods of @type's interface that @instance_type (a type
 * implementing it) leaves unset, as above; an empty array when none. */
GPtrArray *_stache_provider_type_list_missing_methods (StacheProviderType type,
                                                       GType              instance_type);

/* While a provider is being created in this thread, the settings it is
 * created with: stache_provider_init() takes them, so that a subclass's
 * instance init (where a Python class's __init__ runs) can read them
 * before the construct property is set. Returns the previous value, to
 * put back afterwards. */
StacheSettings *_stache_provider_swap_creating_settings (StacheSettings *settings);

G_END_DECLS

/* stache-factory.c: one factory per provider type
 *
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */
#include "config.h"

#include "stache-factory.h"
#include "stache-plugin-loader.h"

/* The factories are the seed's entry points: each creates the provider its
 * setting names, through the default plugin loader, so built-in and
 * third-party providers are found the same way. */

/**
 * stache_llm_factory_create:
 * @settings: (nullable): the settings to read `llm_provider` from and to give
 *   the provider, or %NULL for stache_settings_new()
 * @error: return location for a #GError
 *
 * Creates the llm provider named by the `llm_provider` setting (environment
 * variable `LLM_PROVIDER`). An unknown name is %STACHE_ERROR_UNKNOWN_PROVIDER with
 * the names available.
 *
 * Returns: (transfer full): the provider, or %NULL with @error set
 */
StacheLlmProvider *
stache_llm_factory_create (StacheSettings  *settings,
                        GError         **error)
{
  StacheProvider *provider;

  g_return_val_if_fail (settings == NULL || STACHE_IS_SETTINGS (settings), NULL);
  g_return_val_if_fail (error == NULL || *error == NULL, NULL);

  provider = stache_plugin_loader_create_provider (stache_plugin_loader_get_default (),
                                                   STACHE_PROVIDER_TYPE_LLM,
                                                   NULL, settings, error);

  return provider != NULL ? STACHE_LLM_PROVIDER (provider) : NULL;
}

/**
 * stache_llm_factory_get_available_providers:
 *
 * Lists the names of the llm providers that can be created.
 *
 * Returns: (transfer full) (array zero-terminated=1): the names, sorted
 */
char **
stache_llm_factory_get_available_providers (void)
{
  return stache_plugin_loader_get_available_providers (stache_plugin_loader_get_default (),
                                                       STACHE_PROVIDER_TYPE_LLM);
}

/**
 * stache_embedding_factory_create:
 * @settings: (nullable): the settings to read `embedding_provider` from and to give
 *   the provider, or %NULL for stache_settings_new()
 * @error: return location for a #GError
 *
 * Creates the embeddings provider named by the `embedding_provider` setting (environment
 * variable `EMBEDDING_PROVIDER`). An unknown name is %STACHE_ERROR_UNKNOWN_PROVIDER with
 * the names available.
 *
 * Returns: (transfer full): the provider, or %NULL with @error set
 */
StacheEmbeddingProvider *
stache_embedding_factory_create (StacheSettings  *settings,
                              GError         **error)
{
  StacheProvider *provider;

  g_return_val_if_fail (settings == NULL || STACHE_IS_SETTINGS (settings), NULL);
  g_return_val_if_fail (error == NULL || *error == NULL, NULL);

  provider = stache_plugin_loader_create_provider (stache_plugin_loader_get_default (),
                                                   STACHE_PROVIDER_TYPE_EMBEDDINGS,
                                                   NULL, settings, error);

  return provider != NULL ? STACHE_EMBEDDING_PROVIDER (provider) : NULL;
}

/**
 * stache_embedding_factory_get_available_providers:
 *
 * Lists the names of the embeddings providers that can be created.
 *
 * Returns: (transfer full) (array zero-terminated=1): the names, sorted
 */
char **
stache_embedding_factory_get_available_providers (void)
{
  return stache_plugin_loader_get_available_providers (stache_plugin_loader_get_default (),
                                                       STACHE_PROVIDER_TYPE_EMBEDDINGS);
}

/**
 * stache_vector_db_factory_create:
 * @settings: (nullable): the settings to read `vectordb_provider` from and to give
 *   the provider, or %NULL for stache_settings_new()
 * @error: return location for a #GError
 *
 * Creates the vectordb provider named by the `vectordb_provider` setting (environment
 * variable `VECTORDB_PROVIDER`). An unknown name is %STACHE_ERROR_UNKNOWN_PROVIDER with
 * the names available.
 *
 * Returns: (transfer full): the provider, or %NULL with @error set
 */
StacheVectorDbProvider *
stache_vector_db_factory_create (StacheSettings  *settings,
                              GError         **error)
{
  StacheProvider *provider;

  g_return_val_if_fail (settings == NULL || STACHE_IS_SETTINGS (settings), NULL);
  g_return_val_if_fail (error == NULL || *error == NULL, NULL);

  provider = stache_plugin_loader_create_provider (stache_plugin_loader_get_default (),
                                                   STACHE_PROVIDER_TYPE_VECTORDB,
                                                   NULL, settings, error);

  return provider != NULL ? STACHE_VECTOR_DB_PROVIDER (provider) : NULL;
}

/**
 * stache_vector_db_factory_get_available_providers:
 *
 * Lists the names of the vectordb providers that can be created.
 *
 * Returns: (transfer full) (array zero-terminated=1): the names, sorted
 */
char **
stache_vector_db_factory_get_available_providers (void)
{
  return stache_plugin_loader_get_available_providers (stache_plugin_loader_get_default (),
                                                       STACHE_PROVIDER_TYPE_VECTORDB);
}

/**
 * stache_namespace_factory_create:
 * @settings: (nullable): the settings to read `namespace_provider` from and to give
 *   the provider, or %NULL for stache_settings_new()
 * @error: return location for a #GError
 *
 * Creates the namespace provider named by the `namespace_provider` setting (environment
 * variable `NAMESPACE_PROVIDER`). An unknown name is %STACHE_ERROR_UNKNOWN_PROVIDER with
 * the names available.
 *
 * Returns: (transfer full): the provider, or %NULL with @error set
 */
StacheNamespaceProvider *
stache_namespace_factory_create (StacheSettings  *settings,
                              GError         **error)
{
  StacheProvider *provider;

  g_return_val_if_fail (settings == NULL || STACHE_IS_SETTINGS (settings), NULL);
  g_return_val_if_fail (error == NULL || *error == NULL, NULL);

  provider = stache_plugin_loader_create_provider (stache_plugin_loader_get_default (),
                                                   STACHE_PROVIDER_TYPE_NAMESPACE,
                                                   NULL, settings, error);

  return provider != NULL ? STACHE_NAMESPACE_PROVIDER (provider) : NULL;
}

/**
 * stache_namespace_factory_get_available_providers:
 *
 * Lists the names of the namespace providers that can be created.
 *
 * Returns: (transfer full) (array zero-terminated=1): the names, sorted
 */
char **
stache_namespace_factory_get_available_providers (void)
{
  return stache_plugin_loader_get_available_providers (stache_plugin_loader_get_default (),
                                                       STACHE_PROVIDER_TYPE_NAMESPACE);
}

/**
 * stache_reranker_factory_create:
 * @settings: (nullable): the settings to read `reranker_provider` from and to give
 *   the provider, or %NULL for stache_settings_new()
 * @error: return location for a #GError
 *
 * Creates the reranker provider named by the `reranker_provider` setting (environment
 * variable `RERANKER_PROVIDER`). An unknown name is %STACHE_ERROR_UNKNOWN_PROVIDER with
 * the names available.
 *
 * Returns: (transfer full): the provider, or %NULL with @error set
 */
StacheRerankerProvider *
stache_reranker_factory_create (StacheSettings  *settings,
                             GError         **error)
{
  StacheProvider *provider;

  g_return_val_if_fail (settings == NULL || STACHE_IS_SETTINGS (settings), NULL);
  g_return_val_if_fail (error == NULL || *error == NULL, NULL);

  provider = stache_plugin_loader_create_provider (stache_plugin_loader_get_default (),
                                                   STACHE_PROVIDER_TYPE_RERANKER,
                                                   NULL, settings, error);

  return provider != NULL ? STACHE_RERANKER_PROVIDER (provider) : NULL;
}

/**
 * stache_reranker_factory_get_available_providers:
 *
 * Lists the names of the reranker providers that can be created.
 *
 * Returns: (transfer full) (array zero-terminated=1): the names, sorted
 */
char **
stache_reranker_factory_get_available_providers (void)
{
  return stache_plugin_loader_get_available_providers (stache_plugin_loader_get_default (),
                                                       STACHE_PROVIDER_TYPE_RERANKER);
}

/**
 * stache_document_index_factory_create:
 * @settings: (nullable): the settings to read `document_index_provider` from and to give
 *   the provider, or %NULL for stache_settings_new()
 * @error: return location for a #GError
 *
 * Creates the document_index provider named by the `document_index_provider` setting (environment
 * variable `DOCUMENT_INDEX_PROVIDER`). An unknown name is %STACHE_ERROR_UNKNOWN_PROVIDER with
 * the names available.
 *
 * Returns: (transfer full): the provider, or %NULL with @error set
 */
StacheDocumentIndexProvider *
stache_document_index_factory_create (StacheSettings  *settings,
                                   GError         **error)
{
  StacheProvider *provider;

  g_return_val_if_fail (settings == NULL || STACHE_IS_SETTINGS (settings), NULL);
  g_return_val_if_fail (error == NULL || *error == NULL, NULL);

  provider = stache_plugin_loader_create_provider (stache_plugin_loader_get_default (),
                                                   STACHE_PROVIDER_TYPE_DOCUMENT_INDEX,
                                                   NULL, settings, error);

  return provider != NULL ? STACHE_DOCUMENT_INDEX_PROVIDER (provider) : NULL;
}

/**
 * stache_document_index_factory_get_available_providers:
 *
 * Lists the names of the document_index providers that can be created.
 *
 * Returns: (transfer full) (array zero-terminated=1): the names, sorted
 */
char **
stache_document_index_factory_get_available_providers (void)
{
  return stache_plugin_loader_get_available_providers (stache_plugin_loader_get_default (),
                                                       STACHE_PROVIDER_TYPE_DOCUMENT_INDEX);
}

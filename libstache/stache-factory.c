/* stache-factory.c: how each provider type is created
 *
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */
#include "config.h"

#include "stache-factory.h"
#include "stache-plugin-loader.h"

/* Each creates the provider its setting names, through the default plugin
 * loader, so built-in and third-party providers are found the same way.
 * They are static functions of the interfaces (not of a "factory" of
 * their own), so that bindings find them where the type is:
 * Stache.VectorDbProvider.create (settings). */

static StacheProvider *
create (StacheProviderType   type,
        StacheSettings      *settings,
        GError             **error)
{
  g_return_val_if_fail (settings == NULL || STACHE_IS_SETTINGS (settings), NULL);
  g_return_val_if_fail (error == NULL || *error == NULL, NULL);

  return stache_plugin_loader_create_provider (stache_plugin_loader_get_default (), type, NULL,
                                               settings, error);
}

/**
 * stache_llm_provider_create:
 * @settings: (nullable): the settings to read `llm_provider` from and to give
 *   the provider, or %NULL for stache_settings_new()
 * @error: return location for a #GError
 *
 * Creates the language model provider named by the `llm_provider` setting
 * (environment variable `LLM_PROVIDER`). An unknown name is
 * %STACHE_ERROR_UNKNOWN_PROVIDER with the names available.
 *
 * Returns: (transfer full): the provider, or %NULL with @error set
 */
StacheLlmProvider *
stache_llm_provider_create (StacheSettings  *settings,
                           GError         **error)
{
  StacheProvider *provider = create (STACHE_PROVIDER_TYPE_LLM, settings, error);

  return provider != NULL ? STACHE_LLM_PROVIDER (provider) : NULL;
}

/**
 * stache_llm_provider_get_available_providers:
 *
 * Lists the names of the language model providers that can be created.
 *
 * Returns: (transfer full) (array zero-terminated=1): the names, sorted
 */
char **
stache_llm_provider_get_available_providers (void)
{
  return stache_plugin_loader_get_available_providers (stache_plugin_loader_get_default (),
                                                       STACHE_PROVIDER_TYPE_LLM);
}

/**
 * stache_embedding_provider_create:
 * @settings: (nullable): the settings to read `embedding_provider` from and to give
 *   the provider, or %NULL for stache_settings_new()
 * @error: return location for a #GError
 *
 * Creates the embeddings provider named by the `embedding_provider` setting
 * (environment variable `EMBEDDING_PROVIDER`). An unknown name is
 * %STACHE_ERROR_UNKNOWN_PROVIDER with the names available.
 *
 * Returns: (transfer full): the provider, or %NULL with @error set
 */
StacheEmbeddingProvider *
stache_embedding_provider_create (StacheSettings  *settings,
                                 GError         **error)
{
  StacheProvider *provider = create (STACHE_PROVIDER_TYPE_EMBEDDINGS, settings, error);

  return provider != NULL ? STACHE_EMBEDDING_PROVIDER (provider) : NULL;
}

/**
 * stache_embedding_provider_get_available_providers:
 *
 * Lists the names of the embeddings providers that can be created.
 *
 * Returns: (transfer full) (array zero-terminated=1): the names, sorted
 */
char **
stache_embedding_provider_get_available_providers (void)
{
  return stache_plugin_loader_get_available_providers (stache_plugin_loader_get_default (),
                                                       STACHE_PROVIDER_TYPE_EMBEDDINGS);
}

/**
 * stache_vector_db_provider_create:
 * @settings: (nullable): the settings to read `vectordb_provider` from and to give
 *   the provider, or %NULL for stache_settings_new()
 * @error: return location for a #GError
 *
 * Creates the vector database provider named by the `vectordb_provider` setting
 * (environment variable `VECTORDB_PROVIDER`). An unknown name is
 * %STACHE_ERROR_UNKNOWN_PROVIDER with the names available.
 *
 * Returns: (transfer full): the provider, or %NULL with @error set
 */
StacheVectorDbProvider *
stache_vector_db_provider_create (StacheSettings  *settings,
                                 GError         **error)
{
  StacheProvider *provider = create (STACHE_PROVIDER_TYPE_VECTORDB, settings, error);

  return provider != NULL ? STACHE_VECTOR_DB_PROVIDER (provider) : NULL;
}

/**
 * stache_vector_db_provider_get_available_providers:
 *
 * Lists the names of the vector database providers that can be created.
 *
 * Returns: (transfer full) (array zero-terminated=1): the names, sorted
 */
char **
stache_vector_db_provider_get_available_providers (void)
{
  return stache_plugin_loader_get_available_providers (stache_plugin_loader_get_default (),
                                                       STACHE_PROVIDER_TYPE_VECTORDB);
}

/**
 * stache_namespace_provider_create:
 * @settings: (nullable): the settings to read `namespace_provider` from and to give
 *   the provider, or %NULL for stache_settings_new()
 * @error: return location for a #GError
 *
 * Creates the namespace registry provider named by the `namespace_provider` setting
 * (environment variable `NAMESPACE_PROVIDER`). An unknown name is
 * %STACHE_ERROR_UNKNOWN_PROVIDER with the names available.
 *
 * Returns: (transfer full): the provider, or %NULL with @error set
 */
StacheNamespaceProvider *
stache_namespace_provider_create (StacheSettings  *settings,
                                 GError         **error)
{
  StacheProvider *provider = create (STACHE_PROVIDER_TYPE_NAMESPACE, settings, error);

  return provider != NULL ? STACHE_NAMESPACE_PROVIDER (provider) : NULL;
}

/**
 * stache_namespace_provider_get_available_providers:
 *
 * Lists the names of the namespace registry providers that can be created.
 *
 * Returns: (transfer full) (array zero-terminated=1): the names, sorted
 */
char **
stache_namespace_provider_get_available_providers (void)
{
  return stache_plugin_loader_get_available_providers (stache_plugin_loader_get_default (),
                                                       STACHE_PROVIDER_TYPE_NAMESPACE);
}

/**
 * stache_reranker_provider_create:
 * @settings: (nullable): the settings to read `reranker_provider` from and to give
 *   the provider, or %NULL for stache_settings_new()
 * @error: return location for a #GError
 *
 * Creates the reranker provider named by the `reranker_provider` setting
 * (environment variable `RERANKER_PROVIDER`). The name `none` turns reranking off, as
 * in the store and the `stache` command: then there is no provider and no
 * error. An unknown name is %STACHE_ERROR_UNKNOWN_PROVIDER with the names
 * available.
 *
 * Returns: (transfer full) (nullable): the provider; %NULL for `none`, or
 *   with @error set
 */
StacheRerankerProvider *
stache_reranker_provider_create (StacheSettings  *settings,
                                GError         **error)
{
  g_autoptr(StacheSettings) own_settings = NULL;
  g_autofree char *name = NULL;
  StacheProvider *provider;

  g_return_val_if_fail (settings == NULL || STACHE_IS_SETTINGS (settings), NULL);

  if (settings == NULL)
    settings = own_settings = stache_settings_new ();
  name = stache_settings_get_string (settings, "reranker_provider", NULL);
  if (g_strcmp0 (name, "none") == 0)
    return NULL;

  provider = create (STACHE_PROVIDER_TYPE_RERANKER, settings, error);
  return provider != NULL ? STACHE_RERANKER_PROVIDER (provider) : NULL;
}

/**
 * stache_reranker_provider_get_available_providers:
 *
 * Lists the names of the reranker providers that can be created.
 *
 * Returns: (transfer full) (array zero-terminated=1): the names, sorted
 */
char **
stache_reranker_provider_get_available_providers (void)
{
  return stache_plugin_loader_get_available_providers (stache_plugin_loader_get_default (),
                                                       STACHE_PROVIDER_TYPE_RERANKER);
}

/**
 * stache_document_index_provider_create:
 * @settings: (nullable): the settings to read `document_index_provider` from and to give
 *   the provider, or %NULL for stache_settings_new()
 * @error: return location for a #GError
 *
 * Creates the document index provider named by the `document_index_provider` setting
 * (environment variable `DOCUMENT_INDEX_PROVIDER`). An unknown name is
 * %STACHE_ERROR_UNKNOWN_PROVIDER with the names available.
 *
 * Returns: (transfer full): the provider, or %NULL with @error set
 */
StacheDocumentIndexProvider *
stache_document_index_provider_create (StacheSettings  *settings,
                                      GError         **error)
{
  StacheProvider *provider = create (STACHE_PROVIDER_TYPE_DOCUMENT_INDEX, settings, error);

  return provider != NULL ? STACHE_DOCUMENT_INDEX_PROVIDER (provider) : NULL;
}

/**
 * stache_document_index_provider_get_available_providers:
 *
 * Lists the names of the document index providers that can be created.
 *
 * Returns: (transfer full) (array zero-terminated=1): the names, sorted
 */
char **
stache_document_index_provider_get_available_providers (void)
{
  return stache_plugin_loader_get_available_providers (stache_plugin_loader_get_default (),
                                                       STACHE_PROVIDER_TYPE_DOCUMENT_INDEX);
}

/* stache-vector-db-provider.h: the vector database provider interface
 *
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */
#pragma once

#if !defined(STACHE_INSIDE) && !defined(STACHE_COMPILATION)
# error "Only <stache.h> can be included directly."
#endif

#include <gio/gio.h>
#include <json-glib/json-glib.h>

#include "stache-document-index-provider.h"
#include "stache-provider.h"

G_BEGIN_DECLS

#define STACHE_TYPE_VECTOR_DB_PROVIDER (stache_vector_db_provider_get_type ())

STACHE_AVAILABLE_IN_ALL
G_DECLARE_INTERFACE (StacheVectorDbProvider, stache_vector_db_provider, STACHE, VECTOR_DB_PROVIDER, StacheProvider)

/**
 * StacheVectorDbProviderInterface:
 * @parent_iface: the parent interface
 * @insert: stores chunks and their vectors; required
 * @search: finds the chunks nearest a query vector; required
 * @delete_chunks: deletes chunks by id or by filter; required
 * @count: counts chunks; required
 * @get_capabilities: lists what the store can do; optional, the default is
 *   `vector_search`
 * @keyword_search: finds chunks by words rather than vectors (BM25 or the
 *   engine's own ranking); optional, announced with the `keyword_search`
 *   capability
 * @replace_document: replaces every chunk of one document in one step;
 *   optional, the default deletes the document's chunks then inserts, and a
 *   store that can do both in one transaction should override it
 * @write_documents: stores several documents with their chunks and records
 *   them in a document index, all in one transaction; optional, for a
 *   store that can keep the document index's rows in the same
 *   transaction (fails with %STACHE_ERROR_NOT_SUPPORTED otherwise, and the
 *   default takes over)
 * @verify: reads every stored item and reports damage; optional
 * @keyword_search_documents: finds documents by words, each scored as one
 *   text (all its chunks), and returns each one's best chunk; optional,
 *   announced with the `document_keyword_search` capability
 *
 * The virtual methods of #StacheVectorDbProvider, all synchronous (a
 * plugin in a scripting language implements `do_insert`, `do_search`,
 * `do_delete_chunks`, `do_count`); the public _async functions run the
 * public sync ones in a worker thread.
 *
 * @search returns a #GList of #StacheSearchResult that the caller owns,
 * list and elements (in Python: a list); the public
 * stache_vector_db_provider_search() turns it into a #GPtrArray.
 */
struct _StacheVectorDbProviderInterface
{
  GTypeInterface parent_iface;

  gboolean    (*insert)               (StacheVectorDbProvider  *self,
                                       const char              *namespace_,
                                       GPtrArray               *chunks,
                                       GArray                  *vectors,
                                       GCancellable            *cancellable,
                                       GError                 **error);
  GList      *(*search)               (StacheVectorDbProvider  *self,
                                       const char              *namespace_,
                                       GArray                  *query,
                                       guint                    top_k,
                                       JsonObject              *filter,
                                       GCancellable            *cancellable,
                                       GError                 **error);
  gint64      (*delete_chunks)        (StacheVectorDbProvider  *self,
                                       const char              *namespace_,
                                       const char * const      *ids,
                                       JsonObject              *filter,
                                       GCancellable            *cancellable,
                                       GError                 **error);
  gint64      (*count)                (StacheVectorDbProvider  *self,
                                       const char              *namespace_,
                                       GCancellable            *cancellable,
                                       GError                 **error);
  char      **(*get_capabilities)     (StacheVectorDbProvider  *self);

  GList      *(*keyword_search)       (StacheVectorDbProvider  *self,
                                       const char              *namespace_,
                                       const char              *query,
                                       guint                    top_k,
                                       JsonObject              *filter,
                                       GCancellable            *cancellable,
                                       GError                 **error);
  gboolean    (*replace_document)     (StacheVectorDbProvider  *self,
                                       const char              *namespace_,
                                       const char              *document_id,
                                       GPtrArray               *chunks,
                                       GArray                  *vectors,
                                       GCancellable            *cancellable,
                                       GError                 **error);
  gboolean    (*write_documents)      (StacheVectorDbProvider       *self,
                                       StacheDocumentIndexProvider  *index,
                                       GPtrArray                    *documents,
                                       GPtrArray                    *chunks,
                                       GArray                       *vectors,
                                       GCancellable                 *cancellable,
                                       GError                      **error);
  gboolean    (*verify)               (StacheVectorDbProvider       *self,
                                       GCancellable                 *cancellable,
                                       GError                      **error);
  GList      *(*keyword_search_documents) (StacheVectorDbProvider  *self,
                                           const char              *namespace_,
                                           const char              *query,
                                           guint                    top_k,
                                           JsonObject              *filter,
                                           GCancellable            *cancellable,
                                           GError                 **error);

  /*< private >*/
  gpointer padding[7];
};

STACHE_AVAILABLE_IN_ALL
gboolean    stache_vector_db_provider_insert               (StacheVectorDbProvider  *self,
                                                            const char              *namespace_,
                                                            GPtrArray               *chunks,
                                                            GArray                  *vectors,
                                                            GCancellable            *cancellable,
                                                            GError                 **error);
STACHE_AVAILABLE_IN_ALL
void        stache_vector_db_provider_insert_async         (StacheVectorDbProvider  *self,
                                                            const char              *namespace_,
                                                            GPtrArray               *chunks,
                                                            GArray                  *vectors,
                                                            GCancellable            *cancellable,
                                                            GAsyncReadyCallback      callback,
                                                            gpointer                 user_data);
STACHE_AVAILABLE_IN_ALL
gboolean    stache_vector_db_provider_insert_finish        (StacheVectorDbProvider  *self,
                                                            GAsyncResult            *result,
                                                            GError                 **error);
STACHE_AVAILABLE_IN_ALL
GPtrArray  *stache_vector_db_provider_search               (StacheVectorDbProvider  *self,
                                                            const char              *namespace_,
                                                            GArray                  *query,
                                                            guint                    top_k,
                                                            JsonObject              *filter,
                                                            GCancellable            *cancellable,
                                                            GError                 **error);
STACHE_AVAILABLE_IN_ALL
void        stache_vector_db_provider_search_async         (StacheVectorDbProvider  *self,
                                                            const char              *namespace_,
                                                            GArray                  *query,
                                                            guint                    top_k,
                                                            JsonObject              *filter,
                                                            GCancellable            *cancellable,
                                                            GAsyncReadyCallback      callback,
                                                            gpointer                 user_data);
STACHE_AVAILABLE_IN_ALL
GPtrArray  *stache_vector_db_provider_search_finish        (StacheVectorDbProvider  *self,
                                                            GAsyncResult            *result,
                                                            GError                 **error);
STACHE_AVAILABLE_IN_ALL
gint64      stache_vector_db_provider_delete_chunks        (StacheVectorDbProvider  *self,
                                                            const char              *namespace_,
                                                            const char * const      *ids,
                                                            JsonObject              *filter,
                                                            GCancellable            *cancellable,
                                                            GError                 **error);
STACHE_AVAILABLE_IN_ALL
void        stache_vector_db_provider_delete_chunks_async  (StacheVectorDbProvider  *self,
                                                            const char              *namespace_,
                                                            const char * const      *ids,
                                                            JsonObject              *filter,
                                                            GCancellable            *cancellable,
                                                            GAsyncReadyCallback      callback,
                                                            gpointer                 user_data);
STACHE_AVAILABLE_IN_ALL
gint64      stache_vector_db_provider_delete_chunks_finish (StacheVectorDbProvider  *self,
                                                            GAsyncResult            *result,
                                                            GError                 **error);
STACHE_AVAILABLE_IN_ALL
gint64      stache_vector_db_provider_count                (StacheVectorDbProvider  *self,
                                                            const char              *namespace_,
                                                            GCancellable            *cancellable,
                                                            GError                 **error);
STACHE_AVAILABLE_IN_ALL
void        stache_vector_db_provider_count_async          (StacheVectorDbProvider  *self,
                                                            const char              *namespace_,
                                                            GCancellable            *cancellable,
                                                            GAsyncReadyCallback      callback,
                                                            gpointer                 user_data);
STACHE_AVAILABLE_IN_ALL
gint64      stache_vector_db_provider_count_finish         (StacheVectorDbProvider  *self,
                                                            GAsyncResult            *result,
                                                            GError                 **error);
STACHE_AVAILABLE_IN_ALL
GPtrArray  *stache_vector_db_provider_keyword_search       (StacheVectorDbProvider  *self,
                                                            const char              *namespace_,
                                                            const char              *query,
                                                            guint                    top_k,
                                                            JsonObject              *filter,
                                                            GCancellable            *cancellable,
                                                            GError                 **error);
STACHE_AVAILABLE_IN_ALL
GPtrArray  *stache_vector_db_provider_keyword_search_documents (StacheVectorDbProvider  *self,
                                                                const char              *namespace_,
                                                                const char              *query,
                                                                guint                    top_k,
                                                                JsonObject              *filter,
                                                                GCancellable            *cancellable,
                                                                GError                 **error);
STACHE_AVAILABLE_IN_ALL
gboolean    stache_vector_db_provider_replace_document     (StacheVectorDbProvider  *self,
                                                            const char              *namespace_,
                                                            const char              *document_id,
                                                            GPtrArray               *chunks,
                                                            GArray                  *vectors,
                                                            GCancellable            *cancellable,
                                                            GError                 **error);
STACHE_AVAILABLE_IN_ALL
gboolean    stache_vector_db_provider_write_documents      (StacheVectorDbProvider       *self,
                                                            StacheDocumentIndexProvider  *index,
                                                            GPtrArray                    *documents,
                                                            GPtrArray                    *chunks,
                                                            GArray                       *vectors,
                                                            GCancellable                 *cancellable,
                                                            GError                      **error);
STACHE_AVAILABLE_IN_ALL
gboolean    stache_vector_db_provider_verify               (StacheVectorDbProvider       *self,
                                                            GCancellable                 *cancellable,
                                                            GError                      **error);
STACHE_AVAILABLE_IN_ALL
char      **stache_vector_db_provider_get_capabilities     (StacheVectorDbProvider  *self);
STACHE_AVAILABLE_IN_ALL
gboolean    stache_vector_db_provider_has_capability       (StacheVectorDbProvider  *self,
                                                            const char              *capability);

G_END_DECLS

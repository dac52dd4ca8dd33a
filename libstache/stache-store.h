/* stache-store.h: the pipeline facade
 *
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */
#pragma once

#if !defined(STACHE_INSIDE) && !defined(STACHE_COMPILATION)
# error "Only <stache.h> can be included directly."
#endif

#include <gio/gio.h>
#include <json-glib/json-glib.h>

#include "stache-answer.h"
#include "stache-document.h"
#include "stache-ingest-result.h"
#include "stache-llm-provider.h"
#include "stache-namespace.h"
#include "stache-settings.h"

G_BEGIN_DECLS

/**
 * StacheSearchMode:
 * @STACHE_SEARCH_MODE_HYBRID: vector and keyword search fused by
 *   reciprocal rank; keyword-less stores fall back to vector search
 * @STACHE_SEARCH_MODE_VECTOR: nearest embedding vectors only
 * @STACHE_SEARCH_MODE_KEYWORD: keyword (BM25) search only
 *
 * How stache_store_search_full() finds candidates before reranking.
 */
typedef enum {
  STACHE_SEARCH_MODE_HYBRID,
  STACHE_SEARCH_MODE_VECTOR,
  STACHE_SEARCH_MODE_KEYWORD,
} StacheSearchMode;

#define STACHE_TYPE_STORE (stache_store_get_type ())

STACHE_AVAILABLE_IN_ALL
G_DECLARE_FINAL_TYPE (StacheStore, stache_store, STACHE, STORE, GObject)

STACHE_AVAILABLE_IN_ALL
StacheStore        *stache_store_new                     (StacheSettings       *settings,
                                                          GError              **error);
STACHE_AVAILABLE_IN_ALL
StacheSettings     *stache_store_get_settings            (StacheStore          *self);

STACHE_AVAILABLE_IN_ALL
StacheIngestResult *stache_store_ingest_text             (StacheStore          *self,
                                                          const char           *text,
                                                          const char           *namespace_,
                                                          GCancellable         *cancellable,
                                                          GError              **error);
STACHE_AVAILABLE_IN_ALL
StacheIngestResult *stache_store_ingest_text_full        (StacheStore          *self,
                                                          const char           *text,
                                                          const char           *namespace_,
                                                          const char           *source,
                                                          const char           *title,
                                                          JsonObject           *metadata,
                                                          GCancellable         *cancellable,
                                                          GError              **error);
STACHE_AVAILABLE_IN_ALL
StacheIngestResult *stache_store_ingest_file             (StacheStore          *self,
                                                          GFile                *file,
                                                          const char           *namespace_,
                                                          GCancellable         *cancellable,
                                                          GError              **error);
STACHE_AVAILABLE_IN_ALL
void                stache_store_ingest_file_async       (StacheStore          *self,
                                                          GFile                *file,
                                                          const char           *namespace_,
                                                          GCancellable         *cancellable,
                                                          GAsyncReadyCallback   callback,
                                                          gpointer              user_data);
STACHE_AVAILABLE_IN_ALL
StacheIngestResult *stache_store_ingest_file_finish      (StacheStore          *self,
                                                          GAsyncResult         *result,
                                                          GError              **error);
STACHE_AVAILABLE_IN_ALL
GPtrArray          *stache_store_ingest_directory        (StacheStore          *self,
                                                          GFile                *directory,
                                                          const char           *namespace_,
                                                          const char * const   *include,
                                                          const char * const   *exclude,
                                                          GCancellable         *cancellable,
                                                          GError              **error);
STACHE_AVAILABLE_IN_ALL
void                stache_store_ingest_directory_async  (StacheStore          *self,
                                                          GFile                *directory,
                                                          const char           *namespace_,
                                                          const char * const   *include,
                                                          const char * const   *exclude,
                                                          GCancellable         *cancellable,
                                                          GAsyncReadyCallback   callback,
                                                          gpointer              user_data);
STACHE_AVAILABLE_IN_ALL
GPtrArray          *stache_store_ingest_directory_finish (StacheStore          *self,
                                                          GAsyncResult         *result,
                                                          GError              **error);
STACHE_AVAILABLE_IN_ALL
GPtrArray          *stache_store_sync_directory          (StacheStore          *self,
                                                          GFile                *directory,
                                                          const char           *namespace_,
                                                          const char * const   *include,
                                                          const char * const   *exclude,
                                                          GCancellable         *cancellable,
                                                          GError              **error);
STACHE_AVAILABLE_IN_ALL
void                stache_store_sync_directory_async    (StacheStore          *self,
                                                          GFile                *directory,
                                                          const char           *namespace_,
                                                          const char * const   *include,
                                                          const char * const   *exclude,
                                                          GCancellable         *cancellable,
                                                          GAsyncReadyCallback   callback,
                                                          gpointer              user_data);
STACHE_AVAILABLE_IN_ALL
GPtrArray          *stache_store_sync_directory_finish   (StacheStore          *self,
                                                          GAsyncResult         *result,
                                                          GError              **error);

STACHE_AVAILABLE_IN_ALL
GPtrArray          *stache_store_search                  (StacheStore          *self,
                                                          const char           *query,
                                                          const char           *namespace_,
                                                          guint                 top_k,
                                                          GCancellable         *cancellable,
                                                          GError              **error);
STACHE_AVAILABLE_IN_ALL
GPtrArray          *stache_store_search_full             (StacheStore          *self,
                                                          const char           *query,
                                                          const char           *namespace_,
                                                          guint                 top_k,
                                                          StacheSearchMode      mode,
                                                          JsonObject           *filter,
                                                          GCancellable         *cancellable,
                                                          GError              **error);
STACHE_AVAILABLE_IN_ALL
void                stache_store_search_async            (StacheStore          *self,
                                                          const char           *query,
                                                          const char           *namespace_,
                                                          guint                 top_k,
                                                          StacheSearchMode      mode,
                                                          JsonObject           *filter,
                                                          GCancellable         *cancellable,
                                                          GAsyncReadyCallback   callback,
                                                          gpointer              user_data);
STACHE_AVAILABLE_IN_ALL
GPtrArray          *stache_store_search_finish           (StacheStore          *self,
                                                          GAsyncResult         *result,
                                                          GError              **error);

STACHE_AVAILABLE_IN_ALL
StacheAnswer       *stache_store_ask                     (StacheStore          *self,
                                                          const char           *question,
                                                          const char           *namespace_,
                                                          guint                 top_k,
                                                          GCancellable         *cancellable,
                                                          GError              **error);
STACHE_AVAILABLE_IN_ALL
void                stache_store_ask_async               (StacheStore          *self,
                                                          const char           *question,
                                                          const char           *namespace_,
                                                          guint                 top_k,
                                                          GCancellable         *cancellable,
                                                          GAsyncReadyCallback   callback,
                                                          gpointer              user_data);
STACHE_AVAILABLE_IN_ALL
StacheAnswer       *stache_store_ask_finish              (StacheStore          *self,
                                                          GAsyncResult         *result,
                                                          GError              **error);
STACHE_AVAILABLE_IN_ALL
StacheAnswer       *stache_store_ask_full                (StacheStore          *self,
                                                          const char           *question,
                                                          const char           *namespace_,
                                                          guint                 top_k,
                                                          StacheTokenFunc       token_func,
                                                          gpointer              token_data,
                                                          GCancellable         *cancellable,
                                                          GError              **error);
STACHE_AVAILABLE_IN_ALL
void                stache_store_ask_full_async          (StacheStore          *self,
                                                          const char           *question,
                                                          const char           *namespace_,
                                                          guint                 top_k,
                                                          StacheTokenFunc       token_func,
                                                          gpointer              token_data,
                                                          GDestroyNotify        token_destroy,
                                                          GCancellable         *cancellable,
                                                          GAsyncReadyCallback   callback,
                                                          gpointer              user_data);
STACHE_AVAILABLE_IN_ALL
StacheAnswer       *stache_store_ask_full_finish         (StacheStore          *self,
                                                          GAsyncResult         *result,
                                                          GError              **error);

STACHE_AVAILABLE_IN_ALL
StacheDocument     *stache_store_get_document            (StacheStore          *self,
                                                          const char           *document_id,
                                                          GCancellable         *cancellable,
                                                          GError              **error);
STACHE_AVAILABLE_IN_ALL
GPtrArray          *stache_store_list_documents          (StacheStore          *self,
                                                          const char           *namespace_,
                                                          GCancellable         *cancellable,
                                                          GError              **error);
STACHE_AVAILABLE_IN_ALL
gboolean            stache_store_delete_document         (StacheStore          *self,
                                                          const char           *document_id,
                                                          GCancellable         *cancellable,
                                                          GError              **error);
STACHE_AVAILABLE_IN_ALL
StacheNamespace    *stache_store_create_namespace        (StacheStore          *self,
                                                          const char           *name,
                                                          const char           *description,
                                                          GCancellable         *cancellable,
                                                          GError              **error);
STACHE_AVAILABLE_IN_ALL
GPtrArray          *stache_store_list_namespaces         (StacheStore          *self,
                                                          const char           *parent,
                                                          GCancellable         *cancellable,
                                                          GError              **error);
STACHE_AVAILABLE_IN_ALL
gboolean            stache_store_delete_namespace        (StacheStore          *self,
                                                          const char           *name,
                                                          gboolean              cascade,
                                                          GCancellable         *cancellable,
                                                          GError              **error);
STACHE_AVAILABLE_IN_ALL
gint64              stache_store_count_chunks            (StacheStore          *self,
                                                          const char           *namespace_,
                                                          GCancellable         *cancellable,
                                                          GError              **error);

G_END_DECLS

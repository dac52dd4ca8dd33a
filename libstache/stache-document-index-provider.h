/* stache-document-index-provider.h: the document index provider interface
 *
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */
#pragma once

#if !defined(STACHE_INSIDE) && !defined(STACHE_COMPILATION)
# error "Only <stache.h> can be included directly."
#endif

#include <gio/gio.h>
#include <json-glib/json-glib.h>

#include "stache-document.h"
#include "stache-provider.h"

G_BEGIN_DECLS

#define STACHE_TYPE_DOCUMENT_INDEX_PROVIDER (stache_document_index_provider_get_type ())

STACHE_AVAILABLE_IN_ALL
G_DECLARE_INTERFACE (StacheDocumentIndexProvider, stache_document_index_provider, STACHE, DOCUMENT_INDEX_PROVIDER, StacheProvider)

/**
 * StacheDocumentIndexProviderInterface:
 * @parent_iface: the parent interface
 * @index_document: adds a document, or replaces the one with the same id;
 *   required
 * @get_document: looks a document up by id; required
 * @list_documents: lists the documents of one namespace or of all;
 *   required
 * @delete_document: deletes a document by id; required
 *
 * The virtual methods of #StacheDocumentIndexProvider, all synchronous (a
 * plugin in a scripting language implements `do_index_document`,
 * `do_get_document`, `do_list_documents`, `do_delete_document`); the
 * public _async functions run the public sync ones in a worker thread.
 *
 * @list_documents returns a #GList of #StacheDocument that the caller
 * owns, list and elements (in Python: a list); the public
 * stache_document_index_provider_list_documents() turns it into a
 * #GPtrArray.
 */
struct _StacheDocumentIndexProviderInterface
{
  GTypeInterface parent_iface;

  gboolean        (*index_document)         (StacheDocumentIndexProvider  *self,
                                             StacheDocument               *document,
                                             GCancellable                 *cancellable,
                                             GError                      **error);
  StacheDocument *(*get_document)           (StacheDocumentIndexProvider  *self,
                                             const char                   *id,
                                             GCancellable                 *cancellable,
                                             GError                      **error);
  GList          *(*list_documents)         (StacheDocumentIndexProvider  *self,
                                             const char                   *namespace_,
                                             GCancellable                 *cancellable,
                                             GError                      **error);
  gboolean        (*delete_document)        (StacheDocumentIndexProvider  *self,
                                             const char                   *id,
                                             GCancellable                 *cancellable,
                                             GError                      **error);

  /*< private >*/
  gpointer padding[12];
};

STACHE_AVAILABLE_IN_ALL
gboolean        stache_document_index_provider_index_document         (StacheDocumentIndexProvider  *self,
                                                                       StacheDocument               *document,
                                                                       GCancellable                 *cancellable,
                                                                       GError                      **error);
STACHE_AVAILABLE_IN_ALL
void            stache_document_index_provider_index_document_async   (StacheDocumentIndexProvider  *self,
                                                                       StacheDocument               *document,
                                                                       GCancellable                 *cancellable,
                                                                       GAsyncReadyCallback           callback,
                                                                       gpointer                      user_data);
STACHE_AVAILABLE_IN_ALL
gboolean        stache_document_index_provider_index_document_finish  (StacheDocumentIndexProvider  *self,
                                                                       GAsyncResult                 *result,
                                                                       GError                      **error);
STACHE_AVAILABLE_IN_ALL
StacheDocument *stache_document_index_provider_get_document           (StacheDocumentIndexProvider  *self,
                                                                       const char                   *id,
                                                                       GCancellable                 *cancellable,
                                                                       GError                      **error);
STACHE_AVAILABLE_IN_ALL
void            stache_document_index_provider_get_document_async     (StacheDocumentIndexProvider  *self,
                                                                       const char                   *id,
                                                                       GCancellable                 *cancellable,
                                                                       GAsyncReadyCallback           callback,
                                                                       gpointer                      user_data);
STACHE_AVAILABLE_IN_ALL
StacheDocument *stache_document_index_provider_get_document_finish    (StacheDocumentIndexProvider  *self,
                                                                       GAsyncResult                 *result,
                                                                       GError                      **error);
STACHE_AVAILABLE_IN_ALL
GPtrArray      *stache_document_index_provider_list_documents         (StacheDocumentIndexProvider  *self,
                                                                       const char                   *namespace_,
                                                                       GCancellable                 *cancellable,
                                                                       GError                      **error);
STACHE_AVAILABLE_IN_ALL
void            stache_document_index_provider_list_documents_async   (StacheDocumentIndexProvider  *self,
                                                                       const char                   *namespace_,
                                                                       GCancellable                 *cancellable,
                                                                       GAsyncReadyCallback           callback,
                                                                       gpointer                      user_data);
STACHE_AVAILABLE_IN_ALL
GPtrArray      *stache_document_index_provider_list_documents_finish  (StacheDocumentIndexProvider  *self,
                                                                       GAsyncResult                 *result,
                                                                       GError                      **error);
STACHE_AVAILABLE_IN_ALL
gboolean        stache_document_index_provider_delete_document        (StacheDocumentIndexProvider  *self,
                                                                       const char                   *id,
                                                                       GCancellable                 *cancellable,
                                                                       GError                      **error);
STACHE_AVAILABLE_IN_ALL
void            stache_document_index_provider_delete_document_async  (StacheDocumentIndexProvider  *self,
                                                                       const char                   *id,
                                                                       GCancellable                 *cancellable,
                                                                       GAsyncReadyCallback           callback,
                                                                       gpointer                      user_data);
STACHE_AVAILABLE_IN_ALL
gboolean        stache_document_index_provider_delete_document_finish (StacheDocumentIndexProvider  *self,
                                                                       GAsyncResult                 *result,
                                                                       GError                      **error);

G_END_DECLS

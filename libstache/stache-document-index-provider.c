/* stache-document-index-provider.c: the document index provider interface
 *
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */
#include "config.h"

#include "stache-document.h"
#include "stache-document-index-provider.h"
#include "stache-error.h"
#include "stache-namespace-provider.h"
#include "stache-private.h"
#include "stache-provider-private.h"
#include "stache-task-private.h"

/**
 * StacheDocumentIndexProvider:
 *
 * Keeps the record of every ingested document.
 *
 * The vector database stores chunks; the document index stores the
 * documents they were cut from: id, namespace, source, title, media type,
 * content hash, size, chunk count, timestamps and metadata. Stache uses it
 * to list what a namespace holds, to notice that a file has not changed
 * since it was ingested (by its content hash), and to delete a document
 * together with its chunks.
 *
 * Documents are keyed by id. Indexing a document whose id is already
 * present replaces the stored one. Looking up or deleting an id that is
 * not present fails with %STACHE_ERROR_NOT_FOUND; setting that error is the
 * provider's job.
 *
 * The extension point name is `document_index`; the setting
 * `document_index_provider` (environment variable
 * `DOCUMENT_INDEX_PROVIDER`) selects the provider.
 *
 * A plugin written in Python or Lua implements `do_index_document`,
 * `do_get_document`, `do_list_documents` and `do_delete_document`; the
 * asynchronous methods then run them in a worker thread.
 */

G_DEFINE_INTERFACE (StacheDocumentIndexProvider, stache_document_index_provider, STACHE_TYPE_PROVIDER)

/* ---- checking what a provider returns ---- */

/* Takes @local_error. Returns whether the call succeeded; a provider that
 * failed without setting an error gets one that says so. */
static gboolean
check_outcome (StacheDocumentIndexProvider  *self,
               const char                   *method,
               gboolean                      succeeded,
               GError                       *local_error,
               GError                      **error)
{
  if (local_error != NULL)
    {
      g_propagate_error (error, local_error);
      return FALSE;
    }

  if (!succeeded)
    {
      g_set_error (error, STACHE_ERROR, STACHE_ERROR_FAILED,
                   _("Document index provider %s failed in %s() without giving a reason"),
                   G_OBJECT_TYPE_NAME (self), method);
      return FALSE;
    }

  return TRUE;
}

/* ---- the asynchronous forms: the public sync function in a thread ---- */

/* The arguments of one call, owned by it: the caller may free its own as
 * soon as the _async function returns. */
typedef struct
{
  StacheDocument *document;
  char           *id;
  char           *namespace_;
} CallData;

static void
call_data_free (gpointer p)
{
  CallData *data = p;

  g_clear_object (&data->document);
  g_free (data->id);
  g_free (data->namespace_);
  g_free (data);
}

static CallData *
call_data_new (StacheDocument *document,
               const char     *id,
               const char     *namespace_)
{
  CallData *data = g_new0 (CallData, 1);

  data->document = document != NULL ? g_object_ref (document) : NULL;
  data->id = g_strdup (id);
  data->namespace_ = g_strdup (namespace_);

  return data;
}

static gpointer
index_document_work (gpointer       source,
                     gpointer       task_data,
                     GCancellable  *cancellable,
                     GError       **error)
{
  CallData *data = task_data;

  return stache_document_index_provider_index_document (source, data->document, cancellable, error)
           ? GINT_TO_POINTER (TRUE) : NULL;
}

static gpointer
get_document_work (gpointer       source,
                   gpointer       task_data,
                   GCancellable  *cancellable,
                   GError       **error)
{
  CallData *data = task_data;

  return stache_document_index_provider_get_document (source, data->id, cancellable, error);
}

static gpointer
list_documents_work (gpointer       source,
                     gpointer       task_data,
                     GCancellable  *cancellable,
                     GError       **error)
{
  CallData *data = task_data;

  return stache_document_index_provider_list_documents (source, data->namespace_, cancellable, error);
}

static gpointer
delete_document_work (gpointer       source,
                      gpointer       task_data,
                      GCancellable  *cancellable,
                      GError       **error)
{
  CallData *data = task_data;

  return stache_document_index_provider_delete_document (source, data->id, cancellable, error)
           ? GINT_TO_POINTER (TRUE) : NULL;
}

static void
stache_document_index_provider_default_init (StacheDocumentIndexProviderInterface *iface)
{
  _stache_i18n_init ();
}

/* ---- argument checks ---- */

static gboolean
validate_id (const char  *id,
             GError     **error)
{
  if (id == NULL)
    {
      g_set_error (error, STACHE_ERROR, STACHE_ERROR_INVALID_ARGUMENT,
                   _("No document id was given"));
      return FALSE;
    }

  if (*id == '\0')
    {
      g_set_error (error, STACHE_ERROR, STACHE_ERROR_INVALID_ARGUMENT,
                   _("The document id is empty"));
      return FALSE;
    }

  if (!g_utf8_validate (id, -1, NULL))
    {
      g_set_error (error, STACHE_ERROR, STACHE_ERROR_INVALID_ARGUMENT,
                   _("The document id is not valid UTF-8"));
      return FALSE;
    }

  return TRUE;
}

static gboolean
check_index_args (StacheDocumentIndexProvider  *self,
                  StacheDocument               *document,
                  GError                      **error)
{
  const char *namespace_ = stache_document_get_namespace (document);

  if (!validate_id (stache_document_get_id (document), error) ||
      (namespace_ != NULL && !stache_namespace_name_validate (namespace_, error)))
    {
      g_prefix_error (error, _("Index document in %s: "), G_OBJECT_TYPE_NAME (self));
      return FALSE;
    }

  return TRUE;
}

static gboolean
check_get_args (StacheDocumentIndexProvider  *self,
                const char                   *id,
                GError                      **error)
{
  if (!validate_id (id, error))
    {
      g_prefix_error (error, _("Get document from %s: "), G_OBJECT_TYPE_NAME (self));
      return FALSE;
    }

  return TRUE;
}

static gboolean
check_list_args (StacheDocumentIndexProvider  *self,
                 const char                   *namespace_,
                 GError                      **error)
{
  if (namespace_ != NULL && !stache_namespace_name_validate (namespace_, error))
    {
      g_prefix_error (error, _("List documents in %s: "), G_OBJECT_TYPE_NAME (self));
      return FALSE;
    }

  return TRUE;
}

static gboolean
check_delete_args (StacheDocumentIndexProvider  *self,
                   const char                   *id,
                   GError                      **error)
{
  if (!validate_id (id, error))
    {
      g_prefix_error (error, _("Delete document from %s: "), G_OBJECT_TYPE_NAME (self));
      return FALSE;
    }

  return TRUE;
}

/**
 * StacheDocumentIndexProviderInterface::list_documents:
 * @self: a #StacheDocumentIndexProvider
 * @namespace_: (nullable): the namespace whose documents to list, or %NULL
 *   for the documents of every namespace
 * @cancellable: (nullable): a #GCancellable
 * @error: return location for a #GError
 *
 * Lists the documents in the index. The list is a #GList, not a
 * #GPtrArray like the public method's result, so that bindings hand over
 * documents they own (in Python: return a list).
 *
 * Returns: (transfer full) (element-type StacheDocument) (nullable): the
 *   documents, %NULL for none (or with @error set)
 */

/* ---- public entry points ---- */

/**
 * stache_document_index_provider_index_document: (virtual index_document)
 * @self: a #StacheDocumentIndexProvider
 * @document: the document to store; it needs an id
 * @cancellable: (nullable): a #GCancellable
 * @error: return location for a #GError
 *
 * Stores @document, replacing the stored document with the same id if
 * there is one.
 *
 * A document without an id, or whose namespace is not a valid namespace
 * name, fails with %STACHE_ERROR_INVALID_ARGUMENT before the provider is
 * called.
 *
 * Returns: %TRUE on success
 */
gboolean
stache_document_index_provider_index_document (StacheDocumentIndexProvider  *self,
                                               StacheDocument               *document,
                                               GCancellable                 *cancellable,
                                               GError                      **error)
{
  StacheDocumentIndexProviderInterface *iface;
  GError *local_error = NULL;
  gboolean indexed;

  g_return_val_if_fail (STACHE_IS_DOCUMENT_INDEX_PROVIDER (self), FALSE);
  g_return_val_if_fail (STACHE_IS_DOCUMENT (document), FALSE);
  g_return_val_if_fail (cancellable == NULL || G_IS_CANCELLABLE (cancellable), FALSE);
  g_return_val_if_fail (error == NULL || *error == NULL, FALSE);

  if (!check_index_args (self, document, error))
    return FALSE;

  iface = STACHE_DOCUMENT_INDEX_PROVIDER_GET_IFACE (self);
  if (iface->index_document == NULL)
    return _stache_set_not_supported (error, self, "index_document");

  indexed = iface->index_document (self, document, cancellable, &local_error);

  return check_outcome (self, "index_document", indexed, local_error, error);
}

/**
 * stache_document_index_provider_index_document_async:
 * @self: a #StacheDocumentIndexProvider
 * @document: the document to store; it needs an id
 * @cancellable: (nullable): a #GCancellable
 * @callback: (scope async): called when the document is stored
 * @user_data: data for @callback
 *
 * Asynchronously stores @document; see
 * stache_document_index_provider_index_document(). The interface keeps a
 * reference to @document rather than a copy, so the caller should not
 * change it until @callback runs.
 */
void
stache_document_index_provider_index_document_async (StacheDocumentIndexProvider *self,
                                                     StacheDocument              *document,
                                                     GCancellable                *cancellable,
                                                     GAsyncReadyCallback          callback,
                                                     gpointer                     user_data)
{
  g_return_if_fail (STACHE_IS_DOCUMENT_INDEX_PROVIDER (self));
  g_return_if_fail (cancellable == NULL || G_IS_CANCELLABLE (cancellable));

  _stache_task_run_in_thread (self, stache_document_index_provider_index_document_async, index_document_work,
                              call_data_new (document, NULL, NULL), call_data_free, NULL,
                              cancellable, callback, user_data);
}

/**
 * stache_document_index_provider_index_document_finish:
 * @self: a #StacheDocumentIndexProvider
 * @result: the #GAsyncResult passed to the callback
 * @error: return location for a #GError
 *
 * Finishes stache_document_index_provider_index_document_async().
 *
 * Returns: %TRUE on success
 */
gboolean
stache_document_index_provider_index_document_finish (StacheDocumentIndexProvider  *self,
                                                      GAsyncResult                 *result,
                                                      GError                      **error)
{
  g_return_val_if_fail (STACHE_IS_DOCUMENT_INDEX_PROVIDER (self), FALSE);

  return _stache_task_finish_boolean (self, result, stache_document_index_provider_index_document_async, error);
}

/**
 * stache_document_index_provider_get_document: (virtual get_document)
 * @self: a #StacheDocumentIndexProvider
 * @id: the id of the document
 * @cancellable: (nullable): a #GCancellable
 * @error: return location for a #GError
 *
 * Looks up the document @id. A document that is not in the index fails
 * with %STACHE_ERROR_NOT_FOUND; setting that error is the provider's job.
 *
 * Returns: (transfer full): the document, or %NULL with @error set
 */
StacheDocument *
stache_document_index_provider_get_document (StacheDocumentIndexProvider  *self,
                                             const char                   *id,
                                             GCancellable                 *cancellable,
                                             GError                      **error)
{
  StacheDocumentIndexProviderInterface *iface;
  StacheDocument *document;
  GError *local_error = NULL;

  g_return_val_if_fail (STACHE_IS_DOCUMENT_INDEX_PROVIDER (self), NULL);
  g_return_val_if_fail (cancellable == NULL || G_IS_CANCELLABLE (cancellable), NULL);
  g_return_val_if_fail (error == NULL || *error == NULL, NULL);

  if (!check_get_args (self, id, error))
    return NULL;

  iface = STACHE_DOCUMENT_INDEX_PROVIDER_GET_IFACE (self);
  if (iface->get_document == NULL)
    {
      _stache_set_not_supported (error, self, "get_document");
      return NULL;
    }

  document = iface->get_document (self, id, cancellable, &local_error);
  if (!check_outcome (self, "get_document", document != NULL, local_error, error))
    g_clear_object (&document);

  return document;
}

/**
 * stache_document_index_provider_get_document_async:
 * @self: a #StacheDocumentIndexProvider
 * @id: the id of the document
 * @cancellable: (nullable): a #GCancellable
 * @callback: (scope async): called with the document
 * @user_data: data for @callback
 *
 * Asynchronously looks up a document; see
 * stache_document_index_provider_get_document().
 */
void
stache_document_index_provider_get_document_async (StacheDocumentIndexProvider *self,
                                                   const char                  *id,
                                                   GCancellable                *cancellable,
                                                   GAsyncReadyCallback          callback,
                                                   gpointer                     user_data)
{
  g_return_if_fail (STACHE_IS_DOCUMENT_INDEX_PROVIDER (self));
  g_return_if_fail (cancellable == NULL || G_IS_CANCELLABLE (cancellable));

  _stache_task_run_in_thread (self, stache_document_index_provider_get_document_async, get_document_work,
                              call_data_new (NULL, id, NULL), call_data_free, g_object_unref,
                              cancellable, callback, user_data);
}

/**
 * stache_document_index_provider_get_document_finish:
 * @self: a #StacheDocumentIndexProvider
 * @result: the #GAsyncResult passed to the callback
 * @error: return location for a #GError
 *
 * Finishes stache_document_index_provider_get_document_async().
 *
 * Returns: (transfer full): the document, or %NULL with @error set
 */
StacheDocument *
stache_document_index_provider_get_document_finish (StacheDocumentIndexProvider  *self,
                                                    GAsyncResult                 *result,
                                                    GError                      **error)
{
  g_return_val_if_fail (STACHE_IS_DOCUMENT_INDEX_PROVIDER (self), NULL);

  return _stache_task_finish_pointer (self, result, stache_document_index_provider_get_document_async, error);
}

/**
 * stache_document_index_provider_list_documents:
 * @self: a #StacheDocumentIndexProvider
 * @namespace_: (nullable): the namespace whose documents to list, or %NULL
 *   for the documents of every namespace
 * @cancellable: (nullable): a #GCancellable
 * @error: return location for a #GError
 *
 * Lists the documents in the index. A @namespace_ that is not a valid
 * namespace name fails with %STACHE_ERROR_INVALID_ARGUMENT; see
 * stache_namespace_name_validate().
 *
 * Returns: (transfer container) (element-type StacheDocument): the
 *   documents, possibly none, or %NULL with @error set; the array owns its
 *   elements
 */
GPtrArray *
stache_document_index_provider_list_documents (StacheDocumentIndexProvider  *self,
                                               const char                   *namespace_,
                                               GCancellable                 *cancellable,
                                               GError                      **error)
{
  StacheDocumentIndexProviderInterface *iface;
  GError *local_error = NULL;
  GList *documents;

  g_return_val_if_fail (STACHE_IS_DOCUMENT_INDEX_PROVIDER (self), NULL);
  g_return_val_if_fail (cancellable == NULL || G_IS_CANCELLABLE (cancellable), NULL);
  g_return_val_if_fail (error == NULL || *error == NULL, NULL);

  if (!check_list_args (self, namespace_, error))
    return NULL;

  iface = STACHE_DOCUMENT_INDEX_PROVIDER_GET_IFACE (self);
  if (iface->list_documents == NULL)
    {
      _stache_set_not_supported (error, self, "list_documents");
      return NULL;
    }

  /* The caller's @error may be NULL: a local one tells failure apart from
   * an empty (NULL) list. */
  documents = iface->list_documents (self, namespace_, cancellable, &local_error);
  if (local_error != NULL)
    {
      g_list_free_full (documents, g_object_unref);
      g_propagate_error (error, local_error);
      return NULL;
    }

  return _stache_object_list_to_array (documents);
}

/**
 * stache_document_index_provider_list_documents_async:
 * @self: a #StacheDocumentIndexProvider
 * @namespace_: (nullable): the namespace whose documents to list, or %NULL
 *   for the documents of every namespace
 * @cancellable: (nullable): a #GCancellable
 * @callback: (scope async): called with the documents
 * @user_data: data for @callback
 *
 * Asynchronously lists documents; see
 * stache_document_index_provider_list_documents().
 */
void
stache_document_index_provider_list_documents_async (StacheDocumentIndexProvider *self,
                                                     const char                  *namespace_,
                                                     GCancellable                *cancellable,
                                                     GAsyncReadyCallback          callback,
                                                     gpointer                     user_data)
{
  g_return_if_fail (STACHE_IS_DOCUMENT_INDEX_PROVIDER (self));
  g_return_if_fail (cancellable == NULL || G_IS_CANCELLABLE (cancellable));

  _stache_task_run_in_thread (self, stache_document_index_provider_list_documents_async, list_documents_work,
                              call_data_new (NULL, NULL, namespace_), call_data_free, (GDestroyNotify) g_ptr_array_unref,
                              cancellable, callback, user_data);
}

/**
 * stache_document_index_provider_list_documents_finish:
 * @self: a #StacheDocumentIndexProvider
 * @result: the #GAsyncResult passed to the callback
 * @error: return location for a #GError
 *
 * Finishes stache_document_index_provider_list_documents_async().
 *
 * Returns: (transfer container) (element-type StacheDocument): the
 *   documents, or %NULL with @error set; the array owns its elements
 */
GPtrArray *
stache_document_index_provider_list_documents_finish (StacheDocumentIndexProvider  *self,
                                                      GAsyncResult                 *result,
                                                      GError                      **error)
{
  g_return_val_if_fail (STACHE_IS_DOCUMENT_INDEX_PROVIDER (self), NULL);

  return _stache_task_finish_pointer (self, result, stache_document_index_provider_list_documents_async, error);
}

/**
 * stache_document_index_provider_delete_document: (virtual delete_document)
 * @self: a #StacheDocumentIndexProvider
 * @id: the id of the document to delete
 * @cancellable: (nullable): a #GCancellable
 * @error: return location for a #GError
 *
 * Deletes the document @id from the index. A document that is not in the
 * index fails with %STACHE_ERROR_NOT_FOUND; setting that error is the
 * provider's job. The chunks of the document live in the vector database
 * and are not touched.
 *
 * Returns: %TRUE on success
 */
gboolean
stache_document_index_provider_delete_document (StacheDocumentIndexProvider  *self,
                                                const char                   *id,
                                                GCancellable                 *cancellable,
                                                GError                      **error)
{
  StacheDocumentIndexProviderInterface *iface;
  GError *local_error = NULL;
  gboolean deleted;

  g_return_val_if_fail (STACHE_IS_DOCUMENT_INDEX_PROVIDER (self), FALSE);
  g_return_val_if_fail (cancellable == NULL || G_IS_CANCELLABLE (cancellable), FALSE);
  g_return_val_if_fail (error == NULL || *error == NULL, FALSE);

  if (!check_delete_args (self, id, error))
    return FALSE;

  iface = STACHE_DOCUMENT_INDEX_PROVIDER_GET_IFACE (self);
  if (iface->delete_document == NULL)
    return _stache_set_not_supported (error, self, "delete_document");

  deleted = iface->delete_document (self, id, cancellable, &local_error);

  return check_outcome (self, "delete_document", deleted, local_error, error);
}

/**
 * stache_document_index_provider_delete_document_async:
 * @self: a #StacheDocumentIndexProvider
 * @id: the id of the document to delete
 * @cancellable: (nullable): a #GCancellable
 * @callback: (scope async): called when the document is deleted
 * @user_data: data for @callback
 *
 * Asynchronously deletes a document; see
 * stache_document_index_provider_delete_document().
 */
void
stache_document_index_provider_delete_document_async (StacheDocumentIndexProvider *self,
                                                      const char                  *id,
                                                      GCancellable                *cancellable,
                                                      GAsyncReadyCallback          callback,
                                                      gpointer                     user_data)
{
  g_return_if_fail (STACHE_IS_DOCUMENT_INDEX_PROVIDER (self));
  g_return_if_fail (cancellable == NULL || G_IS_CANCELLABLE (cancellable));

  _stache_task_run_in_thread (self, stache_document_index_provider_delete_document_async, delete_document_work,
                              call_data_new (NULL, id, NULL), call_data_free, NULL,
                              cancellable, callback, user_data);
}

/**
 * stache_document_index_provider_delete_document_finish:
 * @self: a #StacheDocumentIndexProvider
 * @result: the #GAsyncResult passed to the callback
 * @error: return location for a #GError
 *
 * Finishes stache_document_index_provider_delete_document_async().
 *
 * Returns: %TRUE on success
 */
gboolean
stache_document_index_provider_delete_document_finish (StacheDocumentIndexProvider  *self,
                                                       GAsyncResult                 *result,
                                                       GError                      **error)
{
  g_return_val_if_fail (STACHE_IS_DOCUMENT_INDEX_PROVIDER (self), FALSE);

  return _stache_task_finish_boolean (self, result, stache_document_index_provider_delete_document_async, error);
}

void
_stache_document_index_provider_add_missing_methods (const StacheDocumentIndexProviderInterface *iface,
                                                     GPtrArray                                  *missing)
{
  if (iface->index_document == NULL)
    g_ptr_array_add (missing, (gpointer) "index_document");
  if (iface->get_document == NULL)
    g_ptr_array_add (missing, (gpointer) "get_document");
  if (iface->list_documents == NULL)
    g_ptr_array_add (missing, (gpointer) "list_documents");
  if (iface->delete_document == NULL)
    g_ptr_array_add (missing, (gpointer) "delete_document");
}

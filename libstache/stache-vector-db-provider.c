/* stache-vector-db-provider.c: the vector database provider interface
 *
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */
#include "config.h"

#include <math.h>

#include "stache-chunk.h"
#include "stache-error.h"
#include "stache-filter.h"
#include "stache-private.h"
#include "stache-provider-private.h"
#include "stache-search-result.h"
#include "stache-task-private.h"
#include "stache-vector-db-provider.h"

/**
 * StacheVectorDbProvider:
 *
 * Stores chunks with their embedding vectors and finds the nearest ones.
 *
 * Vectors travel as one contiguous array of floats, one row per chunk
 * (`n_chunks × dimensions` values), never one boxed value per float.
 * Namespaces keep collections apart; %NULL as a namespace means every
 * namespace when reading or deleting, and `default` when inserting.
 *
 * Filters are #JsonObject values in one small syntax every vector database
 * plugin translates to its engine: `{"field": value}` for equality,
 * `{"field": {"$in": [v1, v2]}}` for membership, and `{"$and": [f1, f2]}` /
 * `{"$or": [f1, f2]}` to combine filters. Fields name keys of a chunk's
 * metadata, plus `document_id`.
 *
 * Capabilities are strings (`vector_search`, `metadata_filter`,
 * `batch_insert`, `keyword_search`, `namespaces`, …) so a plugin can
 * announce features the core does not know of.
 *
 * The extension point name is `vectordb`; the setting `vectordb_provider`
 * (environment variable `VECTORDB_PROVIDER`) selects the provider.
 */

G_DEFINE_INTERFACE (StacheVectorDbProvider, stache_vector_db_provider, STACHE_TYPE_PROVIDER)

/* ---- the asynchronous forms: the public sync function in a thread ---- */

/* The arguments of one call, owned by it: the caller may free its own as
 * soon as the _async function returns. */
typedef struct
{
  char       *namespace_;
  GPtrArray  *chunks;
  GArray     *vectors;
  guint       top_k;
  JsonObject *filter;
  char      **ids;
} CallData;

static void
call_data_free (gpointer p)
{
  CallData *data = p;

  g_free (data->namespace_);
  g_clear_pointer (&data->chunks, g_ptr_array_unref);
  g_clear_pointer (&data->vectors, g_array_unref);
  g_clear_pointer (&data->filter, json_object_unref);
  g_strfreev (data->ids);
  g_free (data);
}

static CallData *
call_data_new (const char   *namespace_,
               GArray        *vectors,
               JsonObject   *filter)
{
  CallData *data = g_new0 (CallData, 1);

  data->namespace_ = g_strdup (namespace_);
  data->vectors = vectors != NULL ? g_array_copy (vectors) : NULL;
  data->filter = filter != NULL ? json_object_ref (filter) : NULL;

  return data;
}

static gpointer
insert_work (gpointer       source,
             gpointer       task_data,
             GCancellable  *cancellable,
             GError       **error)
{
  CallData *data = task_data;

  return stache_vector_db_provider_insert (source, data->namespace_, data->chunks, data->vectors,
                                           cancellable, error) ? GINT_TO_POINTER (TRUE) : NULL;
}

static gpointer
search_work (gpointer       source,
             gpointer       task_data,
             GCancellable  *cancellable,
             GError       **error)
{
  CallData *data = task_data;

  return stache_vector_db_provider_search (source, data->namespace_, data->vectors, data->top_k,
                                           data->filter, cancellable, error);
}

static gpointer
delete_chunks_work (gpointer       source,
                    gpointer       task_data,
                    GCancellable  *cancellable,
                    GError       **error)
{
  CallData *data = task_data;
  gint64 deleted;

  deleted = stache_vector_db_provider_delete_chunks (source, data->namespace_,
                                                     (const char * const *) data->ids, data->filter,
                                                     cancellable, error);

  return deleted >= 0 ? _stache_int_box (deleted) : NULL;
}

static gpointer
count_work (gpointer       source,
            gpointer       task_data,
            GCancellable  *cancellable,
            GError       **error)
{
  CallData *data = task_data;
  gint64 n = stache_vector_db_provider_count (source, data->namespace_, cancellable, error);

  return n >= 0 ? _stache_int_box (n) : NULL;
}

static char **
real_get_capabilities (StacheVectorDbProvider *self)
{
  const char * const caps[] = { "vector_search", NULL };

  return g_strdupv ((char **) caps);
}

static void
stache_vector_db_provider_default_init (StacheVectorDbProviderInterface *iface)
{
  _stache_i18n_init ();

  iface->get_capabilities = real_get_capabilities;
}

/* ---- argument checks ---- */

static gboolean
check_insert_args (StacheVectorDbProvider  *self,
                   GPtrArray               *chunks,
                   GArray                  *vectors,
                   GError                 **error)
{
  gsize n_values = vectors != NULL ? vectors->len : 0;
  const float *values;
  gsize dims;

  if (chunks->len == 0)
    return TRUE;

  if (vectors != NULL && g_array_get_element_size (vectors) != sizeof (float))
    {
      g_set_error (error, STACHE_ERROR, STACHE_ERROR_INVALID_ARGUMENT,
                   _("Insert into %s: vectors must be an array of float"),
                   G_OBJECT_TYPE_NAME (self));
      return FALSE;
    }

  if (vectors == NULL || n_values == 0 || n_values % chunks->len != 0)
    {
      g_set_error (error, STACHE_ERROR, STACHE_ERROR_INVALID_ARGUMENT,
                   _("Insert into %s: %lu vector values cannot be split "
                     "into %u rows of equal length"),
                   G_OBJECT_TYPE_NAME (self), (gulong) n_values, chunks->len);
      return FALSE;
    }

  values = (const float *) (gpointer) vectors->data;
  dims = n_values / chunks->len;
  for (guint i = 0; i < chunks->len; i++)
    {
      StacheChunk *chunk = g_ptr_array_index (chunks, i);

      if (!STACHE_IS_CHUNK (chunk) || stache_chunk_get_id (chunk) == NULL)
        {
          g_set_error (error, STACHE_ERROR, STACHE_ERROR_INVALID_ARGUMENT,
                       _("Insert into %s: chunk %u has no id"),
                       G_OBJECT_TYPE_NAME (self), i);
          return FALSE;
        }

      for (gsize j = 0; j < dims; j++)
        {
          if (!isfinite (values[i * dims + j]))
            {
              g_set_error (error, STACHE_ERROR, STACHE_ERROR_INVALID_ARGUMENT,
                           _("Insert into %s: the vector of chunk “%s” holds a value "
                             "that is not a finite number"),
                           G_OBJECT_TYPE_NAME (self), stache_chunk_get_id (chunk));
              return FALSE;
            }
        }
    }

  return TRUE;
}

static gboolean
check_query_args (StacheVectorDbProvider  *self,
                  GArray                  *query,
                  JsonObject              *filter,
                  GError                 **error)
{
  const float *values;

  if (filter != NULL && !stache_filter_validate (filter, error))
    return FALSE;

  if (query == NULL || query->len == 0 || g_array_get_element_size (query) != sizeof (float))
    {
      g_set_error (error, STACHE_ERROR, STACHE_ERROR_INVALID_ARGUMENT,
                   _("Search in %s: the query vector is empty"),
                   G_OBJECT_TYPE_NAME (self));
      return FALSE;
    }

  values = (const float *) (gpointer) query->data;
  for (gsize i = 0; i < query->len; i++)
    {
      if (!isfinite (values[i]))
        {
          g_set_error (error, STACHE_ERROR, STACHE_ERROR_INVALID_ARGUMENT,
                       _("Search in %s: the query vector holds a value that is not a "
                         "finite number"),
                       G_OBJECT_TYPE_NAME (self));
          return FALSE;
        }
    }

  return TRUE;
}

static gboolean
check_delete_args (StacheVectorDbProvider  *self,
                   const char * const      *ids,
                   JsonObject              *filter,
                   GError                 **error)
{
  /* Deleting with neither ids nor filter would empty the store; a caller
   * that wants that must say so with a filter. */
  if (ids == NULL && filter == NULL)
    {
      g_set_error (error, STACHE_ERROR, STACHE_ERROR_INVALID_ARGUMENT,
                   _("Delete from %s: give chunk ids or a filter; refusing to delete "
                     "every chunk"),
                   G_OBJECT_TYPE_NAME (self));
      return FALSE;
    }

  if (filter != NULL && !stache_filter_validate (filter, error))
    return FALSE;

  return TRUE;
}

/**
 * StacheVectorDbProviderInterface::search:
 * @self: a #StacheVectorDbProvider
 * @namespace_: (nullable): the namespace to search, or %NULL for all
 * @query: (element-type gfloat): the query vector
 * @top_k: the most results to return
 * @filter: (nullable): a metadata filter
 * @cancellable: (nullable): a #GCancellable
 * @error: return location for a #GError
 *
 * Finds the @top_k chunks nearest @query, best first. The list is a
 * #GList, not a #GPtrArray like the public method's result, so that
 * bindings hand over results they own (in Python: return a list).
 *
 * Returns: (transfer full) (element-type StacheSearchResult) (nullable): the
 *   results, %NULL for none
 */

/* ---- public entry points ---- */

/**
 * stache_vector_db_provider_insert: (virtual insert)
 * @self: a #StacheVectorDbProvider
 * @namespace_: (nullable): the namespace to store into, or %NULL for `default`
 * @chunks: (element-type StacheChunk): the chunks to store; each needs an id
 * @vectors: (element-type gfloat): one row of floats per chunk, in the
 *   order of @chunks, all rows in one array; its length is a multiple of
 *   the number of chunks
 * @cancellable: (nullable): a #GCancellable
 * @error: return location for a #GError
 *
 * Stores @chunks with their vectors. A chunk whose id already exists in the
 * namespace is replaced.
 *
 * Returns: %TRUE on success
 */
gboolean
stache_vector_db_provider_insert (StacheVectorDbProvider  *self,
                                  const char              *namespace_,
                                  GPtrArray               *chunks,
                                  GArray                  *vectors,
                                  GCancellable            *cancellable,
                                  GError                 **error)
{
  StacheVectorDbProviderInterface *iface;

  g_return_val_if_fail (STACHE_IS_VECTOR_DB_PROVIDER (self), FALSE);
  g_return_val_if_fail (chunks != NULL, FALSE);
  g_return_val_if_fail (cancellable == NULL || G_IS_CANCELLABLE (cancellable), FALSE);
  g_return_val_if_fail (error == NULL || *error == NULL, FALSE);

  if (!check_insert_args (self, chunks, vectors, error))
    return FALSE;
  if (chunks->len == 0)
    return TRUE;

  iface = STACHE_VECTOR_DB_PROVIDER_GET_IFACE (self);
  if (iface->insert == NULL)
    return _stache_set_not_supported (error, self, "insert");

  return iface->insert (self, namespace_, chunks, vectors, cancellable, error);
}

/**
 * stache_vector_db_provider_insert_async:
 * @self: a #StacheVectorDbProvider
 * @namespace_: (nullable): the namespace to store into, or %NULL for `default`
 * @chunks: (element-type StacheChunk): the chunks to store; each needs an id
 * @vectors: (element-type gfloat): one row of floats per chunk
 * @cancellable: (nullable): a #GCancellable
 * @callback: (scope async): called when the chunks are stored
 * @user_data: data for @callback
 *
 * Asynchronously stores @chunks; see stache_vector_db_provider_insert().
 * The arguments are copied, so the caller may free them at once.
 */
void
stache_vector_db_provider_insert_async (StacheVectorDbProvider *self,
                                        const char             *namespace_,
                                        GPtrArray              *chunks,
                                        GArray                  *vectors,
                                        GCancellable           *cancellable,
                                        GAsyncReadyCallback     callback,
                                        gpointer                user_data)
{
  CallData *data;

  g_return_if_fail (STACHE_IS_VECTOR_DB_PROVIDER (self));
  g_return_if_fail (chunks != NULL);
  g_return_if_fail (cancellable == NULL || G_IS_CANCELLABLE (cancellable));

  data = call_data_new (namespace_, vectors, NULL);
  data->chunks = g_ptr_array_copy (chunks, (GCopyFunc) (void (*) (void)) g_object_ref, NULL);
  g_ptr_array_set_free_func (data->chunks, g_object_unref);
  _stache_task_run_in_thread (self, stache_vector_db_provider_insert_async, insert_work, data,
                              call_data_free, NULL, cancellable, callback, user_data);
}

/**
 * stache_vector_db_provider_insert_finish:
 * @self: a #StacheVectorDbProvider
 * @result: the #GAsyncResult passed to the callback
 * @error: return location for a #GError
 *
 * Finishes stache_vector_db_provider_insert_async().
 *
 * Returns: %TRUE on success
 */
gboolean
stache_vector_db_provider_insert_finish (StacheVectorDbProvider  *self,
                                         GAsyncResult            *result,
                                         GError                 **error)
{
  g_return_val_if_fail (STACHE_IS_VECTOR_DB_PROVIDER (self), FALSE);

  return _stache_task_finish_boolean (self, result, stache_vector_db_provider_insert_async, error);
}

/**
 * stache_vector_db_provider_search:
 * @self: a #StacheVectorDbProvider
 * @namespace_: (nullable): the namespace to search, or %NULL for all
 * @query: (element-type gfloat): the query vector
 * @top_k: the most results to return
 * @filter: (nullable): a metadata filter in the syntax described above
 * @cancellable: (nullable): a #GCancellable
 * @error: return location for a #GError
 *
 * Finds the @top_k chunks nearest @query, best first. Scores are
 * similarities: higher is closer.
 *
 * Returns: (transfer container) (element-type StacheSearchResult): the results,
 *   possibly none, or %NULL with @error set
 */
GPtrArray *
stache_vector_db_provider_search (StacheVectorDbProvider  *self,
                                  const char              *namespace_,
                                  GArray                  *query,
                                  guint                    top_k,
                                  JsonObject              *filter,
                                  GCancellable            *cancellable,
                                  GError                 **error)
{
  StacheVectorDbProviderInterface *iface;

  g_return_val_if_fail (STACHE_IS_VECTOR_DB_PROVIDER (self), NULL);
  g_return_val_if_fail (cancellable == NULL || G_IS_CANCELLABLE (cancellable), NULL);
  g_return_val_if_fail (error == NULL || *error == NULL, NULL);

  if (!check_query_args (self, query, filter, error))
    return NULL;
  if (top_k == 0)
    return g_ptr_array_new_with_free_func (g_object_unref);

  iface = STACHE_VECTOR_DB_PROVIDER_GET_IFACE (self);
  if (iface->search == NULL)
    {
      _stache_set_not_supported (error, self, "search");
      return NULL;
    }

  {
    GError *local_error = NULL;
    GList *results = iface->search (self, namespace_, query, top_k, filter, cancellable, &local_error);

    if (local_error != NULL)
      {
        g_list_free_full (results, g_object_unref);
        g_propagate_error (error, local_error);
        return NULL;
      }

    return _stache_object_list_to_array (results);
  }
}

/**
 * stache_vector_db_provider_search_async:
 * @self: a #StacheVectorDbProvider
 * @namespace_: (nullable): the namespace to search, or %NULL for all
 * @query: (element-type gfloat): the query vector
 * @top_k: the most results to return
 * @filter: (nullable): a metadata filter
 * @cancellable: (nullable): a #GCancellable
 * @callback: (scope async): called with the results
 * @user_data: data for @callback
 *
 * Asynchronously searches; see stache_vector_db_provider_search().
 */
void
stache_vector_db_provider_search_async (StacheVectorDbProvider *self,
                                        const char             *namespace_,
                                        GArray                  *query,
                                        guint                   top_k,
                                        JsonObject             *filter,
                                        GCancellable           *cancellable,
                                        GAsyncReadyCallback     callback,
                                        gpointer                user_data)
{
  CallData *data;

  g_return_if_fail (STACHE_IS_VECTOR_DB_PROVIDER (self));
  g_return_if_fail (cancellable == NULL || G_IS_CANCELLABLE (cancellable));

  data = call_data_new (namespace_, query, filter);
  data->top_k = top_k;
  _stache_task_run_in_thread (self, stache_vector_db_provider_search_async, search_work, data, call_data_free,
                              (GDestroyNotify) g_ptr_array_unref, cancellable, callback, user_data);
}

/**
 * stache_vector_db_provider_search_finish:
 * @self: a #StacheVectorDbProvider
 * @result: the #GAsyncResult passed to the callback
 * @error: return location for a #GError
 *
 * Finishes stache_vector_db_provider_search_async().
 *
 * Returns: (transfer container) (element-type StacheSearchResult): the
 *   results, or %NULL with @error set; the array owns its elements
 */
GPtrArray *
stache_vector_db_provider_search_finish (StacheVectorDbProvider  *self,
                                         GAsyncResult            *result,
                                         GError                 **error)
{
  g_return_val_if_fail (STACHE_IS_VECTOR_DB_PROVIDER (self), NULL);

  return _stache_task_finish_pointer (self, result, stache_vector_db_provider_search_async, error);
}

/**
 * stache_vector_db_provider_delete_chunks: (virtual delete_chunks)
 * @self: a #StacheVectorDbProvider
 * @namespace_: (nullable): the namespace to delete from, or %NULL for all
 * @ids: (array zero-terminated=1) (nullable): chunk ids to delete
 * @filter: (nullable): delete the chunks matching this filter
 * @cancellable: (nullable): a #GCancellable
 * @error: return location for a #GError
 *
 * Deletes chunks by id, by filter, or both (a chunk must then match both).
 * At least one of @ids and @filter must be given. An empty @ids deletes
 * nothing, without calling the provider, so a provider sees either %NULL
 * (in Python: an empty list) or a non-empty list.
 *
 * Returns: the number of chunks deleted, or -1 with @error set
 */
gint64
stache_vector_db_provider_delete_chunks (StacheVectorDbProvider  *self,
                                         const char              *namespace_,
                                         const char * const      *ids,
                                         JsonObject              *filter,
                                         GCancellable            *cancellable,
                                         GError                 **error)
{
  StacheVectorDbProviderInterface *iface;

  g_return_val_if_fail (STACHE_IS_VECTOR_DB_PROVIDER (self), -1);
  g_return_val_if_fail (cancellable == NULL || G_IS_CANCELLABLE (cancellable), -1);
  g_return_val_if_fail (error == NULL || *error == NULL, -1);

  if (!check_delete_args (self, ids, filter, error))
    return -1;

  /* An empty id list deletes nothing. Providers only ever see NULL or a
   * non-empty list, which matters for languages (Python) that cannot tell
   * an empty list from NULL. */
  if (ids != NULL && ids[0] == NULL)
    return 0;

  iface = STACHE_VECTOR_DB_PROVIDER_GET_IFACE (self);
  if (iface->delete_chunks == NULL)
    {
      _stache_set_not_supported (error, self, "delete_chunks");
      return -1;
    }

  return iface->delete_chunks (self, namespace_, ids, filter, cancellable, error);
}

/**
 * stache_vector_db_provider_delete_chunks_async:
 * @self: a #StacheVectorDbProvider
 * @namespace_: (nullable): the namespace to delete from, or %NULL for all
 * @ids: (array zero-terminated=1) (nullable): chunk ids to delete
 * @filter: (nullable): delete the chunks matching this filter
 * @cancellable: (nullable): a #GCancellable
 * @callback: (scope async): called when done
 * @user_data: data for @callback
 *
 * Asynchronously deletes chunks; see stache_vector_db_provider_delete_chunks().
 */
void
stache_vector_db_provider_delete_chunks_async (StacheVectorDbProvider *self,
                                               const char             *namespace_,
                                               const char * const     *ids,
                                               JsonObject             *filter,
                                               GCancellable           *cancellable,
                                               GAsyncReadyCallback     callback,
                                               gpointer                user_data)
{
  CallData *data;

  g_return_if_fail (STACHE_IS_VECTOR_DB_PROVIDER (self));
  g_return_if_fail (cancellable == NULL || G_IS_CANCELLABLE (cancellable));

  data = call_data_new (namespace_, NULL, filter);
  data->ids = g_strdupv ((char **) ids);
  _stache_task_run_in_thread (self, stache_vector_db_provider_delete_chunks_async, delete_chunks_work, data,
                              call_data_free, g_free, cancellable, callback, user_data);
}

/**
 * stache_vector_db_provider_delete_chunks_finish:
 * @self: a #StacheVectorDbProvider
 * @result: the #GAsyncResult passed to the callback
 * @error: return location for a #GError
 *
 * Finishes stache_vector_db_provider_delete_chunks_async().
 *
 * Returns: the number of chunks deleted, or -1 with @error set
 */
gint64
stache_vector_db_provider_delete_chunks_finish (StacheVectorDbProvider  *self,
                                                GAsyncResult            *result,
                                                GError                 **error)
{
  g_return_val_if_fail (STACHE_IS_VECTOR_DB_PROVIDER (self), -1);

  return _stache_task_finish_int (self, result, stache_vector_db_provider_delete_chunks_async, error);
}

/**
 * stache_vector_db_provider_count: (virtual count)
 * @self: a #StacheVectorDbProvider
 * @namespace_: (nullable): the namespace to count, or %NULL for all
 * @cancellable: (nullable): a #GCancellable
 * @error: return location for a #GError
 *
 * Counts the chunks stored.
 *
 * Returns: the number of chunks, or -1 with @error set
 */
gint64
stache_vector_db_provider_count (StacheVectorDbProvider  *self,
                                 const char              *namespace_,
                                 GCancellable            *cancellable,
                                 GError                 **error)
{
  StacheVectorDbProviderInterface *iface;

  g_return_val_if_fail (STACHE_IS_VECTOR_DB_PROVIDER (self), -1);
  g_return_val_if_fail (cancellable == NULL || G_IS_CANCELLABLE (cancellable), -1);
  g_return_val_if_fail (error == NULL || *error == NULL, -1);

  iface = STACHE_VECTOR_DB_PROVIDER_GET_IFACE (self);
  if (iface->count == NULL)
    {
      _stache_set_not_supported (error, self, "count");
      return -1;
    }

  return iface->count (self, namespace_, cancellable, error);
}

/**
 * stache_vector_db_provider_count_async:
 * @self: a #StacheVectorDbProvider
 * @namespace_: (nullable): the namespace to count, or %NULL for all
 * @cancellable: (nullable): a #GCancellable
 * @callback: (scope async): called with the count
 * @user_data: data for @callback
 *
 * Asynchronously counts chunks; see stache_vector_db_provider_count().
 */
void
stache_vector_db_provider_count_async (StacheVectorDbProvider *self,
                                       const char             *namespace_,
                                       GCancellable           *cancellable,
                                       GAsyncReadyCallback     callback,
                                       gpointer                user_data)
{
  g_return_if_fail (STACHE_IS_VECTOR_DB_PROVIDER (self));
  g_return_if_fail (cancellable == NULL || G_IS_CANCELLABLE (cancellable));

  _stache_task_run_in_thread (self, stache_vector_db_provider_count_async, count_work,
                              call_data_new (namespace_, NULL, NULL), call_data_free, g_free,
                              cancellable, callback, user_data);
}

/**
 * stache_vector_db_provider_count_finish:
 * @self: a #StacheVectorDbProvider
 * @result: the #GAsyncResult passed to the callback
 * @error: return location for a #GError
 *
 * Finishes stache_vector_db_provider_count_async().
 *
 * Returns: the number of chunks, or -1 with @error set
 */
gint64
stache_vector_db_provider_count_finish (StacheVectorDbProvider  *self,
                                        GAsyncResult            *result,
                                        GError                 **error)
{
  g_return_val_if_fail (STACHE_IS_VECTOR_DB_PROVIDER (self), -1);

  return _stache_task_finish_int (self, result, stache_vector_db_provider_count_async, error);
}

/**
 * StacheVectorDbProviderInterface::keyword_search:
 * @self: a #StacheVectorDbProvider
 * @namespace_: (nullable): the namespace to search, or %NULL for all
 * @query: the words to look for
 * @top_k: the most results to return
 * @filter: (nullable): a metadata filter
 * @cancellable: (nullable): a #GCancellable
 * @error: return location for a #GError
 *
 * Finds the chunks that best match the words of @query, best first; higher
 * scores are better.
 *
 * Returns: (transfer full) (element-type StacheSearchResult) (nullable): the
 *   results, %NULL for none
 */

/* Both keyword searches: the checks, the method, its list made an array */
static GPtrArray *
keyword_search (StacheVectorDbProvider  *self,
                gboolean                 documents,
                const char              *namespace_,
                const char              *query,
                guint                    top_k,
                JsonObject              *filter,
                GCancellable            *cancellable,
                GError                 **error)
{
  StacheVectorDbProviderInterface *iface = STACHE_VECTOR_DB_PROVIDER_GET_IFACE (self);
  GList *(*method) (StacheVectorDbProvider *, const char *, const char *, guint, JsonObject *,
                    GCancellable *, GError **);
  GError *local_error = NULL;
  GList *results;

  if (filter != NULL && !stache_filter_validate (filter, error))
    return NULL;
  if (!g_utf8_validate (query, -1, NULL))
    {
      g_set_error (error, STACHE_ERROR, STACHE_ERROR_INVALID_ARGUMENT,
                   _("Keyword search in %s: the query is not valid UTF-8"),
                   G_OBJECT_TYPE_NAME (self));
      return NULL;
    }
  if (top_k == 0)
    return g_ptr_array_new_with_free_func (g_object_unref);

  method = documents ? iface->keyword_search_documents : iface->keyword_search;
  if (method == NULL)
    {
      _stache_set_not_supported (error, self, documents ? "keyword_search_documents" : "keyword_search");
      return NULL;
    }

  results = method (self, namespace_, query, top_k, filter, cancellable, &local_error);
  if (local_error != NULL)
    {
      g_list_free_full (results, g_object_unref);
      g_propagate_error (error, local_error);
      return NULL;
    }

  return _stache_object_list_to_array (results);
}

/**
 * stache_vector_db_provider_keyword_search:
 * @self: a #StacheVectorDbProvider
 * @namespace_: (nullable): the namespace to search, or %NULL for all
 * @query: the words to look for
 * @top_k: the most results to return
 * @filter: (nullable): a metadata filter
 * @cancellable: (nullable): a #GCancellable
 * @error: return location for a #GError
 *
 * Finds chunks by their words rather than their vectors, for stores with
 * the `keyword_search` capability (the embedded SQLite store ranks with
 * BM25 on a keyword index of its own). Others fail with
 * %STACHE_ERROR_NOT_SUPPORTED.
 *
 * This may block; #StacheStore calls it from a worker thread.
 *
 * Returns: (transfer container) (element-type StacheSearchResult): the
 *   results, or %NULL with @error set; the array owns its elements
 */
GPtrArray *
stache_vector_db_provider_keyword_search (StacheVectorDbProvider  *self,
                                          const char              *namespace_,
                                          const char              *query,
                                          guint                    top_k,
                                          JsonObject              *filter,
                                          GCancellable            *cancellable,
                                          GError                 **error)
{
  g_return_val_if_fail (STACHE_IS_VECTOR_DB_PROVIDER (self), NULL);
  g_return_val_if_fail (query != NULL, NULL);
  g_return_val_if_fail (cancellable == NULL || G_IS_CANCELLABLE (cancellable), NULL);
  g_return_val_if_fail (error == NULL || *error == NULL, NULL);

  return keyword_search (self, FALSE, namespace_, query, top_k, filter, cancellable, error);
}

/**
 * StacheVectorDbProviderInterface::keyword_search_documents:
 * @self: a #StacheVectorDbProvider
 * @namespace_: (nullable): the namespace to search, or %NULL for all
 * @query: the words to look for
 * @top_k: the most documents to return
 * @filter: (nullable): a metadata filter
 * @cancellable: (nullable): a #GCancellable
 * @error: return location for a #GError
 *
 * Finds the documents that best match the words of @query, each scored as
 * one text; for each, its best chunk with the document's score, best
 * first.
 *
 * Returns: (transfer full) (element-type StacheSearchResult) (nullable): the
 *   results, %NULL for none
 */

/**
 * stache_vector_db_provider_keyword_search_documents:
 * @self: a #StacheVectorDbProvider
 * @namespace_: (nullable): the namespace to search, or %NULL for all
 * @query: the words to look for
 * @top_k: the most documents to return
 * @filter: (nullable): a metadata filter
 * @cancellable: (nullable): a #GCancellable
 * @error: return location for a #GError
 *
 * Finds documents by their words, each document scored as one text (the
 * words of all its chunks: query words spread over several chunks add
 * up), for stores with the `document_keyword_search` capability. Each
 * result is the document's best chunk, carrying the document's score;
 * one per document. Others fail with %STACHE_ERROR_NOT_SUPPORTED.
 * #StacheStore fuses this list with the chunk lists in hybrid and keyword
 * search (setting `hybrid_document_weight`).
 *
 * This may block; #StacheStore calls it from a worker thread.
 *
 * Returns: (transfer container) (element-type StacheSearchResult): the
 *   results, or %NULL with @error set; the array owns its elements
 */
GPtrArray *
stache_vector_db_provider_keyword_search_documents (StacheVectorDbProvider  *self,
                                                    const char              *namespace_,
                                                    const char              *query,
                                                    guint                    top_k,
                                                    JsonObject              *filter,
                                                    GCancellable            *cancellable,
                                                    GError                 **error)
{
  g_return_val_if_fail (STACHE_IS_VECTOR_DB_PROVIDER (self), NULL);
  g_return_val_if_fail (query != NULL, NULL);
  g_return_val_if_fail (cancellable == NULL || G_IS_CANCELLABLE (cancellable), NULL);
  g_return_val_if_fail (error == NULL || *error == NULL, NULL);

  return keyword_search (self, TRUE, namespace_, query, top_k, filter, cancellable, error);
}

/**
 * stache_vector_db_provider_replace_document: (virtual replace_document)
 * @self: a #StacheVectorDbProvider
 * @namespace_: (nullable): the namespace, or %NULL for `default`
 * @document_id: the document whose chunks are replaced
 * @chunks: (element-type StacheChunk): the document's new chunks, possibly
 *   none
 * @vectors: (element-type gfloat): one row of floats per chunk
 * @cancellable: (nullable): a #GCancellable
 * @error: return location for a #GError
 *
 * Replaces every chunk of @document_id in the namespace with @chunks. A
 * store that overrides this does it in one transaction, so a reader (or a
 * crash) never sees half of the old and half of the new document; the
 * default deletes the old chunks, then inserts the new ones.
 *
 * This may block; #StacheStore calls it from a worker thread.
 *
 * Returns: %TRUE on success
 */
gboolean
stache_vector_db_provider_replace_document (StacheVectorDbProvider  *self,
                                            const char              *namespace_,
                                            const char              *document_id,
                                            GPtrArray               *chunks,
                                            GArray                  *vectors,
                                            GCancellable            *cancellable,
                                            GError                 **error)
{
  StacheVectorDbProviderInterface *iface;
  g_autoptr(JsonObject) filter = NULL;

  g_return_val_if_fail (STACHE_IS_VECTOR_DB_PROVIDER (self), FALSE);
  g_return_val_if_fail (document_id != NULL, FALSE);
  g_return_val_if_fail (chunks != NULL, FALSE);
  g_return_val_if_fail (cancellable == NULL || G_IS_CANCELLABLE (cancellable), FALSE);
  g_return_val_if_fail (error == NULL || *error == NULL, FALSE);

  if (!check_insert_args (self, chunks, vectors, error))
    return FALSE;

  for (guint i = 0; i < chunks->len; i++)
    {
      if (g_strcmp0 (stache_chunk_get_document_id (g_ptr_array_index (chunks, i)), document_id) != 0)
        {
          g_set_error (error, STACHE_ERROR, STACHE_ERROR_INVALID_ARGUMENT,
                       _("Replace in %s: chunk %u does not belong to document “%s”"),
                       G_OBJECT_TYPE_NAME (self), i, document_id);
          return FALSE;
        }
    }

  iface = STACHE_VECTOR_DB_PROVIDER_GET_IFACE (self);
  if (iface->replace_document != NULL)
    return iface->replace_document (self, namespace_, document_id, chunks, vectors, cancellable, error);

  filter = json_object_new ();
  json_object_set_string_member (filter, "document_id", document_id);
  if (stache_vector_db_provider_delete_chunks (self, namespace_ != NULL ? namespace_ : "default",
                                               NULL, filter, cancellable, error) < 0)
    return FALSE;

  return stache_vector_db_provider_insert (self, namespace_, chunks, vectors, cancellable, error);
}

/* The default for a vector database and a document index that cannot share
 * a transaction: one document after the other, each in three steps that
 * leave nothing wrong behind when a crash stops them half-way. The old
 * record first loses its content hash, so an interrupted replace is never
 * taken for finished ("unchanged") by the next ingest; then the chunks are
 * replaced; the record is written last, so a listed document is only ever
 * missing chunks while it is marked incomplete. */
static gboolean
write_documents_in_steps (StacheVectorDbProvider       *self,
                          StacheDocumentIndexProvider  *index,
                          GPtrArray                    *documents,
                          GPtrArray                    *chunks,
                          GArray                       *vectors,
                          GCancellable                 *cancellable,
                          GError                      **error)
{
  gsize dims = chunks->len > 0 ? vectors->len / chunks->len : 0;
  guint first = 0;

  for (guint d = 0; d < documents->len; d++)
    {
      StacheDocument *document = g_ptr_array_index (documents, d);
      const char *id = stache_document_get_id (document);
      guint n = stache_document_get_chunk_count (document);
      g_autoptr(GPtrArray) slice = g_ptr_array_new_full (n, NULL);
      g_autoptr(GArray) rows = g_array_sized_new (FALSE, FALSE, sizeof (float), (guint) (n * dims));
      g_autoptr(StacheDocument) existing = NULL;
      GError *local_error = NULL;

      for (guint i = 0; i < n; i++)
        g_ptr_array_add (slice, g_ptr_array_index (chunks, first + i));
      if (n > 0)
        g_array_append_vals (rows, (const float *) (gpointer) vectors->data + first * dims, (guint) (n * dims));
      first += n;

      existing = stache_document_index_provider_get_document (index, id, cancellable, &local_error);
      if (g_error_matches (local_error, STACHE_ERROR, STACHE_ERROR_NOT_FOUND))
        g_clear_error (&local_error);
      if (local_error != NULL)
        {
          g_propagate_error (error, local_error);
          return FALSE;
        }
      if (existing != NULL && stache_document_get_content_hash (existing) != NULL)
        {
          stache_document_set_content_hash (existing, NULL);
          if (!stache_document_index_provider_index_document (index, existing, cancellable, error))
            return FALSE;
        }

      if (!stache_vector_db_provider_replace_document (self, stache_document_get_namespace (document), id,
                                                       slice, rows, cancellable, error) ||
          !stache_document_index_provider_index_document (index, document, cancellable, error))
        return FALSE;
    }

  return TRUE;
}

/**
 * stache_vector_db_provider_write_documents: (virtual write_documents)
 * @self: a #StacheVectorDbProvider
 * @index: the document index the documents are recorded in
 * @documents: (element-type StacheDocument): the documents; each one's
 *   #StacheDocument:chunk-count says how many of @chunks are its own
 * @chunks: (element-type StacheChunk): the chunks of all documents, the
 *   first document's first, each carrying its document's id
 * @vectors: (element-type gfloat): one row of floats per chunk
 * @cancellable: (nullable): a #GCancellable
 * @error: return location for a #GError
 *
 * Replaces the chunks of each document with its new ones and records the
 * document in @index. A vector database that keeps @index's rows itself
 * (the embedded `sqlite` one, with the `sqlite` document index on the same
 * file) does all of it in one transaction: after a crash every document is
 * wholly old or wholly new, and a batch of documents costs one commit.
 * Any other pair goes one document after the other, and an interrupted
 * replace leaves a record without its content hash, which the next ingest
 * redoes.
 *
 * This may block; #StacheStore calls it from a worker thread.
 *
 * Returns: %TRUE on success
 */
gboolean
stache_vector_db_provider_write_documents (StacheVectorDbProvider       *self,
                                           StacheDocumentIndexProvider  *index,
                                           GPtrArray                    *documents,
                                           GPtrArray                    *chunks,
                                           GArray                       *vectors,
                                           GCancellable                 *cancellable,
                                           GError                      **error)
{
  StacheVectorDbProviderInterface *iface;
  GError *local_error = NULL;
  guint first = 0;

  g_return_val_if_fail (STACHE_IS_VECTOR_DB_PROVIDER (self), FALSE);
  g_return_val_if_fail (STACHE_IS_DOCUMENT_INDEX_PROVIDER (index), FALSE);
  g_return_val_if_fail (documents != NULL, FALSE);
  g_return_val_if_fail (chunks != NULL, FALSE);
  g_return_val_if_fail (cancellable == NULL || G_IS_CANCELLABLE (cancellable), FALSE);
  g_return_val_if_fail (error == NULL || *error == NULL, FALSE);

  if (!check_insert_args (self, chunks, vectors, error))
    return FALSE;

  for (guint d = 0; d < documents->len; d++)
    {
      StacheDocument *document = g_ptr_array_index (documents, d);
      guint n;

      if (!STACHE_IS_DOCUMENT (document) || stache_document_get_id (document) == NULL)
        {
          g_set_error (error, STACHE_ERROR, STACHE_ERROR_INVALID_ARGUMENT,
                       _("Write to %s: document %u has no id"), G_OBJECT_TYPE_NAME (self), d);
          return FALSE;
        }
      n = stache_document_get_chunk_count (document);
      if (n > chunks->len - first)
        {
          g_set_error (error, STACHE_ERROR, STACHE_ERROR_INVALID_ARGUMENT,
                       _("Write to %s: document “%s” counts %u chunks but only %u are left"),
                       G_OBJECT_TYPE_NAME (self), stache_document_get_id (document), n,
                       chunks->len - first);
          return FALSE;
        }
      for (guint i = first; i < first + n; i++)
        if (g_strcmp0 (stache_chunk_get_document_id (g_ptr_array_index (chunks, i)),
                       stache_document_get_id (document)) != 0)
          {
            g_set_error (error, STACHE_ERROR, STACHE_ERROR_INVALID_ARGUMENT,
                         _("Write to %s: chunk %u does not belong to document “%s”"),
                         G_OBJECT_TYPE_NAME (self), i, stache_document_get_id (document));
            return FALSE;
          }
      first += n;
    }
  if (first != chunks->len)
    {
      g_set_error (error, STACHE_ERROR, STACHE_ERROR_INVALID_ARGUMENT,
                   _("Write to %s: %u chunks belong to no document"),
                   G_OBJECT_TYPE_NAME (self), chunks->len - first);
      return FALSE;
    }

  iface = STACHE_VECTOR_DB_PROVIDER_GET_IFACE (self);
  if (iface->write_documents != NULL)
    {
      if (iface->write_documents (self, index, documents, chunks, vectors, cancellable, &local_error))
        return TRUE;
      if (!g_error_matches (local_error, STACHE_ERROR, STACHE_ERROR_NOT_SUPPORTED))
        {
          g_propagate_error (error, local_error);
          return FALSE;
        }
      g_clear_error (&local_error);
    }

  return write_documents_in_steps (self, index, documents, chunks, vectors, cancellable, error);
}

/**
 * stache_vector_db_provider_verify: (virtual verify)
 * @self: a #StacheVectorDbProvider
 * @cancellable: (nullable): a #GCancellable
 * @error: return location for a #GError
 *
 * Reads everything the store holds and checks that it is intact and
 * consistent (for `stache check`). This can take long on a large store.
 * A provider with nothing to check succeeds.
 *
 * Returns: %TRUE when no damage was found
 */
gboolean
stache_vector_db_provider_verify (StacheVectorDbProvider  *self,
                                  GCancellable            *cancellable,
                                  GError                 **error)
{
  StacheVectorDbProviderInterface *iface;

  g_return_val_if_fail (STACHE_IS_VECTOR_DB_PROVIDER (self), FALSE);
  g_return_val_if_fail (error == NULL || *error == NULL, FALSE);

  iface = STACHE_VECTOR_DB_PROVIDER_GET_IFACE (self);
  if (iface->verify == NULL)
    return TRUE;

  return iface->verify (self, cancellable, error);
}

/**
 * stache_vector_db_provider_get_capabilities: (virtual get_capabilities)
 * @self: a #StacheVectorDbProvider
 *
 * Lists what the store can do, such as `vector_search`, `metadata_filter`,
 * `batch_insert`, `keyword_search` or `namespaces`.
 *
 * Returns: (transfer full) (array zero-terminated=1): the capabilities
 */
char **
stache_vector_db_provider_get_capabilities (StacheVectorDbProvider *self)
{
  char **caps;

  g_return_val_if_fail (STACHE_IS_VECTOR_DB_PROVIDER (self), NULL);

  caps = STACHE_VECTOR_DB_PROVIDER_GET_IFACE (self)->get_capabilities (self);
  if (caps == NULL)
    caps = g_new0 (char *, 1);

  return caps;
}

/**
 * stache_vector_db_provider_has_capability:
 * @self: a #StacheVectorDbProvider
 * @capability: a capability name such as `keyword_search`
 *
 * Checks whether the store announces @capability.
 *
 * Returns: %TRUE if it does
 */
gboolean
stache_vector_db_provider_has_capability (StacheVectorDbProvider *self,
                                          const char             *capability)
{
  g_auto(GStrv) caps = NULL;

  g_return_val_if_fail (STACHE_IS_VECTOR_DB_PROVIDER (self), FALSE);
  g_return_val_if_fail (capability != NULL, FALSE);

  caps = stache_vector_db_provider_get_capabilities (self);

  return g_strv_contains ((const char * const *) caps, capability);
}

void
_stache_vector_db_provider_add_missing_methods (const StacheVectorDbProviderInterface *iface,
                                                GPtrArray                             *missing)
{
  if (iface->insert == NULL)
    g_ptr_array_add (missing, (gpointer) "insert");
  if (iface->search == NULL)
    g_ptr_array_add (missing, (gpointer) "search");
  if (iface->delete_chunks == NULL)
    g_ptr_array_add (missing, (gpointer) "delete_chunks");
  if (iface->count == NULL)
    g_ptr_array_add (missing, (gpointer) "count");
}

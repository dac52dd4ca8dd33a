/* stache-store-search.c: StacheStore's search: the vector, keyword and
 * document-keyword lists, fused by weighted reciprocal rank, then reranked
 *
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */
#include "config.h"

#include <string.h>

#include "stache-store-private.h"

typedef struct
{
  char             *query;
  char             *namespace_;
  guint             top_k;
  StacheSearchMode  mode;
  JsonObject       *filter;
} StoreCall;

static void
store_call_free (gpointer p)
{
  StoreCall *call = p;

  g_free (call->query);
  g_free (call->namespace_);
  g_clear_pointer (&call->filter, json_object_unref);
  g_free (call);
}

/* ---- search ---- */

typedef struct
{
  StacheSearchResult *result;
  double              score;
  guint               order;
} Fused;

static int
compare_fused (gconstpointer a,
               gconstpointer b)
{
  const Fused *fa = *(Fused * const *) a;
  const Fused *fb = *(Fused * const *) b;

  if (fa->score != fb->score)
    return fa->score < fb->score ? 1 : -1;
  return (fa->order > fb->order) - (fa->order < fb->order);
}

/* Reciprocal-rank fusion: each list votes 1/(k + rank) for its hits, so a
 * chunk found by both the vector and the keyword search rises, and neither
 * list's raw scores (cosine vs BM25, on different scales) need comparing. */
static GPtrArray *
fuse_rrf (GPtrArray    **lists,
          const double  *weights,
          guint          n_lists,
          double         k)
{
  g_autoptr(GHashTable) by_id = g_hash_table_new (g_str_hash, g_str_equal);
  g_autoptr(GPtrArray) fused = g_ptr_array_new_with_free_func (g_free);
  GPtrArray *results = g_ptr_array_new_with_free_func (g_object_unref);
  guint order = 0;

  for (guint l = 0; l < n_lists; l++)
    {
      for (guint rank = 0; lists[l] != NULL && rank < lists[l]->len; rank++)
        {
          StacheSearchResult *hit = g_ptr_array_index (lists[l], rank);
          const char *id = stache_search_result_get_id (hit);
          Fused *entry = id != NULL ? g_hash_table_lookup (by_id, id) : NULL;

          if (entry == NULL)
            {
              entry = g_new0 (Fused, 1);
              entry->result = hit;
              entry->order = order++;
              g_ptr_array_add (fused, entry);
              if (id != NULL)
                g_hash_table_insert (by_id, (gpointer) id, entry);
            }
          entry->score += weights[l] / (k + rank + 1);
        }
    }

  g_ptr_array_sort (fused, compare_fused);
  for (guint i = 0; i < fused->len; i++)
    {
      Fused *entry = g_ptr_array_index (fused, i);
      StacheSearchResult *copy = stache_search_result_copy (entry->result);

      stache_search_result_set_score (copy, entry->score);
      g_ptr_array_add (results, copy);
    }

  return results;
}

/**
 * stache_store_search_full:
 * @self: a #StacheStore
 * @query: what to look for
 * @namespace_: (nullable): the namespace to search, or %NULL for all
 * @top_k: how many results to return; 0 for the `search_top_k` setting
 * @mode: vector, keyword or hybrid
 * @filter: (nullable): a metadata filter (see #StacheVectorDbProvider)
 * @cancellable: (nullable): a #GCancellable
 * @error: return location for a #GError
 *
 * Finds the chunks that best answer @query: candidates by vector and/or
 * keyword search, then reranked. Hybrid search fuses, by weighted
 * reciprocal rank, the vector list, the keyword list and, where the vector
 * database can rank whole documents by their words
 * (stache_vector_db_provider_keyword_search_documents()), the best chunk
 * of each of the best documents (settings `hybrid_vector_weight`,
 * `hybrid_document_weight`, `hybrid_rrf_k`).
 *
 * Returns: (transfer container) (element-type StacheSearchResult): the
 *   results, best first, or %NULL with @error set
 */
GPtrArray *
stache_store_search_full (StacheStore       *self,
                          const char        *query,
                          const char        *namespace_,
                          guint              top_k,
                          StacheSearchMode   mode,
                          JsonObject        *filter,
                          GCancellable      *cancellable,
                          GError           **error)
{
  g_autoptr(GPtrArray) by_vector = NULL;
  g_autoptr(GPtrArray) by_keyword = NULL;
  g_autoptr(GPtrArray) by_document = NULL;
  g_autoptr(GPtrArray) candidates = NULL;
  guint n_candidates;

  g_return_val_if_fail (STACHE_IS_STORE (self), NULL);
  g_return_val_if_fail (query != NULL, NULL);
  g_return_val_if_fail (error == NULL || *error == NULL, NULL);

  {
    g_autofree char *stripped = g_strstrip (g_strdup (query));

    if (!g_utf8_validate (query, -1, NULL) || stripped[0] == '\0')
      {
        g_set_error (error, STACHE_ERROR, STACHE_ERROR_INVALID_ARGUMENT,
                     _("The search query is empty or not valid UTF-8"));
        return NULL;
      }
  }

  if (namespace_ != NULL && !stache_namespace_name_validate (namespace_, error))
    return NULL;

  if (top_k == 0)
    top_k = self->default_top_k;
  /* Not a multiple of top_k: the reranker weighs words over the pool, so
   * a pool that grew with top_k would reorder the first results. */
  n_candidates = MAX (self->candidates, top_k);

  if (mode != STACHE_SEARCH_MODE_KEYWORD)
    {
      g_autoptr(GArray) vector = stache_embedding_provider_embed (self->embedder, query, cancellable, error);

      if (vector == NULL)
        return NULL;
      by_vector = stache_vector_db_provider_search (self->vectordb, namespace_, vector, n_candidates,
                                                    filter, cancellable, error);
      if (by_vector == NULL)
        return NULL;
    }

  if (mode != STACHE_SEARCH_MODE_VECTOR)
    {
      if (stache_vector_db_provider_has_capability (self->vectordb, "keyword_search"))
        {
          by_keyword = stache_vector_db_provider_keyword_search (self->vectordb, namespace_, query,
                                                                 n_candidates, filter, cancellable, error);
          if (by_keyword == NULL)
            return NULL;
        }
      else if (mode == STACHE_SEARCH_MODE_KEYWORD)
        {
          g_set_error (error, STACHE_ERROR, STACHE_ERROR_NOT_SUPPORTED,
                       _("The vector database %s has no keyword search; use vector or hybrid mode"),
                       G_OBJECT_TYPE_NAME (self->vectordb));
          return NULL;
        }

      /* In hybrid search, whole documents by their words too: query words
       * spread over several chunks of one document add up. (Keyword
       * search stays BM25 over chunks, its scores as the index gives them.) */
      if (mode == STACHE_SEARCH_MODE_HYBRID && self->document_weight > 0 &&
          stache_vector_db_provider_has_capability (self->vectordb, "document_keyword_search"))
        {
          by_document = stache_vector_db_provider_keyword_search_documents (self->vectordb, namespace_, query,
                                                                            n_candidates, filter, cancellable,
                                                                            error);
          if (by_document == NULL)
            return NULL;
        }
    }

  /* Reciprocal-rank fusion of the lists there are; the reranker sees as
   * many candidates as from one list alone. */
  {
    GPtrArray *lists[3];
    double weights[3];
    guint n_lists = 0;

    if (by_vector != NULL)
      {
        lists[n_lists] = by_vector;
        weights[n_lists++] = self->vector_weight;
      }
    if (by_keyword != NULL)
      {
        lists[n_lists] = by_keyword;
        weights[n_lists++] = 1.0;
      }
    if (by_document != NULL)
      {
        lists[n_lists] = by_document;
        weights[n_lists++] = self->document_weight;
      }
    if (n_lists == 1)
      candidates = g_ptr_array_ref (lists[0]);
    else
      {
        candidates = fuse_rrf (lists, weights, n_lists, self->rrf_k);
        if (candidates->len > n_candidates)
          g_ptr_array_set_size (candidates, n_candidates);
      }
  }

  if (self->reranker != NULL && candidates->len > 0)
    return stache_reranker_provider_rerank (self->reranker, query, candidates, top_k, cancellable, error);

  if (candidates->len > top_k)
    g_ptr_array_set_size (candidates, top_k);

  return g_steal_pointer (&candidates);
}

/**
 * stache_store_search:
 * @self: a #StacheStore
 * @query: what to look for
 * @namespace_: (nullable): the namespace to search, or %NULL for all
 * @top_k: how many results to return; 0 for the `search_top_k` setting
 * @cancellable: (nullable): a #GCancellable
 * @error: return location for a #GError
 *
 * Hybrid search without a filter; see stache_store_search_full().
 *
 * Returns: (transfer container) (element-type StacheSearchResult): the
 *   results, best first, or %NULL with @error set
 */
GPtrArray *
stache_store_search (StacheStore   *self,
                     const char    *query,
                     const char    *namespace_,
                     guint          top_k,
                     GCancellable  *cancellable,
                     GError       **error)
{
  return stache_store_search_full (self, query, namespace_, top_k, STACHE_SEARCH_MODE_HYBRID, NULL,
                                   cancellable, error);
}

static gpointer
search_work (gpointer       source,
             gpointer       data,
             GCancellable  *cancellable,
             GError       **error)
{
  StoreCall *call = data;

  return stache_store_search_full (source, call->query, call->namespace_, call->top_k, call->mode,
                                   call->filter, cancellable, error);
}

/**
 * stache_store_search_async:
 * @self: a #StacheStore
 * @query: what to look for
 * @namespace_: (nullable): the namespace to search, or %NULL for all
 * @top_k: how many results to return; 0 for the default
 * @mode: vector, keyword or hybrid
 * @filter: (nullable): a metadata filter
 * @cancellable: (nullable): a #GCancellable
 * @callback: (scope async): called with the results
 * @user_data: data for @callback
 *
 * Searches in a worker thread; see stache_store_search_full().
 */
void
stache_store_search_async (StacheStore         *self,
                           const char          *query,
                           const char          *namespace_,
                           guint                top_k,
                           StacheSearchMode     mode,
                           JsonObject          *filter,
                           GCancellable        *cancellable,
                           GAsyncReadyCallback  callback,
                           gpointer             user_data)
{
  StoreCall *call;

  g_return_if_fail (STACHE_IS_STORE (self));
  g_return_if_fail (query != NULL);

  call = g_new0 (StoreCall, 1);
  call->query = g_strdup (query);
  call->namespace_ = g_strdup (namespace_);
  call->top_k = top_k;
  call->mode = mode;
  call->filter = filter != NULL ? json_object_ref (filter) : NULL;
  _stache_task_run_in_thread (self, stache_store_search_async, search_work, call, store_call_free,
                              (GDestroyNotify) g_ptr_array_unref, cancellable, callback, user_data);
}

/**
 * stache_store_search_finish:
 * @self: a #StacheStore
 * @result: the #GAsyncResult passed to the callback
 * @error: return location for a #GError
 *
 * Finishes stache_store_search_async().
 *
 * Returns: (transfer container) (element-type StacheSearchResult): the
 *   results, or %NULL with @error set
 */
GPtrArray *
stache_store_search_finish (StacheStore   *self,
                            GAsyncResult  *result,
                            GError       **error)
{
  return _stache_task_finish_pointer (self, result, stache_store_search_async, error);
}


/* stache-reranker-provider.c: the reranker provider interface
 *
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */
#include "config.h"

#include "stache-error.h"
#include "stache-private.h"
#include "stache-provider-private.h"
#include "stache-reranker-provider.h"
#include "stache-search-result.h"
#include "stache-task-private.h"

/**
 * StacheRerankerProvider:
 *
 * Orders search results by how well they answer a query.
 *
 * A first search (by vector similarity, keywords, or both) is fast but
 * rough; a reranker looks at the query and the text of each result
 * together, gives each a new #StacheSearchResult:score and returns the best
 * ones first. Scores only compare results of the same call: higher is
 * better.
 *
 * The provider works on copies of the results it is given, so it may
 * change their scores and return them; the caller's results are left
 * untouched. The interface gives an empty list back without calling the
 * provider when there is nothing to rank, and cuts what the provider
 * returns down to `top_k` results.
 *
 * The extension point name is `reranker`; the setting `reranker_provider`
 * (environment variable `RERANKER_PROVIDER`) selects the provider.
 *
 * A plugin written in Python or Lua implements `do_rerank`; the
 * asynchronous method then runs it in a worker thread.
 */

G_DEFINE_INTERFACE (StacheRerankerProvider, stache_reranker_provider, STACHE_TYPE_PROVIDER)

/* ---- helpers ---- */

static GPtrArray *
new_results (void)
{
  return g_ptr_array_new_with_free_func (g_object_unref);
}

/* A deep copy of @results, for the provider to work on */
static GPtrArray *
copy_results (GPtrArray *results)
{
  GPtrArray *copy = g_ptr_array_new_full (results->len, g_object_unref);

  for (guint i = 0; i < results->len; i++)
    g_ptr_array_add (copy, stache_search_result_copy (g_ptr_array_index (results, i)));

  return copy;
}

/* Frees an array a provider returned, whatever it holds */
static void
free_returned (GPtrArray *ranked)
{
  g_ptr_array_set_free_func (ranked, NULL);
  for (guint i = 0; i < ranked->len; i++)
    {
      gpointer item = g_ptr_array_index (ranked, i);

      if (G_IS_OBJECT (item))
        g_object_unref (item);
    }
  g_ptr_array_unref (ranked);
}

/* ---- checking what a provider returns ---- */

/* Takes @ranked and @local_error. Returns @ranked, cut down to @top_k
 * results, or NULL with @error set. @ranked is NULL only when an
 * rerank_finish() override returned it; the sync vfunc's list (NULL for
 * none) is turned into an array first, see ranked_from_list(). */
static GPtrArray *
check_ranked (StacheRerankerProvider  *self,
              GPtrArray               *ranked,
              guint                    top_k,
              GError                  *local_error,
              GError                 **error)
{
  if (local_error != NULL)
    {
      if (ranked != NULL)
        free_returned (ranked);
      g_propagate_error (error, local_error);
      return NULL;
    }

  if (ranked == NULL)
    {
      g_set_error (error, STACHE_ERROR, STACHE_ERROR_FAILED,
                   _("Reranker %s returned no results and no error"),
                   G_OBJECT_TYPE_NAME (self));
      return NULL;
    }

  for (guint i = 0; i < ranked->len; i++)
    {
      if (!STACHE_IS_SEARCH_RESULT (g_ptr_array_index (ranked, i)))
        {
          g_set_error (error, STACHE_ERROR, STACHE_ERROR_FAILED,
                       _("Reranker %s returned an item that is not a search result "
                         "(item %u)"),
                       G_OBJECT_TYPE_NAME (self), i);
          free_returned (ranked);
          return NULL;
        }
    }

  /* The array is the caller's now, with one reference on each result;
   * arrays built by language bindings may lack the free function. */
  g_ptr_array_set_free_func (ranked, g_object_unref);
  if (ranked->len > top_k)
    g_ptr_array_set_size (ranked, top_k);

  return ranked;
}

/* Takes the (transfer full) list the sync vfunc returned, NULL meaning
 * none, and gives it back as an array for check_ranked(), which frees it
 * on error. Never NULL. */
static GPtrArray *
ranked_from_list (GList *list)
{
  return _stache_object_list_to_array (list);
}

/* Higher scores first; g_ptr_array_sort_with_data() is stable, so ties
 * keep the order the results came in */
static gint
compare_scores (gconstpointer a,
                gconstpointer b,
                gpointer      user_data)
{
  double sa = stache_search_result_get_score (*(StacheSearchResult **) a);
  double sb = stache_search_result_get_score (*(StacheSearchResult **) b);

  return (sa < sb) - (sa > sb);
}

/* Runs the provider on @copies (the caller's own copies, which the
 * provider may change): rerank when it has it, else rescore and order */
static GPtrArray *
run_rerank (StacheRerankerProvider  *self,
            const char              *query,
            GPtrArray               *copies,
            guint                    top_k,
            GCancellable            *cancellable,
            GError                 **error)
{
  StacheRerankerProviderInterface *iface = STACHE_RERANKER_PROVIDER_GET_IFACE (self);
  GError *local_error = NULL;
  GPtrArray *ranked;

  if (iface->rerank != NULL)
    {
      GList *list = iface->rerank (self, query, copies, top_k, cancellable, &local_error);

      return check_ranked (self, ranked_from_list (list), top_k, local_error, error);
    }

  if (!iface->rescore (self, query, copies, cancellable, &local_error) || local_error != NULL)
    {
      if (local_error != NULL)
        g_propagate_error (error, local_error);
      else
        g_set_error (error, STACHE_ERROR, STACHE_ERROR_FAILED,
                     _("Reranker %s failed to score the results and gave no error"),
                     G_OBJECT_TYPE_NAME (self));
      return NULL;
    }

  ranked = g_ptr_array_new_full (copies->len, g_object_unref);
  for (guint i = 0; i < copies->len; i++)
    g_ptr_array_add (ranked, g_object_ref (g_ptr_array_index (copies, i)));
  g_ptr_array_sort_with_data (ranked, compare_scores, NULL);
  if (ranked->len > top_k)
    g_ptr_array_set_size (ranked, top_k);

  return ranked;
}

/* ---- the asynchronous form: the public sync function in a thread ---- */

/* The arguments of one call, owned by it: the caller may free its own as
 * soon as the _async function returns. */
typedef struct
{
  char      *query;
  GPtrArray *results;
  guint      top_k;
} CallData;

static void
call_data_free (gpointer p)
{
  CallData *data = p;

  g_free (data->query);
  g_clear_pointer (&data->results, g_ptr_array_unref);
  g_free (data);
}

static gpointer
rerank_work (gpointer       source,
             gpointer       task_data,
             GCancellable  *cancellable,
             GError       **error)
{
  CallData *data = task_data;

  return stache_reranker_provider_rerank (source, data->query, data->results, data->top_k, cancellable, error);
}

static void
stache_reranker_provider_default_init (StacheRerankerProviderInterface *iface)
{
  _stache_i18n_init ();
}

/* ---- argument checks ---- */

static gboolean
check_rerank_args (StacheRerankerProvider  *self,
                   const char              *query,
                   GPtrArray               *results,
                   GError                 **error)
{
  if (query == NULL)
    {
      g_set_error (error, STACHE_ERROR, STACHE_ERROR_INVALID_ARGUMENT,
                   _("Rerank with %s: no query was given"),
                   G_OBJECT_TYPE_NAME (self));
      return FALSE;
    }

  if (!g_utf8_validate (query, -1, NULL))
    {
      g_set_error (error, STACHE_ERROR, STACHE_ERROR_INVALID_ARGUMENT,
                   _("Rerank with %s: the query is not valid UTF-8"),
                   G_OBJECT_TYPE_NAME (self));
      return FALSE;
    }

  for (guint i = 0; i < results->len; i++)
    {
      if (!STACHE_IS_SEARCH_RESULT (g_ptr_array_index (results, i)))
        {
          g_set_error (error, STACHE_ERROR, STACHE_ERROR_INVALID_ARGUMENT,
                       _("Rerank with %s: item %u of the results is not a search result"),
                       G_OBJECT_TYPE_NAME (self), i);
          return FALSE;
        }
    }

  return TRUE;
}

/**
 * StacheRerankerProviderInterface::rerank:
 * @self: a #StacheRerankerProvider
 * @query: the query the results should answer, in UTF-8
 * @results: (element-type StacheSearchResult) (transfer none): copies of
 *   the results to order, never empty; the provider may change them and
 *   return them
 * @top_k: the most results to return
 * @cancellable: (nullable): a #GCancellable
 * @error: return location for a #GError
 *
 * Orders @results by relevance to @query, best first, each with the
 * reranker's score. The list is a #GList, not a #GPtrArray like the
 * public method's result, so that bindings hand over results they own (in
 * Python: return a list).
 *
 * Returns: (transfer full) (element-type StacheSearchResult) (nullable): the
 *   results, best first, %NULL for none (or with @error set)
 */

/* ---- public entry points ---- */

/**
 * stache_reranker_provider_rerank:
 * @self: a #StacheRerankerProvider
 * @query: the query the results should answer, in UTF-8
 * @results: (element-type StacheSearchResult): the results to order
 * @top_k: the most results to return
 * @cancellable: (nullable): a #GCancellable
 * @error: return location for a #GError
 *
 * Orders @results by relevance to @query and returns the best @top_k,
 * best first, each with the reranker's score.
 *
 * The provider is handed copies of @results, which are left unchanged.
 * When @results is empty or @top_k is 0, the result is an empty array and
 * the provider is not called; when the provider returns more than @top_k
 * results, the extra ones are dropped.
 *
 * Returns: (transfer container) (element-type StacheSearchResult): the
 *   results, best first, or %NULL with @error set; the array owns its
 *   elements
 */
GPtrArray *
stache_reranker_provider_rerank (StacheRerankerProvider  *self,
                                 const char              *query,
                                 GPtrArray               *results,
                                 guint                    top_k,
                                 GCancellable            *cancellable,
                                 GError                 **error)
{
  StacheRerankerProviderInterface *iface;
  g_autoptr(GPtrArray) copies = NULL;

  g_return_val_if_fail (STACHE_IS_RERANKER_PROVIDER (self), NULL);
  g_return_val_if_fail (results != NULL, NULL);
  g_return_val_if_fail (cancellable == NULL || G_IS_CANCELLABLE (cancellable), NULL);
  g_return_val_if_fail (error == NULL || *error == NULL, NULL);

  if (!check_rerank_args (self, query, results, error))
    return NULL;
  if (results->len == 0 || top_k == 0)
    return new_results ();

  iface = STACHE_RERANKER_PROVIDER_GET_IFACE (self);
  if (iface->rerank == NULL && iface->rescore == NULL)
    {
      _stache_set_not_supported (error, self, "rerank");
      return NULL;
    }

  copies = copy_results (results);

  return run_rerank (self, query, copies, top_k, cancellable, error);
}

/**
 * stache_reranker_provider_rescore: (virtual rescore)
 * @self: a #StacheRerankerProvider
 * @query: the query the results should answer, in UTF-8
 * @results: (element-type StacheSearchResult): the results to score; their
 *   #StacheSearchResult:score is changed in place
 * @cancellable: (nullable): a #GCancellable
 * @error: return location for a #GError
 *
 * Gives each of @results a new score for @query, in place. Providers that
 * only score implement this instead of `rerank` (Lua providers must: lgi
 * cannot return a list to C); applications call
 * stache_reranker_provider_rerank(), which orders and cuts the results.
 * A provider that implements only `rerank` is run through it, and the
 * scores it gives are copied back.
 *
 * Returns: %TRUE on success, %FALSE with @error set
 */
gboolean
stache_reranker_provider_rescore (StacheRerankerProvider  *self,
                                  const char              *query,
                                  GPtrArray               *results,
                                  GCancellable            *cancellable,
                                  GError                 **error)
{
  StacheRerankerProviderInterface *iface;
  g_autoptr(GPtrArray) ranked = NULL;

  g_return_val_if_fail (STACHE_IS_RERANKER_PROVIDER (self), FALSE);
  g_return_val_if_fail (results != NULL, FALSE);
  g_return_val_if_fail (error == NULL || *error == NULL, FALSE);

  if (!check_rerank_args (self, query, results, error))
    return FALSE;
  if (results->len == 0)
    return TRUE;

  iface = STACHE_RERANKER_PROVIDER_GET_IFACE (self);
  if (iface->rescore != NULL)
    {
      GError *local_error = NULL;

      if (!iface->rescore (self, query, results, cancellable, &local_error) ||
          local_error != NULL)
        {
          if (local_error != NULL)
            g_propagate_error (error, local_error);
          else
            g_set_error (error, STACHE_ERROR, STACHE_ERROR_FAILED,
                         _("Reranker %s failed to score the results and gave no error"),
                         G_OBJECT_TYPE_NAME (self));
          return FALSE;
        }
      return TRUE;
    }

  /* Through rerank: match the ranked copies back by id */
  ranked = stache_reranker_provider_rerank (self, query, results, results->len, cancellable,
                                            error);
  if (ranked == NULL)
    return FALSE;

  for (guint i = 0; i < results->len; i++)
    {
      StacheSearchResult *result = g_ptr_array_index (results, i);

      for (guint j = 0; j < ranked->len; j++)
        {
          StacheSearchResult *scored = g_ptr_array_index (ranked, j);

          if (g_strcmp0 (stache_search_result_get_id (scored),
                         stache_search_result_get_id (result)) == 0)
            {
              stache_search_result_set_score (result, stache_search_result_get_score (scored));
              break;
            }
        }
    }

  return TRUE;
}

/**
 * stache_reranker_provider_rerank_async:
 * @self: a #StacheRerankerProvider
 * @query: the query the results should answer, in UTF-8
 * @results: (element-type StacheSearchResult): the results to order
 * @top_k: the most results to return
 * @cancellable: (nullable): a #GCancellable
 * @callback: (scope async): called with the ordered results
 * @user_data: data for @callback
 *
 * Asynchronously reranks @results; see stache_reranker_provider_rerank().
 * The arguments are copied, so the caller may free them at once.
 */
void
stache_reranker_provider_rerank_async (StacheRerankerProvider *self,
                                       const char             *query,
                                       GPtrArray              *results,
                                       guint                   top_k,
                                       GCancellable           *cancellable,
                                       GAsyncReadyCallback     callback,
                                       gpointer                user_data)
{
  CallData *data;

  g_return_if_fail (STACHE_IS_RERANKER_PROVIDER (self));
  g_return_if_fail (results != NULL);
  g_return_if_fail (cancellable == NULL || G_IS_CANCELLABLE (cancellable));

  data = g_new0 (CallData, 1);
  data->query = g_strdup (query);
  /* Copies rather than references: the provider may change the results
   * in its thread while the caller still reads its own. */
  data->results = copy_results (results);
  data->top_k = top_k;
  _stache_task_run_in_thread (self, stache_reranker_provider_rerank_async, rerank_work, data, call_data_free,
                              (GDestroyNotify) g_ptr_array_unref, cancellable, callback, user_data);
}

/**
 * stache_reranker_provider_rerank_finish:
 * @self: a #StacheRerankerProvider
 * @result: the #GAsyncResult passed to the callback
 * @error: return location for a #GError
 *
 * Finishes stache_reranker_provider_rerank_async().
 *
 * Returns: (transfer container) (element-type StacheSearchResult): the
 *   results, best first, or %NULL with @error set; the array owns its
 *   elements
 */
GPtrArray *
stache_reranker_provider_rerank_finish (StacheRerankerProvider  *self,
                                        GAsyncResult            *result,
                                        GError                 **error)
{
  g_return_val_if_fail (STACHE_IS_RERANKER_PROVIDER (self), NULL);

  return _stache_task_finish_pointer (self, result, stache_reranker_provider_rerank_async, error);
}

void
_stache_reranker_provider_add_missing_methods (const StacheRerankerProviderInterface *iface,
                                               GPtrArray                             *missing)
{
  if (iface->rerank == NULL && iface->rescore == NULL)
    g_ptr_array_add (missing, (gpointer) "rerank|rescore");
}

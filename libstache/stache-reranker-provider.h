/* stache-reranker-provider.h: the reranker provider interface
 *
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */
#pragma once

#if !defined(STACHE_INSIDE) && !defined(STACHE_COMPILATION)
# error "Only <stache.h> can be included directly."
#endif

#include <gio/gio.h>
#include <json-glib/json-glib.h>

#include "stache-provider.h"
#include "stache-search-result.h"

G_BEGIN_DECLS

#define STACHE_TYPE_RERANKER_PROVIDER (stache_reranker_provider_get_type ())

STACHE_AVAILABLE_IN_ALL
G_DECLARE_INTERFACE (StacheRerankerProvider, stache_reranker_provider, STACHE, RERANKER_PROVIDER, StacheProvider)

/**
 * StacheRerankerProviderInterface:
 * @parent_iface: the parent interface
 * @rerank: orders search results by relevance to a query; required unless
 *   @rescore is implemented
 * @rescore: gives each result a new score in place; an alternative to
 *   @rerank for providers that only score (and for Lua, whose lgi cannot
 *   return a #GList): the interface then orders the results and cuts them
 *   to `top_k`
 *
 * The virtual methods of #StacheRerankerProvider, all synchronous (a
 * plugin in a scripting language implements `do_rerank` or `do_rescore`);
 * stache_reranker_provider_rerank_async() runs
 * stache_reranker_provider_rerank() in a worker thread.
 *
 * @rerank takes its results as a #GPtrArray it does not own and returns a
 * #GList of #StacheSearchResult that the caller owns, list and elements
 * (in Python: a list); the public stache_reranker_provider_rerank() turns
 * it into a #GPtrArray.
 */
struct _StacheRerankerProviderInterface
{
  GTypeInterface parent_iface;

  GList     *(*rerank)        (StacheRerankerProvider  *self,
                               const char              *query,
                               GPtrArray               *results,
                               guint                    top_k,
                               GCancellable            *cancellable,
                               GError                 **error);

  gboolean   (*rescore)       (StacheRerankerProvider  *self,
                               const char              *query,
                               GPtrArray               *results,
                               GCancellable            *cancellable,
                               GError                 **error);

  /*< private >*/
  gpointer padding[11];
};

STACHE_AVAILABLE_IN_ALL
gboolean   stache_reranker_provider_rescore       (StacheRerankerProvider  *self,
                                                   const char              *query,
                                                   GPtrArray               *results,
                                                   GCancellable            *cancellable,
                                                   GError                 **error);
STACHE_AVAILABLE_IN_ALL
GPtrArray *stache_reranker_provider_rerank        (StacheRerankerProvider  *self,
                                                   const char              *query,
                                                   GPtrArray               *results,
                                                   guint                    top_k,
                                                   GCancellable            *cancellable,
                                                   GError                 **error);
STACHE_AVAILABLE_IN_ALL
void       stache_reranker_provider_rerank_async  (StacheRerankerProvider  *self,
                                                   const char              *query,
                                                   GPtrArray               *results,
                                                   guint                    top_k,
                                                   GCancellable            *cancellable,
                                                   GAsyncReadyCallback      callback,
                                                   gpointer                 user_data);
STACHE_AVAILABLE_IN_ALL
GPtrArray *stache_reranker_provider_rerank_finish (StacheRerankerProvider  *self,
                                                   GAsyncResult            *result,
                                                   GError                 **error);

G_END_DECLS

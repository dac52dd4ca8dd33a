/* stache-embedding-provider.h: the embedding provider interface
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

G_BEGIN_DECLS

#define STACHE_TYPE_EMBEDDING_PROVIDER (stache_embedding_provider_get_type ())

STACHE_AVAILABLE_IN_ALL
G_DECLARE_INTERFACE (StacheEmbeddingProvider, stache_embedding_provider, STACHE, EMBEDDING_PROVIDER, StacheProvider)

/**
 * StacheEmbeddingProviderInterface:
 * @parent_iface: the parent interface
 * @embed: turns one text into a vector, a #GArray of `float`; a provider
 *   implements @embed, @embed_batch or both, and the default of each calls
 *   the other
 * @embed_batch: turns several texts into vectors, one contiguous row per
 *   text in one #GArray of `float`; the default calls @embed for each text
 * @get_dimensions: gives the length of the vectors, or 0 while it is not
 *   known; optional, the default returns 0
 * @get_capabilities: lists what the provider can do; optional, the default
 *   is `embed`
 * @get_batch_limits: gives the most texts and the most bytes of text the
 *   provider takes in one @embed_batch call; optional, the default is no
 *   limit. stache_embedding_provider_embed_batch() splits longer lists
 *   and joins the vectors, so @embed_batch never sees more.
 * @embed_batch_variant: an alternative to @embed_batch for languages whose
 *   bindings cannot return a #GArray of `float` (Lua through lgi): the
 *   vectors as a #GVariant of type `ad`, one row after another; the
 *   default @embed_batch uses it when it is implemented
 * @get_model_id: names what makes the vectors: a string that changes
 *   whenever the same text would get another vector (another model,
 *   another length); optional, the default is the type name
 *
 * The virtual methods of #StacheEmbeddingProvider, all synchronous (a
 * plugin in a scripting language implements `do_embed` and/or
 * `do_embed_batch`, and `do_get_dimensions`); the public _async functions
 * run the public sync ones in a worker thread.
 */
struct _StacheEmbeddingProviderInterface
{
  GTypeInterface parent_iface;

  GArray  *(*embed)              (StacheEmbeddingProvider  *self,
                                  const char               *text,
                                  GCancellable             *cancellable,
                                  GError                  **error);
  GArray  *(*embed_batch)        (StacheEmbeddingProvider  *self,
                                  const char * const       *texts,
                                  GCancellable             *cancellable,
                                  GError                  **error);
  guint    (*get_dimensions)     (StacheEmbeddingProvider  *self);
  char   **(*get_capabilities)   (StacheEmbeddingProvider  *self);

  void     (*get_batch_limits)   (StacheEmbeddingProvider  *self,
                                  guint                    *max_texts,
                                  guint                    *max_bytes);
  char    *(*get_model_id)       (StacheEmbeddingProvider  *self);
  GVariant *(*embed_batch_variant) (StacheEmbeddingProvider *self,
                                    const char * const      *texts,
                                    GCancellable            *cancellable,
                                    GError                 **error);

  /*< private >*/
  gpointer padding[9];
};

STACHE_AVAILABLE_IN_ALL
GArray   *stache_embedding_provider_embed              (StacheEmbeddingProvider  *self,
                                                        const char               *text,
                                                        GCancellable             *cancellable,
                                                        GError                  **error);
STACHE_AVAILABLE_IN_ALL
void      stache_embedding_provider_embed_async        (StacheEmbeddingProvider  *self,
                                                        const char               *text,
                                                        GCancellable             *cancellable,
                                                        GAsyncReadyCallback       callback,
                                                        gpointer                  user_data);
STACHE_AVAILABLE_IN_ALL
GArray   *stache_embedding_provider_embed_finish       (StacheEmbeddingProvider  *self,
                                                        GAsyncResult             *result,
                                                        GError                  **error);
STACHE_AVAILABLE_IN_ALL
GArray   *stache_embedding_provider_embed_batch        (StacheEmbeddingProvider  *self,
                                                        const char * const       *texts,
                                                        GCancellable             *cancellable,
                                                        GError                  **error);
STACHE_AVAILABLE_IN_ALL
void      stache_embedding_provider_embed_batch_async  (StacheEmbeddingProvider  *self,
                                                        const char * const       *texts,
                                                        GCancellable             *cancellable,
                                                        GAsyncReadyCallback       callback,
                                                        gpointer                  user_data);
STACHE_AVAILABLE_IN_ALL
GArray   *stache_embedding_provider_embed_batch_finish (StacheEmbeddingProvider  *self,
                                                        GAsyncResult             *result,
                                                        GError                  **error);
STACHE_AVAILABLE_IN_ALL
void      stache_embedding_provider_get_batch_limits   (StacheEmbeddingProvider  *self,
                                                        guint                    *max_texts,
                                                        guint                    *max_bytes);
STACHE_AVAILABLE_IN_ALL
GVariant *stache_embedding_provider_embed_batch_variant (StacheEmbeddingProvider  *self,
                                                         const char * const       *texts,
                                                         GCancellable             *cancellable,
                                                         GError                  **error);
STACHE_AVAILABLE_IN_ALL
char     *stache_embedding_provider_get_model_id       (StacheEmbeddingProvider  *self);
STACHE_AVAILABLE_IN_ALL
guint     stache_embedding_provider_get_dimensions     (StacheEmbeddingProvider  *self);
STACHE_AVAILABLE_IN_ALL
char    **stache_embedding_provider_get_capabilities   (StacheEmbeddingProvider  *self);
STACHE_AVAILABLE_IN_ALL
gboolean  stache_embedding_provider_has_capability     (StacheEmbeddingProvider  *self,
                                                        const char               *capability);

G_END_DECLS

/* stache-namespace-provider.h: the namespace provider interface
 *
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */
#pragma once

#if !defined(STACHE_INSIDE) && !defined(STACHE_COMPILATION)
# error "Only <stache.h> can be included directly."
#endif

#include <gio/gio.h>
#include <json-glib/json-glib.h>

#include "stache-namespace.h"
#include "stache-provider.h"

G_BEGIN_DECLS

#define STACHE_TYPE_NAMESPACE_PROVIDER (stache_namespace_provider_get_type ())

STACHE_AVAILABLE_IN_ALL
G_DECLARE_INTERFACE (StacheNamespaceProvider, stache_namespace_provider, STACHE, NAMESPACE_PROVIDER, StacheProvider)

/**
 * StacheNamespaceProviderInterface:
 * @parent_iface: the parent interface
 * @create_namespace: creates a namespace; required
 * @delete_namespace: deletes a namespace, refusing a non-empty one unless
 *   asked to cascade; required
 * @list_namespaces: lists all namespaces or the children of one; required
 * @get_namespace: looks a namespace up by name; required
 *
 * The virtual methods of #StacheNamespaceProvider, all synchronous (a
 * plugin in a scripting language implements `do_create_namespace`,
 * `do_delete_namespace`, `do_list_namespaces`, `do_get_namespace`); the
 * public _async functions run the public sync ones in a worker thread.
 *
 * @list_namespaces returns a #GList of #StacheNamespace that the caller
 * owns, list and elements (in Python: a list); the public
 * stache_namespace_provider_list_namespaces() turns it into a #GPtrArray.
 */
struct _StacheNamespaceProviderInterface
{
  GTypeInterface parent_iface;

  StacheNamespace *(*create_namespace)        (StacheNamespaceProvider  *self,
                                               const char               *name,
                                               const char               *description,
                                               JsonObject               *metadata,
                                               GCancellable             *cancellable,
                                               GError                  **error);
  gboolean         (*delete_namespace)        (StacheNamespaceProvider  *self,
                                               const char               *name,
                                               gboolean                  cascade,
                                               GCancellable             *cancellable,
                                               GError                  **error);
  GList           *(*list_namespaces)         (StacheNamespaceProvider  *self,
                                               const char               *parent,
                                               GCancellable             *cancellable,
                                               GError                  **error);
  StacheNamespace *(*get_namespace)           (StacheNamespaceProvider  *self,
                                               const char               *name,
                                               GCancellable             *cancellable,
                                               GError                  **error);

  /*< private >*/
  gpointer padding[12];
};

STACHE_AVAILABLE_IN_ALL
gboolean         stache_namespace_name_validate                    (const char               *name,
                                                                    GError                  **error);

STACHE_AVAILABLE_IN_ALL
StacheNamespace *stache_namespace_provider_create_namespace        (StacheNamespaceProvider  *self,
                                                                    const char               *name,
                                                                    const char               *description,
                                                                    JsonObject               *metadata,
                                                                    GCancellable             *cancellable,
                                                                    GError                  **error);
STACHE_AVAILABLE_IN_ALL
void             stache_namespace_provider_create_namespace_async  (StacheNamespaceProvider  *self,
                                                                    const char               *name,
                                                                    const char               *description,
                                                                    JsonObject               *metadata,
                                                                    GCancellable             *cancellable,
                                                                    GAsyncReadyCallback       callback,
                                                                    gpointer                  user_data);
STACHE_AVAILABLE_IN_ALL
StacheNamespace *stache_namespace_provider_create_namespace_finish (StacheNamespaceProvider  *self,
                                                                    GAsyncResult             *result,
                                                                    GError                  **error);
STACHE_AVAILABLE_IN_ALL
gboolean         stache_namespace_provider_delete_namespace        (StacheNamespaceProvider  *self,
                                                                    const char               *name,
                                                                    gboolean                  cascade,
                                                                    GCancellable             *cancellable,
                                                                    GError                  **error);
STACHE_AVAILABLE_IN_ALL
void             stache_namespace_provider_delete_namespace_async  (StacheNamespaceProvider  *self,
                                                                    const char               *name,
                                                                    gboolean                  cascade,
                                                                    GCancellable             *cancellable,
                                                                    GAsyncReadyCallback       callback,
                                                                    gpointer                  user_data);
STACHE_AVAILABLE_IN_ALL
gboolean         stache_namespace_provider_delete_namespace_finish (StacheNamespaceProvider  *self,
                                                                    GAsyncResult             *result,
                                                                    GError                  **error);
STACHE_AVAILABLE_IN_ALL
GPtrArray       *stache_namespace_provider_list_namespaces         (StacheNamespaceProvider  *self,
                                                                    const char               *parent,
                                                                    GCancellable             *cancellable,
                                                                    GError                  **error);
STACHE_AVAILABLE_IN_ALL
void             stache_namespace_provider_list_namespaces_async   (StacheNamespaceProvider  *self,
                                                                    const char               *parent,
                                                                    GCancellable             *cancellable,
                                                                    GAsyncReadyCallback       callback,
                                                                    gpointer                  user_data);
STACHE_AVAILABLE_IN_ALL
GPtrArray       *stache_namespace_provider_list_namespaces_finish  (StacheNamespaceProvider  *self,
                                                                    GAsyncResult             *result,
                                                                    GError                  **error);
STACHE_AVAILABLE_IN_ALL
StacheNamespace *stache_namespace_provider_get_namespace           (StacheNamespaceProvider  *self,
                                                                    const char               *name,
                                                                    GCancellable             *cancellable,
                                                                    GError                  **error);
STACHE_AVAILABLE_IN_ALL
void             stache_namespace_provider_get_namespace_async     (StacheNamespaceProvider  *self,
                                                                    const char               *name,
                                                                    GCancellable             *cancellable,
                                                                    GAsyncReadyCallback       callback,
                                                                    gpointer                  user_data);
STACHE_AVAILABLE_IN_ALL
StacheNamespace *stache_namespace_provider_get_namespace_finish    (StacheNamespaceProvider  *self,
                                                                    GAsyncResult             *result,
                                                                    GError                  **error);

G_END_DECLS

/* stache-remote-provider.h: the base class of providers that call a service
 *
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */
#pragma once

#if !defined(STACHE_INSIDE_PLUGIN_SDK) && !defined(STACHE_COMPILATION)
# error "Only <stache-plugin.h> can be included directly."
#endif

#include <gio/gio.h>

#include "stache-http-client.h"
#include "stache-provider.h"
#include "stache-settings.h"

G_BEGIN_DECLS

#define STACHE_TYPE_REMOTE_PROVIDER (stache_remote_provider_get_type ())

STACHE_AVAILABLE_IN_ALL
G_DECLARE_DERIVABLE_TYPE (StacheRemoteProvider, stache_remote_provider, STACHE, REMOTE_PROVIDER, StacheProvider)

/**
 * StacheRemoteProviderClass:
 * @parent_class: the parent class
 * @setup: reads the provider's own settings (never %NULL here: a provider
 *   made without settings gets empty ones, so defaults and the environment
 *   apply) and creates its HTTP client with
 *   stache_remote_provider_create_client(); called once, by the first
 *   g_initable_init(), whose result every later call repeats
 *
 * The class structure of #StacheRemoteProvider.
 */
struct _StacheRemoteProviderClass
{
  StacheProviderClass parent_class;

  gboolean (*setup) (StacheRemoteProvider  *self,
                     StacheSettings        *settings,
                     GCancellable          *cancellable,
                     GError               **error);

  /*< private >*/
  gpointer padding[8];
};

STACHE_AVAILABLE_IN_ALL
StacheHttpClient *stache_remote_provider_create_client (StacheRemoteProvider  *self,
                                                        StacheSettings        *settings,
                                                        const char            *provider_name,
                                                        const char            *api_name,
                                                        GError               **error);
STACHE_AVAILABLE_IN_ALL
StacheHttpClient *stache_remote_provider_get_client    (StacheRemoteProvider  *self);
STACHE_AVAILABLE_IN_ALL
gboolean          stache_remote_provider_set_api_key   (StacheRemoteProvider  *self,
                                                        StacheSettings        *settings,
                                                        const char            *key_setting,
                                                        const char            *header,
                                                        const char            *prefix,
                                                        gboolean               required,
                                                        GError               **error);

G_END_DECLS

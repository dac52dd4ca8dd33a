/* stache-plugin-loader.h: plugin discovery and provider creation
 *
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */
#pragma once

#if !defined(STACHE_INSIDE) && !defined(STACHE_COMPILATION)
# error "Only <stache.h> can be included directly."
#endif

#include <glib-object.h>
#include "stache-provider.h"
#include "stache-provider-info.h"
#include "stache-settings.h"

G_BEGIN_DECLS

#define STACHE_TYPE_PLUGIN_LOADER (stache_plugin_loader_get_type ())

STACHE_AVAILABLE_IN_ALL
G_DECLARE_FINAL_TYPE (StachePluginLoader, stache_plugin_loader, STACHE, PLUGIN_LOADER, GObject)

STACHE_AVAILABLE_IN_ALL
StachePluginLoader  *stache_plugin_loader_new                     (void);
STACHE_AVAILABLE_IN_ALL
StachePluginLoader  *stache_plugin_loader_new_for_search_path     (const char * const  *folders);
STACHE_AVAILABLE_IN_ALL
StachePluginLoader  *stache_plugin_loader_get_default             (void);
STACHE_AVAILABLE_IN_ALL
char               **stache_plugin_loader_get_search_path         (StachePluginLoader  *self);
STACHE_AVAILABLE_IN_ALL
GPtrArray           *stache_plugin_loader_list_providers          (StachePluginLoader  *self);
STACHE_AVAILABLE_IN_ALL
char               **stache_plugin_loader_get_available_providers (StachePluginLoader  *self,
                                                                   StacheProviderType   type);
STACHE_AVAILABLE_IN_ALL
StacheProvider      *stache_plugin_loader_create_provider         (StachePluginLoader  *self,
                                                                   StacheProviderType   type,
                                                                   const char          *name,
                                                                   StacheSettings      *settings,
                                                                   GError             **error);
STACHE_AVAILABLE_IN_ALL
void                 stache_plugin_loader_declare_settings        (StachePluginLoader  *self,
                                                                   StacheSettings      *settings);

G_END_DECLS

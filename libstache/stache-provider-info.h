/* stache-provider-info.h: what discovery found about one provider
 *
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */
#pragma once

#if !defined(STACHE_INSIDE) && !defined(STACHE_COMPILATION)
# error "Only <stache.h> can be included directly."
#endif

#include <glib-object.h>
#include "stache-provider.h"

G_BEGIN_DECLS

/**
 * StacheProviderStatus:
 * @STACHE_PROVIDER_STATUS_FOUND: declared by a valid plugin that has not
 *   been loaded yet
 * @STACHE_PROVIDER_STATUS_LOADED: the plugin loaded and registers a type
 *   implementing the provider's interface
 * @STACHE_PROVIDER_STATUS_FAILED: the plugin could not be used; the error
 *   says why
 * @STACHE_PROVIDER_STATUS_SHADOWED: a plugin earlier in the search path
 *   provides the same name, or uses the same module name
 *
 * The state of a provider found by discovery.
 */
typedef enum {
  STACHE_PROVIDER_STATUS_FOUND,
  STACHE_PROVIDER_STATUS_LOADED,
  STACHE_PROVIDER_STATUS_FAILED,
  STACHE_PROVIDER_STATUS_SHADOWED,
} StacheProviderStatus;

#define STACHE_TYPE_PROVIDER_INFO (stache_provider_info_get_type ())

STACHE_AVAILABLE_IN_ALL
G_DECLARE_FINAL_TYPE (StacheProviderInfo, stache_provider_info, STACHE, PROVIDER_INFO, GObject)

STACHE_AVAILABLE_IN_ALL
const char           *stache_provider_info_get_type_name     (StacheProviderInfo  *self);
STACHE_AVAILABLE_IN_ALL
gboolean              stache_provider_info_get_provider_type (StacheProviderInfo  *self,
                                                              StacheProviderType  *out_type);
STACHE_AVAILABLE_IN_ALL
const char           *stache_provider_info_get_name          (StacheProviderInfo  *self);
STACHE_AVAILABLE_IN_ALL
const char           *stache_provider_info_get_module_name   (StacheProviderInfo  *self);
STACHE_AVAILABLE_IN_ALL
const char           *stache_provider_info_get_plugin_name   (StacheProviderInfo  *self);
STACHE_AVAILABLE_IN_ALL
const char           *stache_provider_info_get_description   (StacheProviderInfo  *self);
STACHE_AVAILABLE_IN_ALL
const char           *stache_provider_info_get_plugin_file   (StacheProviderInfo  *self);
STACHE_AVAILABLE_IN_ALL
const char           *stache_provider_info_get_folder        (StacheProviderInfo  *self);
STACHE_AVAILABLE_IN_ALL
const char           *stache_provider_info_get_loader        (StacheProviderInfo  *self);
STACHE_AVAILABLE_IN_ALL
StacheProviderStatus  stache_provider_info_get_status        (StacheProviderInfo  *self);
STACHE_AVAILABLE_IN_ALL
const GError         *stache_provider_info_get_error         (StacheProviderInfo  *self);
STACHE_AVAILABLE_IN_ALL
const char           *stache_provider_info_get_reason        (StacheProviderInfo  *self);
STACHE_AVAILABLE_IN_ALL
const char           *stache_provider_status_to_string       (StacheProviderStatus status);

G_END_DECLS

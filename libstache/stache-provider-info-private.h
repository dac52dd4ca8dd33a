/* stache-provider-info-private.h: setters used by the plugin loader
 *
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */
#pragma once

#include "stache-provider-info.h"

G_BEGIN_DECLS

StacheProviderInfo *_stache_provider_info_new        (const char           *type_name,
                                                      const char           *name,
                                                      const char           *module_name,
                                                      const char           *plugin_name,
                                                      const char           *description,
                                                      const char           *plugin_file,
                                                      const char           *folder,
                                                      const char           *loader);
void                _stache_provider_info_set_status (StacheProviderInfo   *self,
                                                      StacheProviderStatus  status,
                                                      const GError         *error);

G_END_DECLS

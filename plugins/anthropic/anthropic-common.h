/* anthropic-common.h: settings, HTTP client of the `anthropic`
 * provider
 *
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */
#pragma once

#include <stache-plugin.h>

G_BEGIN_DECLS

#define ANTHROPIC_PROVIDER_NAME     "anthropic"

#define ANTHROPIC_SETTING_BASE_URL  "anthropic_base_url"
#define ANTHROPIC_SETTING_API_KEY   "anthropic_api_key"
#define ANTHROPIC_SETTING_VERSION   "anthropic_version"
#define ANTHROPIC_DEFAULT_BASE_URL  "https://api.anthropic.com"
#define ANTHROPIC_DEFAULT_VERSION   "2023-06-01"

StacheHttpClient *anthropic_client_new (StacheRemoteProvider  *provider,
                                        StacheSettings        *settings,
                                        const char            *path,
                                        char                 **out_url,
                                        GError               **error);

G_END_DECLS

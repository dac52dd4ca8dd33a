/* anthropic-common.h: settings, HTTP client and JSON helpers of the
 * `anthropic` provider
 *
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */
#pragma once

#include <stache.h>

G_BEGIN_DECLS

#define ANTHROPIC_PROVIDER_NAME     "anthropic"

#define ANTHROPIC_SETTING_BASE_URL  "anthropic_base_url"
#define ANTHROPIC_SETTING_API_KEY   "anthropic_api_key"
#define ANTHROPIC_SETTING_VERSION   "anthropic_version"
#define ANTHROPIC_DEFAULT_BASE_URL  "https://api.anthropic.com"
#define ANTHROPIC_DEFAULT_VERSION   "2023-06-01"

StacheHttpClient *anthropic_client_new              (StacheSettings  *settings,
                                                     const char      *path,
                                                     char           **out_url,
                                                     GError         **error);


void              anthropic_set_malformed           (GError         **error,
                                                     const char      *url,
                                                     const char      *format,
                                                     ...) G_GNUC_PRINTF (3, 4);

JsonArray        *anthropic_json_get_array          (JsonObject      *object,
                                                     const char      *member);
gboolean          anthropic_json_node_is_string     (JsonNode        *node);
gboolean          anthropic_json_node_is_number     (JsonNode        *node);
gboolean          anthropic_json_node_is_integer    (JsonNode        *node);

G_END_DECLS

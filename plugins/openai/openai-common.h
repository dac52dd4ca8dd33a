/* openai-common.h: what the `openai` LLM and embeddings providers share
 *
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */
#pragma once

#include <stache-plugin.h>

G_BEGIN_DECLS

#define OPENAI_PROVIDER_NAME     "openai"

#define OPENAI_SETTING_BASE_URL  "openai_base_url"
#define OPENAI_SETTING_API_KEY   "openai_api_key"
#define OPENAI_DEFAULT_BASE_URL  "https://api.openai.com/v1"

StacheHttpClient *openai_client_new (StacheRemoteProvider  *provider,
                                     StacheSettings        *settings,
                                     const char            *path,
                                     char                 **out_url,
                                     GError               **error);

G_END_DECLS

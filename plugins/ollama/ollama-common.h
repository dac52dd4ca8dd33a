/* ollama-common.h: what the `ollama` LLM and embeddings providers share
 *
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */
#pragma once

#include <stache-plugin.h>

G_BEGIN_DECLS

#define OLLAMA_PROVIDER_NAME      "ollama"

#define OLLAMA_SETTING_URL        "ollama_url"
#define OLLAMA_SETTING_KEEP_ALIVE "ollama_keep_alive"
#define OLLAMA_DEFAULT_URL        "http://localhost:11434"

StacheHttpClient *ollama_client_new              (StacheRemoteProvider  *provider,
                                                  StacheSettings        *settings,
                                                  const char            *path,
                                                  char                 **out_url,
                                                  char                 **out_keep_alive,
                                                  GError               **error);

G_END_DECLS

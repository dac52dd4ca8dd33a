/* ollama-common.h: what the `ollama` LLM and embeddings providers share
 *
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */
#pragma once

#include <stache.h>

G_BEGIN_DECLS

#define OLLAMA_PROVIDER_NAME      "ollama"

#define OLLAMA_SETTING_URL        "ollama_url"
#define OLLAMA_SETTING_KEEP_ALIVE "ollama_keep_alive"
#define OLLAMA_DEFAULT_URL        "http://localhost:11434"

StacheHttpClient *ollama_client_new              (StacheSettings  *settings,
                                                  const char      *path,
                                                  char           **out_url,
                                                  char           **out_keep_alive,
                                                  GError         **error);


void              ollama_set_malformed           (GError         **error,
                                                  const char      *url,
                                                  const char      *format,
                                                  ...) G_GNUC_PRINTF (3, 4);

JsonObject       *ollama_json_get_object         (JsonObject      *object,
                                                  const char      *member);
JsonArray        *ollama_json_get_array          (JsonObject      *object,
                                                  const char      *member);
gboolean          ollama_json_node_is_number     (JsonNode        *node);
gboolean          ollama_json_node_is_integer    (JsonNode        *node);

G_END_DECLS

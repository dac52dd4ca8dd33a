/* ollama-embedder.h: the `ollama` embeddings provider
 *
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */
#pragma once

#include <stache-plugin.h>

G_BEGIN_DECLS

#define OLLAMA_TYPE_EMBEDDER (ollama_embedder_get_type ())
G_DECLARE_FINAL_TYPE (OllamaEmbedder, ollama_embedder, OLLAMA, EMBEDDER, StacheRemoteProvider)

void ollama_embedder_register (GTypeModule *module);

G_END_DECLS

/* openai-embedder.h: the `openai` embeddings provider
 *
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */
#pragma once

#include <stache-plugin.h>

G_BEGIN_DECLS

#define OPENAI_TYPE_EMBEDDER (openai_embedder_get_type ())
G_DECLARE_FINAL_TYPE (OpenaiEmbedder, openai_embedder, OPENAI, EMBEDDER, StacheRemoteProvider)

void openai_embedder_register (GTypeModule *module);

G_END_DECLS

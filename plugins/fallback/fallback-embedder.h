/* fallback-embedder.h: the `fallback` embeddings provider
 *
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */
#pragma once

#include <stache-plugin.h>

G_BEGIN_DECLS

#define FALLBACK_TYPE_EMBEDDER (fallback_embedder_get_type ())
G_DECLARE_FINAL_TYPE (FallbackEmbedder, fallback_embedder, FALLBACK, EMBEDDER, StacheProvider)

void fallback_embedder_register (GTypeModule *module);

G_END_DECLS

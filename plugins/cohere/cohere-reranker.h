/* cohere-reranker.h: the `cohere` reranker provider
 *
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */
#pragma once

#include <stache-plugin.h>

G_BEGIN_DECLS

#define COHERE_TYPE_RERANKER (cohere_reranker_get_type ())
G_DECLARE_FINAL_TYPE (CohereReranker, cohere_reranker, COHERE, RERANKER, StacheRemoteProvider)

void cohere_reranker_register (GTypeModule *module);

G_END_DECLS

/* cohere-plugin.c: registers the `cohere` reranker with libpeas
 *
 * SPDX-License-Identifier: LGPL-2.1-or-later
 *
 * One plugin serves every service that speaks the /rerank API of Cohere:
 * Cohere itself, Jina and Hugging Face's Text Embeddings Inference. The
 * setting `cohere_api` tells which one (see cohere-reranker.c).
 */
#include <libpeas/peas.h>
#include <stache-plugin.h>

#include "cohere-reranker.h"

G_MODULE_EXPORT void peas_register_types (PeasObjectModule *module);

G_MODULE_EXPORT void
peas_register_types (PeasObjectModule *module)
{
  cohere_reranker_register (G_TYPE_MODULE (module));

  peas_object_module_register_extension_type (module, STACHE_TYPE_RERANKER_PROVIDER,
                                              COHERE_TYPE_RERANKER);
}

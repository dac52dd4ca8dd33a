/* fallback-plugin.c: registers the `fallback` providers with libpeas
 *
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */
#include <libpeas/peas.h>
#include <stache-plugin.h>

#include "fallback-embedder.h"
#include "fallback-llm.h"

G_MODULE_EXPORT void peas_register_types (PeasObjectModule *module);

G_MODULE_EXPORT void
peas_register_types (PeasObjectModule *module)
{
  fallback_llm_register (G_TYPE_MODULE (module));
  fallback_embedder_register (G_TYPE_MODULE (module));

  peas_object_module_register_extension_type (module, STACHE_TYPE_LLM_PROVIDER,
                                              FALLBACK_TYPE_LLM);
  peas_object_module_register_extension_type (module, STACHE_TYPE_EMBEDDING_PROVIDER,
                                              FALLBACK_TYPE_EMBEDDER);
}

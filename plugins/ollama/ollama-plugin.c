/* ollama-plugin.c: registers the `ollama` providers with libpeas
 *
 * SPDX-License-Identifier: LGPL-2.1-or-later
 *
 * Talks to an Ollama server (`ollama serve`) through its native API. Point
 * `ollama_url` at the server, http://localhost:11434 by default.
 */
#include <libpeas/peas.h>
#include <stache-plugin.h>

#include "ollama-embedder.h"
#include "ollama-llm.h"

G_MODULE_EXPORT void peas_register_types (PeasObjectModule *module);

G_MODULE_EXPORT void
peas_register_types (PeasObjectModule *module)
{
  ollama_llm_register (G_TYPE_MODULE (module));
  ollama_embedder_register (G_TYPE_MODULE (module));

  peas_object_module_register_extension_type (module, STACHE_TYPE_LLM_PROVIDER,
                                              OLLAMA_TYPE_LLM);
  peas_object_module_register_extension_type (module, STACHE_TYPE_EMBEDDING_PROVIDER,
                                              OLLAMA_TYPE_EMBEDDER);
}

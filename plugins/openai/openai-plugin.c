/* openai-plugin.c: registers the `openai` providers with libpeas
 *
 * SPDX-License-Identifier: LGPL-2.1-or-later
 *
 * One plugin serves every server that speaks the OpenAI REST API: OpenAI
 * itself, llama.cpp's server, vLLM, LM Studio and LocalAI. Point
 * `openai_base_url` at the server's `…/v1`.
 */
#include <libpeas/peas.h>
#include <stache-plugin.h>

#include "openai-embedder.h"
#include "openai-llm.h"

G_MODULE_EXPORT void peas_register_types (PeasObjectModule *module);

G_MODULE_EXPORT void
peas_register_types (PeasObjectModule *module)
{
  openai_llm_register (G_TYPE_MODULE (module));
  openai_embedder_register (G_TYPE_MODULE (module));

  peas_object_module_register_extension_type (module, STACHE_TYPE_LLM_PROVIDER,
                                              OPENAI_TYPE_LLM);
  peas_object_module_register_extension_type (module, STACHE_TYPE_EMBEDDING_PROVIDER,
                                              OPENAI_TYPE_EMBEDDER);
}

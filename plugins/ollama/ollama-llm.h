/* ollama-llm.h: the `ollama` LLM provider
 *
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */
#pragma once

#include <stache-plugin.h>

G_BEGIN_DECLS

#define OLLAMA_TYPE_LLM (ollama_llm_get_type ())
G_DECLARE_FINAL_TYPE (OllamaLlm, ollama_llm, OLLAMA, LLM, StacheRemoteProvider)

void ollama_llm_register (GTypeModule *module);

G_END_DECLS

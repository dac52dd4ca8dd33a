/* openai-llm.h: the `openai` LLM provider
 *
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */
#pragma once

#include <stache-plugin.h>

G_BEGIN_DECLS

#define OPENAI_TYPE_LLM (openai_llm_get_type ())
G_DECLARE_FINAL_TYPE (OpenaiLlm, openai_llm, OPENAI, LLM, StacheRemoteProvider)

void openai_llm_register (GTypeModule *module);

G_END_DECLS

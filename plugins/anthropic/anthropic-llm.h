/* anthropic-llm.h: the `anthropic` LLM provider
 *
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */
#pragma once

#include <stache-plugin.h>

G_BEGIN_DECLS

#define ANTHROPIC_TYPE_LLM (anthropic_llm_get_type ())
G_DECLARE_FINAL_TYPE (AnthropicLlm, anthropic_llm, ANTHROPIC, LLM, StacheRemoteProvider)

void anthropic_llm_register (GTypeModule *module);

G_END_DECLS

/* fallback-llm.h: the `fallback` LLM provider
 *
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */
#pragma once

#include <stache-plugin.h>

G_BEGIN_DECLS

#define FALLBACK_TYPE_LLM (fallback_llm_get_type ())
G_DECLARE_FINAL_TYPE (FallbackLlm, fallback_llm, FALLBACK, LLM, StacheProvider)

void fallback_llm_register (GTypeModule *module);

G_END_DECLS

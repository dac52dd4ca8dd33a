/* anthropic-plugin.c: registers the `anthropic` provider with libpeas
 *
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */
#include <libpeas/peas.h>
#include <stache-plugin.h>

#include "anthropic-llm.h"

G_MODULE_EXPORT void peas_register_types (PeasObjectModule *module);

G_MODULE_EXPORT void
peas_register_types (PeasObjectModule *module)
{
  anthropic_llm_register (G_TYPE_MODULE (module));

  peas_object_module_register_extension_type (module, STACHE_TYPE_LLM_PROVIDER,
                                              ANTHROPIC_TYPE_LLM);
}

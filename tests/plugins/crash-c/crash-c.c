/* crash-c.c: a C plugin that crashes while it registers its types
 *
 * SPDX-License-Identifier: LGPL-2.1-or-later
 *
 * For the test that `stache plugins` survives it and names it: a plugin
 * runs in process, so a bug in one would otherwise take the command down.
 */
#include <signal.h>

#include <libpeas/peas.h>

G_MODULE_EXPORT void peas_register_types (PeasObjectModule *module);

G_MODULE_EXPORT void
peas_register_types (PeasObjectModule *module)
{
  raise (SIGSEGV);
}

/* stache-serve.c: placeholder until the command lands
 *
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */
#include "config.h"

#include <glib/gi18n.h>

#include "stache-serve.h"

int
stache_serve_main (int    argc,
                  char **argv)
{
  g_printerr ("%s\n", _("stache: this command is not built yet"));
  return 1;
}

/* stache-serve.h: `stache serve`, the REST API
 *
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */
#pragma once

#include <glib.h>

int stache_serve_main (int    argc,
                       char **argv);

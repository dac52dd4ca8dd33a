/* stache-mcp.h: `stache mcp`, the Model Context Protocol server
 *
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */
#pragma once

#include <glib.h>

int stache_mcp_main (int    argc,
                     char **argv);

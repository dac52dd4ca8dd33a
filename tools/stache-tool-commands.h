/* stache-tool-commands.h: the subcommands of the stache command, one file
 * each
 *
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */
#pragma once

#include "stache-tool-common.h"

G_BEGIN_DECLS

int command_ingest     (int argc, char **argv);
int command_sync       (int argc, char **argv);
int command_search     (int argc, char **argv);
int command_ask        (int argc, char **argv);
int command_documents  (int argc, char **argv);
int command_namespaces (int argc, char **argv);
int command_plugins    (int argc, char **argv);
int command_config     (int argc, char **argv);
int command_check      (int argc, char **argv);

/* stache-tool-watch.c: `stache sync --watch` */
typedef void (*StacheToolSyncPrint) (GPtrArray *results,
                                     gpointer   data);
void stache_tool_watch (StacheStore         *store,
                        GPtrArray           *roots,
                        const char          *namespace_,
                        const char * const  *include,
                        const char * const  *exclude,
                        StacheToolSyncPrint  print,
                        gpointer             print_data);

G_END_DECLS

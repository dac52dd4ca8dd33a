/* stache-tool-common.h: what the stache command's subcommands share
 *
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */
#pragma once

#include <stache-plugin.h>

G_BEGIN_DECLS

/* Exit codes: 0 success, 1 the operation failed, 2 the command line is wrong */
#define EXIT_USAGE 2

void         stache_tool_print_json            (JsonBuilder        *builder);
void         stache_tool_print_json_node       (JsonNode           *root);
char        *stache_tool_escape_controls       (const char         *text);
void         stache_tool_use_safe_output       (void);
void         stache_tool_add_string_member     (JsonBuilder        *builder,
                                                const char         *name,
                                                const char         *value);
/* @object as member @name, or null */
void         stache_tool_add_object_member     (JsonBuilder        *builder,
                                                const char         *name,
                                                JsonObject         *object);
StacheStore *stache_tool_open_store            (void);
gboolean     stache_tool_parse_options         (GOptionContext     *context,
                                                int                *argc,
                                                char             ***argv);
void         stache_tool_print_passage         (const char         *text);
/* One search result as a JSON object: rank, score, chunk_id, document_id,
 * namespace, text, metadata */
void         stache_tool_add_result            (JsonBuilder        *builder,
                                                StacheSearchResult *result,
                                                guint               rank);
const char  *stache_tool_result_source         (StacheSearchResult *result);
gboolean     stache_tool_parse_mode            (const char         *text,
                                                StacheSearchMode   *mode);
/* The members of a document (inside an object the caller opened) */
void         stache_tool_add_document_members  (JsonBuilder        *builder,
                                                StacheDocument     *document);
/* The members of a namespace (inside an object the caller opened): name,
 * description, created */
void         stache_tool_add_namespace_members (JsonBuilder        *builder,
                                                StacheNamespace    *ns);
/* The members of an ingest result (inside an object the caller opened):
 * source, outcome, document_id, namespace, title, chunks, reason */
void         stache_tool_add_ingest_result_members (JsonBuilder        *builder,
                                                    StacheIngestResult *result);

/* The members of a provider found by discovery: type, name, plugin,
 * module, plugin_file, folder, loader, status, reason, error_code */
void         stache_tool_add_provider_info_members (JsonBuilder        *builder,
                                                    StacheProviderInfo *info);

G_END_DECLS

/* stache-operations.h: what the programs can do with a store, defined once
 *
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */
#pragma once

#include "stache-tool-common.h"

G_BEGIN_DECLS

/* The most results (search) or passages (ask) one call may ask for, in
 * every front end: the command's --top-k, REST's top_k member, MCP's top_k
 * argument. The "maximum" of top_k in tools/operations/search.input.json
 * and ask.input.json must be this number: stache_operation_get_schema()
 * refuses to start with a schema that says otherwise. A plain integer
 * literal, for G_STRINGIFY(). */
#define STACHE_OPERATION_MAX_TOP_K 1000

/* Runs an operation whose @args passed stache_operation_check_arguments()
 * (or were built by a front end that checked them its own way): returns
 * its structured result (what the output schema describes), and appends a
 * plain-text rendering to @text unless it is NULL. */
typedef JsonNode *(*StacheOperationFunc) (StacheStore   *store,
                                          JsonObject    *args,
                                          GCancellable  *cancellable,
                                          GString       *text,
                                          GError       **error);

typedef struct {
  const char          *name;
  const char          *title;
  const char          *description;
  gboolean             read_only;
  gboolean             destructive;
  gboolean             idempotent;
  StacheOperationFunc  run;
} StacheOperation;

const StacheOperation *stache_operations                (guint                 *n_operations);
const StacheOperation *stache_operation_find            (const char            *name);
/* Runs the operation @name, one of stache_operations(), on @args: the
 * front ends' way to call an operation they name */
JsonNode              *stache_operation_run             (const char            *name,
                                                         StacheStore           *store,
                                                         JsonObject            *args,
                                                         GCancellable          *cancellable,
                                                         GString               *text,
                                                         GError               **error);
/* The JSON Schema of the arguments (@output FALSE) or of the result */
JsonNode              *stache_operation_get_schema      (const StacheOperation *operation,
                                                         gboolean               output);
/* The problems of @args against @input_schema, one sentence each joined
 * by "; ", or NULL when there are none */
char                  *stache_operation_check_arguments (JsonNode              *input_schema,
                                                         JsonObject            *args);

/* What went wrong in an operation, for every front end to report the
 * same way: REST turns it into an HTTP status and an error code, MCP and
 * the command into a message. */
typedef enum {
  STACHE_OPERATION_FAILED_ARGUMENT,     /* the arguments were wrong: 400 */
  STACHE_OPERATION_FAILED_NOT_FOUND,    /* 404 */
  STACHE_OPERATION_FAILED_EXISTS,       /* 409 */
  STACHE_OPERATION_FAILED_NOT_EMPTY,    /* 409 */
  STACHE_OPERATION_FAILED_UNSUPPORTED,  /* a provider cannot do it: 501 */
  STACHE_OPERATION_FAILED_UPSTREAM,     /* a service answered wrongly: 502 */
  STACHE_OPERATION_FAILED_UNAVAILABLE,  /* a service is down or slow: 503 */
  STACHE_OPERATION_FAILED_INTERNAL,     /* anything else: 500 */
} StacheOperationFailure;

StacheOperationFailure stache_operation_classify_error  (const GError          *error);
/* The JSON error code of @failure: invalid_argument, not_found, exists,
 * not_empty, not_supported, upstream_error, upstream_unavailable,
 * internal_error */
const char            *stache_operation_failure_code    (StacheOperationFailure failure);
/* What a client of any front end is told about @error, of class
 * @failure: its own message when the client can act on it; for a service
 * that failed, that with the service's reason (the HTTP client redacts
 * the secrets it knows); for anything else a sentence that sends to the
 * log, as a provider's message may name a server or a path. Sets
 * *@out_log when @error's own message belongs in the program's log (a
 * failed service, an internal failure). */
char                  *stache_operation_error_message   (const GError          *error,
                                                         StacheOperationFailure failure,
                                                         gboolean              *out_log);

/* Whether @node is of the JSON Schema type @type ("object", "string",
 * "integer", …) */
gboolean               stache_tool_node_has_type        (JsonNode              *node,
                                                         const char            *type);
/* The string member @name of @object, or NULL when it is absent or not a
 * string */
const char            *stache_tool_member_string        (JsonObject            *object,
                                                         const char            *name);
/* Where a search result, as stache_tool_add_result() writes it, comes
 * from: its metadata's source, else its document id (as
 * stache_tool_result_source() says of the result itself) */
const char            *stache_tool_result_object_source (JsonObject            *result);
/* An answer's sources, as stache_tool_add_result() writes them, one line
 * per document: the numbers of its passages, where it comes from and the
 * places cited ("[1, 2] notes.md: Feeding; Hooch") */
void                   stache_tool_render_sources       (GString               *out,
                                                         JsonArray             *sources,
                                                         const char            *indent);

G_END_DECLS

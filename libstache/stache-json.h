/* stache-json.h: JSON from outside, parsed with limits and read with checks
 *
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */
#pragma once

#if !defined(STACHE_INSIDE_PLUGIN_SDK) && !defined(STACHE_COMPILATION)
# error "Only <stache-plugin.h> can be included directly."
#endif

#include <json-glib/json-glib.h>

#include "stache-version.h"

G_BEGIN_DECLS

/**
 * STACHE_JSON_MAX_DEPTH:
 *
 * How deeply arrays and objects may nest in JSON that stache_json_parse()
 * accepts: far more than any request or answer Stache knows needs, far
 * less than what would exhaust a thread's stack in json-glib's recursive
 * parser.
 */
#define STACHE_JSON_MAX_DEPTH 128

STACHE_AVAILABLE_IN_ALL
JsonNode   *stache_json_parse             (const char  *data,
                                           gssize       length,
                                           guint        max_depth,
                                           gboolean     refuse_nul,
                                           const char  *what,
                                           GError     **error);

STACHE_AVAILABLE_IN_ALL
JsonObject *stache_json_object_get_object (JsonObject *object,
                                           const char *member);
STACHE_AVAILABLE_IN_ALL
JsonArray  *stache_json_object_get_array  (JsonObject *object,
                                           const char *member);
STACHE_AVAILABLE_IN_ALL
const char *stache_json_object_get_string (JsonObject *object,
                                           const char *member);
STACHE_AVAILABLE_IN_ALL
gboolean    stache_json_node_is_string    (JsonNode   *node);
STACHE_AVAILABLE_IN_ALL
gboolean    stache_json_node_is_number    (JsonNode   *node);
STACHE_AVAILABLE_IN_ALL
gboolean    stache_json_node_is_integer   (JsonNode   *node);

G_END_DECLS

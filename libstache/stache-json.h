/* stache-json.h: checked access to JSON that a service returned
 *
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */
#pragma once

#if !defined(STACHE_INSIDE) && !defined(STACHE_COMPILATION)
# error "Only <stache.h> can be included directly."
#endif

#include <json-glib/json-glib.h>

#include "stache-version.h"

G_BEGIN_DECLS

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

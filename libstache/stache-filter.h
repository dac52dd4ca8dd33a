/* stache-filter.h: the metadata filter syntax shared by vector databases
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
gboolean stache_filter_validate (JsonObject  *filter,
                                 GError     **error);
STACHE_AVAILABLE_IN_ALL
gboolean stache_filter_matches  (JsonObject  *filter,
                                 const char  *document_id,
                                 JsonObject  *metadata);

G_END_DECLS

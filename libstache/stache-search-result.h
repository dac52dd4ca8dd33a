/* stache-search-result.h: one hit returned by a search
 *
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */
#pragma once

#if !defined(STACHE_INSIDE) && !defined(STACHE_COMPILATION)
# error "Only <stache.h> can be included directly."
#endif

#include <glib-object.h>
#include <json-glib/json-glib.h>
#include "stache-version.h"

G_BEGIN_DECLS

#define STACHE_TYPE_SEARCH_RESULT (stache_search_result_get_type ())

STACHE_AVAILABLE_IN_ALL
G_DECLARE_FINAL_TYPE (StacheSearchResult, stache_search_result, STACHE, SEARCH_RESULT, GObject)

STACHE_AVAILABLE_IN_ALL
StacheSearchResult *stache_search_result_new             (const char         *id,
                                                          const char         *text,
                                                          double              score);
STACHE_AVAILABLE_IN_ALL
StacheSearchResult *stache_search_result_copy            (StacheSearchResult *self);
STACHE_AVAILABLE_IN_ALL
const char         *stache_search_result_get_id          (StacheSearchResult *self);
STACHE_AVAILABLE_IN_ALL
void                stache_search_result_set_id          (StacheSearchResult *self,
                                                          const char         *id);
STACHE_AVAILABLE_IN_ALL
const char         *stache_search_result_get_document_id (StacheSearchResult *self);
STACHE_AVAILABLE_IN_ALL
void                stache_search_result_set_document_id (StacheSearchResult *self,
                                                          const char         *document_id);
STACHE_AVAILABLE_IN_ALL
const char         *stache_search_result_get_namespace   (StacheSearchResult *self);
STACHE_AVAILABLE_IN_ALL
void                stache_search_result_set_namespace   (StacheSearchResult *self,
                                                          const char         *namespace_);
STACHE_AVAILABLE_IN_ALL
const char         *stache_search_result_get_text        (StacheSearchResult *self);
STACHE_AVAILABLE_IN_ALL
void                stache_search_result_set_text        (StacheSearchResult *self,
                                                          const char         *text);
STACHE_AVAILABLE_IN_ALL
double              stache_search_result_get_score       (StacheSearchResult *self);
STACHE_AVAILABLE_IN_ALL
void                stache_search_result_set_score       (StacheSearchResult *self,
                                                          double              score);
STACHE_AVAILABLE_IN_ALL
JsonObject         *stache_search_result_get_metadata    (StacheSearchResult *self);
STACHE_AVAILABLE_IN_ALL
void                stache_search_result_set_metadata    (StacheSearchResult *self,
                                                          JsonObject         *metadata);

G_END_DECLS

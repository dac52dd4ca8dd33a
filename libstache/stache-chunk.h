/* stache-chunk.h: a piece of a document that is embedded and stored
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

#define STACHE_TYPE_CHUNK (stache_chunk_get_type ())

STACHE_AVAILABLE_IN_ALL
G_DECLARE_FINAL_TYPE (StacheChunk, stache_chunk, STACHE, CHUNK, GObject)

STACHE_AVAILABLE_IN_ALL
StacheChunk *stache_chunk_new             (const char  *id,
                                           const char  *text);
STACHE_AVAILABLE_IN_ALL
const char  *stache_chunk_get_id          (StacheChunk *self);
STACHE_AVAILABLE_IN_ALL
void         stache_chunk_set_id          (StacheChunk *self,
                                           const char  *id);
STACHE_AVAILABLE_IN_ALL
const char  *stache_chunk_get_document_id (StacheChunk *self);
STACHE_AVAILABLE_IN_ALL
void         stache_chunk_set_document_id (StacheChunk *self,
                                           const char  *document_id);
STACHE_AVAILABLE_IN_ALL
const char  *stache_chunk_get_text        (StacheChunk *self);
STACHE_AVAILABLE_IN_ALL
void         stache_chunk_set_text        (StacheChunk *self,
                                           const char  *text);
STACHE_AVAILABLE_IN_ALL
guint        stache_chunk_get_position    (StacheChunk *self);
STACHE_AVAILABLE_IN_ALL
void         stache_chunk_set_position    (StacheChunk *self,
                                           guint        position);
STACHE_AVAILABLE_IN_ALL
JsonObject  *stache_chunk_get_metadata    (StacheChunk *self);
STACHE_AVAILABLE_IN_ALL
void         stache_chunk_set_metadata    (StacheChunk *self,
                                           JsonObject  *metadata);

G_END_DECLS

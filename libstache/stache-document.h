/* stache-document.h: a whole ingested document
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

#define STACHE_TYPE_DOCUMENT (stache_document_get_type ())

STACHE_AVAILABLE_IN_ALL
G_DECLARE_FINAL_TYPE (StacheDocument, stache_document, STACHE, DOCUMENT, GObject)

STACHE_AVAILABLE_IN_ALL
StacheDocument *stache_document_new              (const char     *id);
STACHE_AVAILABLE_IN_ALL
const char     *stache_document_get_id           (StacheDocument *self);
STACHE_AVAILABLE_IN_ALL
void            stache_document_set_id           (StacheDocument *self,
                                                  const char     *id);
STACHE_AVAILABLE_IN_ALL
const char     *stache_document_get_namespace    (StacheDocument *self);
STACHE_AVAILABLE_IN_ALL
void            stache_document_set_namespace    (StacheDocument *self,
                                                  const char     *namespace_);
STACHE_AVAILABLE_IN_ALL
const char     *stache_document_get_source       (StacheDocument *self);
STACHE_AVAILABLE_IN_ALL
void            stache_document_set_source       (StacheDocument *self,
                                                  const char     *source);
STACHE_AVAILABLE_IN_ALL
const char     *stache_document_get_title        (StacheDocument *self);
STACHE_AVAILABLE_IN_ALL
void            stache_document_set_title        (StacheDocument *self,
                                                  const char     *title);
STACHE_AVAILABLE_IN_ALL
const char     *stache_document_get_media_type   (StacheDocument *self);
STACHE_AVAILABLE_IN_ALL
void            stache_document_set_media_type   (StacheDocument *self,
                                                  const char     *media_type);
STACHE_AVAILABLE_IN_ALL
const char     *stache_document_get_content_hash (StacheDocument *self);
STACHE_AVAILABLE_IN_ALL
void            stache_document_set_content_hash (StacheDocument *self,
                                                  const char     *content_hash);
STACHE_AVAILABLE_IN_ALL
const char     *stache_document_get_summary      (StacheDocument *self);
STACHE_AVAILABLE_IN_ALL
void            stache_document_set_summary      (StacheDocument *self,
                                                  const char     *summary);
STACHE_AVAILABLE_IN_ALL
guint64         stache_document_get_size         (StacheDocument *self);
STACHE_AVAILABLE_IN_ALL
void            stache_document_set_size         (StacheDocument *self,
                                                  guint64         size);
STACHE_AVAILABLE_IN_ALL
guint           stache_document_get_chunk_count  (StacheDocument *self);
STACHE_AVAILABLE_IN_ALL
void            stache_document_set_chunk_count  (StacheDocument *self,
                                                  guint           chunk_count);
STACHE_AVAILABLE_IN_ALL
gint64          stache_document_get_created      (StacheDocument *self);
STACHE_AVAILABLE_IN_ALL
void            stache_document_set_created      (StacheDocument *self,
                                                  gint64          created);
STACHE_AVAILABLE_IN_ALL
gint64          stache_document_get_updated      (StacheDocument *self);
STACHE_AVAILABLE_IN_ALL
void            stache_document_set_updated      (StacheDocument *self,
                                                  gint64          updated);
STACHE_AVAILABLE_IN_ALL
JsonObject     *stache_document_get_metadata     (StacheDocument *self);
STACHE_AVAILABLE_IN_ALL
void            stache_document_set_metadata     (StacheDocument *self,
                                                  JsonObject     *metadata);

G_END_DECLS

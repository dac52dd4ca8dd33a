/* stache-ingest-result.h: what happened to one ingested document
 *
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */
#pragma once

#if !defined(STACHE_INSIDE) && !defined(STACHE_COMPILATION)
# error "Only <stache.h> can be included directly."
#endif

#include <glib-object.h>
#include "stache-version.h"

G_BEGIN_DECLS

/**
 * StacheIngestOutcome:
 * @STACHE_INGEST_OUTCOME_ADDED: a new document was stored
 * @STACHE_INGEST_OUTCOME_UNCHANGED: the same content was already stored;
 *   nothing was done
 * @STACHE_INGEST_OUTCOME_REPLACED: the document was stored before with other
 *   content; its chunks were replaced
 * @STACHE_INGEST_OUTCOME_SKIPPED: the input was not ingested (binary, empty,
 *   too large, …); the reason says why
 * @STACHE_INGEST_OUTCOME_FAILED: the input could not be read or stored; the
 *   reason says why
 * @STACHE_INGEST_OUTCOME_REMOVED: a document whose file is gone was removed
 *   (stache_store_sync_directory())
 *
 * The outcome of ingesting one document.
 */
typedef enum {
  STACHE_INGEST_OUTCOME_ADDED,
  STACHE_INGEST_OUTCOME_UNCHANGED,
  STACHE_INGEST_OUTCOME_REPLACED,
  STACHE_INGEST_OUTCOME_SKIPPED,
  STACHE_INGEST_OUTCOME_FAILED,
  STACHE_INGEST_OUTCOME_REMOVED,
} StacheIngestOutcome;

#define STACHE_TYPE_INGEST_RESULT (stache_ingest_result_get_type ())

STACHE_AVAILABLE_IN_ALL
G_DECLARE_FINAL_TYPE (StacheIngestResult, stache_ingest_result, STACHE, INGEST_RESULT, GObject)

STACHE_AVAILABLE_IN_ALL
const char          *stache_ingest_result_get_source      (StacheIngestResult *self);
STACHE_AVAILABLE_IN_ALL
const char          *stache_ingest_result_get_document_id (StacheIngestResult *self);
STACHE_AVAILABLE_IN_ALL
const char          *stache_ingest_result_get_namespace   (StacheIngestResult *self);
STACHE_AVAILABLE_IN_ALL
const char          *stache_ingest_result_get_title       (StacheIngestResult *self);
STACHE_AVAILABLE_IN_ALL
StacheIngestOutcome  stache_ingest_result_get_outcome     (StacheIngestResult *self);
STACHE_AVAILABLE_IN_ALL
guint                stache_ingest_result_get_chunk_count (StacheIngestResult *self);
STACHE_AVAILABLE_IN_ALL
const char          *stache_ingest_result_get_reason      (StacheIngestResult *self);
STACHE_AVAILABLE_IN_ALL
const char          *stache_ingest_outcome_to_string      (StacheIngestOutcome outcome);

G_END_DECLS

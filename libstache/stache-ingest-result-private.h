/* stache-ingest-result-private.h
 *
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */
#pragma once

#include "stache-ingest-result.h"

G_BEGIN_DECLS

StacheIngestResult *_stache_ingest_result_new (const char          *source,
                                               const char          *namespace_,
                                               StacheIngestOutcome  outcome);
void _stache_ingest_result_set_document (StacheIngestResult *self,
                                         const char         *document_id,
                                         const char         *title,
                                         guint               chunk_count);
void _stache_ingest_result_set_reason   (StacheIngestResult *self,
                                         const char         *reason);

G_END_DECLS

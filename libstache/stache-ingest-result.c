/* stache-ingest-result.c: what happened to one ingested document
 *
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */
#include "config.h"

#include "stache-ingest-result-private.h"
#include "stache-private.h"

/**
 * StacheIngestResult:
 *
 * What happened to one file or text given to #StacheStore: added,
 * unchanged, replaced, skipped or failed, with the document it became and,
 * for the last two, the reason.
 */

struct _StacheIngestResult
{
  GObject              parent_instance;

  char                *source;
  char                *document_id;
  char                *namespace_;
  char                *title;
  char                *reason;
  StacheIngestOutcome  outcome;
  guint                chunk_count;
};

G_DEFINE_FINAL_TYPE (StacheIngestResult, stache_ingest_result, G_TYPE_OBJECT)

static void
stache_ingest_result_finalize (GObject *object)
{
  StacheIngestResult *self = STACHE_INGEST_RESULT (object);

  g_free (self->source);
  g_free (self->document_id);
  g_free (self->namespace_);
  g_free (self->title);
  g_free (self->reason);

  G_OBJECT_CLASS (stache_ingest_result_parent_class)->finalize (object);
}

static void
stache_ingest_result_class_init (StacheIngestResultClass *klass)
{
  G_OBJECT_CLASS (klass)->finalize = stache_ingest_result_finalize;
}

static void
stache_ingest_result_init (StacheIngestResult *self)
{
}

StacheIngestResult *
_stache_ingest_result_new (const char          *source,
                           const char          *namespace_,
                           StacheIngestOutcome  outcome)
{
  StacheIngestResult *self = g_object_new (STACHE_TYPE_INGEST_RESULT, NULL);

  self->source = g_strdup (source);
  self->namespace_ = g_strdup (namespace_);
  self->outcome = outcome;

  return self;
}

void
_stache_ingest_result_set_document (StacheIngestResult *self,
                                    const char         *document_id,
                                    const char         *title,
                                    guint               chunk_count)
{
  _stache_replace_string (&self->document_id, document_id);
  _stache_replace_string (&self->title, title);
  self->chunk_count = chunk_count;
}

void
_stache_ingest_result_set_reason (StacheIngestResult *self,
                                  const char         *reason)
{
  _stache_replace_string (&self->reason, reason);
}

/**
 * stache_ingest_result_get_source:
 * @self: a #StacheIngestResult
 *
 * Gets the path of the file, or the source given with the text.
 *
 * Returns: (nullable): the source
 */
const char *
stache_ingest_result_get_source (StacheIngestResult *self)
{
  g_return_val_if_fail (STACHE_IS_INGEST_RESULT (self), NULL);
  return self->source;
}

/**
 * stache_ingest_result_get_document_id:
 * @self: a #StacheIngestResult
 *
 * Gets the id of the stored document.
 *
 * Returns: (nullable): the id, or %NULL when nothing was stored
 */
const char *
stache_ingest_result_get_document_id (StacheIngestResult *self)
{
  g_return_val_if_fail (STACHE_IS_INGEST_RESULT (self), NULL);
  return self->document_id;
}

/**
 * stache_ingest_result_get_namespace:
 * @self: a #StacheIngestResult
 *
 * Gets the namespace the document went to.
 *
 * Returns: (nullable): the namespace
 */
const char *
stache_ingest_result_get_namespace (StacheIngestResult *self)
{
  g_return_val_if_fail (STACHE_IS_INGEST_RESULT (self), NULL);
  return self->namespace_;
}

/**
 * stache_ingest_result_get_title:
 * @self: a #StacheIngestResult
 *
 * Gets the title found in the document.
 *
 * Returns: (nullable): the title
 */
const char *
stache_ingest_result_get_title (StacheIngestResult *self)
{
  g_return_val_if_fail (STACHE_IS_INGEST_RESULT (self), NULL);
  return self->title;
}

/**
 * stache_ingest_result_get_outcome:
 * @self: a #StacheIngestResult
 *
 * Gets what happened.
 *
 * Returns: the outcome
 */
StacheIngestOutcome
stache_ingest_result_get_outcome (StacheIngestResult *self)
{
  g_return_val_if_fail (STACHE_IS_INGEST_RESULT (self), STACHE_INGEST_OUTCOME_FAILED);
  return self->outcome;
}

/**
 * stache_ingest_result_get_chunk_count:
 * @self: a #StacheIngestResult
 *
 * Gets how many chunks the document has in the store.
 *
 * Returns: the number of chunks
 */
guint
stache_ingest_result_get_chunk_count (StacheIngestResult *self)
{
  g_return_val_if_fail (STACHE_IS_INGEST_RESULT (self), 0);
  return self->chunk_count;
}

/**
 * stache_ingest_result_get_reason:
 * @self: a #StacheIngestResult
 *
 * Gets why the input was skipped or failed.
 *
 * Returns: (nullable): the reason, or %NULL
 */
const char *
stache_ingest_result_get_reason (StacheIngestResult *self)
{
  g_return_val_if_fail (STACHE_IS_INGEST_RESULT (self), NULL);
  return self->reason;
}

/**
 * stache_ingest_outcome_to_string:
 * @outcome: a #StacheIngestOutcome
 *
 * Gets a stable, untranslated name for @outcome, as printed by
 * `stache ingest --json`: `added`, `unchanged`, `replaced`, `skipped`,
 * `failed` or `removed`.
 *
 * Returns: the name
 */
const char *
stache_ingest_outcome_to_string (StacheIngestOutcome outcome)
{
  static const char *names[] = { "added", "unchanged", "replaced", "skipped", "failed", "removed" };

  g_return_val_if_fail ((guint) outcome < G_N_ELEMENTS (names), NULL);
  return names[outcome];
}

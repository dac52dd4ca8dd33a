/* sqlite-keywords.h: the keyword index of a Stache database
 *
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */
#pragma once

#include "sqlite-database.h"

G_BEGIN_DECLS

/* The longest word the index keeps, in bytes; longer words are kept (and
 * looked up) by their first this many bytes. */
#define SQLITE_KEYWORD_MAX_BYTES 128

/* The tables, created with the rest of the schema (sqlite-keywords.c tells
 * what they hold) */
#define SQLITE_KEYWORDS_SCHEMA \
  "CREATE TABLE IF NOT EXISTS keyword_segments (" \
  "  id INTEGER PRIMARY KEY," \
  "  level INTEGER NOT NULL," \
  "  first_rowid INTEGER NOT NULL," \
  "  last_rowid INTEGER NOT NULL," \
  "  docs INTEGER NOT NULL," \
  "  tokens INTEGER NOT NULL," \
  "  deleted_docs INTEGER NOT NULL DEFAULT 0," \
  "  deleted_tokens INTEGER NOT NULL DEFAULT 0," \
  "  runs BLOB);" \
  "CREATE TABLE IF NOT EXISTS keyword_postings (" \
  "  segment INTEGER NOT NULL," \
  "  term BLOB NOT NULL," \
  "  docs INTEGER NOT NULL," \
  "  data BLOB NOT NULL," \
  "  PRIMARY KEY (segment, term)) WITHOUT ROWID;" \
  "CREATE TABLE IF NOT EXISTS keyword_deleted (" \
  "  rowid INTEGER PRIMARY KEY);"

/* ---- writing ---- */

/* The chunks of one transaction, gathered in memory and written as one
 * segment by sqlite_keyword_batch_flush() before the transaction commits. */
typedef struct _SqliteKeywordBatch SqliteKeywordBatch;

SqliteKeywordBatch *sqlite_keyword_batch_new     (StacheStemmer      *stemmer);
void                sqlite_keyword_batch_free    (SqliteKeywordBatch *batch);
/* Adds the words of the chunk of @rowid, whose text is @text, of the
 * document @document_id (NULL for a chunk of no document) in @namespace_ */
void                sqlite_keyword_batch_add     (SqliteKeywordBatch *batch,
                                                  gint64              rowid,
                                                  const char         *namespace_,
                                                  const char         *document_id,
                                                  const char         *text);
/* Takes the chunk of @rowid (whose text was @text) out of the index */
gboolean            sqlite_keyword_batch_remove  (SqliteKeywordBatch *batch,
                                                  SqliteDatabase     *db,
                                                  gint64              rowid,
                                                  const char         *text,
                                                  GError            **error);
/* Writes what was added as a new segment, then merges segments where due */
gboolean            sqlite_keyword_batch_flush   (SqliteKeywordBatch *batch,
                                                  SqliteDatabase     *db,
                                                  GError            **error);
gboolean            sqlite_keyword_batch_is_empty (SqliteKeywordBatch *batch);

/* ---- searching ---- */

/* The words of @text as the index keeps them: folded (stache_text_fold())
 * and split (stache_text_next_word()) */
GPtrArray          *sqlite_keywords_split        (const char         *text,
                                                  StacheStemmer      *stemmer);

typedef struct
{
  gint64 rowid;
  double score;   /* BM25, higher is better */
} SqliteKeywordHit;

typedef struct _SqliteKeywordQuery SqliteKeywordQuery;

/* How many chunks hold each of @words (in @hits), and how many chunks the
 * index holds (in @n_chunks) */
gboolean            sqlite_keywords_count        (SqliteDatabase     *db,
                                                  GPtrArray          *words,
                                                  gint64             *hits,
                                                  gint64             *n_chunks,
                                                  GError            **error);
/* Scores every chunk holding at least one of @words (those not set in
 * @skip) with BM25 (k1 1.2, b 0.75; a word given twice counts twice).
 * With @documents, every document holding one of them instead, as one
 * text (its chunks' words added up), for sqlite_keyword_query_top_documents() */
SqliteKeywordQuery *sqlite_keyword_query_new     (SqliteDatabase     *db,
                                                  GPtrArray          *words,
                                                  const gboolean     *skip,
                                                  gboolean            documents,
                                                  GCancellable       *cancellable,
                                                  GError            **error);
void                sqlite_keyword_query_free    (SqliteKeywordQuery *query);
/* The best @limit chunks (or all, if fewer), best first, ties by rowid;
 * valid until the next call or the query is freed */
const SqliteKeywordHit *sqlite_keyword_query_top (SqliteKeywordQuery *query,
                                                  gsize               limit,
                                                  gsize              *n_hits);
/* The best @limit documents, as sqlite_keyword_query_top() gives chunks:
 * each hit is the document's best chunk (by its own score) with the
 * document's score. Only for a query made with documents. */
const SqliteKeywordHit *sqlite_keyword_query_top_documents (SqliteKeywordQuery *query,
                                                            gsize               limit,
                                                            gsize              *n_hits);

/* ---- keeping ---- */

/* Builds the index of every chunk row, replacing what there was (a new
 * or migrated database); @progress (may be NULL) is told how far it got */
gboolean            sqlite_keywords_rebuild      (SqliteDatabase     *db,
                                                  void              (*progress) (gint64 done, gint64 total),
                                                  GCancellable       *cancellable,
                                                  GError            **error);
/* Reads the whole index and checks it against the chunk rows */
gboolean            sqlite_keywords_verify       (SqliteDatabase     *db,
                                                  GCancellable       *cancellable,
                                                  GError            **error);

G_DEFINE_AUTOPTR_CLEANUP_FUNC (SqliteKeywordBatch, sqlite_keyword_batch_free)
G_DEFINE_AUTOPTR_CLEANUP_FUNC (SqliteKeywordQuery, sqlite_keyword_query_free)

G_END_DECLS

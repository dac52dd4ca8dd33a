/* sqlite-vector-db.c: the `sqlite` vector database provider
 *
 * SPDX-License-Identifier: LGPL-2.1-or-later
 *
 * Vectors are kept unit length and packed per namespace in segments (see
 * sqlite-chunks.h). A search is an exact scan of the namespace's segments
 * in rowid order with the SIMD kernel of sqlite-kernel.c, each segment
 * read in place from its page; a bounded heap keeps the best top_k, and
 * text and metadata are read for the winners only. Filters are evaluated
 * in C with stache_filter_matches(), and only for rows good enough to
 * enter the heap. Keyword search scores with the store's keyword index
 * (sqlite-keywords.c, BM25) and reads the text of the best rows only.
 */
#include <math.h>
#include <string.h>

#include <libpeas/peas.h>
#include <glib/gi18n-lib.h>
#include <stache-plugin.h>

#include "sqlite-ann.h"
#include "sqlite-chunks.h"
#include "sqlite-database.h"
#include "sqlite-documents.h"
#include "sqlite-hnsw.h"
#include "sqlite-kernel.h"
#include "sqlite-keywords.h"
#include "sqlite-scanfile.h"
#include "sqlite-vector-db.h"

/* The most words of a keyword query that are looked for. */
#define MAX_KEYWORDS 64

struct _StacheSqliteVectorDb
{
  StacheProvider  parent_instance;

  GMutex          open_mutex;
  SqliteDatabase *db;
  SqliteAnnSettings ann;
};

static void stache_sqlite_vector_db_iface_init    (StacheVectorDbProviderInterface *iface);
static void stache_sqlite_vector_db_initable_init (GInitableIface                  *iface);

G_DEFINE_DYNAMIC_TYPE_EXTENDED (StacheSqliteVectorDb, stache_sqlite_vector_db, STACHE_TYPE_PROVIDER,
                                G_TYPE_FLAG_FINAL,
                                G_IMPLEMENT_INTERFACE_DYNAMIC (STACHE_TYPE_VECTOR_DB_PROVIDER,
                                                               stache_sqlite_vector_db_iface_init)
                                G_IMPLEMENT_INTERFACE_DYNAMIC (G_TYPE_INITABLE,
                                                               stache_sqlite_vector_db_initable_init))

/* ---- shared helpers ---- */

static SqliteDatabase *
get_db (StacheSqliteVectorDb  *self,
        GCancellable          *cancellable,
        GError               **error)
{
  if (g_cancellable_set_error_if_cancelled (cancellable, error))
    return NULL;

  return sqlite_database_ensure (&self->db, &self->open_mutex, STACHE_PROVIDER (self),
                                 cancellable, error);
}

static const char *
namespace_or_default (const char *namespace_)
{
  return namespace_ != NULL ? namespace_ : SQLITE_DEFAULT_NAMESPACE;
}

static gboolean
check_cancelled (GCancellable  *cancellable,
                 guint64        row,
                 GError       **error)
{
  return row % SQLITE_CANCEL_CHECK_INTERVAL == 0 && row > 0 &&
         g_cancellable_set_error_if_cancelled (cancellable, error);
}

static StacheSearchResult *
result_from_row (sqlite3_stmt *stmt,
                 int           first,
                 double        score)
{
  /* Columns from @first: id, namespace, document_id, text, metadata */
  StacheSearchResult *result;
  g_autoptr(JsonObject) metadata = NULL;

  result = stache_search_result_new (sqlite_column_text (stmt, first),
                                     sqlite_column_text (stmt, first + 3), score);
  stache_search_result_set_namespace (result, sqlite_column_text (stmt, first + 1));
  stache_search_result_set_document_id (result, sqlite_column_text (stmt, first + 2));
  metadata = sqlite_json_from_text (sqlite_column_text (stmt, first + 4));
  if (metadata != NULL)
    stache_search_result_set_metadata (result, metadata);

  return result;
}

static gboolean
row_matches_filter (JsonObject *filter,
                    const char *document_id,
                    const char *metadata_text)
{
  g_autoptr(JsonObject) metadata = NULL;

  if (filter == NULL)
    return TRUE;

  metadata = sqlite_json_from_text (metadata_text);
  return stache_filter_matches (filter, document_id, metadata);
}

/* ---- writing ---- */

static gboolean
stache_sqlite_vector_db_insert (StacheVectorDbProvider  *provider,
                                const char              *namespace_,
                                GPtrArray               *chunks,
                                GArray                  *vectors,
                                GCancellable            *cancellable,
                                GError                 **error)
{
  StacheSqliteVectorDb *self = STACHE_SQLITE_VECTOR_DB (provider);
  g_autoptr(GMutexLocker) locker = NULL;
  SqliteDatabase *db;
  SqliteWrite *write;
  gboolean ok;

  if ((db = get_db (self, cancellable, error)) == NULL)
    return FALSE;
  if (chunks->len == 0)
    return TRUE;
  locker = g_mutex_locker_new (&db->mutex);

  if (!sqlite_database_begin (db, TRUE, error))
    return FALSE;

  write = sqlite_write_new (db);
  ok = sqlite_write_insert_chunks (write, namespace_or_default (namespace_), chunks,
                                   (const float *) (gpointer) vectors->data, vectors->len / chunks->len,
                                   cancellable, error) &&
       sqlite_write_finish (write, error);
  sqlite_write_free (write);

  return sqlite_database_end (db, ok, error);
}

static gboolean
stache_sqlite_vector_db_replace_document (StacheVectorDbProvider  *provider,
                                          const char              *namespace_,
                                          const char              *document_id,
                                          GPtrArray               *chunks,
                                          GArray                  *vectors,
                                          GCancellable            *cancellable,
                                          GError                 **error)
{
  StacheSqliteVectorDb *self = STACHE_SQLITE_VECTOR_DB (provider);
  g_autoptr(GMutexLocker) locker = NULL;
  const char *ns = namespace_or_default (namespace_);
  SqliteDatabase *db;
  SqliteWrite *write;
  gboolean ok;

  if ((db = get_db (self, cancellable, error)) == NULL)
    return FALSE;
  locker = g_mutex_locker_new (&db->mutex);

  if (!sqlite_database_begin (db, TRUE, error))
    return FALSE;

  write = sqlite_write_new (db);
  ok = sqlite_write_delete_document (write, ns, document_id, cancellable, error) &&
       (chunks->len == 0 ||
        sqlite_write_insert_chunks (write, ns, chunks, (const float *) (gpointer) vectors->data,
                                    vectors->len / chunks->len, cancellable, error)) &&
       sqlite_write_finish (write, error);
  sqlite_write_free (write);

  return sqlite_database_end (db, ok, error);
}

/* Documents, their chunks, vectors, keyword rows and document rows, all
 * in one transaction when @index keeps its rows in the same file: after a
 * crash each document is wholly old or wholly new. */
static gboolean
stache_sqlite_vector_db_write_documents (StacheVectorDbProvider       *provider,
                                         StacheDocumentIndexProvider  *index,
                                         GPtrArray                    *documents,
                                         GPtrArray                    *chunks,
                                         GArray                       *vectors,
                                         GCancellable                 *cancellable,
                                         GError                      **error)
{
  StacheSqliteVectorDb *self = STACHE_SQLITE_VECTOR_DB (provider);
  g_autoptr(GMutexLocker) locker = NULL;
  g_autoptr(GPtrArray) slice = g_ptr_array_new ();
  SqliteDatabase *db;
  SqliteWrite *write;
  gsize dims, first = 0;
  gboolean ok = TRUE;

  if ((db = get_db (self, cancellable, error)) == NULL)
    return FALSE;

  if (!STACHE_SQLITE_IS_DOCUMENTS (index) ||
      stache_sqlite_documents_get_database (STACHE_SQLITE_DOCUMENTS (index), cancellable, NULL) != db)
    {
      g_set_error (error, STACHE_ERROR, STACHE_ERROR_NOT_SUPPORTED,
                   _("The document index is not in the same SQLite file"));
      return FALSE;
    }

  dims = chunks->len > 0 ? vectors->len / chunks->len : 0;
  locker = g_mutex_locker_new (&db->mutex);

  if (!sqlite_database_begin (db, TRUE, error))
    return FALSE;

  write = sqlite_write_new (db);
  for (guint d = 0; ok && d < documents->len; d++)
    {
      StacheDocument *document = g_ptr_array_index (documents, d);
      const char *ns = namespace_or_default (stache_document_get_namespace (document));
      guint n = stache_document_get_chunk_count (document);

      g_ptr_array_set_size (slice, 0);
      for (guint i = 0; i < n; i++)
        g_ptr_array_add (slice, g_ptr_array_index (chunks, first + i));

      ok = sqlite_write_delete_document (write, ns, stache_document_get_id (document), cancellable, error) &&
           (n == 0 ||
            sqlite_write_insert_chunks (write, ns, slice,
                                        (const float *) (gpointer) vectors->data + first * dims, dims,
                                        cancellable, error)) &&
           sqlite_documents_write_row (db, document, error);
      first += n;
    }
  ok = ok && sqlite_write_finish (write, error);
  sqlite_write_free (write);

  return sqlite_database_end (db, ok, error);
}

/* ---- search ---- */

typedef struct
{
  float  score;
  gint64 rowid;
} Hit;

/* Higher scores first; equal scores in insertion (rowid) order. */
static inline gboolean
hit_better (const Hit *a,
            const Hit *b)
{
  return a->score > b->score || (a->score == b->score && a->rowid < b->rowid);
}

/* A min-heap of at most @capacity hits whose root is the worst kept. */
typedef struct
{
  Hit   *hits;
  gsize  len;
  gsize  allocated;
  gsize  capacity;
} HitHeap;

static void
heap_sift_down (HitHeap *heap,
                gsize    i)
{
  for (;;)
    {
      gsize l = 2 * i + 1, r = l + 1, worst = i;
      Hit tmp;

      if (l < heap->len && hit_better (&heap->hits[worst], &heap->hits[l]))
        worst = l;
      if (r < heap->len && hit_better (&heap->hits[worst], &heap->hits[r]))
        worst = r;
      if (worst == i)
        return;

      tmp = heap->hits[i];
      heap->hits[i] = heap->hits[worst];
      heap->hits[worst] = tmp;
      i = worst;
    }
}

/* Whether a hit with @score and @rowid would be kept. */
static inline gboolean
heap_would_take (const HitHeap *heap,
                 const Hit     *hit)
{
  return heap->len < heap->capacity || hit_better (hit, &heap->hits[0]);
}

static void
heap_push (HitHeap   *heap,
           const Hit *hit)
{
  gsize i;

  if (heap->len == heap->capacity)
    {
      heap->hits[0] = *hit;
      heap_sift_down (heap, 0);
      return;
    }

  if (heap->len == heap->allocated)
    {
      heap->allocated = MIN (heap->capacity, MAX (64, heap->allocated * 2));
      heap->hits = g_renew (Hit, heap->hits, heap->allocated);
    }

  i = heap->len++;
  heap->hits[i] = *hit;
  while (i > 0)
    {
      gsize parent = (i - 1) / 2;
      Hit tmp;

      if (!hit_better (&heap->hits[parent], &heap->hits[i]))
        break;
      tmp = heap->hits[i];
      heap->hits[i] = heap->hits[parent];
      heap->hits[parent] = tmp;
      i = parent;
    }
}

static int
compare_hits (gconstpointer a,
              gconstpointer b)
{
  if (hit_better (a, b))
    return -1;
  if (hit_better (b, a))
    return 1;
  return 0;
}

/* Whether the chunk at @rowid passes @filter. */
static gboolean
chunk_matches_filter (SqliteDatabase  *db,
                      JsonObject      *filter,
                      gint64           rowid,
                      gboolean        *out,
                      GError         **error)
{
  g_autoptr(sqlite3_stmt) stmt = NULL;

  stmt = sqlite_database_prepare (db, "SELECT document_id, metadata FROM chunks WHERE rowid = ?1", error);
  if (stmt == NULL)
    return FALSE;
  sqlite3_bind_int64 (stmt, 1, rowid);
  if (sqlite3_step (stmt) != SQLITE_ROW)
    return sqlite_database_set_error (db, error, _("searching"));

  *out = row_matches_filter (filter, sqlite_column_text (stmt, 0), sqlite_column_text (stmt, 1));
  return TRUE;
}

/* One vector search. Searches that arrive while another holds the
 * connection wait in a queue; whoever gets the connection next answers
 * every waiting search of the same namespace in one scan, reading each
 * segment once for all of them (sqlite_kernel_dot_multi()): under load a
 * scan serves many queries for the price of one. */
typedef struct
{
  const char               *namespace_;   /* NULL: every namespace */
  const SqliteAnnSettings  *ann;
  float                    *query;        /* unit length */
  gsize                     dims;
  JsonObject               *filter;
  HitHeap                   heap;
  gboolean                  done;
  GList                    *results;
  GError                   *error;
} SearchRequest;

/* At most this many searches share a scan (their queries and scores stay
 * in cache next to one segment). */
#define MAX_BATCH 16

static gboolean
requests_compatible (const SearchRequest *a,
                     const SearchRequest *b)
{
  return g_strcmp0 (a->namespace_, b->namespace_) == 0 && a->dims == b->dims &&
         memcmp (a->ann, b->ann, sizeof *a->ann) == 0;
}

/* Offers the hits of one segment to a request's heap. */
static gboolean
take_hits (SqliteDatabase  *db,
           SearchRequest   *request,
           const float     *scores,
           const guint8    *rowids,
           gsize            n,
           GError         **error)
{
  HitHeap *heap = &request->heap;

  for (gsize i = 0; i < n; i++)
    {
      Hit hit;

      hit.score = scores[i];
      if (heap->len == heap->capacity && hit.score < heap->hits[0].score)
        continue;
      memcpy (&hit.rowid, rowids + i * sizeof (gint64), sizeof (gint64));
      if (!heap_would_take (heap, &hit))
        continue;
      if (request->filter != NULL)
        {
          gboolean matches = FALSE;

          if (!chunk_matches_filter (db, request->filter, hit.rowid, &matches, error))
            return FALSE;
          if (!matches)
            continue;
        }
      heap_push (heap, &hit);
    }

  return TRUE;
}

/* Scores @n rows (@vectors, their chunks' @rowids) against the queries of
 * all @requests at once and offers the hits to each. */
static gboolean
score_block (SqliteDatabase  *db,
             SearchRequest  **requests,
             guint            n_requests,
             const float     *queries,
             const float     *vectors,
             const guint8    *rowids,
             gsize            n,
             gsize            dims,
             float           *scores,
             GError         **error)
{
  if (n_requests == 1)
    sqlite_kernel_dot (queries, vectors, n, dims, scores);
  else
    sqlite_kernel_dot_multi (queries, n_requests, vectors, n, dims, scores);

  for (guint q = 0; q < n_requests; q++)
    if (!take_hits (db, requests[q], scores + q * n, rowids, n, error))
      return FALSE;

  return TRUE;
}

/* Scans every segment of @space once for all @requests; runs inside a
 * read transaction. @queries holds their queries one after the other,
 * @scores has room for @n_requests × capacity floats. */
static gboolean
scan_space (SqliteDatabase     *db,
            const SqliteSpace  *space,
            SearchRequest     **requests,
            guint               n_requests,
            const float        *queries,
            float              *scores,
            GCancellable       *cancellable,
            GError            **error)
{
  g_autoptr(sqlite3_stmt) stmt = NULL;
  gsize row_bytes = space->dims * sizeof (float);
  guint64 n_segments = 0;
  SqliteScanView view;
  int rc;

  /* The mapped copy, read in place, when it is at this generation; the
   * first scan in this process reads it into a buffer instead, about a
   * mebibyte at a time (see SqliteScanView) */
  if (sqlite_scan_file_get (db, space, &view))
    {
      gsize per_read = MAX (1, (1 << 20) / ((gsize) space->capacity * view.dims * sizeof (float))) * space->capacity;
      g_autofree float *buffer = NULL;
      gint64 buffered = -1;   /* the first row in @buffer */

      if (view.fd >= 0)
        buffer = g_try_malloc (per_read * view.dims * sizeof (float));
      for (gint64 first = 0; first < view.count; first += space->capacity)
        {
          gsize n = (gsize) MIN ((gint64) space->capacity, view.count - first);
          const float *vectors = view.vectors + (gsize) first * view.dims;

          if (++n_segments % 64 == 0 && g_cancellable_set_error_if_cancelled (cancellable, error))
            return FALSE;
          if (buffer != NULL && (buffered < 0 || first >= buffered + (gint64) per_read))
            {
              /* (a file that cannot be read is read through the mapping) */
              if (sqlite_scan_view_read (&view, first, (gsize) MIN ((gint64) per_read, view.count - first),
                                         buffer))
                buffered = first;
              else
                g_clear_pointer (&buffer, g_free);
            }
          if (buffer != NULL)
            vectors = buffer + (gsize) (first - buffered) * view.dims;

          if (!score_block (db, requests, n_requests, queries, vectors,
                            (const guint8 *) (view.rowids + first), n, view.dims, scores, error))
            return FALSE;
        }
      return TRUE;
    }

  stmt = sqlite_space_segments (db, space, error);
  if (stmt == NULL)
    return FALSE;

  while ((rc = sqlite3_step (stmt)) == SQLITE_ROW)
    {
      const guint8 *rowids = sqlite3_column_blob (stmt, 0);
      gsize n = (gsize) sqlite3_column_bytes (stmt, 0) / sizeof (gint64);
      const float *vectors;

      if (++n_segments % 64 == 0 && g_cancellable_set_error_if_cancelled (cancellable, error))
        return FALSE;

      /* Each column keeps its own buffer until the next step: in place in
       * the page when the row fits one, else assembled by SQLite. */
      vectors = sqlite3_column_blob (stmt, 1);
      if (n == 0 || n > space->capacity || (gsize) sqlite3_column_bytes (stmt, 1) != n * row_bytes ||
          vectors == NULL || rowids == NULL)
        {
          g_set_error (error, STACHE_ERROR, STACHE_ERROR_FAILED,
                       _("A vector segment of namespace “%s” in “%s” is damaged; run “stache check”"),
                       space->namespace_, db->path);
          return FALSE;
        }

      if (!score_block (db, requests, n_requests, queries, vectors, rowids, n, space->dims, scores, error))
        return FALSE;
    }

  if (rc != SQLITE_DONE)
    return sqlite_database_set_error (db, error, _("searching"));

  /* Next time, the mapped copy. */
  g_clear_pointer (&stmt, sqlite_statement_release);
  sqlite_scan_file_refresh (db, space);

  return TRUE;
}

/* The id of a chunk of @space, for messages. */
static char *
space_first_chunk_id (SqliteDatabase     *db,
                      const SqliteSpace  *space)
{
  g_autoptr(sqlite3_stmt) segment = NULL;
  g_autoptr(sqlite3_stmt) chunk = NULL;
  gint64 rowid;

  segment = sqlite_database_prepare (db, "SELECT rowids FROM vector_segments WHERE id = ?1", NULL);
  if (segment == NULL)
    return NULL;
  sqlite3_bind_int64 (segment, 1, SQLITE_SEGMENT_FIRST (space->id));
  if (sqlite3_step (segment) != SQLITE_ROW || sqlite3_column_bytes (segment, 0) < (int) sizeof rowid)
    return NULL;
  memcpy (&rowid, sqlite3_column_blob (segment, 0), sizeof rowid);

  chunk = sqlite_database_prepare (db, "SELECT id FROM chunks WHERE rowid = ?1", NULL);
  if (chunk == NULL)
    return NULL;
  sqlite3_bind_int64 (chunk, 1, rowid);
  if (sqlite3_step (chunk) != SQLITE_ROW)
    return NULL;

  return g_strdup (sqlite_column_text (chunk, 0));
}

typedef struct
{
  SqliteDatabase *db;
  JsonObject     *filter;
  GError         *error;
} FilterCheck;

static gboolean
ann_accepts (gint64   rowid,
             gpointer user_data)
{
  FilterCheck *check = user_data;
  gboolean matches = FALSE;

  if (check->error != NULL)
    return FALSE;
  if (!chunk_matches_filter (check->db, check->filter, rowid, &matches, &check->error))
    return FALSE;

  return matches;
}

/* The best chunks of @space through its ANN index, into @heap. FALSE
 * without an error when the index is not at the generation this read
 * transaction sees: the caller scans instead. */
static gboolean
search_space_ann (SqliteDatabase           *db,
                  const SqliteAnnSettings  *settings,
                  const SqliteSpace        *space,
                  const float              *query,
                  JsonObject               *filter,
                  HitHeap                  *heap,
                  GError                  **error)
{
  g_autofree gint64 *rowids = g_new (gint64, heap->capacity);
  g_autofree float *scores = g_new (float, heap->capacity);
  FilterCheck check = { db, filter, NULL };
  gssize n;

  n = sqlite_ann_search (db, settings, space, query, heap->capacity, filter != NULL ? ann_accepts : NULL,
                         &check, rowids, scores, error);
  if (check.error != NULL)
    {
      g_propagate_error (error, check.error);
      return FALSE;
    }
  if (n < 0)
    return FALSE;

  for (gssize i = 0; i < n; i++)
    {
      Hit hit = { scores[i], rowids[i] };

      if (heap_would_take (heap, &hit))
        heap_push (heap, &hit);
    }

  return TRUE;
}

/* Brings the ANN indexes of the large spaces of @namespace_ up to date,
 * before the search's read transaction. */
static gboolean
prepare_ann (SqliteDatabase           *db,
             const SqliteAnnSettings  *ann,
             const char               *namespace_,
             GCancellable             *cancellable,
             GError                  **error)
{
  g_autoptr(GPtrArray) spaces = NULL;

  if (ann->threshold == 0)
    return TRUE;

  spaces = sqlite_space_list (db, namespace_, error);
  if (spaces == NULL)
    return FALSE;

  for (guint i = 0; i < spaces->len; i++)
    {
      SqliteSpace *space = g_ptr_array_index (spaces, i);

      if (sqlite_ann_applies (ann, space) &&
          !sqlite_ann_prepare (db, ann, space->id, cancellable, error))
        return FALSE;
    }

  return TRUE;
}

/* Reads what a result shows for each hit, best first. */
static GList *
fetch_hits (SqliteDatabase  *db,
            Hit             *hits,
            gsize            n_hits,
            GError         **error)
{
  g_autoptr(sqlite3_stmt) stmt = NULL;
  GList *results = NULL;

  stmt = sqlite_database_prepare (db, "SELECT id, namespace, document_id, text, metadata "
                                      "FROM chunks WHERE rowid = ?1", error);
  if (stmt == NULL)
    return NULL;

  for (gsize i = n_hits; i > 0; i--)
    {
      int rc;

      sqlite3_reset (stmt);
      sqlite3_bind_int64 (stmt, 1, hits[i - 1].rowid);
      rc = sqlite3_step (stmt);
      if (rc == SQLITE_ROW)
        {
          results = g_list_prepend (results, result_from_row (stmt, 0, hits[i - 1].score));
        }
      else if (rc != SQLITE_DONE)
        {
          g_list_free_full (results, g_object_unref);
          sqlite_database_set_error (db, error, _("reading search results"));
          return NULL;
        }
    }

  return results;
}

/* Answers @requests (compatible with each other) in one read
 * transaction: the winners cannot vanish between the scan and the reading
 * of their text. */
static void
run_searches (SqliteDatabase  *db,
              SearchRequest  **requests,
              guint            n_requests,
              GCancellable    *cancellable)
{
  const SearchRequest *first = requests[0];
  g_autoptr(GPtrArray) spaces = NULL;
  g_autofree float *queries = NULL;
  g_autofree float *scores = NULL;
  GError *error = NULL;
  guint capacity = 1;

  if (!sqlite_database_begin (db, FALSE, &error))
    goto out;

  spaces = sqlite_space_list (db, first->namespace_, &error);
  if (spaces == NULL)
    goto out;

  for (guint i = 0; i < spaces->len; i++)
    {
      SqliteSpace *space = g_ptr_array_index (spaces, i);

      if (space->dims != first->dims)
        {
          g_autofree char *example = space_first_chunk_id (db, space);

          g_set_error (&error, STACHE_ERROR, STACHE_ERROR_INVALID_ARGUMENT,
                       _("The query vector has %lu dimensions but chunk “%s” in namespace “%s” "
                         "has %lu (as have %ld chunks there); vectors from different embedding "
                         "models cannot be compared (database “%s”)"),
                       (gulong) first->dims, example != NULL ? example : "?", space->namespace_,
                       (gulong) space->dims, (long) space->count, db->path);
          goto out;
        }
      capacity = MAX (capacity, space->capacity);
    }

  queries = g_new (float, n_requests * first->dims);
  for (guint q = 0; q < n_requests; q++)
    memcpy (queries + q * first->dims, requests[q]->query, first->dims * sizeof (float));
  scores = g_new (float, (gsize) n_requests * capacity);

  for (guint i = 0; i < spaces->len; i++)
    {
      SqliteSpace *space = g_ptr_array_index (spaces, i);

      /* A large space goes through its ANN index, query by query; when
       * the index lags behind this transaction (a writer committed since
       * it was prepared), every query of the batch scans instead. */
      if (sqlite_ann_applies (first->ann, space))
        {
          gboolean usable = TRUE;

          for (guint q = 0; q < n_requests && usable; q++)
            {
              if (search_space_ann (db, first->ann, space, requests[q]->query, requests[q]->filter,
                                    &requests[q]->heap, &error))
                continue;
              if (error != NULL)
                goto out;
              usable = FALSE;
            }
          /* Whether the index is usable is the same for every query: only
           * the first can find it is not, before any of this space's hits
           * was taken. */
          if (usable)
            continue;
        }

      if (!scan_space (db, space, requests, n_requests, queries, scores, cancellable, &error))
        goto out;
    }

  for (guint q = 0; q < n_requests; q++)
    {
      SearchRequest *request = requests[q];

      if (request->heap.len > 1)
        qsort (request->heap.hits, request->heap.len, sizeof (Hit), compare_hits);
      request->results = fetch_hits (db, request->heap.hits, request->heap.len, &error);
      if (error != NULL)
        goto out;
    }

out:
  if (!sqlite3_get_autocommit (db->handle))
    sqlite_database_end (db, error == NULL, error == NULL ? &error : NULL);

  for (guint q = 0; q < n_requests; q++)
    {
      SearchRequest *request = requests[q];

      if (error != NULL)
        {
          g_list_free_full (g_steal_pointer (&request->results), g_object_unref);
          request->error = g_error_copy (error);
        }
      request->done = TRUE;
    }
  g_clear_error (&error);
}

static GList *
stache_sqlite_vector_db_search (StacheVectorDbProvider  *provider,
                                const char              *namespace_,
                                GArray                  *query,
                                guint                    top_k,
                                JsonObject              *filter,
                                GCancellable            *cancellable,
                                GError                 **error)
{
  StacheSqliteVectorDb *self = STACHE_SQLITE_VECTOR_DB (provider);
  g_autofree float *unit = NULL;
  SearchRequest request = { 0 };
  SqliteDatabase *db;

  if ((db = get_db (self, cancellable, error)) == NULL)
    return NULL;
  if (top_k == 0)
    return NULL;

  unit = g_memdup2 (query->data, query->len * sizeof (float));
  sqlite_kernel_normalize (unit, query->len);
  request.namespace_ = namespace_;
  request.ann = &self->ann;
  request.query = unit;
  request.dims = query->len;
  request.filter = filter;
  request.heap.capacity = top_k;

  g_mutex_lock (&db->queue_mutex);
  g_ptr_array_add (db->searches, &request);
  g_mutex_unlock (&db->queue_mutex);

  /* Whoever holds the connection may answer this search while it waits
   * here: the request stays valid, since this thread cannot return before
   * it gets the connection in turn. */
  g_mutex_lock (&db->mutex);
  if (!request.done)
    {
      SearchRequest *batch[MAX_BATCH];
      guint n = 0;
      gboolean prepared;

      prepared = prepare_ann (db, &self->ann, namespace_, cancellable, &request.error);

      g_mutex_lock (&db->queue_mutex);
      g_ptr_array_remove (db->searches, &request);
      batch[n++] = &request;
      for (guint i = 0; prepared && i < db->searches->len && n < MAX_BATCH; )
        {
          SearchRequest *other = g_ptr_array_index (db->searches, i);

          if (requests_compatible (&request, other))
            {
              batch[n++] = other;
              g_ptr_array_remove_index (db->searches, i);
            }
          else
            {
              i++;
            }
        }
      g_mutex_unlock (&db->queue_mutex);

      /* Another caller's search is not stopped by this one's
       * cancellable: it is checked after the batch. */
      if (prepared)
        run_searches (db, batch, n, n == 1 ? cancellable : NULL);
      request.done = TRUE;
    }
  g_mutex_unlock (&db->mutex);

  g_free (request.heap.hits);
  if (request.error == NULL && g_cancellable_set_error_if_cancelled (cancellable, &request.error))
    g_list_free_full (g_steal_pointer (&request.results), g_object_unref);
  if (request.error != NULL)
    {
      g_list_free_full (g_steal_pointer (&request.results), g_object_unref);
      g_propagate_error (error, request.error);
      return NULL;
    }

  return request.results;
}

/* ---- keyword search ---- */

static void
free_results (GList *results)
{
  g_list_free_full (results, g_object_unref);
}

/* How many chunks the index ranks first; more are asked for when the
 * namespace or the filter turns too many of them down. */
#define KEYWORD_FIRST_ROUND 64

/* The best @top_k chunks of @query's scores, in @namespace_ (any when
 * NULL) and passing @filter, best first. The index scores every chunk
 * holding a word, touching no chunk row; the text is read for the best
 * only. Rows of other namespaces, or that the filter turns down, are
 * skipped, and a next round takes more. */
static gboolean
keyword_rank (SqliteDatabase      *db,
              SqliteKeywordQuery  *query,
              gboolean             documents,
              const char          *namespace_,
              guint                top_k,
              JsonObject          *filter,
              GList              **out_results,
              GCancellable        *cancellable,
              GError             **error)
{
  GList *results = NULL;
  guint n_results = 0;
  gsize limit, seen = 0, n_hits;

  limit = MAX ((gsize) top_k, namespace_ != NULL || filter != NULL ? KEYWORD_FIRST_ROUND : 0);
  for (;;)
    {
      const SqliteKeywordHit *hits = documents ? sqlite_keyword_query_top_documents (query, limit, &n_hits)
                                               : sqlite_keyword_query_top (query, limit, &n_hits);

      for (gsize i = seen; i < n_hits && n_results < top_k; i++)
        {
          g_autoptr(sqlite3_stmt) row = NULL;

          if (check_cancelled (cancellable, i + 1, error))
            goto failed;

          row = sqlite_database_prepare (db, "SELECT id, namespace, document_id, text, metadata "
                                             "FROM chunks WHERE rowid = ?1", error);
          if (row == NULL)
            goto failed;
          sqlite3_bind_int64 (row, 1, hits[i].rowid);
          switch (sqlite3_step (row))
            {
            case SQLITE_ROW:
              break;
            case SQLITE_DONE:
              g_set_error (error, STACHE_ERROR, STACHE_ERROR_FAILED,
                           _("The keyword index of the Stache database “%s” is damaged; run “stache check”"),
                           db->path);
              goto failed;
            default:
              sqlite_database_set_error (db, error, _("searching for words"));
              goto failed;
            }

          if (namespace_ != NULL && g_strcmp0 (sqlite_column_text (row, 1), namespace_) != 0)
            continue;
          if (!row_matches_filter (filter, sqlite_column_text (row, 2), sqlite_column_text (row, 4)))
            continue;

          results = g_list_prepend (results, result_from_row (row, 0, hits[i].score));
          n_results++;
        }

      /* Done when enough were found or there are no more */
      if (n_results >= top_k || n_hits < limit)
        break;
      seen = n_hits;
      limit *= 4;
    }

  *out_results = g_list_reverse (results);
  return TRUE;

failed:
  g_list_free_full (results, g_object_unref);
  return FALSE;
}

/* The best @top_k chunks for the words of @query, or with @documents the
 * best chunk of each of the best @top_k documents */
static GList *
keyword_search (StacheVectorDbProvider  *provider,
                gboolean                 documents,
                const char              *namespace_,
                const char              *query,
                guint                    top_k,
                JsonObject              *filter,
                GCancellable            *cancellable,
                GError                 **error)
{
  StacheSqliteVectorDb *self = STACHE_SQLITE_VECTOR_DB (provider);
  g_autoptr(GMutexLocker) locker = NULL;
  g_autoptr(GPtrArray) words = NULL;
  g_autofree gboolean *skip = NULL;
  g_autofree gint64 *hits = NULL;
  GError *local_error = NULL;
  GList *results = NULL;
  SqliteDatabase *db;
  gint64 n_chunks = 0;
  guint n_skipped = 0;

  if ((db = get_db (self, cancellable, error)) == NULL)
    return NULL;

  words = sqlite_keywords_split (query, db->stemmer);
  if (words->len > MAX_KEYWORDS)
    g_ptr_array_set_size (words, MAX_KEYWORDS);
  if (words->len == 0 || top_k == 0)
    return NULL;

  locker = g_mutex_locker_new (&db->mutex);
  if (!sqlite_database_begin (db, FALSE, error))
    return NULL;
  if (!sqlite_database_check_language (db, &local_error))
    {
      sqlite_database_end (db, FALSE, NULL);
      g_propagate_error (error, local_error);
      return NULL;
    }

  /* A word in at least half the chunks gets an idf of 1e-6 (BM25's
   * formula turns negative there): leaving it out changes no score by more
   * than a few millionths, while it can make every chunk a candidate. Such
   * words are left out first; only when the others find too few chunks do
   * they come back. */
  skip = g_new0 (gboolean, words->len);
  hits = g_new0 (gint64, words->len);
  if (words->len > 1 && sqlite_keywords_count (db, words, hits, &n_chunks, &local_error))
    for (guint i = 0; i < words->len; i++)
      if (hits[i] > 0 && 2 * hits[i] >= n_chunks)
        {
          skip[i] = TRUE;
          n_skipped++;
        }
  if (local_error == NULL && n_skipped > 0 && n_skipped < words->len)
    {
      g_autoptr(SqliteKeywordQuery) rare = sqlite_keyword_query_new (db, words, skip, documents, cancellable,
                                                                     &local_error);

      if (rare != NULL &&
          keyword_rank (db, rare, documents, namespace_, top_k, filter, &results, cancellable, &local_error) &&
          g_list_length (results) < top_k)
        g_clear_pointer (&results, free_results);
    }

  if (local_error == NULL && results == NULL)
    {
      g_autoptr(SqliteKeywordQuery) all = sqlite_keyword_query_new (db, words, NULL, documents, cancellable,
                                                                    &local_error);

      if (all != NULL)
        keyword_rank (db, all, documents, namespace_, top_k, filter, &results, cancellable, &local_error);
    }

  if (!sqlite_database_end (db, local_error == NULL, local_error == NULL ? &local_error : NULL) ||
      local_error != NULL)
    {
      g_list_free_full (results, g_object_unref);
      g_propagate_error (error, local_error);
      return NULL;
    }

  return results;
}

static GList *
stache_sqlite_vector_db_keyword_search (StacheVectorDbProvider  *provider,
                                        const char              *namespace_,
                                        const char              *query,
                                        guint                    top_k,
                                        JsonObject              *filter,
                                        GCancellable            *cancellable,
                                        GError                 **error)
{
  return keyword_search (provider, FALSE, namespace_, query, top_k, filter, cancellable, error);
}

static GList *
stache_sqlite_vector_db_keyword_search_documents (StacheVectorDbProvider  *provider,
                                                  const char              *namespace_,
                                                  const char              *query,
                                                  guint                    top_k,
                                                  JsonObject              *filter,
                                                  GCancellable            *cancellable,
                                                  GError                 **error)
{
  return keyword_search (provider, TRUE, namespace_, query, top_k, filter, cancellable, error);
}

/* ---- delete / count ---- */

/* Collects the rowids of the rows @stmt yields (columns: rowid, id,
 * document_id, metadata) that are in @ids (when given) and match
 * @filter. */
static gboolean
collect_rows (SqliteDatabase  *db,
              sqlite3_stmt    *stmt,
              GHashTable      *ids,
              JsonObject      *filter,
              GArray          *rowids,
              guint64         *n_rows,
              GCancellable    *cancellable,
              GError         **error)
{
  int rc;

  while ((rc = sqlite3_step (stmt)) == SQLITE_ROW)
    {
      gint64 rowid;

      if (check_cancelled (cancellable, ++*n_rows, error))
        return FALSE;

      if (ids != NULL && !g_hash_table_contains (ids, sqlite_column_text (stmt, 1)))
        continue;
      if (!row_matches_filter (filter, sqlite_column_text (stmt, 2), sqlite_column_text (stmt, 3)))
        continue;

      rowid = sqlite3_column_int64 (stmt, 0);
      g_array_append_val (rowids, rowid);
    }

  if (rc != SQLITE_DONE)
    return sqlite_database_set_error (db, error, _("finding the chunks to delete"));

  return TRUE;
}

/* The document id when @filter is exactly {"document_id": "…"}, which an
 * index answers. */
static const char *
filter_single_document (JsonObject *filter)
{
  JsonNode *node;

  if (filter == NULL || json_object_get_size (filter) != 1)
    return NULL;

  node = json_object_get_member (filter, "document_id");
  if (node == NULL || !JSON_NODE_HOLDS_VALUE (node) || json_node_get_value_type (node) != G_TYPE_STRING)
    return NULL;

  return json_node_get_string (node);
}

static gboolean
find_rows_to_delete (SqliteDatabase      *db,
                     const char          *namespace_,
                     const char * const  *ids,
                     JsonObject          *filter,
                     GArray              *rowids,
                     GCancellable        *cancellable,
                     GError             **error)
{
  g_autoptr(sqlite3_stmt) stmt = NULL;
  const char *document_id = filter_single_document (filter);
  guint64 n_rows = 0;

  if (ids != NULL && namespace_ != NULL)
    {
      /* One indexed lookup per id. */
      stmt = sqlite_database_prepare (db, "SELECT rowid, id, document_id, metadata FROM chunks "
                                          "WHERE namespace = ?1 AND id = ?2", error);
      if (stmt == NULL)
        return FALSE;

      for (guint i = 0; ids[i] != NULL; i++)
        {
          sqlite3_reset (stmt);
          sqlite3_bind_text (stmt, 1, namespace_, -1, SQLITE_STATIC);
          sqlite3_bind_text (stmt, 2, ids[i], -1, SQLITE_STATIC);
          if (!collect_rows (db, stmt, NULL, filter, rowids, &n_rows, cancellable, error))
            return FALSE;
        }

      return TRUE;
    }

  if (ids == NULL && document_id != NULL)
    {
      stmt = sqlite_database_prepare (db, namespace_ != NULL
                                            ? "SELECT rowid, id, document_id, metadata FROM chunks "
                                              "WHERE namespace = ?1 AND document_id = ?2"
                                            : "SELECT rowid, id, document_id, metadata FROM chunks "
                                              "WHERE document_id = ?2",
                                      error);
      if (stmt == NULL)
        return FALSE;
      if (namespace_ != NULL)
        sqlite3_bind_text (stmt, 1, namespace_, -1, SQLITE_STATIC);
      sqlite3_bind_text (stmt, 2, document_id, -1, SQLITE_STATIC);

      return collect_rows (db, stmt, NULL, NULL, rowids, &n_rows, cancellable, error);
    }

  /* A scan of the namespace (or of everything), with the ids in a set. */
  {
    g_autoptr(GHashTable) id_set = NULL;

    if (ids != NULL)
      {
        id_set = g_hash_table_new (g_str_hash, g_str_equal);
        for (guint i = 0; ids[i] != NULL; i++)
          g_hash_table_add (id_set, (gpointer) ids[i]);
      }

    stmt = sqlite_database_prepare (db, namespace_ != NULL
                                          ? "SELECT rowid, id, document_id, metadata FROM chunks "
                                            "WHERE namespace = ?1"
                                          : "SELECT rowid, id, document_id, metadata FROM chunks",
                                    error);
    if (stmt == NULL)
      return FALSE;
    if (namespace_ != NULL)
      sqlite3_bind_text (stmt, 1, namespace_, -1, SQLITE_STATIC);

    return collect_rows (db, stmt, id_set, filter, rowids, &n_rows, cancellable, error);
  }
}

static int
compare_rowids (gconstpointer a,
                gconstpointer b)
{
  gint64 x = *(const gint64 *) a, y = *(const gint64 *) b;

  return x < y ? -1 : x > y;
}

static gint64
stache_sqlite_vector_db_delete_chunks (StacheVectorDbProvider  *provider,
                                       const char              *namespace_,
                                       const char * const      *ids,
                                       JsonObject              *filter,
                                       GCancellable            *cancellable,
                                       GError                 **error)
{
  StacheSqliteVectorDb *self = STACHE_SQLITE_VECTOR_DB (provider);
  g_autoptr(GMutexLocker) locker = NULL;
  g_autoptr(GArray) rowids = g_array_new (FALSE, FALSE, sizeof (gint64));
  SqliteDatabase *db;
  gint64 deleted = -1;

  if ((db = get_db (self, cancellable, error)) == NULL)
    return -1;
  locker = g_mutex_locker_new (&db->mutex);

  if (!sqlite_database_begin (db, TRUE, error))
    return -1;

  if (find_rows_to_delete (db, namespace_, ids, filter, rowids, cancellable, error))
    {
      SqliteWrite *write = sqlite_write_new (db);

      /* An id given twice was collected twice: delete each row once. */
      g_array_sort (rowids, compare_rowids);
      for (guint i = 1; i < rowids->len; i++)
        if (g_array_index (rowids, gint64, i) == g_array_index (rowids, gint64, i - 1))
          g_array_remove_index (rowids, i--);

      if (sqlite_write_delete_rowids (write, (const gint64 *) (gpointer) rowids->data, rowids->len,
                                      cancellable, error) &&
          sqlite_write_finish (write, error))
        deleted = rowids->len;
      sqlite_write_free (write);
    }

  if (!sqlite_database_end (db, deleted >= 0, error))
    return -1;

  return deleted;
}

static gint64
stache_sqlite_vector_db_count (StacheVectorDbProvider  *provider,
                               const char              *namespace_,
                               GCancellable            *cancellable,
                               GError                 **error)
{
  StacheSqliteVectorDb *self = STACHE_SQLITE_VECTOR_DB (provider);
  g_autoptr(GMutexLocker) locker = NULL;
  g_autoptr(sqlite3_stmt) stmt = NULL;
  SqliteDatabase *db;

  if ((db = get_db (self, cancellable, error)) == NULL)
    return -1;
  locker = g_mutex_locker_new (&db->mutex);

  /* Every chunk has one vector: the spaces know how many there are. */
  stmt = sqlite_database_prepare (db, namespace_ != NULL
                                        ? "SELECT coalesce (sum (count), 0) FROM vector_spaces WHERE namespace = ?1"
                                        : "SELECT coalesce (sum (count), 0) FROM vector_spaces",
                                  error);
  if (stmt == NULL)
    return -1;
  if (namespace_ != NULL)
    sqlite3_bind_text (stmt, 1, namespace_, -1, SQLITE_STATIC);

  if (sqlite3_step (stmt) != SQLITE_ROW)
    {
      sqlite_database_set_error (db, error, _("counting chunks"));
      return -1;
    }

  return sqlite3_column_int64 (stmt, 0);
}

static char **
stache_sqlite_vector_db_get_capabilities (StacheVectorDbProvider *provider)
{
  const char * const caps[] = {
    "vector_search", "keyword_search", "document_keyword_search", "metadata_filter", "batch_insert", "namespaces",
    "ann", NULL
  };

  return g_strdupv ((char **) caps);
}

static gboolean
stache_sqlite_vector_db_verify (StacheVectorDbProvider  *provider,
                                GCancellable            *cancellable,
                                GError                 **error)
{
  SqliteDatabase *db = get_db (STACHE_SQLITE_VECTOR_DB (provider), cancellable, error);

  return db != NULL && sqlite_database_verify (db, cancellable, error);
}

/* ---- GInitable: the file is opened (and checked) when created ---- */

/* Exact scans stay the default below this many vectors in a namespace: a
 * scan of 500k vectors of 384 floats takes tens of milliseconds, about
 * what a fresh process needs to load an index of that size. */
#define DEFAULT_ANN_THRESHOLD 500000

static gboolean
stache_sqlite_vector_db_initable_init_impl (GInitable     *initable,
                                            GCancellable  *cancellable,
                                            GError       **error)
{
  StacheSqliteVectorDb *self = STACHE_SQLITE_VECTOR_DB (initable);
  StacheSettings *settings = stache_provider_get_settings (STACHE_PROVIDER (self));
  gint64 threshold, m, ef_construction, ef_search, min_speedup;
  g_autofree char *build = NULL;

  if (!stache_settings_get_int_range (settings, "sqlite_ann_threshold", DEFAULT_ANN_THRESHOLD, 0,
                                      G_MAXUINT32, &threshold, error) ||
      !stache_settings_get_int_range (settings, "sqlite_hnsw_m", SQLITE_HNSW_DEFAULT_M, 2, 128, &m, error) ||
      !stache_settings_get_int_range (settings, "sqlite_hnsw_ef_construction",
                                      SQLITE_HNSW_DEFAULT_EF_CONSTRUCTION, 10, 4096, &ef_construction, error) ||
      !stache_settings_get_int_range (settings, "sqlite_hnsw_ef_search", SQLITE_HNSW_DEFAULT_EF_SEARCH,
                                      1, 100000, &ef_search, error) ||
      !stache_settings_get_int_range (settings, "sqlite_ann_min_speedup", 4, 0, 1000, &min_speedup, error))
    return FALSE;

  build = stache_settings_get_string (settings, "sqlite_ann_build", "background");
  if (!g_str_equal (build, "background") && !g_str_equal (build, "foreground"))
    {
      g_set_error (error, STACHE_ERROR, STACHE_ERROR_INVALID_SETTING,
                   _("Setting “%s” must be “background” or “foreground”, not “%s”"), "sqlite_ann_build", build);
      return FALSE;
    }

  self->ann.background = g_str_equal (build, "background");
  self->ann.threshold = threshold;
  self->ann.m = (guint) m;
  self->ann.ef_construction = (guint) ef_construction;
  self->ann.ef_search = (guint) ef_search;
  self->ann.min_speedup = (guint) min_speedup;
  /* A breadth the user chose is used as it is; otherwise the index
   * measures the breadth it needs (sqlite-ann.c). */
  self->ann.ef_search_set = stache_settings_get_source (settings, "sqlite_hnsw_ef_search") >
                            STACHE_SETTING_SOURCE_DEFAULT;

  return get_db (self, cancellable, error) != NULL;
}

static void
stache_sqlite_vector_db_initable_init (GInitableIface *iface)
{
  iface->init = stache_sqlite_vector_db_initable_init_impl;
}

/* ---- GObject ---- */

static void
stache_sqlite_vector_db_finalize (GObject *object)
{
  StacheSqliteVectorDb *self = STACHE_SQLITE_VECTOR_DB (object);

  g_clear_pointer (&self->db, sqlite_database_release);
  g_mutex_clear (&self->open_mutex);

  G_OBJECT_CLASS (stache_sqlite_vector_db_parent_class)->finalize (object);
}

static void
stache_sqlite_vector_db_class_init (StacheSqliteVectorDbClass *klass)
{
  G_OBJECT_CLASS (klass)->finalize = stache_sqlite_vector_db_finalize;
}

static void
stache_sqlite_vector_db_class_finalize (StacheSqliteVectorDbClass *klass)
{
}

static void
stache_sqlite_vector_db_init (StacheSqliteVectorDb *self)
{
  g_mutex_init (&self->open_mutex);
}

static void
stache_sqlite_vector_db_iface_init (StacheVectorDbProviderInterface *iface)
{
  iface->insert = stache_sqlite_vector_db_insert;
  iface->search = stache_sqlite_vector_db_search;
  iface->delete_chunks = stache_sqlite_vector_db_delete_chunks;
  iface->count = stache_sqlite_vector_db_count;
  iface->get_capabilities = stache_sqlite_vector_db_get_capabilities;
  iface->keyword_search = stache_sqlite_vector_db_keyword_search;
  iface->keyword_search_documents = stache_sqlite_vector_db_keyword_search_documents;
  iface->replace_document = stache_sqlite_vector_db_replace_document;
  iface->write_documents = stache_sqlite_vector_db_write_documents;
  iface->verify = stache_sqlite_vector_db_verify;
}

void
stache_sqlite_vector_db_register (GTypeModule *module)
{
  stache_sqlite_vector_db_register_type (module);
}

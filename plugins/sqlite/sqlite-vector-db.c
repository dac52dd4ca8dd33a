/* sqlite-vector-db.c: the `sqlite` vector database provider
 *
 * SPDX-License-Identifier: LGPL-2.1-or-later
 *
 * Vectors are float32 BLOBs beside their chunk, with the vector's norm.
 * A search is an exact scan: one statement reads (rowid, dims, norm,
 * vector) of every candidate row, cosine similarity is computed in C and
 * a bounded heap keeps the best top_k; text and metadata are read for the
 * winners only. Filters are evaluated in C with stache_filter_matches(),
 * and in a search only for rows good enough to enter the heap. Keyword
 * search uses the FTS5 table chunks_fts (BM25), which triggers keep in
 * step with chunks.
 */
#include <math.h>
#include <string.h>

#include <libpeas/peas.h>
#include <glib/gi18n-lib.h>
#include <stache.h>

#include "sqlite-database.h"
#include "sqlite-vector-db.h"

/* The most words of a keyword query that are looked for. */
#define MAX_KEYWORDS 64

struct _StacheSqliteVectorDb
{
  StacheProvider  parent_instance;

  GMutex          open_mutex;
  SqliteDatabase *db;
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

static double
vector_norm (const float *v,
             gsize        n)
{
  double sum = 0;

  for (gsize i = 0; i < n; i++)
    sum += (double) v[i] * v[i];

  return sqrt (sum);
}

/* Four independent sums, in double: the additions overlap (and the
 * compiler may use vector registers) without giving up precision. */
static double
dot_product (const float *restrict a,
             const float *restrict b,
             gsize                 n)
{
  double s0 = 0, s1 = 0, s2 = 0, s3 = 0;
  gsize i = 0;

  for (; i + 4 <= n; i += 4)
    {
      s0 += (double) a[i] * b[i];
      s1 += (double) a[i + 1] * b[i + 1];
      s2 += (double) a[i + 2] * b[i + 2];
      s3 += (double) a[i + 3] * b[i + 3];
    }
  for (; i < n; i++)
    s0 += (double) a[i] * b[i];

  return (s0 + s1) + (s2 + s3);
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

/* Stores @chunks inside the caller's transaction. */
static gboolean
store_chunks (SqliteDatabase  *db,
              const char      *namespace_,
              GPtrArray       *chunks,
              GArray          *vectors,
              GCancellable    *cancellable,
              GError         **error)
{
  static const char sql[] =
    "INSERT INTO chunks (namespace, id, dims, norm, vector, document_id, position, text, metadata) "
    "VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9) "
    "ON CONFLICT (namespace, id) DO UPDATE SET dims = excluded.dims, norm = excluded.norm, "
    "vector = excluded.vector, document_id = excluded.document_id, "
    "position = excluded.position, text = excluded.text, metadata = excluded.metadata";
  g_autoptr(sqlite3_stmt) stmt = NULL;
  const float *values;
  gsize dims;

  if (chunks->len == 0)
    return TRUE;

  values = (const float *) (gpointer) vectors->data;
  dims = vectors->len / chunks->len;

  stmt = sqlite_database_prepare (db, sql, error);
  if (stmt == NULL)
    return FALSE;

  for (guint i = 0; i < chunks->len; i++)
    {
      StacheChunk *chunk = g_ptr_array_index (chunks, i);
      const float *row = values + (gsize) i * dims;
      const char *text = stache_chunk_get_text (chunk);
      g_autofree char *metadata = sqlite_json_to_text (stache_chunk_get_metadata (chunk));

      if (check_cancelled (cancellable, i, error))
        return FALSE;

      sqlite3_reset (stmt);
      sqlite3_bind_text (stmt, 1, namespace_, -1, SQLITE_STATIC);
      sqlite3_bind_text (stmt, 2, stache_chunk_get_id (chunk), -1, SQLITE_STATIC);
      sqlite3_bind_int64 (stmt, 3, (sqlite3_int64) dims);
      sqlite3_bind_double (stmt, 4, vector_norm (row, dims));
      sqlite3_bind_blob64 (stmt, 5, row, dims * sizeof (float), SQLITE_STATIC);
      sqlite_bind_text (stmt, 6, stache_chunk_get_document_id (chunk));
      sqlite3_bind_int64 (stmt, 7, stache_chunk_get_position (chunk));
      sqlite3_bind_text (stmt, 8, text != NULL ? text : "", -1, SQLITE_STATIC);
      sqlite_bind_text (stmt, 9, metadata);

      if (sqlite3_step (stmt) != SQLITE_DONE)
        {
          g_autofree char *doing = g_strdup_printf (_("storing chunk “%s”"), stache_chunk_get_id (chunk));

          return sqlite_database_set_error (db, error, doing);
        }
    }

  return TRUE;
}

/* ---- insert / replace_document ---- */

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
  gboolean ok;

  if ((db = get_db (self, cancellable, error)) == NULL)
    return FALSE;
  locker = g_mutex_locker_new (&db->mutex);

  if (!sqlite_database_begin (db, TRUE, error))
    return FALSE;

  ok = store_chunks (db, namespace_or_default (namespace_), chunks, vectors, cancellable, error);

  return sqlite_database_end (db, ok, error);
}

static gboolean
delete_document_chunks (SqliteDatabase  *db,
                        const char      *namespace_,
                        const char      *document_id,
                        GError         **error)
{
  g_autoptr(sqlite3_stmt) stmt = NULL;

  stmt = sqlite_database_prepare (db, "DELETE FROM chunks WHERE namespace = ?1 AND document_id = ?2",
                                  error);
  if (stmt == NULL)
    return FALSE;

  sqlite3_bind_text (stmt, 1, namespace_, -1, SQLITE_STATIC);
  sqlite3_bind_text (stmt, 2, document_id, -1, SQLITE_STATIC);

  return sqlite_database_exec_step (db, stmt, _("deleting the chunks of a document"), error);
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
  gboolean ok;

  if ((db = get_db (self, cancellable, error)) == NULL)
    return FALSE;
  locker = g_mutex_locker_new (&db->mutex);

  if (!sqlite_database_begin (db, TRUE, error))
    return FALSE;

  ok = delete_document_chunks (db, ns, document_id, error) &&
       store_chunks (db, ns, chunks, vectors, cancellable, error);

  return sqlite_database_end (db, ok, error);
}

/* ---- search ---- */

typedef struct
{
  double score;
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

static gboolean
set_dims_error (SqliteDatabase  *db,
                sqlite3_stmt    *scan,
                gsize            query_dims,
                GError         **error)
{
  g_set_error (error, STACHE_ERROR, STACHE_ERROR_INVALID_ARGUMENT,
               _("The query vector has %lu dimensions but chunk “%s” in namespace “%s” "
                 "has %ld; vectors from different embedding models cannot be compared "
                 "(database “%s”)"),
               (gulong) query_dims, sqlite_column_text (scan, 4), sqlite_column_text (scan, 5),
               (long) sqlite3_column_int64 (scan, 1), db->path);
  return FALSE;
}

/* Fills @heap with the best rows; runs inside a read transaction. */
static gboolean
scan_vectors (SqliteDatabase  *db,
              const char      *namespace_,
              const float     *query,
              gsize            dims,
              JsonObject      *filter,
              HitHeap         *heap,
              GCancellable    *cancellable,
              GError         **error)
{
  /* Columns 0-3 are read for every row, 4-7 only when needed. */
#define SCAN_COLUMNS "SELECT rowid, dims, norm, vector, id, namespace, document_id, metadata FROM chunks"
  g_autoptr(sqlite3_stmt) stmt = NULL;
  g_autofree float *scratch = NULL;
  double query_norm = vector_norm (query, dims);
  gsize bytes = dims * sizeof (float);
  guint64 n_rows = 0;
  int rc;

  stmt = sqlite_database_prepare (db, namespace_ != NULL ? SCAN_COLUMNS " WHERE namespace = ?1"
                                                         : SCAN_COLUMNS, error);
#undef SCAN_COLUMNS
  if (stmt == NULL)
    return FALSE;
  if (namespace_ != NULL)
    sqlite3_bind_text (stmt, 1, namespace_, -1, SQLITE_STATIC);

  while ((rc = sqlite3_step (stmt)) == SQLITE_ROW)
    {
      const void *blob;
      const float *vector;
      double norm;
      Hit hit;

      if (check_cancelled (cancellable, ++n_rows, error))
        return FALSE;

      if ((gsize) sqlite3_column_int64 (stmt, 1) != dims)
        return set_dims_error (db, stmt, dims, error);

      blob = sqlite3_column_blob (stmt, 3);
      if ((gsize) sqlite3_column_bytes (stmt, 3) != bytes || blob == NULL)
        {
          g_set_error (error, STACHE_ERROR, STACHE_ERROR_FAILED,
                       _("The vector of chunk “%s” in “%s” is damaged: it holds %d bytes, "
                         "not %lu"),
                       sqlite_column_text (stmt, 4), db->path, sqlite3_column_bytes (stmt, 3), (gulong) bytes);
          return FALSE;
        }

      /* A BLOB inside a page may sit at any address. */
      if ((guintptr) blob % G_ALIGNOF (float) == 0)
        {
          vector = blob;
        }
      else
        {
          if (scratch == NULL)
            scratch = g_new (float, dims);
          memcpy (scratch, blob, bytes);
          vector = scratch;
        }

      norm = sqlite3_column_double (stmt, 2);
      hit.rowid = sqlite3_column_int64 (stmt, 0);
      hit.score = query_norm > 0 && norm > 0 ? dot_product (query, vector, dims) / (query_norm * norm) : 0;

      if (!heap_would_take (heap, &hit))
        continue;
      if (!row_matches_filter (filter, sqlite_column_text (stmt, 6), sqlite_column_text (stmt, 7)))
        continue;

      heap_push (heap, &hit);
    }

  if (rc != SQLITE_DONE)
    return sqlite_database_set_error (db, error, _("searching"));

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
  g_autoptr(GMutexLocker) locker = NULL;
  HitHeap heap = { NULL, 0, 0, top_k };
  GError *local_error = NULL;
  GList *results = NULL;
  SqliteDatabase *db;

  if ((db = get_db (self, cancellable, error)) == NULL)
    return NULL;
  if (top_k == 0)
    return NULL;
  locker = g_mutex_locker_new (&db->mutex);

  /* One read transaction: the winners cannot vanish between the scan and
   * the reading of their text. */
  if (!sqlite_database_begin (db, FALSE, error))
    return NULL;

  if (scan_vectors (db, namespace_, (const float *) (gpointer) query->data, query->len, filter,
                    &heap, cancellable, &local_error))
    {
      if (heap.len > 1)
        qsort (heap.hits, heap.len, sizeof (Hit), compare_hits);
      results = fetch_hits (db, heap.hits, heap.len, &local_error);
    }
  g_free (heap.hits);

  if (!sqlite_database_end (db, local_error == NULL, local_error == NULL ? &local_error : NULL))
    {
      g_list_free_full (results, g_object_unref);
      g_propagate_error (error, local_error);
      return NULL;
    }

  return results;
}

/* ---- keyword search ---- */

static void
append_keyword (GString    *expression,
                const char *word)
{
  if (expression->len > 0)
    g_string_append (expression, " OR ");

  /* An FTS5 string literal: any double quote doubled. */
  g_string_append_c (expression, '"');
  for (const char *p = word; *p != '\0'; p++)
    {
      if (*p == '"')
        g_string_append_c (expression, '"');
      g_string_append_c (expression, *p);
    }
  g_string_append_c (expression, '"');
}

/* Turns the user's words into an FTS5 query that cannot be a syntax
 * error: every word is a quoted string, the words are joined with OR.
 * Returns NULL when the query holds no word. */
static char *
build_match_expression (const char *query)
{
  g_autoptr(GString) expression = g_string_new (NULL);
  g_autoptr(GString) word = g_string_new (NULL);
  guint n_words = 0;

  for (const char *p = query; n_words < MAX_KEYWORDS; p = g_utf8_next_char (p))
    {
      gunichar c = *p != '\0' ? g_utf8_get_char (p) : 0;

      if (c != 0 && (g_unichar_isalnum (c) || g_unichar_ismark (c)))
        {
          g_string_append_unichar (word, c);
          continue;
        }

      if (word->len > 0)
        {
          append_keyword (expression, word->str);
          g_string_truncate (word, 0);
          n_words++;
        }

      if (c == 0)
        break;
    }

  if (expression->len == 0)
    return NULL;

  return g_string_free (g_steal_pointer (&expression), FALSE);
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
#define KEYWORD_SQL \
  "SELECT c.id, c.namespace, c.document_id, c.text, c.metadata, bm25 (chunks_fts) AS score " \
  "FROM chunks_fts JOIN chunks AS c ON c.rowid = chunks_fts.rowid WHERE chunks_fts MATCH ?1"
  StacheSqliteVectorDb *self = STACHE_SQLITE_VECTOR_DB (provider);
  g_autoptr(GMutexLocker) locker = NULL;
  g_autoptr(sqlite3_stmt) stmt = NULL;
  g_autofree char *expression = NULL;
  GList *results = NULL;
  SqliteDatabase *db;
  guint n_results = 0;
  guint64 n_rows = 0;
  int rc = SQLITE_DONE;

  if ((db = get_db (self, cancellable, error)) == NULL)
    return NULL;

  expression = build_match_expression (query);
  if (expression == NULL || top_k == 0)
    return NULL;

  locker = g_mutex_locker_new (&db->mutex);
  stmt = sqlite_database_prepare (db, namespace_ != NULL
                                        ? KEYWORD_SQL " AND c.namespace = ?2 ORDER BY score, c.rowid"
                                        : KEYWORD_SQL " ORDER BY score, c.rowid",
                                  error);
#undef KEYWORD_SQL
  if (stmt == NULL)
    return NULL;

  sqlite3_bind_text (stmt, 1, expression, -1, SQLITE_STATIC);
  if (namespace_ != NULL)
    sqlite3_bind_text (stmt, 2, namespace_, -1, SQLITE_STATIC);

  while (n_results < top_k && (rc = sqlite3_step (stmt)) == SQLITE_ROW)
    {
      if (check_cancelled (cancellable, ++n_rows, error))
        {
          g_list_free_full (results, g_object_unref);
          return NULL;
        }

      if (!row_matches_filter (filter, sqlite_column_text (stmt, 2), sqlite_column_text (stmt, 4)))
        continue;

      /* bm25() is lower for better matches; scores here are higher. */
      results = g_list_prepend (results, result_from_row (stmt, 0, -sqlite3_column_double (stmt, 5)));
      n_results++;
    }

  if (n_results < top_k && rc != SQLITE_DONE)
    {
      g_list_free_full (results, g_object_unref);
      sqlite_database_set_error (db, error, _("searching for words"));
      return NULL;
    }

  return g_list_reverse (results);
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

static gint64
delete_rows (SqliteDatabase  *db,
             GArray          *rowids,
             GError         **error)
{
  g_autoptr(sqlite3_stmt) stmt = NULL;
  gint64 deleted = 0;

  if (rowids->len == 0)
    return 0;

  stmt = sqlite_database_prepare (db, "DELETE FROM chunks WHERE rowid = ?1", error);
  if (stmt == NULL)
    return -1;

  for (guint i = 0; i < rowids->len; i++)
    {
      sqlite3_reset (stmt);
      sqlite3_bind_int64 (stmt, 1, g_array_index (rowids, gint64, i));
      if (sqlite3_step (stmt) != SQLITE_DONE)
        {
          sqlite_database_set_error (db, error, _("deleting chunks"));
          return -1;
        }
      /* Counts each chunk once, even when an id was given twice. */
      deleted += sqlite3_changes (db->handle);
    }

  return deleted;
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
    deleted = delete_rows (db, rowids, error);

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

  stmt = sqlite_database_prepare (db, namespace_ != NULL
                                        ? "SELECT count (*) FROM chunks WHERE namespace = ?1"
                                        : "SELECT count (*) FROM chunks",
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
    "vector_search", "keyword_search", "metadata_filter", "batch_insert", "namespaces", NULL
  };

  return g_strdupv ((char **) caps);
}

/* ---- GInitable: the file is opened (and checked) when created ---- */

static gboolean
stache_sqlite_vector_db_initable_init_impl (GInitable     *initable,
                                            GCancellable  *cancellable,
                                            GError       **error)
{
  return get_db (STACHE_SQLITE_VECTOR_DB (initable), cancellable, error) != NULL;
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

  g_clear_pointer (&self->db, sqlite_database_free);
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
  iface->replace_document = stache_sqlite_vector_db_replace_document;
}

void
stache_sqlite_vector_db_register (GTypeModule *module)
{
  stache_sqlite_vector_db_register_type (module);
}

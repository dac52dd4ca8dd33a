/* sqlite-keywords.c: the keyword index of a Stache database
 *
 * SPDX-License-Identifier: LGPL-2.1-or-later
 *
 * An inverted index kept in two tables of the database, written in the
 * transactions that write the chunks, so it is as crash-safe as they are:
 *
 *   keyword_segments  one row per segment: the chunks of one write (a batch
 *                     of a folder ingest, one document, …) or of merged
 *                     segments; how many chunks and words it holds, and
 *                     how many of those were deleted since
 *   keyword_postings  the words of a segment in order, in blocks of about
 *                     BLOCK_BYTES, one row each, keyed by (segment, first
 *                     word): for each word, the chunks of the segment
 *                     holding it as varints (rowid delta, times the word
 *                     occurs, the chunk's length in words). A row per word
 *                     cost a b-tree insert each, as much as FTS5 did.
 *   keyword_deleted   the rowids of deleted chunks still in a segment
 *
 * Rowids only grow (the chunks table is AUTOINCREMENT), so segments cover
 * disjoint, ordered rowid ranges and a word's chunks, read segment after
 * segment, come in rowid order. Merges keep it so: they only join
 * neighbours (the trailing run of MERGE_FANIN segments of one level), and
 * drop deleted chunks on the way; a segment that is a quarter deleted is
 * rewritten alone.
 *
 * Why not FTS5: its in-memory hash (sqlite3Fts5HashWrite) costs a cache
 * miss or three per word, which made it a third of the CPU time of an
 * ingest. Here a batch gathers (word, chunk, count) postings in flat
 * arrays with a small vocabulary table, sorts them once and writes each
 * word's postings as one row. Every chunk's length travels with its
 * postings, so BM25 needs no lookup per chunk either.
 *
 * Scores are BM25 exactly as FTS5's bm25() computes them (k1 1.2, b 0.75,
 * idf log((N - n + 0.5) / (n + 0.5)), 1e-6 when not positive), over the
 * chunks that are not deleted.
 */
#include <math.h>
#include <string.h>

#include <glib/gi18n-lib.h>

#include "sqlite-keywords.h"

/* How many segments of one level are merged into one of the next */
#define MERGE_FANIN 8
/* How many chunks a rebuild gathers per segment */
#define REBUILD_BATCH 8192

#define BM25_K1 1.2
#define BM25_B  0.75

static gboolean
set_damaged (SqliteDatabase  *db,
             GError         **error)
{
  g_set_error (error, STACHE_ERROR, STACHE_ERROR_FAILED,
               _("The keyword index of the Stache database “%s” is damaged; run “stache check”"),
               db->path);
  return FALSE;
}

/* ---- varints ---- */

/* A growable byte buffer, written a varint at a time: GByteArray's append
 * per varint was a third of writing a segment */
typedef struct
{
  guint8 *data;
  gsize   len;
  gsize   size;
} Buffer;

static inline void
buffer_reserve (Buffer *buffer,
                gsize   more)
{
  if (G_UNLIKELY (buffer->len + more > buffer->size))
    {
      buffer->size = MAX (buffer->size * 2, buffer->len + more + 4096);
      buffer->data = g_realloc (buffer->data, buffer->size);
    }
}

static inline void
buffer_append (Buffer       *buffer,
               const guint8 *bytes,
               gsize         n)
{
  buffer_reserve (buffer, n);
  if (n > 0)
    memcpy (buffer->data + buffer->len, bytes, n);
  buffer->len += n;
}

static void
buffer_clear (Buffer *buffer)
{
  g_clear_pointer (&buffer->data, g_free);
  buffer->len = buffer->size = 0;
}

static inline void
put_varint (Buffer  *out,
            guint64  value)
{
  guint8 *p;

  buffer_reserve (out, 10);
  p = out->data + out->len;
  while (value >= 0x80)
    {
      *p++ = (guint8) (value | 0x80);
      value >>= 7;
    }
  *p++ = (guint8) value;
  out->len = (gsize) (p - out->data);
}

/* FALSE when the data ends inside a varint or it is too long */
static inline gboolean
get_varint (const guint8 **pos,
            const guint8  *end,
            guint64       *value)
{
  guint64 result = 0;

  for (guint shift = 0; shift < 64 && *pos < end; shift += 7)
    {
      guint8 byte = *(*pos)++;

      result |= (guint64) (byte & 0x7f) << shift;
      if ((byte & 0x80) == 0)
        {
          *value = result;
          return TRUE;
        }
    }
  return FALSE;
}

/* ---- words ---- */

/* A word's length as the index keeps it: at most SQLITE_KEYWORD_MAX_BYTES,
 * cut at a character boundary */
static inline gsize
word_length (const char *start,
             const char *stop)
{
  gsize n = (gsize) (stop - start);

  if (n > SQLITE_KEYWORD_MAX_BYTES)
    {
      n = SQLITE_KEYWORD_MAX_BYTES;
      while (n > 0 && ((guchar) start[n] & 0xc0) == 0x80)
        n--;
    }
  return n;
}

/* Calls @func for each word of @text as the index keeps it */
static void
for_each_word (const char *text,
               void      (*func) (const char *word, gsize len, gpointer data),
               gpointer    data)
{
  gsize len = 0;
  g_autofree char *folded = stache_text_fold (text, &len);
  const char *pos = folded, *end = folded + len, *start, *stop;

  while (stache_text_next_word (&pos, end, &start, &stop))
    func (start, word_length (start, stop), data);
}

typedef struct
{
  GPtrArray     *words;
  StacheStemmer *stemmer;
} Split;

static void
add_word_to_array (const char *word,
                   gsize       len,
                   gpointer    data)
{
  Split *split = data;
  char *stem;

  if (split->stemmer == NULL)
    {
      g_ptr_array_add (split->words, g_strndup (word, len));
      return;
    }
  stem = stache_stemmer_stem (split->stemmer, word, (gssize) len);
  if (strlen (stem) > SQLITE_KEYWORD_MAX_BYTES)
    stem[SQLITE_KEYWORD_MAX_BYTES] = '\0';
  g_ptr_array_add (split->words, stem);
}

GPtrArray *
sqlite_keywords_split (const char    *text,
                       StacheStemmer *stemmer)
{
  Split split = { g_ptr_array_new_with_free_func (g_free), stemmer };

  for_each_word (text, add_word_to_array, &split);
  return split.words;
}

static void
count_word (const char *word,
            gsize       len,
            gpointer    data)
{
  (*(gint64 *) data)++;
}

static gint64
count_words (const char *text)
{
  gint64 n = 0;

  for_each_word (text, count_word, &n);
  return n;
}

/* BLOB order, as SQLite sorts the term column */
static int
compare_terms (const guint8 *a,
               gsize         a_len,
               const guint8 *b,
               gsize         b_len)
{
  int c = memcmp (a, b, MIN (a_len, b_len));

  if (c != 0)
    return c;
  return a_len < b_len ? -1 : a_len > b_len ? 1 : 0;
}

/* ---- the batch ---- */

typedef struct
{
  guint32 offset;        /* in the pool */
  guint32 len;
  guint32 hash;
  guint32 n_postings;
  guint32 last_doc;      /* 1 + the doc of its latest posting, 0 for none */
  guint32 last_posting;
  guint32 target;        /* the term its postings go to: its stem's, or itself */
  guint64 head;          /* its first 8 bytes (zero-padded): most words are
                          * whole there, and need no look in the pool */
} Term;

/* A word of the chunk being added, in the batch's lower-cased copy */
typedef struct
{
  guint32 offset;
  guint32 len;
  guint32 hash;
} WordRef;

typedef struct
{
  guint32 term;
  guint32 doc;
  guint32 tf;
} Posting;

typedef struct
{
  gint64  rowid;
  guint32 length;
  guint32 key;       /* its document, numbered in the batch */
  gboolean removed;
} Doc;

struct _SqliteKeywordBatch
{
  StacheStemmer *stemmer; /* NULL: words as they are */
  GString    *pool;       /* the words, one after another */
  GArray     *terms;      /* Term */
  guint64    *slots;      /* open addressing: the term's hash << 32 | 1 + its
                           * index, 0 empty (the hash there spares reading
                           * the term of every slot probed) */
  guint32     n_slots;    /* a power of two */
  Posting    *postings;   /* in the order added */
  guint32     n_postings;
  guint32     postings_size;
  GArray     *docs;       /* Doc */
  GHashTable *keys;       /* document → 1 + its number in the batch */
  guint32     n_keys;
  GString    *key;        /* a document's key, being looked up */
  gboolean    unsorted;   /* a rowid came after a larger one */
  gboolean    removed;    /* chunks of segments were taken out */
  /* while adding one chunk */
  guint32     doc;
  GString    *lower;      /* its ASCII text lower-cased */
  GArray     *words;      /* WordRef, its words */
};

SqliteKeywordBatch *
sqlite_keyword_batch_new (StacheStemmer *stemmer)
{
  SqliteKeywordBatch *batch = g_new0 (SqliteKeywordBatch, 1);

  batch->stemmer = stemmer != NULL ? g_object_ref (stemmer) : NULL;
  batch->pool = g_string_sized_new (4096);
  batch->terms = g_array_new (FALSE, FALSE, sizeof (Term));
  batch->postings_size = 4096;
  batch->postings = g_new (Posting, batch->postings_size);
  batch->docs = g_array_new (FALSE, FALSE, sizeof (Doc));
  batch->keys = g_hash_table_new_full (g_str_hash, g_str_equal, g_free, NULL);
  batch->key = g_string_new (NULL);
  batch->n_slots = 1024;
  batch->slots = g_new0 (guint64, batch->n_slots);
  batch->lower = g_string_sized_new (1024);
  batch->words = g_array_new (FALSE, FALSE, sizeof (WordRef));

  return batch;
}

void
sqlite_keyword_batch_free (SqliteKeywordBatch *batch)
{
  if (batch == NULL)
    return;
  g_clear_object (&batch->stemmer);
  g_string_free (batch->pool, TRUE);
  g_array_unref (batch->terms);
  g_free (batch->postings);
  g_array_unref (batch->docs);
  g_hash_table_unref (batch->keys);
  g_string_free (batch->key, TRUE);
  g_free (batch->slots);
  g_string_free (batch->lower, TRUE);
  g_array_unref (batch->words);
  g_free (batch);
}

gboolean
sqlite_keyword_batch_is_empty (SqliteKeywordBatch *batch)
{
  return batch->docs->len == 0;
}

static void
batch_reset (SqliteKeywordBatch *batch)
{
  g_string_truncate (batch->pool, 0);
  g_array_set_size (batch->terms, 0);
  batch->n_postings = 0;
  batch->removed = FALSE;
  g_array_set_size (batch->docs, 0);
  g_hash_table_remove_all (batch->keys);
  batch->n_keys = 0;
  memset (batch->slots, 0, batch->n_slots * sizeof (guint64));
  batch->unsorted = FALSE;
}

static inline guint32
hash_word (const char *word,
           gsize       len)
{
  guint32 h = 2166136261u;

  for (gsize i = 0; i < len; i++)
    h = (h ^ (guchar) word[i]) * 16777619u;
  return h;
}

static void
grow_slots (SqliteKeywordBatch *batch)
{
  guint32 n_slots = batch->n_slots * 2;
  guint64 *slots = g_new0 (guint64, n_slots);

  for (guint32 t = 0; t < batch->terms->len; t++)
    {
      guint32 hash = g_array_index (batch->terms, Term, t).hash;
      guint32 i = hash & (n_slots - 1);

      while (slots[i] != 0)
        i = (i + 1) & (n_slots - 1);
      slots[i] = (guint64) hash << 32 | (t + 1);
    }
  g_free (batch->slots);
  batch->slots = slots;
  batch->n_slots = n_slots;
}

static inline guint64
word_head (const char *word,
           gsize       len)
{
  guint64 head = 0;

  memcpy (&head, word, MIN (len, sizeof head));
  return head;
}

/* The index of the term @word, added with no postings if new; its
 * target is itself */
static guint32
batch_find_term (SqliteKeywordBatch *batch,
                 const char         *word,
                 gsize               len,
                 guint32             hash,
                 gboolean           *added)
{
  guint32 i = hash & (batch->n_slots - 1);
  guint64 head = word_head (word, len);

  *added = FALSE;
  for (;;)
    {
      guint64 slot = batch->slots[i];

      if (slot == 0)
        {
          guint32 t = batch->terms->len;
          Term new_term = { (guint32) batch->pool->len, (guint32) len, hash, 0, 0, 0, t, head };

          g_string_append_len (batch->pool, word, (gssize) len);
          g_array_append_val (batch->terms, new_term);
          batch->slots[i] = (guint64) hash << 32 | (t + 1);
          if (batch->terms->len * 2 > batch->n_slots)
            grow_slots (batch);
          *added = TRUE;
          return t;
        }
      if ((guint32) (slot >> 32) == hash)
        {
          const Term *term = &g_array_index (batch->terms, Term, (guint32) slot - 1);

          if (term->len == len && term->head == head &&
              (len <= sizeof head || memcmp (batch->pool->str + term->offset, word, len) == 0))
            return (guint32) slot - 1;
        }
      i = (i + 1) & (batch->n_slots - 1);
    }
}

/* A word met for the first time in this batch: with a stemmer, its
 * postings go to its stem's term, found or added here */
static void
batch_stem_term (SqliteKeywordBatch *batch,
                 guint32             t)
{
  const Term *term = &g_array_index (batch->terms, Term, t);
  g_autofree char *stem = stache_stemmer_stem (batch->stemmer, batch->pool->str + term->offset, term->len);
  gsize len = strlen (stem);
  guint32 target;
  gboolean added;

  if (len == term->len && memcmp (stem, batch->pool->str + term->offset, len) == 0)
    return;
  len = MIN (len, SQLITE_KEYWORD_MAX_BYTES);
  /* (found first: adding the stem may move the terms) */
  target = batch_find_term (batch, stem, len, hash_word (stem, len), &added);
  g_array_index (batch->terms, Term, t).target = target;
}

static inline void
batch_add_hashed (SqliteKeywordBatch *batch,
                  const char         *word,
                  gsize               len,
                  guint32             hash,
                  Doc                *doc)
{
  gboolean added;
  guint32 t = batch_find_term (batch, word, len, hash, &added);
  Term *term;

  if (added && batch->stemmer != NULL)
    batch_stem_term (batch, t);
  t = g_array_index (batch->terms, Term, t).target;

  term = &g_array_index (batch->terms, Term, t);
  doc->length++;
  if (term->last_doc == batch->doc + 1)
    {
      batch->postings[term->last_posting].tf++;
      return;
    }
  if (batch->n_postings == batch->postings_size)
    {
      batch->postings_size *= 2;
      batch->postings = g_renew (Posting, batch->postings, batch->postings_size);
    }
  term->last_doc = batch->doc + 1;
  term->last_posting = batch->n_postings;
  term->n_postings++;
  batch->postings[batch->n_postings++] = (Posting) { t, batch->doc, 1 };
}

static inline void
batch_add_word (SqliteKeywordBatch *batch,
                const char         *word,
                gsize               len,
                Doc                *doc)
{
  batch_add_hashed (batch, word, len, hash_word (word, len), doc);
}

/* How far ahead batch_add_ascii() asks for a word's vocabulary slot, and
 * for its term once the slot is there */
#define PREFETCH_SLOT 16
#define PREFETCH_TERM 8

/* Adds the words of @text, @length bytes of ASCII: lower-cased into one
 * copy, split, hashed, then looked up in the vocabulary with the memory of
 * the words a few places ahead already asked for. A batch of thousands of
 * chunks has a vocabulary far larger than the CPU's caches, and without
 * this most words waited twice on memory: for their slot, then for their
 * term. The same words as stache_text_fold() and stache_text_next_word(). */
static void
batch_add_ascii (SqliteKeywordBatch *batch,
                 const guchar       *text,
                 gsize               length,
                 Doc                *doc)
{
  char *lower;
  WordRef *words;
  guint n = 0;

  g_string_set_size (batch->lower, length);
  lower = batch->lower->str;
  g_array_set_size (batch->words, length / 2 + 1);   /* at most one word in two bytes */
  words = (WordRef *) (gpointer) batch->words->data;

  for (gsize i = 0; i < length;)
    {
      gsize start;

      while (i < length && !g_ascii_isalnum (text[i]))
        i++;
      if (i == length)
        break;
      start = i;
      for (; i < length && g_ascii_isalnum (text[i]); i++)
        {
          guchar c = text[i];

          lower[i] = (char) (c >= 'A' && c <= 'Z' ? c + ('a' - 'A') : c);
        }
      words[n].offset = (guint32) start;
      words[n].len = (guint32) MIN (i - start, SQLITE_KEYWORD_MAX_BYTES);
      words[n].hash = hash_word (lower + start, words[n].len);
      n++;
    }

  for (guint w = 0; w < n; w++)
    {
      if (w + PREFETCH_SLOT < n)
        __builtin_prefetch (&batch->slots[words[w + PREFETCH_SLOT].hash & (batch->n_slots - 1)]);
      if (w + PREFETCH_TERM < n)
        {
          guint64 slot = batch->slots[words[w + PREFETCH_TERM].hash & (batch->n_slots - 1)];

          if (slot != 0 && (guint32) slot - 1 < batch->terms->len)
            __builtin_prefetch (&g_array_index (batch->terms, Term, (guint32) slot - 1));
        }
      batch_add_hashed (batch, lower + words[w].offset, words[w].len, words[w].hash, doc);
    }
}

/* The number in the batch of the document @document_id of @namespace_; a
 * chunk of no document is one of its own */
static guint32
batch_document_key (SqliteKeywordBatch *batch,
                    const char         *namespace_,
                    const char         *document_id)
{
  gpointer found;

  if (document_id == NULL)
    return batch->n_keys++;
  g_string_assign (batch->key, namespace_ != NULL ? namespace_ : "");
  g_string_append_c (batch->key, '/');
  g_string_append (batch->key, document_id);
  found = g_hash_table_lookup (batch->keys, batch->key->str);
  if (found != NULL)
    return GPOINTER_TO_UINT (found) - 1;
  g_hash_table_insert (batch->keys, g_strdup (batch->key->str), GUINT_TO_POINTER (batch->n_keys + 1));
  return batch->n_keys++;
}

void
sqlite_keyword_batch_add (SqliteKeywordBatch *batch,
                          gint64              rowid,
                          const char         *namespace_,
                          const char         *document_id,
                          const char         *text)
{
  Doc doc = { rowid, 0, batch_document_key (batch, namespace_, document_id), FALSE };
  const guchar *p;
  Doc *added;

  if (batch->docs->len > 0 && rowid <= g_array_index (batch->docs, Doc, batch->docs->len - 1).rowid)
    batch->unsorted = TRUE;
  batch->doc = batch->docs->len;
  g_array_append_val (batch->docs, doc);
  added = &g_array_index (batch->docs, Doc, batch->doc);

  /* ASCII text (most of it) is folded and split in one pass, the same
   * words stache_text_fold() and stache_text_next_word() would give */
  for (p = (const guchar *) text; *p != '\0' && *p < 0x80; p++)
    ;
  if (*p == '\0')
    {
      batch_add_ascii (batch, (const guchar *) text, (gsize) (p - (const guchar *) text), added);
      return;
    }

  {
    gsize len = 0;
    g_autofree char *folded = stache_text_fold (text, &len);
    const char *pos = folded, *end = folded + len, *start, *stop;

    while (stache_text_next_word (&pos, end, &start, &stop))
      batch_add_word (batch, start, word_length (start, stop), added);
  }
}

gboolean
sqlite_keyword_batch_remove (SqliteKeywordBatch  *batch,
                             SqliteDatabase      *db,
                             gint64               rowid,
                             const char          *text,
                             GError             **error)
{
  g_autoptr(sqlite3_stmt) find = NULL;
  g_autoptr(sqlite3_stmt) mark = NULL;
  g_autoptr(sqlite3_stmt) count = NULL;
  gint64 segment;

  /* Added in this batch: it is just left out when the batch is written */
  for (guint i = batch->docs->len; i > 0; i--)
    {
      Doc *doc = &g_array_index (batch->docs, Doc, i - 1);

      if (doc->rowid == rowid && !doc->removed)
        {
          doc->removed = TRUE;
          return TRUE;
        }
      if (!batch->unsorted && doc->rowid < rowid)
        break;
    }

  find = sqlite_database_prepare (db, "SELECT id FROM keyword_segments "
                                      "WHERE first_rowid <= ?1 AND last_rowid >= ?1", error);
  if (find == NULL)
    return FALSE;
  sqlite3_bind_int64 (find, 1, rowid);
  switch (sqlite3_step (find))
    {
    case SQLITE_ROW:
      segment = sqlite3_column_int64 (find, 0);
      break;
    case SQLITE_DONE:
      return TRUE;   /* in no segment: nothing to take out */
    default:
      return sqlite_database_set_error (db, error, _("taking a chunk out of the keyword index"));
    }
  g_clear_pointer (&find, sqlite_statement_release);

  mark = sqlite_database_prepare (db, "INSERT OR IGNORE INTO keyword_deleted (rowid) VALUES (?1)", error);
  if (mark == NULL)
    return FALSE;
  sqlite3_bind_int64 (mark, 1, rowid);
  if (!sqlite_database_exec_step (db, mark, _("taking a chunk out of the keyword index"), error))
    return FALSE;
  if (sqlite3_changes (db->handle) == 0)
    return TRUE;   /* taken out already */
  batch->removed = TRUE;

  count = sqlite_database_prepare (db, "UPDATE keyword_segments SET deleted_docs = deleted_docs + 1, "
                                       "deleted_tokens = deleted_tokens + ?2 WHERE id = ?1", error);
  if (count == NULL)
    return FALSE;
  sqlite3_bind_int64 (count, 1, segment);
  sqlite3_bind_int64 (count, 2, count_words (text));
  return sqlite_database_exec_step (db, count, _("taking a chunk out of the keyword index"), error);
}

/* ---- segments ---- */

typedef struct
{
  gint64 id;
  gint64 level;
  gint64 first_rowid;
  gint64 last_rowid;
  gint64 docs;
  gint64 tokens;
  gint64 deleted_docs;
  gint64 deleted_tokens;
} Segment;

/* The segments in rowid order */
static GArray *
list_segments (SqliteDatabase  *db,
               GError         **error)
{
  g_autoptr(sqlite3_stmt) stmt = NULL;
  g_autoptr(GArray) segments = g_array_new (FALSE, FALSE, sizeof (Segment));
  int rc;

  stmt = sqlite_database_prepare (db, "SELECT id, level, first_rowid, last_rowid, docs, tokens, deleted_docs, "
                                      "deleted_tokens FROM keyword_segments ORDER BY first_rowid", error);
  if (stmt == NULL)
    return NULL;
  while ((rc = sqlite3_step (stmt)) == SQLITE_ROW)
    {
      Segment segment;

      segment.id = sqlite3_column_int64 (stmt, 0);
      segment.level = sqlite3_column_int64 (stmt, 1);
      segment.first_rowid = sqlite3_column_int64 (stmt, 2);
      segment.last_rowid = sqlite3_column_int64 (stmt, 3);
      segment.docs = sqlite3_column_int64 (stmt, 4);
      segment.tokens = sqlite3_column_int64 (stmt, 5);
      segment.deleted_docs = sqlite3_column_int64 (stmt, 6);
      segment.deleted_tokens = sqlite3_column_int64 (stmt, 7);
      g_array_append_val (segments, segment);
    }
  if (rc != SQLITE_DONE)
    {
      sqlite_database_set_error (db, error, _("reading the keyword index"));
      return NULL;
    }

  return g_steal_pointer (&segments);
}

static gint64
next_segment_id (SqliteDatabase  *db,
                 GError         **error)
{
  g_autoptr(sqlite3_stmt) stmt = sqlite_database_prepare (db, "SELECT coalesce (max (id), 0) + 1 "
                                                              "FROM keyword_segments", error);

  if (stmt == NULL)
    return 0;
  if (sqlite3_step (stmt) != SQLITE_ROW)
    {
      sqlite_database_set_error (db, error, _("writing the keyword index"));
      return 0;
    }
  return sqlite3_column_int64 (stmt, 0);
}

/* ---- documents ---- */

/* A run of a segment's chunks (in rowid order) of one document, from the
 * chunk @head up to the next run's head: a document's chunks are written
 * together, so a run is usually the whole document as one segment holds
 * it. Documents are scored from their runs (a document whose chunks came
 * in two writes counts as two). A segment keeps its runs in its `runs`
 * column as varints: (head − the previous head, chunks, words), each. */
typedef struct
{
  gint64  head;
  guint32 chunks;
  guint32 words;
} Run;

static void
encode_runs (const Run *runs,
             guint      n,
             Buffer    *out)
{
  gint64 previous = 0;

  for (guint i = 0; i < n; i++)
    {
      put_varint (out, (guint64) (runs[i].head - previous));
      put_varint (out, runs[i].chunks);
      put_varint (out, runs[i].words);
      previous = runs[i].head;
    }
}

/* Decodes the runs of @segment onto @runs; FALSE when they are not well
 * formed: heads in order and in the segment's range, no empty run */
static gboolean
decode_runs (const guint8  *data,
             gsize          size,
             const Segment *segment,
             GArray        *runs)
{
  const guint8 *pos = data, *end = data + size;
  guint old_len = runs->len;
  gint64 head = 0;

  while (pos < end)
    {
      guint64 delta, chunks, words;
      Run run;

      if (!get_varint (&pos, end, &delta) || !get_varint (&pos, end, &chunks) ||
          !get_varint (&pos, end, &words) || (delta == 0 && runs->len > old_len) ||
          delta > (guint64) G_MAXINT64 - (guint64) head || chunks == 0 || chunks > G_MAXUINT32 ||
          words > G_MAXUINT32)
        goto damaged;
      head += (gint64) delta;
      if (head < segment->first_rowid || head > segment->last_rowid)
        goto damaged;
      run.head = head;
      run.chunks = (guint32) chunks;
      run.words = (guint32) words;
      g_array_append_val (runs, run);
    }
  return TRUE;

damaged:
  g_array_set_size (runs, old_len);
  return FALSE;
}

/* The runs of @segment, read from the database onto @runs */
static gboolean
read_runs (SqliteDatabase  *db,
           const Segment   *segment,
           GArray          *runs,
           GError         **error)
{
  g_autoptr(sqlite3_stmt) stmt = sqlite_database_prepare (db, "SELECT runs FROM keyword_segments WHERE id = ?1",
                                                          error);

  if (stmt == NULL)
    return FALSE;
  sqlite3_bind_int64 (stmt, 1, segment->id);
  switch (sqlite3_step (stmt))
    {
    case SQLITE_ROW:
      break;
    case SQLITE_DONE:
      return set_damaged (db, error);
    default:
      return sqlite_database_set_error (db, error, _("reading the keyword index"));
    }
  if (sqlite3_column_type (stmt, 0) != SQLITE_BLOB ||
      !decode_runs (sqlite3_column_blob (stmt, 0), (gsize) sqlite3_column_bytes (stmt, 0), segment, runs))
    return set_damaged (db, error);
  return TRUE;
}

/* Where @rowid would go in @deleted (sorted): the number of its entries
 * below @rowid */
static guint
lower_bound (GArray *deleted,
             gint64  rowid)
{
  guint lo = 0, hi = deleted != NULL ? deleted->len : 0;

  while (lo < hi)
    {
      guint mid = lo + (hi - lo) / 2;

      if (g_array_index (deleted, gint64, mid) < rowid)
        lo = mid + 1;
      else
        hi = mid;
    }
  return lo;
}

/* Takes the @deleted chunks out of the runs of @runs from @from on (those
 * of one segment, ending at @last): a run with none left goes, one with
 * some left keeps its share of the words (a run's chunks are not counted
 * one by one) */
static void
runs_drop_deleted (GArray *runs,
                   guint   from,
                   gint64  last,
                   GArray *deleted)
{
  guint kept = from;

  for (guint i = from; i < runs->len; i++)
    {
      Run run = g_array_index (runs, Run, i);
      gint64 end = i + 1 < runs->len ? g_array_index (runs, Run, i + 1).head : last + 1;
      guint gone = lower_bound (deleted, end) - lower_bound (deleted, run.head);

      if (gone >= run.chunks)
        continue;
      if (gone > 0)
        {
          run.words = (guint32) ((guint64) run.words * (run.chunks - gone) / run.chunks);
          run.chunks -= gone;
        }
      g_array_index (runs, Run, kept++) = run;
    }
  g_array_set_size (runs, kept);
}

static gboolean
insert_segment (SqliteDatabase  *db,
                const Segment   *segment,
                const Buffer    *runs,
                GError         **error)
{
  g_autoptr(sqlite3_stmt) stmt = NULL;

  stmt = sqlite_database_prepare (db, "INSERT INTO keyword_segments (id, level, first_rowid, last_rowid, docs, "
                                      "tokens, runs) VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7)", error);
  if (stmt == NULL)
    return FALSE;
  sqlite3_bind_int64 (stmt, 1, segment->id);
  sqlite3_bind_int64 (stmt, 2, segment->level);
  sqlite3_bind_int64 (stmt, 3, segment->first_rowid);
  sqlite3_bind_int64 (stmt, 4, segment->last_rowid);
  sqlite3_bind_int64 (stmt, 5, segment->docs);
  sqlite3_bind_int64 (stmt, 6, segment->tokens);
  /* (never NULL: a segment without runs is one from before them) */
  sqlite3_bind_blob (stmt, 7, runs->len > 0 ? (const void *) runs->data : "", (int) runs->len, SQLITE_STATIC);
  return sqlite_database_exec_step (db, stmt, _("writing the keyword index"), error);
}

/* Words and their postings go into blocks of about this many bytes, one
 * row each; a word whose postings pass it has a row of its own */
#define BLOCK_BYTES 4000

/* An entry of a block: varint(word length), the word, varint(chunks),
 * varint(postings length), the postings */
typedef struct
{
  const guint8 *term;
  gsize         term_len;
  guint64       docs;
  const guint8 *postings;
  gsize         postings_len;
} Entry;

/* The entry at *@pos, moving past it; FALSE at the end (*@damaged unset)
 * or when it is not well formed (*@damaged set) */
static gboolean
next_entry (const guint8 **pos,
            const guint8  *end,
            Entry         *entry,
            gboolean      *damaged)
{
  guint64 len, plen;

  *damaged = FALSE;
  if (*pos >= end)
    return FALSE;
  if (!get_varint (pos, end, &len) || len > (guint64) (end - *pos) || len > SQLITE_KEYWORD_MAX_BYTES)
    goto damaged;
  entry->term = *pos;
  entry->term_len = (gsize) len;
  *pos += len;
  if (!get_varint (pos, end, &entry->docs) || !get_varint (pos, end, &plen) || plen > (guint64) (end - *pos))
    goto damaged;
  entry->postings = *pos;
  entry->postings_len = (gsize) plen;
  *pos += plen;
  return TRUE;

damaged:
  *damaged = TRUE;
  return FALSE;
}

typedef struct
{
  SqliteDatabase *db;
  gint64          segment;
  Buffer          block;
  Buffer          first;   /* the block's first word */
  gint64          entries;
} BlockWriter;

static void
block_writer_init (BlockWriter    *writer,
                   SqliteDatabase *db,
                   gint64          segment)
{
  writer->db = db;
  writer->segment = segment;
  memset (&writer->block, 0, sizeof (Buffer));
  memset (&writer->first, 0, sizeof (Buffer));
  writer->entries = 0;
}

static void
block_writer_clear (BlockWriter *writer)
{
  buffer_clear (&writer->block);
  buffer_clear (&writer->first);
}

static gboolean
block_writer_emit (BlockWriter  *writer,
                   GError      **error)
{
  g_autoptr(sqlite3_stmt) stmt = NULL;

  if (writer->entries == 0)
    return TRUE;
  stmt = sqlite_database_prepare (writer->db, "INSERT INTO keyword_postings (segment, term, docs, data) "
                                              "VALUES (?1, ?2, ?3, ?4)", error);
  if (stmt == NULL)
    return FALSE;
  sqlite3_bind_int64 (stmt, 1, writer->segment);
  sqlite3_bind_blob (stmt, 2, writer->first.data, (int) writer->first.len, SQLITE_STATIC);
  sqlite3_bind_int64 (stmt, 3, writer->entries);
  sqlite3_bind_blob (stmt, 4, writer->block.data, (int) writer->block.len, SQLITE_STATIC);
  if (!sqlite_database_exec_step (writer->db, stmt, _("writing the keyword index"), error))
    return FALSE;
  writer->block.len = 0;
  writer->entries = 0;
  return TRUE;
}

/* Adds a word (words come in order) with @docs chunks whose postings are
 * @postings */
static gboolean
block_writer_add (BlockWriter   *writer,
                  const guint8  *term,
                  gsize          term_len,
                  gint64         docs,
                  const Buffer  *postings,
                  GError       **error)
{
  if (writer->entries > 0 && writer->block.len + term_len + postings->len + 12 > BLOCK_BYTES &&
      !block_writer_emit (writer, error))
    return FALSE;
  if (writer->entries == 0)
    {
      writer->first.len = 0;
      buffer_append (&writer->first, term, term_len);
    }
  put_varint (&writer->block, term_len);
  buffer_append (&writer->block, term, term_len);
  put_varint (&writer->block, (guint64) docs);
  put_varint (&writer->block, postings->len);
  buffer_append (&writer->block, postings->data, postings->len);
  writer->entries++;
  return TRUE;
}

/* Finds @word's entry in @segment: FALSE with @error unset when it has
 * none. The entry points into @stmt's row, valid until it is reset. */
static gboolean
find_entry (SqliteDatabase  *db,
            sqlite3_stmt    *stmt,
            gint64           segment,
            const char      *word,
            Entry           *entry,
            GError         **error)
{
  gsize word_len = strlen (word);
  const guint8 *pos, *end;
  gboolean damaged;
  int rc;

  sqlite3_reset (stmt);
  sqlite3_bind_int64 (stmt, 1, segment);
  sqlite3_bind_blob (stmt, 2, word, (int) word_len, SQLITE_STATIC);
  rc = sqlite3_step (stmt);
  if (rc == SQLITE_DONE)
    return FALSE;
  if (rc != SQLITE_ROW)
    return sqlite_database_set_error (db, error, _("reading the keyword index"));

  pos = sqlite3_column_blob (stmt, 0);
  end = pos + sqlite3_column_bytes (stmt, 0);
  while (next_entry (&pos, end, entry, &damaged))
    {
      int c = compare_terms (entry->term, entry->term_len, (const guint8 *) word, word_len);

      if (c == 0)
        return TRUE;
      if (c > 0)
        return FALSE;
    }
  if (damaged)
    return set_damaged (db, error);
  return FALSE;
}

/* The statement find_entry() wants: the block where @word would be */
#define FIND_BLOCK_SQL \
  "SELECT data FROM keyword_postings WHERE segment = ?1 AND term <= ?2 ORDER BY term DESC LIMIT 1"

static int
compare_batch_terms (gconstpointer a,
                     gconstpointer b,
                     gpointer      user_data)
{
  const SqliteKeywordBatch *batch = user_data;
  const Term *ta = &g_array_index (batch->terms, Term, *(const guint32 *) a);
  const Term *tb = &g_array_index (batch->terms, Term, *(const guint32 *) b);

  return compare_terms ((const guint8 *) batch->pool->str + ta->offset, ta->len,
                        (const guint8 *) batch->pool->str + tb->offset, tb->len);
}

static int
compare_postings_by_rowid (gconstpointer a,
                           gconstpointer b,
                           gpointer      user_data)
{
  GArray *docs = user_data;
  gint64 ra = g_array_index (docs, Doc, ((const Posting *) a)->doc).rowid;
  gint64 rb = g_array_index (docs, Doc, ((const Posting *) b)->doc).rowid;

  return ra < rb ? -1 : ra > rb ? 1 : 0;
}

static int
compare_docs_by_rowid (gconstpointer a,
                       gconstpointer b,
                       gpointer      user_data)
{
  GArray *docs = user_data;
  gint64 ra = g_array_index (docs, Doc, *(const guint32 *) a).rowid;
  gint64 rb = g_array_index (docs, Doc, *(const guint32 *) b).rowid;

  return ra < rb ? -1 : ra > rb ? 1 : 0;
}

static gboolean maintain (SqliteDatabase *db, GError **error);

gboolean
sqlite_keyword_batch_flush (SqliteKeywordBatch  *batch,
                            SqliteDatabase      *db,
                            GError             **error)
{
  g_autofree guint32 *start = NULL;
  g_autofree guint32 *order = NULL;
  g_autofree Posting *sorted = NULL;
  Buffer data = { NULL, 0, 0 };
  Segment segment = { 0, 0, G_MAXINT64, G_MININT64, 0, 0, 0, 0 };
  BlockWriter writer;
  guint n_terms = batch->terms->len;

  if (batch->docs->len > 0 && !sqlite_database_check_language (db, error))
    return FALSE;

  for (guint i = 0; i < batch->docs->len; i++)
    {
      const Doc *doc = &g_array_index (batch->docs, Doc, i);

      if (doc->removed)
        continue;
      segment.docs++;
      segment.tokens += doc->length;
      segment.first_rowid = MIN (segment.first_rowid, doc->rowid);
      segment.last_rowid = MAX (segment.last_rowid, doc->rowid);
    }
  if (segment.docs == 0)
    {
      gboolean removed = batch->removed;

      /* Nothing added; deletions may have made a segment due for rewriting */
      batch_reset (batch);
      return !removed || maintain (db, error);
    }

  /* The postings grouped by word (counting sort), in the order added,
   * which is rowid order unless told otherwise */
  start = g_new0 (guint32, n_terms + 1);
  for (guint t = 0; t < n_terms; t++)
    start[t + 1] = start[t] + g_array_index (batch->terms, Term, t).n_postings;
  sorted = g_new (Posting, MAX (batch->n_postings, 1));
  {
    g_autofree guint32 *fill = g_memdup2 (start, n_terms * sizeof (guint32));

    for (guint i = 0; i < batch->n_postings; i++)
      {
        const Posting *posting = &batch->postings[i];

        sorted[fill[posting->term]++] = *posting;
      }
  }
  if (batch->unsorted)
    for (guint t = 0; t < n_terms; t++)
      g_qsort_with_data (sorted + start[t], (gint) (start[t + 1] - start[t]), sizeof (Posting),
                         compare_postings_by_rowid, batch->docs);

  /* The words in the order the table keeps them, so that rows are
   * appended to the b-tree rather than inserted here and there */
  order = g_new (guint32, n_terms);
  for (guint t = 0; t < n_terms; t++)
    order[t] = t;
  g_qsort_with_data (order, (gint) n_terms, sizeof (guint32), compare_batch_terms, batch);

  /* The documents' runs, in rowid order */
  {
    g_autofree guint32 *by_rowid = g_new (guint32, batch->docs->len);
    g_autoptr(GArray) runs = g_array_new (FALSE, FALSE, sizeof (Run));
    Buffer encoded = { NULL, 0, 0 };
    guint32 key = 0;
    gboolean ok;

    for (guint i = 0; i < batch->docs->len; i++)
      by_rowid[i] = i;
    if (batch->unsorted)
      g_qsort_with_data (by_rowid, (gint) batch->docs->len, sizeof (guint32), compare_docs_by_rowid, batch->docs);
    for (guint i = 0; i < batch->docs->len; i++)
      {
        const Doc *doc = &g_array_index (batch->docs, Doc, by_rowid[i]);
        Run *run;

        if (doc->removed)
          continue;
        if (runs->len == 0 || doc->key != key)
          {
            Run new_run = { doc->rowid, 0, 0 };

            g_array_append_val (runs, new_run);
            key = doc->key;
          }
        run = &g_array_index (runs, Run, runs->len - 1);
        run->chunks++;
        run->words += doc->length;
      }
    encode_runs ((const Run *) (gpointer) runs->data, runs->len, &encoded);

    segment.id = next_segment_id (db, error);
    ok = segment.id != 0 && insert_segment (db, &segment, &encoded, error);
    buffer_clear (&encoded);
    if (!ok)
      return FALSE;
  }

  block_writer_init (&writer, db, segment.id);
  for (guint o = 0; o < n_terms; o++)
    {
      guint t = order[o];
      const Term *term = &g_array_index (batch->terms, Term, t);
      gint64 previous = 0, docs = 0;

      data.len = 0;
      for (guint32 p = start[t]; p < start[t + 1]; p++)
        {
          const Doc *doc = &g_array_index (batch->docs, Doc, sorted[p].doc);

          if (doc->removed)
            continue;
          put_varint (&data, (guint64) (doc->rowid - previous));
          put_varint (&data, sorted[p].tf);
          put_varint (&data, doc->length);
          previous = doc->rowid;
          docs++;
        }
      if (docs > 0 &&
          !block_writer_add (&writer, (const guint8 *) batch->pool->str + term->offset, term->len, docs, &data,
                             error))
        {
          block_writer_clear (&writer);
          buffer_clear (&data);
          return FALSE;
        }
    }
  buffer_clear (&data);
  if (!block_writer_emit (&writer, error))
    {
      block_writer_clear (&writer);
      return FALSE;
    }
  block_writer_clear (&writer);

  batch_reset (batch);
  return maintain (db, error);
}

/* ---- reading postings ---- */

/* One word's chunks, in rowid order */
typedef struct
{
  GArray *rowids;    /* gint64 */
  GArray *tfs;       /* guint32 */
  GArray *lengths;   /* guint32 */
} PostingList;

static void
posting_list_init (PostingList *list)
{
  list->rowids = g_array_new (FALSE, FALSE, sizeof (gint64));
  list->tfs = g_array_new (FALSE, FALSE, sizeof (guint32));
  list->lengths = g_array_new (FALSE, FALSE, sizeof (guint32));
}

/* Sets how many postings @list holds (new ones uninitialised) */
static void
posting_list_set_size (PostingList *list,
                       guint        n)
{
  g_array_set_size (list->rowids, n);
  g_array_set_size (list->tfs, n);
  g_array_set_size (list->lengths, n);
}

static void
posting_list_clear (PostingList *list)
{
  g_clear_pointer (&list->rowids, g_array_unref);
  g_clear_pointer (&list->tfs, g_array_unref);
  g_clear_pointer (&list->lengths, g_array_unref);
}

static gint
compare_rowids (gconstpointer a,
                gconstpointer b)
{
  gint64 ra = *(const gint64 *) a, rb = *(const gint64 *) b;

  return ra < rb ? -1 : ra > rb ? 1 : 0;
}

/* Whether @rowid is in @deleted (sorted; may be NULL) */
static gboolean
is_deleted (GArray *deleted,
            gint64  rowid)
{
  return deleted != NULL && deleted->len > 0 && g_array_binary_search (deleted, &rowid, compare_rowids, NULL);
}

/* Decodes @data (postings of a segment covering [@first, @last]) onto
 * @list, leaving out @deleted rowids; FALSE when it is not well formed */
static gboolean
decode_postings (const guint8 *data,
                 gsize         size,
                 gint64        first,
                 gint64        last,
                 GArray       *deleted,
                 PostingList  *list)
{
  const guint8 *pos = data, *end = data + size;
  gint64 rowid = 0;
  /* A posting takes three bytes at least: room for all, written in place */
  guint old_len = list->rowids->len, n = old_len;
  gint64 *rowids;
  guint32 *tfs, *lengths;
  gboolean check_deleted = deleted != NULL && deleted->len > 0;

  posting_list_set_size (list, old_len + (guint) (size / 3));
  rowids = (gint64 *) (gpointer) list->rowids->data;
  tfs = (guint32 *) (gpointer) list->tfs->data;
  lengths = (guint32 *) (gpointer) list->lengths->data;

  while (pos < end)
    {
      guint64 delta, tf, length;

      /* (one-byte varints, the common case, without the general decoder) */
      if (end - pos >= 3 && pos[0] < 0x80 && pos[1] < 0x80 && pos[2] < 0x80)
        {
          delta = pos[0];
          tf = pos[1];
          length = pos[2];
          pos += 3;
        }
      else if (!get_varint (&pos, end, &delta) || !get_varint (&pos, end, &tf) || !get_varint (&pos, end, &length))
        goto damaged;
      if ((delta == 0 && rowid != 0) || delta > (guint64) G_MAXINT64 - (guint64) rowid || tf == 0 ||
          tf > length || length > G_MAXUINT32)
        goto damaged;
      rowid += (gint64) delta;
      if (rowid < first || rowid > last)
        goto damaged;
      if (check_deleted && is_deleted (deleted, rowid))
        continue;
      rowids[n] = rowid;
      tfs[n] = (guint32) tf;
      lengths[n] = (guint32) length;
      n++;
    }

  posting_list_set_size (list, n);
  return TRUE;

damaged:
  posting_list_set_size (list, old_len);
  return FALSE;
}

/* The rowids of deleted chunks in [@first, @last], sorted */
static GArray *
read_deleted (SqliteDatabase  *db,
              gint64           first,
              gint64           last,
              GError         **error)
{
  g_autoptr(sqlite3_stmt) stmt = sqlite_database_prepare (db, "SELECT rowid FROM keyword_deleted "
                                                              "WHERE rowid BETWEEN ?1 AND ?2 ORDER BY rowid",
                                                          error);
  g_autoptr(GArray) deleted = NULL;
  int rc;

  if (stmt == NULL)
    return NULL;
  sqlite3_bind_int64 (stmt, 1, first);
  sqlite3_bind_int64 (stmt, 2, last);
  deleted = g_array_new (FALSE, FALSE, sizeof (gint64));
  while ((rc = sqlite3_step (stmt)) == SQLITE_ROW)
    {
      gint64 rowid = sqlite3_column_int64 (stmt, 0);

      g_array_append_val (deleted, rowid);
    }
  if (rc != SQLITE_DONE)
    {
      sqlite_database_set_error (db, error, _("reading the keyword index"));
      return NULL;
    }
  return g_steal_pointer (&deleted);
}

/* The rowids of every deleted chunk, sorted; NULL when there are none */
static gboolean
load_deleted (SqliteDatabase  *db,
              GArray          *segments,
              GArray         **out_deleted,
              GError         **error)
{
  gint64 n = 0;

  *out_deleted = NULL;
  for (guint i = 0; i < segments->len; i++)
    n += g_array_index (segments, Segment, i).deleted_docs;
  if (n == 0)
    return TRUE;

  *out_deleted = read_deleted (db, G_MININT64, G_MAXINT64, error);
  return *out_deleted != NULL;
}

/* Reads the postings of @word from every segment */
static gboolean
read_word (SqliteDatabase  *db,
           GArray          *segments,
           GArray          *deleted,
           const char      *word,
           PostingList     *list,
           GError         **error)
{
  g_autoptr(sqlite3_stmt) stmt = sqlite_database_prepare (db, FIND_BLOCK_SQL, error);

  if (stmt == NULL)
    return FALSE;
  posting_list_init (list);
  for (guint i = 0; i < segments->len; i++)
    {
      const Segment *segment = &g_array_index (segments, Segment, i);
      GError *local_error = NULL;
      Entry entry;

      if (!find_entry (db, stmt, segment->id, word, &entry, &local_error))
        {
          if (local_error != NULL)
            {
              g_propagate_error (error, local_error);
              return FALSE;
            }
          continue;
        }
      if (!decode_postings (entry.postings, entry.postings_len, segment->first_rowid, segment->last_rowid,
                            deleted, list))
        return set_damaged (db, error);
    }

  return TRUE;
}

static void
live_totals (GArray *segments,
             gint64 *docs,
             gint64 *tokens)
{
  *docs = *tokens = 0;
  for (guint i = 0; i < segments->len; i++)
    {
      const Segment *segment = &g_array_index (segments, Segment, i);

      *docs += segment->docs - segment->deleted_docs;
      *tokens += segment->tokens - segment->deleted_tokens;
    }
}

gboolean
sqlite_keywords_count (SqliteDatabase  *db,
                       GPtrArray       *words,
                       gint64          *hits,
                       gint64          *n_chunks,
                       GError         **error)
{
  g_autoptr(GArray) segments = list_segments (db, error);
  g_autoptr(sqlite3_stmt) stmt = NULL;
  gint64 tokens;

  if (segments == NULL)
    return FALSE;
  live_totals (segments, n_chunks, &tokens);

  stmt = sqlite_database_prepare (db, FIND_BLOCK_SQL, error);
  if (stmt == NULL)
    return FALSE;
  for (guint w = 0; w < words->len; w++)
    {
      const char *word = g_ptr_array_index (words, w);

      hits[w] = 0;
      for (guint i = 0; i < segments->len; i++)
        {
          GError *local_error = NULL;
          Entry entry;

          if (find_entry (db, stmt, g_array_index (segments, Segment, i).id, word, &entry, &local_error))
            hits[w] += (gint64) MIN (entry.docs, (guint64) G_MAXINT32);
          else if (local_error != NULL)
            {
              g_propagate_error (error, local_error);
              return FALSE;
            }
        }
      /* (deleted chunks are still counted: at most this many) */
      hits[w] = MIN (hits[w], *n_chunks);
    }

  return TRUE;
}

/* ---- queries ---- */

struct _SqliteKeywordQuery
{
  GArray *candidates;   /* SqliteKeywordHit, in rowid order */
  GArray *documents;    /* SqliteKeywordHit: a document's best chunk and the
                         * document's score, in rowid order; NULL when not
                         * asked for */
  GArray *top;          /* SqliteKeywordHit, best first */
};

void
sqlite_keyword_query_free (SqliteKeywordQuery *query)
{
  if (query == NULL)
    return;
  g_array_unref (query->candidates);
  g_clear_pointer (&query->documents, g_array_unref);
  g_clear_pointer (&query->top, g_array_unref);
  g_free (query);
}

/* The runs last read, kept with the connection while the database is
 * unchanged: by another connection (PRAGMA data_version) or by this one
 * (sqlite3_total_changes64()). A search of a large store read them anew
 * each time, most of the cost of a document query. */
typedef struct
{
  gint64  data_version;
  gint64  changes;
  GArray *runs;
} RunsCache;

static void
runs_cache_free (gpointer data)
{
  RunsCache *cache = data;

  g_array_unref (cache->runs);
  g_free (cache);
}

/* The live runs of every segment, in rowid order: documents as the index
 * knows them (a reference) */
static GArray *
load_runs (SqliteDatabase  *db,
           GArray          *segments,
           GArray          *deleted,
           GError         **error)
{
  g_autoptr(GArray) runs = NULL;
  RunsCache *cache = db->keyword_runs;
  gint64 data_version = -1, changes = sqlite3_total_changes64 (db->handle);

  {
    g_autoptr(sqlite3_stmt) version = sqlite_database_prepare (db, "PRAGMA data_version", error);

    if (version == NULL)
      return NULL;
    if (sqlite3_step (version) == SQLITE_ROW)
      data_version = sqlite3_column_int64 (version, 0);
  }
  if (cache != NULL && data_version >= 0 && cache->data_version == data_version && cache->changes == changes)
    return g_array_ref (cache->runs);

  runs = g_array_new (FALSE, FALSE, sizeof (Run));
  for (guint i = 0; i < segments->len; i++)
    {
      const Segment *segment = &g_array_index (segments, Segment, i);
      guint from = runs->len;

      if (!read_runs (db, segment, runs, error))
        return NULL;
      if (segment->deleted_docs > 0)
        runs_drop_deleted (runs, from, segment->last_rowid, deleted);
    }

  if (data_version >= 0)
    {
      if (db->keyword_runs_free != NULL)
        db->keyword_runs_free (db->keyword_runs);
      cache = g_new (RunsCache, 1);
      cache->data_version = data_version;
      cache->changes = changes;
      cache->runs = g_array_ref (runs);
      db->keyword_runs = cache;
      db->keyword_runs_free = runs_cache_free;
    }
  return g_steal_pointer (&runs);
}

/* The run of @rowid, looking on from *@run (rowids come in order) */
static inline guint
run_of (const Run *runs,
        guint      n_runs,
        guint      run,
        gint64     rowid)
{
  while (run + 1 < n_runs && runs[run + 1].head <= rowid)
    run++;
  return run;
}

static inline double
bm25 (double tf,
      double length,
      double avgdl)
{
  return (tf * (BM25_K1 + 1.0)) / (tf + BM25_K1 * (1.0 - BM25_B + BM25_B * length / avgdl));
}

static inline double
bm25_idf (double n,
          double df)
{
  double idf = log ((n - df + 0.5) / (df + 0.5));

  return idf > 0.0 ? idf : 1e-6;
}

/* The BM25 score of a document of @words words that holds each of @n_lists
 * words @tf[l] times (weighed @weights[l]); @tf is emptied for the next */
static double
document_score (double       *tf,
                const double *weights,
                guint         n_lists,
                guint32       words,
                double        avgdl)
{
  double score = 0;

  for (guint l = 0; l < n_lists; l++)
    {
      if (tf[l] > 0)
        score += weights[l] * bm25 (tf[l], words, avgdl);
      tf[l] = 0;
    }
  return score;
}

SqliteKeywordQuery *
sqlite_keyword_query_new (SqliteDatabase  *db,
                          GPtrArray       *words,
                          const gboolean  *skip,
                          gboolean         documents,
                          GCancellable    *cancellable,
                          GError         **error)
{
  g_autoptr(GArray) segments = list_segments (db, error);
  g_autoptr(GArray) deleted = NULL;
  g_autoptr(GArray) runs = NULL;
  g_autoptr(SqliteKeywordQuery) query = NULL;
  g_autofree PostingList *lists = NULL;
  g_autofree double *weights = NULL;
  g_autofree guint *times = NULL;
  g_autofree double *doc_weights = NULL;
  g_autofree double *doc_tf = NULL;
  g_autofree guint *cursor = NULL;
  const Run *run_list = NULL;
  guint n_lists = 0, n_runs = 0, run = 0;
  gint64 n_docs, n_tokens;
  double avgdl, doc_avgdl = 1.0;
  SqliteKeywordHit document = { 0, 0 };
  double best_chunk = -1.0;
  gboolean ok = TRUE, in_document = FALSE;

  if (segments == NULL || !load_deleted (db, segments, &deleted, error))
    return NULL;

  query = g_new0 (SqliteKeywordQuery, 1);
  query->candidates = g_array_new (FALSE, FALSE, sizeof (SqliteKeywordHit));
  if (documents)
    query->documents = g_array_new (FALSE, FALSE, sizeof (SqliteKeywordHit));
  live_totals (segments, &n_docs, &n_tokens);
  if (n_docs <= 0)
    return g_steal_pointer (&query);
  avgdl = (double) n_tokens / (double) n_docs;

  if (documents)
    {
      gint64 words_in_runs = 0;

      runs = load_runs (db, segments, deleted, error);
      if (runs == NULL)
        return NULL;
      run_list = (const Run *) (gpointer) runs->data;
      n_runs = runs->len;
      for (guint r = 0; r < n_runs; r++)
        words_in_runs += run_list[r].words;
      if (n_runs == 0)
        documents = FALSE;
      else
        doc_avgdl = MAX ((double) words_in_runs / n_runs, 1.0);
    }

  /* One list per distinct word; a word given twice weighs twice, as two
   * phrases would in FTS5's bm25() */
  lists = g_new0 (PostingList, words->len);
  weights = g_new0 (double, words->len);
  times = g_new0 (guint, words->len);
  doc_weights = g_new0 (double, words->len);
  doc_tf = g_new0 (double, words->len);
  for (guint w = 0; w < words->len && ok; w++)
    {
      const char *word = g_ptr_array_index (words, w);
      gboolean seen = FALSE;
      double idf, df;

      if (skip != NULL && skip[w])
        continue;
      for (guint v = 0; v < w && !seen; v++)
        if ((skip == NULL || !skip[v]) && g_str_equal (word, g_ptr_array_index (words, v)))
          seen = TRUE;
      if (seen)
        continue;

      if (g_cancellable_set_error_if_cancelled (cancellable, error) ||
          !read_word (db, segments, deleted, word, &lists[n_lists], error))
        {
          posting_list_clear (&lists[n_lists]);
          ok = FALSE;
          break;
        }
      df = (double) lists[n_lists].rowids->len;
      idf = bm25_idf ((double) n_docs, df);
      for (guint v = w; v < words->len; v++)
        if ((skip == NULL || !skip[v]) && g_str_equal (word, g_ptr_array_index (words, v)))
          times[n_lists]++;
      weights[n_lists] = idf * times[n_lists];

      if (documents)
        {
          const gint64 *rowids = (const gint64 *) (gpointer) lists[n_lists].rowids->data;
          guint at = 0, last = G_MAXUINT, doc_df = 0;

          /* In how many documents */
          for (guint p = 0; p < lists[n_lists].rowids->len; p++)
            {
              at = run_of (run_list, n_runs, at, rowids[p]);
              if (at != last)
                {
                  doc_df++;
                  last = at;
                }
            }
          doc_weights[n_lists] = bm25_idf ((double) n_runs, (double) doc_df) * times[n_lists];
        }
      n_lists++;
    }

  /* Every chunk in any list, in rowid order, with its score (room made
   * once: growing the arrays a hit at a time copied them over and over) */
  {
    guint most = 0;

    for (guint l = 0; l < n_lists; l++)
      most += lists[l].rowids->len;
    if (documents)
      {
        g_array_set_size (query->documents, MIN (most, n_runs));
        g_array_set_size (query->documents, 0);
      }
    else
      {
        g_array_set_size (query->candidates, most);
        g_array_set_size (query->candidates, 0);
      }
  }
  cursor = g_new0 (guint, MAX (n_lists, 1));
  while (ok)
    {
      gint64 rowid = G_MAXINT64;
      SqliteKeywordHit hit;

      for (guint l = 0; l < n_lists; l++)
        if (cursor[l] < lists[l].rowids->len)
          rowid = MIN (rowid, g_array_index (lists[l].rowids, gint64, cursor[l]));
      if (rowid == G_MAXINT64)
        break;

      /* A chunk of the next document: the last one is complete */
      if (documents)
        {
          guint next = run_of (run_list, n_runs, run, rowid);

          if (in_document && next != run)
            {
              document.score = document_score (doc_tf, doc_weights, n_lists, run_list[run].words, doc_avgdl);
              g_array_append_val (query->documents, document);
              best_chunk = -1.0;
            }
          run = next;
          in_document = TRUE;
        }

      hit.rowid = rowid;
      hit.score = 0;
      for (guint l = 0; l < n_lists; l++)
        if (cursor[l] < lists[l].rowids->len && g_array_index (lists[l].rowids, gint64, cursor[l]) == rowid)
          {
            double tf = g_array_index (lists[l].tfs, guint32, cursor[l]);
            double length = g_array_index (lists[l].lengths, guint32, cursor[l]);

            hit.score += weights[l] * bm25 (tf, length, avgdl);
            doc_tf[l] += tf;
            cursor[l]++;
          }
      /* (a query of documents keeps each one's best chunk only) */
      if (!documents)
        g_array_append_val (query->candidates, hit);

      if (documents && hit.score > best_chunk)
        {
          best_chunk = hit.score;
          document.rowid = rowid;
        }
    }
  if (ok && documents && in_document)
    {
      document.score = document_score (doc_tf, doc_weights, n_lists, run_list[run].words, doc_avgdl);
      g_array_append_val (query->documents, document);
    }

  for (guint l = 0; l < n_lists; l++)
    posting_list_clear (&lists[l]);
  if (!ok)
    return NULL;

  return g_steal_pointer (&query);
}

/* Better first: higher score, then lower rowid */
static inline gboolean
hit_before (const SqliteKeywordHit *a,
            const SqliteKeywordHit *b)
{
  return a->score > b->score || (a->score == b->score && a->rowid < b->rowid);
}

static int
compare_hits (gconstpointer a,
              gconstpointer b)
{
  return hit_before (a, b) ? -1 : hit_before (b, a) ? 1 : 0;
}

/* A heap whose root is the worst kept hit */
static void
sift_down (SqliteKeywordHit *heap,
           gsize             n,
           gsize             i)
{
  for (;;)
    {
      gsize worst = i, left = 2 * i + 1, right = left + 1;
      SqliteKeywordHit swap;

      if (left < n && hit_before (&heap[worst], &heap[left]))
        worst = left;
      if (right < n && hit_before (&heap[worst], &heap[right]))
        worst = right;
      if (worst == i)
        return;
      swap = heap[i];
      heap[i] = heap[worst];
      heap[worst] = swap;
      i = worst;
    }
}

static const SqliteKeywordHit *
query_top (SqliteKeywordQuery *query,
           GArray             *from,
           gsize               limit,
           gsize              *n_hits)
{
  const SqliteKeywordHit *all = (const SqliteKeywordHit *) (gpointer) from->data;
  gsize n = from->len;
  SqliteKeywordHit *heap;
  gsize kept = 0;

  limit = MIN (limit, n);
  g_clear_pointer (&query->top, g_array_unref);
  query->top = g_array_sized_new (FALSE, FALSE, sizeof (SqliteKeywordHit), (guint) MAX (limit, 1));
  g_array_set_size (query->top, (guint) limit);
  heap = (SqliteKeywordHit *) (gpointer) query->top->data;

  if (limit > 0)
    for (gsize i = 0; i < n; i++)
      {
        if (kept < limit)
          {
            /* (heapified once full) */
            heap[kept++] = all[i];
            if (kept == limit)
              for (gsize j = limit / 2 + 1; j > 0; j--)
                sift_down (heap, limit, j - 1);
          }
        else if (hit_before (&all[i], &heap[0]))
          {
            heap[0] = all[i];
            sift_down (heap, limit, 0);
          }
      }

  qsort (heap, limit, sizeof (SqliteKeywordHit), compare_hits);
  *n_hits = limit;
  return heap;
}

const SqliteKeywordHit *
sqlite_keyword_query_top (SqliteKeywordQuery *query,
                          gsize               limit,
                          gsize              *n_hits)
{
  return query_top (query, query->candidates, limit, n_hits);
}

const SqliteKeywordHit *
sqlite_keyword_query_top_documents (SqliteKeywordQuery *query,
                                    gsize               limit,
                                    gsize              *n_hits)
{
  g_return_val_if_fail (query->documents != NULL, NULL);

  return query_top (query, query->documents, limit, n_hits);
}

/* ---- merging ---- */

/* A segment's entries, read block by block in word order */
typedef struct
{
  sqlite3_stmt  *stmt;
  const Segment *segment;
  const guint8  *pos, *end;   /* in the current block */
  Entry          entry;       /* the current entry */
  gboolean       done;
} Cursor;

/* Moves to the next entry, reading the next block when one is used up */
static gboolean
cursor_next (SqliteDatabase  *db,
             Cursor          *cursor,
             GError         **error)
{
  for (;;)
    {
      gboolean damaged;
      int rc;

      if (cursor->pos != NULL && next_entry (&cursor->pos, cursor->end, &cursor->entry, &damaged))
        return TRUE;
      if (cursor->pos != NULL && damaged)
        return set_damaged (db, error);

      rc = sqlite3_step (cursor->stmt);
      if (rc == SQLITE_DONE)
        {
          cursor->done = TRUE;
          return TRUE;
        }
      if (rc != SQLITE_ROW)
        return sqlite_database_set_error (db, error, _("merging the keyword index"));
      cursor->pos = sqlite3_column_blob (cursor->stmt, 0);
      cursor->end = cursor->pos + sqlite3_column_bytes (cursor->stmt, 0);
      if (cursor->pos == NULL)
        cursor->pos = cursor->end = (const guint8 *) "";
    }
}

/* Writes @segments[@from, @to) (neighbours) as one segment of @level,
 * without their deleted chunks, and removes them */
static gboolean
merge_segments (SqliteDatabase  *db,
                GArray          *segments,
                guint            from,
                guint            to,
                gint64           level,
                GError         **error)
{
  g_autofree Cursor *cursors = g_new0 (Cursor, to - from);
  g_autoptr(GArray) deleted = NULL;
  g_autoptr(GArray) runs = g_array_new (FALSE, FALSE, sizeof (Run));
  Buffer data = { NULL, 0, 0 };
  Buffer encoded_runs = { NULL, 0, 0 };
  PostingList list = { NULL, NULL, NULL };
  Segment merged = { 0, level, G_MAXINT64, G_MININT64, 0, 0, 0, 0 };
  BlockWriter writer = { NULL, 0, { NULL, 0, 0 }, { NULL, 0, 0 }, 0 };
  gboolean ok = FALSE;
  guint n = to - from;

  for (guint i = from; i < to; i++)
    {
      const Segment *segment = &g_array_index (segments, Segment, i);

      merged.first_rowid = MIN (merged.first_rowid, segment->first_rowid);
      merged.last_rowid = MAX (merged.last_rowid, segment->last_rowid);
      merged.docs += segment->docs - segment->deleted_docs;
      merged.tokens += segment->tokens - segment->deleted_tokens;
    }

  /* The deleted chunks of these segments */
  deleted = read_deleted (db, merged.first_rowid, merged.last_rowid, error);
  if (deleted == NULL)
    return FALSE;

  /* Their documents' runs, without the deleted chunks */
  for (guint i = from; i < to; i++)
    {
      const Segment *segment = &g_array_index (segments, Segment, i);
      guint first = runs->len;

      if (!read_runs (db, segment, runs, error))
        return FALSE;
      runs_drop_deleted (runs, first, segment->last_rowid, deleted);
    }
  encode_runs ((const Run *) (gpointer) runs->data, runs->len, &encoded_runs);

  merged.id = next_segment_id (db, error);
  if (merged.id == 0)
    {
      buffer_clear (&encoded_runs);
      return FALSE;
    }

  /* One statement per segment, stepped side by side in term order */
  for (guint i = 0; i < n; i++)
    {
      cursors[i].segment = &g_array_index (segments, Segment, from + i);
      if (sqlite3_prepare_v2 (db->handle, "SELECT data FROM keyword_postings WHERE segment = ?1 "
                                          "ORDER BY term", -1, &cursors[i].stmt, NULL) != SQLITE_OK)
        {
          sqlite_database_set_error (db, error, _("merging the keyword index"));
          goto out;
        }
      sqlite3_bind_int64 (cursors[i].stmt, 1, cursors[i].segment->id);
      if (!cursor_next (db, &cursors[i], error))
        goto out;
    }

  posting_list_init (&list);
  block_writer_init (&writer, db, merged.id);
  for (;;)
    {
      g_autofree guint8 *term = NULL;
      gsize term_len = 0;
      gint64 previous = 0;

      /* The smallest term among the cursors */
      for (guint i = 0; i < n; i++)
        {
          if (cursors[i].done)
            continue;
          if (term == NULL ||
              compare_terms (cursors[i].entry.term, cursors[i].entry.term_len, term, term_len) < 0)
            {
              g_free (term);
              term = g_memdup2 (cursors[i].entry.term_len > 0 ? cursors[i].entry.term : (const guint8 *) "",
                                MAX (cursors[i].entry.term_len, 1));
              term_len = cursors[i].entry.term_len;
            }
        }
      if (term == NULL)
        break;

      /* Its postings from each segment holding it, in rowid order */
      posting_list_set_size (&list, 0);
      for (guint i = 0; i < n; i++)
        {
          if (cursors[i].done ||
              compare_terms (cursors[i].entry.term, cursors[i].entry.term_len, term, term_len) != 0)
            continue;
          if (!decode_postings (cursors[i].entry.postings, cursors[i].entry.postings_len,
                                cursors[i].segment->first_rowid, cursors[i].segment->last_rowid, deleted, &list))
            {
              set_damaged (db, error);
              goto out;
            }
          if (!cursor_next (db, &cursors[i], error))
            goto out;
        }
      if (list.rowids->len == 0)
        continue;

      data.len = 0;
      for (guint p = 0; p < list.rowids->len; p++)
        {
          gint64 rowid = g_array_index (list.rowids, gint64, p);

          put_varint (&data, (guint64) (rowid - previous));
          put_varint (&data, g_array_index (list.tfs, guint32, p));
          put_varint (&data, g_array_index (list.lengths, guint32, p));
          previous = rowid;
        }
      if (!block_writer_add (&writer, term, term_len, list.rowids->len, &data, error))
        goto out;
    }
  if (!block_writer_emit (&writer, error))
    goto out;

  for (guint i = 0; i < n; i++)
    g_clear_pointer (&cursors[i].stmt, sqlite3_finalize);

  if (merged.docs > 0 && !insert_segment (db, &merged, &encoded_runs, error))
    goto out;
  {
    g_autoptr(sqlite3_stmt) postings = sqlite_database_prepare (db, "DELETE FROM keyword_postings "
                                                                    "WHERE segment = ?1", error);
    g_autoptr(sqlite3_stmt) segment = sqlite_database_prepare (db, "DELETE FROM keyword_segments WHERE id = ?1",
                                                               error);
    g_autoptr(sqlite3_stmt) gone = sqlite_database_prepare (db, "DELETE FROM keyword_deleted "
                                                                "WHERE rowid BETWEEN ?1 AND ?2", error);

    if (postings == NULL || segment == NULL || gone == NULL)
      goto out;
    for (guint i = from; i < to; i++)
      {
        gint64 id = g_array_index (segments, Segment, i).id;

        sqlite3_reset (postings);
        sqlite3_bind_int64 (postings, 1, id);
        sqlite3_reset (segment);
        sqlite3_bind_int64 (segment, 1, id);
        if (!sqlite_database_exec_step (db, postings, _("merging the keyword index"), error) ||
            !sqlite_database_exec_step (db, segment, _("merging the keyword index"), error))
          goto out;
      }
    sqlite3_bind_int64 (gone, 1, merged.first_rowid);
    sqlite3_bind_int64 (gone, 2, merged.last_rowid);
    if (!sqlite_database_exec_step (db, gone, _("merging the keyword index"), error))
      goto out;
  }
  ok = TRUE;

out:
  for (guint i = 0; i < n; i++)
    if (cursors[i].stmt != NULL)
      sqlite3_finalize (cursors[i].stmt);
  posting_list_clear (&list);
  block_writer_clear (&writer);
  buffer_clear (&data);
  buffer_clear (&encoded_runs);
  return ok;
}

/* Merges the trailing run of MERGE_FANIN segments of one level, and
 * rewrites a segment a quarter deleted, until neither is left */
static gboolean
maintain (SqliteDatabase  *db,
          GError         **error)
{
  for (;;)
    {
      g_autoptr(GArray) segments = list_segments (db, error);
      guint run = 0, n;

      if (segments == NULL)
        return FALSE;
      n = segments->len;

      while (run < n && g_array_index (segments, Segment, n - 1 - run).level ==
                          g_array_index (segments, Segment, n - 1).level)
        run++;
      if (n > 0 && run >= MERGE_FANIN)
        {
          if (!merge_segments (db, segments, n - run, n, g_array_index (segments, Segment, n - 1).level + 1, error))
            return FALSE;
          continue;
        }

      for (run = 0; run < n; run++)
        {
          const Segment *segment = &g_array_index (segments, Segment, run);

          if (segment->deleted_docs > 0 && segment->deleted_docs * 4 >= segment->docs)
            break;
        }
      if (run == n)
        return TRUE;
      if (!merge_segments (db, segments, run, run + 1, g_array_index (segments, Segment, run).level, error))
        return FALSE;
    }
}

/* ---- keeping ---- */

gboolean
sqlite_keywords_rebuild (SqliteDatabase  *db,
                         void           (*progress) (gint64 done, gint64 total),
                         GCancellable    *cancellable,
                         GError         **error)
{
  g_autoptr(SqliteKeywordBatch) batch = sqlite_keyword_batch_new (db->stemmer);
  g_autoptr(sqlite3_stmt) rows = NULL;
  g_autofree char *last_namespace = NULL;
  g_autofree char *last_document = NULL;
  gint64 done = 0, total = 0, pending = 0;
  int rc;

  if (sqlite3_exec (db->handle, "DELETE FROM keyword_postings; DELETE FROM keyword_segments; "
                                "DELETE FROM keyword_deleted;", NULL, NULL, NULL) != SQLITE_OK)
    return sqlite_database_set_error (db, error, _("building the keyword index"));

  if (progress != NULL)
    {
      g_autoptr(sqlite3_stmt) count = sqlite_database_prepare (db, "SELECT count (*) FROM chunks", error);

      if (count == NULL)
        return FALSE;
      if (sqlite3_step (count) == SQLITE_ROW)
        total = sqlite3_column_int64 (count, 0);
    }

  /* (a statement of its own: the flushes use the cached ones) */
  if (sqlite3_prepare_v2 (db->handle, "SELECT rowid, text, namespace, document_id FROM chunks ORDER BY rowid",
                          -1, &rows, NULL) != SQLITE_OK)
    return sqlite_database_set_error (db, error, _("building the keyword index"));
  while ((rc = sqlite3_step (rows)) == SQLITE_ROW)
    {
      const char *text = (const char *) sqlite3_column_text (rows, 1);
      const char *namespace_ = (const char *) sqlite3_column_text (rows, 2);
      const char *document_id = (const char *) sqlite3_column_text (rows, 3);
      gboolean same_document = document_id != NULL && g_strcmp0 (namespace_, last_namespace) == 0 &&
                               g_strcmp0 (document_id, last_document) == 0;

      /* A segment ends where a document does: documents are scored from
       * their runs in one segment */
      if (pending >= REBUILD_BATCH && !same_document)
        {
          if (g_cancellable_set_error_if_cancelled (cancellable, error))
            {
              sqlite3_finalize (g_steal_pointer (&rows));
              return FALSE;
            }
          if (!sqlite_keyword_batch_flush (batch, db, error))
            {
              sqlite3_finalize (g_steal_pointer (&rows));
              return FALSE;
            }
          if (progress != NULL)
            progress (done, total);
          pending = 0;
        }
      sqlite_keyword_batch_add (batch, sqlite3_column_int64 (rows, 0), namespace_, document_id,
                                text != NULL ? text : "");
      done++;
      pending++;
      if (!same_document)
        {
          g_free (last_namespace);
          g_free (last_document);
          last_namespace = g_strdup (namespace_);
          last_document = g_strdup (document_id);
        }
    }
  sqlite3_finalize (g_steal_pointer (&rows));
  if (rc != SQLITE_DONE)
    return sqlite_database_set_error (db, error, _("building the keyword index"));
  if (!sqlite_keyword_batch_flush (batch, db, error))
    return FALSE;
  if (progress != NULL)
    progress (done, total);

  return TRUE;
}

/* How many rowids of a segment the check tallies at once (4 bytes each) */
#define VERIFY_WINDOW (G_GINT64_CONSTANT (1) << 24)

gboolean
sqlite_keywords_verify (SqliteDatabase  *db,
                        GCancellable    *cancellable,
                        GError         **error)
{
  g_autoptr(GArray) segments = list_segments (db, error);
  g_autoptr(GArray) deleted = NULL;
  g_autoptr(GArray) all = g_array_new (FALSE, FALSE, sizeof (gint64));   /* indexed chunks, in order */
  g_autoptr(sqlite3_stmt) postings = NULL;
  g_autoptr(sqlite3_stmt) chunks = NULL;
  gint64 n_docs, n_tokens, n_chunks = 0;
  guint next = 0;
  PostingList list = { NULL, NULL, NULL };
  gboolean ok = FALSE;
  int rc;

  if (segments == NULL || !load_deleted (db, segments, &deleted, error))
    return FALSE;
  live_totals (segments, &n_docs, &n_tokens);

  posting_list_init (&list);
  postings = sqlite_database_prepare (db, "SELECT term, data, docs FROM keyword_postings WHERE segment = ?1 "
                                          "ORDER BY term", error);
  if (postings == NULL)
    goto out;

  /* Every posting well formed and in its segment's range; a chunk's length
   * the same in all its postings; as many chunks and words as counted. A
   * segment's rowids are tallied in a table of their range, a window of
   * VERIFY_WINDOW rowids at a time (the segment is read once per window) */
  for (guint i = 0; i < segments->len; i++)
    {
      const Segment *segment = &g_array_index (segments, Segment, i);
      gint64 tokens = 0, distinct = 0;

      if (segment->docs < 0 || segment->deleted_docs < 0 || segment->deleted_docs > segment->docs ||
          segment->first_rowid > segment->last_rowid ||
          (i > 0 && segment->first_rowid <= g_array_index (segments, Segment, i - 1).last_rowid))
        {
          set_damaged (db, error);
          goto out;
        }

      for (gint64 from = segment->first_rowid; from <= segment->last_rowid; from += VERIFY_WINDOW)
        {
          gint64 window = MIN (VERIFY_WINDOW, segment->last_rowid - from + 1);
          g_autofree guint32 *lengths = g_new0 (guint32, window);
          g_autoptr(GString) previous = NULL;

          sqlite3_reset (postings);
          sqlite3_bind_int64 (postings, 1, segment->id);
          while ((rc = sqlite3_step (postings)) == SQLITE_ROW)
            {
              const guint8 *pos = sqlite3_column_blob (postings, 1);
              const guint8 *end = pos + sqlite3_column_bytes (postings, 1);
              const guint8 *first = sqlite3_column_blob (postings, 0);
              gsize first_len = (gsize) sqlite3_column_bytes (postings, 0);
              gint64 n_entries = 0;
              gboolean damaged;
              Entry entry;

              if (g_cancellable_set_error_if_cancelled (cancellable, error))
                goto out;
              /* Entries in order, each block keyed by its first, blocks in order */
              while (next_entry (&pos, end, &entry, &damaged))
                {
                  if ((n_entries == 0 && compare_terms (entry.term, entry.term_len, first, first_len) != 0) ||
                      (previous != NULL &&
                       compare_terms (entry.term, entry.term_len, (const guint8 *) previous->str,
                                      previous->len) <= 0))
                    {
                      set_damaged (db, error);
                      goto out;
                    }
                  if (previous == NULL)
                    previous = g_string_new (NULL);
                  g_string_truncate (previous, 0);
                  g_string_append_len (previous, (const char *) entry.term, (gssize) entry.term_len);
                  n_entries++;

                  posting_list_set_size (&list, 0);
                  if (!decode_postings (entry.postings, entry.postings_len, segment->first_rowid,
                                        segment->last_rowid, NULL, &list) ||
                      entry.docs != list.rowids->len)
                    {
                      set_damaged (db, error);
                      goto out;
                    }
                  for (guint p = 0; p < list.rowids->len; p++)
                    {
                      gint64 rowid = g_array_index (list.rowids, gint64, p);
                      guint32 length = g_array_index (list.lengths, guint32, p);

                      if (rowid < from || rowid >= from + window || is_deleted (deleted, rowid))
                        continue;
                      /* (stored plus one: 0 is "not seen") */
                      if (lengths[rowid - from] != 0 && lengths[rowid - from] != length + 1)
                        {
                          set_damaged (db, error);
                          goto out;
                        }
                      lengths[rowid - from] = length + 1;
                    }
                }
              if (damaged || n_entries == 0 || n_entries != sqlite3_column_int64 (postings, 2))
                {
                  set_damaged (db, error);
                  goto out;
                }
            }
          if (rc != SQLITE_DONE)
            {
              sqlite_database_set_error (db, error, _("reading the keyword index"));
              goto out;
            }

          for (gint64 k = 0; k < window; k++)
            if (lengths[k] != 0)
              {
                gint64 rowid = from + k;

                distinct++;
                tokens += lengths[k] - 1;
                g_array_append_val (all, rowid);
              }
        }

      /* The documents' runs count the segment's chunks */
      {
        g_autoptr(GArray) runs = g_array_new (FALSE, FALSE, sizeof (Run));
        gint64 in_runs = 0;

        if (!read_runs (db, segment, runs, error))
          goto out;
        for (guint r = 0; r < runs->len; r++)
          in_runs += g_array_index (runs, Run, r).chunks;
        if (in_runs != segment->docs)
          {
            set_damaged (db, error);
            goto out;
          }
      }

      /* Chunks without a word have no posting: at most this many */
      if (distinct > segment->docs - segment->deleted_docs || tokens != segment->tokens - segment->deleted_tokens)
        {
          set_damaged (db, error);
          goto out;
        }
    }

  /* Every indexed chunk is a chunk, and every chunk is counted */
  chunks = sqlite_database_prepare (db, "SELECT rowid FROM chunks ORDER BY rowid", error);
  if (chunks == NULL)
    goto out;
  while ((rc = sqlite3_step (chunks)) == SQLITE_ROW)
    {
      gint64 rowid = sqlite3_column_int64 (chunks, 0);

      n_chunks++;
      if (next < all->len && g_array_index (all, gint64, next) < rowid)
        break;
      if (next < all->len && g_array_index (all, gint64, next) == rowid)
        next++;
    }
  if (rc != SQLITE_DONE && rc != SQLITE_ROW)
    {
      sqlite_database_set_error (db, error, _("reading the chunks"));
      goto out;
    }
  if (rc == SQLITE_ROW || next != all->len || n_chunks != n_docs)
    {
      set_damaged (db, error);
      goto out;
    }
  ok = TRUE;

out:
  posting_list_clear (&list);
  return ok;
}

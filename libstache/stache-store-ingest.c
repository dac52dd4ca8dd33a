/* stache-store-ingest.c: StacheStore's ingest pipeline: reading files,
 * chunking, unchanged detection, embedding across documents, batched
 * crash-atomic writes, ::progress
 *
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */
#define _GNU_SOURCE   /* O_CLOEXEC, O_NOCTTY */
#include "config.h"

#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <glib/gstdio.h>
#include <nettle/sha2.h>

#include "stache-chunker-private.h"
#include "stache-text-formats-private.h"
#include "stache-store-private.h"

#define EMBED_BATCH 64
/* Folder ingest writes this many documents (or chunks) per transaction:
 * one commit per batch rather than per document, and a crash still leaves
 * each document wholly old or wholly new. Larger batches mean fewer
 * segments for the keyword index to merge later (see the sqlite plugin's
 * tune_keyword_index()); a batch of 8192 one-paragraph documents holds
 * about 30 MB while it waits. */
#define INGEST_BATCH_DOCUMENTS 8192
#define INGEST_BATCH_CHUNKS 8192

/* SHA-256 as lowercase hexadecimal, what g_compute_checksum_for_data()
 * gives, through Nettle: it uses the CPU's SHA instructions where there are
 * some (chosen at run time), about five times faster than GLib's, and
 * every ingested file is hashed. */
static char *
sha256_hex (const void *data,
            gsize       length)
{
  static const char hex[] = "0123456789abcdef";
  struct sha256_ctx context;
  guint8 digest[SHA256_DIGEST_SIZE];
  char *text = g_malloc (2 * SHA256_DIGEST_SIZE + 1);

  sha256_init (&context);
  sha256_update (&context, length, data);
  sha256_digest (&context, SHA256_DIGEST_SIZE, digest);
  for (guint i = 0; i < SHA256_DIGEST_SIZE; i++)
    {
      text[2 * i] = hex[digest[i] >> 4];
      text[2 * i + 1] = hex[digest[i] & 0xf];
    }
  text[2 * SHA256_DIGEST_SIZE] = '\0';

  return text;
}

static char *
make_document_id (const char *namespace_,
                  const char *kind,
                  const char *key)
{
  g_autofree char *material = g_strjoin ("\n", namespace_, kind, key, NULL);
  g_autofree char *sum = sha256_hex (material, strlen (material));

  return g_strndup (sum, 32);
}

/* "<document id>:<position>", without printf's cost for every chunk */
static char *
make_chunk_id (const char *document_id,
               guint       position)
{
  gsize length = strlen (document_id);
  char digits[16];
  gsize n = 0;
  char *id;

  do
    {
      digits[n++] = (char) ('0' + position % 10);
      position /= 10;
    }
  while (position > 0);

  id = g_malloc (length + 1 + n + 1);
  memcpy (id, document_id, length);
  id[length] = ':';
  for (gsize i = 0; i < n; i++)
    id[length + 1 + i] = digits[n - 1 - i];
  id[length + 1 + n] = '\0';

  return id;
}

/* A few leading sentences, for listings: at most 240 characters (the
 * spaces between words not counted), white space collapsed, a leading
 * Markdown "#" dropped, cut after the first sentence end past 60
 * characters. Written byte by byte into a buffer sized for the worst case
 * (it runs once per document ingested). */
#define SUMMARY_CHARS 240

static char *
make_summary (const char *text)
{
  /* each character at most 4 bytes, one space before it, then "…" */
  char summary[SUMMARY_CHARS * 5 + 4];
  char *out = summary;
  guint space = 0;   /* 1: a space is due before the next character */
  guint chars = 0;
  const char *p = text;

  while (*p != '\0' && chars < SUMMARY_CHARS)
    {
      guchar byte = (guchar) *p;

      if (byte < 0x80 && (byte != '#' || out > summary))
        {
          /* ASCII without a branch on white space, which comes at
           * unpredictable places: the space and the byte are written,
           * and kept or not */
          guint is_space = g_ascii_isspace (byte) ? 1 : 0;

          *out = ' ';
          out += space & (is_space ^ 1);
          *out = (char) byte;
          out += is_space ^ 1;
          chars += is_space ^ 1;
          space = is_space ? (out > summary) : 0;
          p++;

          if (G_UNLIKELY (byte == '.' || byte == '!' || byte == '?') && chars >= 60)
            return g_strndup (summary, (gsize) (out - summary));
          continue;
        }
      if (byte == '#')
        {
          p++;   /* a leading Markdown heading mark */
          continue;
        }

      {
        const char *next = g_utf8_next_char (p);
        gsize n = (gsize) (next - p);

        if (g_unichar_isspace (g_utf8_get_char (p)))
          space = out > summary;
        else
          {
            if (space)
              *out++ = ' ';
            space = 0;
            memcpy (out, p, n);
            out += n;
            chars++;
          }
        p = next;
      }
    }

  if (chars >= SUMMARY_CHARS)
    {
      memcpy (out, "…", strlen ("…"));
      out += strlen ("…");
    }

  return g_strndup (summary, (gsize) (out - summary));
}

/* Re-ingesting the same bytes is only a no-op if they would become the
 * same chunks and vectors in the same vector database: a change of
 * embedding model, chunking, text language or vector database redoes it (the document
 * index may outlive a switch of VECTORDB_PROVIDER, which starts empty).
 * The signature of each text format, made once per ingest call. */
typedef struct
{
  char *by_format[STACHE_TEXT_FORMAT_HTML + 1];
} Signatures;

static void
signatures_init (StacheStore *self,
                 Signatures  *signatures)
{
  g_autofree char *model = stache_embedding_provider_get_model_id (self->embedder);

  for (int format = 0; format < (int) G_N_ELEMENTS (signatures->by_format); format++)
    signatures->by_format[format] = g_strdup_printf ("%s/%u/%u/%d/%s/%s", model, self->chunk_size,
                                                     self->chunk_overlap, format,
                                                     G_OBJECT_TYPE_NAME (self->vectordb),
                                                     self->text_language);
}

static void
signatures_clear (Signatures *signatures)
{
  for (guint i = 0; i < G_N_ELEMENTS (signatures->by_format); i++)
    g_clear_pointer (&signatures->by_format[i], g_free);
}

G_DEFINE_AUTO_CLEANUP_CLEAR_FUNC (Signatures, signatures_clear)

static GArray *
embed_texts (StacheStore   *self,
             GPtrArray     *texts,
             GCancellable  *cancellable,
             GError       **error)
{
  g_autoptr(GArray) all = g_array_new (FALSE, FALSE, sizeof (float));
  gsize dims = 0;

  for (guint start = 0; start < texts->len; start += EMBED_BATCH)
    {
      guint n = MIN (EMBED_BATCH, texts->len - start);
      g_autofree const char **batch = g_new0 (const char *, n + 1);
      g_autoptr(GArray) rows = NULL;

      for (guint i = 0; i < n; i++)
        batch[i] = g_ptr_array_index (texts, start + i);

      rows = stache_embedding_provider_embed_batch (self->embedder, batch, cancellable, error);
      if (rows == NULL)
        return NULL;

      if (dims == 0)
        dims = rows->len / n;
      if (rows->len != dims * n)
        {
          g_set_error (error, STACHE_ERROR, STACHE_ERROR_FAILED,
                       _("Embedding provider %s changed its vector length within one document"),
                       G_OBJECT_TYPE_NAME (self->embedder));
          return NULL;
        }

      g_array_append_vals (all, rows->data, rows->len);
    }

  return g_steal_pointer (&all);
}

static StacheDocument *
lookup_document (StacheStore   *self,
                 const char    *document_id,
                 GCancellable  *cancellable,
                 GError       **error)
{
  GError *local_error = NULL;
  StacheDocument *document;

  document = stache_document_index_provider_get_document (self->documents, document_id,
                                                          cancellable, &local_error);
  if (g_error_matches (local_error, STACHE_ERROR, STACHE_ERROR_NOT_FOUND))
    {
      g_clear_error (&local_error);
      return NULL;
    }
  if (local_error != NULL)
    g_propagate_error (error, local_error);

  return document;
}

/* A document ready to be embedded and written, or only a result to report
 * (unchanged, skipped) when @document is NULL. */
typedef struct
{
  StacheIngestResult *result;
  StacheDocument     *document;
  GPtrArray          *chunks;
  gsize               first_vector;   /* where its vectors start, in floats */
} Pending;

static void
pending_free (gpointer data)
{
  Pending *pending = data;

  g_clear_object (&pending->result);
  g_clear_object (&pending->document);
  g_clear_pointer (&pending->chunks, g_ptr_array_unref);
  g_free (pending);
}

static Pending *
pending_new (StacheIngestResult *result)
{
  Pending *pending = g_new0 (Pending, 1);

  pending->result = result;
  return pending;
}

/* Turns @pending into a failed result with @reason; nothing of it is
 * written. */
static void
pending_fail (Pending    *pending,
              const char *namespace_,
              const char *reason)
{
  g_autofree char *source = g_strdup (stache_ingest_result_get_source (pending->result));

  g_clear_object (&pending->result);
  g_clear_object (&pending->document);
  g_clear_pointer (&pending->chunks, g_ptr_array_unref);
  pending->result = _stache_ingest_result_new (source != NULL ? source : "", namespace_,
                                               STACHE_INGEST_OUTCOME_FAILED);
  _stache_ingest_result_set_reason (pending->result, reason);
}

/* The heart of ingestion: one loaded text becomes one document, chunked,
 * ready to be embedded (embed_range()) and written (write_range()). */
static Pending *
prepare_loaded (StacheStore       *self,
                const Signatures  *signatures,
                const char        *namespace_,
                const char        *source,
                const char        *document_id,
                StacheLoadedText  *loaded,
                const char        *content_hash,
                guint64            size,
                JsonObject        *extra_metadata,
                GCancellable      *cancellable,
                GError           **error)
{
  g_autoptr(StacheDocument) existing = NULL;
  g_autoptr(StacheDocument) document = NULL;
  g_autoptr(GPtrArray) pieces = NULL;
  g_autoptr(GPtrArray) chunks = NULL;
  g_autoptr(JsonObject) doc_metadata = json_object_new ();
  const char *signature = signatures->by_format[loaded->format];
  g_autofree char *summary = NULL;
  g_autofree char *fallback_title = NULL;
  StacheIngestResult *result;
  GError *local_error = NULL;
  const char *title = loaded->title;
  gint64 now = g_get_real_time () / G_USEC_PER_SEC;

  existing = lookup_document (self, document_id, cancellable, &local_error);
  if (local_error != NULL)
    {
      g_propagate_error (error, local_error);
      return NULL;
    }

  /* A remote embedder may learn its dimension from its first answer, so
   * the stored vector length is compared only when the embedder knows it. */
  if (existing != NULL &&
      g_strcmp0 (stache_document_get_content_hash (existing), content_hash) == 0 &&
      stache_document_get_metadata (existing) != NULL &&
      g_strcmp0 (json_object_get_string_member_with_default (stache_document_get_metadata (existing),
                                                             "stache_pipeline", ""),
                 signature) == 0 &&
      (stache_embedding_provider_get_dimensions (self->embedder) == 0 ||
       json_object_get_int_member_with_default (stache_document_get_metadata (existing),
                                                "stache_dimensions", 0) ==
       stache_embedding_provider_get_dimensions (self->embedder)))
    {
      result = _stache_ingest_result_new (source, namespace_, STACHE_INGEST_OUTCOME_UNCHANGED);
      _stache_ingest_result_set_document (result, document_id, stache_document_get_title (existing),
                                          stache_document_get_chunk_count (existing));
      return pending_new (result);
    }

  if (title == NULL && source != NULL)
    title = fallback_title = g_path_get_basename (source);

  pieces = _stache_chunk_text (loaded->text, loaded->format != STACHE_TEXT_FORMAT_PLAIN,
                               self->chunk_size, self->chunk_overlap);
  if (pieces->len == 0)
    {
      result = _stache_ingest_result_new (source, namespace_, STACHE_INGEST_OUTCOME_SKIPPED);
      _stache_ingest_result_set_reason (result, _("it contains no text"));
      return pending_new (result);
    }

  chunks = g_ptr_array_new_full (pieces->len, g_object_unref);
  for (guint i = 0; i < pieces->len; i++)
    {
      StacheTextPiece *piece = g_ptr_array_index (pieces, i);
      g_autoptr(JsonObject) metadata = json_object_new ();
      g_autofree char *chunk_id = make_chunk_id (document_id, i);
      StacheChunk *chunk = stache_chunk_new (chunk_id, piece->text);

      stache_chunk_set_document_id (chunk, document_id);
      stache_chunk_set_position (chunk, i);
      if (source != NULL)
        json_object_set_string_member (metadata, "source", source);
      if (title != NULL)
        json_object_set_string_member (metadata, "title", title);
      if (piece->heading_path != NULL)
        json_object_set_string_member (metadata, "heading_path", piece->heading_path);
      if (extra_metadata != NULL)
        {
          g_autoptr(GList) members = json_object_get_members (extra_metadata);

          for (GList *l = members; l != NULL; l = l->next)
            if (!json_object_has_member (metadata, l->data))
              json_object_set_member (metadata, l->data,
                                      json_node_copy (json_object_get_member (extra_metadata, l->data)));
        }
      stache_chunk_set_metadata (chunk, metadata);
      g_ptr_array_add (chunks, chunk);
    }

  summary = make_summary (loaded->text);
  if (extra_metadata != NULL)
    {
      g_autoptr(GList) members = json_object_get_members (extra_metadata);

      for (GList *l = members; l != NULL; l = l->next)
        json_object_set_member (doc_metadata, l->data,
                                json_node_copy (json_object_get_member (extra_metadata, l->data)));
    }
  json_object_set_string_member (doc_metadata, "stache_pipeline", signature);
  /* stache_dimensions is added once the chunks are embedded */
  if (loaded->repaired)
    json_object_set_boolean_member (doc_metadata, "stache_utf8_repaired", TRUE);

  document = stache_document_new (document_id);
  stache_document_set_namespace (document, namespace_);
  stache_document_set_source (document, source);
  stache_document_set_title (document, title);
  stache_document_set_media_type (document, loaded->media_type);
  stache_document_set_content_hash (document, content_hash);
  stache_document_set_size (document, size);
  stache_document_set_chunk_count (document, chunks->len);
  stache_document_set_created (document, existing != NULL ? stache_document_get_created (existing) : now);
  stache_document_set_updated (document, now);
  stache_document_set_summary (document, summary);
  stache_document_set_metadata (document, doc_metadata);

  result = _stache_ingest_result_new (source, namespace_,
                                      existing != NULL ? STACHE_INGEST_OUTCOME_REPLACED
                                                       : STACHE_INGEST_OUTCOME_ADDED);
  _stache_ingest_result_set_document (result, document_id, title, chunks->len);

  {
    Pending *pending = pending_new (result);

    pending->document = g_steal_pointer (&document);
    pending->chunks = g_steal_pointer (&chunks);
    return pending;
  }
}

/* Documents waiting to be written, and the vectors of those embedded so
 * far: embedding goes by groups of about EMBED_BATCH texts across
 * documents (one embedder call for 64 one-paragraph files, not 64 calls),
 * writing by whole batches (one transaction). */
typedef struct
{
  GPtrArray *pending;    /* Pending * */
  GArray    *vectors;    /* of pending[0 .. embedded), in order */
  guint      embedded;   /* pending[0 .. embedded) need no embedding */
  guint      waiting;    /* chunks of pending[embedded ..] */
  gsize      dims;       /* the vector length, once known */
} Batch;

static void
batch_init (Batch *batch)
{
  batch->pending = g_ptr_array_new_with_free_func (pending_free);
  batch->vectors = g_array_new (FALSE, FALSE, sizeof (float));
  batch->embedded = 0;
  batch->waiting = 0;
  batch->dims = 0;
}

static void
batch_clear (Batch *batch)
{
  g_clear_pointer (&batch->pending, g_ptr_array_unref);
  g_clear_pointer (&batch->vectors, g_array_unref);
}

G_DEFINE_AUTO_CLEANUP_CLEAR_FUNC (Batch, batch_clear)

static void
batch_reset (Batch *batch)
{
  g_ptr_array_set_size (batch->pending, 0);
  g_array_set_size (batch->vectors, 0);
  batch->embedded = 0;
  batch->waiting = 0;
  batch->dims = 0;
}

static void
batch_add (Batch   *batch,
           Pending *pending)
{
  g_ptr_array_add (batch->pending, pending);
  if (pending->document != NULL)
    batch->waiting += pending->chunks->len;
}

/* Embeds the chunks of pending[@from .. @to) of @batch in one go (in
 * embedder calls of EMBED_BATCH texts), appending the vectors. */
static gboolean
embed_range (StacheStore   *self,
             Batch         *batch,
             guint          from,
             guint          to,
             GCancellable  *cancellable,
             GError       **error)
{
  g_autoptr(GPtrArray) texts = g_ptr_array_new ();
  g_autoptr(GArray) rows = NULL;
  gsize dims, offset = batch->vectors->len;

  for (guint i = from; i < to; i++)
    {
      Pending *pending = g_ptr_array_index (batch->pending, i);

      if (pending->document == NULL)
        continue;
      for (guint c = 0; c < pending->chunks->len; c++)
        g_ptr_array_add (texts, (gpointer) stache_chunk_get_text (g_ptr_array_index (pending->chunks, c)));
    }
  if (texts->len == 0)
    return TRUE;

  rows = embed_texts (self, texts, cancellable, error);
  if (rows == NULL)
    return FALSE;

  dims = rows->len / texts->len;
  if (batch->dims != 0 && dims != batch->dims)
    {
      g_set_error (error, STACHE_ERROR, STACHE_ERROR_FAILED,
                   _("Embedding provider %s changed its vector length between two documents"),
                   G_OBJECT_TYPE_NAME (self->embedder));
      return FALSE;
    }
  batch->dims = dims;
  g_array_append_vals (batch->vectors, rows->data, rows->len);

  for (guint i = from; i < to; i++)
    {
      Pending *pending = g_ptr_array_index (batch->pending, i);

      if (pending->document == NULL)
        continue;
      pending->first_vector = offset;
      offset += pending->chunks->len * dims;
      json_object_set_int_member (stache_document_get_metadata (pending->document),
                                  "stache_dimensions", (gint64) dims);
    }

  return TRUE;
}

/* Embeds the documents of @batch not embedded yet. When the embedder
 * fails for the group, each document is embedded alone, so that only the
 * one it cannot embed fails (with the reason) and the others go on;
 * cancelling is an error for the whole call. */
static gboolean
embed_waiting (StacheStore   *self,
               Batch         *batch,
               const char    *namespace_,
               GCancellable  *cancellable,
               GError       **error)
{
  g_autoptr(GError) group_error = NULL;
  guint from = batch->embedded, to = batch->pending->len;

  if (embed_range (self, batch, from, to, cancellable, &group_error))
    goto done;
  if (g_error_matches (group_error, G_IO_ERROR, G_IO_ERROR_CANCELLED))
    {
      g_propagate_error (error, g_steal_pointer (&group_error));
      return FALSE;
    }

  for (guint i = from; i < to; i++)
    {
      Pending *pending = g_ptr_array_index (batch->pending, i);
      g_autoptr(GError) one_error = NULL;

      if (pending->document == NULL)
        continue;
      if (to - from == 1)
        one_error = g_steal_pointer (&group_error);
      else if (embed_range (self, batch, i, i + 1, cancellable, &one_error))
        continue;
      if (g_error_matches (one_error, G_IO_ERROR, G_IO_ERROR_CANCELLED))
        {
          g_propagate_error (error, g_steal_pointer (&one_error));
          return FALSE;
        }
      pending_fail (pending, namespace_, one_error->message);
    }

done:
  batch->embedded = to;
  batch->waiting = 0;
  return TRUE;
}

/* Writes the documents of pending[@from .. @to) of @batch, embedded, all
 * in one transaction where the vector database can (see
 * stache_vector_db_provider_write_documents()). */
static gboolean
write_range (StacheStore   *self,
             Batch         *batch,
             guint          from,
             guint          to,
             GCancellable  *cancellable,
             GError       **error)
{
  g_autoptr(GPtrArray) documents = g_ptr_array_new ();
  g_autoptr(GPtrArray) chunks = g_ptr_array_new ();
  g_autoptr(GArray) slice = NULL;
  GArray *vectors = batch->vectors;
  gsize first = G_MAXSIZE, end = 0;

  g_assert (to <= batch->embedded);

  for (guint i = from; i < to; i++)
    {
      Pending *pending = g_ptr_array_index (batch->pending, i);

      if (pending->document == NULL)
        continue;
      if (first == G_MAXSIZE)
        first = pending->first_vector;
      end = pending->first_vector + pending->chunks->len * batch->dims;
      g_ptr_array_add (documents, pending->document);
      g_ptr_array_extend (chunks, pending->chunks, NULL, NULL);
    }

  if (documents->len == 0)
    return TRUE;

  /* Vectors of the documents in between are contiguous: all of them
   * unless a document failed to embed, or a part */
  if (first != 0 || end != vectors->len)
    {
      slice = g_array_sized_new (FALSE, FALSE, sizeof (float), (guint) (end - first));
      for (guint i = from; i < to; i++)
        {
          Pending *pending = g_ptr_array_index (batch->pending, i);

          if (pending->document != NULL)
            g_array_append_vals (slice, &g_array_index (vectors, float, pending->first_vector),
                                 pending->chunks->len * batch->dims);
        }
      vectors = slice;
    }

  return stache_vector_db_provider_write_documents (self->vectordb, self->documents, documents,
                                                    chunks, vectors, cancellable, error);
}

/* Embeds and writes one prepared document (taking @pending) and returns
 * its result. */
static StacheIngestResult *
write_one (StacheStore   *self,
           Pending       *pending,
           GCancellable  *cancellable,
           GError       **error)
{
  g_auto(Batch) batch = { 0 };

  batch_init (&batch);
  batch_add (&batch, pending);
  if (!embed_range (self, &batch, 0, 1, cancellable, error))
    return NULL;
  batch.embedded = 1;
  if (!write_range (self, &batch, 0, 1, cancellable, error))
    return NULL;

  return g_steal_pointer (&pending->result);
}

/* Prepares and writes one document. */
static StacheIngestResult *
ingest_loaded (StacheStore       *self,
               const Signatures  *signatures,
               const char        *namespace_,
               const char        *source,
               const char        *document_id,
               StacheLoadedText  *loaded,
               const char        *content_hash,
               guint64            size,
               JsonObject        *extra_metadata,
               GCancellable      *cancellable,
               GError           **error)
{
  Pending *pending;

  pending = prepare_loaded (self, signatures, namespace_, source, document_id, loaded, content_hash,
                            size, extra_metadata, cancellable, error);
  if (pending == NULL)
    return NULL;

  return write_one (self, pending, cancellable, error);
}

/* ---- ingest ---- */

/**
 * stache_store_ingest_text_full:
 * @self: a #StacheStore
 * @text: the text, plain or Markdown
 * @namespace_: (nullable): the namespace, or %NULL for `default`
 * @source: (nullable): where the text comes from; with a source, ingesting
 *   new text from the same source replaces the old one
 * @title: (nullable): a title for the document
 * @metadata: (nullable): metadata stored with the document and its chunks
 * @cancellable: (nullable): a #GCancellable
 * @error: return location for a #GError
 *
 * Ingests @text as one document. Without @source, the document id comes
 * from the text itself, so the same text is only stored once.
 *
 * Returns: (transfer full): what happened, or %NULL with @error set
 */
StacheIngestResult *
stache_store_ingest_text_full (StacheStore   *self,
                               const char    *text,
                               const char    *namespace_,
                               const char    *source,
                               const char    *title,
                               JsonObject    *metadata,
                               GCancellable  *cancellable,
                               GError       **error)
{
  g_autofree char *repaired = NULL;
  g_autofree char *hash = NULL;
  g_autofree char *document_id = NULL;
  g_auto(Signatures) signatures = { { NULL } };
  StacheLoadedText loaded = { 0 };
  const char *ns;

  g_return_val_if_fail (STACHE_IS_STORE (self), NULL);
  g_return_val_if_fail (text != NULL, NULL);
  g_return_val_if_fail (error == NULL || *error == NULL, NULL);

  if (!_stache_store_resolve_namespace (namespace_, &ns, error))
    return NULL;

  if (!_stache_utf8_validate (text))
    {
      repaired = g_utf8_make_valid (text, -1);
      loaded.repaired = TRUE;
    }
  loaded.text = repaired != NULL ? repaired : (char *) text;
  loaded.title = (char *) title;
  loaded.media_type = "text/markdown";
  loaded.format = STACHE_TEXT_FORMAT_MARKDOWN;

  hash = sha256_hex (text, strlen (text));
  document_id = make_document_id (ns, source != NULL ? "source" : "text", source != NULL ? source : hash);

  signatures_init (self, &signatures);
  return ingest_loaded (self, &signatures, ns, source, document_id, &loaded, hash, strlen (text), metadata,
                        cancellable, error);
}

/**
 * stache_store_ingest_text:
 * @self: a #StacheStore
 * @text: the text, plain or Markdown
 * @namespace_: (nullable): the namespace, or %NULL for `default`
 * @cancellable: (nullable): a #GCancellable
 * @error: return location for a #GError
 *
 * Ingests @text as one document; see stache_store_ingest_text_full().
 *
 * Returns: (transfer full): what happened, or %NULL with @error set
 */
StacheIngestResult *
stache_store_ingest_text (StacheStore   *self,
                          const char    *text,
                          const char    *namespace_,
                          GCancellable  *cancellable,
                          GError       **error)
{
  return stache_store_ingest_text_full (self, text, namespace_, NULL, NULL, NULL, cancellable, error);
}

char *
_stache_store_file_display_name (GFile *file)
{
  return g_file_get_parse_name (file);
}

static StacheIngestResult *
skipped (const char *source,
         const char *namespace_,
         const char *reason)
{
  StacheIngestResult *result = _stache_ingest_result_new (source, namespace_, STACHE_INGEST_OUTCOME_SKIPPED);

  _stache_ingest_result_set_reason (result, reason);
  return result;
}

typedef enum
{
  READ_OK,
  READ_FAILED,
  READ_FOLDER,
  READ_NOT_REGULAR,
  READ_TOO_LARGE,
} ReadOutcome;

/* Reads at most @max + 1 bytes of @stream: one more than allowed tells a
 * file that grew, or whose size was reported wrongly, from one that fits. */
static ReadOutcome
read_stream_bounded (GInputStream  *stream,
                     guint64        max,
                     gsize          expected,
                     char         **contents,
                     gsize         *length,
                     GCancellable  *cancellable,
                     GError       **error)
{
  gsize allocated = MIN ((guint64) expected, max) + 1;
  g_autofree char *buffer = g_malloc (allocated + 1);
  gsize filled = 0;

  for (;;)
    {
      gssize n;

      if (filled == allocated)
        {
          if (filled > max)
            return READ_TOO_LARGE;
          allocated = (gsize) MIN ((guint64) allocated * 2, max + 1);
          buffer = g_realloc (buffer, allocated + 1);
        }
      n = g_input_stream_read (stream, buffer + filled, allocated - filled, cancellable, error);
      if (n < 0)
        return READ_FAILED;
      if (n == 0)
        break;
      filled += (gsize) n;
    }

  if (filled > max)
    return READ_TOO_LARGE;

  buffer[filled] = '\0';
  *length = filled;
  *contents = g_steal_pointer (&buffer);
  return READ_OK;
}

/* The same as read_stream_bounded() for a file descriptor, which it
 * closes. */
static ReadOutcome
read_fd_bounded (int            fd,
                 guint64        max,
                 gsize          expected,
                 char         **contents,
                 gsize         *length,
                 GCancellable  *cancellable,
                 GError       **error)
{
  gsize allocated = MIN ((guint64) expected, max) + 1;
  g_autofree char *buffer = g_malloc (allocated + 1);
  gsize filled = 0;
  ReadOutcome outcome = READ_OK;

  for (;;)
    {
      gssize n;

      if (filled == allocated)
        {
          if (filled > max)
            {
              outcome = READ_TOO_LARGE;
              break;
            }
          allocated = (gsize) MIN ((guint64) allocated * 2, max + 1);
          buffer = g_realloc (buffer, allocated + 1);
        }
      if (g_cancellable_set_error_if_cancelled (cancellable, error))
        {
          outcome = READ_FAILED;
          break;
        }
      n = read (fd, buffer + filled, allocated - filled);
      if (n < 0 && errno == EINTR)
        continue;
      if (n < 0)
        {
          int saved = errno;

          g_set_error_literal (error, G_IO_ERROR, g_io_error_from_errno (saved), g_strerror (saved));
          outcome = READ_FAILED;
          break;
        }
      if (n == 0)
        break;
      filled += (gsize) n;
    }
  g_close (fd, NULL);

  if (outcome == READ_OK && filled > max)
    outcome = READ_TOO_LARGE;
  if (outcome != READ_OK)
    return outcome;

  buffer[filled] = '\0';
  *length = filled;
  *contents = g_steal_pointer (&buffer);
  return READ_OK;
}

/* Reads a whole file, refusing what is not a regular file (a FIFO would
 * block, /dev/zero never ends) and stopping one byte past @max whatever
 * its size claims. A local file is opened with O_NONBLOCK so that opening
 * a FIFO does not wait for a writer, and read without GIO's overhead. */
static ReadOutcome
read_file_bounded (GFile         *file,
                   guint64        max,
                   char         **contents,
                   gsize         *length,
                   GCancellable  *cancellable,
                   GError       **error)
{
  const char *path = g_file_peek_path (file);
  g_autoptr(GInputStream) stream = NULL;
  g_autoptr(GFileInfo) info = NULL;
  GFileType type;
  guint64 size;

  if (path != NULL)
    {
      struct stat st;
      int fd;

      do
        fd = g_open (path, O_RDONLY | O_CLOEXEC | O_NONBLOCK | O_NOCTTY, 0);
      while (fd < 0 && errno == EINTR);
      if (fd < 0)
        {
          int saved = errno;

          if (saved == EISDIR)
            return READ_FOLDER;
          g_set_error_literal (error, G_IO_ERROR, g_io_error_from_errno (saved), g_strerror (saved));
          return READ_FAILED;
        }
      if (fstat (fd, &st) != 0)
        {
          int saved = errno;

          g_close (fd, NULL);
          g_set_error_literal (error, G_IO_ERROR, g_io_error_from_errno (saved), g_strerror (saved));
          return READ_FAILED;
        }
      if (S_ISDIR (st.st_mode))
        {
          g_close (fd, NULL);
          return READ_FOLDER;
        }
      if (!S_ISREG (st.st_mode))
        {
          g_close (fd, NULL);
          return READ_NOT_REGULAR;
        }
      if ((guint64) st.st_size > max)
        {
          g_close (fd, NULL);
          return READ_TOO_LARGE;
        }
      return read_fd_bounded (fd, max, (gsize) st.st_size, contents, length, cancellable, error);
    }

  info = g_file_query_info (file, G_FILE_ATTRIBUTE_STANDARD_TYPE "," G_FILE_ATTRIBUTE_STANDARD_SIZE,
                            G_FILE_QUERY_INFO_NONE, cancellable, error);
  if (info == NULL)
    return READ_FAILED;
  type = g_file_info_get_file_type (info);
  if (type == G_FILE_TYPE_DIRECTORY)
    return READ_FOLDER;
  if (type != G_FILE_TYPE_REGULAR)
    return READ_NOT_REGULAR;
  size = (guint64) MAX (g_file_info_get_size (info), 0);
  if (size > max)
    return READ_TOO_LARGE;

  stream = G_INPUT_STREAM (g_file_read (file, cancellable, error));
  if (stream == NULL)
    return READ_FAILED;

  return read_stream_bounded (stream, max, (gsize) MIN (size, (guint64) G_MAXSIZE / 2),
                              contents, length, cancellable, error);
}

/* Reads and chunks one file (see stache_store_ingest_file()). */
static Pending *
prepare_file (StacheStore       *self,
              const Signatures  *signatures,
              GFile             *file,
              const char    *ns,
              GCancellable  *cancellable,
              GError       **error)
{
  g_autoptr(GError) local_error = NULL;
  g_autofree char *name = NULL;
  g_autofree char *contents = NULL;
  g_autofree char *hash = NULL;
  g_autofree char *document_id = NULL;
  g_autofree char *basename = NULL;
  g_autofree char *key = NULL;
  StacheLoadedText *loaded = NULL;
  Pending *pending;
  gsize length = 0;

  name = _stache_store_file_display_name (file);
  switch (read_file_bounded (file, self->max_file_size, &contents, &length, cancellable, &local_error))
    {
    case READ_OK:
      break;
    case READ_FOLDER:
      g_set_error (error, STACHE_ERROR, STACHE_ERROR_INVALID_ARGUMENT,
                   _("“%s” is a folder, not a file"), name);
      return NULL;
    case READ_NOT_REGULAR:
      return pending_new (skipped (name, ns, _("it is not a regular file (a device, a pipe or a socket)")));
    case READ_TOO_LARGE:
      {
        g_autofree char *reason = g_strdup_printf (_("it is larger than max_file_size (%" G_GUINT64_FORMAT
                                                     " bytes)"), self->max_file_size);
        return pending_new (skipped (name, ns, reason));
      }
    case READ_FAILED:
    default:
      g_set_error (error, local_error->domain, local_error->code,
                   _("Cannot read “%s”: %s"), name, local_error->message);
      return NULL;
    }

  if (length == 0)
    return pending_new (skipped (name, ns, _("the file is empty")));

  basename = g_file_get_basename (file);
  loaded = _stache_load_text (contents, length, basename, &local_error);
  if (loaded == NULL)
    return pending_new (skipped (name, ns, local_error->message));

  hash = sha256_hex (contents, length);
  key = g_file_get_uri (file);
  document_id = make_document_id (ns, "file", key);

  pending = prepare_loaded (self, signatures, ns, name, document_id, loaded, hash, length, NULL,
                            cancellable, error);
  _stache_loaded_text_free (loaded);

  return pending;
}

/**
 * stache_store_ingest_file:
 * @self: a #StacheStore
 * @file: a text, Markdown or HTML file
 * @namespace_: (nullable): the namespace, or %NULL for `default`
 * @cancellable: (nullable): a #GCancellable
 * @error: return location for a #GError
 *
 * Ingests one file. A binary file, an empty file and a file larger than
 * the `max_file_size` setting are not errors: the result says they were
 * skipped and why. Invalid UTF-8 is repaired with U+FFFD. A file that does
 * not exist or cannot be read is an error naming it.
 *
 * Returns: (transfer full): what happened, or %NULL with @error set
 */
StacheIngestResult *
stache_store_ingest_file (StacheStore   *self,
                          GFile         *file,
                          const char    *namespace_,
                          GCancellable  *cancellable,
                          GError       **error)
{
  g_auto(Signatures) signatures = { { NULL } };
  Pending *pending;
  const char *ns;

  g_return_val_if_fail (STACHE_IS_STORE (self), NULL);
  g_return_val_if_fail (G_IS_FILE (file), NULL);
  g_return_val_if_fail (error == NULL || *error == NULL, NULL);

  if (!_stache_store_resolve_namespace (namespace_, &ns, error))
    return NULL;

  signatures_init (self, &signatures);
  pending = prepare_file (self, &signatures, file, ns, cancellable, error);
  if (pending == NULL)
    return NULL;

  return write_one (self, pending, cancellable, error);
}

/* Where ::progress goes. The sync call emits it in its own thread; the
 * async one hands it to the thread-default main context of the call (a
 * GTK handler must not run in the worker), coalesced: while one emission
 * waits there, newer counts replace its own, so a fast ingest does not
 * queue an idle source per file; the last one (done = total) always
 * arrives, before the async callback. */
typedef struct
{
  gatomicrefcount  refs;     /* the call and the queued emission */
  StacheStore     *store;
  GMainContext    *context;
  GMutex           lock;
  gboolean         waiting;  /* an emission is queued in @context */
  guint            done;
  guint            total;
  char            *path;
} ProgressSink;

static void
progress_sink_unref (ProgressSink *sink)
{
  if (!g_atomic_ref_count_dec (&sink->refs))
    return;

  g_mutex_clear (&sink->lock);
  g_clear_object (&sink->store);
  g_clear_pointer (&sink->context, g_main_context_unref);
  g_free (sink->path);
  g_free (sink);
}

/* A sink for the thread-default main context of the calling thread */
static ProgressSink *
progress_sink_new (StacheStore *store)
{
  ProgressSink *sink = g_new0 (ProgressSink, 1);

  g_atomic_ref_count_init (&sink->refs);
  sink->store = g_object_ref (store);
  sink->context = g_main_context_ref_thread_default ();
  g_mutex_init (&sink->lock);
  return sink;
}

static gboolean
emit_progress_idle (gpointer data)
{
  ProgressSink *sink = data;
  g_autofree char *path = NULL;
  guint done, total;

  g_mutex_lock (&sink->lock);
  sink->waiting = FALSE;
  done = sink->done;
  total = sink->total;
  path = g_steal_pointer (&sink->path);
  g_mutex_unlock (&sink->lock);

  g_signal_emit (sink->store, _stache_store_signals[STACHE_STORE_SIGNAL_PROGRESS], 0, done, total, path);
  return G_SOURCE_REMOVE;
}

/* ::progress: at once when @sink is NULL (the sync call), else through
 * @sink */
static void
report_progress (StacheStore  *self,
                 ProgressSink *sink,
                 guint         done,
                 guint         total,
                 const char   *path)
{
  if (sink == NULL)
    {
      g_signal_emit (self, _stache_store_signals[STACHE_STORE_SIGNAL_PROGRESS], 0, done, total, path);
      return;
    }

  g_mutex_lock (&sink->lock);
  sink->done = done;
  sink->total = total;
  g_free (sink->path);
  sink->path = g_strdup (path);
  if (sink->waiting)
    {
      g_mutex_unlock (&sink->lock);
      return;
    }
  sink->waiting = TRUE;
  g_mutex_unlock (&sink->lock);

  g_atomic_ref_count_inc (&sink->refs);
  _stache_store_post_to_caller (sink->context, emit_progress_idle, sink, (GDestroyNotify) progress_sink_unref,
                  "[stache] StacheStore::progress");
}


typedef struct
{
  GFile         *file;
  char          *namespace_;
  char         **include;
  char         **exclude;
  ProgressSink  *progress; /* where ingest_directory_async emits ::progress */
  gboolean       sync;     /* sync_directory_async: gone files' documents removed too */
} StoreCall;

static void
store_call_free (gpointer p)
{
  StoreCall *call = p;

  g_clear_object (&call->file);
  g_free (call->namespace_);
  g_strfreev (call->include);
  g_strfreev (call->exclude);
  g_clear_pointer (&call->progress, progress_sink_unref);
  g_free (call);
}


static gpointer
ingest_file_work (gpointer       source,
                  gpointer       data,
                  GCancellable  *cancellable,
                  GError       **error)
{
  StoreCall *call = data;

  return stache_store_ingest_file (source, call->file, call->namespace_, cancellable, error);
}

/**
 * stache_store_ingest_file_async:
 * @self: a #StacheStore
 * @file: a text, Markdown or HTML file
 * @namespace_: (nullable): the namespace, or %NULL for `default`
 * @cancellable: (nullable): a #GCancellable
 * @callback: (scope async): called when done
 * @user_data: data for @callback
 *
 * Ingests one file in a worker thread; see stache_store_ingest_file().
 */
void
stache_store_ingest_file_async (StacheStore         *self,
                                GFile               *file,
                                const char          *namespace_,
                                GCancellable        *cancellable,
                                GAsyncReadyCallback  callback,
                                gpointer             user_data)
{
  StoreCall *call;

  g_return_if_fail (STACHE_IS_STORE (self));
  g_return_if_fail (G_IS_FILE (file));

  call = g_new0 (StoreCall, 1);
  call->file = g_object_ref (file);
  call->namespace_ = g_strdup (namespace_);
  _stache_task_run_in_thread (self, stache_store_ingest_file_async, ingest_file_work, call,
                              store_call_free, g_object_unref, cancellable, callback, user_data);
}

/**
 * stache_store_ingest_file_finish:
 * @self: a #StacheStore
 * @result: the #GAsyncResult passed to the callback
 * @error: return location for a #GError
 *
 * Finishes stache_store_ingest_file_async().
 *
 * Returns: (transfer full): what happened, or %NULL with @error set
 */
StacheIngestResult *
stache_store_ingest_file_finish (StacheStore   *self,
                                 GAsyncResult  *result,
                                 GError       **error)
{
  return _stache_task_finish_pointer (self, result, stache_store_ingest_file_async, error);
}


/* Embeds what is left of @batch, writes it and moves its results to
 * @results, in order. When the batch as a whole fails (a document the
 * store turns down), each document is written alone, so only the bad one
 * fails. */
static gboolean
flush_batch (StacheStore   *self,
             Batch         *batch,
             const char    *ns,
             GPtrArray     *results,
             GCancellable  *cancellable,
             GError       **error)
{
  g_autoptr(GError) batch_error = NULL;

  if (!embed_waiting (self, batch, ns, cancellable, error))
    return FALSE;

  if (!write_range (self, batch, 0, batch->pending->len, cancellable, &batch_error))
    {
      if (g_error_matches (batch_error, G_IO_ERROR, G_IO_ERROR_CANCELLED))
        {
          g_propagate_error (error, g_steal_pointer (&batch_error));
          return FALSE;
        }

      for (guint i = 0; i < batch->pending->len; i++)
        {
          Pending *pending = g_ptr_array_index (batch->pending, i);
          g_autoptr(GError) one_error = NULL;

          if (pending->document == NULL)
            continue;
          if (write_range (self, batch, i, i + 1, cancellable, &one_error))
            continue;
          if (g_error_matches (one_error, G_IO_ERROR, G_IO_ERROR_CANCELLED))
            {
              g_propagate_error (error, g_steal_pointer (&one_error));
              return FALSE;
            }
          pending_fail (pending, ns, one_error->message);
        }
    }

  for (guint i = 0; i < batch->pending->len; i++)
    {
      Pending *pending = g_ptr_array_index (batch->pending, i);

      g_ptr_array_add (results, g_steal_pointer (&pending->result));
    }
  batch_reset (batch);

  return TRUE;
}

static GPtrArray *ingest_directory (StacheStore         *self,
                                    GFile               *directory,
                                    const char          *namespace_,
                                    const char * const  *include,
                                    const char * const  *exclude,
                                    ProgressSink        *progress,
                                    GCancellable        *cancellable,
                                    GError             **error);

/**
 * stache_store_ingest_directory:
 * @self: a #StacheStore
 * @directory: a folder (or a single file)
 * @namespace_: (nullable): the namespace, or %NULL for `default`
 * @include: (array zero-terminated=1) (nullable): glob patterns a file's
 *   name or relative path must match, such as `*.md`; %NULL for all files
 * @exclude: (array zero-terminated=1) (nullable): glob patterns of files
 *   and folders to leave out
 * @cancellable: (nullable): a #GCancellable
 * @error: return location for a #GError
 *
 * Ingests every file below @directory, recursively and in path order,
 * leaving out hidden files and folders and symbolic links. Each file gets
 * a result; a file that cannot be read is a failed result, not an error
 * for the whole walk. #StacheStore::progress reports the files as they go.
 *
 * Returns: (transfer container) (element-type StacheIngestResult): one
 *   result per file, or %NULL with @error set if @directory cannot be read
 *   or the call was cancelled
 */
GPtrArray *
stache_store_ingest_directory (StacheStore         *self,
                               GFile               *directory,
                               const char          *namespace_,
                               const char * const  *include,
                               const char * const  *exclude,
                               GCancellable        *cancellable,
                               GError             **error)
{
  return ingest_directory (self, directory, namespace_, include, exclude, NULL, cancellable, error);
}

static GPtrArray *
ingest_directory (StacheStore         *self,
                  GFile               *directory,
                  const char          *namespace_,
                  const char * const  *include,
                  const char * const  *exclude,
                  ProgressSink        *progress,
                  GCancellable        *cancellable,
                  GError             **error)
{
  g_autoptr(GPtrArray) files = g_ptr_array_new_with_free_func (g_object_unref);
  g_autoptr(GPtrArray) results = g_ptr_array_new_with_free_func (g_object_unref);
  g_auto(Batch) batch = { 0 };
  g_auto(Signatures) signatures = { { NULL } };
  g_autoptr(GFileInfo) info = NULL;
  g_autoptr(GError) local_error = NULL;
  guint batch_documents = 0, batch_chunks = 0;
  const char *ns;

  g_return_val_if_fail (STACHE_IS_STORE (self), NULL);
  g_return_val_if_fail (G_IS_FILE (directory), NULL);
  g_return_val_if_fail (error == NULL || *error == NULL, NULL);

  if (!_stache_store_resolve_namespace (namespace_, &ns, error))
    return NULL;

  info = g_file_query_info (directory, G_FILE_ATTRIBUTE_STANDARD_TYPE, G_FILE_QUERY_INFO_NONE,
                            cancellable, &local_error);
  if (info == NULL)
    {
      g_autofree char *name = _stache_store_file_display_name (directory);

      g_set_error (error, local_error->domain, local_error->code,
                   _("Cannot read “%s”: %s"), name, local_error->message);
      return NULL;
    }

  if (g_file_info_get_file_type (info) == G_FILE_TYPE_DIRECTORY)
    {
      if (!_stache_store_walk_folder (directory, include, exclude, ns, files, results, cancellable, error))
        return NULL;
    }
  else
    {
      g_ptr_array_add (files, g_object_ref (directory));
    }

  batch_init (&batch);
  signatures_init (self, &signatures);
  for (guint i = 0; i < files->len; i++)
    {
      GFile *file = g_ptr_array_index (files, i);
      g_autofree char *name = _stache_store_file_display_name (file);
      g_autoptr(GError) file_error = NULL;
      Pending *pending;

      if (g_cancellable_set_error_if_cancelled (cancellable, error))
        return NULL;

      report_progress (self, progress, i, files->len, name);

      pending = prepare_file (self, &signatures, file, ns, cancellable, &file_error);
      if (pending == NULL)
        {
          if (g_error_matches (file_error, G_IO_ERROR, G_IO_ERROR_CANCELLED))
            {
              g_propagate_error (error, g_steal_pointer (&file_error));
              return NULL;
            }
          pending = pending_new (_stache_ingest_result_new (name, ns, STACHE_INGEST_OUTCOME_FAILED));
          _stache_ingest_result_set_reason (pending->result, file_error->message);
        }
      batch_add (&batch, pending);
      if (pending->chunks != NULL)
        {
          batch_documents++;
          batch_chunks += pending->chunks->len;
        }

      if (batch_documents >= INGEST_BATCH_DOCUMENTS || batch_chunks >= INGEST_BATCH_CHUNKS ||
          i + 1 == files->len)
        {
          if (!flush_batch (self, &batch, ns, results, cancellable, error))
            return NULL;
          batch_documents = batch_chunks = 0;
        }
      else if (batch.waiting >= EMBED_BATCH &&
               !embed_waiting (self, &batch, ns, cancellable, error))
        return NULL;
    }

  report_progress (self, progress, files->len, files->len, NULL);

  return g_steal_pointer (&results);
}

/* ---- sync: a namespace mirrors a folder ---- */

/* Removes the documents of @ns that were ingested from a file below
 * @directory (a file document's id is made from its URI) whose file no
 * longer exists, adding a REMOVED result for each to @results. A file
 * that exists but could not be read, or a subfolder that could not be
 * listed, keeps its documents. */
static gboolean
remove_gone (StacheStore   *self,
             GFile         *directory,
             const char    *ns,
             GPtrArray     *results,
             GCancellable  *cancellable,
             GError       **error)
{
  g_autoptr(GPtrArray) documents = NULL;

  documents = stache_document_index_provider_list_documents (self->documents, ns, cancellable, error);
  if (documents == NULL)
    return FALSE;

  for (guint i = 0; i < documents->len; i++)
    {
      StacheDocument *document = g_ptr_array_index (documents, i);
      const char *source = stache_document_get_source (document);
      g_autoptr(GFile) file = NULL;
      g_autofree char *uri = NULL;
      g_autofree char *file_id = NULL;
      StacheIngestResult *removed;

      if (source == NULL || !g_path_is_absolute (source))
        continue;
      file = g_file_new_for_path (source);
      if (!g_file_has_prefix (file, directory))
        continue;
      uri = g_file_get_uri (file);
      file_id = make_document_id (ns, "file", uri);
      if (g_strcmp0 (file_id, stache_document_get_id (document)) != 0 ||
          g_file_query_exists (file, cancellable))
        continue;
      if (g_cancellable_set_error_if_cancelled (cancellable, error))
        return FALSE;

      if (!stache_store_delete_document (self, stache_document_get_id (document), cancellable, error))
        return FALSE;
      removed = _stache_ingest_result_new (source, ns, STACHE_INGEST_OUTCOME_REMOVED);
      _stache_ingest_result_set_document (removed, stache_document_get_id (document),
                                          stache_document_get_title (document), 0);
      g_ptr_array_add (results, removed);
    }

  return TRUE;
}

static GPtrArray *
sync_directory (StacheStore         *self,
                GFile               *directory,
                const char          *namespace_,
                const char * const  *include,
                const char * const  *exclude,
                ProgressSink        *progress,
                GCancellable        *cancellable,
                GError             **error)
{
  g_autoptr(GPtrArray) results = NULL;
  const char *ns;

  g_return_val_if_fail (STACHE_IS_STORE (self), NULL);
  g_return_val_if_fail (G_IS_FILE (directory), NULL);

  if (!_stache_store_resolve_namespace (namespace_, &ns, error))
    return NULL;
  results = ingest_directory (self, directory, namespace_, include, exclude, progress, cancellable, error);
  if (results == NULL || !remove_gone (self, directory, ns, results, cancellable, error))
    return NULL;

  return g_steal_pointer (&results);
}

/**
 * stache_store_sync_directory:
 * @self: a #StacheStore
 * @directory: a folder (or a file)
 * @namespace_: (nullable): the namespace, or %NULL for `default`
 * @include: (array zero-terminated=1) (nullable): globs, as for
 *   stache_store_ingest_directory()
 * @exclude: (array zero-terminated=1) (nullable): globs, as for
 *   stache_store_ingest_directory()
 * @cancellable: (nullable): a #GCancellable
 * @error: return location for a #GError
 *
 * Makes @namespace_ mirror @directory: ingests it as
 * stache_store_ingest_directory() does (new files added, changed ones
 * replaced), then removes the documents that were ingested from files
 * below @directory that no longer exist, each reported with the outcome
 * %STACHE_INGEST_OUTCOME_REMOVED. A renamed file is one document: the new
 * name's added, the old one's removed. A file that exists but cannot be
 * read, an excluded file and a document ingested from text keep their
 * documents; a folder that cannot be read is an error and removes nothing.
 *
 * Returns: (transfer container) (element-type StacheIngestResult): one
 *   result per file, then one per removed document, or %NULL with @error
 */
GPtrArray *
stache_store_sync_directory (StacheStore         *self,
                             GFile               *directory,
                             const char          *namespace_,
                             const char * const  *include,
                             const char * const  *exclude,
                             GCancellable        *cancellable,
                             GError             **error)
{
  return sync_directory (self, directory, namespace_, include, exclude, NULL, cancellable, error);
}

static gpointer
directory_work (gpointer       source,
                gpointer       data,
                GCancellable  *cancellable,
                GError       **error)
{
  StoreCall *call = data;

  return (call->sync ? sync_directory : ingest_directory) (source, call->file, call->namespace_,
                                                          (const char * const *) call->include,
                                                          (const char * const *) call->exclude,
                                                          call->progress, cancellable, error);
}

/* ingest_directory_async and sync_directory_async */
static void
start_directory_call (StacheStore         *self,
                      gpointer             source_tag,
                      gboolean             sync,
                      GFile               *directory,
                      const char          *namespace_,
                      const char * const  *include,
                      const char * const  *exclude,
                      GCancellable        *cancellable,
                      GAsyncReadyCallback  callback,
                      gpointer             user_data)
{
  StoreCall *call = g_new0 (StoreCall, 1);

  call->file = g_object_ref (directory);
  call->namespace_ = g_strdup (namespace_);
  call->include = g_strdupv ((char **) include);
  call->exclude = g_strdupv ((char **) exclude);
  call->progress = progress_sink_new (self);
  call->sync = sync;
  _stache_task_run_in_thread (self, source_tag, directory_work, call, store_call_free,
                              (GDestroyNotify) g_ptr_array_unref, cancellable, callback, user_data);
}

/**
 * stache_store_sync_directory_async:
 * @self: a #StacheStore
 * @directory: a folder (or a file)
 * @namespace_: (nullable): the namespace, or %NULL for `default`
 * @include: (array zero-terminated=1) (nullable): globs
 * @exclude: (array zero-terminated=1) (nullable): globs
 * @cancellable: (nullable): a #GCancellable
 * @callback: (scope async): called when done
 * @user_data: (closure): data for @callback
 *
 * Runs stache_store_sync_directory() in a worker thread; #StacheStore::progress
 * is emitted in the thread-default main context of this call.
 */
void
stache_store_sync_directory_async (StacheStore         *self,
                                   GFile               *directory,
                                   const char          *namespace_,
                                   const char * const  *include,
                                   const char * const  *exclude,
                                   GCancellable        *cancellable,
                                   GAsyncReadyCallback  callback,
                                   gpointer             user_data)
{
  g_return_if_fail (STACHE_IS_STORE (self));
  g_return_if_fail (G_IS_FILE (directory));

  start_directory_call (self, stache_store_sync_directory_async, TRUE, directory, namespace_, include, exclude,
                        cancellable, callback, user_data);
}

/**
 * stache_store_sync_directory_finish:
 * @self: a #StacheStore
 * @result: the #GAsyncResult
 * @error: return location for a #GError
 *
 * Finishes stache_store_sync_directory_async().
 *
 * Returns: (transfer container) (element-type StacheIngestResult): the
 *   results, or %NULL with @error
 */
GPtrArray *
stache_store_sync_directory_finish (StacheStore   *self,
                                    GAsyncResult  *result,
                                    GError       **error)
{
  return _stache_task_finish_pointer (self, result, stache_store_sync_directory_async, error);
}

/**
 * stache_store_ingest_directory_async:
 * @self: a #StacheStore
 * @directory: a folder (or a single file)
 * @namespace_: (nullable): the namespace, or %NULL for `default`
 * @include: (array zero-terminated=1) (nullable): glob patterns to include
 * @exclude: (array zero-terminated=1) (nullable): glob patterns to leave out
 * @cancellable: (nullable): a #GCancellable
 * @callback: (scope async): called when done
 * @user_data: data for @callback
 *
 * Ingests a folder in a worker thread; see stache_store_ingest_directory().
 * #StacheStore::progress is emitted in the thread-default main context of
 * this call, like the callback (a handler may touch widgets); counts that
 * come faster than that context runs are merged, so a handler may see
 * @done skip ahead, but it always sees the final emission (done = total),
 * before @callback.
 */
void
stache_store_ingest_directory_async (StacheStore         *self,
                                     GFile               *directory,
                                     const char          *namespace_,
                                     const char * const  *include,
                                     const char * const  *exclude,
                                     GCancellable        *cancellable,
                                     GAsyncReadyCallback  callback,
                                     gpointer             user_data)
{
  g_return_if_fail (STACHE_IS_STORE (self));
  g_return_if_fail (G_IS_FILE (directory));

  start_directory_call (self, stache_store_ingest_directory_async, FALSE, directory, namespace_, include, exclude,
                        cancellable, callback, user_data);
}

/**
 * stache_store_ingest_directory_finish:
 * @self: a #StacheStore
 * @result: the #GAsyncResult passed to the callback
 * @error: return location for a #GError
 *
 * Finishes stache_store_ingest_directory_async().
 *
 * Returns: (transfer container) (element-type StacheIngestResult): one
 *   result per file, or %NULL with @error set
 */
GPtrArray *
stache_store_ingest_directory_finish (StacheStore   *self,
                                      GAsyncResult  *result,
                                      GError       **error)
{
  return _stache_task_finish_pointer (self, result, stache_store_ingest_directory_async, error);
}


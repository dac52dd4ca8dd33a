/* stache-store.c: the pipeline facade
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
#include <dirent.h>
#include <unistd.h>

#include <glib/gstdio.h>
#include <nettle/sha2.h>

#include "stache-answer-private.h"
#include "stache-chunk.h"
#include "stache-chunker-private.h"
#include "stache-document-index-provider.h"
#include "stache-embedding-provider.h"
#include "stache-enums.h"
#include "stache-error.h"
#include "stache-factory.h"
#include "stache-ingest-result-private.h"
#include "stache-llm-provider.h"
#include "stache-loaders-private.h"
#include "stache-namespace-provider.h"
#include "stache-plugin-loader.h"
#include "stache-private.h"
#include "stache-reranker-provider.h"
#include "stache-search-result.h"
#include "stache-store.h"
#include "stache-task-private.h"
#include "stache-vector-db-provider.h"

/**
 * StacheStore:
 *
 * The pipeline: ingest documents, search them, ask questions about them.
 *
 * A store ties the six providers together. Ingesting loads a file (plain
 * text, Markdown or HTML), splits it into chunks (paragraphs, then
 * sentences, then words; Markdown heading paths are kept in each chunk's
 * metadata), embeds the chunks and stores them with their document, all
 * chunks of a document in one step. Searching embeds the query, finds
 * candidates by vector and by keyword, fuses the two lists by reciprocal
 * rank and reranks them. Asking searches, then gives the best passages,
 * numbered, to the LLM provider.
 *
 * With no configuration at all the providers are the embedded defaults:
 * one SQLite file under `$XDG_DATA_HOME/stache/`, an in-process hashing
 * embedder, a term-coverage reranker and an extractive "LLM" that quotes
 * the sources. Settings choose others (`VECTORDB_PROVIDER=qdrant`, …).
 *
 * Documents have stable ids: a file's id comes from its namespace and
 * absolute path, a text's from its namespace and its source (or content).
 * Ingesting identical content again does nothing; changed content replaces
 * the old chunks.
 *
 * Settings read: `chunk_size` (characters, default 800), `chunk_overlap`
 * (default 120), `max_file_size` (bytes, default 10 MiB), `search_top_k`
 * (default 10), `hybrid_vector_weight` (weight of the vector list in
 * fusion, default 0.3) and `hybrid_rrf_k` (default 3), and
 * `reranker_provider=none` to skip reranking.
 *
 * All methods may be called from several threads at once; the async
 * variants run the sync ones in a worker thread.
 */

#define DEFAULT_NAMESPACE "default"
#define EMBED_BATCH 64
/* Folder ingest writes this many documents (or chunks) per transaction:
 * one commit per batch rather than per document, and a crash still leaves
 * each document wholly old or wholly new. Larger batches mean fewer
 * segments for the keyword index to merge later (see the sqlite plugin's
 * tune_keyword_index()); a batch of 8192 one-paragraph documents holds
 * about 30 MB while it waits. */
#define INGEST_BATCH_DOCUMENTS 8192
#define INGEST_BATCH_CHUNKS 8192
/* Hybrid fusion trusts the keyword list more than the vector list: with
 * the in-process hashing embedder, vectors are the weaker signal. These
 * defaults were chosen on the man page check (tests/quality), where equal
 * votes and k = 60 made hybrid worse than keyword search alone; the
 * settings hybrid_vector_weight and hybrid_rrf_k change them (a real
 * embedding model deserves a weight near 1). */
#define RRF_K 3.0
#define DEFAULT_VECTOR_WEIGHT 0.3

struct _StacheStore
{
  GObject                      parent_instance;

  StacheSettings              *settings;
  StacheLlmProvider           *llm;
  StacheEmbeddingProvider     *embedder;
  StacheVectorDbProvider      *vectordb;
  StacheNamespaceProvider     *namespaces;
  StacheRerankerProvider      *reranker;
  StacheDocumentIndexProvider *documents;

  GMutex                       llm_lock;   /* the LLM is created on first ask */
  guint                        chunk_size;
  guint                        chunk_overlap;
  guint64                      max_file_size;
  guint                        default_top_k;
  double                       vector_weight;  /* of the vector list in fusion */
  double                       rrf_k;
};

static void stache_store_initable_iface_init (GInitableIface *iface);

G_DEFINE_FINAL_TYPE_WITH_CODE (StacheStore, stache_store, G_TYPE_OBJECT,
                               G_IMPLEMENT_INTERFACE (G_TYPE_INITABLE, stache_store_initable_iface_init))

enum {
  PROP_0,
  PROP_SETTINGS,
  PROP_LLM,
  PROP_EMBEDDER,
  PROP_VECTOR_DB,
  PROP_NAMESPACES,
  PROP_RERANKER,
  PROP_DOCUMENTS,
  N_PROPS
};

static GParamSpec *properties[N_PROPS];

enum {
  SIGNAL_PROGRESS,
  SIGNAL_TOKEN,
  N_SIGNALS
};

static guint signals[N_SIGNALS];

/* ---- construction ---- */

static gboolean
create_provider (StacheStore         *self,
                 StacheProviderType   type,
                 gpointer            *slot,
                 GError             **error)
{
  if (*slot != NULL)
    return TRUE;

  *slot = stache_plugin_loader_create_provider (stache_plugin_loader_get_default (),
                                                type, NULL, self->settings, error);
  return *slot != NULL;
}

static gboolean
stache_store_initable_init (GInitable     *initable,
                            GCancellable  *cancellable,
                            GError       **error)
{
  StacheStore *self = STACHE_STORE (initable);
  gint64 value;

  if (!stache_settings_check (self->settings, error))
    return FALSE;

  /* Ranges that catch values that cannot be meant; the error names the
   * setting, where it comes from and the range */
  if (!stache_settings_get_int_range (self->settings, "chunk_size", 800, 16, 1000000,
                                      &value, error))
    return FALSE;
  self->chunk_size = (guint) value;
  if (!stache_settings_get_int_range (self->settings, "chunk_overlap", 120, 0, 500000,
                                      &value, error))
    return FALSE;
  self->chunk_overlap = (guint) value;
  /* The overlap is repeated in front of the next chunk: as long as the
   * chunk itself, it would be all a chunk says again. */
  if (self->chunk_overlap >= self->chunk_size)
    {
      g_autofree char *size_source = stache_settings_describe_source (self->settings, "chunk_size");
      g_autofree char *overlap_source = stache_settings_describe_source (self->settings, "chunk_overlap");

      g_set_error (error, STACHE_ERROR, STACHE_ERROR_INVALID_SETTING,
                   /* Translators: the %s say where each value came from */
                   _("Setting “chunk_overlap” (%u, from %s) must be smaller than “chunk_size” "
                     "(%u, from %s)"),
                   self->chunk_overlap, overlap_source, self->chunk_size, size_source);
      return FALSE;
    }
  if (!stache_settings_get_int_range (self->settings, "max_file_size", 10 * 1024 * 1024, 1,
                                      G_MAXINT64, &value, error))
    return FALSE;
  self->max_file_size = (guint64) value;
  if (!stache_settings_get_int_range (self->settings, "search_top_k", 10, 1, 10000,
                                      &value, error))
    return FALSE;
  self->default_top_k = (guint) value;

  self->vector_weight = stache_settings_get_double (self->settings, "hybrid_vector_weight",
                                                    DEFAULT_VECTOR_WEIGHT, error);
  if (error != NULL && *error != NULL)
    return FALSE;
  self->rrf_k = stache_settings_get_double (self->settings, "hybrid_rrf_k", RRF_K, error);
  if (error != NULL && *error != NULL)
    return FALSE;
  if (self->vector_weight < 0 || self->vector_weight > 10 || self->rrf_k < 0 || self->rrf_k > 1000)
    {
      g_set_error (error, STACHE_ERROR, STACHE_ERROR_INVALID_SETTING,
                   _("Settings “hybrid_vector_weight” (0 to 10) and “hybrid_rrf_k” (0 to 1000) "
                     "are out of range"));
      return FALSE;
    }

  if (!create_provider (self, STACHE_PROVIDER_TYPE_EMBEDDINGS, (gpointer *) &self->embedder, error) ||
      !create_provider (self, STACHE_PROVIDER_TYPE_VECTORDB, (gpointer *) &self->vectordb, error) ||
      !create_provider (self, STACHE_PROVIDER_TYPE_NAMESPACE, (gpointer *) &self->namespaces, error) ||
      !create_provider (self, STACHE_PROVIDER_TYPE_DOCUMENT_INDEX, (gpointer *) &self->documents, error))
    return FALSE;

  /* "none" switches reranking off (no provider, no error); anything else
   * must exist. */
  if (self->reranker == NULL)
    {
      GError *local_error = NULL;

      self->reranker = stache_reranker_provider_create (self->settings, &local_error);
      if (local_error != NULL)
        {
          g_propagate_error (error, local_error);
          return FALSE;
        }
    }

  /* The LLM is only needed by ask(); creating it lazily lets a store search
   * even when, say, an API key for the configured LLM is missing. */
  return TRUE;
}

static void
stache_store_initable_iface_init (GInitableIface *iface)
{
  iface->init = stache_store_initable_init;
}

static void
stache_store_constructed (GObject *object)
{
  StacheStore *self = STACHE_STORE (object);

  G_OBJECT_CLASS (stache_store_parent_class)->constructed (object);

  if (self->settings == NULL)
    self->settings = stache_settings_new ();
}

static void
stache_store_finalize (GObject *object)
{
  StacheStore *self = STACHE_STORE (object);

  g_clear_object (&self->llm);
  g_clear_object (&self->embedder);
  g_clear_object (&self->vectordb);
  g_clear_object (&self->namespaces);
  g_clear_object (&self->reranker);
  g_clear_object (&self->documents);
  g_clear_object (&self->settings);
  g_mutex_clear (&self->llm_lock);

  G_OBJECT_CLASS (stache_store_parent_class)->finalize (object);
}

static gpointer *
provider_slot (StacheStore *self,
               guint        prop_id)
{
  switch (prop_id)
    {
    case PROP_LLM: return (gpointer *) &self->llm;
    case PROP_EMBEDDER: return (gpointer *) &self->embedder;
    case PROP_VECTOR_DB: return (gpointer *) &self->vectordb;
    case PROP_NAMESPACES: return (gpointer *) &self->namespaces;
    case PROP_RERANKER: return (gpointer *) &self->reranker;
    case PROP_DOCUMENTS: return (gpointer *) &self->documents;
    default: return NULL;
    }
}

static void
stache_store_get_property (GObject    *object,
                           guint       prop_id,
                           GValue     *value,
                           GParamSpec *pspec)
{
  StacheStore *self = STACHE_STORE (object);
  gpointer *slot;

  if (prop_id == PROP_SETTINGS)
    {
      g_value_set_object (value, self->settings);
      return;
    }

  if ((slot = provider_slot (self, prop_id)) == NULL)
    {
      G_OBJECT_WARN_INVALID_PROPERTY_ID (object, prop_id, pspec);
      return;
    }

  if (prop_id == PROP_LLM)
    g_mutex_lock (&self->llm_lock);
  g_value_set_object (value, *slot);
  if (prop_id == PROP_LLM)
    g_mutex_unlock (&self->llm_lock);
}

static void
stache_store_set_property (GObject      *object,
                           guint         prop_id,
                           const GValue *value,
                           GParamSpec   *pspec)
{
  StacheStore *self = STACHE_STORE (object);
  gpointer *slot;

  if (prop_id == PROP_SETTINGS)
    {
      self->settings = g_value_dup_object (value);
      return;
    }

  if ((slot = provider_slot (self, prop_id)) == NULL)
    {
      G_OBJECT_WARN_INVALID_PROPERTY_ID (object, prop_id, pspec);
      return;
    }

  *slot = g_value_dup_object (value);
}

static void
stache_store_class_init (StacheStoreClass *klass)
{
  GObjectClass *object_class = G_OBJECT_CLASS (klass);
  const GParamFlags provider_flags = G_PARAM_READWRITE | G_PARAM_CONSTRUCT_ONLY | G_PARAM_STATIC_STRINGS;

  _stache_i18n_init ();

  object_class->constructed = stache_store_constructed;
  object_class->finalize = stache_store_finalize;
  object_class->get_property = stache_store_get_property;
  object_class->set_property = stache_store_set_property;

  /**
   * StacheStore:settings:
   *
   * The settings the store and its providers read.
   */
  properties[PROP_SETTINGS] =
    g_param_spec_object ("settings", NULL, NULL, STACHE_TYPE_SETTINGS, provider_flags);

  /**
   * StacheStore:llm-provider:
   *
   * The LLM provider; created from settings on first ask when not given.
   */
  properties[PROP_LLM] =
    g_param_spec_object ("llm-provider", NULL, NULL, STACHE_TYPE_LLM_PROVIDER, provider_flags);

  /**
   * StacheStore:embedding-provider:
   *
   * The embedding provider; created from settings when not given.
   */
  properties[PROP_EMBEDDER] =
    g_param_spec_object ("embedding-provider", NULL, NULL, STACHE_TYPE_EMBEDDING_PROVIDER, provider_flags);

  /**
   * StacheStore:vector-db-provider:
   *
   * The vector database; created from settings when not given.
   */
  properties[PROP_VECTOR_DB] =
    g_param_spec_object ("vector-db-provider", NULL, NULL, STACHE_TYPE_VECTOR_DB_PROVIDER, provider_flags);

  /**
   * StacheStore:namespace-provider:
   *
   * The namespace registry; created from settings when not given.
   */
  properties[PROP_NAMESPACES] =
    g_param_spec_object ("namespace-provider", NULL, NULL, STACHE_TYPE_NAMESPACE_PROVIDER, provider_flags);

  /**
   * StacheStore:reranker-provider:
   *
   * The reranker, or %NULL when reranking is off; created from settings
   * when not given.
   */
  properties[PROP_RERANKER] =
    g_param_spec_object ("reranker-provider", NULL, NULL, STACHE_TYPE_RERANKER_PROVIDER, provider_flags);

  /**
   * StacheStore:document-index-provider:
   *
   * The document index; created from settings when not given.
   */
  properties[PROP_DOCUMENTS] =
    g_param_spec_object ("document-index-provider", NULL, NULL, STACHE_TYPE_DOCUMENT_INDEX_PROVIDER, provider_flags);

  g_object_class_install_properties (object_class, N_PROPS, properties);

  /**
   * StacheStore::progress:
   * @self: the store
   * @done: how many files are done
   * @total: how many files there are
   * @path: (nullable): the file about to be ingested, or %NULL at the end
   *
   * Emitted by stache_store_ingest_directory() before each file and once
   * at the end, in the calling thread; for
   * stache_store_ingest_directory_async() in the thread-default main
   * context of the call, merged when files come faster than it runs.
   */
  signals[SIGNAL_PROGRESS] =
    g_signal_new ("progress", G_TYPE_FROM_CLASS (klass), G_SIGNAL_RUN_LAST, 0, NULL, NULL, NULL,
                  G_TYPE_NONE, 3, G_TYPE_UINT, G_TYPE_UINT, G_TYPE_STRING);

  /**
   * StacheStore::token:
   * @self: the store
   * @token: the next piece of the answer
   *
   * Emitted by stache_store_ask() and stache_store_ask_async() for each
   * piece of the answer as the language model writes it; the pieces joined
   * are the answer's text. A model that cannot stream gives the whole
   * answer in one piece. The sync method emits it in the calling thread,
   * the async one in the thread-default main context of the call, always
   * before the async callback runs. It cannot tell two questions asked at
   * once apart: stache_store_ask_full() and stache_store_ask_full_async()
   * give each call a function of its own.
   */
  signals[SIGNAL_TOKEN] =
    g_signal_new ("token", G_TYPE_FROM_CLASS (klass), G_SIGNAL_RUN_LAST, 0, NULL, NULL, NULL,
                  G_TYPE_NONE, 1, G_TYPE_STRING);
}

static void
stache_store_init (StacheStore *self)
{
  g_mutex_init (&self->llm_lock);
}

/**
 * stache_store_new:
 * @settings: (nullable): settings, or %NULL for stache_settings_new()
 * @error: return location for a #GError
 *
 * Creates a store with the providers @settings choose (the embedded
 * defaults when nothing is configured).
 *
 * Returns: (transfer full): the store, or %NULL if a provider could not be
 *   created or a setting is malformed
 */
StacheStore *
stache_store_new (StacheSettings  *settings,
                  GError         **error)
{
  g_return_val_if_fail (settings == NULL || STACHE_IS_SETTINGS (settings), NULL);
  g_return_val_if_fail (error == NULL || *error == NULL, NULL);

  return g_initable_new (STACHE_TYPE_STORE, NULL, error, "settings", settings, NULL);
}

/**
 * stache_store_get_settings:
 * @self: a #StacheStore
 *
 * Gets the store's settings.
 *
 * Returns: (transfer none): the settings
 */
StacheSettings *
stache_store_get_settings (StacheStore *self)
{
  g_return_val_if_fail (STACHE_IS_STORE (self), NULL);
  return self->settings;
}

/* ---- helpers ---- */

static gboolean
resolve_namespace (const char  *namespace_,
                   const char **out,
                   GError     **error)
{
  *out = namespace_ != NULL ? namespace_ : DEFAULT_NAMESPACE;
  return stache_namespace_name_validate (*out, error);
}

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
 * embedding model, chunking or vector database redoes it (the document
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
    signatures->by_format[format] = g_strdup_printf ("%s/%u/%u/%d/%s", model, self->chunk_size,
                                                     self->chunk_overlap, format,
                                                     G_OBJECT_TYPE_NAME (self->vectordb));
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

  if (!resolve_namespace (namespace_, &ns, error))
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

static char *
file_display_name (GFile *file)
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

  name = file_display_name (file);
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

  if (!resolve_namespace (namespace_, &ns, error))
    return NULL;

  signatures_init (self, &signatures);
  pending = prepare_file (self, &signatures, file, ns, cancellable, error);
  if (pending == NULL)
    return NULL;

  return write_one (self, pending, cancellable, error);
}



typedef struct _TokenCallback TokenCallback;
static void token_callback_unref (TokenCallback *callback);

/* Runs @func (@data) in @context, the context of an async call, ahead of
 * the call's callback (same priority, queued earlier). Always a source,
 * never a direct call: g_main_context_invoke() would run it in the worker
 * when the caller's context is the global default and momentarily free. */
static void
post_to_caller (GMainContext   *context,
                GSourceFunc     func,
                gpointer        data,
                GDestroyNotify  destroy,
                const char     *static_name)
{
  GSource *source = g_idle_source_new ();

  g_source_set_priority (source, G_PRIORITY_DEFAULT);
  g_source_set_callback (source, func, data, destroy);
  g_source_set_static_name (source, static_name);
  g_source_attach (source, context);
  g_source_unref (source);
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

  g_signal_emit (sink->store, signals[SIGNAL_PROGRESS], 0, done, total, path);
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
      g_signal_emit (self, signals[SIGNAL_PROGRESS], 0, done, total, path);
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
  post_to_caller (sink->context, emit_progress_idle, sink, (GDestroyNotify) progress_sink_unref,
                  "[stache] StacheStore::progress");
}

typedef struct
{
  GFile  *file;
  char   *namespace_;
  char  **include;
  char  **exclude;
  char   *query;
  guint   top_k;
  StacheSearchMode mode;
  JsonObject *filter;
  GMainContext *context;  /* where ask_async emits ::token */
  ProgressSink *progress; /* where ingest_directory_async emits ::progress */
  TokenCallback *token_callback;  /* ask_full_async's */
} StoreCall;

static void
store_call_free (gpointer p)
{
  StoreCall *call = p;

  g_clear_object (&call->file);
  g_free (call->namespace_);
  g_strfreev (call->include);
  g_strfreev (call->exclude);
  g_free (call->query);
  g_clear_pointer (&call->filter, json_object_unref);
  g_clear_pointer (&call->context, g_main_context_unref);
  g_clear_pointer (&call->progress, progress_sink_unref);
  g_clear_pointer (&call->token_callback, token_callback_unref);
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

static gboolean
matches_any (GPtrArray  *patterns,
             const char *relative,
             const char *basename)
{
  for (guint i = 0; patterns != NULL && i < patterns->len; i++)
    {
      GPatternSpec *spec = g_ptr_array_index (patterns, i);

      if (g_pattern_spec_match_string (spec, relative) || g_pattern_spec_match_string (spec, basename))
        return TRUE;
    }

  return FALSE;
}

static GPtrArray *
compile_patterns (const char * const *globs)
{
  GPtrArray *patterns;

  if (globs == NULL || globs[0] == NULL)
    return NULL;

  patterns = g_ptr_array_new_with_free_func ((GDestroyNotify) g_pattern_spec_free);
  for (guint i = 0; globs[i] != NULL; i++)
    g_ptr_array_add (patterns, g_pattern_spec_new (globs[i]));

  return patterns;
}

/* A file and its path, the sort key, computed once. */
typedef struct
{
  char  *path;
  GFile *file;
} SortedFile;

static int
compare_sorted_files (gconstpointer a,
                      gconstpointer b)
{
  return g_strcmp0 (((const SortedFile *) a)->path, ((const SortedFile *) b)->path);
}

/* Sorts @files by path, so that a folder is ingested in the same order
 * wherever it is walked. */
static void
sort_files (GPtrArray *files)
{
  g_autofree SortedFile *sorted = g_new (SortedFile, MAX (files->len, 1));

  for (guint i = 0; i < files->len; i++)
    {
      sorted[i].file = g_ptr_array_index (files, i);
      sorted[i].path = g_file_get_path (sorted[i].file);
    }
  qsort (sorted, files->len, sizeof (SortedFile), compare_sorted_files);
  for (guint i = 0; i < files->len; i++)
    {
      files->pdata[i] = sorted[i].file;
      g_free (sorted[i].path);
    }
}

/* What the walk found in one folder entry. */
typedef enum
{
  ENTRY_OTHER,
  ENTRY_FILE,
  ENTRY_FOLDER,
} EntryKind;

typedef struct
{
  GFile      *root;
  GPtrArray  *include;
  GPtrArray  *exclude;
  const char *ns;
  GPtrArray  *files;      /* GFile */
  GPtrArray  *failures;   /* StacheIngestResult: folders that could not be read */
} Walk;

/* Sorts one entry of @dir into the walk; returns the child to descend
 * into for a folder. */
static GFile *
walk_entry (Walk       *walk,
            GFile      *dir,
            const char *basename,
            EntryKind   kind)
{
  g_autoptr(GFile) child = NULL;
  g_autofree char *relative = NULL;

  if (kind == ENTRY_OTHER)
    return NULL;

  child = g_file_get_child (dir, basename);
  if (walk->include != NULL || walk->exclude != NULL)
    relative = g_file_get_relative_path (walk->root, child);
  if (matches_any (walk->exclude, relative, basename))
    return NULL;

  if (kind == ENTRY_FOLDER)
    return g_steal_pointer (&child);

  if (walk->include == NULL || matches_any (walk->include, relative, basename))
    g_ptr_array_add (walk->files, g_steal_pointer (&child));

  return NULL;
}

/* The entries of a local folder, straight from readdir(): the entry type
 * it reports spares a stat() per file, which GIO's enumerator makes. */
static gboolean
list_local_folder (Walk          *walk,
                   GFile         *dir,
                   const char    *path,
                   GPtrArray     *subdirs,
                   GCancellable  *cancellable,
                   GError       **error)
{
  DIR *stream;
  struct dirent *entry;
  guint seen = 0;

  stream = opendir (path);
  if (stream == NULL)
    {
      int saved = errno;

      g_set_error_literal (error, G_IO_ERROR, g_io_error_from_errno (saved), g_strerror (saved));
      return FALSE;
    }

  for (;;)
    {
      EntryKind kind = ENTRY_OTHER;
      GFile *subdir;

      errno = 0;
      entry = readdir (stream);
      if (entry == NULL)
        break;
      if (entry->d_name[0] == '.')
        continue;
      if (++seen % 1024 == 0 && g_cancellable_set_error_if_cancelled (cancellable, error))
        {
          closedir (stream);
          return FALSE;
        }

      switch (entry->d_type)
        {
        case DT_REG:
          kind = ENTRY_FILE;
          break;
        case DT_DIR:
          kind = ENTRY_FOLDER;
          break;
        case DT_UNKNOWN:
          {
            struct stat st;

            /* Symbolic links are not followed: a link loop cannot trap
             * the walk. */
            if (fstatat (dirfd (stream), entry->d_name, &st, AT_SYMLINK_NOFOLLOW) == 0)
              kind = S_ISREG (st.st_mode) ? ENTRY_FILE : S_ISDIR (st.st_mode) ? ENTRY_FOLDER : ENTRY_OTHER;
          }
          break;
        default:
          break;
        }

      subdir = walk_entry (walk, dir, entry->d_name, kind);
      if (subdir != NULL)
        g_ptr_array_add (subdirs, subdir);
    }

  if (errno != 0)
    {
      int saved = errno;

      closedir (stream);
      g_set_error_literal (error, G_IO_ERROR, g_io_error_from_errno (saved), g_strerror (saved));
      return FALSE;
    }
  closedir (stream);

  return TRUE;
}

/* The same for a folder that is not local, through GIO. */
static gboolean
list_folder (Walk          *walk,
             GFile         *dir,
             GPtrArray     *subdirs,
             GCancellable  *cancellable,
             GError       **error)
{
  g_autoptr(GFileEnumerator) enumerator = NULL;

  enumerator = g_file_enumerate_children (dir,
                                          G_FILE_ATTRIBUTE_STANDARD_NAME ","
                                          G_FILE_ATTRIBUTE_STANDARD_TYPE ","
                                          G_FILE_ATTRIBUTE_STANDARD_IS_SYMLINK,
                                          G_FILE_QUERY_INFO_NOFOLLOW_SYMLINKS, cancellable, error);
  if (enumerator == NULL)
    return FALSE;

  for (;;)
    {
      GFileInfo *info = NULL;
      const char *basename;
      EntryKind kind = ENTRY_OTHER;
      GFile *subdir;

      if (!g_file_enumerator_iterate (enumerator, &info, NULL, cancellable, error))
        return FALSE;
      if (info == NULL)
        break;

      basename = g_file_info_get_name (info);
      if (basename[0] == '.' || g_file_info_get_is_symlink (info))
        continue;

      switch (g_file_info_get_file_type (info))
        {
        case G_FILE_TYPE_DIRECTORY:
          kind = ENTRY_FOLDER;
          break;
        case G_FILE_TYPE_REGULAR:
          kind = ENTRY_FILE;
          break;
        default:
          break;
        }

      subdir = walk_entry (walk, dir, basename, kind);
      if (subdir != NULL)
        g_ptr_array_add (subdirs, subdir);
    }

  return TRUE;
}

/* Collects the files below @dir: hidden entries (".git") and symbolic
 * links are skipped, so a link loop cannot trap the walk. A folder below
 * the top one that cannot be read becomes one failure with its reason and
 * the walk goes on; only the top folder's own failure is an error. */
static gboolean
collect_files (Walk          *walk,
               GFile         *dir,
               guint          depth,
               GCancellable  *cancellable,
               GError       **error)
{
  g_autoptr(GPtrArray) subdirs = g_ptr_array_new_with_free_func (g_object_unref);
  g_autoptr(GError) local_error = NULL;
  const char *path = g_file_peek_path (dir);
  gboolean listed;

  if (depth > 64)
    return TRUE;

  if (path != NULL)
    listed = list_local_folder (walk, dir, path, subdirs, cancellable, &local_error);
  else
    listed = list_folder (walk, dir, subdirs, cancellable, &local_error);

  if (!listed)
    {
      g_autofree char *name = file_display_name (dir);
      StacheIngestResult *failure;

      if (depth == 0 || g_error_matches (local_error, G_IO_ERROR, G_IO_ERROR_CANCELLED))
        {
          if (g_error_matches (local_error, G_IO_ERROR, G_IO_ERROR_CANCELLED))
            g_propagate_error (error, g_steal_pointer (&local_error));
          else
            g_set_error (error, local_error->domain, local_error->code,
                         _("Cannot read the folder “%s”: %s"), name, local_error->message);
          return FALSE;
        }

      failure = _stache_ingest_result_new (name, walk->ns, STACHE_INGEST_OUTCOME_FAILED);
      {
        g_autofree char *reason = g_strdup_printf (_("cannot read this folder: %s"), local_error->message);

        _stache_ingest_result_set_reason (failure, reason);
      }
      g_ptr_array_add (walk->failures, failure);
      /* What was listed before the failure is kept. */
    }

  for (guint i = 0; i < subdirs->len; i++)
    if (!collect_files (walk, g_ptr_array_index (subdirs, i), depth + 1, cancellable, error))
      return FALSE;

  return TRUE;
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
  g_autoptr(GPtrArray) include_patterns = NULL;
  g_autoptr(GPtrArray) exclude_patterns = NULL;
  g_auto(Batch) batch = { 0 };
  g_auto(Signatures) signatures = { { NULL } };
  g_autoptr(GFileInfo) info = NULL;
  g_autoptr(GError) local_error = NULL;
  guint batch_documents = 0, batch_chunks = 0;
  const char *ns;

  g_return_val_if_fail (STACHE_IS_STORE (self), NULL);
  g_return_val_if_fail (G_IS_FILE (directory), NULL);
  g_return_val_if_fail (error == NULL || *error == NULL, NULL);

  if (!resolve_namespace (namespace_, &ns, error))
    return NULL;

  info = g_file_query_info (directory, G_FILE_ATTRIBUTE_STANDARD_TYPE, G_FILE_QUERY_INFO_NONE,
                            cancellable, &local_error);
  if (info == NULL)
    {
      g_autofree char *name = file_display_name (directory);

      g_set_error (error, local_error->domain, local_error->code,
                   _("Cannot read “%s”: %s"), name, local_error->message);
      return NULL;
    }

  include_patterns = compile_patterns (include);
  exclude_patterns = compile_patterns (exclude);

  if (g_file_info_get_file_type (info) == G_FILE_TYPE_DIRECTORY)
    {
      Walk walk = { directory, include_patterns, exclude_patterns, ns, files, results };

      if (!collect_files (&walk, directory, 0, cancellable, error))
        return NULL;
      sort_files (files);
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
      g_autofree char *name = file_display_name (file);
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

static gpointer
ingest_directory_work (gpointer       source,
                       gpointer       data,
                       GCancellable  *cancellable,
                       GError       **error)
{
  StoreCall *call = data;

  return ingest_directory (source, call->file, call->namespace_,
                           (const char * const *) call->include,
                           (const char * const *) call->exclude,
                           call->progress, cancellable, error);
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
  StoreCall *call;

  g_return_if_fail (STACHE_IS_STORE (self));
  g_return_if_fail (G_IS_FILE (directory));

  call = g_new0 (StoreCall, 1);
  call->file = g_object_ref (directory);
  call->namespace_ = g_strdup (namespace_);
  call->include = g_strdupv ((char **) include);
  call->exclude = g_strdupv ((char **) exclude);
  call->progress = progress_sink_new (self);
  _stache_task_run_in_thread (self, stache_store_ingest_directory_async, ingest_directory_work, call,
                              store_call_free, (GDestroyNotify) g_ptr_array_unref,
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

/* ---- search ---- */

typedef struct
{
  StacheSearchResult *result;
  double              score;
  guint               order;
} Fused;

static int
compare_fused (gconstpointer a,
               gconstpointer b)
{
  const Fused *fa = *(Fused * const *) a;
  const Fused *fb = *(Fused * const *) b;

  if (fa->score != fb->score)
    return fa->score < fb->score ? 1 : -1;
  return (fa->order > fb->order) - (fa->order < fb->order);
}

/* Reciprocal-rank fusion: each list votes 1/(k + rank) for its hits, so a
 * chunk found by both the vector and the keyword search rises, and neither
 * list's raw scores (cosine vs BM25, on different scales) need comparing. */
static GPtrArray *
fuse_rrf (GPtrArray *first,
          double     first_weight,
          GPtrArray *second,
          double     second_weight,
          double     k)
{
  g_autoptr(GHashTable) by_id = g_hash_table_new (g_str_hash, g_str_equal);
  g_autoptr(GPtrArray) fused = g_ptr_array_new_with_free_func (g_free);
  GPtrArray *lists[2] = { first, second };
  double weights[2] = { first_weight, second_weight };
  GPtrArray *results = g_ptr_array_new_with_free_func (g_object_unref);
  guint order = 0;

  for (guint l = 0; l < 2; l++)
    {
      for (guint rank = 0; lists[l] != NULL && rank < lists[l]->len; rank++)
        {
          StacheSearchResult *hit = g_ptr_array_index (lists[l], rank);
          const char *id = stache_search_result_get_id (hit);
          Fused *entry = id != NULL ? g_hash_table_lookup (by_id, id) : NULL;

          if (entry == NULL)
            {
              entry = g_new0 (Fused, 1);
              entry->result = hit;
              entry->order = order++;
              g_ptr_array_add (fused, entry);
              if (id != NULL)
                g_hash_table_insert (by_id, (gpointer) id, entry);
            }
          entry->score += weights[l] / (k + rank + 1);
        }
    }

  g_ptr_array_sort (fused, compare_fused);
  for (guint i = 0; i < fused->len; i++)
    {
      Fused *entry = g_ptr_array_index (fused, i);
      StacheSearchResult *copy = stache_search_result_copy (entry->result);

      stache_search_result_set_score (copy, entry->score);
      g_ptr_array_add (results, copy);
    }

  return results;
}

/**
 * stache_store_search_full:
 * @self: a #StacheStore
 * @query: what to look for
 * @namespace_: (nullable): the namespace to search, or %NULL for all
 * @top_k: how many results to return; 0 for the `search_top_k` setting
 * @mode: vector, keyword or hybrid
 * @filter: (nullable): a metadata filter (see #StacheVectorDbProvider)
 * @cancellable: (nullable): a #GCancellable
 * @error: return location for a #GError
 *
 * Finds the chunks that best answer @query: candidates by vector and/or
 * keyword search (hybrid fuses both by reciprocal rank), then reranked.
 *
 * Returns: (transfer container) (element-type StacheSearchResult): the
 *   results, best first, or %NULL with @error set
 */
GPtrArray *
stache_store_search_full (StacheStore       *self,
                          const char        *query,
                          const char        *namespace_,
                          guint              top_k,
                          StacheSearchMode   mode,
                          JsonObject        *filter,
                          GCancellable      *cancellable,
                          GError           **error)
{
  g_autoptr(GPtrArray) by_vector = NULL;
  g_autoptr(GPtrArray) by_keyword = NULL;
  g_autoptr(GPtrArray) candidates = NULL;
  guint n_candidates;

  g_return_val_if_fail (STACHE_IS_STORE (self), NULL);
  g_return_val_if_fail (query != NULL, NULL);
  g_return_val_if_fail (error == NULL || *error == NULL, NULL);

  {
    g_autofree char *stripped = g_strstrip (g_strdup (query));

    if (!g_utf8_validate (query, -1, NULL) || stripped[0] == '\0')
      {
        g_set_error (error, STACHE_ERROR, STACHE_ERROR_INVALID_ARGUMENT,
                     _("The search query is empty or not valid UTF-8"));
        return NULL;
      }
  }

  if (namespace_ != NULL && !stache_namespace_name_validate (namespace_, error))
    return NULL;

  if (top_k == 0)
    top_k = self->default_top_k;
  n_candidates = MAX (top_k * 4, 20);

  if (mode != STACHE_SEARCH_MODE_KEYWORD)
    {
      g_autoptr(GArray) vector = stache_embedding_provider_embed (self->embedder, query, cancellable, error);

      if (vector == NULL)
        return NULL;
      by_vector = stache_vector_db_provider_search (self->vectordb, namespace_, vector, n_candidates,
                                                    filter, cancellable, error);
      if (by_vector == NULL)
        return NULL;
    }

  if (mode != STACHE_SEARCH_MODE_VECTOR)
    {
      if (stache_vector_db_provider_has_capability (self->vectordb, "keyword_search"))
        {
          by_keyword = stache_vector_db_provider_keyword_search (self->vectordb, namespace_, query,
                                                                 n_candidates, filter, cancellable, error);
          if (by_keyword == NULL)
            return NULL;
        }
      else if (mode == STACHE_SEARCH_MODE_KEYWORD)
        {
          g_set_error (error, STACHE_ERROR, STACHE_ERROR_NOT_SUPPORTED,
                       _("The vector database %s has no keyword search; use vector or hybrid mode"),
                       G_OBJECT_TYPE_NAME (self->vectordb));
          return NULL;
        }
    }

  if (by_vector != NULL && by_keyword != NULL)
    {
      candidates = fuse_rrf (by_vector, self->vector_weight, by_keyword, 1.0, self->rrf_k);
      /* The reranker sees as many candidates as from one list alone. */
      if (candidates->len > n_candidates)
        g_ptr_array_set_size (candidates, n_candidates);
    }
  else
    candidates = g_ptr_array_ref (by_vector != NULL ? by_vector : by_keyword);

  if (self->reranker != NULL && candidates->len > 0)
    return stache_reranker_provider_rerank (self->reranker, query, candidates, top_k, cancellable, error);

  if (candidates->len > top_k)
    g_ptr_array_set_size (candidates, top_k);

  return g_steal_pointer (&candidates);
}

/**
 * stache_store_search:
 * @self: a #StacheStore
 * @query: what to look for
 * @namespace_: (nullable): the namespace to search, or %NULL for all
 * @top_k: how many results to return; 0 for the `search_top_k` setting
 * @cancellable: (nullable): a #GCancellable
 * @error: return location for a #GError
 *
 * Hybrid search without a filter; see stache_store_search_full().
 *
 * Returns: (transfer container) (element-type StacheSearchResult): the
 *   results, best first, or %NULL with @error set
 */
GPtrArray *
stache_store_search (StacheStore   *self,
                     const char    *query,
                     const char    *namespace_,
                     guint          top_k,
                     GCancellable  *cancellable,
                     GError       **error)
{
  return stache_store_search_full (self, query, namespace_, top_k, STACHE_SEARCH_MODE_HYBRID, NULL,
                                   cancellable, error);
}

static gpointer
search_work (gpointer       source,
             gpointer       data,
             GCancellable  *cancellable,
             GError       **error)
{
  StoreCall *call = data;

  return stache_store_search_full (source, call->query, call->namespace_, call->top_k, call->mode,
                                   call->filter, cancellable, error);
}

/**
 * stache_store_search_async:
 * @self: a #StacheStore
 * @query: what to look for
 * @namespace_: (nullable): the namespace to search, or %NULL for all
 * @top_k: how many results to return; 0 for the default
 * @mode: vector, keyword or hybrid
 * @filter: (nullable): a metadata filter
 * @cancellable: (nullable): a #GCancellable
 * @callback: (scope async): called with the results
 * @user_data: data for @callback
 *
 * Searches in a worker thread; see stache_store_search_full().
 */
void
stache_store_search_async (StacheStore         *self,
                           const char          *query,
                           const char          *namespace_,
                           guint                top_k,
                           StacheSearchMode     mode,
                           JsonObject          *filter,
                           GCancellable        *cancellable,
                           GAsyncReadyCallback  callback,
                           gpointer             user_data)
{
  StoreCall *call;

  g_return_if_fail (STACHE_IS_STORE (self));
  g_return_if_fail (query != NULL);

  call = g_new0 (StoreCall, 1);
  call->query = g_strdup (query);
  call->namespace_ = g_strdup (namespace_);
  call->top_k = top_k;
  call->mode = mode;
  call->filter = filter != NULL ? json_object_ref (filter) : NULL;
  _stache_task_run_in_thread (self, stache_store_search_async, search_work, call, store_call_free,
                              (GDestroyNotify) g_ptr_array_unref, cancellable, callback, user_data);
}

/**
 * stache_store_search_finish:
 * @self: a #StacheStore
 * @result: the #GAsyncResult passed to the callback
 * @error: return location for a #GError
 *
 * Finishes stache_store_search_async().
 *
 * Returns: (transfer container) (element-type StacheSearchResult): the
 *   results, or %NULL with @error set
 */
GPtrArray *
stache_store_search_finish (StacheStore   *self,
                            GAsyncResult  *result,
                            GError       **error)
{
  return _stache_task_finish_pointer (self, result, stache_store_search_async, error);
}

/* ---- ask ---- */

static StacheLlmProvider *
ensure_llm (StacheStore  *self,
            GError      **error)
{
  StacheLlmProvider *llm;

  g_mutex_lock (&self->llm_lock);
  if (self->llm == NULL)
    self->llm = STACHE_LLM_PROVIDER (stache_plugin_loader_create_provider (stache_plugin_loader_get_default (),
                                                                           STACHE_PROVIDER_TYPE_LLM, NULL,
                                                                           self->settings, error));
  llm = self->llm != NULL ? g_object_ref (self->llm) : NULL;
  g_mutex_unlock (&self->llm_lock);

  return llm;
}

/* The prompt format the built-in extractive LLM parses, and a plain one
 * any model reads well: the question, then numbered sources. */
static char *
build_prompt (const char *question,
              GPtrArray  *sources)
{
  GString *prompt = g_string_new (NULL);

  g_string_append_printf (prompt, "Question: %s\n\nSources:\n", question);
  if (sources->len == 0)
    g_string_append (prompt, "(none)\n");

  for (guint i = 0; i < sources->len; i++)
    {
      StacheSearchResult *source = g_ptr_array_index (sources, i);
      JsonObject *metadata = stache_search_result_get_metadata (source);
      const char *label = NULL;

      if (metadata != NULL)
        label = json_object_get_string_member_with_default (metadata, "title",
                  json_object_get_string_member_with_default (metadata, "source", NULL));
      if (label == NULL)
        label = stache_search_result_get_document_id (source);

      g_string_append_printf (prompt, "[%u] %s\n%s\n\n", i + 1, label != NULL ? label : "",
                              stache_search_result_get_text (source));
    }

  return g_string_free (prompt, FALSE);
}

#define SYSTEM_PROMPT \
  "Answer the question using only the numbered sources. Cite the sources you use as [n]. " \
  "If the sources do not contain the answer, say so."

/* Where ::token goes: emitted at once (sync ask), or handed to the main
 * context of an async call, in order, ahead of the task's callback */
/* The token function of one call (stache_store_ask_full() and its async
 * variant), shared by the emissions it queues */
struct _TokenCallback
{
  gatomicrefcount  refs;
  StacheTokenFunc  func;
  gpointer         data;
  GDestroyNotify   destroy;
};

static TokenCallback *
token_callback_new (StacheTokenFunc func,
                    gpointer        data,
                    GDestroyNotify  destroy)
{
  TokenCallback *callback;

  if (func == NULL)
    {
      if (destroy != NULL)
        destroy (data);
      return NULL;
    }
  callback = g_new0 (TokenCallback, 1);
  g_atomic_ref_count_init (&callback->refs);
  callback->func = func;
  callback->data = data;
  callback->destroy = destroy;
  return callback;
}

static TokenCallback *
token_callback_ref (TokenCallback *callback)
{
  if (callback != NULL)
    g_atomic_ref_count_inc (&callback->refs);
  return callback;
}

static void
token_callback_unref (TokenCallback *callback)
{
  if (callback == NULL || !g_atomic_ref_count_dec (&callback->refs))
    return;
  if (callback->destroy != NULL)
    callback->destroy (callback->data);
  g_free (callback);
}

typedef struct
{
  StacheStore   *store;
  GMainContext  *context;
  TokenCallback *callback;   /* of this call, or NULL */
} TokenSink;

typedef struct
{
  StacheStore   *store;
  char          *token;
  TokenCallback *callback;
} TokenEmission;

static void
token_emission_free (gpointer p)
{
  TokenEmission *emission = p;

  g_object_unref (emission->store);
  g_free (emission->token);
  token_callback_unref (emission->callback);
  g_free (emission);
}

static void
deliver_token (StacheStore   *store,
               TokenCallback *callback,
               const char    *token)
{
  if (callback != NULL)
    callback->func (token, callback->data);
  g_signal_emit (store, signals[SIGNAL_TOKEN], 0, token);
}

static gboolean
emit_token_idle (gpointer data)
{
  TokenEmission *emission = data;

  deliver_token (emission->store, emission->callback, emission->token);
  return G_SOURCE_REMOVE;
}

static void
sink_token (const char *token,
            gpointer    user_data)
{
  TokenSink *sink = user_data;
  TokenEmission *emission;

  if (sink->context == NULL)
    {
      deliver_token (sink->store, sink->callback, token);
      return;
    }

  emission = g_new0 (TokenEmission, 1);
  emission->store = g_object_ref (sink->store);
  emission->token = g_strdup (token);
  emission->callback = token_callback_ref (sink->callback);
  post_to_caller (sink->context, emit_token_idle, emission, token_emission_free,
                  "[stache] StacheStore::token");
}

static StacheAnswer *
store_ask (StacheStore   *self,
           const char    *question,
           const char    *namespace_,
           guint          top_k,
           GMainContext  *token_context,
           TokenCallback *token_callback,
           GCancellable  *cancellable,
           GError       **error)
{
  g_autoptr(GPtrArray) sources = NULL;
  g_autoptr(StacheLlmProvider) llm = NULL;
  g_autoptr(StacheCompletion) completion = NULL;
  g_autofree char *prompt = NULL;
  TokenSink sink = { self, token_context, token_callback };

  sources = stache_store_search_full (self, question, namespace_, top_k > 0 ? top_k : 5,
                                      STACHE_SEARCH_MODE_HYBRID, NULL, cancellable, error);
  if (sources == NULL)
    return NULL;

  llm = ensure_llm (self, error);
  if (llm == NULL)
    return NULL;

  prompt = build_prompt (question, sources);
  completion = stache_llm_provider_generate_stream (llm, prompt, SYSTEM_PROMPT, NULL,
                                                    sink_token, &sink, cancellable, error);
  if (completion == NULL)
    return NULL;

  return _stache_answer_new (stache_completion_get_text (completion),
                             stache_completion_get_model (completion), sources);
}

/**
 * stache_store_ask:
 * @self: a #StacheStore
 * @question: the question
 * @namespace_: (nullable): the namespace to search, or %NULL for all
 * @top_k: how many passages to give the model; 0 for 5
 * @cancellable: (nullable): a #GCancellable
 * @error: return location for a #GError
 *
 * Searches for @question, then asks the LLM provider to answer from the
 * passages found, citing them as `[1]`, `[2]` … With no LLM configured the
 * built-in extractive provider quotes the best sentences.
 *
 * While the model writes, #StacheStore::token is emitted with each piece
 * of the answer, in the calling thread.
 *
 * Returns: (transfer full): the answer and its sources, or %NULL with
 *   @error set
 */
StacheAnswer *
stache_store_ask (StacheStore   *self,
                  const char    *question,
                  const char    *namespace_,
                  guint          top_k,
                  GCancellable  *cancellable,
                  GError       **error)
{
  g_return_val_if_fail (STACHE_IS_STORE (self), NULL);
  g_return_val_if_fail (question != NULL, NULL);
  g_return_val_if_fail (error == NULL || *error == NULL, NULL);

  return store_ask (self, question, namespace_, top_k, NULL, NULL, cancellable, error);
}

/**
 * stache_store_ask_full:
 * @self: a #StacheStore
 * @question: the question
 * @namespace_: (nullable): the namespace to search, or %NULL for all
 * @top_k: how many passages to give the model; 0 for 5
 * @token_func: (scope call) (nullable): called with each piece of the
 *   answer as the model writes it, in the calling thread
 * @token_data: (closure token_func): data for @token_func
 * @cancellable: (nullable): a #GCancellable
 * @error: return location for a #GError
 *
 * stache_store_ask() with the pieces of this answer given to @token_func,
 * so that several questions asked at once each get their own (the
 * #StacheStore::token signal, emitted too, cannot tell them apart).
 *
 * Returns: (transfer full): the answer and its sources, or %NULL with
 *   @error set
 */
StacheAnswer *
stache_store_ask_full (StacheStore      *self,
                       const char       *question,
                       const char       *namespace_,
                       guint             top_k,
                       StacheTokenFunc   token_func,
                       gpointer          token_data,
                       GCancellable     *cancellable,
                       GError          **error)
{
  TokenCallback callback = { 0, token_func, token_data, NULL };

  g_return_val_if_fail (STACHE_IS_STORE (self), NULL);
  g_return_val_if_fail (question != NULL, NULL);
  g_return_val_if_fail (error == NULL || *error == NULL, NULL);

  return store_ask (self, question, namespace_, top_k, NULL, token_func != NULL ? &callback : NULL,
                    cancellable, error);
}

static gpointer
ask_work (gpointer       source,
          gpointer       data,
          GCancellable  *cancellable,
          GError       **error)
{
  StoreCall *call = data;

  return store_ask (source, call->query, call->namespace_, call->top_k, call->context,
                    call->token_callback, cancellable, error);
}

/* Both async asks: @token_callback (taken) may be NULL */
static void
ask_in_thread (StacheStore          *self,
               gpointer              source_tag,
               const char           *question,
               const char           *namespace_,
               guint                 top_k,
               TokenCallback        *token_callback,
               GCancellable         *cancellable,
               GAsyncReadyCallback   callback,
               gpointer              user_data)
{
  StoreCall *call = g_new0 (StoreCall, 1);

  call->query = g_strdup (question);
  call->namespace_ = g_strdup (namespace_);
  call->top_k = top_k;
  call->context = g_main_context_ref_thread_default ();
  call->token_callback = token_callback;
  _stache_task_run_in_thread (self, source_tag, ask_work, call, store_call_free,
                              g_object_unref, cancellable, callback, user_data);
}

/**
 * stache_store_ask_async:
 * @self: a #StacheStore
 * @question: the question
 * @namespace_: (nullable): the namespace to search, or %NULL for all
 * @top_k: how many passages to give the model; 0 for 5
 * @cancellable: (nullable): a #GCancellable
 * @callback: (scope async): called with the answer
 * @user_data: data for @callback
 *
 * Asks in a worker thread; see stache_store_ask(). #StacheStore::token is
 * emitted in the thread-default main context of this call.
 */
void
stache_store_ask_async (StacheStore         *self,
                        const char          *question,
                        const char          *namespace_,
                        guint                top_k,
                        GCancellable        *cancellable,
                        GAsyncReadyCallback  callback,
                        gpointer             user_data)
{
  g_return_if_fail (STACHE_IS_STORE (self));
  g_return_if_fail (question != NULL);

  ask_in_thread (self, stache_store_ask_async, question, namespace_, top_k, NULL,
                 cancellable, callback, user_data);
}

/**
 * stache_store_ask_finish:
 * @self: a #StacheStore
 * @result: the #GAsyncResult passed to the callback
 * @error: return location for a #GError
 *
 * Finishes stache_store_ask_async().
 *
 * Returns: (transfer full): the answer, or %NULL with @error set
 */
StacheAnswer *
stache_store_ask_finish (StacheStore   *self,
                         GAsyncResult  *result,
                         GError       **error)
{
  return _stache_task_finish_pointer (self, result, stache_store_ask_async, error);
}

/**
 * stache_store_ask_full_async:
 * @self: a #StacheStore
 * @question: the question
 * @namespace_: (nullable): the namespace to search, or %NULL for all
 * @top_k: how many passages to give the model; 0 for 5
 * @token_func: (scope notified) (nullable): called with each piece of the
 *   answer, in the thread-default main context of this call, before
 *   @callback
 * @token_data: (closure token_func): data for @token_func
 * @token_destroy: (destroy token_data) (nullable): frees @token_data
 *   once the call is done with it
 * @cancellable: (nullable): a #GCancellable
 * @callback: (scope async): called when done
 * @user_data: data for @callback
 *
 * stache_store_ask_async() with the pieces of this answer given to
 * @token_func; see stache_store_ask_full().
 */
void
stache_store_ask_full_async (StacheStore         *self,
                             const char          *question,
                             const char          *namespace_,
                             guint                top_k,
                             StacheTokenFunc      token_func,
                             gpointer             token_data,
                             GDestroyNotify       token_destroy,
                             GCancellable        *cancellable,
                             GAsyncReadyCallback  callback,
                             gpointer             user_data)
{
  g_return_if_fail (STACHE_IS_STORE (self));
  g_return_if_fail (question != NULL);

  ask_in_thread (self, stache_store_ask_full_async, question, namespace_, top_k,
                 token_callback_new (token_func, token_data, token_destroy),
                 cancellable, callback, user_data);
}

/**
 * stache_store_ask_full_finish:
 * @self: a #StacheStore
 * @result: the #GAsyncResult passed to the callback
 * @error: return location for a #GError
 *
 * Finishes stache_store_ask_full_async().
 *
 * Returns: (transfer full): the answer and its sources, or %NULL with
 *   @error set
 */
StacheAnswer *
stache_store_ask_full_finish (StacheStore   *self,
                              GAsyncResult  *result,
                              GError       **error)
{
  return _stache_task_finish_pointer (self, result, stache_store_ask_full_async, error);
}

/* ---- documents and namespaces ---- */

/**
 * stache_store_get_document:
 * @self: a #StacheStore
 * @document_id: a document id
 * @cancellable: (nullable): a #GCancellable
 * @error: return location for a #GError
 *
 * Gets one document; an unknown id is %STACHE_ERROR_NOT_FOUND.
 *
 * Returns: (transfer full): the document, or %NULL with @error set
 */
StacheDocument *
stache_store_get_document (StacheStore   *self,
                           const char    *document_id,
                           GCancellable  *cancellable,
                           GError       **error)
{
  g_return_val_if_fail (STACHE_IS_STORE (self), NULL);
  g_return_val_if_fail (document_id != NULL, NULL);

  return stache_document_index_provider_get_document (self->documents, document_id, cancellable, error);
}

/**
 * stache_store_list_documents:
 * @self: a #StacheStore
 * @namespace_: (nullable): a namespace, or %NULL for all
 * @cancellable: (nullable): a #GCancellable
 * @error: return location for a #GError
 *
 * Lists the documents stored.
 *
 * Returns: (transfer container) (element-type StacheDocument): the
 *   documents, or %NULL with @error set
 */
GPtrArray *
stache_store_list_documents (StacheStore   *self,
                             const char    *namespace_,
                             GCancellable  *cancellable,
                             GError       **error)
{
  g_return_val_if_fail (STACHE_IS_STORE (self), NULL);

  return stache_document_index_provider_list_documents (self->documents, namespace_, cancellable, error);
}

/**
 * stache_store_delete_document:
 * @self: a #StacheStore
 * @document_id: a document id
 * @cancellable: (nullable): a #GCancellable
 * @error: return location for a #GError
 *
 * Deletes a document and all its chunks; an unknown id is
 * %STACHE_ERROR_NOT_FOUND.
 *
 * Returns: %TRUE on success
 */
gboolean
stache_store_delete_document (StacheStore   *self,
                              const char    *document_id,
                              GCancellable  *cancellable,
                              GError       **error)
{
  g_autoptr(StacheDocument) document = NULL;
  g_autoptr(JsonObject) filter = json_object_new ();

  g_return_val_if_fail (STACHE_IS_STORE (self), FALSE);
  g_return_val_if_fail (document_id != NULL, FALSE);

  document = stache_document_index_provider_get_document (self->documents, document_id, cancellable, error);
  if (document == NULL)
    return FALSE;

  /* Chunks first: a crash in between leaves a document row whose chunks
   * are gone, which re-ingesting or deleting again repairs, rather than
   * chunks that answer searches for a document nobody can see. */
  json_object_set_string_member (filter, "document_id", document_id);
  if (stache_vector_db_provider_delete_chunks (self->vectordb, stache_document_get_namespace (document),
                                               NULL, filter, cancellable, error) < 0)
    return FALSE;

  return stache_document_index_provider_delete_document (self->documents, document_id, cancellable, error);
}

/**
 * stache_store_create_namespace:
 * @self: a #StacheStore
 * @name: a namespace name such as `research/papers`
 * @description: (nullable): what it holds
 * @cancellable: (nullable): a #GCancellable
 * @error: return location for a #GError
 *
 * Creates a namespace. Ingesting into a namespace that does not exist also
 * creates it implicitly. One that was created before fails with
 * %STACHE_ERROR_EXISTS.
 *
 * Returns: (transfer full): the namespace, or %NULL with @error set
 */
StacheNamespace *
stache_store_create_namespace (StacheStore   *self,
                               const char    *name,
                               const char    *description,
                               GCancellable  *cancellable,
                               GError       **error)
{
  g_return_val_if_fail (STACHE_IS_STORE (self), NULL);
  g_return_val_if_fail (name != NULL, NULL);

  return stache_namespace_provider_create_namespace (self->namespaces, name, description, NULL,
                                                     cancellable, error);
}

/**
 * stache_store_list_namespaces:
 * @self: a #StacheStore
 * @parent: (nullable): list only the direct children of this namespace
 * @cancellable: (nullable): a #GCancellable
 * @error: return location for a #GError
 *
 * Lists namespaces.
 *
 * Returns: (transfer container) (element-type StacheNamespace): the
 *   namespaces, or %NULL with @error set
 */
GPtrArray *
stache_store_list_namespaces (StacheStore   *self,
                              const char    *parent,
                              GCancellable  *cancellable,
                              GError       **error)
{
  g_return_val_if_fail (STACHE_IS_STORE (self), NULL);

  return stache_namespace_provider_list_namespaces (self->namespaces, parent, cancellable, error);
}

/**
 * stache_store_delete_namespace:
 * @self: a #StacheStore
 * @name: a namespace name
 * @cascade: also delete its documents, chunks and child namespaces
 * @cancellable: (nullable): a #GCancellable
 * @error: return location for a #GError
 *
 * Deletes a namespace; one that still holds anything is refused with
 * %STACHE_ERROR_NOT_EMPTY unless @cascade. One that does not exist fails
 * with %STACHE_ERROR_NOT_FOUND.
 *
 * Returns: %TRUE on success
 */
gboolean
stache_store_delete_namespace (StacheStore   *self,
                               const char    *name,
                               gboolean       cascade,
                               GCancellable  *cancellable,
                               GError       **error)
{
  g_return_val_if_fail (STACHE_IS_STORE (self), FALSE);
  g_return_val_if_fail (name != NULL, FALSE);

  return stache_namespace_provider_delete_namespace (self->namespaces, name, cascade, cancellable, error);
}

/**
 * stache_store_count_chunks:
 * @self: a #StacheStore
 * @namespace_: (nullable): a namespace, or %NULL for all
 * @cancellable: (nullable): a #GCancellable
 * @error: return location for a #GError
 *
 * Counts the chunks stored.
 *
 * Returns: the number of chunks, or -1 with @error set
 */
gint64
stache_store_count_chunks (StacheStore   *self,
                           const char    *namespace_,
                           GCancellable  *cancellable,
                           GError       **error)
{
  g_return_val_if_fail (STACHE_IS_STORE (self), -1);

  return stache_vector_db_provider_count (self->vectordb, namespace_, cancellable, error);
}

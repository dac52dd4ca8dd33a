/* stache-store.c: the pipeline facade: construction, properties, signals,
 * documents and namespaces (see stache-store-private.h for the other files)
 *
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */
#include "config.h"

#include "stache-factory.h"
#include "stache-plugin-loader.h"
#include "stache-stemmer.h"
#include "stache-store-private.h"

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
 * candidates by vector, by keyword and (where the vector database can)
 * whole documents by keyword, fuses the lists by reciprocal rank and
 * reranks them. Asking searches, then gives the best passages,
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
 * (default 120), `max_file_size` (bytes, default 10 MiB), `search_candidates`
 * (how many candidates each list gives and the reranker sees, at least
 * top_k, default 50: a query ranks the same documents whatever top_k is),
 * `search_top_k`
 * (default 10), `hybrid_vector_weight` (weight of the vector list in
 * fusion, default 0.5), `hybrid_document_weight` (weight of the list of
 * whole documents ranked by their words, default 1, 0 to leave it out),
 * `hybrid_rrf_k` (default 5), `text_language`
 * (the Snowball stemmer of the keyword index, the hashing embedder and the
 * `simple` reranker, default `english`, `none` for words as they are; a
 * change re-ingests, as a change of embedder does) and
 * `reranker_provider=none` to skip reranking.
 *
 * All methods may be called from several threads at once; the async
 * variants run the sync ones in a worker thread.
 */

/* Hybrid fusion trusts the keyword list more than the vector list: with
 * the in-process hashing embedder, vectors are the weaker signal. The
 * defaults (vector weight 0.5, RRF k 5) were measured on the three quality
 * suites (tests/quality/retrieval.py, docs/retrieval-quality.md), where
 * equal votes with k = 60 lose on one-chunk documents; the settings
 * hybrid_vector_weight and hybrid_rrf_k change them (a real embedding
 * model deserves a weight near 1): STACHE_DEFAULT_HYBRID_RRF_K and
 * STACHE_DEFAULT_HYBRID_VECTOR_WEIGHT in stache-private.h. The document
 * list (weight 1, STACHE_DEFAULT_HYBRID_DOCUMENT_WEIGHT) was measured the
 * same way, before the reranker and after it: before, it gains on man
 * pages and paraphrases and holds on Debian packages. */

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

guint _stache_store_signals[STACHE_STORE_N_SIGNALS];

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
  if (!stache_settings_get_int_range (self->settings, "chunk_size", STACHE_DEFAULT_CHUNK_SIZE, 16, 1000000,
                                      &value, error))
    return FALSE;
  self->chunk_size = (guint) value;
  if (!stache_settings_get_int_range (self->settings, "chunk_overlap", STACHE_DEFAULT_CHUNK_OVERLAP, 0, 500000,
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
  if (!stache_settings_get_int_range (self->settings, "max_file_size", STACHE_DEFAULT_MAX_FILE_SIZE, 1,
                                      G_MAXINT64, &value, error))
    return FALSE;
  self->max_file_size = (guint64) value;
  if (!stache_settings_get_int_range (self->settings, "search_top_k", STACHE_DEFAULT_SEARCH_TOP_K, 1, 10000,
                                      &value, error))
    return FALSE;
  self->default_top_k = (guint) value;
  if (!stache_settings_get_int_range (self->settings, "search_candidates", STACHE_DEFAULT_SEARCH_CANDIDATES, 1,
                                      10000, &value, error))
    return FALSE;
  self->candidates = (guint) value;

  self->vector_weight = stache_settings_get_double (self->settings, "hybrid_vector_weight",
                                                    STACHE_DEFAULT_HYBRID_VECTOR_WEIGHT, error);
  if (error != NULL && *error != NULL)
    return FALSE;
  self->rrf_k = stache_settings_get_double (self->settings, "hybrid_rrf_k", STACHE_DEFAULT_HYBRID_RRF_K, error);
  if (error != NULL && *error != NULL)
    return FALSE;
  self->document_weight = stache_settings_get_double (self->settings, "hybrid_document_weight",
                                                      STACHE_DEFAULT_HYBRID_DOCUMENT_WEIGHT, error);
  if (error != NULL && *error != NULL)
    return FALSE;
  if (self->vector_weight < 0 || self->vector_weight > 10 || self->rrf_k < 0 || self->rrf_k > 1000 ||
      self->document_weight < 0 || self->document_weight > 10)
    {
      g_set_error (error, STACHE_ERROR, STACHE_ERROR_INVALID_SETTING,
                   _("Settings “hybrid_vector_weight” and “hybrid_document_weight” (0 to 10) and "
                     "“hybrid_rrf_k” (0 to 1000) are out of range"));
      return FALSE;
    }

  /* Checked here, so a bad value says so before any provider reads it */
  {
    g_autoptr(StacheStemmer) stemmer = NULL;
    g_autoptr(GError) local_error = NULL;

    self->text_language = stache_settings_get_nonempty (self->settings, STACHE_TEXT_LANGUAGE_KEY,
                                                        STACHE_DEFAULT_TEXT_LANGUAGE);
    stemmer = stache_stemmer_new (self->text_language, &local_error);
    if (stemmer == NULL)
      {
        g_autofree char *source = stache_settings_describe_source (self->settings, STACHE_TEXT_LANGUAGE_KEY);

        g_set_error (error, STACHE_ERROR, STACHE_ERROR_INVALID_SETTING,
                     /* Translators: the first %s is where the value came from, the second why it is wrong */
                     _("Setting “%s” (from %s): %s"), STACHE_TEXT_LANGUAGE_KEY, source, local_error->message);
        return FALSE;
      }
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
  g_clear_pointer (&self->text_language, g_free);
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
  _stache_store_signals[STACHE_STORE_SIGNAL_PROGRESS] =
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
  _stache_store_signals[STACHE_STORE_SIGNAL_TOKEN] =
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

/* ---- helpers shared by the files of the store ---- */

gboolean
_stache_store_resolve_namespace (const char  *namespace_,
                                 const char **out,
                                 GError     **error)
{
  *out = namespace_ != NULL ? namespace_ : STACHE_STORE_DEFAULT_NAMESPACE;
  return stache_namespace_name_validate (*out, error);
}

/* Always a source, never a direct call: g_main_context_invoke() would run
 * it in the worker when the caller's context is the global default and
 * momentarily free. */
void
_stache_store_post_to_caller (GMainContext   *context,
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

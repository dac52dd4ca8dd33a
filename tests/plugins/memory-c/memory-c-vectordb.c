/* memory-c-vectordb.c: an in-memory vector database plugin in C
 *
 * SPDX-License-Identifier: LGPL-2.1-or-later
 *
 * Exact cosine search over rows kept in memory. It exists to prove that a
 * C plugin is discovered, created through the factory and used through the
 * StacheVectorDbProvider interface, like any third-party plugin would be.
 */
#include <math.h>
#include <libpeas/peas.h>
#include <stache.h>

#define MEMORY_TYPE_VECTOR_DB (memory_vector_db_get_type ())
G_DECLARE_FINAL_TYPE (MemoryVectorDb, memory_vector_db, MEMORY, VECTOR_DB, StacheProvider)

typedef struct
{
  char       *namespace_;
  char       *id;
  char       *document_id;
  char       *text;
  JsonObject *metadata;
  float      *vector;
  gsize       dims;
} Row;

struct _MemoryVectorDb
{
  StacheProvider  parent_instance;

  GMutex          mutex;
  GPtrArray      *rows;
};

static void memory_vector_db_iface_init (StacheVectorDbProviderInterface *iface);

G_DEFINE_DYNAMIC_TYPE_EXTENDED (MemoryVectorDb, memory_vector_db, STACHE_TYPE_PROVIDER, G_TYPE_FLAG_FINAL,
                                G_IMPLEMENT_INTERFACE_DYNAMIC (STACHE_TYPE_VECTOR_DB_PROVIDER,
                                                               memory_vector_db_iface_init))

static void
row_free (gpointer p)
{
  Row *row = p;

  g_free (row->namespace_);
  g_free (row->id);
  g_free (row->document_id);
  g_free (row->text);
  g_clear_pointer (&row->metadata, json_object_unref);
  g_free (row->vector);
  g_free (row);
}

static const char *
effective_namespace (const char *namespace_)
{
  return namespace_ != NULL ? namespace_ : "default";
}

static gboolean
memory_vector_db_insert (StacheVectorDbProvider  *provider,
                         const char              *namespace_,
                         GPtrArray               *chunks,
                         GArray                  *vector_rows,
                         GCancellable            *cancellable,
                         GError                 **error)
{
  MemoryVectorDb *self = MEMORY_VECTOR_DB (provider);
  const float *vectors = (const float *) (gpointer) vector_rows->data;
  gsize dims = vector_rows->len / chunks->len;
  const char *ns = effective_namespace (namespace_);

  g_mutex_lock (&self->mutex);
  for (guint i = 0; i < chunks->len; i++)
    {
      StacheChunk *chunk = g_ptr_array_index (chunks, i);
      JsonObject *metadata = stache_chunk_get_metadata (chunk);
      Row *row;

      /* Same id in the same namespace: replace. */
      for (guint j = 0; j < self->rows->len; j++)
        {
          Row *old = g_ptr_array_index (self->rows, j);

          if (g_str_equal (old->namespace_, ns) && g_str_equal (old->id, stache_chunk_get_id (chunk)))
            {
              g_ptr_array_remove_index (self->rows, j);
              break;
            }
        }

      row = g_new0 (Row, 1);
      row->namespace_ = g_strdup (ns);
      row->id = g_strdup (stache_chunk_get_id (chunk));
      row->document_id = g_strdup (stache_chunk_get_document_id (chunk));
      row->text = g_strdup (stache_chunk_get_text (chunk));
      row->metadata = metadata != NULL ? json_object_ref (metadata) : NULL;
      row->vector = g_memdup2 (vectors + i * dims, dims * sizeof (float));
      row->dims = dims;
      g_ptr_array_add (self->rows, row);
    }
  g_mutex_unlock (&self->mutex);

  return TRUE;
}

static double
cosine (const float *a,
        const float *b,
        gsize        n)
{
  double dot = 0, na = 0, nb = 0;

  for (gsize i = 0; i < n; i++)
    {
      dot += (double) a[i] * b[i];
      na += (double) a[i] * a[i];
      nb += (double) b[i] * b[i];
    }

  if (na == 0 || nb == 0)
    return 0;

  return dot / (sqrt (na) * sqrt (nb));
}

static int
compare_scores (gconstpointer a,
                gconstpointer b)
{
  double sa = stache_search_result_get_score (*(StacheSearchResult **) a);
  double sb = stache_search_result_get_score (*(StacheSearchResult **) b);

  return (sa < sb) - (sa > sb);
}

static GList *
memory_vector_db_search (StacheVectorDbProvider  *provider,
                         const char              *namespace_,
                         GArray                  *query_array,
                         guint                    top_k,
                         JsonObject              *filter,
                         GCancellable            *cancellable,
                         GError                 **error)
{
  MemoryVectorDb *self = MEMORY_VECTOR_DB (provider);
  g_autoptr(GPtrArray) results = g_ptr_array_new_with_free_func (g_object_unref);
  const float *query = (const float *) (gpointer) query_array->data;
  gsize n_dims = query_array->len;

  g_mutex_lock (&self->mutex);
  for (guint i = 0; i < self->rows->len; i++)
    {
      Row *row = g_ptr_array_index (self->rows, i);
      StacheSearchResult *result;

      if (namespace_ != NULL && !g_str_equal (row->namespace_, namespace_))
        continue;
      if (!stache_filter_matches (filter, row->document_id, row->metadata))
        continue;
      if (row->dims != n_dims)
        {
          g_mutex_unlock (&self->mutex);
          g_set_error (error, STACHE_ERROR, STACHE_ERROR_INVALID_ARGUMENT,
                       "Query has %" G_GSIZE_FORMAT " dimensions but chunk “%s” has %" G_GSIZE_FORMAT,
                       n_dims, row->id, row->dims);
          return NULL;
        }

      result = stache_search_result_new (row->id, row->text, cosine (query, row->vector, n_dims));
      stache_search_result_set_document_id (result, row->document_id);
      stache_search_result_set_namespace (result, row->namespace_);
      stache_search_result_set_metadata (result, row->metadata);
      g_ptr_array_add (results, result);
    }
  g_mutex_unlock (&self->mutex);

  g_ptr_array_sort (results, compare_scores);
  if (results->len > top_k)
    g_ptr_array_set_size (results, top_k);

  /* The interface takes a list the caller owns, elements included. */
  {
    GList *list = NULL;

    for (guint i = results->len; i > 0; i--)
      list = g_list_prepend (list, g_object_ref (g_ptr_array_index (results, i - 1)));
    return list;
  }
}

static gint64
memory_vector_db_delete_chunks (StacheVectorDbProvider  *provider,
                                const char              *namespace_,
                                const char * const      *ids,
                                JsonObject              *filter,
                                GCancellable            *cancellable,
                                GError                 **error)
{
  MemoryVectorDb *self = MEMORY_VECTOR_DB (provider);
  gint64 deleted = 0;

  g_mutex_lock (&self->mutex);
  for (guint i = self->rows->len; i > 0; i--)
    {
      Row *row = g_ptr_array_index (self->rows, i - 1);

      if (namespace_ != NULL && !g_str_equal (row->namespace_, namespace_))
        continue;
      if (ids != NULL && !g_strv_contains (ids, row->id))
        continue;
      if (!stache_filter_matches (filter, row->document_id, row->metadata))
        continue;

      g_ptr_array_remove_index (self->rows, i - 1);
      deleted++;
    }
  g_mutex_unlock (&self->mutex);

  return deleted;
}

static gint64
memory_vector_db_count (StacheVectorDbProvider  *provider,
                        const char              *namespace_,
                        GCancellable            *cancellable,
                        GError                 **error)
{
  MemoryVectorDb *self = MEMORY_VECTOR_DB (provider);
  gint64 n = 0;

  g_mutex_lock (&self->mutex);
  for (guint i = 0; i < self->rows->len; i++)
    {
      Row *row = g_ptr_array_index (self->rows, i);

      if (namespace_ == NULL || g_str_equal (row->namespace_, namespace_))
        n++;
    }
  g_mutex_unlock (&self->mutex);

  return n;
}

static char **
memory_vector_db_get_capabilities (StacheVectorDbProvider *provider)
{
  const char * const caps[] = { "vector_search", "metadata_filter", "batch_insert", "namespaces", NULL };

  return g_strdupv ((char **) caps);
}

static void
memory_vector_db_finalize (GObject *object)
{
  MemoryVectorDb *self = MEMORY_VECTOR_DB (object);

  g_clear_pointer (&self->rows, g_ptr_array_unref);
  g_mutex_clear (&self->mutex);

  G_OBJECT_CLASS (memory_vector_db_parent_class)->finalize (object);
}

static void
memory_vector_db_class_init (MemoryVectorDbClass *klass)
{
  G_OBJECT_CLASS (klass)->finalize = memory_vector_db_finalize;
}

static void
memory_vector_db_class_finalize (MemoryVectorDbClass *klass)
{
}

static void
memory_vector_db_init (MemoryVectorDb *self)
{
  g_mutex_init (&self->mutex);
  self->rows = g_ptr_array_new_with_free_func (row_free);
}

static void
memory_vector_db_iface_init (StacheVectorDbProviderInterface *iface)
{
  iface->insert = memory_vector_db_insert;
  iface->search = memory_vector_db_search;
  iface->delete_chunks = memory_vector_db_delete_chunks;
  iface->count = memory_vector_db_count;
  iface->get_capabilities = memory_vector_db_get_capabilities;
}

G_MODULE_EXPORT void peas_register_types (PeasObjectModule *module);

G_MODULE_EXPORT void
peas_register_types (PeasObjectModule *module)
{
  memory_vector_db_register_type (G_TYPE_MODULE (module));
  peas_object_module_register_extension_type (module, STACHE_TYPE_VECTOR_DB_PROVIDER,
                                              MEMORY_TYPE_VECTOR_DB);
}

/* stache-embedding-provider.c: the embedding provider interface
 *
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */
#include "config.h"

#include <math.h>
#include <string.h>

#include "stache-embedding-provider.h"
#include "stache-error.h"
#include "stache-private.h"
#include "stache-provider-private.h"
#include "stache-task-private.h"

/**
 * StacheEmbeddingProvider:
 *
 * Turns text into embedding vectors.
 *
 * Vectors travel as one contiguous #GArray of `float`, never one boxed
 * value per float: stache_embedding_provider_embed() gives the
 * `dimensions` values of one text, stache_embedding_provider_embed_batch()
 * gives `n_texts × dimensions` values, one row per text in the order of
 * the texts. Every value is a finite number; the interface checks what a
 * provider returns and reports a provider that breaks these rules with
 * %STACHE_ERROR_FAILED rather than handing bad vectors on.
 *
 * A provider implements at least one of the two methods: the interface's
 * default `embed` calls `embed_batch` with a one-text list, and its default
 * `embed_batch` calls `embed` once per text. A provider whose engine takes
 * batches implements `embed_batch` only; one that embeds a text at a time
 * implements `embed` only. A provider that implements neither fails with
 * %STACHE_ERROR_NOT_SUPPORTED.
 *
 * stache_embedding_provider_get_dimensions() gives the vector length, or 0
 * while it is not known, for instance when a remote model only reveals it
 * with its first answer.
 *
 * Capabilities are strings (`embed`, `batch`, …) so a plugin can announce
 * features the core does not know of.
 *
 * The extension point name is `embeddings`; the setting
 * `embedding_provider` (environment variable `EMBEDDING_PROVIDER`) selects
 * the provider.
 *
 * A plugin written in Python or Lua implements `do_embed`, `do_embed_batch`
 * or both, and `do_get_dimensions`; the asynchronous methods then run them
 * in a worker thread.
 */

G_DEFINE_INTERFACE (StacheEmbeddingProvider, stache_embedding_provider, STACHE_TYPE_PROVIDER)

/* ---- checking what a provider returns ---- */

/* Whether @values is an array of float; a provider that builds its GArray
 * with another element size would have its vectors read as garbage. */
static gboolean
check_element_size (StacheEmbeddingProvider  *self,
                    GArray                   *values,
                    GError                  **error)
{
  if (g_array_get_element_size (values) != sizeof (float))
    {
      g_set_error (error, STACHE_ERROR, STACHE_ERROR_FAILED,
                   _("Embedding provider %s returned an array whose elements are not "
                     "floats (%u bytes each)"),
                   G_OBJECT_TYPE_NAME (self), g_array_get_element_size (values));
      return FALSE;
    }

  return TRUE;
}

/* Takes @values and @local_error. @n_texts is the number of texts that were
 * embedded, or 0 when it is not known (a provider's own async
 * implementation). Returns @values, or NULL with @error set. */
static GArray *
check_vectors (StacheEmbeddingProvider  *self,
               GArray                   *values,
               gsize                     n_texts,
               GError                   *local_error,
               GError                  **error)
{
  g_autoptr(GArray) owned = values;
  const float *data;
  gsize n_values;

  if (local_error != NULL)
    {
      g_propagate_error (error, local_error);
      return NULL;
    }

  if (owned == NULL)
    {
      g_set_error (error, STACHE_ERROR, STACHE_ERROR_FAILED,
                   _("Embedding provider %s returned no vectors and no error"),
                   G_OBJECT_TYPE_NAME (self));
      return NULL;
    }

  if (!check_element_size (self, owned, error))
    return NULL;

  n_values = owned->len;
  if (n_values == 0 || (n_texts > 0 && n_values % n_texts != 0))
    {
      if (n_texts > 0)
        g_set_error (error, STACHE_ERROR, STACHE_ERROR_FAILED,
                     g_dngettext (GETTEXT_PACKAGE,
                                  "Embedding provider %s returned %lu values for %lu text",
                                  "Embedding provider %s returned %lu values for %lu texts",
                                  (gulong) n_texts),
                     G_OBJECT_TYPE_NAME (self), (gulong) n_values, (gulong) n_texts);
      else
        g_set_error (error, STACHE_ERROR, STACHE_ERROR_FAILED,
                     _("Embedding provider %s returned an empty vector"),
                     G_OBJECT_TYPE_NAME (self));
      return NULL;
    }

  data = (const float *) (gpointer) owned->data;
  for (gsize i = 0; i < n_values; i++)
    {
      if (!isfinite (data[i]))
        {
          g_set_error (error, STACHE_ERROR, STACHE_ERROR_FAILED,
                       _("Embedding provider %s returned a value that is not a finite "
                         "number (value %lu of %lu)"),
                       G_OBJECT_TYPE_NAME (self), (gulong) (i + 1), (gulong) n_values);
          return NULL;
        }
    }

  return g_steal_pointer (&owned);
}

/* The empty result of embedding no texts */
static GArray *
vectors_new_empty (void)
{
  return g_array_new (FALSE, FALSE, sizeof (float));
}

/* ---- default embed and embed_batch: each calls the other ---- */

static GArray *real_embed_batch (StacheEmbeddingProvider  *self,
                                 const char * const       *texts,
                                 GCancellable             *cancellable,
                                 GError                  **error);

/* Calls the provider's embed_batch_variant and turns its `ad` into the
 * GArray of float everything else uses */
static GArray *
embed_batch_from_variant (StacheEmbeddingProvider  *self,
                          const char * const       *texts,
                          GCancellable             *cancellable,
                          GError                  **error)
{
  g_autoptr(GVariant) variant = NULL;
  g_autoptr(GArray) values = NULL;
  GError *local_error = NULL;
  const double *doubles;
  gsize n;

  variant = STACHE_EMBEDDING_PROVIDER_GET_IFACE (self)->embed_batch_variant (self, texts,
                                                                             cancellable,
                                                                             &local_error);
  if (local_error != NULL)
    {
      g_clear_pointer (&variant, g_variant_unref);
      g_propagate_error (error, local_error);
      return NULL;
    }

  if (variant == NULL || !g_variant_is_of_type (variant, G_VARIANT_TYPE ("ad")))
    {
      g_set_error (error, STACHE_ERROR, STACHE_ERROR_FAILED,
                   _("Embedding provider %s returned %s from embed_batch_variant, not an "
                     "array of doubles (type “ad”)"),
                   G_OBJECT_TYPE_NAME (self),
                   variant != NULL ? g_variant_get_type_string (variant) : "nothing");
      return NULL;
    }

  /* A provider in C may hand over a floating reference */
  g_variant_take_ref (variant);
  doubles = g_variant_get_fixed_array (variant, &n, sizeof (double));
  values = g_array_sized_new (FALSE, FALSE, sizeof (float), (guint) n);
  for (gsize i = 0; i < n; i++)
    {
      float value = (float) doubles[i];

      g_array_append_val (values, value);
    }

  return g_steal_pointer (&values);
}

static GArray *
real_embed (StacheEmbeddingProvider  *self,
            const char               *text,
            GCancellable             *cancellable,
            GError                  **error)
{
  StacheEmbeddingProviderInterface *iface = STACHE_EMBEDDING_PROVIDER_GET_IFACE (self);
  const char *texts[] = { text, NULL };

  if (iface->embed_batch_variant != NULL)
    return embed_batch_from_variant (self, texts, cancellable, error);

  if (iface->embed_batch == NULL || iface->embed_batch == real_embed_batch)
    {
      _stache_set_not_supported (error, self, "embed");
      return NULL;
    }

  return iface->embed_batch (self, texts, cancellable, error);
}

static GArray *
real_embed_batch (StacheEmbeddingProvider  *self,
                  const char * const       *texts,
                  GCancellable             *cancellable,
                  GError                  **error)
{
  StacheEmbeddingProviderInterface *iface = STACHE_EMBEDDING_PROVIDER_GET_IFACE (self);
  g_autoptr(GArray) values = NULL;
  guint dims = 0;

  if (iface->embed_batch_variant != NULL)
    return embed_batch_from_variant (self, texts, cancellable, error);

  if (iface->embed == NULL || iface->embed == real_embed)
    {
      _stache_set_not_supported (error, self, "embed_batch");
      return NULL;
    }

  values = vectors_new_empty ();
  for (guint i = 0; texts[i] != NULL; i++)
    {
      g_autoptr(GArray) row = NULL;
      GError *local_error = NULL;

      row = iface->embed (self, texts[i], cancellable, &local_error);
      if (local_error != NULL)
        {
          g_propagate_error (error, local_error);
          return NULL;
        }

      if (row == NULL || row->len == 0)
        {
          g_set_error (error, STACHE_ERROR, STACHE_ERROR_FAILED,
                       _("Embedding provider %s returned no vector for text %u"),
                       G_OBJECT_TYPE_NAME (self), i);
          return NULL;
        }

      if (!check_element_size (self, row, error))
        return NULL;

      if (i == 0)
        dims = row->len;
      else if (row->len != dims)
        {
          g_set_error (error, STACHE_ERROR, STACHE_ERROR_FAILED,
                       _("Embedding provider %s returned %lu values for "
                         "text %u but %lu for text 0"),
                       G_OBJECT_TYPE_NAME (self), (gulong) row->len, i, (gulong) dims);
          return NULL;
        }

      g_array_append_vals (values, row->data, row->len);
    }

  return g_steal_pointer (&values);
}

/* Whether the provider overrides embed or embed_batch; if it overrides
 * neither, the two defaults would call each other forever. */
static gboolean
implements_embedding (const StacheEmbeddingProviderInterface *iface)
{
  return (iface->embed != NULL && iface->embed != real_embed) ||
         (iface->embed_batch != NULL && iface->embed_batch != real_embed_batch) ||
         iface->embed_batch_variant != NULL;
}

static guint
real_get_dimensions (StacheEmbeddingProvider *self)
{
  return 0;
}

static char **
real_get_capabilities (StacheEmbeddingProvider *self)
{
  const char * const caps[] = { "embed", NULL };

  return g_strdupv ((char **) caps);
}

/* ---- batch splitting, for every provider ---- */

static void
real_get_batch_limits (StacheEmbeddingProvider *self,
                       guint                   *max_texts,
                       guint                   *max_bytes)
{
  *max_texts = 0;
  *max_bytes = 0;
}

static void
get_batch_limits (StacheEmbeddingProvider *self,
                  guint                   *max_texts,
                  guint                   *max_bytes)
{
  StacheEmbeddingProviderInterface *iface = STACHE_EMBEDDING_PROVIDER_GET_IFACE (self);

  *max_texts = 0;
  *max_bytes = 0;
  if (iface->get_batch_limits != NULL)
    iface->get_batch_limits (self, max_texts, max_bytes);
}

/* How many texts from @texts on go into the next call: at most @max_texts
 * and @max_bytes of text (0: no limit), and always at least one, since a
 * text over the byte limit on its own is the service's to refuse */
static guint
next_slice_length (const char * const *texts,
                   guint               max_texts,
                   gsize               max_bytes)
{
  gsize bytes = 0;
  guint n = 0;

  while (texts[n] != NULL && (max_texts == 0 || n < max_texts))
    {
      gsize len = strlen (texts[n]);

      if (max_bytes > 0)
        {
          if (n > 0 && len > max_bytes - bytes)
            break;
          bytes += MIN (len, max_bytes);
        }
      n++;
    }

  return n;
}

/* Calls the provider's embed_batch on slices of @texts that respect its
 * batch limits, checks each answer and joins the rows in order. */
static GArray *
embed_in_batches (StacheEmbeddingProvider  *self,
                  const char * const       *texts,
                  guint                     n_texts,
                  GCancellable             *cancellable,
                  GError                  **error)
{
  StacheEmbeddingProviderInterface *iface = STACHE_EMBEDDING_PROVIDER_GET_IFACE (self);
  g_autoptr(GArray) values = NULL;
  g_autofree const char **slice = NULL;
  guint max_texts, max_bytes;
  gsize dims = 0;
  guint start = 0;

  get_batch_limits (self, &max_texts, &max_bytes);

  if (next_slice_length (texts, max_texts, max_bytes) == n_texts)
    {
      GError *local_error = NULL;
      GArray *all = iface->embed_batch (self, texts, cancellable, &local_error);

      return check_vectors (self, all, n_texts, local_error, error);
    }

  values = vectors_new_empty ();
  slice = g_new0 (const char *, MIN (n_texts, max_texts > 0 ? max_texts : n_texts) + 1);
  while (start < n_texts)
    {
      guint n = next_slice_length (texts + start, max_texts, max_bytes);
      g_autoptr(GArray) part = NULL;
      GError *local_error = NULL;

      if (g_cancellable_set_error_if_cancelled (cancellable, error))
        return NULL;

      memcpy (slice, texts + start, n * sizeof (const char *));
      slice[n] = NULL;
      part = iface->embed_batch (self, slice, cancellable, &local_error);
      part = check_vectors (self, part, n, local_error, error);
      if (part == NULL)
        return NULL;

      if (dims == 0)
        dims = part->len / n;
      else if (part->len / n != dims)
        {
          g_set_error (error, STACHE_ERROR, STACHE_ERROR_FAILED,
                       _("Embedding provider %s returned vectors of %lu values for texts "
                         "%u to %u but of %lu values for the texts before"),
                       G_OBJECT_TYPE_NAME (self), (gulong) (part->len / n), start,
                       start + n - 1, (gulong) dims);
          return NULL;
        }

      g_array_append_vals (values, part->data, part->len);
      start += n;
    }

  return g_steal_pointer (&values);
}

/* ---- the asynchronous forms: the public sync function in a thread ---- */

/* The arguments of one call, owned by it; the result of the call is the
 * GArray of floats itself. */
typedef struct
{
  char  *text;
  char **texts;
} CallData;

static void
call_data_free (gpointer p)
{
  CallData *data = p;

  g_free (data->text);
  g_strfreev (data->texts);
  g_free (data);
}

static gpointer
embed_work (gpointer       source,
            gpointer       task_data,
            GCancellable  *cancellable,
            GError       **error)
{
  CallData *data = task_data;

  return stache_embedding_provider_embed (source, data->text, cancellable, error);
}

static gpointer
embed_batch_work (gpointer       source,
                  gpointer       task_data,
                  GCancellable  *cancellable,
                  GError       **error)
{
  CallData *data = task_data;

  return stache_embedding_provider_embed_batch (source, (const char * const *) data->texts, cancellable, error);
}

static void
stache_embedding_provider_default_init (StacheEmbeddingProviderInterface *iface)
{
  _stache_i18n_init ();

  iface->embed = real_embed;
  iface->embed_batch = real_embed_batch;
  iface->get_dimensions = real_get_dimensions;
  iface->get_capabilities = real_get_capabilities;
  iface->get_batch_limits = real_get_batch_limits;
}

/* ---- argument checks ---- */

static gboolean
check_embed_args (StacheEmbeddingProvider  *self,
                  const char               *text,
                  GError                  **error)
{
  if (text == NULL)
    {
      g_set_error (error, STACHE_ERROR, STACHE_ERROR_INVALID_ARGUMENT,
                   _("Embed with %s: no text was given"),
                   G_OBJECT_TYPE_NAME (self));
      return FALSE;
    }

  if (!g_utf8_validate (text, -1, NULL))
    {
      g_set_error (error, STACHE_ERROR, STACHE_ERROR_INVALID_ARGUMENT,
                   _("Embed with %s: the text is not valid UTF-8"),
                   G_OBJECT_TYPE_NAME (self));
      return FALSE;
    }

  return TRUE;
}

static gboolean
check_embed_batch_args (StacheEmbeddingProvider  *self,
                        const char * const       *texts,
                        GError                  **error)
{
  if (texts == NULL)
    {
      g_set_error (error, STACHE_ERROR, STACHE_ERROR_INVALID_ARGUMENT,
                   _("Embed with %s: no list of texts was given"),
                   G_OBJECT_TYPE_NAME (self));
      return FALSE;
    }

  for (guint i = 0; texts[i] != NULL; i++)
    {
      if (!g_utf8_validate (texts[i], -1, NULL))
        {
          g_set_error (error, STACHE_ERROR, STACHE_ERROR_INVALID_ARGUMENT,
                       _("Embed with %s: text %u is not valid UTF-8"),
                       G_OBJECT_TYPE_NAME (self), i);
          return FALSE;
        }
    }

  return TRUE;
}

/* ---- public entry points ---- */

/**
 * stache_embedding_provider_embed: (virtual embed)
 * @self: a #StacheEmbeddingProvider
 * @text: the text to embed, in UTF-8
 * @cancellable: (nullable): a #GCancellable
 * @error: return location for a #GError
 *
 * Turns @text into an embedding vector.
 *
 * The vector a provider returns is checked: it must be an array of
 * `float` holding at least one value and every value must be a finite
 * number, or the call fails with %STACHE_ERROR_FAILED.
 *
 * Returns: (transfer full) (element-type gfloat): the vector, or %NULL
 *   with @error set
 */
GArray *
stache_embedding_provider_embed (StacheEmbeddingProvider  *self,
                                 const char               *text,
                                 GCancellable             *cancellable,
                                 GError                  **error)
{
  StacheEmbeddingProviderInterface *iface;
  GError *local_error = NULL;
  GArray *values;

  g_return_val_if_fail (STACHE_IS_EMBEDDING_PROVIDER (self), NULL);
  g_return_val_if_fail (cancellable == NULL || G_IS_CANCELLABLE (cancellable), NULL);
  g_return_val_if_fail (error == NULL || *error == NULL, NULL);

  if (!check_embed_args (self, text, error))
    return NULL;

  iface = STACHE_EMBEDDING_PROVIDER_GET_IFACE (self);
  if (iface->embed == NULL || !implements_embedding (iface))
    {
      _stache_set_not_supported (error, self, "embed");
      return NULL;
    }

  values = iface->embed (self, text, cancellable, &local_error);

  return check_vectors (self, values, 1, local_error, error);
}

/**
 * stache_embedding_provider_embed_async:
 * @self: a #StacheEmbeddingProvider
 * @text: the text to embed, in UTF-8
 * @cancellable: (nullable): a #GCancellable
 * @callback: (scope async): called with the vector
 * @user_data: data for @callback
 *
 * Asynchronously turns @text into a vector; see
 * stache_embedding_provider_embed(). The text is copied, so the caller may
 * free it at once.
 */
void
stache_embedding_provider_embed_async (StacheEmbeddingProvider *self,
                                       const char              *text,
                                       GCancellable            *cancellable,
                                       GAsyncReadyCallback      callback,
                                       gpointer                 user_data)
{
  CallData *data;

  g_return_if_fail (STACHE_IS_EMBEDDING_PROVIDER (self));
  g_return_if_fail (cancellable == NULL || G_IS_CANCELLABLE (cancellable));

  data = g_new0 (CallData, 1);
  data->text = g_strdup (text);
  _stache_task_run_in_thread (self, stache_embedding_provider_embed_async, embed_work, data, call_data_free,
                              (GDestroyNotify) g_array_unref, cancellable, callback, user_data);
}

/**
 * stache_embedding_provider_embed_finish:
 * @self: a #StacheEmbeddingProvider
 * @result: the #GAsyncResult passed to the callback
 * @error: return location for a #GError
 *
 * Finishes stache_embedding_provider_embed_async().
 *
 * Returns: (transfer full) (element-type gfloat): the vector, or %NULL
 *   with @error set
 */
GArray *
stache_embedding_provider_embed_finish (StacheEmbeddingProvider  *self,
                                        GAsyncResult             *result,
                                        GError                  **error)
{
  g_return_val_if_fail (STACHE_IS_EMBEDDING_PROVIDER (self), NULL);

  return _stache_task_finish_pointer (self, result, stache_embedding_provider_embed_async, error);
}

/**
 * stache_embedding_provider_embed_batch: (virtual embed_batch)
 * @self: a #StacheEmbeddingProvider
 * @texts: (array zero-terminated=1): the texts to embed, in UTF-8
 * @cancellable: (nullable): a #GCancellable
 * @error: return location for a #GError
 *
 * Turns each of @texts into an embedding vector. The vectors come back as
 * one contiguous array of `float`, one row per text in the order of
 * @texts, so its length divided by the number of texts is the vector
 * length.
 *
 * An empty @texts is not an error: the result is an empty array, @error is
 * left unset, and the provider is not called.
 *
 * When the provider has batch limits (see
 * stache_embedding_provider_get_batch_limits()), @texts is sent to it in
 * consecutive slices that respect them, and the vectors are joined in the
 * order of @texts.
 *
 * What a provider returns is checked: it must be an array of `float`, the
 * number of values must be a positive multiple of the number of texts,
 * every value a finite number, and every slice's vectors the same length,
 * or the call fails with %STACHE_ERROR_FAILED.
 *
 * Returns: (transfer full) (element-type gfloat): the vectors (empty if
 *   @texts is empty), or %NULL with @error set
 */
GArray *
stache_embedding_provider_embed_batch (StacheEmbeddingProvider  *self,
                                       const char * const       *texts,
                                       GCancellable             *cancellable,
                                       GError                  **error)
{
  StacheEmbeddingProviderInterface *iface;
  guint n_texts;

  g_return_val_if_fail (STACHE_IS_EMBEDDING_PROVIDER (self), NULL);
  g_return_val_if_fail (cancellable == NULL || G_IS_CANCELLABLE (cancellable), NULL);
  g_return_val_if_fail (error == NULL || *error == NULL, NULL);

  if (!check_embed_batch_args (self, texts, error))
    return NULL;

  n_texts = g_strv_length ((char **) texts);
  if (n_texts == 0)
    return vectors_new_empty ();

  iface = STACHE_EMBEDDING_PROVIDER_GET_IFACE (self);
  if (iface->embed_batch == NULL || !implements_embedding (iface))
    {
      _stache_set_not_supported (error, self, "embed_batch");
      return NULL;
    }

  return embed_in_batches (self, texts, n_texts, cancellable, error);
}

/**
 * stache_embedding_provider_embed_batch_async:
 * @self: a #StacheEmbeddingProvider
 * @texts: (array zero-terminated=1): the texts to embed, in UTF-8
 * @cancellable: (nullable): a #GCancellable
 * @callback: (scope async): called with the vectors
 * @user_data: data for @callback
 *
 * Asynchronously turns @texts into vectors; see
 * stache_embedding_provider_embed_batch(). The texts are copied, so the
 * caller may free them at once. An empty @texts completes with an empty
 * array and no error.
 */
void
stache_embedding_provider_embed_batch_async (StacheEmbeddingProvider *self,
                                             const char * const      *texts,
                                             GCancellable            *cancellable,
                                             GAsyncReadyCallback      callback,
                                             gpointer                 user_data)
{
  CallData *data;

  g_return_if_fail (STACHE_IS_EMBEDDING_PROVIDER (self));
  g_return_if_fail (cancellable == NULL || G_IS_CANCELLABLE (cancellable));

  data = g_new0 (CallData, 1);
  data->texts = g_strdupv ((char **) texts);
  _stache_task_run_in_thread (self, stache_embedding_provider_embed_batch_async, embed_batch_work, data,
                              call_data_free, (GDestroyNotify) g_array_unref, cancellable, callback, user_data);
}

/**
 * stache_embedding_provider_embed_batch_finish:
 * @self: a #StacheEmbeddingProvider
 * @result: the #GAsyncResult passed to the callback
 * @error: return location for a #GError
 *
 * Finishes stache_embedding_provider_embed_batch_async().
 *
 * Returns: (transfer full) (element-type gfloat): the vectors (empty if
 *   the texts were empty), or %NULL with @error set
 */
GArray *
stache_embedding_provider_embed_batch_finish (StacheEmbeddingProvider  *self,
                                              GAsyncResult             *result,
                                              GError                  **error)
{
  g_return_val_if_fail (STACHE_IS_EMBEDDING_PROVIDER (self), NULL);

  return _stache_task_finish_pointer (self, result, stache_embedding_provider_embed_batch_async, error);
}

/**
 * stache_embedding_provider_get_batch_limits: (virtual get_batch_limits)
 * @self: a #StacheEmbeddingProvider
 * @max_texts: (out): the most texts in one request, or 0 for no limit
 * @max_bytes: (out): the most bytes of UTF-8 text in one request, or 0 for
 *   no limit
 *
 * Gets the limits of one request to the provider's service.
 * stache_embedding_provider_embed_batch() and its async variant split a
 * longer list into consecutive requests within these limits (a single text
 * longer than @max_bytes still goes, alone), so providers never repeat
 * that logic.
 */
void
stache_embedding_provider_get_batch_limits (StacheEmbeddingProvider *self,
                                            guint                   *max_texts,
                                            guint                   *max_bytes)
{
  guint texts, bytes;

  g_return_if_fail (STACHE_IS_EMBEDDING_PROVIDER (self));

  get_batch_limits (self, &texts, &bytes);
  if (max_texts != NULL)
    *max_texts = texts;
  if (max_bytes != NULL)
    *max_bytes = bytes;
}

/**
 * stache_embedding_provider_embed_batch_variant: (virtual embed_batch_variant)
 * @self: a #StacheEmbeddingProvider
 * @texts: (array zero-terminated=1): the texts to embed, in UTF-8
 * @cancellable: (nullable): a #GCancellable
 * @error: return location for a #GError
 *
 * Like stache_embedding_provider_embed_batch(), with the vectors as one
 * #GVariant of type `ad`, row after row. Providers in languages whose
 * bindings cannot return a #GArray of `float` (Lua through lgi) implement
 * this virtual method instead of `embed_batch`; applications use
 * stache_embedding_provider_embed_batch().
 *
 * Returns: (transfer full): the vectors, or %NULL with @error set
 */
GVariant *
stache_embedding_provider_embed_batch_variant (StacheEmbeddingProvider  *self,
                                               const char * const       *texts,
                                               GCancellable             *cancellable,
                                               GError                  **error)
{
  g_autoptr(GArray) values = NULL;
  g_autofree double *doubles = NULL;

  g_return_val_if_fail (STACHE_IS_EMBEDDING_PROVIDER (self), NULL);
  g_return_val_if_fail (error == NULL || *error == NULL, NULL);

  values = stache_embedding_provider_embed_batch (self, texts, cancellable, error);
  if (values == NULL)
    return NULL;

  doubles = g_new (double, MAX (values->len, 1));
  for (guint i = 0; i < values->len; i++)
    doubles[i] = g_array_index (values, float, i);

  return g_variant_ref_sink (g_variant_new_fixed_array (G_VARIANT_TYPE_DOUBLE, doubles,
                                                        values->len, sizeof (double)));
}

/**
 * stache_embedding_provider_get_model_id: (virtual get_model_id)
 * @self: a #StacheEmbeddingProvider
 *
 * Names what makes the provider's vectors, such as `openai:text-embedding-3-small:512`:
 * a string that changes whenever the same text would get another vector.
 * #StacheStore keeps it with each document, so re-ingesting a document
 * after a change of model re-embeds it instead of finding it unchanged.
 *
 * Returns: (transfer full): the identifier; the type name of @self when
 *   the provider does not say
 */
char *
stache_embedding_provider_get_model_id (StacheEmbeddingProvider *self)
{
  StacheEmbeddingProviderInterface *iface;
  char *id = NULL;

  g_return_val_if_fail (STACHE_IS_EMBEDDING_PROVIDER (self), NULL);

  iface = STACHE_EMBEDDING_PROVIDER_GET_IFACE (self);
  if (iface->get_model_id != NULL)
    id = iface->get_model_id (self);
  if (id == NULL || *id == '\0')
    {
      g_free (id);
      id = g_strdup (G_OBJECT_TYPE_NAME (self));
    }

  return id;
}

/**
 * stache_embedding_provider_get_dimensions: (virtual get_dimensions)
 * @self: a #StacheEmbeddingProvider
 *
 * Gets the length of the vectors the provider returns.
 *
 * Returns: the number of floats in one vector, or 0 while it is not known
 *   (for instance until a remote model has answered once)
 */
guint
stache_embedding_provider_get_dimensions (StacheEmbeddingProvider *self)
{
  StacheEmbeddingProviderInterface *iface;

  g_return_val_if_fail (STACHE_IS_EMBEDDING_PROVIDER (self), 0);

  iface = STACHE_EMBEDDING_PROVIDER_GET_IFACE (self);
  if (iface->get_dimensions == NULL)
    return 0;

  return iface->get_dimensions (self);
}

/**
 * stache_embedding_provider_get_capabilities: (virtual get_capabilities)
 * @self: a #StacheEmbeddingProvider
 *
 * Lists what the provider can do, such as `embed` or `batch`.
 *
 * Returns: (transfer full) (array zero-terminated=1): the capabilities
 */
char **
stache_embedding_provider_get_capabilities (StacheEmbeddingProvider *self)
{
  StacheEmbeddingProviderInterface *iface;
  char **caps = NULL;

  g_return_val_if_fail (STACHE_IS_EMBEDDING_PROVIDER (self), NULL);

  iface = STACHE_EMBEDDING_PROVIDER_GET_IFACE (self);
  if (iface->get_capabilities != NULL)
    caps = iface->get_capabilities (self);
  if (caps == NULL)
    caps = g_new0 (char *, 1);

  return caps;
}

/**
 * stache_embedding_provider_has_capability:
 * @self: a #StacheEmbeddingProvider
 * @capability: a capability name such as `batch`
 *
 * Checks whether the provider announces @capability.
 *
 * Returns: %TRUE if it does
 */
gboolean
stache_embedding_provider_has_capability (StacheEmbeddingProvider *self,
                                          const char              *capability)
{
  g_auto(GStrv) caps = NULL;

  g_return_val_if_fail (STACHE_IS_EMBEDDING_PROVIDER (self), FALSE);
  g_return_val_if_fail (capability != NULL, FALSE);

  caps = stache_embedding_provider_get_capabilities (self);

  return g_strv_contains ((const char * const *) caps, capability);
}

void
_stache_embedding_provider_add_missing_methods (const StacheEmbeddingProviderInterface *iface,
                                                GPtrArray                              *missing)
{
  /* The defaults of embed and embed_batch call each other: one real one
   * is enough, and none leaves both failing. */
  if (!implements_embedding (iface))
    g_ptr_array_add (missing, (gpointer) "embed|embed_batch|embed_batch_variant");
}

/* fallback-embedder.c: the `fallback` embeddings provider
 *
 * SPDX-License-Identifier: LGPL-2.1-or-later
 *
 * EMBEDDING_PROVIDER=fallback EMBEDDING_FALLBACK_PROVIDERS=openai,ollama
 * embeds with the first member and moves to the next after a transient
 * failure (see fallback-chain.c).
 *
 * Vectors of different models cannot be searched together, so the members
 * must serve the same model through different servers (say `ollama,openai`
 * with nomic-embed-text in Ollama and in a llama.cpp server). The provider holds
 * them to one vector length: the first vectors it returns fix it (or the
 * first member's get_dimensions(), when that is known), and a member whose
 * vectors have another length fails the call with STACHE_ERROR_FAILED
 * instead of mixing them into the store.
 *
 * Each member splits its own batches (stache_embedding_provider_embed_batch
 * honours its limits), so this provider declares none; a member that fails
 * midway through its slices is retried from the start with the next one.
 */
#include <glib/gi18n-lib.h>
#include <libpeas/peas.h>

#include "fallback-chain.h"
#include "fallback-embedder.h"

#define FALLBACK_SETTING_EMBEDDING_PROVIDERS "embedding_fallback_providers"

struct _FallbackEmbedder
{
  StacheProvider  parent_instance;

  /* Set once, by initable_init, before the provider is handed out */
  FallbackChain  *chain;

  /* The vector length of the first answer, 0 before; atomic */
  gint            seen_dimensions;
};

static void fallback_embedder_iface_init (StacheEmbeddingProviderInterface *iface);
static void fallback_embedder_initable_iface_init (GInitableIface *iface);

G_DEFINE_DYNAMIC_TYPE_EXTENDED (FallbackEmbedder, fallback_embedder, STACHE_TYPE_PROVIDER,
                                G_TYPE_FLAG_FINAL,
                                G_IMPLEMENT_INTERFACE_DYNAMIC (STACHE_TYPE_EMBEDDING_PROVIDER,
                                                               fallback_embedder_iface_init)
                                G_IMPLEMENT_INTERFACE_DYNAMIC (G_TYPE_INITABLE,
                                                               fallback_embedder_initable_iface_init))

/* ---- StacheEmbeddingProvider ---- */

static guint
fallback_embedder_get_dimensions (StacheEmbeddingProvider *provider)
{
  FallbackEmbedder *self = FALLBACK_EMBEDDER (provider);
  guint seen = (guint) g_atomic_int_get (&self->seen_dimensions);

  if (seen != 0)
    return seen;

  return stache_embedding_provider_get_dimensions (g_ptr_array_index (self->chain->members, 0));
}

/* Whether the vectors of member @name, @length values per text, may join
 * the store */
static gboolean
check_dimensions (FallbackEmbedder  *self,
                  const char        *name,
                  guint              length,
                  GError           **error)
{
  guint expected = fallback_embedder_get_dimensions (STACHE_EMBEDDING_PROVIDER (self));

  if (expected != 0 && length != expected)
    {
      g_set_error (error, STACHE_ERROR, STACHE_ERROR_FAILED,
                   _("Fallback embeddings provider: “%s” gave vectors of %u values, but this "
                     "chain’s vectors have %u; the providers in “%s” must serve the same model"),
                   name, length, expected, FALLBACK_SETTING_EMBEDDING_PROVIDERS);
      return FALSE;
    }

  g_atomic_int_compare_and_exchange (&self->seen_dimensions, 0, (gint) length);
  return TRUE;
}

static GArray *
fallback_embedder_embed_batch (StacheEmbeddingProvider  *provider,
                               const char * const       *texts,
                               GCancellable             *cancellable,
                               GError                  **error)
{
  FallbackEmbedder *self = FALLBACK_EMBEDDER (provider);
  guint n_texts = g_strv_length ((char **) texts);
  g_autoptr(GString) failures = g_string_new (NULL);
  GError *last_error = NULL;

  for (guint i = 0; i < self->chain->members->len; i++)
    {
      StacheEmbeddingProvider *member = g_ptr_array_index (self->chain->members, i);
      const char *name = g_ptr_array_index (self->chain->names, i);
      g_autoptr(GArray) values = NULL;
      GError *local_error = NULL;

      values = stache_embedding_provider_embed_batch (member, texts, cancellable, &local_error);
      if (values != NULL)
        {
          g_clear_error (&last_error);
          if (!check_dimensions (self, name, values->len / n_texts, error))
            return NULL;
          return g_steal_pointer (&values);
        }

      if (!fallback_chain_moves_on (local_error, cancellable))
        {
          g_clear_error (&last_error);
          g_propagate_error (error, local_error);
          return NULL;
        }

      g_debug ("“%s” failed, trying the next provider: %s", name, local_error->message);
      fallback_chain_add_failure (failures, name, local_error);
      g_clear_error (&last_error);
      last_error = local_error;
    }

  fallback_chain_set_exhausted (self->chain, failures, last_error, error);
  return NULL;
}

static GArray *
fallback_embedder_embed (StacheEmbeddingProvider  *provider,
                         const char               *text,
                         GCancellable             *cancellable,
                         GError                  **error)
{
  const char *texts[] = { text, NULL };

  return fallback_embedder_embed_batch (provider, texts, cancellable, error);
}

/* The members serve one model: the first one names it */
static char *
fallback_embedder_get_model_id (StacheEmbeddingProvider *provider)
{
  FallbackEmbedder *self = FALLBACK_EMBEDDER (provider);

  return stache_embedding_provider_get_model_id (g_ptr_array_index (self->chain->members, 0));
}

static char **
fallback_embedder_get_capabilities (StacheEmbeddingProvider *provider)
{
  const char * const caps[] = { "embed", "batch", "fallback", NULL };

  return g_strdupv ((char **) caps);
}

static void
fallback_embedder_iface_init (StacheEmbeddingProviderInterface *iface)
{
  iface->embed = fallback_embedder_embed;
  iface->embed_batch = fallback_embedder_embed_batch;
  iface->get_dimensions = fallback_embedder_get_dimensions;
  iface->get_model_id = fallback_embedder_get_model_id;
  iface->get_capabilities = fallback_embedder_get_capabilities;
}

/* ---- GInitable: creates the members ---- */

static gboolean
fallback_embedder_initable_init (GInitable     *initable,
                                 GCancellable  *cancellable,
                                 GError       **error)
{
  FallbackEmbedder *self = FALLBACK_EMBEDDER (initable);
  StacheSettings *settings = stache_provider_get_settings (STACHE_PROVIDER (self));
  g_autoptr(StacheSettings) own_settings = NULL;

  /* GInitable allows a second call; the first one's result stands */
  if (self->chain != NULL)
    return TRUE;

  if (settings == NULL)
    settings = own_settings = stache_settings_new ();

  self->chain = fallback_chain_new (settings, STACHE_PROVIDER_TYPE_EMBEDDINGS,
                                    FALLBACK_SETTING_EMBEDDING_PROVIDERS, error);

  return self->chain != NULL;
}

static void
fallback_embedder_initable_iface_init (GInitableIface *iface)
{
  iface->init = fallback_embedder_initable_init;
}

/* ---- GObject ---- */

static void
fallback_embedder_finalize (GObject *object)
{
  FallbackEmbedder *self = FALLBACK_EMBEDDER (object);

  g_clear_pointer (&self->chain, fallback_chain_free);

  G_OBJECT_CLASS (fallback_embedder_parent_class)->finalize (object);
}

static void
fallback_embedder_class_init (FallbackEmbedderClass *klass)
{
  G_OBJECT_CLASS (klass)->finalize = fallback_embedder_finalize;
}

static void
fallback_embedder_class_finalize (FallbackEmbedderClass *klass)
{
}

static void
fallback_embedder_init (FallbackEmbedder *self)
{
}

void
fallback_embedder_register (GTypeModule *module)
{
  fallback_embedder_register_type (module);
}

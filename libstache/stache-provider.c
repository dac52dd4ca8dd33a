/* stache-provider.c: the base class of every provider, and provider types
 *
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */
#include "config.h"

#include "stache-provider.h"
#include "stache-llm-provider.h"
#include "stache-embedding-provider.h"
#include "stache-vector-db-provider.h"
#include "stache-namespace-provider.h"
#include "stache-reranker-provider.h"
#include "stache-document-index-provider.h"
#include "stache-provider-private.h"

/**
 * StacheProvider:
 *
 * The base class every provider derives from.
 *
 * It carries the #StacheSettings the provider was created with, so a plugin
 * reads its own keys (`milvus_uri`, read from `MILVUS_URI`, …) through
 * stache_provider_get_settings(). Each provider interface has
 * #StacheProvider as its prerequisite.
 *
 * A provider that must check its configuration before first use (a missing
 * URL, a server that does not answer) also implements #GInitable; the
 * factories call g_initable_init() right after construction and report its
 * error.
 */

typedef struct
{
  StacheSettings *settings;
} StacheProviderPrivate;

G_DEFINE_ABSTRACT_TYPE_WITH_PRIVATE (StacheProvider, stache_provider, G_TYPE_OBJECT)

enum {
  PROP_0,
  PROP_SETTINGS,
  N_PROPS
};

static GParamSpec *properties[N_PROPS];

static const struct {
  const char *name;
  const char *setting;
} provider_types[STACHE_N_PROVIDER_TYPES] = {
  [STACHE_PROVIDER_TYPE_LLM] = { "llm", "llm_provider" },
  [STACHE_PROVIDER_TYPE_EMBEDDINGS] = { "embeddings", "embedding_provider" },
  [STACHE_PROVIDER_TYPE_VECTORDB] = { "vectordb", "vectordb_provider" },
  [STACHE_PROVIDER_TYPE_NAMESPACE] = { "namespace", "namespace_provider" },
  [STACHE_PROVIDER_TYPE_RERANKER] = { "reranker", "reranker_provider" },
  [STACHE_PROVIDER_TYPE_DOCUMENT_INDEX] = { "document_index", "document_index_provider" },
};

/**
 * stache_provider_type_to_string:
 * @type: a #StacheProviderType
 *
 * Gets the extension point name of @type, as written in the
 * `X-Stache-Providers` key of a `.plugin` file: `llm`, `embeddings`,
 * `vectordb`, `namespace`, `reranker` or `document_index`.
 *
 * Returns: the name of @type
 */
const char *
stache_provider_type_to_string (StacheProviderType type)
{
  g_return_val_if_fail ((guint) type < STACHE_N_PROVIDER_TYPES, NULL);

  return provider_types[type].name;
}

/**
 * stache_provider_type_from_string:
 * @name: an extension point name such as `vectordb`
 * @out_type: (out) (optional): where to store the type
 *
 * Looks up a provider type by its extension point name. The spellings
 * `embedding`, `vector_db` and `document-index` are accepted too.
 *
 * Returns: %TRUE if @name names a provider type
 */
gboolean
stache_provider_type_from_string (const char         *name,
                                  StacheProviderType *out_type)
{
  static const struct { const char *alias; StacheProviderType type; } aliases[] = {
    { "embedding", STACHE_PROVIDER_TYPE_EMBEDDINGS },
    { "vector_db", STACHE_PROVIDER_TYPE_VECTORDB },
    { "vector-db", STACHE_PROVIDER_TYPE_VECTORDB },
    { "document-index", STACHE_PROVIDER_TYPE_DOCUMENT_INDEX },
  };

  g_return_val_if_fail (name != NULL, FALSE);

  for (guint i = 0; i < STACHE_N_PROVIDER_TYPES; i++)
    {
      if (g_strcmp0 (name, provider_types[i].name) == 0)
        {
          if (out_type)
            *out_type = i;
          return TRUE;
        }
    }

  for (guint i = 0; i < G_N_ELEMENTS (aliases); i++)
    {
      if (g_strcmp0 (name, aliases[i].alias) == 0)
        {
          if (out_type)
            *out_type = aliases[i].type;
          return TRUE;
        }
    }

  return FALSE;
}

/**
 * stache_provider_type_get_setting:
 * @type: a #StacheProviderType
 *
 * Gets the settings key that selects the provider of @type, such as
 * `vectordb_provider` (environment variable `VECTORDB_PROVIDER`).
 *
 * Returns: the settings key
 */
const char *
stache_provider_type_get_setting (StacheProviderType type)
{
  g_return_val_if_fail ((guint) type < STACHE_N_PROVIDER_TYPES, NULL);

  return provider_types[type].setting;
}

/**
 * stache_provider_type_get_interface:
 * @type: a #StacheProviderType
 *
 * Gets the GInterface a provider of @type implements.
 *
 * Returns: the interface #GType
 */
GType
stache_provider_type_get_interface (StacheProviderType type)
{
  switch (type)
    {
    case STACHE_PROVIDER_TYPE_LLM:
      return STACHE_TYPE_LLM_PROVIDER;
    case STACHE_PROVIDER_TYPE_EMBEDDINGS:
      return STACHE_TYPE_EMBEDDING_PROVIDER;
    case STACHE_PROVIDER_TYPE_VECTORDB:
      return STACHE_TYPE_VECTOR_DB_PROVIDER;
    case STACHE_PROVIDER_TYPE_NAMESPACE:
      return STACHE_TYPE_NAMESPACE_PROVIDER;
    case STACHE_PROVIDER_TYPE_RERANKER:
      return STACHE_TYPE_RERANKER_PROVIDER;
    case STACHE_PROVIDER_TYPE_DOCUMENT_INDEX:
      return STACHE_TYPE_DOCUMENT_INDEX_PROVIDER;
    default:
      g_return_val_if_reached (G_TYPE_INVALID);
    }
}

static void
stache_provider_finalize (GObject *object)
{
  StacheProvider *self = STACHE_PROVIDER (object);
  StacheProviderPrivate *priv = stache_provider_get_instance_private (self);

  g_clear_object (&priv->settings);

  G_OBJECT_CLASS (stache_provider_parent_class)->finalize (object);
}

static void
stache_provider_constructed (GObject *object)
{
  StacheProvider *self = STACHE_PROVIDER (object);
  StacheProviderPrivate *priv = stache_provider_get_instance_private (self);

  G_OBJECT_CLASS (stache_provider_parent_class)->constructed (object);

  /* A provider made without settings (from a test, say) still sees the
   * environment and the configuration file, as any other would. */
  if (priv->settings == NULL)
    priv->settings = stache_settings_new ();
}

static void
stache_provider_get_property (GObject    *object,
                              guint       prop_id,
                              GValue     *value,
                              GParamSpec *pspec)
{
  StacheProvider *self = STACHE_PROVIDER (object);
  StacheProviderPrivate *priv = stache_provider_get_instance_private (self);

  switch (prop_id)
    {
    case PROP_SETTINGS:
      g_value_set_object (value, priv->settings);
      break;

    default:
      G_OBJECT_WARN_INVALID_PROPERTY_ID (object, prop_id, pspec);
    }
}

static void
stache_provider_set_property (GObject      *object,
                              guint         prop_id,
                              const GValue *value,
                              GParamSpec   *pspec)
{
  StacheProvider *self = STACHE_PROVIDER (object);
  StacheProviderPrivate *priv = stache_provider_get_instance_private (self);

  switch (prop_id)
    {
    case PROP_SETTINGS:
      g_set_object (&priv->settings, g_value_get_object (value));
      break;

    default:
      G_OBJECT_WARN_INVALID_PROPERTY_ID (object, prop_id, pspec);
    }
}

static void
stache_provider_class_init (StacheProviderClass *klass)
{
  GObjectClass *object_class = G_OBJECT_CLASS (klass);

  object_class->constructed = stache_provider_constructed;
  object_class->finalize = stache_provider_finalize;
  object_class->get_property = stache_provider_get_property;
  object_class->set_property = stache_provider_set_property;

  /**
   * StacheProvider:settings:
   *
   * The settings this provider reads its configuration from.
   */
  properties[PROP_SETTINGS] =
    g_param_spec_object ("settings", NULL, NULL,
                         STACHE_TYPE_SETTINGS,
                         (G_PARAM_READWRITE |
                          G_PARAM_CONSTRUCT_ONLY |
                          G_PARAM_STATIC_STRINGS));

  g_object_class_install_properties (object_class, N_PROPS, properties);
}

static GPrivate creating_settings;

StacheSettings *
_stache_provider_swap_creating_settings (StacheSettings *settings)
{
  StacheSettings *previous = g_private_get (&creating_settings);

  g_private_set (&creating_settings, settings);
  return previous;
}

static void
stache_provider_init (StacheProvider *self)
{
  StacheProviderPrivate *priv = stache_provider_get_instance_private (self);
  StacheSettings *settings = g_private_get (&creating_settings);

  /* Only the outermost provider under creation takes them: one made
   * inside another's init gets its own */
  if (settings != NULL)
    {
      priv->settings = g_object_ref (settings);
      g_private_set (&creating_settings, NULL);
    }
}

/**
 * stache_provider_get_settings:
 * @self: a #StacheProvider
 *
 * Gets the settings the provider was created with.
 *
 * Returns: (transfer none): the provider's settings
 */
StacheSettings *
stache_provider_get_settings (StacheProvider *self)
{
  StacheProviderPrivate *priv = stache_provider_get_instance_private (self);

  g_return_val_if_fail (STACHE_IS_PROVIDER (self), NULL);

  return priv->settings;
}

GPtrArray *
_stache_provider_type_list_missing_methods (StacheProviderType type,
                                            GType              instance_type)
{
  GPtrArray *missing = g_ptr_array_new ();
  GType iface_type = stache_provider_type_get_interface (type);
  gpointer klass;
  gconstpointer iface;

  g_return_val_if_fail (g_type_is_a (instance_type, iface_type), missing);

  /* A reference makes sure the class, and so its interface vtables, are
   * initialized: a type registered by a module may have no instance yet. */
  klass = g_type_class_ref (instance_type);
  iface = g_type_interface_peek (klass, iface_type);

  switch (type)
    {
    case STACHE_PROVIDER_TYPE_LLM:
      _stache_llm_provider_add_missing_methods (iface, missing);
      break;
    case STACHE_PROVIDER_TYPE_EMBEDDINGS:
      _stache_embedding_provider_add_missing_methods (iface, missing);
      break;
    case STACHE_PROVIDER_TYPE_VECTORDB:
      _stache_vector_db_provider_add_missing_methods (iface, missing);
      break;
    case STACHE_PROVIDER_TYPE_NAMESPACE:
      _stache_namespace_provider_add_missing_methods (iface, missing);
      break;
    case STACHE_PROVIDER_TYPE_RERANKER:
      _stache_reranker_provider_add_missing_methods (iface, missing);
      break;
    case STACHE_PROVIDER_TYPE_DOCUMENT_INDEX:
      _stache_document_index_provider_add_missing_methods (iface, missing);
      break;
    default:
      g_warn_if_reached ();
    }

  g_type_class_unref (klass);

  return missing;
}

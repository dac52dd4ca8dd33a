/* stache-namespace.c: a named collection of documents
 *
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */
#include "config.h"

#include "stache-private.h"

#include <string.h>

#include "stache-namespace.h"

/**
 * StacheNamespace:
 *
 * A named collection of documents and their chunks.
 *
 * Namespaces keep unrelated material apart: a search runs within one
 * namespace, so notes on one project do not turn up in answers about
 * another. Names are path-like, such as `research/papers`, which lets tools
 * group namespaces in a tree; stache_namespace_dup_parent_name() gives the
 * name one level up.
 *
 * Every field is a read-write property, so plugins written in Python or Lua
 * can build a namespace with `GObject.new()` and property names.
 */

struct _StacheNamespace
{
  GObject     parent_instance;

  char       *name;
  char       *description;
  gint64      created;
  JsonObject *metadata;
};

G_DEFINE_FINAL_TYPE (StacheNamespace, stache_namespace, G_TYPE_OBJECT)

enum {
  PROP_0,
  PROP_NAME,
  PROP_DESCRIPTION,
  PROP_CREATED,
  PROP_METADATA,
  N_PROPS
};

static GParamSpec *properties[N_PROPS];

static void
stache_namespace_finalize (GObject *object)
{
  StacheNamespace *self = STACHE_NAMESPACE (object);

  g_clear_pointer (&self->name, g_free);
  g_clear_pointer (&self->description, g_free);
  g_clear_pointer (&self->metadata, json_object_unref);

  G_OBJECT_CLASS (stache_namespace_parent_class)->finalize (object);
}

static void
stache_namespace_get_property (GObject    *object,
                               guint       prop_id,
                               GValue     *value,
                               GParamSpec *pspec)
{
  StacheNamespace *self = STACHE_NAMESPACE (object);

  switch (prop_id)
    {
    case PROP_NAME:
      g_value_set_string (value, self->name);
      break;

    case PROP_DESCRIPTION:
      g_value_set_string (value, self->description);
      break;

    case PROP_CREATED:
      g_value_set_int64 (value, self->created);
      break;

    case PROP_METADATA:
      g_value_set_boxed (value, self->metadata);
      break;

    default:
      G_OBJECT_WARN_INVALID_PROPERTY_ID (object, prop_id, pspec);
    }
}

static void
stache_namespace_set_property (GObject      *object,
                               guint         prop_id,
                               const GValue *value,
                               GParamSpec   *pspec)
{
  StacheNamespace *self = STACHE_NAMESPACE (object);

  switch (prop_id)
    {
    case PROP_NAME:
      stache_namespace_set_name (self, g_value_get_string (value));
      break;

    case PROP_DESCRIPTION:
      stache_namespace_set_description (self, g_value_get_string (value));
      break;

    case PROP_CREATED:
      stache_namespace_set_created (self, g_value_get_int64 (value));
      break;

    case PROP_METADATA:
      stache_namespace_set_metadata (self, g_value_get_boxed (value));
      break;

    default:
      G_OBJECT_WARN_INVALID_PROPERTY_ID (object, prop_id, pspec);
    }
}

static void
stache_namespace_class_init (StacheNamespaceClass *klass)
{
  GObjectClass *object_class = G_OBJECT_CLASS (klass);

  object_class->finalize = stache_namespace_finalize;
  object_class->get_property = stache_namespace_get_property;
  object_class->set_property = stache_namespace_set_property;

  /**
   * StacheNamespace:name:
   *
   * The name of the namespace, path-like with `/` between levels, such as
   * `research/papers`.
   */
  properties[PROP_NAME] =
    g_param_spec_string ("name", NULL, NULL,
                         NULL,
                         (G_PARAM_READWRITE |
                          G_PARAM_EXPLICIT_NOTIFY |
                          G_PARAM_STATIC_STRINGS));

  /**
   * StacheNamespace:description:
   *
   * What the namespace holds, in a few words for people.
   */
  properties[PROP_DESCRIPTION] =
    g_param_spec_string ("description", NULL, NULL,
                         NULL,
                         (G_PARAM_READWRITE |
                          G_PARAM_EXPLICIT_NOTIFY |
                          G_PARAM_STATIC_STRINGS));

  /**
   * StacheNamespace:created:
   *
   * When the namespace was created, in seconds since the Unix epoch (UTC),
   * or 0 if unknown.
   */
  properties[PROP_CREATED] =
    g_param_spec_int64 ("created", NULL, NULL,
                        G_MININT64, G_MAXINT64, 0,
                        (G_PARAM_READWRITE |
                         G_PARAM_EXPLICIT_NOTIFY |
                         G_PARAM_STATIC_STRINGS));

  /**
   * StacheNamespace:metadata:
   *
   * Extra fields stored with the namespace, or %NULL for none.
   *
   * The namespace keeps a reference to the object rather than a copy.
   */
  properties[PROP_METADATA] =
    g_param_spec_boxed ("metadata", NULL, NULL,
                        JSON_TYPE_OBJECT,
                        (G_PARAM_READWRITE |
                         G_PARAM_EXPLICIT_NOTIFY |
                         G_PARAM_STATIC_STRINGS));

  g_object_class_install_properties (object_class, N_PROPS, properties);
}

static void
stache_namespace_init (StacheNamespace *self)
{
}

/**
 * stache_namespace_new:
 * @name: (nullable): the name of the namespace, such as `research/papers`
 *
 * Creates a namespace record with the given name. The other fields can be
 * set afterwards.
 *
 * Returns: (transfer full): a new #StacheNamespace
 */
StacheNamespace *
stache_namespace_new (const char *name)
{
  return g_object_new (STACHE_TYPE_NAMESPACE,
                       "name", name,
                       NULL);
}

/**
 * stache_namespace_get_name:
 * @self: a #StacheNamespace
 *
 * Gets the name of the namespace.
 *
 * Returns: (nullable): the name, or %NULL if unset
 */
const char *
stache_namespace_get_name (StacheNamespace *self)
{
  g_return_val_if_fail (STACHE_IS_NAMESPACE (self), NULL);

  return self->name;
}

/**
 * stache_namespace_set_name:
 * @self: a #StacheNamespace
 * @name: (nullable): the new name, such as `research/papers`
 *
 * Sets the name of the namespace.
 */
void
stache_namespace_set_name (StacheNamespace *self,
                           const char      *name)
{
  g_return_if_fail (STACHE_IS_NAMESPACE (self));

  if (_stache_replace_string (&self->name, name))
    g_object_notify_by_pspec (G_OBJECT (self), properties[PROP_NAME]);
}

/**
 * stache_namespace_dup_parent_name:
 * @self: a #StacheNamespace
 *
 * Gets the name of the namespace one level up: the part of
 * #StacheNamespace:name before its last `/`. The parent of `a/b/c` is
 * `a/b`; a name without `/`, such as `a`, has no parent, and neither has
 * one whose only `/` comes first.
 *
 * The name is taken as it is, without normalizing repeated or trailing
 * slashes.
 *
 * Returns: (transfer full) (nullable): the parent name, or %NULL if there
 *   is none
 */
char *
stache_namespace_dup_parent_name (StacheNamespace *self)
{
  const char *slash;

  g_return_val_if_fail (STACHE_IS_NAMESPACE (self), NULL);

  if (self->name == NULL)
    return NULL;

  slash = strrchr (self->name, '/');
  if (slash == NULL || slash == self->name)
    return NULL;

  return g_strndup (self->name, slash - self->name);
}

/**
 * stache_namespace_get_description:
 * @self: a #StacheNamespace
 *
 * Gets the description of the namespace.
 *
 * Returns: (nullable): the description, or %NULL if unset
 */
const char *
stache_namespace_get_description (StacheNamespace *self)
{
  g_return_val_if_fail (STACHE_IS_NAMESPACE (self), NULL);

  return self->description;
}

/**
 * stache_namespace_set_description:
 * @self: a #StacheNamespace
 * @description: (nullable): the new description
 *
 * Sets the description of the namespace.
 */
void
stache_namespace_set_description (StacheNamespace *self,
                                  const char      *description)
{
  g_return_if_fail (STACHE_IS_NAMESPACE (self));

  if (_stache_replace_string (&self->description, description))
    g_object_notify_by_pspec (G_OBJECT (self), properties[PROP_DESCRIPTION]);
}

/**
 * stache_namespace_get_created:
 * @self: a #StacheNamespace
 *
 * Gets when the namespace was created.
 *
 * Returns: seconds since the Unix epoch (UTC), or 0 if unknown
 */
gint64
stache_namespace_get_created (StacheNamespace *self)
{
  g_return_val_if_fail (STACHE_IS_NAMESPACE (self), 0);

  return self->created;
}

/**
 * stache_namespace_set_created:
 * @self: a #StacheNamespace
 * @created: seconds since the Unix epoch (UTC), or 0 if unknown
 *
 * Sets when the namespace was created.
 */
void
stache_namespace_set_created (StacheNamespace *self,
                              gint64           created)
{
  g_return_if_fail (STACHE_IS_NAMESPACE (self));

  if (self->created == created)
    return;

  self->created = created;
  g_object_notify_by_pspec (G_OBJECT (self), properties[PROP_CREATED]);
}

/**
 * stache_namespace_get_metadata:
 * @self: a #StacheNamespace
 *
 * Gets the extra fields stored with the namespace.
 *
 * Returns: (transfer none) (nullable): the metadata, or %NULL if there is none
 */
JsonObject *
stache_namespace_get_metadata (StacheNamespace *self)
{
  g_return_val_if_fail (STACHE_IS_NAMESPACE (self), NULL);

  return self->metadata;
}

/**
 * stache_namespace_set_metadata:
 * @self: a #StacheNamespace
 * @metadata: (nullable): the metadata, or %NULL for none
 *
 * Sets the extra fields stored with the namespace. The namespace keeps a
 * reference to @metadata, so later changes to the object are seen through
 * the namespace.
 */
void
stache_namespace_set_metadata (StacheNamespace *self,
                               JsonObject      *metadata)
{
  g_return_if_fail (STACHE_IS_NAMESPACE (self));

  if (self->metadata == metadata)
    return;

  if (metadata != NULL)
    json_object_ref (metadata);
  g_clear_pointer (&self->metadata, json_object_unref);
  self->metadata = metadata;

  g_object_notify_by_pspec (G_OBJECT (self), properties[PROP_METADATA]);
}

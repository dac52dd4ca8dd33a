/* stache-chunk.c: a piece of a document that is embedded and stored
 *
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */
#include "config.h"

#include "stache-private.h"

#include "stache-chunk.h"

/**
 * StacheChunk:
 *
 * A piece of a document, the unit that is embedded and stored in a vector
 * database.
 *
 * Documents are split into chunks small enough for an embedding model and
 * for a prompt; each chunk keeps the identifier of its document and its
 * position within it, so search hits can be traced back to their source.
 * Arbitrary extra fields go in #StacheChunk:metadata.
 *
 * Every field is a read-write property, so plugins written in Python or Lua
 * can build a chunk with `GObject.new()` and property names.
 */

struct _StacheChunk
{
  GObject     parent_instance;

  char       *id;
  char       *document_id;
  char       *text;
  guint       position;
  JsonObject *metadata;
};

G_DEFINE_FINAL_TYPE (StacheChunk, stache_chunk, G_TYPE_OBJECT)

enum {
  PROP_0,
  PROP_ID,
  PROP_DOCUMENT_ID,
  PROP_TEXT,
  PROP_POSITION,
  PROP_METADATA,
  N_PROPS
};

static GParamSpec *properties[N_PROPS];

static void
stache_chunk_finalize (GObject *object)
{
  StacheChunk *self = STACHE_CHUNK (object);

  g_clear_pointer (&self->id, g_free);
  g_clear_pointer (&self->document_id, g_free);
  g_clear_pointer (&self->text, g_free);
  g_clear_pointer (&self->metadata, json_object_unref);

  G_OBJECT_CLASS (stache_chunk_parent_class)->finalize (object);
}

static void
stache_chunk_get_property (GObject    *object,
                           guint       prop_id,
                           GValue     *value,
                           GParamSpec *pspec)
{
  StacheChunk *self = STACHE_CHUNK (object);

  switch (prop_id)
    {
    case PROP_ID:
      g_value_set_string (value, self->id);
      break;

    case PROP_DOCUMENT_ID:
      g_value_set_string (value, self->document_id);
      break;

    case PROP_TEXT:
      g_value_set_string (value, self->text);
      break;

    case PROP_POSITION:
      g_value_set_uint (value, self->position);
      break;

    case PROP_METADATA:
      g_value_set_boxed (value, self->metadata);
      break;

    default:
      G_OBJECT_WARN_INVALID_PROPERTY_ID (object, prop_id, pspec);
    }
}

static void
stache_chunk_set_property (GObject      *object,
                           guint         prop_id,
                           const GValue *value,
                           GParamSpec   *pspec)
{
  StacheChunk *self = STACHE_CHUNK (object);

  switch (prop_id)
    {
    case PROP_ID:
      stache_chunk_set_id (self, g_value_get_string (value));
      break;

    case PROP_DOCUMENT_ID:
      stache_chunk_set_document_id (self, g_value_get_string (value));
      break;

    case PROP_TEXT:
      stache_chunk_set_text (self, g_value_get_string (value));
      break;

    case PROP_POSITION:
      stache_chunk_set_position (self, g_value_get_uint (value));
      break;

    case PROP_METADATA:
      stache_chunk_set_metadata (self, g_value_get_boxed (value));
      break;

    default:
      G_OBJECT_WARN_INVALID_PROPERTY_ID (object, prop_id, pspec);
    }
}

static void
stache_chunk_class_init (StacheChunkClass *klass)
{
  GObjectClass *object_class = G_OBJECT_CLASS (klass);

  object_class->finalize = stache_chunk_finalize;
  object_class->get_property = stache_chunk_get_property;
  object_class->set_property = stache_chunk_set_property;

  /**
   * StacheChunk:id:
   *
   * The identifier of the chunk, unique within its namespace.
   */
  properties[PROP_ID] =
    g_param_spec_string ("id", NULL, NULL,
                         NULL,
                         (G_PARAM_READWRITE |
                          G_PARAM_EXPLICIT_NOTIFY |
                          G_PARAM_STATIC_STRINGS));

  /**
   * StacheChunk:document-id:
   *
   * The identifier of the document the chunk was cut from.
   */
  properties[PROP_DOCUMENT_ID] =
    g_param_spec_string ("document-id", NULL, NULL,
                         NULL,
                         (G_PARAM_READWRITE |
                          G_PARAM_EXPLICIT_NOTIFY |
                          G_PARAM_STATIC_STRINGS));

  /**
   * StacheChunk:text:
   *
   * The text of the chunk, as embedded and as shown to a language model.
   */
  properties[PROP_TEXT] =
    g_param_spec_string ("text", NULL, NULL,
                         NULL,
                         (G_PARAM_READWRITE |
                          G_PARAM_EXPLICIT_NOTIFY |
                          G_PARAM_STATIC_STRINGS));

  /**
   * StacheChunk:position:
   *
   * The index of the chunk within its document, counting from 0.
   */
  properties[PROP_POSITION] =
    g_param_spec_uint ("position", NULL, NULL,
                       0, G_MAXUINT, 0,
                       (G_PARAM_READWRITE |
                        G_PARAM_EXPLICIT_NOTIFY |
                        G_PARAM_STATIC_STRINGS));

  /**
   * StacheChunk:metadata:
   *
   * Extra fields stored with the chunk, or %NULL for none.
   *
   * The chunk keeps a reference to the object rather than a copy.
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
stache_chunk_init (StacheChunk *self)
{
}

/**
 * stache_chunk_new:
 * @id: (nullable): the identifier of the chunk
 * @text: (nullable): the text of the chunk
 *
 * Creates a chunk with the given identifier and text. The other fields can
 * be set afterwards.
 *
 * Returns: (transfer full): a new #StacheChunk
 */
StacheChunk *
stache_chunk_new (const char *id,
                  const char *text)
{
  return g_object_new (STACHE_TYPE_CHUNK,
                       "id", id,
                       "text", text,
                       NULL);
}

/**
 * stache_chunk_get_id:
 * @self: a #StacheChunk
 *
 * Gets the identifier of the chunk.
 *
 * Returns: (nullable): the identifier, or %NULL if unset
 */
const char *
stache_chunk_get_id (StacheChunk *self)
{
  g_return_val_if_fail (STACHE_IS_CHUNK (self), NULL);

  return self->id;
}

/**
 * stache_chunk_set_id:
 * @self: a #StacheChunk
 * @id: (nullable): the new identifier
 *
 * Sets the identifier of the chunk.
 */
void
stache_chunk_set_id (StacheChunk *self,
                     const char  *id)
{
  g_return_if_fail (STACHE_IS_CHUNK (self));

  if (_stache_replace_string (&self->id, id))
    g_object_notify_by_pspec (G_OBJECT (self), properties[PROP_ID]);
}

/**
 * stache_chunk_get_document_id:
 * @self: a #StacheChunk
 *
 * Gets the identifier of the document the chunk belongs to.
 *
 * Returns: (nullable): the document identifier, or %NULL if unset
 */
const char *
stache_chunk_get_document_id (StacheChunk *self)
{
  g_return_val_if_fail (STACHE_IS_CHUNK (self), NULL);

  return self->document_id;
}

/**
 * stache_chunk_set_document_id:
 * @self: a #StacheChunk
 * @document_id: (nullable): the identifier of the document
 *
 * Sets the identifier of the document the chunk belongs to.
 */
void
stache_chunk_set_document_id (StacheChunk *self,
                              const char  *document_id)
{
  g_return_if_fail (STACHE_IS_CHUNK (self));

  if (_stache_replace_string (&self->document_id, document_id))
    g_object_notify_by_pspec (G_OBJECT (self), properties[PROP_DOCUMENT_ID]);
}

/**
 * stache_chunk_get_text:
 * @self: a #StacheChunk
 *
 * Gets the text of the chunk.
 *
 * Returns: (nullable): the text, or %NULL if unset
 */
const char *
stache_chunk_get_text (StacheChunk *self)
{
  g_return_val_if_fail (STACHE_IS_CHUNK (self), NULL);

  return self->text;
}

/**
 * stache_chunk_set_text:
 * @self: a #StacheChunk
 * @text: (nullable): the new text
 *
 * Sets the text of the chunk.
 */
void
stache_chunk_set_text (StacheChunk *self,
                       const char  *text)
{
  g_return_if_fail (STACHE_IS_CHUNK (self));

  if (_stache_replace_string (&self->text, text))
    g_object_notify_by_pspec (G_OBJECT (self), properties[PROP_TEXT]);
}

/**
 * stache_chunk_get_position:
 * @self: a #StacheChunk
 *
 * Gets the index of the chunk within its document.
 *
 * Returns: the position, counting from 0
 */
guint
stache_chunk_get_position (StacheChunk *self)
{
  g_return_val_if_fail (STACHE_IS_CHUNK (self), 0);

  return self->position;
}

/**
 * stache_chunk_set_position:
 * @self: a #StacheChunk
 * @position: the index of the chunk within its document
 *
 * Sets the index of the chunk within its document, counting from 0.
 */
void
stache_chunk_set_position (StacheChunk *self,
                           guint        position)
{
  g_return_if_fail (STACHE_IS_CHUNK (self));

  if (self->position == position)
    return;

  self->position = position;
  g_object_notify_by_pspec (G_OBJECT (self), properties[PROP_POSITION]);
}

/**
 * stache_chunk_get_metadata:
 * @self: a #StacheChunk
 *
 * Gets the extra fields stored with the chunk.
 *
 * Returns: (transfer none) (nullable): the metadata, or %NULL if there is none
 */
JsonObject *
stache_chunk_get_metadata (StacheChunk *self)
{
  g_return_val_if_fail (STACHE_IS_CHUNK (self), NULL);

  return self->metadata;
}

/**
 * stache_chunk_set_metadata:
 * @self: a #StacheChunk
 * @metadata: (nullable): the metadata, or %NULL for none
 *
 * Sets the extra fields stored with the chunk. The chunk keeps a reference
 * to @metadata, so later changes to the object are seen through the chunk.
 */
void
stache_chunk_set_metadata (StacheChunk *self,
                           JsonObject  *metadata)
{
  g_return_if_fail (STACHE_IS_CHUNK (self));

  if (self->metadata == metadata)
    return;

  if (metadata != NULL)
    json_object_ref (metadata);
  g_clear_pointer (&self->metadata, json_object_unref);
  self->metadata = metadata;

  g_object_notify_by_pspec (G_OBJECT (self), properties[PROP_METADATA]);
}

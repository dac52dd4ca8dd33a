/* stache-document.c: a whole ingested document
 *
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */
#include "config.h"

#include "stache-private.h"

#include "stache-document.h"

/**
 * StacheDocument:
 *
 * A whole ingested document, as recorded by a document index.
 *
 * While a vector database stores the chunks of a document, the document
 * index keeps one record per document: where it came from, what it is, a
 * hash of its content to tell whether it changed since it was ingested, and
 * how many chunks it was split into. That lets Stache list, re-ingest and
 * remove documents as a whole.
 *
 * Times are Unix timestamps in seconds (UTC); 0 means unknown.
 *
 * Every field is a read-write property, so plugins written in Python or Lua
 * can build a document with `GObject.new()` and property names.
 */

struct _StacheDocument
{
  GObject     parent_instance;

  char       *id;
  char       *namespace_;
  char       *source;
  char       *title;
  char       *media_type;
  char       *content_hash;
  char       *summary;
  guint64     size;
  guint       chunk_count;
  gint64      created;
  gint64      updated;
  JsonObject *metadata;
};

G_DEFINE_FINAL_TYPE (StacheDocument, stache_document, G_TYPE_OBJECT)

enum {
  PROP_0,
  PROP_ID,
  PROP_NAMESPACE,
  PROP_SOURCE,
  PROP_TITLE,
  PROP_MEDIA_TYPE,
  PROP_CONTENT_HASH,
  PROP_SUMMARY,
  PROP_SIZE,
  PROP_CHUNK_COUNT,
  PROP_CREATED,
  PROP_UPDATED,
  PROP_METADATA,
  N_PROPS
};

static GParamSpec *properties[N_PROPS];

static void
stache_document_finalize (GObject *object)
{
  StacheDocument *self = STACHE_DOCUMENT (object);

  g_clear_pointer (&self->id, g_free);
  g_clear_pointer (&self->namespace_, g_free);
  g_clear_pointer (&self->source, g_free);
  g_clear_pointer (&self->title, g_free);
  g_clear_pointer (&self->media_type, g_free);
  g_clear_pointer (&self->content_hash, g_free);
  g_clear_pointer (&self->summary, g_free);
  g_clear_pointer (&self->metadata, json_object_unref);

  G_OBJECT_CLASS (stache_document_parent_class)->finalize (object);
}

static void
stache_document_get_property (GObject    *object,
                              guint       prop_id,
                              GValue     *value,
                              GParamSpec *pspec)
{
  StacheDocument *self = STACHE_DOCUMENT (object);

  switch (prop_id)
    {
    case PROP_ID:
      g_value_set_string (value, self->id);
      break;

    case PROP_NAMESPACE:
      g_value_set_string (value, self->namespace_);
      break;

    case PROP_SOURCE:
      g_value_set_string (value, self->source);
      break;

    case PROP_TITLE:
      g_value_set_string (value, self->title);
      break;

    case PROP_MEDIA_TYPE:
      g_value_set_string (value, self->media_type);
      break;

    case PROP_CONTENT_HASH:
      g_value_set_string (value, self->content_hash);
      break;

    case PROP_SUMMARY:
      g_value_set_string (value, self->summary);
      break;

    case PROP_SIZE:
      g_value_set_uint64 (value, self->size);
      break;

    case PROP_CHUNK_COUNT:
      g_value_set_uint (value, self->chunk_count);
      break;

    case PROP_CREATED:
      g_value_set_int64 (value, self->created);
      break;

    case PROP_UPDATED:
      g_value_set_int64 (value, self->updated);
      break;

    case PROP_METADATA:
      g_value_set_boxed (value, self->metadata);
      break;

    default:
      G_OBJECT_WARN_INVALID_PROPERTY_ID (object, prop_id, pspec);
    }
}

static void
stache_document_set_property (GObject      *object,
                              guint         prop_id,
                              const GValue *value,
                              GParamSpec   *pspec)
{
  StacheDocument *self = STACHE_DOCUMENT (object);

  switch (prop_id)
    {
    case PROP_ID:
      stache_document_set_id (self, g_value_get_string (value));
      break;

    case PROP_NAMESPACE:
      stache_document_set_namespace (self, g_value_get_string (value));
      break;

    case PROP_SOURCE:
      stache_document_set_source (self, g_value_get_string (value));
      break;

    case PROP_TITLE:
      stache_document_set_title (self, g_value_get_string (value));
      break;

    case PROP_MEDIA_TYPE:
      stache_document_set_media_type (self, g_value_get_string (value));
      break;

    case PROP_CONTENT_HASH:
      stache_document_set_content_hash (self, g_value_get_string (value));
      break;

    case PROP_SUMMARY:
      stache_document_set_summary (self, g_value_get_string (value));
      break;

    case PROP_SIZE:
      stache_document_set_size (self, g_value_get_uint64 (value));
      break;

    case PROP_CHUNK_COUNT:
      stache_document_set_chunk_count (self, g_value_get_uint (value));
      break;

    case PROP_CREATED:
      stache_document_set_created (self, g_value_get_int64 (value));
      break;

    case PROP_UPDATED:
      stache_document_set_updated (self, g_value_get_int64 (value));
      break;

    case PROP_METADATA:
      stache_document_set_metadata (self, g_value_get_boxed (value));
      break;

    default:
      G_OBJECT_WARN_INVALID_PROPERTY_ID (object, prop_id, pspec);
    }
}

static void
stache_document_class_init (StacheDocumentClass *klass)
{
  GObjectClass *object_class = G_OBJECT_CLASS (klass);

  object_class->finalize = stache_document_finalize;
  object_class->get_property = stache_document_get_property;
  object_class->set_property = stache_document_set_property;

  /**
   * StacheDocument:id:
   *
   * The identifier of the document, unique within its namespace.
   */
  properties[PROP_ID] =
    g_param_spec_string ("id", NULL, NULL,
                         NULL,
                         (G_PARAM_READWRITE |
                          G_PARAM_EXPLICIT_NOTIFY |
                          G_PARAM_STATIC_STRINGS));

  /**
   * StacheDocument:namespace:
   *
   * The name of the namespace the document was ingested into.
   */
  properties[PROP_NAMESPACE] =
    g_param_spec_string ("namespace", NULL, NULL,
                         NULL,
                         (G_PARAM_READWRITE |
                          G_PARAM_EXPLICIT_NOTIFY |
                          G_PARAM_STATIC_STRINGS));

  /**
   * StacheDocument:source:
   *
   * Where the document was read from: a file path or a URI.
   */
  properties[PROP_SOURCE] =
    g_param_spec_string ("source", NULL, NULL,
                         NULL,
                         (G_PARAM_READWRITE |
                          G_PARAM_EXPLICIT_NOTIFY |
                          G_PARAM_STATIC_STRINGS));

  /**
   * StacheDocument:title:
   *
   * The title of the document, for display.
   */
  properties[PROP_TITLE] =
    g_param_spec_string ("title", NULL, NULL,
                         NULL,
                         (G_PARAM_READWRITE |
                          G_PARAM_EXPLICIT_NOTIFY |
                          G_PARAM_STATIC_STRINGS));

  /**
   * StacheDocument:media-type:
   *
   * The media type of the document, such as `text/markdown` or
   * `application/pdf`.
   */
  properties[PROP_MEDIA_TYPE] =
    g_param_spec_string ("media-type", NULL, NULL,
                         NULL,
                         (G_PARAM_READWRITE |
                          G_PARAM_EXPLICIT_NOTIFY |
                          G_PARAM_STATIC_STRINGS));

  /**
   * StacheDocument:content-hash:
   *
   * A hash of the content of the document as ingested, used to tell
   * whether the source changed since.
   */
  properties[PROP_CONTENT_HASH] =
    g_param_spec_string ("content-hash", NULL, NULL,
                         NULL,
                         (G_PARAM_READWRITE |
                          G_PARAM_EXPLICIT_NOTIFY |
                          G_PARAM_STATIC_STRINGS));

  /**
   * StacheDocument:summary:
   *
   * A short summary of the document.
   */
  properties[PROP_SUMMARY] =
    g_param_spec_string ("summary", NULL, NULL,
                         NULL,
                         (G_PARAM_READWRITE |
                          G_PARAM_EXPLICIT_NOTIFY |
                          G_PARAM_STATIC_STRINGS));

  /**
   * StacheDocument:size:
   *
   * The size of the document in bytes.
   */
  properties[PROP_SIZE] =
    g_param_spec_uint64 ("size", NULL, NULL,
                         0, G_MAXUINT64, 0,
                         (G_PARAM_READWRITE |
                          G_PARAM_EXPLICIT_NOTIFY |
                          G_PARAM_STATIC_STRINGS));

  /**
   * StacheDocument:chunk-count:
   *
   * The number of chunks the document was split into.
   */
  properties[PROP_CHUNK_COUNT] =
    g_param_spec_uint ("chunk-count", NULL, NULL,
                       0, G_MAXUINT, 0,
                       (G_PARAM_READWRITE |
                        G_PARAM_EXPLICIT_NOTIFY |
                        G_PARAM_STATIC_STRINGS));

  /**
   * StacheDocument:created:
   *
   * When the document was first ingested, in seconds since the Unix epoch
   * (UTC), or 0 if unknown.
   */
  properties[PROP_CREATED] =
    g_param_spec_int64 ("created", NULL, NULL,
                        G_MININT64, G_MAXINT64, 0,
                        (G_PARAM_READWRITE |
                         G_PARAM_EXPLICIT_NOTIFY |
                         G_PARAM_STATIC_STRINGS));

  /**
   * StacheDocument:updated:
   *
   * When the document was last ingested, in seconds since the Unix epoch
   * (UTC), or 0 if unknown.
   */
  properties[PROP_UPDATED] =
    g_param_spec_int64 ("updated", NULL, NULL,
                        G_MININT64, G_MAXINT64, 0,
                        (G_PARAM_READWRITE |
                         G_PARAM_EXPLICIT_NOTIFY |
                         G_PARAM_STATIC_STRINGS));

  /**
   * StacheDocument:metadata:
   *
   * Extra fields recorded with the document, or %NULL for none.
   *
   * The document keeps a reference to the object rather than a copy.
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
stache_document_init (StacheDocument *self)
{
}

/**
 * stache_document_new:
 * @id: (nullable): the identifier of the document
 *
 * Creates a document record with the given identifier. The other fields
 * can be set afterwards.
 *
 * Returns: (transfer full): a new #StacheDocument
 */
StacheDocument *
stache_document_new (const char *id)
{
  return g_object_new (STACHE_TYPE_DOCUMENT,
                       "id", id,
                       NULL);
}

/**
 * stache_document_get_id:
 * @self: a #StacheDocument
 *
 * Gets the identifier of the document.
 *
 * Returns: (nullable): the identifier, or %NULL if unset
 */
const char *
stache_document_get_id (StacheDocument *self)
{
  g_return_val_if_fail (STACHE_IS_DOCUMENT (self), NULL);

  return self->id;
}

/**
 * stache_document_set_id:
 * @self: a #StacheDocument
 * @id: (nullable): the new identifier
 *
 * Sets the identifier of the document.
 */
void
stache_document_set_id (StacheDocument *self,
                        const char     *id)
{
  g_return_if_fail (STACHE_IS_DOCUMENT (self));

  if (_stache_replace_string (&self->id, id))
    g_object_notify_by_pspec (G_OBJECT (self), properties[PROP_ID]);
}

/**
 * stache_document_get_namespace:
 * @self: a #StacheDocument
 *
 * Gets the name of the namespace the document was ingested into.
 *
 * Returns: (nullable): the namespace name, or %NULL if unset
 */
const char *
stache_document_get_namespace (StacheDocument *self)
{
  g_return_val_if_fail (STACHE_IS_DOCUMENT (self), NULL);

  return self->namespace_;
}

/**
 * stache_document_set_namespace:
 * @self: a #StacheDocument
 * @namespace_: (nullable): the name of the namespace
 *
 * Sets the name of the namespace the document was ingested into.
 */
void
stache_document_set_namespace (StacheDocument *self,
                               const char     *namespace_)
{
  g_return_if_fail (STACHE_IS_DOCUMENT (self));

  if (_stache_replace_string (&self->namespace_, namespace_))
    g_object_notify_by_pspec (G_OBJECT (self), properties[PROP_NAMESPACE]);
}

/**
 * stache_document_get_source:
 * @self: a #StacheDocument
 *
 * Gets where the document was read from.
 *
 * Returns: (nullable): a file path or URI, or %NULL if unset
 */
const char *
stache_document_get_source (StacheDocument *self)
{
  g_return_val_if_fail (STACHE_IS_DOCUMENT (self), NULL);

  return self->source;
}

/**
 * stache_document_set_source:
 * @self: a #StacheDocument
 * @source: (nullable): a file path or URI
 *
 * Sets where the document was read from.
 */
void
stache_document_set_source (StacheDocument *self,
                            const char     *source)
{
  g_return_if_fail (STACHE_IS_DOCUMENT (self));

  if (_stache_replace_string (&self->source, source))
    g_object_notify_by_pspec (G_OBJECT (self), properties[PROP_SOURCE]);
}

/**
 * stache_document_get_title:
 * @self: a #StacheDocument
 *
 * Gets the title of the document.
 *
 * Returns: (nullable): the title, or %NULL if unset
 */
const char *
stache_document_get_title (StacheDocument *self)
{
  g_return_val_if_fail (STACHE_IS_DOCUMENT (self), NULL);

  return self->title;
}

/**
 * stache_document_set_title:
 * @self: a #StacheDocument
 * @title: (nullable): the new title
 *
 * Sets the title of the document.
 */
void
stache_document_set_title (StacheDocument *self,
                           const char     *title)
{
  g_return_if_fail (STACHE_IS_DOCUMENT (self));

  if (_stache_replace_string (&self->title, title))
    g_object_notify_by_pspec (G_OBJECT (self), properties[PROP_TITLE]);
}

/**
 * stache_document_get_media_type:
 * @self: a #StacheDocument
 *
 * Gets the media type of the document.
 *
 * Returns: (nullable): a media type such as `text/plain`, or %NULL if unset
 */
const char *
stache_document_get_media_type (StacheDocument *self)
{
  g_return_val_if_fail (STACHE_IS_DOCUMENT (self), NULL);

  return self->media_type;
}

/**
 * stache_document_set_media_type:
 * @self: a #StacheDocument
 * @media_type: (nullable): a media type such as `text/plain`
 *
 * Sets the media type of the document.
 */
void
stache_document_set_media_type (StacheDocument *self,
                                const char     *media_type)
{
  g_return_if_fail (STACHE_IS_DOCUMENT (self));

  if (_stache_replace_string (&self->media_type, media_type))
    g_object_notify_by_pspec (G_OBJECT (self), properties[PROP_MEDIA_TYPE]);
}

/**
 * stache_document_get_content_hash:
 * @self: a #StacheDocument
 *
 * Gets the hash of the content of the document as ingested.
 *
 * Returns: (nullable): the hash, or %NULL if unset
 */
const char *
stache_document_get_content_hash (StacheDocument *self)
{
  g_return_val_if_fail (STACHE_IS_DOCUMENT (self), NULL);

  return self->content_hash;
}

/**
 * stache_document_set_content_hash:
 * @self: a #StacheDocument
 * @content_hash: (nullable): the hash of the content
 *
 * Sets the hash of the content of the document as ingested.
 */
void
stache_document_set_content_hash (StacheDocument *self,
                                  const char     *content_hash)
{
  g_return_if_fail (STACHE_IS_DOCUMENT (self));

  if (_stache_replace_string (&self->content_hash, content_hash))
    g_object_notify_by_pspec (G_OBJECT (self), properties[PROP_CONTENT_HASH]);
}

/**
 * stache_document_get_summary:
 * @self: a #StacheDocument
 *
 * Gets the short summary of the document.
 *
 * Returns: (nullable): the summary, or %NULL if unset
 */
const char *
stache_document_get_summary (StacheDocument *self)
{
  g_return_val_if_fail (STACHE_IS_DOCUMENT (self), NULL);

  return self->summary;
}

/**
 * stache_document_set_summary:
 * @self: a #StacheDocument
 * @summary: (nullable): the new summary
 *
 * Sets the short summary of the document.
 */
void
stache_document_set_summary (StacheDocument *self,
                             const char     *summary)
{
  g_return_if_fail (STACHE_IS_DOCUMENT (self));

  if (_stache_replace_string (&self->summary, summary))
    g_object_notify_by_pspec (G_OBJECT (self), properties[PROP_SUMMARY]);
}

/**
 * stache_document_get_size:
 * @self: a #StacheDocument
 *
 * Gets the size of the document.
 *
 * Returns: the size in bytes
 */
guint64
stache_document_get_size (StacheDocument *self)
{
  g_return_val_if_fail (STACHE_IS_DOCUMENT (self), 0);

  return self->size;
}

/**
 * stache_document_set_size:
 * @self: a #StacheDocument
 * @size: the size in bytes
 *
 * Sets the size of the document.
 */
void
stache_document_set_size (StacheDocument *self,
                          guint64         size)
{
  g_return_if_fail (STACHE_IS_DOCUMENT (self));

  if (self->size == size)
    return;

  self->size = size;
  g_object_notify_by_pspec (G_OBJECT (self), properties[PROP_SIZE]);
}

/**
 * stache_document_get_chunk_count:
 * @self: a #StacheDocument
 *
 * Gets the number of chunks the document was split into.
 *
 * Returns: the number of chunks
 */
guint
stache_document_get_chunk_count (StacheDocument *self)
{
  g_return_val_if_fail (STACHE_IS_DOCUMENT (self), 0);

  return self->chunk_count;
}

/**
 * stache_document_set_chunk_count:
 * @self: a #StacheDocument
 * @chunk_count: the number of chunks
 *
 * Sets the number of chunks the document was split into.
 */
void
stache_document_set_chunk_count (StacheDocument *self,
                                 guint           chunk_count)
{
  g_return_if_fail (STACHE_IS_DOCUMENT (self));

  if (self->chunk_count == chunk_count)
    return;

  self->chunk_count = chunk_count;
  g_object_notify_by_pspec (G_OBJECT (self), properties[PROP_CHUNK_COUNT]);
}

/**
 * stache_document_get_created:
 * @self: a #StacheDocument
 *
 * Gets when the document was first ingested.
 *
 * Returns: seconds since the Unix epoch (UTC), or 0 if unknown
 */
gint64
stache_document_get_created (StacheDocument *self)
{
  g_return_val_if_fail (STACHE_IS_DOCUMENT (self), 0);

  return self->created;
}

/**
 * stache_document_set_created:
 * @self: a #StacheDocument
 * @created: seconds since the Unix epoch (UTC), or 0 if unknown
 *
 * Sets when the document was first ingested.
 */
void
stache_document_set_created (StacheDocument *self,
                             gint64          created)
{
  g_return_if_fail (STACHE_IS_DOCUMENT (self));

  if (self->created == created)
    return;

  self->created = created;
  g_object_notify_by_pspec (G_OBJECT (self), properties[PROP_CREATED]);
}

/**
 * stache_document_get_updated:
 * @self: a #StacheDocument
 *
 * Gets when the document was last ingested.
 *
 * Returns: seconds since the Unix epoch (UTC), or 0 if unknown
 */
gint64
stache_document_get_updated (StacheDocument *self)
{
  g_return_val_if_fail (STACHE_IS_DOCUMENT (self), 0);

  return self->updated;
}

/**
 * stache_document_set_updated:
 * @self: a #StacheDocument
 * @updated: seconds since the Unix epoch (UTC), or 0 if unknown
 *
 * Sets when the document was last ingested.
 */
void
stache_document_set_updated (StacheDocument *self,
                             gint64          updated)
{
  g_return_if_fail (STACHE_IS_DOCUMENT (self));

  if (self->updated == updated)
    return;

  self->updated = updated;
  g_object_notify_by_pspec (G_OBJECT (self), properties[PROP_UPDATED]);
}

/**
 * stache_document_get_metadata:
 * @self: a #StacheDocument
 *
 * Gets the extra fields recorded with the document.
 *
 * Returns: (transfer none) (nullable): the metadata, or %NULL if there is none
 */
JsonObject *
stache_document_get_metadata (StacheDocument *self)
{
  g_return_val_if_fail (STACHE_IS_DOCUMENT (self), NULL);

  return self->metadata;
}

/**
 * stache_document_set_metadata:
 * @self: a #StacheDocument
 * @metadata: (nullable): the metadata, or %NULL for none
 *
 * Sets the extra fields recorded with the document. The document keeps a
 * reference to @metadata, so later changes to the object are seen through
 * the document.
 */
void
stache_document_set_metadata (StacheDocument *self,
                              JsonObject     *metadata)
{
  g_return_if_fail (STACHE_IS_DOCUMENT (self));

  if (self->metadata == metadata)
    return;

  if (metadata != NULL)
    json_object_ref (metadata);
  g_clear_pointer (&self->metadata, json_object_unref);
  self->metadata = metadata;

  g_object_notify_by_pspec (G_OBJECT (self), properties[PROP_METADATA]);
}

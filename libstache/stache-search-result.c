/* stache-search-result.c: one hit returned by a search
 *
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */
#include "config.h"

#include "stache-private.h"

#include <math.h>
#include <string.h>

#include "stache-search-result.h"

/**
 * StacheSearchResult:
 *
 * One hit returned by a search: a stored chunk together with how well it
 * matches the query.
 *
 * Vector databases, rerankers and document indexes all hand back search
 * results, so the rest of Stache can rank, filter and cite hits without
 * knowing which backend produced them. #StacheSearchResult:score only has a
 * meaning relative to other results of the same search: higher is better.
 *
 * Every field is a read-write property, so plugins written in Python or Lua
 * can build a result with `GObject.new()` and property names.
 */

struct _StacheSearchResult
{
  GObject     parent_instance;

  char       *id;
  char       *document_id;
  char       *namespace_;
  char       *text;
  double      score;
  JsonObject *metadata;
};

G_DEFINE_FINAL_TYPE (StacheSearchResult, stache_search_result, G_TYPE_OBJECT)

enum {
  PROP_0,
  PROP_ID,
  PROP_DOCUMENT_ID,
  PROP_NAMESPACE,
  PROP_TEXT,
  PROP_SCORE,
  PROP_METADATA,
  N_PROPS
};

static GParamSpec *properties[N_PROPS];

static JsonObject *copy_json_object (JsonObject *object);

/* json_node_copy() shares the object, array or value a node holds, so a
 * copy that must not see later changes to the original is built by hand. */
static JsonNode *
copy_json_node (JsonNode *node)
{
  JsonNode *copy;

  switch (json_node_get_node_type (node))
    {
    case JSON_NODE_OBJECT:
      {
        JsonObject *object = json_node_get_object (node);

        copy = json_node_new (JSON_NODE_OBJECT);
        if (object != NULL)
          json_node_take_object (copy, copy_json_object (object));
      }
      break;

    case JSON_NODE_ARRAY:
      {
        JsonArray *array = json_node_get_array (node);

        copy = json_node_new (JSON_NODE_ARRAY);
        if (array != NULL)
          {
            guint length = json_array_get_length (array);
            JsonArray *array_copy = json_array_sized_new (length);

            for (guint i = 0; i < length; i++)
              json_array_add_element (array_copy,
                                      copy_json_node (json_array_get_element (array, i)));

            json_node_take_array (copy, array_copy);
          }
      }
      break;

    case JSON_NODE_VALUE:
      {
        GType value_type = json_node_get_value_type (node);

        copy = json_node_new (JSON_NODE_VALUE);
        if (value_type == G_TYPE_INT64)
          json_node_set_int (copy, json_node_get_int (node));
        else if (value_type == G_TYPE_DOUBLE)
          json_node_set_double (copy, json_node_get_double (node));
        else if (value_type == G_TYPE_BOOLEAN)
          json_node_set_boolean (copy, json_node_get_boolean (node));
        else if (value_type == G_TYPE_STRING)
          json_node_set_string (copy, json_node_get_string (node));
        else
          g_warn_if_reached ();
      }
      break;

    case JSON_NODE_NULL:
    default:
      copy = json_node_new (JSON_NODE_NULL);
      break;
    }

  return copy;
}

static JsonObject *
copy_json_object (JsonObject *object)
{
  JsonObject *copy = json_object_new ();
  JsonObjectIter iter;
  const char *member_name;
  JsonNode *member_node;

  json_object_iter_init_ordered (&iter, object);
  while (json_object_iter_next_ordered (&iter, &member_name, &member_node))
    json_object_set_member (copy, member_name, copy_json_node (member_node));

  return copy;
}

static void
stache_search_result_finalize (GObject *object)
{
  StacheSearchResult *self = STACHE_SEARCH_RESULT (object);

  g_clear_pointer (&self->id, g_free);
  g_clear_pointer (&self->document_id, g_free);
  g_clear_pointer (&self->namespace_, g_free);
  g_clear_pointer (&self->text, g_free);
  g_clear_pointer (&self->metadata, json_object_unref);

  G_OBJECT_CLASS (stache_search_result_parent_class)->finalize (object);
}

static void
stache_search_result_get_property (GObject    *object,
                                   guint       prop_id,
                                   GValue     *value,
                                   GParamSpec *pspec)
{
  StacheSearchResult *self = STACHE_SEARCH_RESULT (object);

  switch (prop_id)
    {
    case PROP_ID:
      g_value_set_string (value, self->id);
      break;

    case PROP_DOCUMENT_ID:
      g_value_set_string (value, self->document_id);
      break;

    case PROP_NAMESPACE:
      g_value_set_string (value, self->namespace_);
      break;

    case PROP_TEXT:
      g_value_set_string (value, self->text);
      break;

    case PROP_SCORE:
      g_value_set_double (value, self->score);
      break;

    case PROP_METADATA:
      g_value_set_boxed (value, self->metadata);
      break;

    default:
      G_OBJECT_WARN_INVALID_PROPERTY_ID (object, prop_id, pspec);
    }
}

static void
stache_search_result_set_property (GObject      *object,
                                   guint         prop_id,
                                   const GValue *value,
                                   GParamSpec   *pspec)
{
  StacheSearchResult *self = STACHE_SEARCH_RESULT (object);

  switch (prop_id)
    {
    case PROP_ID:
      stache_search_result_set_id (self, g_value_get_string (value));
      break;

    case PROP_DOCUMENT_ID:
      stache_search_result_set_document_id (self, g_value_get_string (value));
      break;

    case PROP_NAMESPACE:
      stache_search_result_set_namespace (self, g_value_get_string (value));
      break;

    case PROP_TEXT:
      stache_search_result_set_text (self, g_value_get_string (value));
      break;

    case PROP_SCORE:
      stache_search_result_set_score (self, g_value_get_double (value));
      break;

    case PROP_METADATA:
      stache_search_result_set_metadata (self, g_value_get_boxed (value));
      break;

    default:
      G_OBJECT_WARN_INVALID_PROPERTY_ID (object, prop_id, pspec);
    }
}

static void
stache_search_result_class_init (StacheSearchResultClass *klass)
{
  GObjectClass *object_class = G_OBJECT_CLASS (klass);

  object_class->finalize = stache_search_result_finalize;
  object_class->get_property = stache_search_result_get_property;
  object_class->set_property = stache_search_result_set_property;

  /**
   * StacheSearchResult:id:
   *
   * The identifier of the chunk that matched.
   */
  properties[PROP_ID] =
    g_param_spec_string ("id", NULL, NULL,
                         NULL,
                         (G_PARAM_READWRITE |
                          G_PARAM_EXPLICIT_NOTIFY |
                          G_PARAM_STATIC_STRINGS));

  /**
   * StacheSearchResult:document-id:
   *
   * The identifier of the document the matching chunk belongs to.
   */
  properties[PROP_DOCUMENT_ID] =
    g_param_spec_string ("document-id", NULL, NULL,
                         NULL,
                         (G_PARAM_READWRITE |
                          G_PARAM_EXPLICIT_NOTIFY |
                          G_PARAM_STATIC_STRINGS));

  /**
   * StacheSearchResult:namespace:
   *
   * The name of the namespace the matching chunk is stored in.
   */
  properties[PROP_NAMESPACE] =
    g_param_spec_string ("namespace", NULL, NULL,
                         NULL,
                         (G_PARAM_READWRITE |
                          G_PARAM_EXPLICIT_NOTIFY |
                          G_PARAM_STATIC_STRINGS));

  /**
   * StacheSearchResult:text:
   *
   * The text of the chunk that matched.
   */
  properties[PROP_TEXT] =
    g_param_spec_string ("text", NULL, NULL,
                         NULL,
                         (G_PARAM_READWRITE |
                          G_PARAM_EXPLICIT_NOTIFY |
                          G_PARAM_STATIC_STRINGS));

  /**
   * StacheSearchResult:score:
   *
   * How well the chunk matches the query; higher is better. The range
   * depends on the backend, so scores compare only within one search.
   */
  properties[PROP_SCORE] =
    g_param_spec_double ("score", NULL, NULL,
                         -INFINITY, INFINITY, 0.0,
                         (G_PARAM_READWRITE |
                          G_PARAM_EXPLICIT_NOTIFY |
                          G_PARAM_STATIC_STRINGS));

  /**
   * StacheSearchResult:metadata:
   *
   * Extra fields stored with the chunk, or %NULL for none.
   *
   * The result keeps a reference to the object rather than a copy.
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
stache_search_result_init (StacheSearchResult *self)
{
}

/**
 * stache_search_result_new:
 * @id: (nullable): the identifier of the chunk that matched
 * @text: (nullable): the text of the chunk
 * @score: how well the chunk matches; higher is better
 *
 * Creates a search result. The other fields can be set afterwards.
 *
 * Returns: (transfer full): a new #StacheSearchResult
 */
StacheSearchResult *
stache_search_result_new (const char *id,
                          const char *text,
                          double      score)
{
  return g_object_new (STACHE_TYPE_SEARCH_RESULT,
                       "id", id,
                       "text", text,
                       "score", score,
                       NULL);
}

/**
 * stache_search_result_copy:
 * @self: a #StacheSearchResult
 *
 * Makes a copy of @self with every field copied.
 *
 * The metadata is copied too, deeply, so changing the metadata of the copy
 * (or of any object or array inside it) leaves @self untouched, and the
 * other way round.
 *
 * Returns: (transfer full): a new #StacheSearchResult
 */
StacheSearchResult *
stache_search_result_copy (StacheSearchResult *self)
{
  StacheSearchResult *copy;

  g_return_val_if_fail (STACHE_IS_SEARCH_RESULT (self), NULL);

  copy = stache_search_result_new (self->id, self->text, self->score);
  copy->document_id = g_strdup (self->document_id);
  copy->namespace_ = g_strdup (self->namespace_);
  if (self->metadata != NULL)
    copy->metadata = copy_json_object (self->metadata);

  return copy;
}

/**
 * stache_search_result_get_id:
 * @self: a #StacheSearchResult
 *
 * Gets the identifier of the chunk that matched.
 *
 * Returns: (nullable): the chunk identifier, or %NULL if unset
 */
const char *
stache_search_result_get_id (StacheSearchResult *self)
{
  g_return_val_if_fail (STACHE_IS_SEARCH_RESULT (self), NULL);

  return self->id;
}

/**
 * stache_search_result_set_id:
 * @self: a #StacheSearchResult
 * @id: (nullable): the identifier of the chunk
 *
 * Sets the identifier of the chunk that matched.
 */
void
stache_search_result_set_id (StacheSearchResult *self,
                             const char         *id)
{
  g_return_if_fail (STACHE_IS_SEARCH_RESULT (self));

  if (_stache_replace_string (&self->id, id))
    g_object_notify_by_pspec (G_OBJECT (self), properties[PROP_ID]);
}

/**
 * stache_search_result_get_document_id:
 * @self: a #StacheSearchResult
 *
 * Gets the identifier of the document the matching chunk belongs to.
 *
 * Returns: (nullable): the document identifier, or %NULL if unset
 */
const char *
stache_search_result_get_document_id (StacheSearchResult *self)
{
  g_return_val_if_fail (STACHE_IS_SEARCH_RESULT (self), NULL);

  return self->document_id;
}

/**
 * stache_search_result_set_document_id:
 * @self: a #StacheSearchResult
 * @document_id: (nullable): the identifier of the document
 *
 * Sets the identifier of the document the matching chunk belongs to.
 */
void
stache_search_result_set_document_id (StacheSearchResult *self,
                                      const char         *document_id)
{
  g_return_if_fail (STACHE_IS_SEARCH_RESULT (self));

  if (_stache_replace_string (&self->document_id, document_id))
    g_object_notify_by_pspec (G_OBJECT (self), properties[PROP_DOCUMENT_ID]);
}

/**
 * stache_search_result_get_namespace:
 * @self: a #StacheSearchResult
 *
 * Gets the name of the namespace the matching chunk is stored in.
 *
 * Returns: (nullable): the namespace name, or %NULL if unset
 */
const char *
stache_search_result_get_namespace (StacheSearchResult *self)
{
  g_return_val_if_fail (STACHE_IS_SEARCH_RESULT (self), NULL);

  return self->namespace_;
}

/**
 * stache_search_result_set_namespace:
 * @self: a #StacheSearchResult
 * @namespace_: (nullable): the name of the namespace
 *
 * Sets the name of the namespace the matching chunk is stored in.
 */
void
stache_search_result_set_namespace (StacheSearchResult *self,
                                    const char         *namespace_)
{
  g_return_if_fail (STACHE_IS_SEARCH_RESULT (self));

  if (_stache_replace_string (&self->namespace_, namespace_))
    g_object_notify_by_pspec (G_OBJECT (self), properties[PROP_NAMESPACE]);
}

/**
 * stache_search_result_get_text:
 * @self: a #StacheSearchResult
 *
 * Gets the text of the chunk that matched.
 *
 * Returns: (nullable): the text, or %NULL if unset
 */
const char *
stache_search_result_get_text (StacheSearchResult *self)
{
  g_return_val_if_fail (STACHE_IS_SEARCH_RESULT (self), NULL);

  return self->text;
}

/**
 * stache_search_result_set_text:
 * @self: a #StacheSearchResult
 * @text: (nullable): the text of the chunk
 *
 * Sets the text of the chunk that matched.
 */
void
stache_search_result_set_text (StacheSearchResult *self,
                               const char         *text)
{
  g_return_if_fail (STACHE_IS_SEARCH_RESULT (self));

  if (_stache_replace_string (&self->text, text))
    g_object_notify_by_pspec (G_OBJECT (self), properties[PROP_TEXT]);
}

/**
 * stache_search_result_get_score:
 * @self: a #StacheSearchResult
 *
 * Gets how well the chunk matches the query.
 *
 * Returns: the score; higher is better
 */
double
stache_search_result_get_score (StacheSearchResult *self)
{
  g_return_val_if_fail (STACHE_IS_SEARCH_RESULT (self), 0.0);

  return self->score;
}

/**
 * stache_search_result_set_score:
 * @self: a #StacheSearchResult
 * @score: the score; higher is better
 *
 * Sets how well the chunk matches the query. Any value is accepted.
 */
void
stache_search_result_set_score (StacheSearchResult *self,
                                double              score)
{
  g_return_if_fail (STACHE_IS_SEARCH_RESULT (self));

  /* Compare the bits rather than the values, so -0.0 replaces 0.0 and
   * setting NaN again is not a change. */
  if (memcmp (&self->score, &score, sizeof score) == 0)
    return;

  self->score = score;
  g_object_notify_by_pspec (G_OBJECT (self), properties[PROP_SCORE]);
}

/**
 * stache_search_result_get_metadata:
 * @self: a #StacheSearchResult
 *
 * Gets the extra fields stored with the chunk.
 *
 * Returns: (transfer none) (nullable): the metadata, or %NULL if there is none
 */
JsonObject *
stache_search_result_get_metadata (StacheSearchResult *self)
{
  g_return_val_if_fail (STACHE_IS_SEARCH_RESULT (self), NULL);

  return self->metadata;
}

/**
 * stache_search_result_set_metadata:
 * @self: a #StacheSearchResult
 * @metadata: (nullable): the metadata, or %NULL for none
 *
 * Sets the extra fields stored with the chunk. The result keeps a reference
 * to @metadata, so later changes to the object are seen through the result.
 */
void
stache_search_result_set_metadata (StacheSearchResult *self,
                                   JsonObject         *metadata)
{
  g_return_if_fail (STACHE_IS_SEARCH_RESULT (self));

  if (self->metadata == metadata)
    return;

  if (metadata != NULL)
    json_object_ref (metadata);
  g_clear_pointer (&self->metadata, json_object_unref);
  self->metadata = metadata;

  g_object_notify_by_pspec (G_OBJECT (self), properties[PROP_METADATA]);
}

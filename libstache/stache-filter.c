/* stache-filter.c: the metadata filter syntax shared by vector databases
 *
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */
#include "config.h"

#include "stache-error.h"
#include "stache-filter.h"
#include "stache-private.h"

/* Filters come from outside (REST bodies, MCP calls, the command line), so
 * their size is bounded before anyone walks them. */
#define MAX_DEPTH 16
#define MAX_IN_ITEMS 1024

static gboolean
is_scalar (JsonNode *node)
{
  return JSON_NODE_HOLDS_VALUE (node) || JSON_NODE_HOLDS_NULL (node);
}

static gboolean
validate_object (JsonObject  *filter,
                 guint        depth,
                 GError     **error);

static gboolean
validate_list (const char  *op,
               JsonNode    *node,
               guint        depth,
               GError     **error)
{
  JsonArray *array;

  if (!JSON_NODE_HOLDS_ARRAY (node) || json_array_get_length (json_node_get_array (node)) == 0)
    {
      g_set_error (error, STACHE_ERROR, STACHE_ERROR_INVALID_ARGUMENT,
                   _("Filter operator “%s” needs a non-empty array of filters"), op);
      return FALSE;
    }

  array = json_node_get_array (node);
  for (guint i = 0; i < json_array_get_length (array); i++)
    {
      JsonNode *item = json_array_get_element (array, i);

      if (!JSON_NODE_HOLDS_OBJECT (item))
        {
          g_set_error (error, STACHE_ERROR, STACHE_ERROR_INVALID_ARGUMENT,
                       _("Filter operator “%s”: item %u is not an object"), op, i);
          return FALSE;
        }
      if (!validate_object (json_node_get_object (item), depth + 1, error))
        return FALSE;
    }

  return TRUE;
}

static gboolean
validate_condition (const char  *field,
                    JsonNode    *node,
                    GError     **error)
{
  JsonObject *condition;
  JsonNode *values;
  JsonArray *array;

  if (is_scalar (node))
    return TRUE;

  if (!JSON_NODE_HOLDS_OBJECT (node))
    {
      g_set_error (error, STACHE_ERROR, STACHE_ERROR_INVALID_ARGUMENT,
                   _("Filter field “%s” must be compared with a value or {\"$in\": [...]}"), field);
      return FALSE;
    }

  condition = json_node_get_object (node);
  values = json_object_get_member (condition, "$in");
  if (json_object_get_size (condition) != 1 || values == NULL)
    {
      g_set_error (error, STACHE_ERROR, STACHE_ERROR_INVALID_ARGUMENT,
                   _("Filter field “%s”: the only operator on a field is $in"), field);
      return FALSE;
    }

  if (!JSON_NODE_HOLDS_ARRAY (values))
    {
      g_set_error (error, STACHE_ERROR, STACHE_ERROR_INVALID_ARGUMENT,
                   _("Filter field “%s”: $in needs an array"), field);
      return FALSE;
    }

  array = json_node_get_array (values);
  if (json_array_get_length (array) > MAX_IN_ITEMS)
    {
      g_set_error (error, STACHE_ERROR, STACHE_ERROR_INVALID_ARGUMENT,
                   _("Filter field “%s”: $in holds more than %d values"), field, MAX_IN_ITEMS);
      return FALSE;
    }

  for (guint i = 0; i < json_array_get_length (array); i++)
    {
      if (!is_scalar (json_array_get_element (array, i)))
        {
          g_set_error (error, STACHE_ERROR, STACHE_ERROR_INVALID_ARGUMENT,
                       _("Filter field “%s”: $in values must be strings, numbers, booleans or null"),
                       field);
          return FALSE;
        }
    }

  return TRUE;
}

static gboolean
validate_object (JsonObject  *filter,
                 guint        depth,
                 GError     **error)
{
  g_autoptr(GList) members = NULL;

  if (depth > MAX_DEPTH)
    {
      g_set_error (error, STACHE_ERROR, STACHE_ERROR_INVALID_ARGUMENT,
                   _("Filter is nested more than %d levels deep"), MAX_DEPTH);
      return FALSE;
    }

  members = json_object_get_members (filter);
  for (GList *l = members; l != NULL; l = l->next)
    {
      const char *name = l->data;
      JsonNode *node = json_object_get_member (filter, name);

      if (g_str_equal (name, "$and") || g_str_equal (name, "$or"))
        {
          if (!validate_list (name, node, depth, error))
            return FALSE;
        }
      else if (name[0] == '$')
        {
          g_set_error (error, STACHE_ERROR, STACHE_ERROR_INVALID_ARGUMENT,
                       _("Unknown filter operator “%s”; use $and, $or or $in"), name);
          return FALSE;
        }
      else if (name[0] == '\0')
        {
          g_set_error (error, STACHE_ERROR, STACHE_ERROR_INVALID_ARGUMENT,
                       _("Filter has an empty field name"));
          return FALSE;
        }
      else if (!validate_condition (name, node, error))
        {
          return FALSE;
        }
    }

  return TRUE;
}

/**
 * stache_filter_validate:
 * @filter: a filter
 * @error: return location for a #GError
 *
 * Checks that @filter follows the filter syntax:
 *
 * - `{"field": value}` matches chunks whose metadata `field` equals `value`
 *   (a string, number, boolean or null); the field `document_id` matches
 *   the chunk's document,
 * - `{"field": {"$in": [v1, v2]}}` matches any of the values,
 * - `{"$and": [f1, f2]}` and `{"$or": [f1, f2]}` combine filters,
 * - several members in one object must all match.
 *
 * Filters nest at most 16 levels and `$in` lists hold at most 1024 values.
 *
 * Returns: %TRUE if @filter is valid; otherwise %STACHE_ERROR_INVALID_ARGUMENT
 *   names the part that is wrong
 */
gboolean
stache_filter_validate (JsonObject  *filter,
                        GError     **error)
{
  g_return_val_if_fail (filter != NULL, FALSE);

  return validate_object (filter, 0, error);
}

static gboolean
scalars_equal (JsonNode *a,
               JsonNode *b)
{
  GType ta, tb;

  if (JSON_NODE_HOLDS_NULL (a) || JSON_NODE_HOLDS_NULL (b))
    return JSON_NODE_HOLDS_NULL (a) && JSON_NODE_HOLDS_NULL (b);

  ta = json_node_get_value_type (a);
  tb = json_node_get_value_type (b);

  if ((ta == G_TYPE_INT64 || ta == G_TYPE_DOUBLE) && (tb == G_TYPE_INT64 || tb == G_TYPE_DOUBLE))
    return json_node_get_double (a) == json_node_get_double (b);

  if (ta != tb)
    return FALSE;

  if (ta == G_TYPE_STRING)
    return g_strcmp0 (json_node_get_string (a), json_node_get_string (b)) == 0;
  if (ta == G_TYPE_BOOLEAN)
    return json_node_get_boolean (a) == json_node_get_boolean (b);

  return FALSE;
}

static gboolean
field_matches (JsonNode *actual,
               JsonNode *wanted)
{
  JsonArray *values;

  if (actual == NULL || !is_scalar (actual))
    return FALSE;

  if (is_scalar (wanted))
    return scalars_equal (actual, wanted);

  values = json_node_get_array (json_object_get_member (json_node_get_object (wanted), "$in"));
  for (guint i = 0; i < json_array_get_length (values); i++)
    if (scalars_equal (actual, json_array_get_element (values, i)))
      return TRUE;

  return FALSE;
}

static gboolean
object_matches (JsonObject *filter,
                JsonNode   *document_id,
                JsonObject *metadata)
{
  g_autoptr(GList) members = json_object_get_members (filter);

  for (GList *l = members; l != NULL; l = l->next)
    {
      const char *name = l->data;
      JsonNode *node = json_object_get_member (filter, name);

      if (g_str_equal (name, "$and") || g_str_equal (name, "$or"))
        {
          JsonArray *items = json_node_get_array (node);
          gboolean is_and = g_str_equal (name, "$and");
          gboolean any = FALSE;

          for (guint i = 0; i < json_array_get_length (items); i++)
            {
              gboolean m = object_matches (json_array_get_object_element (items, i),
                                           document_id, metadata);
              if (is_and && !m)
                return FALSE;
              any |= m;
            }
          if (!is_and && !any)
            return FALSE;
        }
      else
        {
          JsonNode *actual;

          if (g_str_equal (name, "document_id"))
            actual = document_id;
          else
            actual = metadata != NULL ? json_object_get_member (metadata, name) : NULL;

          if (!field_matches (actual, node))
            return FALSE;
        }
    }

  return TRUE;
}

/**
 * stache_filter_matches:
 * @filter: (nullable): a filter that passed stache_filter_validate()
 * @document_id: (nullable): the chunk's document id
 * @metadata: (nullable): the chunk's metadata
 *
 * Evaluates @filter against one chunk, for stores that filter in memory.
 * A %NULL filter matches everything.
 *
 * Returns: %TRUE if the chunk matches
 */
gboolean
stache_filter_matches (JsonObject *filter,
                       const char *document_id,
                       JsonObject *metadata)
{
  g_autoptr(JsonNode) id_node = NULL;

  if (filter == NULL)
    return TRUE;

  if (document_id != NULL)
    {
      id_node = json_node_new (JSON_NODE_VALUE);
      json_node_set_string (id_node, document_id);
    }

  return object_matches (filter, id_node, metadata);
}

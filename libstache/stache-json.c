/* stache-json.c: checked access to JSON that a service returned
 *
 * SPDX-License-Identifier: LGPL-2.1-or-later
 *
 * json-glib's getters assume the member has the type asked for and warn
 * (or crash) otherwise. A remote service's answer is input: these return
 * NULL or FALSE instead, so a provider can report a malformed answer.
 */
#include "config.h"

#include <math.h>

#include "stache-json.h"

/**
 * stache_json_object_get_object:
 * @object: (nullable): a #JsonObject
 * @member: a member name
 *
 * Gets member @member of @object if it is a JSON object.
 *
 * Returns: (transfer none) (nullable): the object, or %NULL if @object is
 *   %NULL, has no such member, or the member is not an object
 */
JsonObject *
stache_json_object_get_object (JsonObject *object,
                               const char *member)
{
  JsonNode *node;

  g_return_val_if_fail (member != NULL, NULL);

  node = object != NULL ? json_object_get_member (object, member) : NULL;
  if (node == NULL || !JSON_NODE_HOLDS_OBJECT (node))
    return NULL;

  return json_node_get_object (node);
}

/**
 * stache_json_object_get_array:
 * @object: (nullable): a #JsonObject
 * @member: a member name
 *
 * Gets member @member of @object if it is a JSON array.
 *
 * Returns: (transfer none) (nullable): the array, or %NULL if @object is
 *   %NULL, has no such member, or the member is not an array
 */
JsonArray *
stache_json_object_get_array (JsonObject *object,
                              const char *member)
{
  JsonNode *node;

  g_return_val_if_fail (member != NULL, NULL);

  node = object != NULL ? json_object_get_member (object, member) : NULL;
  if (node == NULL || !JSON_NODE_HOLDS_ARRAY (node))
    return NULL;

  return json_node_get_array (node);
}

/**
 * stache_json_object_get_string:
 * @object: (nullable): a #JsonObject
 * @member: a member name
 *
 * Gets member @member of @object if it is a JSON string.
 *
 * Returns: (transfer none) (nullable): the string, or %NULL if @object is
 *   %NULL, has no such member, or the member is not a string
 */
const char *
stache_json_object_get_string (JsonObject *object,
                               const char *member)
{
  JsonNode *node;

  g_return_val_if_fail (member != NULL, NULL);

  node = object != NULL ? json_object_get_member (object, member) : NULL;
  if (!stache_json_node_is_string (node))
    return NULL;

  return json_node_get_string (node);
}

/**
 * stache_json_node_is_string:
 * @node: (nullable): a #JsonNode
 *
 * Checks whether @node is a JSON string.
 *
 * Returns: %TRUE if it is
 */
gboolean
stache_json_node_is_string (JsonNode *node)
{
  return node != NULL && JSON_NODE_HOLDS_VALUE (node) &&
         json_node_get_value_type (node) == G_TYPE_STRING;
}

/**
 * stache_json_node_is_number:
 * @node: (nullable): a #JsonNode
 *
 * Checks whether @node is a JSON number (json-glib reads one as a 64-bit
 * integer or a double).
 *
 * Returns: %TRUE if it is
 */
gboolean
stache_json_node_is_number (JsonNode *node)
{
  GType type;

  if (node == NULL || !JSON_NODE_HOLDS_VALUE (node))
    return FALSE;

  type = json_node_get_value_type (node);

  return type == G_TYPE_INT64 || type == G_TYPE_DOUBLE;
}

/**
 * stache_json_node_is_integer:
 * @node: (nullable): a #JsonNode
 *
 * Checks whether @node is a JSON number without a fractional part that a
 * double holds exactly (at most 2^53 in magnitude when written with a
 * fraction or exponent, such as `3.0` or `1e3`).
 *
 * Returns: %TRUE if it is
 */
gboolean
stache_json_node_is_integer (JsonNode *node)
{
  double value;

  if (!stache_json_node_is_number (node))
    return FALSE;

  if (json_node_get_value_type (node) == G_TYPE_INT64)
    return TRUE;

  value = json_node_get_double (node);

  return isfinite (value) && value == floor (value) && fabs (value) <= 9007199254740992.0;
}

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

#include <string.h>

#include <glib/gi18n-lib.h>

#include "stache-error.h"
#include "stache-json.h"

/* What a quick pass over JSON text finds before json-glib parses it. */
typedef struct
{
  guint  depth;          /* the deepest nesting of arrays and objects */
  gsize  depth_at;       /* byte offset where that depth was passed */
  gboolean has_nul;      /* a string holds \u0000 */
  char  *nul_member;     /* the member whose value (or name) holds it */
} JsonScan;

/* Follows strings and brackets only (json-glib checks everything else),
 * stopping as soon as @max_depth is passed: linear, no recursion, so
 * hostile nesting costs nothing but a pass over the bytes. */
static void
scan_json (const char *data,
           gsize       length,
           guint       max_depth,
           JsonScan   *scan)
{
  guint depth = 0;
  gsize string_start = 0, last_string_start = 0, last_string_end = 0;
  gboolean in_string = FALSE, string_has_nul = FALSE, last_has_nul = FALSE;
  g_autofree char *member = NULL;

  memset (scan, 0, sizeof *scan);

  for (gsize i = 0; i < length; i++)
    {
      char c = data[i];

      if (in_string)
        {
          if (c == '\\')
            {
              if (i + 5 < length && data[i + 1] == 'u' &&
                  memcmp (data + i + 2, "0000", 4) == 0)
                string_has_nul = TRUE;
              i++;
            }
          else if (c == '"')
            {
              in_string = FALSE;
              last_string_start = string_start;
              last_string_end = i;
              last_has_nul = string_has_nul;
              if (string_has_nul && !scan->has_nul)
                {
                  scan->has_nul = TRUE;
                  /* A member name with NUL names itself */
                  scan->nul_member = g_strdup (member);
                }
            }
          continue;
        }

      switch (c)
        {
        case '"':
          in_string = TRUE;
          string_has_nul = FALSE;
          string_start = i + 1;
          break;
        case ':':
          /* The string just closed was a member name */
          g_free (member);
          member = g_strndup (data + last_string_start,
                              MIN (last_string_end - last_string_start, 64));
          if (last_has_nul && scan->nul_member == NULL)
            scan->nul_member = g_strdup (member);
          break;
        case '[':
        case '{':
          depth++;
          if (depth > scan->depth)
            {
              scan->depth = depth;
              scan->depth_at = i;
            }
          if (depth > max_depth)
            return;
          break;
        case ']':
        case '}':
          if (depth > 0)
            depth--;
          break;
        default:
          break;
        }
    }
}

/**
 * stache_json_parse:
 * @data: (array length=length) (element-type guint8): JSON text
 * @length: the length of @data in bytes, or -1 if it is nul-terminated
 * @max_depth: how deeply arrays and objects may nest, at most; 0 for
 *   %STACHE_JSON_MAX_DEPTH
 * @refuse_nul: whether a string holding U+0000 is an error (for what is to
 *   be stored: requests); a service's answer may keep it
 * @what: (nullable): what the text is, for messages ("the request body");
 *   %NULL for "the JSON text"
 * @error: return location for a #GError
 *
 * Parses JSON that came from outside: a request, a line of a protocol, a
 * service's answer, a file. json-glib's parser recurses once per level of
 * nesting, so text nested a hundred thousand levels deep ("[[[[…") would
 * exhaust the stack and crash the process; this refuses it first, after a
 * linear pass that follows only strings and brackets. With @refuse_nul,
 * strings that hold U+0000 (written `\u0000`) are refused too: json-glib
 * ends a string there, so the rest of it would be lost without a word.
 *
 * Too deep nesting gives %JSON_PARSER_ERROR_PARSE, like any other text
 * that is not acceptable JSON (json-glib's own errors); a NUL gives
 * %STACHE_ERROR_INVALID_ARGUMENT naming the member that holds it (the text
 * is JSON, its content is what cannot be taken). The messages say what
 * was wrong and where.
 *
 * Returns: (transfer full): the root node, or %NULL with @error set
 */
JsonNode *
stache_json_parse (const char  *data,
                   gssize       length,
                   guint        max_depth,
                   gboolean     refuse_nul,
                   const char  *what,
                   GError     **error)
{
  g_autoptr(JsonParser) parser = NULL;
  JsonScan scan;
  gsize size;

  g_return_val_if_fail (data != NULL || length == 0, NULL);
  g_return_val_if_fail (error == NULL || *error == NULL, NULL);

  if (what == NULL)
    what = _("the JSON text");
  if (max_depth == 0)
    max_depth = STACHE_JSON_MAX_DEPTH;
  size = length < 0 ? strlen (data) : (gsize) length;

  scan_json (data, size, max_depth, &scan);
  if (scan.depth > max_depth)
    {
      g_free (scan.nul_member);
      g_set_error (error, JSON_PARSER_ERROR, JSON_PARSER_ERROR_PARSE,
                   /* Translators: the first %s says what was parsed ("the request body") */
                   _("%s nests arrays and objects more than %u levels deep (at byte %" G_GSIZE_FORMAT ")"),
                   what, max_depth, scan.depth_at);
      return NULL;
    }
  if (scan.has_nul && refuse_nul)
    {
      if (scan.nul_member != NULL)
        g_set_error (error, STACHE_ERROR, STACHE_ERROR_INVALID_ARGUMENT,
                     _("“%s” in %s contains the character U+0000 (NUL), which text cannot hold"),
                     scan.nul_member, what);
      else
        g_set_error (error, STACHE_ERROR, STACHE_ERROR_INVALID_ARGUMENT,
                     _("A string in %s contains the character U+0000 (NUL), which text cannot hold"),
                     what);
      g_free (scan.nul_member);
      return NULL;
    }
  g_free (scan.nul_member);

  parser = json_parser_new ();
  if (!json_parser_load_from_data (parser, data, (gssize) size, error))
    return NULL;
  if (json_parser_get_root (parser) == NULL)
    {
      g_set_error (error, JSON_PARSER_ERROR, JSON_PARSER_ERROR_PARSE, _("%s is empty"), what);
      return NULL;
    }

  return json_node_ref (json_parser_get_root (parser));
}

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

/* ollama-common.c: settings, HTTP client and response checks shared by the
 * `ollama` providers
 *
 * SPDX-License-Identifier: LGPL-2.1-or-later
 *
 * Both providers talk to one server (setting `ollama_url`, default
 * http://localhost:11434) and may ask it to keep the model loaded for a
 * while after the request (setting `ollama_keep_alive`, such as "5m" or
 * "-1", sent as "keep_alive"; unset leaves the server's default). Ollama
 * needs no key. Each provider instance has its own StacheHttpClient, which
 * does the retries and the timeouts, and reads Ollama's {"error": "…"}
 * bodies into its error messages.
 */
#include <math.h>
#include <string.h>

#include <glib/gi18n-lib.h>

#include "ollama-common.h"

/* ---- settings ---- */

/**
 * ollama_client_new:
 * @settings: the provider's settings
 * @path: the endpoint under the server URL, such as "/api/embed"
 * @out_url: (out): the full URL of the endpoint
 * @out_keep_alive: (out) (nullable): `ollama_keep_alive`, or %NULL if unset
 * @error: return location for a #GError
 *
 * Reads `ollama_url` and `ollama_keep_alive` and creates the HTTP client
 * of one provider instance.
 *
 * Returns: (transfer full): the client, or %NULL with @error set
 */
StacheHttpClient *
ollama_client_new (StacheSettings  *settings,
                   const char      *path,
                   char           **out_url,
                   char           **out_keep_alive,
                   GError         **error)
{
  g_autofree char *base = NULL;
  g_autoptr(StacheHttpClient) client = NULL;

  base = stache_settings_get_http_url (settings, OLLAMA_SETTING_URL, OLLAMA_DEFAULT_URL, error);
  if (base == NULL)
    return NULL;

  client = stache_http_client_new (settings, OLLAMA_PROVIDER_NAME, error);
  if (client == NULL)
    return NULL;

  *out_url = g_strconcat (base, path, NULL);
  *out_keep_alive = stache_settings_get_nonempty (settings, OLLAMA_SETTING_KEEP_ALIVE, NULL);

  return g_steal_pointer (&client);
}

/* ---- responses ---- */

/* Sets @error to a malformed-response error: what the server returned is
 * not the JSON Ollama's API documents for @url. */
void
ollama_set_malformed (GError     **error,
                      const char  *url,
                      const char  *format,
                      ...)
{
  g_autoptr(GUri) uri = g_uri_parse (url, G_URI_FLAGS_NONE, NULL);
  g_autofree char *shown = NULL;
  g_autofree char *detail = NULL;
  va_list args;

  va_start (args, format);
  detail = g_strdup_vprintf (format, args);
  va_end (args);

  /* A user name and password in the URL are not shown */
  shown = uri != NULL ? g_uri_to_string_partial (uri, G_URI_HIDE_USERINFO) : g_strdup (url);

  g_set_error (error, STACHE_HTTP_ERROR, STACHE_HTTP_ERROR_MALFORMED_RESPONSE,
               /* Translators: the first %s is a URL, the second what is wrong */
               _("ollama: the response from %s is not what the Ollama API describes: %s"),
               shown, detail);
}

/* The member @member of @object if it is an object, else NULL */
JsonObject *
ollama_json_get_object (JsonObject *object,
                        const char *member)
{
  JsonNode *node = object != NULL ? json_object_get_member (object, member) : NULL;

  if (node == NULL || !JSON_NODE_HOLDS_OBJECT (node))
    return NULL;

  return json_node_get_object (node);
}

/* The member @member of @object if it is an array, else NULL */
JsonArray *
ollama_json_get_array (JsonObject *object,
                       const char *member)
{
  JsonNode *node = object != NULL ? json_object_get_member (object, member) : NULL;

  if (node == NULL || !JSON_NODE_HOLDS_ARRAY (node))
    return NULL;

  return json_node_get_array (node);
}

/* Whether @node is a JSON number */
gboolean
ollama_json_node_is_number (JsonNode *node)
{
  GType type;

  if (node == NULL || !JSON_NODE_HOLDS_VALUE (node))
    return FALSE;

  type = json_node_get_value_type (node);

  return type == G_TYPE_INT64 || type == G_TYPE_DOUBLE;
}

/* Whether @node is a JSON number without a fractional part */
gboolean
ollama_json_node_is_integer (JsonNode *node)
{
  double value;

  if (!ollama_json_node_is_number (node))
    return FALSE;

  if (json_node_get_value_type (node) == G_TYPE_INT64)
    return TRUE;

  value = json_node_get_double (node);

  /* Beyond 2^53 a double no longer holds every integer */
  return isfinite (value) && value == floor (value) && fabs (value) <= 9007199254740992.0;
}

/* openai-common.c: settings, HTTP client and response checks shared by the
 * `openai` providers
 *
 * SPDX-License-Identifier: LGPL-2.1-or-later
 *
 * Both providers talk to one base URL (setting `openai_base_url`, default
 * https://api.openai.com/v1, which llama.cpp's server, vLLM, LM Studio and
 * LocalAI replace with their own `…/v1`) with an optional key (setting
 * `openai_api_key`, sent as `Authorization: Bearer <key>`; local servers
 * need none). Each provider instance has its own StacheHttpClient, which
 * does the retries, the timeouts and the redaction of the key.
 */
#include <math.h>
#include <string.h>

#include <glib/gi18n-lib.h>

#include "openai-common.h"

/* ---- settings ---- */

/**
 * openai_client_new:
 * @settings: the provider's settings
 * @path: the endpoint under the base URL, such as "/embeddings"
 * @out_url: (out): the full URL of the endpoint
 * @error: return location for a #GError
 *
 * Reads `openai_base_url` and `openai_api_key` and creates the HTTP client
 * of one provider instance, with the key as a bearer token that the client
 * redacts from every error message.
 *
 * Returns: (transfer full): the client, or %NULL with @error set
 */
StacheHttpClient *
openai_client_new (StacheSettings  *settings,
                   const char      *path,
                   char           **out_url,
                   GError         **error)
{
  g_autofree char *base = NULL;
  g_autofree char *key = NULL;
  g_autoptr(StacheHttpClient) client = NULL;

  base = stache_settings_get_http_url (settings, OPENAI_SETTING_BASE_URL, OPENAI_DEFAULT_BASE_URL, error);
  if (base == NULL)
    return NULL;

  key = stache_settings_get_nonempty (settings, OPENAI_SETTING_API_KEY, NULL);
  if (key != NULL && strpbrk (key, "\r\n") != NULL)
    {
      g_autofree char *where = stache_settings_describe_source (settings, OPENAI_SETTING_API_KEY);

      /* The value is a secret: never quoted */
      g_set_error (error, STACHE_ERROR, STACHE_ERROR_INVALID_SETTING,
                   _("Setting “%s” (from %s) contains a line break, which an API key "
                     "cannot contain"),
                   OPENAI_SETTING_API_KEY, where);
      return NULL;
    }

  client = stache_http_client_new (settings, OPENAI_PROVIDER_NAME, error);
  if (client == NULL)
    return NULL;

  if (key != NULL)
    {
      g_autofree char *authorization = g_strconcat ("Bearer ", key, NULL);

      /* set_header registers the header value as a secret; the key alone
       * is registered too, for a server that quotes only the key back. */
      stache_http_client_add_secret (client, key);
      stache_http_client_set_header (client, "Authorization", authorization);
    }

  *out_url = g_strconcat (base, path, NULL);

  return g_steal_pointer (&client);
}

/* ---- responses ---- */

/* Sets @error to a malformed-response error: what the service returned
 * is not the JSON the OpenAI API documents for @url. */
void
openai_set_malformed (GError     **error,
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

  /* A user name and password in the base URL are not shown */
  shown = uri != NULL ? g_uri_to_string_partial (uri, G_URI_HIDE_USERINFO) : g_strdup (url);

  g_set_error (error, STACHE_HTTP_ERROR, STACHE_HTTP_ERROR_MALFORMED_RESPONSE,
               /* Translators: the first %s is a URL, the second what is wrong */
               _("openai: the response from %s is not what the OpenAI API describes: %s"),
               shown, detail);
}

/* The member @member of @object if it is an object, else NULL */
JsonObject *
openai_json_get_object (JsonObject *object,
                        const char *member)
{
  JsonNode *node = object != NULL ? json_object_get_member (object, member) : NULL;

  if (node == NULL || !JSON_NODE_HOLDS_OBJECT (node))
    return NULL;

  return json_node_get_object (node);
}

/* The member @member of @object if it is an array, else NULL */
JsonArray *
openai_json_get_array (JsonObject *object,
                       const char *member)
{
  JsonNode *node = object != NULL ? json_object_get_member (object, member) : NULL;

  if (node == NULL || !JSON_NODE_HOLDS_ARRAY (node))
    return NULL;

  return json_node_get_array (node);
}

/* Whether @node is a JSON number */
gboolean
openai_json_node_is_number (JsonNode *node)
{
  GType type;

  if (node == NULL || !JSON_NODE_HOLDS_VALUE (node))
    return FALSE;

  type = json_node_get_value_type (node);

  return type == G_TYPE_INT64 || type == G_TYPE_DOUBLE;
}

/* Whether @node is a JSON number without a fractional part */
gboolean
openai_json_node_is_integer (JsonNode *node)
{
  double value;

  if (!openai_json_node_is_number (node))
    return FALSE;

  if (json_node_get_value_type (node) == G_TYPE_INT64)
    return TRUE;

  value = json_node_get_double (node);

  /* Beyond 2^53 a double no longer holds every integer */
  return isfinite (value) && value == floor (value) && fabs (value) <= 9007199254740992.0;
}

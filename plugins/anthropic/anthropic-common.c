/* anthropic-common.c: settings, HTTP client and response checks of the
 * `anthropic` provider
 *
 * SPDX-License-Identifier: LGPL-2.1-or-later
 *
 * The provider talks to one base URL (setting `anthropic_base_url`, default
 * https://api.anthropic.com) with a key that the API requires (setting
 * `anthropic_api_key`, sent as `x-api-key: <key>`) and the API version it
 * was written for (setting `anthropic_version`, sent as
 * `anthropic-version`). Each provider instance has its own
 * StacheHttpClient, which does the retries, the timeouts and the redaction
 * of the key.
 */
#include <math.h>
#include <string.h>

#include <glib/gi18n-lib.h>

#include "anthropic-common.h"

/* ---- settings ---- */

/* Fails unless @value, the value of the header setting @key, can be sent
 * as a header value. The message never quotes the value: it may be the
 * key. */
static gboolean
check_header_value (StacheSettings  *settings,
                    const char      *key,
                    const char      *value,
                    GError         **error)
{
  g_autofree char *where = NULL;

  if (strpbrk (value, "\r\n") == NULL)
    return TRUE;

  where = stache_settings_describe_source (settings, key);
  /* The value is not quoted: it may be a secret */
  g_set_error (error, STACHE_ERROR, STACHE_ERROR_INVALID_SETTING,
               /* Translators: the first %s is a settings key, the second
                * where its value came from */
               _("Setting “%s” (from %s) contains a line break, which an HTTP header "
                 "cannot contain"),
               key, where);
  return FALSE;
}

/**
 * anthropic_client_new:
 * @settings: the provider's settings
 * @path: the endpoint under the base URL, such as "/v1/messages"
 * @out_url: (out): the full URL of the endpoint
 * @error: return location for a #GError
 *
 * Reads `anthropic_base_url`, `anthropic_api_key` and `anthropic_version`
 * and creates the HTTP client of one provider instance, with the key in
 * the `x-api-key` header, which the client redacts from every error
 * message. The key is required: without it this fails with
 * %STACHE_ERROR_INVALID_SETTING.
 *
 * Returns: (transfer full): the client, or %NULL with @error set
 */
StacheHttpClient *
anthropic_client_new (StacheSettings  *settings,
                      const char      *path,
                      char           **out_url,
                      GError         **error)
{
  g_autofree char *base = NULL;
  g_autofree char *key = NULL;
  g_autofree char *version = NULL;
  g_autoptr(StacheHttpClient) client = NULL;

  base = stache_settings_get_http_url (settings, ANTHROPIC_SETTING_BASE_URL, ANTHROPIC_DEFAULT_BASE_URL, error);
  if (base == NULL)
    return NULL;

  key = stache_settings_get_nonempty (settings, ANTHROPIC_SETTING_API_KEY, NULL);
  if (key == NULL)
    {
      g_autofree char *env_name = stache_settings_key_to_env_name (ANTHROPIC_SETTING_API_KEY);

      g_set_error (error, STACHE_ERROR, STACHE_ERROR_INVALID_SETTING,
                   /* Translators: the first %s is a settings key, the second
                    * its environment variable */
                   _("anthropic: no API key is set; set “%s” in the configuration or the "
                     "environment variable %s"),
                   ANTHROPIC_SETTING_API_KEY, env_name);
      return NULL;
    }
  if (!check_header_value (settings, ANTHROPIC_SETTING_API_KEY, key, error))
    return NULL;

  version = stache_settings_get_nonempty (settings, ANTHROPIC_SETTING_VERSION,
                                             ANTHROPIC_DEFAULT_VERSION);
  if (!check_header_value (settings, ANTHROPIC_SETTING_VERSION, version, error))
    return NULL;

  client = stache_http_client_new (settings, ANTHROPIC_PROVIDER_NAME, error);
  if (client == NULL)
    return NULL;

  /* set_header registers the value of x-api-key as a secret; adding it
   * again costs nothing and does not depend on that list. */
  stache_http_client_add_secret (client, key);
  stache_http_client_set_header (client, "x-api-key", key);
  stache_http_client_set_header (client, "anthropic-version", version);

  *out_url = g_strconcat (base, path, NULL);

  return g_steal_pointer (&client);
}

/* ---- responses ---- */

/* Sets @error to a malformed-response error: what the service returned
 * is not the JSON the Messages API documents for @url. */
void
anthropic_set_malformed (GError     **error,
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
               _("anthropic: the response from %s is not what the Anthropic Messages API "
                 "describes: %s"),
               shown, detail);
}

/* The member @member of @object if it is an array, else NULL */
JsonArray *
anthropic_json_get_array (JsonObject *object,
                          const char *member)
{
  JsonNode *node = object != NULL ? json_object_get_member (object, member) : NULL;

  if (node == NULL || !JSON_NODE_HOLDS_ARRAY (node))
    return NULL;

  return json_node_get_array (node);
}

/* Whether @node is a JSON string */
gboolean
anthropic_json_node_is_string (JsonNode *node)
{
  return node != NULL && JSON_NODE_HOLDS_VALUE (node) &&
         json_node_get_value_type (node) == G_TYPE_STRING;
}

/* Whether @node is a JSON number */
gboolean
anthropic_json_node_is_number (JsonNode *node)
{
  GType type;

  if (node == NULL || !JSON_NODE_HOLDS_VALUE (node))
    return FALSE;

  type = json_node_get_value_type (node);

  return type == G_TYPE_INT64 || type == G_TYPE_DOUBLE;
}

/* Whether @node is a JSON number without a fractional part */
gboolean
anthropic_json_node_is_integer (JsonNode *node)
{
  double value;

  if (!anthropic_json_node_is_number (node))
    return FALSE;

  if (json_node_get_value_type (node) == G_TYPE_INT64)
    return TRUE;

  value = json_node_get_double (node);

  /* Beyond 2^53 a double no longer holds every integer */
  return isfinite (value) && value == floor (value) && fabs (value) <= 9007199254740992.0;
}

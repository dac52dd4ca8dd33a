/* stache-http-secrets.c: StacheHttpClient's headers and secrets, and the
 * redaction of every message it shows
 *
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */
#include "config.h"

#include <string.h>

#include "stache-http-client-private.h"


void
_stache_http_header_free (gpointer p)
{
  Header *header = p;

  g_free (header->name);
  g_free (header->value);
  g_free (header);
}

static Header *
header_copy (const Header *header)
{
  Header *copy = g_new0 (Header, 1);

  copy->name = g_strdup (header->name);
  copy->value = g_strdup (header->value);

  return copy;
}

/* ---- secrets ---- */

static gint
compare_longest_first (gconstpointer a,
                       gconstpointer b)
{
  gsize len_a = strlen (*(const char * const *) a);
  gsize len_b = strlen (*(const char * const *) b);

  return len_a < len_b ? 1 : len_a > len_b ? -1 : 0;
}

static void
add_secret_locked (StacheHttpClient *self,
                   const char       *secret)
{
  if (secret == NULL || secret[0] == '\0')
    return;

  for (guint i = 0; i < self->secrets->len; i++)
    {
      if (strcmp (g_ptr_array_index (self->secrets, i), secret) == 0)
        return;
    }

  g_ptr_array_add (self->secrets, g_strdup (secret));
  g_ptr_array_sort (self->secrets, compare_longest_first);
}

/**
 * stache_http_client_add_secret:
 * @self: a #StacheHttpClient
 * @secret: a string that must never appear in messages, such as an API key
 *
 * Registers @secret so that stache_http_client_redact() hides it, in error
 * messages and debug output alike. Its percent-encoded form, as it would
 * appear in a URL, is hidden as well. Empty strings are ignored.
 */
void
stache_http_client_add_secret (StacheHttpClient *self,
                               const char       *secret)
{
  g_autofree char *escaped = NULL;

  g_return_if_fail (STACHE_IS_HTTP_CLIENT (self));
  g_return_if_fail (secret != NULL);

  escaped = g_uri_escape_string (secret, NULL, FALSE);

  g_mutex_lock (&self->mutex);
  add_secret_locked (self, secret);
  add_secret_locked (self, escaped);
  g_mutex_unlock (&self->mutex);
}

/* A URL's user information and secret-looking query values are secrets
 * too: a service may quote them back in an error body. */
void
_stache_http_register_url_secrets (StacheHttpClient *self,
                      GUri             *uri)
{
  const char *query = g_uri_get_query (uri);

  if (g_uri_get_password (uri) != NULL)
    stache_http_client_add_secret (self, g_uri_get_password (uri));
  else if (g_uri_get_user (uri) != NULL)
    stache_http_client_add_secret (self, g_uri_get_user (uri));

  for (const char *p = query; p != NULL && *p != '\0';)
    {
      gsize length = strcspn (p, "&");
      const char *equals = memchr (p, '=', length);

      if (equals != NULL && equals + 1 < p + length && _stache_is_secret_parameter (p, (gsize) (equals - p)))
        {
          g_autofree char *value = g_strndup (equals + 1, length - (gsize) (equals + 1 - p));
          g_autofree char *decoded = g_uri_unescape_string (value, NULL);

          stache_http_client_add_secret (self, value);
          if (decoded != NULL)
            stache_http_client_add_secret (self, decoded);
        }
      p += length;
      if (*p == '&')
        p++;
    }
}

static gboolean
is_credential_header (const char *name)
{
  static const char *names[] = {
    "Authorization", "Proxy-Authorization", "x-api-key", "api-key", "x-goog-api-key",
  };

  for (guint i = 0; i < G_N_ELEMENTS (names); i++)
    {
      if (g_ascii_strcasecmp (name, names[i]) == 0)
        return TRUE;
    }

  return FALSE;
}

/**
 * stache_http_client_set_header:
 * @self: a #StacheHttpClient
 * @name: a header name, such as `Authorization`
 * @value: (nullable): the value, or %NULL to stop sending the header
 *
 * Sets a header sent with every request of @self, replacing any earlier
 * value of the header (names are compared without regard to case). Headers
 * set here override the default `Accept` and `Content-Type` headers.
 *
 * Whitespace around @value is removed; @value may not contain line breaks.
 *
 * The values of `Authorization`, `Proxy-Authorization`, `x-api-key`,
 * `api-key` and `x-goog-api-key` are registered as secrets (see
 * stache_http_client_add_secret()); for a value such as `Bearer KEY`, `KEY`
 * alone is registered too.
 */
void
stache_http_client_set_header (StacheHttpClient *self,
                               const char       *name,
                               const char       *value)
{
  g_autofree char *stripped = NULL;

  g_return_if_fail (STACHE_IS_HTTP_CLIENT (self));
  g_return_if_fail (name != NULL && name[0] != '\0' && strpbrk (name, ": \t\r\n") == NULL);

  /* A key read from a file often ends with a newline; a line break inside
   * a value would end the header. */
  if (value != NULL)
    {
      value = stripped = g_strstrip (g_strdup (value));
      g_return_if_fail (strpbrk (value, "\r\n") == NULL);
    }

  if (value != NULL && is_credential_header (name))
    {
      const char *space = strchr (value, ' ');

      stache_http_client_add_secret (self, value);
      if (space != NULL)
        {
          g_autofree char *credentials = g_strdup (space + 1);

          stache_http_client_add_secret (self, g_strstrip (credentials));
        }
    }

  g_mutex_lock (&self->mutex);
  for (guint i = 0; i < self->headers->len; i++)
    {
      Header *header = g_ptr_array_index (self->headers, i);

      if (g_ascii_strcasecmp (header->name, name) == 0)
        {
          g_ptr_array_remove_index (self->headers, i);
          break;
        }
    }
  if (value != NULL)
    {
      Header *header = g_new0 (Header, 1);

      header->name = g_strdup (name);
      header->value = g_strdup (value);
      g_ptr_array_add (self->headers, header);
    }
  g_mutex_unlock (&self->mutex);
}

/**
 * stache_http_client_redact:
 * @self: a #StacheHttpClient
 * @text: a text that may contain secrets
 *
 * Replaces every occurrence of every registered secret in @text with
 * `********`.
 *
 * Returns: (transfer full): the redacted text
 */
char *
stache_http_client_redact (StacheHttpClient *self,
                           const char       *text)
{
  GString *result;
  const char *p;

  g_return_val_if_fail (STACHE_IS_HTTP_CLIENT (self), NULL);
  g_return_val_if_fail (text != NULL, NULL);

  result = g_string_sized_new (strlen (text));

  g_mutex_lock (&self->mutex);
  p = text;
  while (*p != '\0')
    {
      gboolean replaced = FALSE;

      /* Longest first, so a key inside a longer registered value ("Bearer
       * KEY") never leaves part of the longer one behind. */
      for (guint i = 0; i < self->secrets->len; i++)
        {
          const char *secret = g_ptr_array_index (self->secrets, i);
          gsize len = strlen (secret);

          if (strncmp (p, secret, len) == 0)
            {
              g_string_append (result, REDACTED);
              p += len;
              replaced = TRUE;
              break;
            }
        }

      if (!replaced)
        g_string_append_c (result, *p++);
    }
  g_mutex_unlock (&self->mutex);

  return g_string_free (result, FALSE);
}

GPtrArray *
_stache_http_copy_headers (StacheHttpClient *self)
{
  GPtrArray *copy = g_ptr_array_new_with_free_func (_stache_http_header_free);

  g_mutex_lock (&self->mutex);
  for (guint i = 0; i < self->headers->len; i++)
    g_ptr_array_add (copy, header_copy (g_ptr_array_index (self->headers, i)));
  g_mutex_unlock (&self->mutex);

  return copy;
}

void
_stache_http_debug_message (StacheHttpClient *self,
               const char       *format,
               ...)
{
  g_autofree char *message = NULL;
  g_autofree char *redacted = NULL;
  va_list args;

  va_start (args, format);
  message = g_strdup_vprintf (format, args);
  va_end (args);

  redacted = stache_http_client_redact (self, message);
  g_debug ("%s: %s", self->provider_name, redacted);
}

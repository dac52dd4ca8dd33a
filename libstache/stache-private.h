/* stache-private.h: helpers shared inside libstache
 *
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */
#pragma once

#include <glib.h>
#include <glib/gi18n-lib.h>

G_BEGIN_DECLS

void _stache_i18n_init (void);

/* @text with what looks secret in a URL replaced by "********": the
 * password of its user information (or the whole of it when there is no
 * password: "https://TOKEN@host"), and the values of query parameters
 * whose names say key, token, secret, password, signature or auth. Text
 * that is no URL comes back as it is. */
char *_stache_redact_url (const char *text);

/* Whether the query parameter @name (of @length bytes) names a secret */
gboolean _stache_is_secret_parameter (const char *name,
                                      gsize       length);

/* Replaces the string in @field with a copy of @value; returns whether it
 * changed, so setters notify only on a real change. */
static inline gboolean
_stache_replace_string (char       **field,
                        const char  *value)
{
  if (g_strcmp0 (*field, value) == 0)
    return FALSE;

  g_free (*field);
  *field = g_strdup (value);

  return TRUE;
}

G_END_DECLS

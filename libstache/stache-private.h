/* stache-private.h: helpers shared inside libstache
 *
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */
#pragma once

#include <glib.h>
#include <glib/gi18n-lib.h>

G_BEGIN_DECLS

void _stache_i18n_init (void);

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

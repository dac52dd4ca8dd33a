/* stache-private.h: helpers shared inside libstache
 *
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */
#pragma once

#include <string.h>

#include <glib.h>
#include <glib/gi18n-lib.h>

G_BEGIN_DECLS

/* The settings the core itself reads, with their defaults. StacheSettings
 * declares them with these values (stache-settings.c), so `stache config`
 * lists every one with its source; the code that reads them uses the same
 * names. */
#define STACHE_DEFAULT_CHUNK_SIZE            800
#define STACHE_DEFAULT_CHUNK_OVERLAP         120
#define STACHE_DEFAULT_MAX_FILE_SIZE         10485760   /* 10 MiB */
#define STACHE_DEFAULT_SEARCH_TOP_K          10
/* Candidates each list gives and the reranker sees, whatever top_k is (at
 * least top_k): the same query ranks the same documents at -k 5 and -k 20 */
#define STACHE_DEFAULT_SEARCH_CANDIDATES     50
#define STACHE_DEFAULT_TEXT_LANGUAGE         "english"
#define STACHE_DEFAULT_HYBRID_VECTOR_WEIGHT  0.5
#define STACHE_DEFAULT_HYBRID_RRF_K          5.0
#define STACHE_DEFAULT_HYBRID_DOCUMENT_WEIGHT 1.0
#define STACHE_DEFAULT_HTTP_CONNECT_TIMEOUT  10
#define STACHE_DEFAULT_HTTP_TIMEOUT          120
#define STACHE_DEFAULT_HTTP_MAX_RETRIES      3
#define STACHE_DEFAULT_HTTP_RETRY_BUDGET     60
#define STACHE_DEFAULT_HTTP_BACKOFF_MS       500

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

/* g_utf8_validate_len() (no NUL byte allowed either), with the ASCII that
 * most text is checked eight bytes at a time first */
static inline gboolean
_stache_utf8_validate_len (const char *text,
                           gsize       length)
{
  const guint64 high = G_GUINT64_CONSTANT (0x8080808080808080);
  const guint64 ones = G_GUINT64_CONSTANT (0x0101010101010101);
  gsize i = 0;

  /* eight ASCII bytes, none of them NUL: (v - ones) & ~v & high is
   * nonzero exactly when some byte of v is zero */
  for (; i + 8 <= length; i += 8)
    {
      guint64 v;

      memcpy (&v, text + i, 8);
      if ((v & high) != 0 || ((v - ones) & ~v & high) != 0)
        break;
    }

  return g_utf8_validate_len (text + i, length - i, NULL);
}

/* The same for a NUL-terminated string, like g_utf8_validate (text, -1) */
static inline gboolean
_stache_utf8_validate (const char *text)
{
  return _stache_utf8_validate_len (text, strlen (text));
}

G_END_DECLS

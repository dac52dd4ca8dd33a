/* hashing-tokens.c: text folding and word splitting for the hashing embedder
 *
 * SPDX-License-Identifier: LGPL-2.1-or-later
 *
 * Folding makes "Café", "CAFE" and "cafe" the same word:
 *
 * 1. compatibility decomposition (NFKD): "é" becomes "e" + U+0301, the
 *    ligature "ﬁ" becomes "fi", full-width "Ａ" becomes "A";
 * 2. case folding (g_utf8_casefold), after the decomposition so that
 *    letters a decomposition leaves in upper case ("ℌ" → "H") are folded
 *    too;
 * 3. dropping the non-spacing marks (general category Mn), which removes
 *    the accents the decomposition split off, and the one case folding can
 *    add ("İ" → "i" + U+0307).
 *
 * Pure ASCII text takes a shortcut with the same result: it is only
 * lower-cased.
 *
 * A word is a maximal run of letters, digits and the spacing marks that
 * survive folding (the vowel signs of Indic scripts, which must not split
 * a word). Everything else separates words.
 *
 * This file has a twin in each built-in plugin that tokenises (simple,
 * extractive): the plugins share no code so each stays self-contained.
 */
#include <string.h>

#include "hashing-tokens.h"

static gboolean
is_ascii (const char *text,
          gsize      *out_len)
{
  const guchar *p = (const guchar *) text;
  guchar seen = 0;

  while (*p != '\0')
    seen |= *p++;

  *out_len = (gsize) (p - (const guchar *) text);

  return (seen & 0x80) == 0;
}

/* Removes the non-spacing marks of the valid UTF-8 string @s, in place.
 * Returns the new length. */
static gsize
drop_nonspacing_marks (char *s)
{
  const char *in = s;
  char *out = s;

  while (*in != '\0')
    {
      const char *next;

      if ((guchar) *in < 0x80)
        {
          *out++ = *in++;
          continue;
        }

      next = g_utf8_next_char (in);
      if (g_unichar_type (g_utf8_get_char (in)) != G_UNICODE_NON_SPACING_MARK)
        {
          memmove (out, in, (gsize) (next - in));
          out += next - in;
        }
      in = next;
    }
  *out = '\0';

  return (gsize) (out - s);
}

/**
 * hashing_tokens_fold:
 * @text: UTF-8 text; invalid sequences are replaced first
 * @out_len: (out): the length of the result in bytes
 *
 * Folds @text as described at the top of this file.
 *
 * Returns: (transfer full): the folded text
 */
char *
hashing_tokens_fold (const char *text,
                     gsize      *out_len)
{
  g_autofree char *valid = NULL;
  g_autofree char *decomposed = NULL;
  char *folded;
  gsize len;

  if (is_ascii (text, &len))
    {
      folded = g_ascii_strdown (text, (gssize) len);
      *out_len = len;
      return folded;
    }

  if (!g_utf8_validate (text, (gssize) len, NULL))
    text = valid = g_utf8_make_valid (text, (gssize) len);

  decomposed = g_utf8_normalize (text, -1, G_NORMALIZE_NFKD);
  folded = g_utf8_casefold (decomposed != NULL ? decomposed : text, -1);
  *out_len = drop_nonspacing_marks (folded);

  return folded;
}

static inline gboolean
is_word_char (gunichar c)
{
  if (c < 0x80)
    return g_ascii_isalnum ((char) c);

  return g_unichar_isalnum (c) || g_unichar_ismark (c);
}

/**
 * hashing_tokens_next_word:
 * @pos: (inout): where to continue in folded text; moved past the word
 * @end: the end of the folded text
 * @word_start: (out): the first byte of the word
 * @word_end: (out): the byte after the word
 *
 * Finds the next word of folded text, without copying it.
 *
 * Returns: %TRUE if a word was found, %FALSE at the end of the text
 */
gboolean
hashing_tokens_next_word (const char **pos,
                          const char  *end,
                          const char **word_start,
                          const char **word_end)
{
  const char *p = *pos;

  /* Skip separators */
  while (p < end)
    {
      if ((guchar) *p < 0x80)
        {
          if (g_ascii_isalnum (*p))
            break;
          p++;
        }
      else
        {
          if (is_word_char (g_utf8_get_char (p)))
            break;
          p = g_utf8_next_char (p);
        }
    }

  if (p >= end)
    {
      *pos = end;
      return FALSE;
    }

  *word_start = p;
  while (p < end)
    {
      if ((guchar) *p < 0x80)
        {
          if (!g_ascii_isalnum (*p))
            break;
          p++;
        }
      else
        {
          if (!is_word_char (g_utf8_get_char (p)))
            break;
          p = g_utf8_next_char (p);
        }
    }
  *word_end = p;
  *pos = p;

  return TRUE;
}

/* simple-tokens.c: text folding and word splitting for the simple reranker
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
 * This file has a twin in each built-in plugin that tokenises (hashing,
 * extractive): the plugins share no code so each stays self-contained.
 */
#include <string.h>

#include "simple-tokens.h"

/* A tiny English list: words so common in questions that a result should
 * not get credit for containing them. */
static const char * const stop_words[] = {
  "the", "a", "an", "of", "to", "in", "is", "are", "was", "be", "and", "or",
  "what", "how", "when", "where", "which", "who", "why", "does", "do", "can",
  "should", "would", "will", "for", "on", "at", "by", "from", "with", "it",
  "this", "that", "i", "my", "we", "you",
};

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

/* Removes the non-spacing marks of the valid UTF-8 string @s, in place. */
static void
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
}

/**
 * simple_tokens_fold:
 * @text: UTF-8 text; invalid sequences are replaced first
 *
 * Folds @text as described at the top of this file.
 *
 * Returns: (transfer full): the folded text
 */
char *
simple_tokens_fold (const char *text)
{
  g_autofree char *valid = NULL;
  g_autofree char *decomposed = NULL;
  char *folded;
  gsize len;

  if (is_ascii (text, &len))
    return g_ascii_strdown (text, (gssize) len);

  if (!g_utf8_validate (text, (gssize) len, NULL))
    text = valid = g_utf8_make_valid (text, (gssize) len);

  decomposed = g_utf8_normalize (text, -1, G_NORMALIZE_NFKD);
  folded = g_utf8_casefold (decomposed != NULL ? decomposed : text, -1);
  drop_nonspacing_marks (folded);

  return folded;
}

static gboolean
is_word_char (gunichar c)
{
  if (c < 0x80)
    return g_ascii_isalnum ((char) c);

  return g_unichar_isalnum (c) || g_unichar_ismark (c);
}

/**
 * simple_tokens_split:
 * @text: (nullable): UTF-8 text
 *
 * Folds @text and splits it into words, in order, repeats included.
 *
 * Returns: (transfer full) (element-type utf8): the words
 */
GPtrArray *
simple_tokens_split (const char *text)
{
  GPtrArray *tokens = g_ptr_array_new_with_free_func (g_free);
  g_autofree char *folded = NULL;
  const char *p;

  if (text == NULL)
    return tokens;

  folded = simple_tokens_fold (text);
  p = folded;
  while (*p != '\0')
    {
      const char *start;

      while (*p != '\0' && !is_word_char (g_utf8_get_char (p)))
        p = g_utf8_next_char (p);
      if (*p == '\0')
        break;

      start = p;
      while (*p != '\0' && is_word_char (g_utf8_get_char (p)))
        p = g_utf8_next_char (p);

      g_ptr_array_add (tokens, g_strndup (start, (gsize) (p - start)));
    }

  return tokens;
}

/**
 * simple_tokens_is_stop_word:
 * @token: a folded word
 *
 * Returns: whether @token is one of the stop words
 */
gboolean
simple_tokens_is_stop_word (const char *token)
{
  for (guint i = 0; i < G_N_ELEMENTS (stop_words); i++)
    {
      if (strcmp (token, stop_words[i]) == 0)
        return TRUE;
    }

  return FALSE;
}

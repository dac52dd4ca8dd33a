/* stache-text.c: folding and splitting text into words
 *
 * SPDX-License-Identifier: LGPL-2.1-or-later
 *
 * One definition of "a word" for every built-in provider that looks at
 * words (the hashing embedder, the simple reranker, the extractive
 * answerer) and for third-party plugins: text is decomposed (NFKD),
 * case-folded, and stripped of non-spacing marks, so "Café", "CAFE" and
 * "café" are the same word. A word is a run of letters, digits and spacing
 * marks (the vowel signs of Indic scripts must not split a word); anything
 * else separates words. Pure ASCII text takes a fast path that gives the
 * same result.
 */
#include "config.h"

#include <string.h>

#include "stache-text.h"

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

/* Removes the non-spacing marks of the valid UTF-8 string @s, in place;
 * returns the new length. */
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
 * stache_text_fold:
 * @text: UTF-8 text; invalid sequences are replaced with U+FFFD first
 * @out_len: (out) (optional): the length of the result in bytes
 *
 * Folds @text for comparison: decomposition, case folding and accent
 * removal ("Café" → "cafe"), the form every built-in provider compares
 * words in.
 *
 * Returns: (transfer full): the folded text
 */
char *
stache_text_fold (const char *text,
                  gsize      *out_len)
{
  g_autofree char *valid = NULL;
  g_autofree char *decomposed = NULL;
  char *folded;
  gsize len, folded_len;

  g_return_val_if_fail (text != NULL, NULL);

  if (is_ascii (text, &len))
    {
      folded = g_malloc (len + 1);
      for (gsize i = 0; i < len; i++)
        {
          char c = text[i];

          folded[i] = c >= 'A' && c <= 'Z' ? (char) (c + ('a' - 'A')) : c;
        }
      folded[len] = '\0';
      if (out_len != NULL)
        *out_len = len;
      return folded;
    }

  if (!g_utf8_validate (text, (gssize) len, NULL))
    text = valid = g_utf8_make_valid (text, (gssize) len);

  decomposed = g_utf8_normalize (text, -1, G_NORMALIZE_NFKD);
  folded = g_utf8_casefold (decomposed != NULL ? decomposed : text, -1);
  folded_len = drop_nonspacing_marks (folded);
  if (out_len != NULL)
    *out_len = folded_len;

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
 * stache_text_next_word: (skip)
 * @pos: (inout): where to continue in folded text; moved past the word
 * @end: the end of the folded text
 * @word_start: (out): the first byte of the word
 * @word_end: (out): the byte after the word
 *
 * Finds the next word of text folded with stache_text_fold(), without
 * copying it: for tight loops in C plugins.
 *
 * Returns: %TRUE if a word was found, %FALSE at the end of the text
 */
gboolean
stache_text_next_word (const char **pos,
                       const char  *end,
                       const char **word_start,
                       const char **word_end)
{
  const char *p = *pos;

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

/**
 * stache_text_split_words: (skip)
 * @text: (nullable): UTF-8 text
 *
 * Splits @text into folded words.
 *
 * Returns: (transfer full) (element-type utf8): the words; the array frees
 *   them
 */
GPtrArray *
stache_text_split_words (const char *text)
{
  GPtrArray *words = g_ptr_array_new_with_free_func (g_free);
  g_autofree char *folded = NULL;
  const char *pos, *end, *start, *stop;
  gsize len;

  if (text == NULL)
    return words;

  folded = stache_text_fold (text, &len);
  pos = folded;
  end = folded + len;
  while (stache_text_next_word (&pos, end, &start, &stop))
    g_ptr_array_add (words, g_strndup (start, (gsize) (stop - start)));

  return words;
}

/* A small English list: words so common in questions that a passage should
 * not get credit for containing them. */
static const char * const stop_words[] = {
  "the", "a", "an", "of", "to", "in", "is", "are", "was", "be", "and", "or",
  "what", "how", "when", "where", "which", "who", "why", "does", "do", "can",
  "should", "would", "will", "for", "on", "at", "by", "from", "with", "it",
  "this", "that", "i", "my", "we", "you",
};

/**
 * stache_text_is_stop_word:
 * @word: a folded word
 *
 * Checks whether @word is one of a few very common English words ("the",
 * "what", "should", …) that rankers leave out of their word counts.
 *
 * Returns: %TRUE for a stop word
 */
gboolean
stache_text_is_stop_word (const char *word)
{
  g_return_val_if_fail (word != NULL, FALSE);

  for (guint i = 0; i < G_N_ELEMENTS (stop_words); i++)
    if (strcmp (word, stop_words[i]) == 0)
      return TRUE;

  return FALSE;
}

/* test-chunker.c: tests for splitting text into chunks
 *
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */
#include <string.h>

#include <stache.h>

#include "stache-chunker-private.h"

static StacheTextPiece *
piece_at (GPtrArray *pieces,
          guint      i)
{
  g_assert_cmpuint (i, <, pieces->len);

  return g_ptr_array_index (pieces, i);
}

static glong
char_length (const char *s)
{
  return g_utf8_strlen (s, -1);
}

/* The input with all whitespace removed, to compare coverage. */
static char *
strip_space (const char *s)
{
  GString *out = g_string_new (NULL);

  for (; *s != '\0'; s = g_utf8_next_char (s))
    if (!g_unichar_isspace (g_utf8_get_char (s)))
      g_string_append_unichar (out, g_utf8_get_char (s));

  return g_string_free (out, FALSE);
}

static void
test_empty (void)
{
  const char *inputs[] = { "", " ", "\n\n\n", " \t\n \r\n  \n", "\u3000\u00a0 \n" };
  gsize i;

  for (i = 0; i < G_N_ELEMENTS (inputs); i++)
    {
      g_autoptr(GPtrArray) plain = _stache_chunk_text (inputs[i], FALSE, 100, 10);
      g_autoptr(GPtrArray) markdown = _stache_chunk_text (inputs[i], TRUE, 100, 10);

      g_assert_cmpuint (plain->len, ==, 0);
      g_assert_cmpuint (markdown->len, ==, 0);
    }
}

static void
test_fits_in_one (void)
{
  const char *text = "  First paragraph.\n\nSecond paragraph, still short.  \n";
  g_autoptr(GPtrArray) pieces = _stache_chunk_text (text, FALSE, 100, 20);
  StacheTextPiece *piece;

  g_assert_cmpuint (pieces->len, ==, 1);
  piece = piece_at (pieces, 0);
  g_assert_cmpstr (piece->text, ==, "First paragraph.\n\nSecond paragraph, still short.");
  g_assert_cmpuint (piece->start, ==, 2);
  g_assert_null (piece->heading_path);
}

static void
test_paragraphs_first (void)
{
  /* Each paragraph is 29 characters; two fit in 64 with their separator,
   * three do not. Every paragraph also has sentences, which must not be
   * used as cut points while whole paragraphs fit. */
  const char *text =
    "Alpha one. Alpha two. Alpha!\n\n"
    "Bravo one. Bravo two. Bravo!\n\n"
    "Charlie 1. Charlie 2. Charl!\n\n"
    "Delta one. Delta two. Delta!\n\n"
    "Echo one. Echo two. Echo end!";
  g_autoptr(GPtrArray) pieces = _stache_chunk_text (text, FALSE, 64, 0);

  g_assert_cmpuint (pieces->len, ==, 3);
  g_assert_cmpstr (piece_at (pieces, 0)->text, ==,
                   "Alpha one. Alpha two. Alpha!\n\nBravo one. Bravo two. Bravo!");
  g_assert_cmpstr (piece_at (pieces, 1)->text, ==,
                   "Charlie 1. Charlie 2. Charl!\n\nDelta one. Delta two. Delta!");
  g_assert_cmpstr (piece_at (pieces, 2)->text, ==, "Echo one. Echo two. Echo end!");
  g_assert_cmpuint (piece_at (pieces, 1)->start, ==, 60);
}

static void
test_sentences (void)
{
  const char *text =
    "Short intro.\n\n"
    "The first sentence is here. The second one follows! Is this the third? "
    "Yes… and a fourth with “quotes.” Fifth sentence closes it.\n\n"
    "Outro.";
  g_autoptr(GPtrArray) pieces = _stache_chunk_text (text, FALSE, 60, 0);
  guint i;

  /* The long paragraph is cut at sentence ends only; the short ones stay
   * whole, and the piece before the long paragraph is closed first. */
  g_assert_cmpuint (pieces->len, ==, 5);
  g_assert_cmpstr (piece_at (pieces, 0)->text, ==, "Short intro.");
  g_assert_cmpstr (piece_at (pieces, 1)->text, ==,
                   "The first sentence is here. The second one follows!");
  g_assert_cmpstr (piece_at (pieces, 2)->text, ==,
                   "Is this the third? Yes… and a fourth with “quotes.”");
  g_assert_cmpstr (piece_at (pieces, 3)->text, ==, "Fifth sentence closes it.");
  g_assert_cmpstr (piece_at (pieces, 4)->text, ==, "Outro.");

  for (i = 0; i < pieces->len; i++)
    g_assert_cmpint (char_length (piece_at (pieces, i)->text), <=, 60);
}

static void
test_sentence_needs_space (void)
{
  /* "3.14" and "example.org" contain dots that end nothing. */
  const char *text = "Pi is 3.14 and the site is example.org today. Next sentence here.";
  g_autoptr(GPtrArray) pieces = _stache_chunk_text (text, FALSE, 48, 0);

  g_assert_cmpuint (pieces->len, ==, 2);
  g_assert_cmpstr (piece_at (pieces, 0)->text, ==,
                   "Pi is 3.14 and the site is example.org today.");
  g_assert_cmpstr (piece_at (pieces, 1)->text, ==, "Next sentence here.");
}

static void
test_cjk_sentences (void)
{
  /* No spaces at all: the full stops alone are the cut points. */
  const char *text = "これは最初の文です。これは二番目の文です！三番目の文ですか？";
  g_autoptr(GPtrArray) pieces = _stache_chunk_text (text, FALSE, 22, 0);

  g_assert_cmpuint (pieces->len, ==, 2);
  g_assert_cmpstr (piece_at (pieces, 0)->text, ==, "これは最初の文です。これは二番目の文です！");
  g_assert_cmpstr (piece_at (pieces, 1)->text, ==, "三番目の文ですか？");
  g_assert_cmpuint (piece_at (pieces, 1)->start, ==, 21);
}

static void
test_words (void)
{
  const char *text = "one two three four five six seven eight nine ten eleven twelve";
  g_autoptr(GPtrArray) pieces = _stache_chunk_text (text, FALSE, 20, 0);
  g_autoptr(GString) joined = g_string_new (NULL);
  guint i;

  for (i = 0; i < pieces->len; i++)
    {
      const char *piece = piece_at (pieces, i)->text;

      g_assert_cmpint (char_length (piece), <=, 20);
      /* Whole words: each piece is a run of the input between spaces. */
      g_assert_nonnull (strstr (text, piece));
      g_assert_true (piece_at (pieces, i)->start == 0 || text[piece_at (pieces, i)->start - 1] == ' ');
      if (joined->len > 0)
        g_string_append_c (joined, ' ');
      g_string_append (joined, piece);
    }

  g_assert_cmpstr (joined->str, ==, text);
  g_assert_cmpstr (piece_at (pieces, 0)->text, ==, "one two three four");
}

static void
test_giant_word (void)
{
  g_autofree char *word = g_strnfill (100, 'x');
  g_autofree char *text = g_strconcat ("before ", word, " after", NULL);
  g_autoptr(GPtrArray) pieces = _stache_chunk_text (text, FALSE, 40, 10);

  g_assert_cmpuint (pieces->len, ==, 5);
  g_assert_cmpstr (piece_at (pieces, 0)->text, ==, "before");
  /* The first cut starts with the overlap ("before "), then exactly
   * chunk_size characters of the word. */
  g_assert_true (g_str_has_prefix (piece_at (pieces, 1)->text, "before x"));
  g_assert_cmpint (char_length (piece_at (pieces, 1)->text), ==, 7 + 40);
  g_assert_cmpuint (piece_at (pieces, 1)->start, ==, 7);
  /* No overlap after a word cut in two: nothing whole to repeat. */
  g_assert_cmpint (char_length (piece_at (pieces, 2)->text), ==, 40);
  g_assert_cmpuint (piece_at (pieces, 2)->start, ==, 47);
  g_assert_cmpint (char_length (piece_at (pieces, 3)->text), ==, 20);
  g_assert_cmpuint (piece_at (pieces, 3)->start, ==, 87);
  g_assert_cmpstr (piece_at (pieces, 4)->text, ==, "after");
}

static void
test_multibyte (void)
{
  GString *text = g_string_new (NULL);
  g_autoptr(GPtrArray) pieces = NULL;
  guint i;

  for (i = 0; i < 100; i++)
    g_string_append (text, "é");

  pieces = _stache_chunk_text (text->str, FALSE, 40, 0);

  g_assert_cmpuint (pieces->len, ==, 3);
  g_assert_cmpint (char_length (piece_at (pieces, 0)->text), ==, 40);
  g_assert_cmpint (char_length (piece_at (pieces, 1)->text), ==, 40);
  g_assert_cmpint (char_length (piece_at (pieces, 2)->text), ==, 20);
  g_assert_cmpuint (piece_at (pieces, 1)->start, ==, 40);
  g_assert_cmpuint (piece_at (pieces, 2)->start, ==, 80);
  for (i = 0; i < pieces->len; i++)
    g_assert_true (g_utf8_validate (piece_at (pieces, i)->text, -1, NULL));

  g_string_free (text, TRUE);
}

static void
test_combining_marks (void)
{
  /* "e" + U+0301 twenty times: a cut at 16 characters would separate an
   * accent from its letter, so the cut moves back by one. */
  GString *text = g_string_new (NULL);
  g_autoptr(GPtrArray) pieces = NULL;
  guint i;

  g_string_append (text, "a");
  for (i = 0; i < 20; i++)
    g_string_append (text, "e\xcc\x81");

  pieces = _stache_chunk_text (text->str, FALSE, 16, 0);

  g_assert_cmpuint (pieces->len, ==, 3);
  g_assert_cmpint (char_length (piece_at (pieces, 0)->text), ==, 15);
  for (i = 1; i < pieces->len; i++)
    g_assert_false (g_unichar_ismark (g_utf8_get_char (piece_at (pieces, i)->text)));

  g_string_free (text, TRUE);
}

static void
test_start_offsets (void)
{
  /* Offsets count characters, so the multibyte text before the second
   * paragraph must not shift them. */
  const char *text = "Ça été très élégant.\n\nNaïve café crème brûlée.";
  g_autoptr(GPtrArray) pieces = _stache_chunk_text (text, FALSE, 24, 0);

  g_assert_cmpuint (pieces->len, ==, 2);
  g_assert_cmpuint (piece_at (pieces, 0)->start, ==, 0);
  g_assert_cmpuint (piece_at (pieces, 1)->start, ==, 22);
  g_assert_cmpstr (g_utf8_offset_to_pointer (text, piece_at (pieces, 1)->start), ==,
                   piece_at (pieces, 1)->text);
}

static void
test_clamp_arguments (void)
{
  g_autofree char *text = g_strnfill (100, 'z');
  g_autoptr(GPtrArray) tiny = _stache_chunk_text (text, FALSE, 1, 0);
  g_autoptr(GPtrArray) zero = _stache_chunk_text ("some words here", FALSE, 0, 0);
  g_autoptr(GPtrArray) overlap = NULL;
  guint i;

  /* A chunk_size under 16 is taken as 16. */
  g_assert_cmpuint (tiny->len, ==, 7);
  g_assert_cmpint (char_length (piece_at (tiny, 0)->text), ==, 16);
  g_assert_cmpuint (zero->len, ==, 1);

  /* An overlap larger than half a piece is taken as half a piece. */
  overlap = _stache_chunk_text ("aa bb cc dd ee ff gg hh ii jj kk ll mm nn oo pp qq rr ss tt",
                                FALSE, 20, 1000);
  for (i = 0; i < overlap->len; i++)
    g_assert_cmpint (char_length (piece_at (overlap, i)->text), <=, 20 + 10);
  g_assert_cmpuint (overlap->len, >, 1);
}

/* Where a piece's own text starts in it: the earliest suffix, after
 * whitespace, that the input continues with at the piece's start. */
static const char *
find_own_text (const StacheTextPiece *piece,
               const char            *input_at_start,
               gsize                  limit)
{
  gsize length = strlen (piece->text);
  gsize k;

  for (k = 0; k <= MIN (limit, length); k++)
    {
      if (k > 0 && !g_ascii_isspace (piece->text[k - 1]))
        continue;
      if (strncmp (piece->text + k, input_at_start, length - k) == 0)
        return piece->text + k;
    }

  return NULL;
}

static void
test_overlap (void)
{
  const char *text =
    "The quick brown fox jumps over the lazy dog. Pack my box with five dozen "
    "liquor jugs. How vexingly quick daft zebras jump. Sphinx of black quartz, "
    "judge my vow.";
  g_autoptr(GPtrArray) pieces = _stache_chunk_text (text, FALSE, 50, 20);
  guint i;

  g_assert_cmpuint (pieces->len, >, 2);
  g_assert_cmpstr (piece_at (pieces, 0)->text, ==, "The quick brown fox jumps over the lazy dog.");
  g_assert_cmpstr (piece_at (pieces, 1)->text, ==,
                   "over the lazy dog. Pack my box with five dozen liquor jugs.");

  for (i = 1; i < pieces->len; i++)
    {
      StacheTextPiece *prev = piece_at (pieces, i - 1);
      StacheTextPiece *piece = piece_at (pieces, i);
      const char *own = find_own_text (piece, g_utf8_offset_to_pointer (text, piece->start), 100);
      g_autofree char *overlap = NULL;
      gsize prev_length = strlen (prev->text);

      /* The piece is: words from the end of the previous piece, a space,
       * then its own text from the input. */
      g_assert_nonnull (own);
      g_assert_true (own > piece->text + 1);
      g_assert_cmpint (own[-1], ==, ' ');
      overlap = g_strndup (piece->text, own - 1 - piece->text);
      g_assert_cmpint (char_length (overlap) + 1, <=, 20);
      g_assert_true (g_str_has_suffix (prev->text, overlap));
      /* Whole words: the overlap starts where a word of the previous
       * piece starts. */
      g_assert_true (prev_length == strlen (overlap) ||
                     prev->text[prev_length - strlen (overlap) - 1] == ' ');
      g_assert_cmpint (char_length (piece->text), <=, 50 + 20);
    }
}

static void
test_no_overlap (void)
{
  const char *text = "one two three four five six seven eight nine ten eleven twelve";
  g_autoptr(GPtrArray) pieces = _stache_chunk_text (text, FALSE, 20, 0);
  guint i;

  g_assert_cmpuint (pieces->len, >, 2);
  for (i = 0; i < pieces->len; i++)
    g_assert_true (g_str_has_prefix (g_utf8_offset_to_pointer (text, piece_at (pieces, i)->start),
                                     piece_at (pieces, i)->text));
}

/* A long text with every shape the chunker handles: paragraphs of
 * sentences, sentences without punctuation, giant words, multibyte words,
 * runs of blank lines. Every word is unique, so a piece's own text can be
 * found in the input without ambiguity. */
static char *
make_long_text (gsize target)
{
  GString *text = g_string_new (NULL);
  GRand *rand = g_rand_new_with_seed (42);
  guint counter = 0;

  while (text->len < target)
    {
      guint sentences = g_rand_int_range (rand, 1, 12);
      guint s;

      for (s = 0; s < sentences; s++)
        {
          guint words = g_rand_int_range (rand, 1, 25);
          guint kind = g_rand_int_range (rand, 0, 40);
          guint w;

          if (kind == 0)
            words = 400; /* a sentence longer than any piece */

          for (w = 0; w < words; w++)
            {
              if (kind == 1 && w == words / 2)
                {
                  /* a word longer than any piece */
                  g_autofree char *long_word = g_strnfill (g_rand_int_range (rand, 200, 700), 'q');

                  g_string_append_printf (text, "L%u%s ", counter++, long_word);
                }
              else if (g_rand_int_range (rand, 0, 10) == 0)
                g_string_append_printf (text, "été%u日本 ", counter++);
              else
                g_string_append_printf (text, "w%u ", counter++);
            }

          g_string_truncate (text, text->len - 1);
          g_string_append (text, kind == 0 ? " " : g_rand_boolean (rand) ? ". " : "? ");
        }

      g_string_append (text, g_rand_int_range (rand, 0, 5) == 0 ? "\n\n\n  \n" :
                             g_rand_boolean (rand) ? "\n\n" : "\n");
    }

  g_rand_free (rand);

  return g_string_free (text, FALSE);
}

static void
check_pieces_cover_text (const char *text,
                         GPtrArray  *pieces,
                         guint       chunk_size,
                         guint       overlap)
{
  g_autoptr(GString) covered = g_string_new (NULL);
  g_autofree char *expected = strip_space (text);
  const char *cursor = text;
  guint cursor_offset = 0;
  gsize previous_end = 0;
  guint i;

  for (i = 0; i < pieces->len; i++)
    {
      StacheTextPiece *piece = piece_at (pieces, i);
      const char *own;
      g_autofree char *own_stripped = NULL;

      g_assert_true (g_utf8_validate (piece->text, -1, NULL));
      g_assert_cmpint (char_length (piece->text), <=, chunk_size + overlap);
      g_assert_cmpuint (piece->start, >=, previous_end);

      cursor = g_utf8_offset_to_pointer (cursor, piece->start - cursor_offset);
      cursor_offset = piece->start;

      own = find_own_text (piece, cursor, (gsize) (overlap + 2) * 4);
      g_assert_nonnull (own);
      g_assert_cmpint (char_length (own), <=, chunk_size);

      if (own != piece->text)
        {
          g_autofree char *prefix = g_strndup (piece->text, own - piece->text);
          StacheTextPiece *prev = piece_at (pieces, i - 1);

          g_assert_cmpint (char_length (prefix), <=, overlap);
          g_strchomp (prefix);
          g_assert_true (g_str_has_suffix (prev->text, prefix));
        }

      previous_end = piece->start + char_length (own);
      own_stripped = strip_space (own);
      g_string_append (covered, own_stripped);
    }

  g_assert_cmpuint (covered->len, ==, strlen (expected));
  g_assert_true (strcmp (covered->str, expected) == 0);
}

static void
test_bounds_and_coverage (void)
{
  g_autofree char *text = make_long_text (200 * 1024);
  g_autoptr(GPtrArray) pieces = _stache_chunk_text (text, FALSE, 200, 40);
  g_autoptr(GPtrArray) no_overlap = _stache_chunk_text (text, FALSE, 173, 0);

  g_assert_cmpuint (pieces->len, >, 1000);
  check_pieces_cover_text (text, pieces, 200, 40);
  check_pieces_cover_text (text, no_overlap, 173, 0);
}

static void
test_overlap_is_whole_words (void)
{
  g_autofree char *text = make_long_text (50 * 1024);
  g_autoptr(GPtrArray) pieces = _stache_chunk_text (text, FALSE, 120, 30);
  guint with_overlap = 0;
  guint i;

  for (i = 1; i < pieces->len; i++)
    {
      StacheTextPiece *piece = piece_at (pieces, i);
      const char *own = g_utf8_offset_to_pointer (text, piece->start);
      const char *space;
      g_autofree char *first_word = NULL;

      if (g_str_has_prefix (own, piece->text))
        continue;

      /* The first word of the piece is a whole word of the previous
       * piece: bounded by spaces or the piece's edges there. */
      space = piece->text + strcspn (piece->text, " \n");
      first_word = g_strndup (piece->text, space - piece->text);
      g_assert_nonnull (strstr (piece_at (pieces, i - 1)->text, first_word));
      g_assert_true (g_str_has_prefix (first_word, "w") || g_str_has_prefix (first_word, "été") ||
                     g_str_has_prefix (first_word, "L"));
      with_overlap++;
    }

  g_assert_cmpuint (with_overlap, >, pieces->len / 2);
}

static void
test_markdown_heading_paths (void)
{
  const char *text =
    "Preamble before any heading.\n"
    "\n"
    "# Guide\n"
    "Intro text.\n"
    "\n"
    "## Setup ##\n"
    "Setup text.\n"
    "\n"
    "### Deep\n"
    "Deep text.\n"
    "\n"
    "## Usage\n"
    "Usage text.\n"
    "\n"
    "# Other\n"
    "Other text.\n";
  g_autoptr(GPtrArray) pieces = _stache_chunk_text (text, TRUE, 500, 50);

  g_assert_cmpuint (pieces->len, ==, 6);
  g_assert_null (piece_at (pieces, 0)->heading_path);
  g_assert_cmpstr (piece_at (pieces, 1)->heading_path, ==, "Guide");
  g_assert_cmpstr (piece_at (pieces, 2)->heading_path, ==, "Guide > Setup");
  g_assert_cmpstr (piece_at (pieces, 3)->heading_path, ==, "Guide > Setup > Deep");
  g_assert_cmpstr (piece_at (pieces, 4)->heading_path, ==, "Guide > Usage");
  g_assert_cmpstr (piece_at (pieces, 5)->heading_path, ==, "Other");
}

static void
test_markdown_sections_not_mixed (void)
{
  /* The whole text would fit in one piece, but a piece holds one section,
   * and overlap does not carry text across sections either. */
  const char *text = "# One\nFirst section.\n# Two\nSecond section.";
  g_autoptr(GPtrArray) pieces = _stache_chunk_text (text, TRUE, 1000, 100);

  g_assert_cmpuint (pieces->len, ==, 2);
  g_assert_cmpstr (piece_at (pieces, 0)->text, ==, "# One\nFirst section.");
  g_assert_cmpstr (piece_at (pieces, 1)->text, ==, "# Two\nSecond section.");
  g_assert_cmpuint (piece_at (pieces, 1)->start, ==, 21);
}

static void
test_markdown_heading_included (void)
{
  const char *text =
    "# Install\n"
    "\n"
    "Download the archive. Unpack it somewhere. Run the installer as root. "
    "Reboot when it asks. Log in again.";
  g_autoptr(GPtrArray) pieces = _stache_chunk_text (text, TRUE, 50, 0);
  guint i;

  /* The paragraph is too long for one piece; the heading does not become
   * a piece of its own but starts the first piece of the section. */
  g_assert_cmpuint (pieces->len, >=, 2);
  g_assert_true (g_str_has_prefix (piece_at (pieces, 0)->text, "# Install\n\nDownload the archive."));
  g_assert_cmpuint (piece_at (pieces, 0)->start, ==, 0);
  for (i = 0; i < pieces->len; i++)
    {
      g_assert_cmpstr (piece_at (pieces, i)->heading_path, ==, "Install");
      g_assert_cmpint (char_length (piece_at (pieces, i)->text), <=, 50);
    }
}

static void
test_markdown_heading_not_alone (void)
{
  /* The paragraph fits a piece, but not with the heading: it is cut at a
   * sentence so the heading starts a piece with text, not one alone. */
  const char *text =
    "# Getting started\n"
    "\n"
    "Stache stores documents for AI. It is written in C and uses GObject.";
  g_autoptr(GPtrArray) pieces = _stache_chunk_text (text, TRUE, 80, 0);

  g_assert_cmpuint (pieces->len, ==, 2);
  g_assert_cmpstr (piece_at (pieces, 0)->text, ==,
                   "# Getting started\n\nStache stores documents for AI.");
  g_assert_cmpstr (piece_at (pieces, 1)->text, ==, "It is written in C and uses GObject.");
}

static void
test_markdown_heading_before_code (void)
{
  /* A code block that fits a piece is not cut, even to keep the heading
   * company. */
  const char *text =
    "## Build\n"
    "```\n"
    "meson setup build --prefix=/usr\n"
    "ninja -C build install\n"
    "```";
  g_autoptr(GPtrArray) pieces = _stache_chunk_text (text, TRUE, 64, 0);

  g_assert_cmpuint (pieces->len, ==, 2);
  g_assert_cmpstr (piece_at (pieces, 0)->text, ==, "## Build");
  g_assert_cmpstr (piece_at (pieces, 1)->text, ==, text + strlen ("## Build\n"));
  g_assert_cmpstr (piece_at (pieces, 1)->heading_path, ==, "Build");
}

static void
test_markdown_not_headings (void)
{
  const char *text = "#hashtag and\n#5 are text.\n    # indented code\n# Real\nbody";
  g_autoptr(GPtrArray) pieces = _stache_chunk_text (text, TRUE, 200, 0);
  g_autoptr(GPtrArray) plain = _stache_chunk_text (text, FALSE, 200, 0);

  g_assert_cmpuint (pieces->len, ==, 2);
  g_assert_null (piece_at (pieces, 0)->heading_path);
  g_assert_cmpstr (piece_at (pieces, 1)->heading_path, ==, "Real");

  /* Without markdown, nothing is a heading. */
  g_assert_cmpuint (plain->len, ==, 1);
  g_assert_null (piece_at (plain, 0)->heading_path);
}

static void
test_markdown_fence_kept (void)
{
  const char *fence =
    "```python\n"
    "def f():\n"
    "\n"
    "    return 1. Done\n"
    "# not a heading\n"
    "```";
  g_autofree char *text = g_strconcat ("# Code\n\n",
                                       "An introduction that is long enough to fill.\n\n",
                                       fence,
                                       "\n\nAfter the code.", NULL);
  g_autoptr(GPtrArray) pieces = _stache_chunk_text (text, TRUE, 70, 0);
  gboolean found = FALSE;
  guint i;

  for (i = 0; i < pieces->len; i++)
    {
      StacheTextPiece *piece = piece_at (pieces, i);

      /* "# not a heading" is code: the path never changes. */
      g_assert_cmpstr (piece->heading_path, ==, "Code");
      if (strstr (piece->text, "def f") != NULL)
        {
          g_assert_nonnull (strstr (piece->text, fence));
          found = TRUE;
        }
    }

  g_assert_true (found);
}

static void
test_markdown_fence_oversized (void)
{
  GString *text = g_string_new ("## Listing\n\n~~~\n");
  g_autoptr(GPtrArray) pieces = NULL;
  guint i;

  for (i = 0; i < 30; i++)
    g_string_append_printf (text, "line_%02u = value\n", i);
  g_string_append (text, "~~~\n");

  pieces = _stache_chunk_text (text->str, TRUE, 60, 0);

  /* Bigger than a piece: cut between lines, never inside one. */
  g_assert_cmpuint (pieces->len, >, 5);
  for (i = 0; i < pieces->len; i++)
    {
      g_auto(GStrv) lines = g_strsplit (piece_at (pieces, i)->text, "\n", -1);
      guint j;

      g_assert_cmpint (char_length (piece_at (pieces, i)->text), <=, 60);
      for (j = 0; lines[j] != NULL; j++)
        g_assert_true (g_str_has_prefix (lines[j], "line_") || g_str_has_prefix (lines[j], "~~~") ||
                       g_str_has_prefix (lines[j], "## Listing") || lines[j][0] == '\0');
      for (j = 0; lines[j] != NULL; j++)
        if (g_str_has_prefix (lines[j], "line_"))
          g_assert_cmpuint (strlen (lines[j]), ==, strlen ("line_00 = value"));
    }

  g_string_free (text, TRUE);
}

static void
test_markdown_unclosed_fence (void)
{
  const char *text = "# A\ntext\n```\n# B inside\nmore";
  g_autoptr(GPtrArray) pieces = _stache_chunk_text (text, TRUE, 200, 0);

  g_assert_cmpuint (pieces->len, ==, 1);
  g_assert_cmpstr (piece_at (pieces, 0)->heading_path, ==, "A");
  g_assert_cmpstr (piece_at (pieces, 0)->text, ==, text);
}

static void
test_invalid_utf8 (void)
{
  const char *text = "valid \xff\xfe then more \xc3 text";
  g_autoptr(GPtrArray) pieces = _stache_chunk_text (text, FALSE, 16, 4);
  guint i;

  g_assert_cmpuint (pieces->len, >, 0);
  for (i = 0; i < pieces->len; i++)
    g_assert_true (g_utf8_validate (piece_at (pieces, i)->text, -1, NULL));
}

static void
test_fuzz (void)
{
  static const char * const parts[] = {
    "# ", "## ", "###### ", "#", "```", "~~~", "\n", "\n\n", " ", "\t", ".", "!", "?", "…",
    "。", "”", ")", "word", "longerword", "é", "日本語", "\xcc\x81", "\xc2\xa0", "\r\n",
    "\xff", "\xe3\x80", "3.14", "a",
  };
  GRand *rand = g_rand_new_with_seed (99);
  guint i;

  for (i = 0; i < 2000; i++)
    {
      GString *text = g_string_new (NULL);
      guint count = g_rand_int_range (rand, 0, 400);
      guint chunk_size = g_rand_int_range (rand, 0, 80);
      guint overlap = g_rand_int_range (rand, 0, 60);
      g_autoptr(GPtrArray) pieces = NULL;
      guint j;

      for (j = 0; j < count; j++)
        g_string_append (text, parts[g_rand_int_range (rand, 0, G_N_ELEMENTS (parts))]);

      pieces = _stache_chunk_text (text->str, g_rand_boolean (rand), chunk_size, overlap);
      for (j = 0; j < pieces->len; j++)
        {
          const char *piece = piece_at (pieces, j)->text;
          glong length = char_length (piece);
          guint size = MAX (chunk_size, 16);

          g_assert_true (g_utf8_validate (piece, -1, NULL));
          g_assert_cmpint (length, >, 0);
          g_assert_cmpint (length, <=, size + MIN (overlap, size / 2));
          g_assert_false (g_unichar_isspace (g_utf8_get_char (piece)));
          g_assert_false (g_unichar_isspace (g_utf8_get_char (g_utf8_prev_char (piece + strlen (piece)))));
        }

      g_string_free (text, TRUE);
    }

  g_rand_free (rand);
}

static void
test_huge_single_line (void)
{
  const gsize size = 5 * 1024 * 1024;
  GString *words = g_string_sized_new (size + 16);
  g_autofree char *one_word = g_strnfill (size, 'a');
  g_autoptr(GPtrArray) pieces = NULL;
  g_autoptr(GPtrArray) cut = NULL;
  gint64 begin;
  guint i;

  for (i = 0; words->len < size; i++)
    g_string_append_printf (words, "word%u ", i);

  begin = g_get_monotonic_time ();
  pieces = _stache_chunk_text (words->str, FALSE, 1000, 100);
  g_test_message ("5 MB of words on one line: %u pieces in %.3f s", pieces->len,
                  (g_get_monotonic_time () - begin) / 1e6);
  g_assert_cmpuint (pieces->len, >, 5000);

  begin = g_get_monotonic_time ();
  cut = _stache_chunk_text (one_word, TRUE, 1000, 100);
  g_test_message ("5 MB single word: %u pieces in %.3f s", cut->len,
                  (g_get_monotonic_time () - begin) / 1e6);
  g_assert_cmpuint (cut->len, ==, (size + 999) / 1000);

  g_string_free (words, TRUE);
}

int
main (int   argc,
      char *argv[])
{
  g_test_init (&argc, &argv, NULL);

  g_test_add_func ("/chunker/empty", test_empty);
  g_test_add_func ("/chunker/fits-in-one", test_fits_in_one);
  g_test_add_func ("/chunker/paragraphs-first", test_paragraphs_first);
  g_test_add_func ("/chunker/sentences", test_sentences);
  g_test_add_func ("/chunker/sentence-needs-space", test_sentence_needs_space);
  g_test_add_func ("/chunker/cjk-sentences", test_cjk_sentences);
  g_test_add_func ("/chunker/words", test_words);
  g_test_add_func ("/chunker/giant-word", test_giant_word);
  g_test_add_func ("/chunker/multibyte", test_multibyte);
  g_test_add_func ("/chunker/combining-marks", test_combining_marks);
  g_test_add_func ("/chunker/start-offsets", test_start_offsets);
  g_test_add_func ("/chunker/clamp-arguments", test_clamp_arguments);
  g_test_add_func ("/chunker/overlap", test_overlap);
  g_test_add_func ("/chunker/no-overlap", test_no_overlap);
  g_test_add_func ("/chunker/overlap-whole-words", test_overlap_is_whole_words);
  g_test_add_func ("/chunker/bounds-and-coverage", test_bounds_and_coverage);
  g_test_add_func ("/chunker/markdown/heading-paths", test_markdown_heading_paths);
  g_test_add_func ("/chunker/markdown/sections-not-mixed", test_markdown_sections_not_mixed);
  g_test_add_func ("/chunker/markdown/heading-included", test_markdown_heading_included);
  g_test_add_func ("/chunker/markdown/heading-not-alone", test_markdown_heading_not_alone);
  g_test_add_func ("/chunker/markdown/heading-before-code", test_markdown_heading_before_code);
  g_test_add_func ("/chunker/markdown/not-headings", test_markdown_not_headings);
  g_test_add_func ("/chunker/markdown/fence-kept", test_markdown_fence_kept);
  g_test_add_func ("/chunker/markdown/fence-oversized", test_markdown_fence_oversized);
  g_test_add_func ("/chunker/markdown/unclosed-fence", test_markdown_unclosed_fence);
  g_test_add_func ("/chunker/invalid-utf8", test_invalid_utf8);
  g_test_add_func ("/chunker/fuzz", test_fuzz);
  g_test_add_func ("/chunker/huge-single-line", test_huge_single_line);

  return g_test_run ();
}

/* stache-chunker.c: splitting text into chunks
 *
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */
#include "config.h"

#include <string.h>

#include "stache-private.h"
#include "stache-chunker-private.h"

/* How it works
 *
 * The text is read once, line by line, into blocks: paragraphs (runs of
 * non-blank lines) and, with Markdown, heading lines and fenced code
 * blocks. Blocks are handed to a packer that keeps one open piece and
 * extends it while the result stays within chunk_size characters.
 *
 * A block too big for any piece is split one level down (sentences, or
 * lines for code; then words; then fixed runs of characters) and the parts
 * go to the same packer. The open piece is closed before and after such a
 * split, so a piece never mixes a fragment of one paragraph with another
 * paragraph: cuts happen at the coarsest boundary that works. The one
 * exception is a Markdown heading, which stays open so that it starts the
 * piece holding the first text of its section.
 *
 * When a piece is closed, the end of the previous piece (whole words) is
 * put in front of it as overlap; the overlap is not counted against
 * chunk_size, so where the cuts fall does not depend on it.
 *
 * Nothing is copied until a piece is closed: pieces are located by byte
 * offsets into the input (to copy them) and character offsets (to measure
 * them), so the whole run is linear in the size of the input whatever its
 * shape (one huge line, one huge word, millions of tiny paragraphs). */

#define MIN_CHUNK_SIZE 16
#define MAX_HEADING_LEVEL 6

/* A position in the input: byte offset and character offset. */
typedef struct
{
  gsize b;
  gsize c;
} Pos;

/* A stretch of the input, end exclusive, never starting or ending with
 * whitespace. */
typedef struct
{
  Pos start;
  Pos end;
} Span;

typedef enum
{
  LEVEL_BLOCK,
  LEVEL_SENTENCE,
  LEVEL_LINE,
  LEVEL_WORD,
  LEVEL_CHAR,
} Level;

typedef enum
{
  KIND_TEXT,
  KIND_HEADING,
  KIND_CODE,
} Kind;

typedef struct
{
  const char *text;
  gsize       chunk_size;
  gsize       overlap;
  GPtrArray  *pieces;

  /* Markdown headings enclosing the current position, by level. */
  char       *headings[MAX_HEADING_LEVEL];
  char       *heading_path;

  /* The open piece, not yet copied out. */
  gboolean    have_pack;
  gboolean    pack_heading_only;
  Span        pack;

  /* The last piece closed in the current section, for the overlap. */
  gboolean    have_prev;
  Span        prev;
} Chunker;

/* One line of the input, as found by scan_line(). */
typedef struct
{
  Pos      start;        /* first byte of the line */
  Pos      content;      /* first non-whitespace character */
  Pos      content_end;  /* after the last non-whitespace character */
  gboolean blank;        /* nothing but whitespace */
} Line;

static void feed (Chunker    *self,
                  const Span *segment,
                  Level       level,
                  Kind        kind);

void
_stache_text_piece_free (StacheTextPiece *piece)
{
  if (piece == NULL)
    return;

  g_free (piece->text);
  g_free (piece->heading_path);
  g_free (piece);
}

static inline gunichar
char_at (const char *text,
         Pos         pos)
{
  guchar byte = (guchar) text[pos.b];

  /* Most text is ASCII; skip the decoder for it. */
  if (byte < 0x80)
    return byte;

  return g_utf8_get_char (text + pos.b);
}

static inline void
advance (const char *text,
         Pos        *pos)
{
  pos->b += g_utf8_skip[(guchar) text[pos->b]];
  pos->c++;
}

static inline gboolean
is_space (gunichar ch)
{
  if (ch < 0x80)
    return g_ascii_isspace (ch);

  return g_unichar_isspace (ch);
}

/* Sentence-ending punctuation that needs whitespace after it to count: a
 * dot in "3.14" or "example.org" does not end anything. */
static inline gboolean
is_terminator (gunichar ch)
{
  return ch == '.' || ch == '!' || ch == '?' || ch == 0x2026 /* … */;
}

/* CJK full stops end a sentence by themselves: those scripts put no space
 * between sentences. */
static inline gboolean
is_cjk_terminator (gunichar ch)
{
  return ch == 0x3002 /* 。 */ || ch == 0xFF01 /* ！ */ || ch == 0xFF1F /* ？ */;
}

/* Closing quotes and brackets that belong to the sentence they end, as in
 * (Like this.) or «Comme ça.» */
static inline gboolean
is_closer (gunichar ch)
{
  switch (ch)
    {
    case '"':
    case '\'':
    case ')':
    case ']':
    case '}':
    case 0x00BB: /* » */
    case 0x2019: /* ’ */
    case 0x201D: /* ” */
    case 0x300D: /* 」 */
    case 0x300F: /* 』 */
    case 0xFF09: /* ） */
      return TRUE;
    default:
      return FALSE;
    }
}

/* Reads the line at @pos (up to a '\n' or @limit) and moves @pos past it
 * and its '\n'. A '\r' before the '\n' is whitespace, so CRLF text that
 * was not normalised still has blank lines where it should. */
static gboolean
is_ascii_run (const char *p,
              gsize       len)
{
  guint64 bits = 0;
  gsize i = 0;

  for (; i + 8 <= len; i += 8)
    {
      guint64 word;

      memcpy (&word, p + i, 8);
      bits |= word;
    }
  for (; i < len; i++)
    bits |= (guchar) p[i];

  return (bits & G_GUINT64_CONSTANT (0x8080808080808080)) == 0;
}

static void
scan_line (const char *text,
           gsize       limit,
           Pos        *pos,
           Line       *line)
{
  const char *newline = memchr (text + pos->b, '\n', limit - pos->b);
  gsize line_end = newline != NULL ? (gsize) (newline - text) : limit;

  /* An ASCII line, the common case: one byte a character, so the
   * positions follow from byte offsets. */
  if (is_ascii_run (text + pos->b, line_end - pos->b))
    {
      gsize first = pos->b, last = line_end;

      while (first < last && g_ascii_isspace (text[first]))
        first++;
      while (last > first && g_ascii_isspace (text[last - 1]))
        last--;

      line->start = *pos;
      line->blank = first == last;
      line->content = *pos;
      line->content_end = *pos;
      if (!line->blank)
        {
          line->content.b = first;
          line->content.c = pos->c + (first - pos->b);
          line->content_end.b = last;
          line->content_end.c = pos->c + (last - pos->b);
        }

      pos->c += line_end - pos->b;
      pos->b = line_end;
      if (pos->b < limit)
        {
          pos->b++;
          pos->c++;
        }
      return;
    }

  line->start = *pos;
  line->content = *pos;
  line->content_end = *pos;
  line->blank = TRUE;

  while (pos->b < limit && text[pos->b] != '\n')
    {
      gunichar ch = char_at (text, *pos);

      if (is_space (ch))
        {
          advance (text, pos);
          continue;
        }

      if (line->blank)
        {
          line->content = *pos;
          line->blank = FALSE;
        }
      advance (text, pos);
      line->content_end = *pos;
    }

  if (pos->b < limit)
    {
      /* The '\n' itself. */
      pos->b++;
      pos->c++;
    }
}

/* CommonMark lets block markers be indented by up to three spaces; more
 * makes an indented code block, which we do not treat specially. */
static gboolean
has_block_indent (const char *text,
                  const Line *line)
{
  gsize i;

  if (line->content.b - line->start.b > 3)
    return FALSE;

  for (i = line->start.b; i < line->content.b; i++)
    if (text[i] != ' ')
      return FALSE;

  return TRUE;
}

/* Returns the level (1–6) of an ATX heading line, or 0. */
static guint
heading_level (const char *text,
               const Line *line)
{
  gsize i = line->content.b;
  guint level = 0;

  if (line->blank || !has_block_indent (text, line))
    return 0;

  while (i < line->content_end.b && text[i] == '#')
    {
      level++;
      i++;
    }

  if (level == 0 || level > MAX_HEADING_LEVEL)
    return 0;

  /* "#hashtag" and "#5" are text; a heading needs a space after its
   * marker. The content end is trimmed, so "# " alone ends right here. */
  if (text[i] != ' ' && text[i] != '\t')
    return 0;

  return level;
}

/* The text of a heading line: marker and optional closing "###" removed. */
static char *
heading_text (const char *text,
              const Line *line,
              guint       level)
{
  const char *start = text + line->content.b + level;
  const char *end = text + line->content_end.b;
  const char *closing;

  while (start < end && g_ascii_isspace (*start))
    start++;

  /* A closing sequence is a run of '#' preceded by a space, or the whole
   * content ("## ##"); "C#" keeps its '#'. */
  closing = end;
  while (closing > start && closing[-1] == '#')
    closing--;
  if (closing == start || g_ascii_isspace (closing[-1]))
    end = closing;

  while (end > start && g_ascii_isspace (end[-1]))
    end--;

  return g_strndup (start, end - start);
}

/* Returns the length of the fence run if @line opens a fenced code block
 * (``` or ~~~), 0 otherwise. */
static gsize
fence_length (const char *text,
              const Line *line,
              char       *fence_char)
{
  gsize i = line->content.b;
  char ch;
  gsize length = 0;

  if (line->blank || !has_block_indent (text, line))
    return 0;

  ch = text[i];
  if (ch != '`' && ch != '~')
    return 0;

  while (i < line->content_end.b && text[i] == ch)
    {
      length++;
      i++;
    }

  if (length < 3)
    return 0;

  /* "```code```" on one line is inline code, not a fence: a backtick
   * fence's info string cannot contain backticks. */
  if (ch == '`' && memchr (text + i, '`', line->content_end.b - i) != NULL)
    return 0;

  *fence_char = ch;

  return length;
}

/* Whether @line closes a fence opened with @length @fence_char. */
static gboolean
closes_fence (const char *text,
              const Line *line,
              char        fence_char,
              gsize       length)
{
  gsize i;

  if (line->blank || !has_block_indent (text, line))
    return FALSE;

  for (i = line->content.b; i < line->content_end.b; i++)
    if (text[i] != fence_char)
      return FALSE;

  return line->content_end.b - line->content.b >= length;
}

/* The separator put between the overlap and the piece's own text: the
 * kind of break that was there in the input, but never the input's own
 * whitespace, which could be arbitrarily long. */
static const char *
overlap_separator (const char *text,
                   gsize       from,
                   gsize       to)
{
  guint newlines = 0;
  gsize i;

  for (i = from; i < to && newlines < 2; i++)
    if (text[i] == '\n')
      newlines++;

  return newlines >= 2 ? "\n\n" : newlines == 1 ? "\n" : " ";
}

/* Appends to @piece the end of the previous piece, whole words only, at
 * most self->overlap characters with the separator. */
static void
append_overlap (Chunker *self,
                GString *piece)
{
  const char *text = self->text;
  const Span *prev = &self->prev;
  const char *separator;
  gsize separator_length;
  gsize budget;
  gsize count = 0;
  gsize q;

  /* No whitespace between the pieces means the previous one was cut
   * inside a word (or a CJK sentence): there is no whole word to repeat,
   * and a separator would split the word in two. */
  if (prev->end.b >= self->pack.start.b)
    return;

  separator = overlap_separator (text, prev->end.b, self->pack.start.b);
  separator_length = strlen (separator);
  if (self->overlap <= separator_length)
    return;
  budget = self->overlap - separator_length;

  q = prev->end.b;
  while (q > prev->start.b && count < budget)
    {
      q = g_utf8_prev_char (text + q) - text;
      count++;
    }

  /* Stopped by the budget in the middle of a word, or the previous piece
   * itself started inside a word (the tail of a word cut in pieces): drop
   * that partial word, then the whitespace after it. */
  if (q > 0)
    {
      Pos pos = { q, 0 };

      if (!is_space (g_utf8_get_char (g_utf8_prev_char (text + q))))
        while (pos.b < prev->end.b && !is_space (char_at (text, pos)))
          advance (text, &pos);
      while (pos.b < prev->end.b && is_space (char_at (text, pos)))
        advance (text, &pos);
      q = pos.b;
    }

  if (q >= prev->end.b)
    return;

  g_string_append_len (piece, text + q, prev->end.b - q);
  g_string_append (piece, separator);
}

/* Closes the open piece, if any, and copies it out. */
static void
flush (Chunker *self)
{
  StacheTextPiece *piece;
  GString *string;

  if (!self->have_pack)
    return;

  string = g_string_new (NULL);
  if (self->have_prev && self->overlap > 0)
    append_overlap (self, string);
  g_string_append_len (string, self->text + self->pack.start.b,
                       self->pack.end.b - self->pack.start.b);

  piece = g_new0 (StacheTextPiece, 1);
  piece->text = g_string_free (string, FALSE);
  piece->heading_path = g_strdup (self->heading_path);
  piece->start = (guint) MIN (self->pack.start.c, G_MAXUINT);
  g_ptr_array_add (self->pieces, piece);

  self->have_prev = TRUE;
  self->prev = self->pack;
  self->have_pack = FALSE;
}

static void
emit (Chunker *self,
      Pos      start,
      Pos      end,
      Level    level,
      Kind     kind)
{
  Span segment = { start, end };

  feed (self, &segment, level, kind);
}

/* Sentences end after . ! ? … followed by whitespace (with any closing
 * quotes or brackets), or after a CJK full stop. */
static void
split_sentences (Chunker    *self,
                 const Span *span)
{
  const char *text = self->text;
  Pos pos = span->start;
  Pos sentence = span->start;
  Pos last = span->start;
  gboolean in_sentence = FALSE;

  while (pos.b < span->end.b)
    {
      gunichar ch = char_at (text, pos);
      gboolean cjk;

      if (is_space (ch))
        {
          advance (text, &pos);
          continue;
        }

      if (!in_sentence)
        {
          sentence = pos;
          in_sentence = TRUE;
        }

      if (!is_terminator (ch) && !is_cjk_terminator (ch))
        {
          advance (text, &pos);
          last = pos;
          continue;
        }

      /* Take the whole run: "?!", "...", ".)" */
      cjk = FALSE;
      while (pos.b < span->end.b)
        {
          ch = char_at (text, pos);
          if (is_cjk_terminator (ch))
            cjk = TRUE;
          else if (!is_terminator (ch) && !is_closer (ch))
            break;
          advance (text, &pos);
        }
      last = pos;

      if (cjk || pos.b >= span->end.b || is_space (char_at (text, pos)))
        {
          emit (self, sentence, pos, LEVEL_SENTENCE, KIND_TEXT);
          in_sentence = FALSE;
        }
    }

  if (in_sentence)
    emit (self, sentence, last, LEVEL_SENTENCE, KIND_TEXT);
}

/* Code is split at line ends: sentence punctuation means nothing there. */
static void
split_lines (Chunker    *self,
             const Span *span)
{
  Pos pos = span->start;

  while (pos.b < span->end.b)
    {
      Line line;

      scan_line (self->text, span->end.b, &pos, &line);
      if (!line.blank)
        emit (self, line.content, line.content_end, LEVEL_LINE, KIND_TEXT);
    }
}

static void
split_words (Chunker    *self,
             const Span *span)
{
  const char *text = self->text;
  Pos pos = span->start;

  while (pos.b < span->end.b)
    {
      Pos word;

      while (pos.b < span->end.b && is_space (char_at (text, pos)))
        advance (text, &pos);
      if (pos.b >= span->end.b)
        break;

      word = pos;
      while (pos.b < span->end.b && !is_space (char_at (text, pos)))
        advance (text, &pos);

      emit (self, word, pos, LEVEL_WORD, KIND_TEXT);
    }
}

/* The last resort for a word longer than a piece: runs of chunk_size
 * characters, moved back so that an accent stays with its letter. */
static void
split_chars (Chunker    *self,
             const Span *span)
{
  const char *text = self->text;
  Pos pos = span->start;

  while (pos.b < span->end.b)
    {
      Pos start = pos;
      gsize count = 0;

      while (pos.b < span->end.b && count < self->chunk_size)
        {
          advance (text, &pos);
          count++;
        }

      if (pos.b < span->end.b && g_unichar_ismark (char_at (text, pos)))
        {
          Pos back = pos;

          while (back.b > start.b && g_unichar_ismark (char_at (text, back)))
            {
              back.b = g_utf8_prev_char (text + back.b) - text;
              back.c--;
            }

          /* A run made only of combining marks is cut where it is. */
          if (back.b > start.b)
            pos = back;
        }

      emit (self, start, pos, LEVEL_CHAR, KIND_TEXT);
    }
}

static void
descend (Chunker    *self,
         const Span *segment,
         Level       level,
         Kind        kind)
{
  switch (level)
    {
    case LEVEL_BLOCK:
      if (kind == KIND_CODE)
        split_lines (self, segment);
      else if (kind == KIND_HEADING)
        split_words (self, segment);
      else
        split_sentences (self, segment);
      break;

    case LEVEL_SENTENCE:
    case LEVEL_LINE:
      split_words (self, segment);
      break;

    case LEVEL_WORD:
      split_chars (self, segment);
      break;

    case LEVEL_CHAR:
    default:
      /* split_chars() never makes a part longer than chunk_size. */
      g_assert_not_reached ();
    }
}

static void
feed (Chunker    *self,
      const Span *segment,
      Level       level,
      Kind        kind)
{
  gsize length = segment->end.c - segment->start.c;

  if (length > self->chunk_size)
    {
      /* A heading waiting alone stays open, so it lands at the start of
       * the first part of the section's text rather than in a piece of
       * its own. */
      if (!(self->have_pack && self->pack_heading_only))
        flush (self);
      descend (self, segment, level, kind);
      flush (self);
      return;
    }

  if (self->have_pack)
    {
      if (segment->end.c - self->pack.start.c <= self->chunk_size)
        {
          self->pack.end = segment->end;
          self->pack_heading_only = self->pack_heading_only && kind == KIND_HEADING;
          return;
        }

      /* A heading alone makes a useless piece: rather cut the text after
       * it so its first part can join the heading. Not at the cost of
       * cutting a code block that fits a piece, or a word. */
      if (self->pack_heading_only && kind != KIND_CODE && level < LEVEL_WORD)
        {
          descend (self, segment, level, kind);
          flush (self);
          return;
        }

      flush (self);
    }

  self->have_pack = TRUE;
  self->pack = *segment;
  self->pack_heading_only = (kind == KIND_HEADING);
}

/* A heading line: closes the previous section and updates the path. */
static void
start_section (Chunker    *self,
               const Line *line,
               guint       level)
{
  GString *path = NULL;
  guint i;

  flush (self);
  /* Overlap never reaches across sections: a piece holds one section. */
  self->have_prev = FALSE;

  g_free (self->headings[level - 1]);
  self->headings[level - 1] = heading_text (self->text, line, level);
  for (i = level; i < MAX_HEADING_LEVEL; i++)
    g_clear_pointer (&self->headings[i], g_free);

  for (i = 0; i < MAX_HEADING_LEVEL; i++)
    {
      if (self->headings[i] == NULL || self->headings[i][0] == '\0')
        continue;

      if (path == NULL)
        path = g_string_new (self->headings[i]);
      else
        g_string_append_printf (path, " > %s", self->headings[i]);
    }

  g_free (self->heading_path);
  self->heading_path = path != NULL ? g_string_free (path, FALSE) : NULL;
}

/* Reads the whole input into blocks and feeds them to the packer. */
static void
chunk_blocks (Chunker  *self,
              gboolean  markdown)
{
  const char *text = self->text;
  gsize limit = strlen (text);
  Pos pos = { 0, 0 };
  gboolean in_paragraph = FALSE;
  Span paragraph = { { 0, 0 }, { 0, 0 } };
  gboolean in_fence = FALSE;
  Span fence = { { 0, 0 }, { 0, 0 } };
  char fence_char = '`';
  gsize fence_run = 0;

  while (pos.b < limit)
    {
      Line line;
      guint level;
      gsize run;

      scan_line (text, limit, &pos, &line);

      if (in_fence)
        {
          if (!line.blank)
            fence.end = line.content_end;
          if (closes_fence (text, &line, fence_char, fence_run))
            {
              feed (self, &fence, LEVEL_BLOCK, KIND_CODE);
              in_fence = FALSE;
            }
          continue;
        }

      if (line.blank)
        {
          if (in_paragraph)
            feed (self, &paragraph, LEVEL_BLOCK, KIND_TEXT);
          in_paragraph = FALSE;
          continue;
        }

      if (markdown && (level = heading_level (text, &line)) > 0)
        {
          Span heading = { line.content, line.content_end };

          if (in_paragraph)
            feed (self, &paragraph, LEVEL_BLOCK, KIND_TEXT);
          in_paragraph = FALSE;

          start_section (self, &line, level);
          feed (self, &heading, LEVEL_BLOCK, KIND_HEADING);
          continue;
        }

      if (markdown && (run = fence_length (text, &line, &fence_char)) > 0)
        {
          if (in_paragraph)
            feed (self, &paragraph, LEVEL_BLOCK, KIND_TEXT);
          in_paragraph = FALSE;

          in_fence = TRUE;
          fence_run = run;
          fence.start = line.content;
          fence.end = line.content_end;
          continue;
        }

      if (!in_paragraph)
        {
          in_paragraph = TRUE;
          paragraph.start = line.content;
        }
      paragraph.end = line.content_end;
    }

  /* An unclosed fence runs to the end, as in CommonMark. */
  if (in_fence)
    feed (self, &fence, LEVEL_BLOCK, KIND_CODE);
  if (in_paragraph)
    feed (self, &paragraph, LEVEL_BLOCK, KIND_TEXT);

  flush (self);
}

GPtrArray *
_stache_chunk_text (const char *text,
                    gboolean    markdown,
                    guint       chunk_size,
                    guint       chunk_overlap)
{
  g_autofree char *repaired = NULL;
  Chunker self;
  guint i;

  g_return_val_if_fail (text != NULL, NULL);

  /* The loaders hand over valid UTF-8, but this must not read out of
   * bounds whatever it is given: offsets then refer to the repaired text. */
  if (!_stache_utf8_validate (text))
    {
      repaired = g_utf8_make_valid (text, -1);
      text = repaired;
    }

  memset (&self, 0, sizeof self);
  self.text = text;
  self.chunk_size = MAX (chunk_size, MIN_CHUNK_SIZE);
  self.overlap = MIN (chunk_overlap, self.chunk_size / 2);
  self.pieces = g_ptr_array_new_with_free_func ((GDestroyNotify) _stache_text_piece_free);

  chunk_blocks (&self, markdown);

  for (i = 0; i < MAX_HEADING_LEVEL; i++)
    g_free (self.headings[i]);
  g_free (self.heading_path);

  return self.pieces;
}

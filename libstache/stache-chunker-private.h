/* stache-chunker-private.h: splitting text into chunks
 *
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */
#pragma once

#include <glib.h>

G_BEGIN_DECLS

typedef struct
{
  char  *text;          /* the chunk, valid UTF-8, never empty */
  char  *heading_path;  /* Markdown headings above it, "Intro > Setup", or NULL */
  guint  start;         /* offset of the chunk in the input, in characters */
} StacheTextPiece;

void       _stache_text_piece_free (StacheTextPiece *piece);

/* Splits @text (valid UTF-8) into pieces of at most @chunk_size characters,
 * cutting at paragraph breaks (blank lines) first, then sentence ends
 * (. ! ? … before whitespace; 。！？), then between words, and only inside
 * a word when a single word is longer than @chunk_size. Consecutive
 * paragraphs, sentences or words are packed into a piece while they fit;
 * a piece never mixes a fragment of one paragraph with another paragraph.
 * Pieces are trimmed of surrounding whitespace; lengths count characters,
 * not bytes.
 *
 * Overlap: each piece after the first starts with up to @chunk_overlap
 * characters (whole words and the separator after them) repeated from the
 * end of the previous piece, so a sentence cut in two can still be found.
 * The overlap comes on top of the piece's own text, so a piece has at
 * most @chunk_size + @chunk_overlap characters. There is none after a
 * word cut in two (nothing whole to repeat) nor across Markdown sections.
 * @start is the offset of the piece's own text, after the overlap.
 *
 * With @markdown, ATX heading lines ("#" to "######" then a space) start
 * a new section: a piece never spans two sections, its heading_path is the
 * chain of enclosing headings ("Guide > Setup"; a later "# Other" resets
 * it) and the heading line is the start of the section's first piece.
 * Fenced code blocks (``` or ~~~) are kept whole unless larger than a
 * piece, then cut between lines; "#" lines inside them are not headings.
 * Setext headings (underlined) and indented code are plain paragraphs.
 *
 * @chunk_size below 16 is taken as 16, @chunk_overlap above half of
 * @chunk_size as half of it. Invalid UTF-8 is repaired first (offsets then
 * count U+FFFD as one character). Whitespace-only input gives no pieces.
 * Runs in time linear in the length of @text.
 * Returns a GPtrArray of StacheTextPiece (free func set). */
GPtrArray *_stache_chunk_text      (const char *text,
                                    gboolean    markdown,
                                    guint       chunk_size,
                                    guint       chunk_overlap);

G_END_DECLS

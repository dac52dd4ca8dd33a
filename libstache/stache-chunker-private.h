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
 * cutting at paragraph breaks first, then sentence ends, then between
 * words, and only inside a word when a single word is longer than
 * @chunk_size. Consecutive pieces share about @chunk_overlap characters
 * (whole words) so a sentence cut in two can still be found. With
 * @markdown, headings (# …) start a new piece and each piece records the
 * path of headings above it. Whitespace-only input gives no pieces.
 * Returns a GPtrArray of StacheTextPiece (free func set). */
GPtrArray *_stache_chunk_text      (const char *text,
                                    gboolean    markdown,
                                    guint       chunk_size,
                                    guint       chunk_overlap);

G_END_DECLS

/* stache-loaders-private.h: turning file contents into text
 *
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */
#pragma once

#include <glib.h>

G_BEGIN_DECLS

typedef enum {
  STACHE_TEXT_FORMAT_PLAIN,
  STACHE_TEXT_FORMAT_MARKDOWN,
  STACHE_TEXT_FORMAT_HTML,
} StacheTextFormat;

typedef struct
{
  char             *text;        /* extracted text, valid UTF-8 */
  char             *title;       /* <title>, first Markdown heading, or NULL */
  const char       *media_type;  /* "text/plain", "text/markdown", "text/html" (static) */
  StacheTextFormat  format;      /* of the input; MARKDOWN text keeps its headings */
  gboolean          repaired;    /* invalid UTF-8 was replaced with U+FFFD */
} StacheLoadedText;

void              _stache_loaded_text_free   (StacheLoadedText *loaded);

/* Guesses the format from @filename's extension (.md/.markdown/.mkd →
 * Markdown, .html/.htm/.xhtml → HTML, anything else → plain text, and
 * content starting with <!DOCTYPE html or <html → HTML).
 * Refuses binary data (a NUL byte in the first 8 KiB, or more than 30% of
 * the first 8 KiB not valid UTF-8) with STACHE_ERROR_NOT_SUPPORTED and a
 * message that says "binary" and names @filename. Repairs invalid UTF-8
 * with U+FFFD. Strips a UTF-8 BOM. Normalises line ends to \n.
 * For HTML: drops <script>, <style>, <head> contents except <title>, and
 * comments; turns block elements (p, div, br, li, h1–h6, tr, section …)
 * into line breaks, headings into Markdown-style "# " lines so the chunker
 * keeps them, decodes entities (&amp; &lt; &gt; &quot; &#39; &nbsp; and
 * numeric &#NNN; / &#xHH;), collapses runs of spaces. */
StacheLoadedText *_stache_load_text          (const char  *data,
                                              gsize        length,
                                              const char  *filename,
                                              GError     **error);

G_END_DECLS

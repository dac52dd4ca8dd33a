/* stache-text-formats-private.h: turning file contents into text
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
 * content starting with <!DOCTYPE html or <html, after whitespace, an XML
 * declaration or comments → HTML). @filename may be NULL: then only the
 * content decides.
 *
 * Refuses binary data (a NUL byte in the first 8 KiB, or more than 30% of
 * the first 8 KiB not valid UTF-8) with STACHE_ERROR_NOT_SUPPORTED and a
 * message that says "binary" and names @filename. UTF-16 with a byte order
 * mark is converted to UTF-8 first rather than refused. Repairs invalid
 * UTF-8 (and NUL bytes past the first 8 KiB) with U+FFFD, setting
 * @repaired. Strips a UTF-8 BOM. Normalises line ends to \n. Empty input
 * gives empty text, not an error.
 *
 * Markdown is returned as it is; its title is the first "# " heading
 * outside code fences. Plain text has no title.
 *
 * HTML is turned into Markdown-flavoured text, so that the result can be
 * given to _stache_chunk_text() with markdown=TRUE (format stays HTML):
 * drops <script>, <style> (up to the matching end tag, whatever they
 * contain), <head> contents except <title>, comments, and the contents of
 * noscript, template, svg and iframe; turns block elements (p, div, br,
 * li, h1–h6, tr, section …) into line breaks, headings into "# "-style
 * lines and <pre> into ``` fenced blocks; escapes text lines that would
 * read as headings or fences ("\# of items"); decodes entities (&amp; &lt;
 * &gt; &quot; &apos; &nbsp; and other common named ones, numeric &#NNN; /
 * &#xHH;, with invalid or out-of-range numbers → U+FFFD and &#128;–&#159;
 * read as Windows-1252, as browsers do); collapses runs of whitespace.
 * The title is the first <title>, entities decoded, whitespace collapsed,
 * or NULL. Malformed markup is read the way browsers would as far as
 * possible, in time linear in the length of @data. */
StacheLoadedText *_stache_load_text          (const char  *data,
                                              gsize        length,
                                              const char  *filename,
                                              GError     **error);

G_END_DECLS

/* fuzz-loaders.c: the text, Markdown and HTML loaders, then the chunker
 *
 * SPDX-License-Identifier: LGPL-2.1-or-later
 *
 * The first byte chooses the file name the bytes arrive under (so the
 * sniffing, the HTML reader and the Markdown path all get their turn) and
 * the chunk size; the rest is the file. Whatever loads is chunked, and the
 * pieces must be valid UTF-8, non-empty and within the size the chunker
 * promises.
 */
#include <stdint.h>
#include <string.h>

#include "stache-chunker-private.h"
#include "stache-text-formats-private.h"

int LLVMFuzzerTestOneInput (const uint8_t *data, size_t size);

int
LLVMFuzzerTestOneInput (const uint8_t *data,
                        size_t         size)
{
  static const char *names[] = { "notes.txt", "page.html", "readme.md", "data", "x.htm", "y.markdown" };
  static const guint sizes[] = { 16, 40, 200, 800 };
  g_autoptr(GError) error = NULL;
  StacheLoadedText *loaded;
  GPtrArray *pieces;
  guint chunk_size, overlap;

  if (size < 1)
    return 0;

  chunk_size = sizes[(data[0] >> 4) % G_N_ELEMENTS (sizes)];
  overlap = chunk_size / 4 * (data[0] & 1);
  loaded = _stache_load_text ((const char *) data + 1, size - 1, names[data[0] % G_N_ELEMENTS (names)], &error);
  if (loaded == NULL)
    {
      g_assert (error != NULL);
      return 0;
    }

  g_assert (g_utf8_validate (loaded->text, -1, NULL));
  pieces = _stache_chunk_text (loaded->text, loaded->format != STACHE_TEXT_FORMAT_PLAIN, chunk_size, overlap);
  for (guint i = 0; i < pieces->len; i++)
    {
      StacheTextPiece *piece = g_ptr_array_index (pieces, i);

      g_assert (g_utf8_validate (piece->text, -1, NULL));
      g_assert (piece->text[0] != '\0');
      g_assert ((guint) g_utf8_strlen (piece->text, -1) <= chunk_size + overlap);
    }
  g_ptr_array_unref (pieces);
  _stache_loaded_text_free (loaded);

  return 0;
}

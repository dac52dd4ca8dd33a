/* hashing-tokens.h: text folding and word splitting for the hashing embedder
 *
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */
#pragma once

#include <glib.h>

G_BEGIN_DECLS

char     *hashing_tokens_fold      (const char  *text,
                                    gsize       *out_len);
gboolean  hashing_tokens_next_word (const char **pos,
                                    const char  *end,
                                    const char **word_start,
                                    const char **word_end);

G_END_DECLS

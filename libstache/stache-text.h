/* stache-text.h: folding and splitting text into words
 *
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */
#pragma once

#if !defined(STACHE_INSIDE_PLUGIN_SDK) && !defined(STACHE_COMPILATION)
# error "Only <stache-plugin.h> can be included directly."
#endif

#include <glib.h>
#include "stache-version.h"

G_BEGIN_DECLS

STACHE_AVAILABLE_IN_ALL
char      *stache_text_fold          (const char  *text,
                                      gsize       *out_len);
STACHE_AVAILABLE_IN_ALL
gboolean   stache_text_next_word     (const char **pos,
                                      const char  *end,
                                      const char **word_start,
                                      const char **word_end);
STACHE_AVAILABLE_IN_ALL
GPtrArray *stache_text_split_words   (const char  *text);
STACHE_AVAILABLE_IN_ALL
gboolean   stache_text_is_stop_word  (const char  *word);

G_END_DECLS

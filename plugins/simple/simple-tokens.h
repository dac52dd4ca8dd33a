/* simple-tokens.h: text folding and word splitting for the simple reranker
 *
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */
#pragma once

#include <glib.h>

G_BEGIN_DECLS

char      *simple_tokens_fold         (const char *text);
GPtrArray *simple_tokens_split        (const char *text);
gboolean   simple_tokens_is_stop_word (const char *token);

G_END_DECLS

/* extractive-tokens.h: text folding and word splitting for the extractive answerer
 *
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */
#pragma once

#include <glib.h>

G_BEGIN_DECLS

char      *extractive_tokens_fold         (const char *text);
GPtrArray *extractive_tokens_split        (const char *text);
gboolean   extractive_tokens_is_stop_word (const char *token);

G_END_DECLS

/* stache-completion.h: what a language model returns
 *
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */
#pragma once

#if !defined(STACHE_INSIDE) && !defined(STACHE_COMPILATION)
# error "Only <stache.h> can be included directly."
#endif

#include <glib-object.h>
#include <json-glib/json-glib.h>
#include "stache-version.h"

G_BEGIN_DECLS

#define STACHE_TYPE_COMPLETION (stache_completion_get_type ())

STACHE_AVAILABLE_IN_ALL
G_DECLARE_FINAL_TYPE (StacheCompletion, stache_completion, STACHE, COMPLETION, GObject)

STACHE_AVAILABLE_IN_ALL
StacheCompletion *stache_completion_new                   (const char       *text);
STACHE_AVAILABLE_IN_ALL
StacheCompletion *stache_completion_new_full              (const char       *text,
                                                           const char       *model,
                                                           const char       *finish_reason,
                                                           gint              prompt_tokens,
                                                           gint              completion_tokens);
STACHE_AVAILABLE_IN_ALL
const char       *stache_completion_get_text              (StacheCompletion *self);
STACHE_AVAILABLE_IN_ALL
void              stache_completion_set_text              (StacheCompletion *self,
                                                           const char       *text);
STACHE_AVAILABLE_IN_ALL
const char       *stache_completion_get_model             (StacheCompletion *self);
STACHE_AVAILABLE_IN_ALL
void              stache_completion_set_model             (StacheCompletion *self,
                                                           const char       *model);
STACHE_AVAILABLE_IN_ALL
const char       *stache_completion_get_finish_reason     (StacheCompletion *self);
STACHE_AVAILABLE_IN_ALL
void              stache_completion_set_finish_reason     (StacheCompletion *self,
                                                           const char       *finish_reason);
STACHE_AVAILABLE_IN_ALL
gint              stache_completion_get_prompt_tokens     (StacheCompletion *self);
STACHE_AVAILABLE_IN_ALL
void              stache_completion_set_prompt_tokens     (StacheCompletion *self,
                                                           gint              prompt_tokens);
STACHE_AVAILABLE_IN_ALL
gint              stache_completion_get_completion_tokens (StacheCompletion *self);
STACHE_AVAILABLE_IN_ALL
void              stache_completion_set_completion_tokens (StacheCompletion *self,
                                                           gint              completion_tokens);

G_END_DECLS

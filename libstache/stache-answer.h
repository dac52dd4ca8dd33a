/* stache-answer.h: an answer with its sources
 *
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */
#pragma once

#if !defined(STACHE_INSIDE) && !defined(STACHE_COMPILATION)
# error "Only <stache.h> can be included directly."
#endif

#include <glib-object.h>
#include "stache-version.h"

G_BEGIN_DECLS

#define STACHE_TYPE_ANSWER (stache_answer_get_type ())

STACHE_AVAILABLE_IN_ALL
G_DECLARE_FINAL_TYPE (StacheAnswer, stache_answer, STACHE, ANSWER, GObject)

STACHE_AVAILABLE_IN_ALL
const char *stache_answer_get_text    (StacheAnswer *self);
STACHE_AVAILABLE_IN_ALL
const char *stache_answer_get_model   (StacheAnswer *self);
STACHE_AVAILABLE_IN_ALL
GPtrArray  *stache_answer_get_sources (StacheAnswer *self);

G_END_DECLS

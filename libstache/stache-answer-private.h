/* stache-answer-private.h
 *
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */
#pragma once

#include "stache-answer.h"

G_BEGIN_DECLS

StacheAnswer *_stache_answer_new (const char *text,
                                  const char *model,
                                  GPtrArray  *sources);

G_END_DECLS

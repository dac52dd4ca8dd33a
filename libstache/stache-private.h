/* stache-private.h: helpers shared inside libstache
 *
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */
#pragma once

#include <glib.h>
#include <glib/gi18n-lib.h>

G_BEGIN_DECLS

void _stache_i18n_init (void);

G_END_DECLS

/* stache-error.c: error domains
 *
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */
#include "config.h"

#include "stache-error.h"

G_DEFINE_QUARK (stache-error-quark, stache_error)
G_DEFINE_QUARK (stache-plugin-error-quark, stache_plugin_error)

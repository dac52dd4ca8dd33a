/* sqlite-rank.h: BM25 for the keyword index, with top-k pruning
 *
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */
#pragma once

#include <glib.h>
#include <sqlite3.h>

G_BEGIN_DECLS

/* Adds the FTS5 function stache_rank() (see sqlite-rank.c) to @handle.
 * FALSE when FTS5 cannot take it; keyword search then uses bm25(). */
gboolean sqlite_rank_register (sqlite3 *handle);

G_END_DECLS

/* sqlite-ann.h: HNSW indexes for large vector spaces, kept as derived data
 *
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */
#pragma once

#include "sqlite-chunks.h"

G_BEGIN_DECLS

typedef struct
{
  gint64 threshold;        /* spaces with at least this many vectors; 0: never */
  guint  m;
  guint  ef_construction;
  guint  ef_search;
  gboolean ef_search_set;  /* given by the user: used as it is, not measured */
  guint  min_speedup;      /* over one exact scan, for the index to be used */
  gboolean background;     /* builds and long catch-ups on a thread of their own */
} SqliteAnnSettings;

/* Whether @space is searched through its ANN index under @settings. */
gboolean sqlite_ann_applies (const SqliteAnnSettings  *settings,
                             const SqliteSpace        *space);

/* Brings the index of @space up to date, building it (or catching up with
 * the changes logged since it was saved) as needed; with
 * @settings->background, a build or a long catch-up starts on a thread of
 * its own instead, and the search scans exactly meanwhile. Runs its own
 * transactions: call it with the connection's mutex held and no
 * transaction open. */
gboolean sqlite_ann_prepare (SqliteDatabase           *db,
                             const SqliteAnnSettings  *settings,
                             gint64                    space_id,
                             GCancellable             *cancellable,
                             GError                  **error);

typedef gboolean (*SqliteAnnAccept) (gint64   rowid,
                                     gpointer user_data);

/* Up to @k best chunk rowids of @space for @unit_query that @accept (may
 * be NULL) takes, best first, with their scores. Inside the caller's read
 * transaction; the index must have been prepared. Returns the number
 * found, or -1 with @error set. */
gssize   sqlite_ann_search  (SqliteDatabase           *db,
                             const SqliteAnnSettings  *settings,
                             const SqliteSpace        *space,
                             const float              *unit_query,
                             gsize                     k,
                             SqliteAnnAccept           accept,
                             gpointer                  user_data,
                             gint64                   *rowids,
                             float                    *scores,
                             GError                  **error);

/* Where the index of a space is saved, beside the database. */
char    *sqlite_ann_path    (SqliteDatabase           *db,
                             gint64                    space_id);

G_END_DECLS

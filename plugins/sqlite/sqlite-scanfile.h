/* sqlite-scanfile.h: a mapped copy of a vector space, for scans at memory
 * speed
 *
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */
#pragma once

#include "sqlite-chunks.h"

G_BEGIN_DECLS

/* The vectors of one space at one generation, mapped read-only: row p is
 * at vectors + p * dims, its chunk's rowid at rowids[p]. */
typedef struct
{
  const float  *vectors;
  const gint64 *rowids;
  gint64        count;
  gsize         dims;
  gint64        generation;
} SqliteScanView;

/* A view of @space as this read transaction sees it, from the scan file
 * beside the database; FALSE when there is none at this generation (the
 * caller scans the segments, and may call sqlite_scan_file_refresh()).
 * The view stays valid until the connection's mutex is released. */
gboolean sqlite_scan_file_get     (SqliteDatabase     *db,
                                   const SqliteSpace  *space,
                                   SqliteScanView     *view);

/* Writes the scan file of @space from its segments, inside the caller's
 * read transaction, when it is missing, or stale and was last written a
 * while ago. A failure only means scans stay on the segments. */
void     sqlite_scan_file_refresh (SqliteDatabase     *db,
                                   const SqliteSpace  *space);

/* Compares the scan file of @space, if it is at the generation this read
 * transaction sees, with its segments; a copy that differs is removed
 * (it is rebuilt by a later search). Returns FALSE if it differed. */
gboolean sqlite_scan_file_verify  (SqliteDatabase     *db,
                                   const SqliteSpace  *space);

/* Forgets and removes the scan file of a space that no longer exists. */
void     sqlite_scan_file_remove  (SqliteDatabase     *db,
                                   gint64              space_id);

char    *sqlite_scan_file_path    (SqliteDatabase     *db,
                                   gint64              space_id);

G_END_DECLS

/* sqlite-scanfile.h: a mapped copy of a vector space, for scans at memory
 * speed
 *
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */
#pragma once

#include "sqlite-chunks.h"

G_BEGIN_DECLS

/* The vectors of one space at one generation, mapped read-only: row p is
 * at vectors + p * dims, its chunk's rowid at rowids[p]. When @fd is not
 * -1, the mapping has not been read in this process yet: the caller reads
 * the rows it scans with sqlite_scan_view_read() instead. (Touching a
 * mapping's pages the first time costs a fault each, on some virtual
 * machines 3–4 times more than copying the same bytes with pread() into
 * a buffer used again and again: a fresh `stache search` scanned a 150 MB
 * space in 48 ms through the mapping against 11 ms by reading it. Later
 * scans read the mapping in place, which is then the faster.) */
typedef struct
{
  const float  *vectors;
  const gint64 *rowids;
  gint64        count;
  gsize         dims;
  gint64        generation;
  int           fd;
  gsize         vectors_offset;   /* in the file */
} SqliteScanView;

/* Reads rows [@first, @first + @n) of @view into @buffer (@n × dims floats);
 * FALSE when the file could not be read */
gboolean sqlite_scan_view_read    (const SqliteScanView *view,
                                   gint64                first,
                                   gsize                 n,
                                   float                *buffer);

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

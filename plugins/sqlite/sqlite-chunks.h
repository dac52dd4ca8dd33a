/* sqlite-chunks.h: chunks, their keyword index and their vectors, written
 * and read together
 *
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */
#pragma once

#include "sqlite-database.h"

G_BEGIN_DECLS

/* A vector space holds the vectors of one length of one namespace (a
 * namespace re-embedded with another model holds two spaces for a while):
 * unit length (so a dot product is the cosine), packed densely in
 * segments of `capacity` rows. Position p of space s lives in segment
 * (s << 32 | p / capacity), row p % capacity, and its chunk row records
 * (s << 32 | p) as its vector_slot; removing a vector moves the space's
 * last one into the hole, so positions 0 … count - 1 are always all in use
 * and a scan reads the segments of a namespace in rowid order, each one a
 * single BLOB inside one page. */
typedef struct
{
  gint64  id;
  char   *namespace_;
  gsize   dims;
  guint   capacity;     /* vectors per segment */
  gint64  count;
  gint64  generation;   /* bumped by every transaction that changes it */
  gint64  stamp;        /* random, new with every such transaction */
  gboolean ann;         /* changes are logged for an ANN index */
} SqliteSpace;

#define SQLITE_SLOT(space_id, p) (((gint64) (space_id) << 32) | (gint64) (p))
#define SQLITE_SLOT_SPACE(slot) ((slot) >> 32)
#define SQLITE_SLOT_POSITION(slot) ((slot) & G_GINT64_CONSTANT (0xffffffff))
#define SQLITE_SEGMENT_ID(space_id, p, capacity) (((gint64) (space_id) << 32) | ((p) / (capacity)))
#define SQLITE_SEGMENT_FIRST(space_id) ((gint64) (space_id) << 32)
#define SQLITE_SEGMENT_LAST(space_id) (((gint64) (space_id) << 32) | G_GINT64_CONSTANT (0xffffffff))

/* The changes of one write transaction: vector spaces and segments are
 * edited in memory and written back once, by sqlite_write_finish(). */
typedef struct _SqliteWrite SqliteWrite;

SqliteWrite *sqlite_write_new             (SqliteDatabase      *db);
void         sqlite_write_free            (SqliteWrite         *write);

/* Stores @chunks (with @vectors, n × @dims floats) in @namespace_. A chunk
 * whose id the namespace already holds replaces it. */
gboolean     sqlite_write_insert_chunks   (SqliteWrite         *write,
                                           const char          *namespace_,
                                           GPtrArray           *chunks,
                                           const float         *vectors,
                                           gsize                dims,
                                           GCancellable        *cancellable,
                                           GError             **error);
/* Deletes chunk rows by rowid, with their keyword entries and vectors. */
gboolean     sqlite_write_delete_rowids   (SqliteWrite         *write,
                                           const gint64        *rowids,
                                           gsize                n,
                                           GCancellable        *cancellable,
                                           GError             **error);
/* Every chunk of @document_id in @namespace_ (any namespace when NULL). */
gboolean     sqlite_write_delete_document (SqliteWrite         *write,
                                           const char          *namespace_,
                                           const char          *document_id,
                                           GCancellable        *cancellable,
                                           GError             **error);
/* Every chunk of @namespace_ exactly (not of its children). */
gboolean     sqlite_write_delete_namespace (SqliteWrite        *write,
                                           const char          *namespace_,
                                           GCancellable        *cancellable,
                                           GError             **error);
/* Appends a vector for an existing chunk row, without touching the chunk
 * or its keyword entry (used by the schema migration). */
gboolean     sqlite_write_append_vector   (SqliteWrite         *write,
                                           const char          *namespace_,
                                           gint64               chunk_rowid,
                                           const float         *vector,
                                           gsize                dims,
                                           gint64              *out_slot,
                                           GError             **error);
/* Writes the edited segments and spaces back. */
gboolean     sqlite_write_finish          (SqliteWrite         *write,
                                           GError             **error);

/* The spaces of @namespace_, or all spaces when it is NULL (element type
 * SqliteSpace *, freed with the array); NULL with @error set on failure. */
GPtrArray   *sqlite_space_list            (SqliteDatabase      *db,
                                           const char          *namespace_,
                                           GError             **error);
void         sqlite_space_clear           (SqliteSpace         *space);
void         sqlite_space_free            (SqliteSpace         *space);

G_DEFINE_AUTO_CLEANUP_CLEAR_FUNC (SqliteSpace, sqlite_space_clear)

/* The cached statement that reads the segments of @space in order, bound:
 * columns 0 the rowids, 1 the vectors. NULL with @error set on failure. */
sqlite3_stmt *sqlite_space_segments       (SqliteDatabase      *db,
                                           const SqliteSpace   *space,
                                           GError             **error);

/* How many vectors of @dims floats fit one segment row in one page. */
guint        sqlite_segment_capacity      (SqliteDatabase      *db,
                                           gsize                dims);

/* Checks that vectors, positions and spaces agree (for `stache check`). */
gboolean     sqlite_chunks_verify         (SqliteDatabase      *db,
                                           GCancellable        *cancellable,
                                           GError             **error);

G_END_DECLS

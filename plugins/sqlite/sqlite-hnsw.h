/* sqlite-hnsw.h: an approximate nearest-neighbour index (HNSW, over hnswlib)
 *
 * SPDX-License-Identifier: LGPL-2.1-or-later
 *
 * A thin C API over Debian's header-only hnswlib 0.6.2, for the sqlite
 * store's vector spaces. The index is derived data: vectors are unit
 * length (so the inner product is the cosine similarity), labels are chunk
 * rowids, and a saved index is only a cache beside the database that is
 * rebuilt whenever sqlite_hnsw_load() refuses it.
 *
 * Locking: searches run concurrently with each other; add, add_batch and
 * remove take the index's write lock, so they are safe against searches
 * (which wait) and against each other. save takes the read lock.
 */
#pragma once

#include <glib.h>

G_BEGIN_DECLS

/* Measured (figures at the top of sqlite-hnsw.cc) to give recall@10 of
 * 0.99 on clustered 384-dimension unit vectors at 0.35-0.6 ms per query
 * for 50k-250k vectors, extrapolated to stay near 1 ms at 1M. */
#define SQLITE_HNSW_DEFAULT_M               16
#define SQLITE_HNSW_DEFAULT_EF_CONSTRUCTION 200
#define SQLITE_HNSW_DEFAULT_EF_SEARCH       96

#define SQLITE_HNSW_ERROR (sqlite_hnsw_error_quark ())

typedef enum
{
  SQLITE_HNSW_ERROR_MISSING,       /* no saved index at that path */
  SQLITE_HNSW_ERROR_CORRUPT,       /* truncated, damaged, or not an index file */
  SQLITE_HNSW_ERROR_INCOMPATIBLE,  /* intact, but another format version or dimension */
  SQLITE_HNSW_ERROR_IO,            /* reading or writing failed */
  SQLITE_HNSW_ERROR_INVALID,       /* a vector with NaN or infinity, a label too large */
  SQLITE_HNSW_ERROR_FAILED,        /* out of memory, or hnswlib refused */
  SQLITE_HNSW_ERROR_STOPPED,       /* sqlite_hnsw_add_batch_stoppable() was told to stop */
} SqliteHnswError;

typedef struct _SqliteHnsw SqliteHnsw;

/* Called during a search, with the index's read lock held: it must not
 * add to or remove from the same index. */
typedef gboolean (*SqliteHnswAccept) (guint64  label,
                                      gpointer user_data);

GQuark      sqlite_hnsw_error_quark     (void);

SqliteHnsw *sqlite_hnsw_new             (gsize              dims,
                                         gsize              initial_capacity,
                                         guint              m,
                                         guint              ef_construction,
                                         guint64            seed);

gboolean    sqlite_hnsw_add             (SqliteHnsw        *index,
                                         guint64            label,
                                         const float       *vector,
                                         GError           **error);
gboolean    sqlite_hnsw_add_batch       (SqliteHnsw        *index,
                                         const guint64     *labels,
                                         const float       *vectors,
                                         gsize              n,
                                         guint              n_threads,
                                         GError           **error);
gboolean    sqlite_hnsw_add_batch_stoppable (SqliteHnsw    *index,
                                         const guint64     *labels,
                                         const float       *vectors,
                                         gsize              n,
                                         guint              n_threads,
                                         const gint        *stop,
                                         GError           **error);
gboolean    sqlite_hnsw_remove          (SqliteHnsw        *index,
                                         guint64            label);

gsize       sqlite_hnsw_search          (SqliteHnsw        *index,
                                         const float       *query,
                                         gsize              k,
                                         guint              ef_search,
                                         SqliteHnswAccept   accept,
                                         gpointer           user_data,
                                         guint64           *labels,
                                         float             *scores);

gboolean    sqlite_hnsw_contains        (SqliteHnsw        *index,
                                         guint64            label);
gsize       sqlite_hnsw_count           (SqliteHnsw        *index);
gsize       sqlite_hnsw_deleted         (SqliteHnsw        *index);
gsize       sqlite_hnsw_dims            (SqliteHnsw        *index);
guint       sqlite_hnsw_m               (SqliteHnsw        *index);
guint       sqlite_hnsw_ef_construction (SqliteHnsw        *index);
gsize       sqlite_hnsw_memory_bytes    (SqliteHnsw        *index);

gboolean    sqlite_hnsw_save            (SqliteHnsw        *index,
                                         const char        *path,
                                         guint64            generation,
                                         guint64            owner,
                                         GError           **error);
SqliteHnsw *sqlite_hnsw_load            (const char        *path,
                                         gsize              expected_dims,
                                         guint64           *out_generation,
                                         guint64           *out_owner,
                                         GError           **error);
gboolean    sqlite_hnsw_delete_files    (const char        *path,
                                         GError           **error);

guint64     sqlite_hnsw_hash64          (gconstpointer      data,
                                         gsize              length,
                                         guint64            seed);

void        sqlite_hnsw_free            (SqliteHnsw        *index);

G_DEFINE_AUTOPTR_CLEANUP_FUNC (SqliteHnsw, sqlite_hnsw_free)

G_END_DECLS

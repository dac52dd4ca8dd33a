/* sqlite-scanfile.c: a mapped copy of a vector space, for scans at memory
 * speed
 *
 * SPDX-License-Identifier: LGPL-2.1-or-later
 *
 * SQLite hands out a BLOB by copying it, even from a mapped page, so a
 * scan of the segments reads every vector twice. A scan file is a cache
 * of one space's segments beside the database (`stache.db-scan-<space>`),
 * mapped read-only, scanned in place:
 *
 *   0     header (4096 bytes, native byte order; see ScanHeader)
 *   4096  count × dims floats, position order, unit length
 *   then  count int64 rowids
 *
 * It is derived data, never trusted blindly: it is used only when its
 * space id, generation, stamp (random, new with every write of the space)
 * and size match what the search's read transaction sees; anything else
 * and the scan reads the segments. Files are written whole to a temporary
 * name, synced and renamed, never changed in place, so a process still
 * mapping an older one keeps reading a consistent copy. A stale file is
 * rewritten at most every REFRESH_SECONDS, so a store that is written to
 * all the time is not rewritten after every change.
 */
#define _GNU_SOURCE   /* O_CLOEXEC, madvise() and fdatasync() in strict C11 mode */

#include <errno.h>
#include <fcntl.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>

#include <glib/gi18n-lib.h>
#include <glib/gstdio.h>

#include "sqlite-scanfile.h"

#define MAGIC "STSCAN1"
#define HEADER_SIZE 4096
#define REFRESH_SECONDS 2

typedef struct
{
  char   magic[8];
  gint64 space_id;
  gint64 generation;
  gint64 stamp;
  gint64 count;
  gint64 dims;
  gint64 header_size;
  guint32 byte_order;   /* 0x01020304 as written */
  guint32 float_size;
} ScanHeader;

typedef struct
{
  gpointer  map;
  gsize     length;
  gint64    generation;
  gint64    stamp;
  gint64    count;
  gsize     dims;
  gint64    checked;     /* monotonic time of the last look at the file */
  int       fd;          /* the file, open while mapped (-1: none) */
  gboolean  scanned;     /* a scan read it already, in this process */
} Mapping;

static void
mapping_free (gpointer data)
{
  Mapping *mapping = data;

  if (mapping->map != NULL)
    munmap (mapping->map, mapping->length);
  if (mapping->fd >= 0)
    close (mapping->fd);
  g_free (mapping);
}

static GHashTable *
mappings_of (SqliteDatabase *db)
{
  if (db->scan == NULL)
    {
      db->scan = g_hash_table_new_full (g_int64_hash, g_int64_equal, g_free, mapping_free);
      db->scan_free = (GDestroyNotify) g_hash_table_unref;
    }

  return db->scan;
}

char *
sqlite_scan_file_path (SqliteDatabase *db,
                       gint64          space_id)
{
  return g_strdup_printf ("%s-scan-%ld", db->path, (long) space_id);
}

static gsize
expected_length (gint64 count,
                 gsize  dims)
{
  return HEADER_SIZE + (gsize) count * dims * sizeof (float) + (gsize) count * sizeof (gint64);
}

/* Maps the file of @space if it is the right one; NULL otherwise. */
static Mapping *
map_file (SqliteDatabase     *db,
          const SqliteSpace  *space)
{
  g_autofree char *path = sqlite_scan_file_path (db, space->id);
  const ScanHeader *header;
  Mapping *mapping;
  struct stat st;
  gpointer map;
  int fd;

  fd = g_open (path, O_RDONLY | O_CLOEXEC, 0);
  if (fd < 0)
    return NULL;
  if (fstat (fd, &st) != 0 || (gsize) st.st_size != expected_length (space->count, space->dims))
    {
      close (fd);
      return NULL;
    }
  map = mmap (NULL, (gsize) st.st_size, PROT_READ, MAP_SHARED, fd, 0);
  if (map == MAP_FAILED)
    {
      close (fd);
      return NULL;
    }

  header = map;
  if (memcmp (header->magic, MAGIC, sizeof MAGIC) != 0 || header->space_id != space->id ||
      header->generation != space->generation || header->stamp != space->stamp ||
      header->count != space->count || header->dims != (gint64) space->dims ||
      header->header_size != HEADER_SIZE || header->byte_order != 0x01020304 ||
      header->float_size != sizeof (float))
    {
      munmap (map, (gsize) st.st_size);
      close (fd);
      return NULL;
    }

  /* Scans read it from start to end. */
  madvise (map, (gsize) st.st_size, MADV_SEQUENTIAL);

  mapping = g_new0 (Mapping, 1);
  mapping->map = map;
  mapping->length = (gsize) st.st_size;
  mapping->generation = space->generation;
  mapping->stamp = space->stamp;
  mapping->count = space->count;
  mapping->dims = space->dims;
  mapping->fd = fd;
  return mapping;
}

gboolean
sqlite_scan_file_get (SqliteDatabase     *db,
                      const SqliteSpace  *space,
                      SqliteScanView     *view)
{
  GHashTable *mappings = mappings_of (db);
  Mapping *mapping = g_hash_table_lookup (mappings, &space->id);

  if (mapping == NULL || mapping->generation != space->generation || mapping->stamp != space->stamp)
    {
      gint64 now = g_get_monotonic_time ();

      /* A missing or stale file is looked for again only now and then:
       * another process may have written it. */
      if (mapping != NULL && mapping->map == NULL && mapping->generation == space->generation &&
          mapping->stamp == space->stamp && now - mapping->checked < G_USEC_PER_SEC)
        return FALSE;

      mapping = map_file (db, space);
      if (mapping == NULL)
        {
          mapping = g_new0 (Mapping, 1);
          mapping->generation = space->generation;
          mapping->stamp = space->stamp;
          mapping->fd = -1;
        }
      mapping->checked = now;
      g_hash_table_replace (mappings, g_memdup2 (&space->id, sizeof space->id), mapping);
    }

  if (mapping->map == NULL)
    return FALSE;

  view->vectors = (const float *) ((const guint8 *) mapping->map + HEADER_SIZE);
  view->rowids = (const gint64 *) ((const guint8 *) mapping->map + HEADER_SIZE +
                                   (gsize) mapping->count * mapping->dims * sizeof (float));
  view->count = mapping->count;
  view->dims = mapping->dims;
  view->generation = mapping->generation;
  view->vectors_offset = HEADER_SIZE;
  /* The first scan reads the file; the next ones, the mapping (the view
   * and the descriptor stay valid until the connection's mutex is
   * released: a mapping is replaced only under it) */
  view->fd = mapping->scanned ? -1 : mapping->fd;
  mapping->scanned = TRUE;
  return TRUE;
}

gboolean
sqlite_scan_view_read (const SqliteScanView *view,
                       gint64                first,
                       gsize                 n,
                       float                *buffer)
{
  gsize length = n * view->dims * sizeof (float), done = 0;
  off_t offset = (off_t) (view->vectors_offset + (gsize) first * view->dims * sizeof (float));

  while (done < length)
    {
      gssize got = pread (view->fd, (guint8 *) buffer + done, length - done, offset + (off_t) done);

      if (got < 0 && errno == EINTR)
        continue;
      if (got <= 0)
        return FALSE;
      done += (gsize) got;
    }
  return TRUE;
}

static gboolean
write_all (int          fd,
           const void  *data,
           gsize        length)
{
  const guint8 *p = data;

  while (length > 0)
    {
      gssize n = write (fd, p, length);

      if (n < 0 && errno == EINTR)
        continue;
      if (n <= 0)
        return FALSE;
      p += n;
      length -= (gsize) n;
    }

  return TRUE;
}

/* Writes the file from the segments, as the current read transaction
 * sees them. */
static gboolean
write_file (SqliteDatabase     *db,
            const SqliteSpace  *space,
            const char         *path,
            GError            **error)
{
  g_autofree char *tmp = g_strdup_printf ("%s.XXXXXX", path);
  g_autoptr(sqlite3_stmt) segments = NULL;
  g_autoptr(GArray) rowids = g_array_sized_new (FALSE, FALSE, sizeof (gint64), (guint) space->count);
  ScanHeader header = { MAGIC, space->id, space->generation, space->stamp, space->count,
                        (gint64) space->dims, HEADER_SIZE, 0x01020304, sizeof (float) };
  g_autofree guint8 *page = g_malloc0 (HEADER_SIZE);
  gint64 written = 0;
  gboolean ok = FALSE;
  int fd, rc;

  fd = g_mkstemp_full (tmp, O_RDWR | O_CLOEXEC, 0644);
  if (fd < 0)
    {
      int saved_errno = errno;

      g_set_error (error, G_IO_ERROR, g_io_error_from_errno (saved_errno),
                   "%s: %s", tmp, g_strerror (saved_errno));
      return FALSE;
    }

  memcpy (page, &header, sizeof header);
  if (!write_all (fd, page, HEADER_SIZE))
    goto out;

  segments = sqlite_space_segments (db, space, error);
  if (segments == NULL)
    goto out;
  while ((rc = sqlite3_step (segments)) == SQLITE_ROW)
    {
      gsize n = (gsize) sqlite3_column_bytes (segments, 0) / sizeof (gint64);

      if ((gsize) sqlite3_column_bytes (segments, 1) != n * space->dims * sizeof (float) ||
          written + (gint64) n > space->count)
        {
          g_set_error (error, STACHE_ERROR, STACHE_ERROR_FAILED, "damaged segment");
          goto out;
        }
      if (!write_all (fd, sqlite3_column_blob (segments, 1), n * space->dims * sizeof (float)))
        goto out;
      g_array_append_vals (rowids, sqlite3_column_blob (segments, 0), (guint) n);
      written += (gint64) n;
    }
  if (rc != SQLITE_DONE || written != space->count)
    goto out;

  if (!write_all (fd, rowids->data, rowids->len * sizeof (gint64)) || fdatasync (fd) != 0)
    goto out;

  ok = TRUE;

out:
  if (!ok && error != NULL && *error == NULL)
    {
      int saved_errno = errno;

      g_set_error (error, G_IO_ERROR, g_io_error_from_errno (saved_errno),
                   "%s: %s", tmp, g_strerror (saved_errno));
    }
  close (fd);
  if (ok && g_rename (tmp, path) != 0)
    {
      int saved_errno = errno;

      g_set_error (error, G_IO_ERROR, g_io_error_from_errno (saved_errno),
                   "%s: %s", path, g_strerror (saved_errno));
      ok = FALSE;
    }
  if (!ok)
    g_unlink (tmp);

  return ok;
}

void
sqlite_scan_file_refresh (SqliteDatabase     *db,
                          const SqliteSpace  *space)
{
  g_autofree char *path = sqlite_scan_file_path (db, space->id);
  g_autoptr(GError) error = NULL;
  GStatBuf st;

  if (space->count == 0)
    return;

  /* A store written to all the time keeps scanning its segments rather
   * than rewriting the whole file after every change. */
  if (g_stat (path, &st) == 0 && g_get_real_time () / G_USEC_PER_SEC - st.st_mtime < REFRESH_SECONDS)
    return;

  if (!write_file (db, space, path, &error))
    g_debug ("The scan file of namespace “%s” was not written: %s", space->namespace_, error->message);
  else
    g_hash_table_remove (mappings_of (db), &space->id);
}

void
sqlite_scan_file_remove (SqliteDatabase *db,
                         gint64          space_id)
{
  g_autofree char *path = sqlite_scan_file_path (db, space_id);

  g_hash_table_remove (mappings_of (db), &space_id);
  g_unlink (path);
}

gboolean
sqlite_scan_file_verify (SqliteDatabase     *db,
                         const SqliteSpace  *space)
{
  g_autoptr(sqlite3_stmt) segments = NULL;
  SqliteScanView view;
  gint64 position = 0;
  gboolean same = TRUE;
  int rc;

  g_hash_table_remove (mappings_of (db), &space->id);
  if (!sqlite_scan_file_get (db, space, &view))
    return TRUE;

  segments = sqlite_space_segments (db, space, NULL);
  if (segments == NULL)
    return TRUE;
  while (same && (rc = sqlite3_step (segments)) == SQLITE_ROW)
    {
      gsize n = (gsize) sqlite3_column_bytes (segments, 0) / sizeof (gint64);

      same = position + (gint64) n <= view.count &&
             memcmp (view.vectors + (gsize) position * view.dims, sqlite3_column_blob (segments, 1),
                     n * view.dims * sizeof (float)) == 0 &&
             memcmp (view.rowids + position, sqlite3_column_blob (segments, 0), n * sizeof (gint64)) == 0;
      position += (gint64) n;
    }

  if (!same)
    {
      g_message ("The scan file of namespace “%s” in “%s” did not match its vectors; it was removed "
                 "and will be written again", space->namespace_, db->path);
      sqlite_scan_file_remove (db, space->id);
    }

  return same;
}

/* stache-store-walk.c: the folders StacheStore ingests: the walk, its
 * globs and the order of the files
 *
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */
#define _GNU_SOURCE   /* O_CLOEXEC, O_NOCTTY */
#include "config.h"

#include <errno.h>
#include <fcntl.h>
#include <string.h>
#include <sys/stat.h>
#include <dirent.h>
#include <unistd.h>

#include <glib/gstdio.h>

#include "stache-store-private.h"

static gboolean
matches_any (GPtrArray  *patterns,
             const char *relative,
             const char *basename)
{
  for (guint i = 0; patterns != NULL && i < patterns->len; i++)
    {
      GPatternSpec *spec = g_ptr_array_index (patterns, i);

      if (g_pattern_spec_match_string (spec, relative) || g_pattern_spec_match_string (spec, basename))
        return TRUE;
    }

  return FALSE;
}

static GPtrArray *
compile_patterns (const char * const *globs)
{
  GPtrArray *patterns;

  if (globs == NULL || globs[0] == NULL)
    return NULL;

  patterns = g_ptr_array_new_with_free_func ((GDestroyNotify) g_pattern_spec_free);
  for (guint i = 0; globs[i] != NULL; i++)
    g_ptr_array_add (patterns, g_pattern_spec_new (globs[i]));

  return patterns;
}

/* A file and its path, the sort key, computed once. */
typedef struct
{
  char  *path;
  GFile *file;
} SortedFile;

static int
compare_sorted_files (gconstpointer a,
                      gconstpointer b)
{
  return g_strcmp0 (((const SortedFile *) a)->path, ((const SortedFile *) b)->path);
}

/* Sorts @files by path, so that a folder is ingested in the same order
 * wherever it is walked. */
static void
sort_files (GPtrArray *files)
{
  g_autofree SortedFile *sorted = g_new (SortedFile, MAX (files->len, 1));

  for (guint i = 0; i < files->len; i++)
    {
      sorted[i].file = g_ptr_array_index (files, i);
      sorted[i].path = g_file_get_path (sorted[i].file);
    }
  qsort (sorted, files->len, sizeof (SortedFile), compare_sorted_files);
  for (guint i = 0; i < files->len; i++)
    {
      files->pdata[i] = sorted[i].file;
      g_free (sorted[i].path);
    }
}

/* What the walk found in one folder entry. */
typedef enum
{
  ENTRY_OTHER,
  ENTRY_FILE,
  ENTRY_FOLDER,
} EntryKind;

typedef struct
{
  GFile      *root;
  GPtrArray  *include;
  GPtrArray  *exclude;
  const char *ns;
  GPtrArray  *files;      /* GFile */
  GPtrArray  *failures;   /* StacheIngestResult: folders that could not be read */
} Walk;

/* Sorts one entry of @dir into the walk; returns the child to descend
 * into for a folder. */
static GFile *
walk_entry (Walk       *walk,
            GFile      *dir,
            const char *basename,
            EntryKind   kind)
{
  g_autoptr(GFile) child = NULL;
  g_autofree char *relative = NULL;

  if (kind == ENTRY_OTHER)
    return NULL;

  child = g_file_get_child (dir, basename);
  if (walk->include != NULL || walk->exclude != NULL)
    relative = g_file_get_relative_path (walk->root, child);
  if (matches_any (walk->exclude, relative, basename))
    return NULL;

  if (kind == ENTRY_FOLDER)
    return g_steal_pointer (&child);

  if (walk->include == NULL || matches_any (walk->include, relative, basename))
    g_ptr_array_add (walk->files, g_steal_pointer (&child));

  return NULL;
}

/* The entries of a local folder, straight from readdir(): the entry type
 * it reports spares a stat() per file, which GIO's enumerator makes. */
static gboolean
list_local_folder (Walk          *walk,
                   GFile         *dir,
                   const char    *path,
                   GPtrArray     *subdirs,
                   GCancellable  *cancellable,
                   GError       **error)
{
  DIR *stream;
  struct dirent *entry;
  guint seen = 0;

  stream = opendir (path);
  if (stream == NULL)
    {
      int saved = errno;

      g_set_error_literal (error, G_IO_ERROR, g_io_error_from_errno (saved), g_strerror (saved));
      return FALSE;
    }

  for (;;)
    {
      EntryKind kind = ENTRY_OTHER;
      GFile *subdir;

      errno = 0;
      entry = readdir (stream);
      if (entry == NULL)
        break;
      if (entry->d_name[0] == '.')
        continue;
      if (++seen % 1024 == 0 && g_cancellable_set_error_if_cancelled (cancellable, error))
        {
          closedir (stream);
          return FALSE;
        }

      switch (entry->d_type)
        {
        case DT_REG:
          kind = ENTRY_FILE;
          break;
        case DT_DIR:
          kind = ENTRY_FOLDER;
          break;
        case DT_UNKNOWN:
          {
            struct stat st;

            /* Symbolic links are not followed: a link loop cannot trap
             * the walk. */
            if (fstatat (dirfd (stream), entry->d_name, &st, AT_SYMLINK_NOFOLLOW) == 0)
              kind = S_ISREG (st.st_mode) ? ENTRY_FILE : S_ISDIR (st.st_mode) ? ENTRY_FOLDER : ENTRY_OTHER;
          }
          break;
        default:
          break;
        }

      subdir = walk_entry (walk, dir, entry->d_name, kind);
      if (subdir != NULL)
        g_ptr_array_add (subdirs, subdir);
    }

  if (errno != 0)
    {
      int saved = errno;

      closedir (stream);
      g_set_error_literal (error, G_IO_ERROR, g_io_error_from_errno (saved), g_strerror (saved));
      return FALSE;
    }
  closedir (stream);

  return TRUE;
}

/* The same for a folder that is not local, through GIO. */
static gboolean
list_folder (Walk          *walk,
             GFile         *dir,
             GPtrArray     *subdirs,
             GCancellable  *cancellable,
             GError       **error)
{
  g_autoptr(GFileEnumerator) enumerator = NULL;

  enumerator = g_file_enumerate_children (dir,
                                          G_FILE_ATTRIBUTE_STANDARD_NAME ","
                                          G_FILE_ATTRIBUTE_STANDARD_TYPE ","
                                          G_FILE_ATTRIBUTE_STANDARD_IS_SYMLINK,
                                          G_FILE_QUERY_INFO_NOFOLLOW_SYMLINKS, cancellable, error);
  if (enumerator == NULL)
    return FALSE;

  for (;;)
    {
      GFileInfo *info = NULL;
      const char *basename;
      EntryKind kind = ENTRY_OTHER;
      GFile *subdir;

      if (!g_file_enumerator_iterate (enumerator, &info, NULL, cancellable, error))
        return FALSE;
      if (info == NULL)
        break;

      basename = g_file_info_get_name (info);
      if (basename[0] == '.' || g_file_info_get_is_symlink (info))
        continue;

      switch (g_file_info_get_file_type (info))
        {
        case G_FILE_TYPE_DIRECTORY:
          kind = ENTRY_FOLDER;
          break;
        case G_FILE_TYPE_REGULAR:
          kind = ENTRY_FILE;
          break;
        default:
          break;
        }

      subdir = walk_entry (walk, dir, basename, kind);
      if (subdir != NULL)
        g_ptr_array_add (subdirs, subdir);
    }

  return TRUE;
}

/* Collects the files below @dir: hidden entries (".git") and symbolic
 * links are skipped, so a link loop cannot trap the walk. A folder below
 * the top one that cannot be read becomes one failure with its reason and
 * the walk goes on; only the top folder's own failure is an error. */
static gboolean
collect_files (Walk          *walk,
               GFile         *dir,
               guint          depth,
               GCancellable  *cancellable,
               GError       **error)
{
  g_autoptr(GPtrArray) subdirs = g_ptr_array_new_with_free_func (g_object_unref);
  g_autoptr(GError) local_error = NULL;
  const char *path = g_file_peek_path (dir);
  gboolean listed;

  if (depth > 64)
    return TRUE;

  if (path != NULL)
    listed = list_local_folder (walk, dir, path, subdirs, cancellable, &local_error);
  else
    listed = list_folder (walk, dir, subdirs, cancellable, &local_error);

  if (!listed)
    {
      g_autofree char *name = _stache_store_file_display_name (dir);
      StacheIngestResult *failure;

      if (depth == 0 || g_error_matches (local_error, G_IO_ERROR, G_IO_ERROR_CANCELLED))
        {
          if (g_error_matches (local_error, G_IO_ERROR, G_IO_ERROR_CANCELLED))
            g_propagate_error (error, g_steal_pointer (&local_error));
          else
            g_set_error (error, local_error->domain, local_error->code,
                         _("Cannot read the folder “%s”: %s"), name, local_error->message);
          return FALSE;
        }

      failure = _stache_ingest_result_new (name, walk->ns, STACHE_INGEST_OUTCOME_FAILED);
      {
        g_autofree char *reason = g_strdup_printf (_("cannot read this folder: %s"), local_error->message);

        _stache_ingest_result_set_reason (failure, reason);
      }
      g_ptr_array_add (walk->failures, failure);
      /* What was listed before the failure is kept. */
    }

  for (guint i = 0; i < subdirs->len; i++)
    if (!collect_files (walk, g_ptr_array_index (subdirs, i), depth + 1, cancellable, error))
      return FALSE;

  return TRUE;
}

gboolean
_stache_store_walk_folder (GFile               *directory,
                           const char * const  *include,
                           const char * const  *exclude,
                           const char          *ns,
                           GPtrArray           *files,
                           GPtrArray           *failures,
                           GCancellable        *cancellable,
                           GError             **error)
{
  g_autoptr(GPtrArray) include_patterns = compile_patterns (include);
  g_autoptr(GPtrArray) exclude_patterns = compile_patterns (exclude);
  Walk walk = { directory, include_patterns, exclude_patterns, ns, files, failures };

  if (!collect_files (&walk, directory, 0, cancellable, error))
    return FALSE;
  sort_files (files);
  return TRUE;
}

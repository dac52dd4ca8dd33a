/* test-sqlite-hnsw.c: the HNSW wrapper of the sqlite store (sqlite-hnsw.cc)
 *
 * SPDX-License-Identifier: LGPL-2.1-or-later
 *
 * Vectors are clustered like embeddings: Gaussian blobs around random unit
 * centres, normalised, from a seeded generator, so every run sees the same
 * data. Sizes are small enough for the suite to run under valgrind.
 */
#include <math.h>
#include <string.h>

#include <glib/gstdio.h>

#include "sqlite-hnsw.h"

#define DIMS       48
#define N_SHARED   6000
#define N_QUERIES  100
#define K          10

/* ---- data ------------------------------------------------------------------ */

typedef struct
{
  GRand *rand;
  gsize  dims;
  gsize  n_centres;
  float *centres;
  double spread;
} Blobs;

static double
gaussian (GRand *rand)
{
  double u = g_rand_double_range (rand, 1e-12, 1.0);
  double v = g_rand_double (rand);

  return sqrt (-2.0 * log (u)) * cos (2.0 * G_PI * v);
}

static void
normalise (float *v,
           gsize  dims)
{
  double norm = 0;

  for (gsize i = 0; i < dims; i++)
    norm += (double) v[i] * v[i];
  norm = sqrt (norm);
  for (gsize i = 0; i < dims; i++)
    v[i] = (float) (v[i] / norm);
}

static Blobs *
blobs_new (guint32 seed,
           gsize   dims,
           gsize   n_centres,
           double  spread)
{
  Blobs *blobs = g_new0 (Blobs, 1);

  blobs->rand = g_rand_new_with_seed (seed);
  blobs->dims = dims;
  blobs->n_centres = n_centres;
  blobs->spread = spread;
  blobs->centres = g_new (float, n_centres * dims);
  for (gsize c = 0; c < n_centres; c++)
    {
      for (gsize i = 0; i < dims; i++)
        blobs->centres[c * dims + i] = (float) gaussian (blobs->rand);
      normalise (blobs->centres + c * dims, dims);
    }
  return blobs;
}

static void
blobs_free (Blobs *blobs)
{
  g_rand_free (blobs->rand);
  g_free (blobs->centres);
  g_free (blobs);
}

G_DEFINE_AUTOPTR_CLEANUP_FUNC (Blobs, blobs_free)

/* n unit vectors, each near one of the centres. */
static float *
blobs_sample (Blobs *blobs,
              gsize  n)
{
  float *vectors = g_new (float, n * blobs->dims);

  for (gsize r = 0; r < n; r++)
    {
      const float *centre = blobs->centres + g_rand_int_range (blobs->rand, 0, (gint32) blobs->n_centres) * blobs->dims;
      float *v = vectors + r * blobs->dims;

      for (gsize i = 0; i < blobs->dims; i++)
        v[i] = centre[i] + (float) (blobs->spread * gaussian (blobs->rand));
      normalise (v, blobs->dims);
    }
  return vectors;
}

static guint64 *
labels_from (guint64 first,
             gsize   n)
{
  guint64 *labels = g_new (guint64, n);

  for (gsize i = 0; i < n; i++)
    labels[i] = first + i;
  return labels;
}

static float
dot (const float *a,
     const float *b,
     gsize        dims)
{
  float sum = 0;

  for (gsize i = 0; i < dims; i++)
    sum += a[i] * b[i];
  return sum;
}

typedef gboolean (*LabelFilter) (guint64 label, gpointer user_data);

/* The exact top k by inner product among rows labelled first + row whose
 * label passes @filter (NULL: all), best first. Returns how many. */
static gsize
brute_force (const float *vectors,
             gsize        n,
             gsize        dims,
             guint64      first,
             const float *query,
             gsize        k,
             LabelFilter  filter,
             gpointer     user_data,
             guint64     *labels)
{
  g_autofree float *scores = g_new (float, k);
  gsize found = 0;

  for (gsize r = 0; r < n; r++)
    {
      float score = dot (vectors + r * dims, query, dims);
      gsize at;

      if (filter != NULL && !filter (first + r, user_data))
        continue;
      if (found == k && score <= scores[k - 1])
        continue;
      at = found < k ? found++ : k - 1;
      while (at > 0 && scores[at - 1] < score)
        {
          scores[at] = scores[at - 1];
          labels[at] = labels[at - 1];
          at--;
        }
      scores[at] = score;
      labels[at] = first + r;
    }
  return found;
}

static gsize
overlap (const guint64 *a,
         gsize          n_a,
         const guint64 *b,
         gsize          n_b)
{
  gsize common = 0;

  for (gsize i = 0; i < n_a; i++)
    for (gsize j = 0; j < n_b; j++)
      if (a[i] == b[j])
        {
          common++;
          break;
        }
  return common;
}

/* ---- a shared, read-only index -------------------------------------------------- */

/* Built once, at the defaults, and only searched: for the tests about
 * search quality and files. */
static struct
{
  float      *vectors;
  float      *queries;
  SqliteHnsw *index;
} shared;

static SqliteHnsw *
shared_index (void)
{
  if (shared.index == NULL)
    {
      g_autoptr(Blobs) blobs = blobs_new (42, DIMS, 40, 0.12);
      g_autofree guint64 *labels = labels_from (1, N_SHARED);
      g_autoptr(GError) error = NULL;

      shared.vectors = blobs_sample (blobs, N_SHARED);
      shared.queries = blobs_sample (blobs, N_QUERIES);
      shared.index = sqlite_hnsw_new (DIMS, N_SHARED, SQLITE_HNSW_DEFAULT_M,
                                      SQLITE_HNSW_DEFAULT_EF_CONSTRUCTION, 7);
      sqlite_hnsw_add_batch (shared.index, labels, shared.vectors, N_SHARED, 2, &error);
      g_assert_no_error (error);
    }
  return shared.index;
}

/* ---- temporary folders -------------------------------------------------------------- */

typedef struct
{
  char *dir;
  char *path;
  char *meta;
} Files;

static void
files_set_up (Files         *f,
              G_GNUC_UNUSED gconstpointer data)
{
  g_autoptr(GError) error = NULL;

  f->dir = g_dir_make_tmp ("stache-hnsw-XXXXXX", &error);
  g_assert_no_error (error);
  f->path = g_build_filename (f->dir, "vectors.hnsw", NULL);
  f->meta = g_strconcat (f->path, ".meta", NULL);
}

static void
files_tear_down (Files         *f,
                 G_GNUC_UNUSED gconstpointer data)
{
  g_autoptr(GDir) dir = g_dir_open (f->dir, 0, NULL);
  const char *name;

  while (dir != NULL && (name = g_dir_read_name (dir)) != NULL)
    {
      g_autofree char *child = g_build_filename (f->dir, name, NULL);

      g_unlink (child);
    }
  g_rmdir (f->dir);
  g_free (f->dir);
  g_free (f->path);
  g_free (f->meta);
}

static void
save_shared (Files *f)
{
  g_autoptr(GError) error = NULL;

  sqlite_hnsw_save (shared_index (), f->path, 11, 22, &error);
  g_assert_no_error (error);
}

static void
read_file (const char  *path,
           guint8     **contents,
           gsize       *length)
{
  g_autoptr(GError) error = NULL;

  g_file_get_contents (path, (char **) contents, length, &error);
  g_assert_no_error (error);
}

static void
write_file (const char   *path,
            const guint8 *contents,
            gsize         length)
{
  g_autoptr(GError) error = NULL;

  g_file_set_contents (path, (const char *) contents, (gssize) length, &error);
  g_assert_no_error (error);
}

static void
assert_load_fails (const char *path,
                   gsize       dims,
                   int         code,
                   const char *mentions)
{
  g_autoptr(GError) error = NULL;
  g_autoptr(SqliteHnsw) loaded = sqlite_hnsw_load (path, dims, NULL, NULL, &error);

  g_assert_null (loaded);
  g_assert_error (error, SQLITE_HNSW_ERROR, code);
  g_assert_nonnull (strstr (error->message, mentions));
}

/* Makes both checksums match the files again, so only the checks behind
 * them can catch a forged change. */
static void
reseal (Files *f)
{
  g_autofree guint8 *payload = NULL;
  g_autofree guint8 *meta = NULL;
  gsize payload_length, meta_length;
  guint64 sum;

  read_file (f->path, &payload, &payload_length);
  read_file (f->meta, &meta, &meta_length);
  g_assert_cmpuint (meta_length, ==, 128);
  sum = GUINT64_TO_LE (sqlite_hnsw_hash64 (payload, payload_length, 0));
  memcpy (meta + 88, &sum, 8);
  sum = GUINT64_TO_LE (sqlite_hnsw_hash64 (meta, 120, 0));
  memcpy (meta + 120, &sum, 8);
  write_file (f->meta, meta, meta_length);
}

/* ---- search --------------------------------------------------------------------- */

static void
test_recall_at_defaults (void)
{
  SqliteHnsw *index = shared_index ();
  gsize hits = 0;

  for (gsize q = 0; q < N_QUERIES; q++)
    {
      const float *query = shared.queries + q * DIMS;
      guint64 expected[K], got[K];
      float scores[K];
      gsize n = sqlite_hnsw_search (index, query, K, SQLITE_HNSW_DEFAULT_EF_SEARCH, NULL, NULL, got, scores);

      g_assert_cmpuint (n, ==, K);
      g_assert_cmpuint (brute_force (shared.vectors, N_SHARED, DIMS, 1, query, K, NULL, NULL, expected), ==, K);
      hits += overlap (expected, K, got, n);
      for (gsize i = 0; i < n; i++)
        {
          g_assert_cmpfloat_with_epsilon (scores[i], dot (shared.vectors + (got[i] - 1) * DIMS, query, DIMS), 1e-5);
          if (i > 0)
            g_assert_cmpfloat (scores[i - 1], >=, scores[i]);
        }
    }
  g_test_message ("recall@%d = %.3f", K, (double) hits / (N_QUERIES * K));
  g_assert_cmpfloat ((double) hits / (N_QUERIES * K), >=, 0.95);
}

static gboolean
one_in_ten (guint64                label,
            G_GNUC_UNUSED gpointer user_data)
{
  return label % 10 == 3;
}

static void
test_filter_rejecting_most_still_finds_k (void)
{
  SqliteHnsw *index = shared_index ();
  gsize hits = 0;

  for (gsize q = 0; q < 40; q++)
    {
      const float *query = shared.queries + q * DIMS;
      guint64 expected[K], got[K];
      float scores[K];
      gsize n = sqlite_hnsw_search (index, query, K, SQLITE_HNSW_DEFAULT_EF_SEARCH, one_in_ten, NULL, got, scores);

      g_assert_cmpuint (n, ==, K);
      for (gsize i = 0; i < n; i++)
        g_assert_true (one_in_ten (got[i], NULL));
      brute_force (shared.vectors, N_SHARED, DIMS, 1, query, K, one_in_ten, NULL, expected);
      hits += overlap (expected, K, got, n);
    }
  g_assert_cmpfloat ((double) hits / (40 * K), >=, 0.95);
}

static gboolean
in_set (guint64  label,
        gpointer user_data)
{
  return g_hash_table_contains (user_data, &label);
}

static void
test_filter_with_fewer_than_k_accepted_returns_them_all (void)
{
  SqliteHnsw *index = shared_index ();
  g_autoptr(GHashTable) allowed = g_hash_table_new (g_int64_hash, g_int64_equal);
  static guint64 few[] = { 5, 777, 1500, 2999, N_SHARED };
  guint64 got[K];
  float scores[K];
  gsize n;

  for (gsize i = 0; i < G_N_ELEMENTS (few); i++)
    g_hash_table_add (allowed, &few[i]);
  n = sqlite_hnsw_search (index, shared.queries, K, SQLITE_HNSW_DEFAULT_EF_SEARCH, in_set, allowed, got, scores);
  g_assert_cmpuint (n, ==, G_N_ELEMENTS (few));
  for (gsize i = 0; i < n; i++)
    {
      g_assert_true (in_set (got[i], allowed));
      if (i > 0)
        g_assert_cmpfloat (scores[i - 1], >=, scores[i]);
    }
}

static gboolean
accept_none (G_GNUC_UNUSED guint64  label,
             G_GNUC_UNUSED gpointer user_data)
{
  return FALSE;
}

static void
test_filter_accepting_nothing_returns_nothing (void)
{
  SqliteHnsw *index = shared_index ();
  guint64 got[K];

  g_assert_cmpuint (sqlite_hnsw_search (index, shared.queries, K, 64, accept_none, NULL, got, NULL), ==, 0);
}

static void
test_k_beyond_count_returns_every_live_label (void)
{
  g_autoptr(Blobs) blobs = blobs_new (3, 16, 4, 0.2);
  g_autofree float *vectors = blobs_sample (blobs, 30);
  g_autofree guint64 *labels = labels_from (100, 30);
  g_autoptr(SqliteHnsw) index = sqlite_hnsw_new (16, 8, 16, 200, 1);
  g_autoptr(GError) error = NULL;
  guint64 got[50];

  sqlite_hnsw_add_batch (index, labels, vectors, 30, 1, &error);
  g_assert_no_error (error);
  sqlite_hnsw_remove (index, 105);
  g_assert_cmpuint (sqlite_hnsw_search (index, vectors, 50, 10, NULL, NULL, got, NULL), ==, 29);
  g_assert_cmpuint (got[0], ==, 100);
}

static void
test_empty_index_finds_nothing (void)
{
  g_autoptr(SqliteHnsw) index = sqlite_hnsw_new (8, 0, 16, 200, 1);
  float query[8] = { 1 };
  guint64 got[K];

  g_assert_cmpuint (sqlite_hnsw_count (index), ==, 0);
  g_assert_cmpuint (sqlite_hnsw_search (index, query, K, 64, NULL, NULL, got, NULL), ==, 0);
}

/* ---- changes ------------------------------------------------------------------------ */

static void
test_removed_labels_are_never_returned (void)
{
  g_autoptr(Blobs) blobs = blobs_new (5, 32, 20, 0.15);
  g_autofree float *vectors = blobs_sample (blobs, 2000);
  g_autofree guint64 *labels = labels_from (1, 2000);
  g_autoptr(SqliteHnsw) index = sqlite_hnsw_new (32, 2000, 16, 100, 1);
  g_autoptr(GError) error = NULL;

  sqlite_hnsw_add_batch (index, labels, vectors, 2000, 1, &error);
  g_assert_no_error (error);
  for (guint64 label = 2; label <= 2000; label += 2)
    g_assert_true (sqlite_hnsw_remove (index, label));
  g_assert_false (sqlite_hnsw_remove (index, 2));      /* already removed */
  g_assert_false (sqlite_hnsw_remove (index, 99999));  /* never added */
  g_assert_cmpuint (sqlite_hnsw_count (index), ==, 1000);
  g_assert_cmpuint (sqlite_hnsw_deleted (index), ==, 1000);
  g_assert_false (sqlite_hnsw_contains (index, 2));
  g_assert_true (sqlite_hnsw_contains (index, 3));

  for (gsize q = 0; q < 200; q++)
    {
      guint64 got[K];
      gsize n = sqlite_hnsw_search (index, vectors + q * 32, K, 64, NULL, NULL, got, NULL);

      g_assert_cmpuint (n, ==, K);
      for (gsize i = 0; i < n; i++)
        g_assert_cmpuint (got[i] % 2, ==, 1);
    }
}

static void
test_growth_past_initial_capacity (void)
{
  g_autoptr(Blobs) blobs = blobs_new (6, 24, 10, 0.15);
  g_autofree float *vectors = blobs_sample (blobs, 1500);
  g_autoptr(SqliteHnsw) index = sqlite_hnsw_new (24, 16, 16, 100, 1);
  gsize memory_before = sqlite_hnsw_memory_bytes (index);
  gsize found_self = 0;

  for (gsize i = 0; i < 1500; i++)
    {
      g_autoptr(GError) error = NULL;

      sqlite_hnsw_add (index, 1000 + i, vectors + i * 24, &error);
      g_assert_no_error (error);
    }
  g_assert_cmpuint (sqlite_hnsw_count (index), ==, 1500);
  g_assert_cmpuint (sqlite_hnsw_dims (index), ==, 24);
  g_assert_cmpuint (sqlite_hnsw_memory_bytes (index), >, memory_before + 1500 * 24 * sizeof (float));
  for (gsize i = 0; i < 1500; i += 5)
    {
      guint64 got[1];

      g_assert_cmpuint (sqlite_hnsw_search (index, vectors + i * 24, 1, 64, NULL, NULL, got, NULL), ==, 1);
      found_self += got[0] == 1000 + i;
    }
  g_assert_cmpuint (found_self, >=, 295);
}

static void
test_adding_an_existing_label_replaces_its_vector (void)
{
  g_autoptr(Blobs) blobs = blobs_new (8, 16, 5, 0.2);
  g_autofree float *vectors = blobs_sample (blobs, 300);
  g_autofree guint64 *labels = labels_from (1, 300);
  g_autoptr(SqliteHnsw) index = sqlite_hnsw_new (16, 300, 16, 100, 1);
  g_autoptr(GError) error = NULL;
  float target[16] = { 0 };
  guint64 got[1];
  float score[1];

  sqlite_hnsw_add_batch (index, labels, vectors, 300, 1, &error);
  g_assert_no_error (error);
  target[3] = 1;   /* a direction none of the blobs is near */
  sqlite_hnsw_add (index, 42, target, &error);
  g_assert_no_error (error);
  g_assert_cmpuint (sqlite_hnsw_count (index), ==, 300);
  g_assert_cmpuint (sqlite_hnsw_search (index, target, 1, 64, NULL, NULL, got, score), ==, 1);
  g_assert_cmpuint (got[0], ==, 42);
  g_assert_cmpfloat_with_epsilon (score[0], 1.0, 1e-5);
}

static void
test_add_batch_on_two_threads_indexes_every_row (void)
{
  g_autoptr(Blobs) blobs = blobs_new (9, 32, 10, 0.15);
  g_autofree float *vectors = blobs_sample (blobs, 3000);
  g_autofree guint64 *labels = labels_from (1, 3000);
  g_autoptr(SqliteHnsw) index = sqlite_hnsw_new (32, 100, 16, 100, 1);
  g_autoptr(GError) error = NULL;
  gsize found_self = 0;

  labels[2999] = 1;   /* the same label twice: the last vector wins */
  sqlite_hnsw_add_batch (index, labels, vectors, 3000, 2, &error);
  g_assert_no_error (error);
  g_assert_cmpuint (sqlite_hnsw_count (index), ==, 2999);
  for (gsize i = 0; i < 2999; i += 10)
    {
      guint64 got[1];

      sqlite_hnsw_search (index, vectors + (i == 0 ? 2999 : i) * 32, 1, 64, NULL, NULL, got, NULL);
      found_self += got[0] == labels[i];
    }
  g_assert_cmpuint (found_self, >=, 295);
}

static void
test_non_finite_vectors_are_refused (void)
{
  g_autoptr(SqliteHnsw) index = sqlite_hnsw_new (4, 16, 16, 100, 1);
  g_autoptr(GError) error = NULL;
  float good[8] = { 1, 0, 0, 0, 0, 1, 0, 0 };
  float bad[8] = { 1, 0, 0, 0, 0, NAN, 0, 0 };
  guint64 labels[2] = { 1, 2 };

  g_assert_false (sqlite_hnsw_add (index, 1, bad + 4, &error));
  g_assert_error (error, SQLITE_HNSW_ERROR, SQLITE_HNSW_ERROR_INVALID);
  g_clear_error (&error);
  g_assert_false (sqlite_hnsw_add_batch (index, labels, bad, 2, 1, &error));
  g_assert_error (error, SQLITE_HNSW_ERROR, SQLITE_HNSW_ERROR_INVALID);
  g_clear_error (&error);
  g_assert_cmpuint (sqlite_hnsw_count (index), ==, 0);   /* all or nothing */
  g_assert_true (sqlite_hnsw_add_batch (index, labels, good, 2, 1, &error));
  g_assert_no_error (error);
  g_assert_cmpuint (sqlite_hnsw_count (index), ==, 2);
}

/* A batch told to stop adds no more than the insertions under way and
 * says it stopped. */
static void
test_stopped_batch (void)
{
  g_autoptr(SqliteHnsw) index = sqlite_hnsw_new (4, 600, 16, 100, 1);
  g_autoptr(GError) error = NULL;
  g_autofree float *vectors = g_new (float, 4 * 500);
  g_autofree guint64 *labels = g_new (guint64, 500);
  gint stop = 0;

  for (guint i = 0; i < 500; i++)
    {
      labels[i] = i + 1;
      for (guint j = 0; j < 4; j++)
        vectors[i * 4 + j] = (float) ((i * 7 + j * 3) % 11) + 1.0f;
    }
  g_assert_true (sqlite_hnsw_add_batch_stoppable (index, labels, vectors, 100, 2, &stop, &error));
  g_assert_no_error (error);
  g_assert_cmpuint (sqlite_hnsw_count (index), ==, 100);

  g_atomic_int_set (&stop, 1);
  g_assert_false (sqlite_hnsw_add_batch_stoppable (index, labels + 100, vectors + 400, 400, 2, &stop, &error));
  g_assert_error (error, SQLITE_HNSW_ERROR, SQLITE_HNSW_ERROR_STOPPED);
  g_assert_cmpuint (sqlite_hnsw_count (index), ==, 100);
}

/* ---- concurrency -------------------------------------------------------------------- */

typedef struct
{
  SqliteHnsw  *index;
  const float *vectors;
  gsize        first_batch;
  gsize        total;
  gint         done;
  gint         searches;
} Race;

static gpointer
race_add (gpointer data)
{
  Race *race = data;

  for (gsize i = race->first_batch; i < race->total; i++)
    {
      g_autoptr(GError) error = NULL;

      sqlite_hnsw_add (race->index, 1 + i, race->vectors + i * 32, &error);
      g_assert_no_error (error);
    }
  g_atomic_int_set (&race->done, 1);
  return NULL;
}

static gpointer
race_search (gpointer data)
{
  Race *race = data;
  gsize q = 0;

  do
    {
      guint64 got[K];
      float scores[K];
      gsize n = sqlite_hnsw_search (race->index, race->vectors + (q % race->first_batch) * 32, K, 32,
                                    NULL, NULL, got, scores);

      g_assert_cmpuint (n, ==, K);
      for (gsize i = 0; i < n; i++)
        {
          g_assert_cmpuint (got[i], >=, 1);
          g_assert_cmpuint (got[i], <=, race->total);
          g_assert_cmpfloat (scores[i], <=, 1.001f);
          if (i > 0)
            g_assert_cmpfloat (scores[i - 1], >=, scores[i]);
        }
      g_atomic_int_inc (&race->searches);
      q++;
    }
  while (!g_atomic_int_get (&race->done));
  return NULL;
}

static void
test_concurrent_searches_while_adding (void)
{
  g_autoptr(Blobs) blobs = blobs_new (10, 32, 10, 0.15);
  g_autofree float *vectors = blobs_sample (blobs, 2000);
  g_autofree guint64 *labels = labels_from (1, 1000);
  g_autoptr(GError) error = NULL;
  Race race = { 0 };
  GThread *threads[3];

  race.index = sqlite_hnsw_new (32, 64, 16, 64, 1);
  race.vectors = vectors;
  race.first_batch = 1000;
  race.total = 2000;
  sqlite_hnsw_add_batch (race.index, labels, vectors, 1000, 1, &error);
  g_assert_no_error (error);

  threads[0] = g_thread_new ("search-1", race_search, &race);
  threads[1] = g_thread_new ("search-2", race_search, &race);
  threads[2] = g_thread_new ("add", race_add, &race);
  for (gsize i = 0; i < G_N_ELEMENTS (threads); i++)
    g_thread_join (threads[i]);

  g_assert_cmpuint (sqlite_hnsw_count (race.index), ==, 2000);
  g_assert_cmpint (race.searches, >=, 2);
  sqlite_hnsw_free (race.index);
}

/* ---- files -------------------------------------------------------------------------- */

static void
test_save_load_round_trip_gives_identical_results (Files         *f,
                                                   G_GNUC_UNUSED gconstpointer data)
{
  SqliteHnsw *index = shared_index ();
  g_autoptr(SqliteHnsw) loaded = NULL;
  g_autoptr(GError) error = NULL;
  guint64 generation = 0, owner = 0;

  save_shared (f);
  loaded = sqlite_hnsw_load (f->path, DIMS, &generation, &owner, &error);
  g_assert_no_error (error);
  g_assert_cmpuint (generation, ==, 11);
  g_assert_cmpuint (owner, ==, 22);
  g_assert_cmpuint (sqlite_hnsw_count (loaded), ==, sqlite_hnsw_count (index));
  g_assert_cmpuint (sqlite_hnsw_deleted (loaded), ==, 0);
  for (gsize q = 0; q < N_QUERIES; q++)
    {
      guint64 a[K], b[K];
      float sa[K], sb[K];
      gsize na = sqlite_hnsw_search (index, shared.queries + q * DIMS, K, 64, NULL, NULL, a, sa);
      gsize nb = sqlite_hnsw_search (loaded, shared.queries + q * DIMS, K, 64, NULL, NULL, b, sb);

      g_assert_cmpuint (na, ==, nb);
      g_assert_cmpmem (a, na * sizeof *a, b, nb * sizeof *b);
      g_assert_cmpmem (sa, na * sizeof *sa, sb, nb * sizeof *sb);
    }
}

static void
test_saved_index_keeps_deletions_and_can_grow (Files         *f,
                                               G_GNUC_UNUSED gconstpointer data)
{
  g_autoptr(Blobs) blobs = blobs_new (11, 16, 5, 0.2);
  g_autofree float *vectors = blobs_sample (blobs, 400);
  g_autofree guint64 *labels = labels_from (1, 300);
  g_autoptr(SqliteHnsw) index = sqlite_hnsw_new (16, 300, 16, 100, 1);
  g_autoptr(SqliteHnsw) loaded = NULL;
  g_autoptr(GError) error = NULL;
  guint64 got[K];

  sqlite_hnsw_add_batch (index, labels, vectors, 300, 1, &error);
  g_assert_no_error (error);
  sqlite_hnsw_remove (index, 1);
  sqlite_hnsw_save (index, f->path, 1, 2, &error);
  g_assert_no_error (error);
  loaded = sqlite_hnsw_load (f->path, 16, NULL, NULL, &error);
  g_assert_no_error (error);
  g_assert_cmpuint (sqlite_hnsw_count (loaded), ==, 299);
  g_assert_cmpuint (sqlite_hnsw_deleted (loaded), ==, 1);
  g_assert_cmpuint (sqlite_hnsw_m (loaded), ==, 16);
  g_assert_cmpuint (sqlite_hnsw_ef_construction (loaded), ==, 100);
  g_assert_false (sqlite_hnsw_contains (loaded, 1));
  for (gsize i = 300; i < 400; i++)
    {
      sqlite_hnsw_add (loaded, 1 + i, vectors + i * 16, &error);
      g_assert_no_error (error);
    }
  g_assert_cmpuint (sqlite_hnsw_count (loaded), ==, 399);
  g_assert_cmpuint (sqlite_hnsw_search (loaded, vectors, K, 64, NULL, NULL, got, NULL), ==, K);
  for (gsize i = 0; i < K; i++)
    g_assert_cmpuint (got[i], !=, 1);
}

static void
test_saved_empty_index_loads (Files         *f,
                              G_GNUC_UNUSED gconstpointer data)
{
  g_autoptr(SqliteHnsw) index = sqlite_hnsw_new (8, 0, 16, 100, 1);
  g_autoptr(SqliteHnsw) loaded = NULL;
  g_autoptr(GError) error = NULL;
  float v[8] = { 0, 1 };

  sqlite_hnsw_save (index, f->path, 0, 0, &error);
  g_assert_no_error (error);
  loaded = sqlite_hnsw_load (f->path, 8, NULL, NULL, &error);
  g_assert_no_error (error);
  g_assert_cmpuint (sqlite_hnsw_count (loaded), ==, 0);
  sqlite_hnsw_add (loaded, 1, v, &error);
  g_assert_no_error (error);
  g_assert_cmpuint (sqlite_hnsw_count (loaded), ==, 1);
}

static void
test_header_records_the_payload_checksum (Files         *f,
                                          G_GNUC_UNUSED gconstpointer data)
{
  g_autofree guint8 *payload = NULL;
  g_autofree guint8 *meta = NULL;
  gsize payload_length, meta_length;
  guint64 stored_length, stored_sum;

  save_shared (f);
  read_file (f->path, &payload, &payload_length);
  read_file (f->meta, &meta, &meta_length);
  g_assert_cmpuint (meta_length, ==, 128);
  g_assert_cmpmem (meta, 6, "STHNSW", 6);
  memcpy (&stored_length, meta + 80, 8);
  memcpy (&stored_sum, meta + 88, 8);
  g_assert_cmpuint (GUINT64_FROM_LE (stored_length), ==, payload_length);
  g_assert_cmpuint (GUINT64_FROM_LE (stored_sum), ==, sqlite_hnsw_hash64 (payload, payload_length, 0));
}

static void
test_hash_depends_on_every_byte (void)
{
  guint8 data[100];
  guint64 base;

  for (gsize i = 0; i < sizeof data; i++)
    data[i] = (guint8) (i * 7);
  base = sqlite_hnsw_hash64 (data, sizeof data, 0);
  g_assert_cmpuint (base, !=, sqlite_hnsw_hash64 (data, sizeof data, 1));
  g_assert_cmpuint (base, !=, sqlite_hnsw_hash64 (data, sizeof data - 1, 0));
  for (gsize i = 0; i < sizeof data; i++)
    {
      data[i] ^= 0x10;
      g_assert_cmpuint (base, !=, sqlite_hnsw_hash64 (data, sizeof data, 0));
      data[i] ^= 0x10;
    }
}

static void
test_load_missing_file_fails (Files         *f,
                              G_GNUC_UNUSED gconstpointer data)
{
  assert_load_fails (f->path, DIMS, SQLITE_HNSW_ERROR_MISSING, "vectors.hnsw");
}

static void
test_load_without_header_fails (Files         *f,
                                G_GNUC_UNUSED gconstpointer data)
{
  save_shared (f);
  g_unlink (f->meta);
  assert_load_fails (f->path, DIMS, SQLITE_HNSW_ERROR_CORRUPT, "vectors.hnsw.meta");
}

static void
test_load_truncated_payload_fails (Files         *f,
                                   G_GNUC_UNUSED gconstpointer data)
{
  g_autofree guint8 *payload = NULL;
  gsize length;
  gsize cuts[] = { 0, 1, 50, 96, 97, 5000, 0 /* half */, 0 /* all but one */ };

  save_shared (f);
  read_file (f->path, &payload, &length);
  cuts[6] = length / 2;
  cuts[7] = length - 1;
  for (gsize i = 0; i < G_N_ELEMENTS (cuts); i++)
    {
      write_file (f->path, payload, cuts[i]);
      assert_load_fails (f->path, DIMS, SQLITE_HNSW_ERROR_CORRUPT, "bytes long");
    }
}

static void
test_load_truncated_header_fails (Files         *f,
                                  G_GNUC_UNUSED gconstpointer data)
{
  g_autofree guint8 *meta = NULL;
  gsize length;
  gsize cuts[] = { 0, 7, 64, 127 };

  save_shared (f);
  read_file (f->meta, &meta, &length);
  for (gsize i = 0; i < G_N_ELEMENTS (cuts); i++)
    {
      write_file (f->meta, meta, cuts[i]);
      assert_load_fails (f->path, DIMS, SQLITE_HNSW_ERROR_CORRUPT, "vectors.hnsw.meta");
    }
}

static void
test_load_flipped_payload_byte_fails (Files         *f,
                                      G_GNUC_UNUSED gconstpointer data)
{
  g_autofree guint8 *payload = NULL;
  gsize length;
  gsize positions[] = { 0, 20, 100, 0 /* middle */, 0 /* last */ };

  save_shared (f);
  read_file (f->path, &payload, &length);
  positions[3] = length / 2;
  positions[4] = length - 1;
  for (gsize i = 0; i < G_N_ELEMENTS (positions); i++)
    {
      payload[positions[i]] ^= 0x01;
      write_file (f->path, payload, length);
      assert_load_fails (f->path, DIMS, SQLITE_HNSW_ERROR_CORRUPT, "checksum mismatch");
      payload[positions[i]] ^= 0x01;
    }
}

static void
test_load_flipped_header_byte_fails (Files         *f,
                                     G_GNUC_UNUSED gconstpointer data)
{
  g_autofree guint8 *meta = NULL;
  gsize length;

  save_shared (f);
  read_file (f->meta, &meta, &length);
  /* The magic, the version, the generation, the checksums. */
  for (gsize at = 0; at < 128; at += 9)
    {
      meta[at] ^= 0x80;
      write_file (f->meta, meta, length);
      assert_load_fails (f->path, DIMS, SQLITE_HNSW_ERROR_CORRUPT, "vectors.hnsw.meta");
      meta[at] ^= 0x80;
    }
}

static void
test_load_wrong_dims_fails (Files         *f,
                            G_GNUC_UNUSED gconstpointer data)
{
  save_shared (f);
  assert_load_fails (f->path, DIMS + 1, SQLITE_HNSW_ERROR_INCOMPATIBLE, "dimensions");
}

static void
test_load_other_format_version_fails (Files         *f,
                                      G_GNUC_UNUSED gconstpointer data)
{
  g_autofree guint8 *meta = NULL;
  gsize length;
  guint64 sum;

  save_shared (f);
  read_file (f->meta, &meta, &length);
  meta[8] = 2;
  sum = GUINT64_TO_LE (sqlite_hnsw_hash64 (meta, 120, 0));
  memcpy (meta + 120, &sum, 8);
  write_file (f->meta, meta, length);
  assert_load_fails (f->path, DIMS, SQLITE_HNSW_ERROR_INCOMPATIBLE, "version 2");
}

static void
test_load_random_bytes_fails (Files         *f,
                              G_GNUC_UNUSED gconstpointer data)
{
  g_autoptr(GRand) rand = g_rand_new_with_seed (99);
  g_autofree guint8 *bytes = g_new (guint8, 100000);

  for (gsize i = 0; i < 100000; i++)
    bytes[i] = (guint8) g_rand_int (rand);
  write_file (f->path, bytes, 100000);
  write_file (f->meta, bytes, 128);
  assert_load_fails (f->path, DIMS, SQLITE_HNSW_ERROR_CORRUPT, "wrong magic");
  write_file (f->meta, bytes, 100000);
  assert_load_fails (f->path, DIMS, SQLITE_HNSW_ERROR_CORRUPT, "over 128 bytes");
}

static void
test_load_payload_of_another_save_fails (Files         *f,
                                         G_GNUC_UNUSED gconstpointer data)
{
  g_autofree char *other = g_build_filename (f->dir, "other.hnsw", NULL);
  g_autoptr(SqliteHnsw) first = sqlite_hnsw_new (DIMS, 0, 16, 100, 1);
  g_autoptr(SqliteHnsw) second = sqlite_hnsw_new (DIMS, 0, 16, 100, 1);
  g_autoptr(GError) error = NULL;

  /* Same size, other vectors: only the checksum tells them apart. */
  sqlite_hnsw_add (first, 1, shared_index () ? shared.vectors : NULL, &error);
  g_assert_no_error (error);
  sqlite_hnsw_add (second, 1, shared.vectors + DIMS, &error);
  g_assert_no_error (error);
  sqlite_hnsw_save (first, f->path, 1, 22, &error);
  g_assert_no_error (error);
  sqlite_hnsw_save (second, other, 2, 22, &error);
  g_assert_no_error (error);
  g_assert_no_errno (g_rename (other, f->path));   /* as if a save crashed between its renames */
  assert_load_fails (f->path, DIMS, SQLITE_HNSW_ERROR_CORRUPT, "checksum mismatch");
}

static void
test_load_forged_hnswlib_header_fails (Files         *f,
                                       G_GNUC_UNUSED gconstpointer data)
{
  g_autofree guint8 *payload = NULL;
  gsize length;
  guint64 huge = GUINT64_TO_LE (G_GUINT64_CONSTANT (1) << 40);

  save_shared (f);
  read_file (f->path, &payload, &length);
  memcpy (payload + 24, &huge, 8);   /* size_data_per_element_ */
  write_file (f->path, payload, length);
  reseal (f);
  assert_load_fails (f->path, DIMS, SQLITE_HNSW_ERROR_CORRUPT, "disagrees");
}

static void
test_load_forged_link_fails (Files         *f,
                             G_GNUC_UNUSED gconstpointer data)
{
  g_autofree guint8 *payload = NULL;
  gsize length;
  guint16 one = GUINT16_TO_LE (1);
  guint32 far = GUINT32_TO_LE (0xFFFFFF00u);

  save_shared (f);
  read_file (f->path, &payload, &length);
  /* Element 0's level-0 list: a count, then the neighbour ids. */
  memcpy (payload + 96, &one, 2);
  memcpy (payload + 100, &far, 4);
  write_file (f->path, payload, length);
  reseal (f);
  assert_load_fails (f->path, DIMS, SQLITE_HNSW_ERROR_CORRUPT, "link target");
}

static void
test_delete_files_removes_the_index (Files         *f,
                                     G_GNUC_UNUSED gconstpointer data)
{
  g_autofree char *leftover = g_strconcat (f->path, ".tmp-abc123", NULL);
  g_autoptr(GError) error = NULL;

  save_shared (f);
  write_file (leftover, (const guint8 *) "x", 1);
  g_assert_true (sqlite_hnsw_delete_files (f->path, &error));
  g_assert_no_error (error);
  g_assert_false (g_file_test (f->path, G_FILE_TEST_EXISTS));
  g_assert_false (g_file_test (f->meta, G_FILE_TEST_EXISTS));
  g_assert_false (g_file_test (leftover, G_FILE_TEST_EXISTS));
  g_assert_true (sqlite_hnsw_delete_files (f->path, &error));   /* nothing left: fine */
  assert_load_fails (f->path, DIMS, SQLITE_HNSW_ERROR_MISSING, "vectors.hnsw");
}

int
main (int    argc,
      char **argv)
{
  int status;

  g_test_init (&argc, &argv, NULL);

#define FILES_TEST(name, func) \
  g_test_add ("/sqlite-hnsw/" name, Files, NULL, files_set_up, func, files_tear_down)

  g_test_add_func ("/sqlite-hnsw/recall-at-10-is-at-least-0.95-at-the-defaults", test_recall_at_defaults);
  g_test_add_func ("/sqlite-hnsw/filter-rejecting-90-percent-still-finds-k", test_filter_rejecting_most_still_finds_k);
  g_test_add_func ("/sqlite-hnsw/filter-with-fewer-than-k-accepted-returns-them-all",
                   test_filter_with_fewer_than_k_accepted_returns_them_all);
  g_test_add_func ("/sqlite-hnsw/filter-accepting-nothing-returns-nothing", test_filter_accepting_nothing_returns_nothing);
  g_test_add_func ("/sqlite-hnsw/k-beyond-count-returns-every-live-label", test_k_beyond_count_returns_every_live_label);
  g_test_add_func ("/sqlite-hnsw/empty-index-finds-nothing", test_empty_index_finds_nothing);
  g_test_add_func ("/sqlite-hnsw/removed-labels-are-never-returned", test_removed_labels_are_never_returned);
  g_test_add_func ("/sqlite-hnsw/growth-past-initial-capacity", test_growth_past_initial_capacity);
  g_test_add_func ("/sqlite-hnsw/adding-an-existing-label-replaces-its-vector",
                   test_adding_an_existing_label_replaces_its_vector);
  g_test_add_func ("/sqlite-hnsw/add-batch-on-two-threads-indexes-every-row", test_add_batch_on_two_threads_indexes_every_row);
  g_test_add_func ("/sqlite-hnsw/non-finite-vectors-are-refused", test_non_finite_vectors_are_refused);
  g_test_add_func ("/sqlite-hnsw/stopped-batch", test_stopped_batch);
  g_test_add_func ("/sqlite-hnsw/concurrent-searches-while-adding", test_concurrent_searches_while_adding);
  g_test_add_func ("/sqlite-hnsw/hash-depends-on-every-byte", test_hash_depends_on_every_byte);
  FILES_TEST ("save-load-round-trip-gives-identical-results", test_save_load_round_trip_gives_identical_results);
  FILES_TEST ("saved-index-keeps-deletions-and-can-grow", test_saved_index_keeps_deletions_and_can_grow);
  FILES_TEST ("saved-empty-index-loads", test_saved_empty_index_loads);
  FILES_TEST ("header-records-the-payload-checksum", test_header_records_the_payload_checksum);
  FILES_TEST ("load-missing-file-fails", test_load_missing_file_fails);
  FILES_TEST ("load-without-header-fails", test_load_without_header_fails);
  FILES_TEST ("load-truncated-payload-fails", test_load_truncated_payload_fails);
  FILES_TEST ("load-truncated-header-fails", test_load_truncated_header_fails);
  FILES_TEST ("load-flipped-payload-byte-fails", test_load_flipped_payload_byte_fails);
  FILES_TEST ("load-flipped-header-byte-fails", test_load_flipped_header_byte_fails);
  FILES_TEST ("load-wrong-dims-fails", test_load_wrong_dims_fails);
  FILES_TEST ("load-other-format-version-fails", test_load_other_format_version_fails);
  FILES_TEST ("load-random-bytes-fails", test_load_random_bytes_fails);
  FILES_TEST ("load-payload-of-another-save-fails", test_load_payload_of_another_save_fails);
  FILES_TEST ("load-forged-hnswlib-header-fails", test_load_forged_hnswlib_header_fails);
  FILES_TEST ("load-forged-link-fails", test_load_forged_link_fails);
  FILES_TEST ("delete-files-removes-the-index", test_delete_files_removes_the_index);

  status = g_test_run ();

  g_clear_pointer (&shared.index, sqlite_hnsw_free);
  g_free (shared.vectors);
  g_free (shared.queries);
  return status;
}

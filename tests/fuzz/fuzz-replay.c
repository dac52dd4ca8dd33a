/* fuzz-replay.c: runs a fuzz target over files, without libFuzzer
 *
 * SPDX-License-Identifier: LGPL-2.1-or-later
 *
 * Every harness in this folder defines LLVMFuzzerTestOneInput(). Built with
 * clang and -fsanitize=fuzzer (meson option `fuzzing`, see scripts/fuzz.sh)
 * libFuzzer drives it; in the ordinary build this main() feeds it each file
 * named on the command line, and each file of each folder named, so the
 * seed corpora (and any input a fuzzer once crashed on, added to them) run
 * as a regression test on every `meson test`.
 */
#include <stdint.h>
#include <stdio.h>

#include <glib.h>

int LLVMFuzzerTestOneInput (const uint8_t *data, size_t size);

static guint
run_file (const char *path)
{
  g_autofree char *contents = NULL;
  g_autoptr(GError) error = NULL;
  gsize length = 0;

  if (!g_file_get_contents (path, &contents, &length, &error))
    {
      fprintf (stderr, "%s\n", error->message);
      return 0;
    }
  LLVMFuzzerTestOneInput ((const uint8_t *) contents, length);
  return 1;
}

int
main (int    argc,
      char **argv)
{
  guint ran = 0;

  for (int i = 1; i < argc; i++)
    {
      if (g_file_test (argv[i], G_FILE_TEST_IS_DIR))
        {
          g_autoptr(GDir) dir = g_dir_open (argv[i], 0, NULL);
          const char *name;

          while (dir != NULL && (name = g_dir_read_name (dir)) != NULL)
            {
              g_autofree char *path = g_build_filename (argv[i], name, NULL);

              ran += run_file (path);
            }
        }
      else
        ran += run_file (argv[i]);
    }

  printf ("1..1\nok 1 - %u inputs ran through the target\n", ran);
  return ran > 0 ? 0 : 1;
}

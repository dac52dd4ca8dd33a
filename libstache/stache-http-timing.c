/* stache-http-timing.c: StacheHttpClient and the clock: deadlines kept by
 * a timer thread, waits between attempts that a cancellable cuts short,
 * and whether GIO's proxy resolver can be used here
 *
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */
#include "config.h"

#include <string.h>

#include "stache-http-client-private.h"

/* ---- the timer that enforces deadlines ---- */

/* A blocking libsoup call can only be interrupted through its cancellable,
 * so deadlines are timeout sources, on one process-wide timer thread, that
 * cancel the attempt's own cancellable. */

static gpointer
timer_thread_main (gpointer data)
{
  GMainContext *context = data;

  for (;;)
    g_main_context_iteration (context, TRUE);

  return NULL;
}

static GMainContext *
timer_context (void)
{
  static GMainContext *context = NULL;

  if (g_once_init_enter (&context))
    {
      GMainContext *new_context = g_main_context_new ();

      g_thread_unref (g_thread_new ("stache-http-timer", timer_thread_main, new_context));
      g_once_init_leave (&context, new_context);
    }

  return context;
}


static void
deadline_clear (gpointer p)
{
  Deadline *deadline = p;

  g_object_unref (deadline->cancellable);
}

void
_stache_http_deadline_release (gpointer p)
{
  g_atomic_rc_box_release_full (p, deadline_clear);
}

static gboolean
deadline_expire (gpointer p)
{
  Deadline *deadline = p;

  g_atomic_int_set (&deadline->expired, g_atomic_int_get (&deadline->phase));
  g_cancellable_cancel (deadline->cancellable);

  return G_SOURCE_REMOVE;
}

GSource *
_stache_http_deadline_arm (Deadline *deadline,
              Phase     phase,
              guint     seconds)
{
  GSource *source = g_timeout_source_new (seconds * 1000);

  g_atomic_int_set (&deadline->phase, phase);
  g_source_set_name (source, "[stache] HTTP deadline");
  g_source_set_callback (source, deadline_expire, g_atomic_rc_box_acquire (deadline),
                         _stache_http_deadline_release);
  g_source_attach (source, timer_context ());

  return source;
}

void
_stache_http_deadline_disarm (GSource **source)
{
  if (*source == NULL)
    return;

  g_source_destroy (*source);
  g_clear_pointer (source, g_source_unref);
}

/* ---- proxies ---- */

/* Whether connections may go through GIO's proxy support. Every proxied
 * connection instantiates GIO's default proxy resolver, and
 * glib-networking's GNOME resolver aborts the process when GSettings has no
 * schemas (a trimmed XDG_DATA_DIRS, a bare container). There, connections
 * are direct, unless GIO_USE_PROXY_RESOLVER picks a resolver explicitly. */
gboolean
_stache_http_proxies_usable (void)
{
  static gsize state = 0;   /* 1: usable, 2: not */

  if (g_once_init_enter (&state))
    {
      gboolean usable = g_getenv ("GIO_USE_PROXY_RESOLVER") != NULL;

      if (!usable)
        {
          GSettingsSchemaSource *source = g_settings_schema_source_get_default ();
          GSettingsSchema *schema = NULL;

          if (source != NULL)
            schema = g_settings_schema_source_lookup (source, "org.gnome.system.proxy", TRUE);
          usable = schema != NULL;
          g_clear_pointer (&schema, g_settings_schema_unref);
        }

      if (!usable)
        g_debug ("No proxy settings schema installed: HTTP connections are direct");

      g_once_init_leave (&state, usable ? 1 : 2);
    }

  return state == 1;
}

/* ---- waiting between attempts ---- */

typedef struct
{
  GMutex   mutex;
  GCond    cond;
  gboolean cancelled;
} Sleeper;

static void
sleeper_cancelled (GCancellable *cancellable,
                   gpointer      data)
{
  Sleeper *sleeper = data;

  g_mutex_lock (&sleeper->mutex);
  sleeper->cancelled = TRUE;
  g_cond_signal (&sleeper->cond);
  g_mutex_unlock (&sleeper->mutex);
}

/* Sleeps @ms milliseconds, or less if @cancellable is cancelled meanwhile.
 * Returns FALSE if it was. */
gboolean
_stache_http_sleep_cancellable (guint64       ms,
                   GCancellable *cancellable)
{
  Sleeper sleeper = { 0 };
  gint64 end = g_get_monotonic_time () + (gint64) ms * G_TIME_SPAN_MILLISECOND;
  gulong handler = 0;
  gboolean cancelled;

  g_mutex_init (&sleeper.mutex);
  g_cond_init (&sleeper.cond);

  if (cancellable != NULL)
    handler = g_cancellable_connect (cancellable, G_CALLBACK (sleeper_cancelled), &sleeper, NULL);

  g_mutex_lock (&sleeper.mutex);
  while (!sleeper.cancelled)
    {
      if (!g_cond_wait_until (&sleeper.cond, &sleeper.mutex, end))
        break;
    }
  cancelled = sleeper.cancelled;
  g_mutex_unlock (&sleeper.mutex);

  /* Waits for a handler running in another thread, so the stack-allocated
   * sleeper outlives it. */
  if (cancellable != NULL)
    g_cancellable_disconnect (cancellable, handler);

  g_cond_clear (&sleeper.cond);
  g_mutex_clear (&sleeper.mutex);

  return !cancelled;
}

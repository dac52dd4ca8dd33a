/* stache-task-private.h: running a provider's sync method in a thread
 *
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */
#pragma once

#include <gio/gio.h>

G_BEGIN_DECLS

/* The work function runs in a GTask worker thread. It returns the result
 * (never NULL on success; booleans use GINT_TO_POINTER (TRUE)) or NULL with
 * @error set. */
typedef gpointer (*StacheWorkFunc) (gpointer       source_object,
                                    gpointer       task_data,
                                    GCancellable  *cancellable,
                                    GError       **error);

void      _stache_task_run_in_thread  (gpointer             source_object,
                                       gpointer             source_tag,
                                       StacheWorkFunc       work,
                                       gpointer             task_data,
                                       GDestroyNotify       task_data_free,
                                       GDestroyNotify       result_free,
                                       GCancellable        *cancellable,
                                       GAsyncReadyCallback  callback,
                                       gpointer             user_data);
gpointer  _stache_task_finish_pointer (gpointer             source_object,
                                       GAsyncResult        *result,
                                       gpointer             source_tag,
                                       GError             **error);
gboolean  _stache_task_finish_boolean (gpointer             source_object,
                                       GAsyncResult        *result,
                                       gpointer             source_tag,
                                       GError             **error);
gint64    _stache_task_finish_int     (gpointer             source_object,
                                       GAsyncResult        *result,
                                       gpointer             source_tag,
                                       GError             **error);
gint64   *_stache_int_box             (gint64               value);

/* Takes a (transfer full) GList of GObjects, as a provider's sync vfunc
 * returns it, and gives back a GPtrArray that owns the elements (its free
 * function unrefs them): what the public wrappers return as
 * (transfer container). */
GPtrArray *_stache_object_list_to_array (GList *list);

/* Helper for vfuncs a provider does not implement */
gboolean  _stache_set_not_supported   (GError             **error,
                                       gpointer             provider,
                                       const char          *method);

G_END_DECLS

/* stache-task.c: running a provider's sync method in a thread
 *
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */
#include "config.h"

#include "stache-error.h"
#include "stache-private.h"
#include "stache-task-private.h"

/* The default _async implementation of every provider method: the sync
 * vfunc runs in a GTask worker thread. That is what lets a Python or Lua
 * plugin implement only the sync do_* methods and still serve callers that
 * must not block their main loop. Each call owns its arguments (task_data),
 * so nothing a caller frees after _async returns is touched by the thread. */

typedef struct
{
  StacheWorkFunc work;
  gpointer       data;
  GDestroyNotify data_free;
  GDestroyNotify result_free;
} WorkClosure;

static void
work_closure_free (gpointer p)
{
  WorkClosure *closure = p;

  if (closure->data_free != NULL && closure->data != NULL)
    closure->data_free (closure->data);
  g_free (closure);
}

static void
run_work (GTask        *task,
          gpointer      source_object,
          gpointer      task_data,
          GCancellable *cancellable)
{
  WorkClosure *closure = task_data;
  GError *error = NULL;
  gpointer result;

  if (g_task_return_error_if_cancelled (task))
    return;

  result = closure->work (source_object, closure->data, cancellable, &error);

  if (error != NULL)
    {
      if (result != NULL && closure->result_free != NULL)
        closure->result_free (result);
      g_task_return_error (task, error);
    }
  else if (result == NULL)
    {
      /* A provider returned failure without saying why: still an error the
       * caller can show, never a silent NULL. */
      g_task_return_new_error (task, STACHE_ERROR, STACHE_ERROR_FAILED,
                               _("Provider %s failed without giving a reason"),
                               G_OBJECT_TYPE_NAME (source_object));
    }
  else
    {
      g_task_return_pointer (task, result, closure->result_free);
    }
}

void
_stache_task_run_in_thread (gpointer             source_object,
                            gpointer             source_tag,
                            StacheWorkFunc       work,
                            gpointer             task_data,
                            GDestroyNotify       task_data_free,
                            GDestroyNotify       result_free,
                            GCancellable        *cancellable,
                            GAsyncReadyCallback  callback,
                            gpointer             user_data)
{
  g_autoptr(GTask) task = NULL;
  WorkClosure *closure;

  closure = g_new0 (WorkClosure, 1);
  closure->work = work;
  closure->data = task_data;
  closure->data_free = task_data_free;
  closure->result_free = result_free;

  task = g_task_new (source_object, cancellable, callback, user_data);
  g_task_set_source_tag (task, source_tag);
  g_task_set_task_data (task, closure, work_closure_free);
  g_task_run_in_thread (task, run_work);
}

gpointer
_stache_task_finish_pointer (gpointer       source_object,
                             GAsyncResult  *result,
                             gpointer       source_tag,
                             GError       **error)
{
  g_return_val_if_fail (g_task_is_valid (result, source_object), NULL);
  g_return_val_if_fail (g_task_get_source_tag (G_TASK (result)) == source_tag, NULL);

  return g_task_propagate_pointer (G_TASK (result), error);
}

gboolean
_stache_task_finish_boolean (gpointer       source_object,
                             GAsyncResult  *result,
                             gpointer       source_tag,
                             GError       **error)
{
  return _stache_task_finish_pointer (source_object, result, source_tag, error) != NULL;
}

gint64
_stache_task_finish_int (gpointer       source_object,
                         GAsyncResult  *result,
                         gpointer       source_tag,
                         GError       **error)
{
  g_autofree gint64 *value = _stache_task_finish_pointer (source_object, result, source_tag, error);

  return value != NULL ? *value : -1;
}

gint64 *
_stache_int_box (gint64 value)
{
  gint64 *box = g_new (gint64, 1);

  *box = value;
  return box;
}

gboolean
_stache_set_not_supported (GError   **error,
                           gpointer   provider,
                           const char *method)
{
  g_set_error (error, STACHE_ERROR, STACHE_ERROR_NOT_SUPPORTED,
               _("Provider %s does not implement %s()"),
               G_OBJECT_TYPE_NAME (provider), method);
  return FALSE;
}

GPtrArray *
_stache_object_list_to_array (GList *list)
{
  GPtrArray *array = g_ptr_array_new_full (g_list_length (list), g_object_unref);

  for (GList *l = list; l != NULL; l = l->next)
    {
      if (l->data != NULL)
        g_ptr_array_add (array, l->data);
    }
  g_list_free (list);

  return array;
}

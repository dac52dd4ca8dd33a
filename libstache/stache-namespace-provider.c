/* stache-namespace-provider.c: the namespace provider interface
 *
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */
#include "config.h"

#include <string.h>

#include "stache-error.h"
#include "stache-namespace.h"
#include "stache-namespace-provider.h"
#include "stache-private.h"
#include "stache-provider-private.h"
#include "stache-task-private.h"

/**
 * StacheNamespaceProvider:
 *
 * Creates, lists and deletes the namespaces that keep collections apart.
 *
 * A namespace name is a path such as `research/papers`: one to 255 bytes,
 * segments separated by single `/`, no `/` at either end and no empty
 * segment. Segments are made of ASCII letters, digits, `_`, `-` and `.`,
 * but a segment may not be `.` or `..`. stache_namespace_name_validate()
 * checks a name; every method of this interface checks the names it is
 * given before calling the provider, so a provider never sees an invalid
 * one.
 *
 * Names form a tree: `research/papers` is a child of `research`, and
 * stache_namespace_provider_list_namespaces() can list the direct children
 * of one namespace. A provider need not create the parents of a namespace:
 * a parent is just a name prefix.
 *
 * Creating a namespace that was created before fails with
 * %STACHE_ERROR_EXISTS (one that only exists because something was stored
 * in it may be created, which gives it a description and metadata).
 * Deleting a namespace that still holds documents, chunks or child
 * namespaces is refused with %STACHE_ERROR_NOT_EMPTY unless the caller asks
 * to cascade; enforcing both is the provider's job, since only it knows
 * what it holds.
 *
 * The extension point name is `namespace`; the setting
 * `namespace_provider` (environment variable `NAMESPACE_PROVIDER`) selects
 * the provider.
 *
 * A plugin written in Python or Lua implements `do_create_namespace`,
 * `do_delete_namespace`, `do_list_namespaces` and `do_get_namespace`; the
 * asynchronous methods then run them in a worker thread.
 */

G_DEFINE_INTERFACE (StacheNamespaceProvider, stache_namespace_provider, STACHE_TYPE_PROVIDER)

/* ---- namespace names ---- */

#define MAX_NAME_LENGTH 255
#define MAX_SHOWN_CHARS 40

/* A short rendering of @name, valid UTF-8, to quote in a message */
static char *
shown_name (const char *name)
{
  g_autofree char *valid = g_utf8_make_valid (name, -1);

  if (g_utf8_strlen (valid, -1) > MAX_SHOWN_CHARS)
    {
      g_autofree char *head = g_utf8_substring (valid, 0, MAX_SHOWN_CHARS);

      return g_strconcat (head, "…", NULL);
    }

  return g_steal_pointer (&valid);
}

/**
 * stache_namespace_name_validate:
 * @name: (nullable): a namespace name
 * @error: return location for a #GError
 *
 * Checks that @name is a valid namespace name: a path such as
 * `research/papers`, 1 to 255 bytes long, made of segments separated by
 * single `/`, with no `/` at the start or the end and no empty segment.
 * A segment holds ASCII letters, digits, `_`, `-` and `.`, and may not be
 * `.` or `..`.
 *
 * A %NULL @name is reported as an error too, so callers can pass a name
 * straight from user input.
 *
 * Returns: %TRUE if @name is valid; otherwise %FALSE with @error set to
 *   %STACHE_ERROR_INVALID_ARGUMENT and a message saying what is wrong
 */
gboolean
stache_namespace_name_validate (const char  *name,
                                GError     **error)
{
  g_autofree char *shown = NULL;
  const char *segment;
  gsize len;

  g_return_val_if_fail (error == NULL || *error == NULL, FALSE);

  if (name == NULL)
    {
      g_set_error (error, STACHE_ERROR, STACHE_ERROR_INVALID_ARGUMENT,
                   _("No namespace name was given"));
      return FALSE;
    }

  len = strlen (name);
  if (len == 0)
    {
      g_set_error (error, STACHE_ERROR, STACHE_ERROR_INVALID_ARGUMENT,
                   _("The namespace name is empty"));
      return FALSE;
    }

  shown = shown_name (name);

  if (len > MAX_NAME_LENGTH)
    {
      g_set_error (error, STACHE_ERROR, STACHE_ERROR_INVALID_ARGUMENT,
                   _("The namespace name “%s” is %lu bytes long; at most "
                     "%d bytes are allowed"),
                   shown, (gulong) len, MAX_NAME_LENGTH);
      return FALSE;
    }

  if (name[0] == '/')
    {
      g_set_error (error, STACHE_ERROR, STACHE_ERROR_INVALID_ARGUMENT,
                   _("The namespace name “%s” starts with “/”"), shown);
      return FALSE;
    }

  if (name[len - 1] == '/')
    {
      g_set_error (error, STACHE_ERROR, STACHE_ERROR_INVALID_ARGUMENT,
                   _("The namespace name “%s” ends with “/”"), shown);
      return FALSE;
    }

  segment = name;
  for (const char *p = name; ; p++)
    {
      if (*p == '/' || *p == '\0')
        {
          gsize segment_len = (gsize) (p - segment);

          if (segment_len == 0)
            {
              g_set_error (error, STACHE_ERROR, STACHE_ERROR_INVALID_ARGUMENT,
                           _("The namespace name “%s” has an empty segment (“//”)"), shown);
              return FALSE;
            }

          if ((segment_len == 1 && segment[0] == '.') ||
              (segment_len == 2 && segment[0] == '.' && segment[1] == '.'))
            {
              g_set_error (error, STACHE_ERROR, STACHE_ERROR_INVALID_ARGUMENT,
                           _("The namespace name “%s” has a segment “%s”; “.” and “..” "
                             "are not allowed as segments"),
                           shown, segment_len == 1 ? "." : "..");
              return FALSE;
            }

          if (*p == '\0')
            break;

          segment = p + 1;
        }
      else if (!g_ascii_isalnum (*p) && *p != '_' && *p != '-' && *p != '.')
        {
          if (g_ascii_isgraph (*p))
            g_set_error (error, STACHE_ERROR, STACHE_ERROR_INVALID_ARGUMENT,
                         _("The namespace name “%s” contains “%c”; only ASCII letters, "
                           "digits, “_”, “-” and “.” are allowed, with “/” between "
                           "segments"),
                         shown, *p);
          else
            g_set_error (error, STACHE_ERROR, STACHE_ERROR_INVALID_ARGUMENT,
                         _("The namespace name “%s” contains a space, a control "
                           "character or a non-ASCII character; only ASCII letters, "
                           "digits, “_”, “-” and “.” are allowed, with “/” between "
                           "segments"),
                         shown);
          return FALSE;
        }
    }

  return TRUE;
}

/* ---- checking what a provider returns ---- */

/* Takes @local_error. Returns whether the call succeeded; a provider that
 * failed without setting an error gets one that says so. */
static gboolean
check_outcome (StacheNamespaceProvider  *self,
               const char               *method,
               gboolean                  succeeded,
               GError                   *local_error,
               GError                  **error)
{
  if (local_error != NULL)
    {
      g_propagate_error (error, local_error);
      return FALSE;
    }

  if (!succeeded)
    {
      g_set_error (error, STACHE_ERROR, STACHE_ERROR_FAILED,
                   _("Namespace provider %s failed in %s() without giving a reason"),
                   G_OBJECT_TYPE_NAME (self), method);
      return FALSE;
    }

  return TRUE;
}

/* ---- the asynchronous forms: the public sync function in a thread ---- */

/* The arguments of one call, owned by it: the caller may free its own as
 * soon as the _async function returns. */
typedef struct
{
  char       *name;
  char       *description;
  JsonObject *metadata;
  gboolean    cascade;
} CallData;

static void
call_data_free (gpointer p)
{
  CallData *data = p;

  g_free (data->name);
  g_free (data->description);
  g_clear_pointer (&data->metadata, json_object_unref);
  g_free (data);
}

static CallData *
call_data_new (const char *name)
{
  CallData *data = g_new0 (CallData, 1);

  data->name = g_strdup (name);

  return data;
}

static gpointer
create_namespace_work (gpointer       source,
                       gpointer       task_data,
                       GCancellable  *cancellable,
                       GError       **error)
{
  CallData *data = task_data;

  return stache_namespace_provider_create_namespace (source, data->name, data->description, data->metadata,
                                                     cancellable, error);
}

static gpointer
delete_namespace_work (gpointer       source,
                       gpointer       task_data,
                       GCancellable  *cancellable,
                       GError       **error)
{
  CallData *data = task_data;

  return stache_namespace_provider_delete_namespace (source, data->name, data->cascade, cancellable, error)
           ? GINT_TO_POINTER (TRUE) : NULL;
}

static gpointer
list_namespaces_work (gpointer       source,
                      gpointer       task_data,
                      GCancellable  *cancellable,
                      GError       **error)
{
  CallData *data = task_data;

  return stache_namespace_provider_list_namespaces (source, data->name, cancellable, error);
}

static gpointer
get_namespace_work (gpointer       source,
                    gpointer       task_data,
                    GCancellable  *cancellable,
                    GError       **error)
{
  CallData *data = task_data;

  return stache_namespace_provider_get_namespace (source, data->name, cancellable, error);
}

static void
stache_namespace_provider_default_init (StacheNamespaceProviderInterface *iface)
{
  _stache_i18n_init ();
}

/* ---- argument checks ---- */

static gboolean
check_create_args (StacheNamespaceProvider  *self,
                   const char               *name,
                   const char               *description,
                   GError                  **error)
{
  if (!stache_namespace_name_validate (name, error))
    {
      g_prefix_error (error, _("Create namespace in %s: "), G_OBJECT_TYPE_NAME (self));
      return FALSE;
    }

  if (description != NULL && !g_utf8_validate (description, -1, NULL))
    {
      g_set_error (error, STACHE_ERROR, STACHE_ERROR_INVALID_ARGUMENT,
                   _("Create namespace in %s: the description is not valid UTF-8"),
                   G_OBJECT_TYPE_NAME (self));
      return FALSE;
    }

  return TRUE;
}

static gboolean
check_delete_args (StacheNamespaceProvider  *self,
                   const char               *name,
                   GError                  **error)
{
  if (!stache_namespace_name_validate (name, error))
    {
      g_prefix_error (error, _("Delete namespace from %s: "), G_OBJECT_TYPE_NAME (self));
      return FALSE;
    }

  return TRUE;
}

static gboolean
check_list_args (StacheNamespaceProvider  *self,
                 const char               *parent,
                 GError                  **error)
{
  if (parent != NULL && !stache_namespace_name_validate (parent, error))
    {
      g_prefix_error (error, _("List namespaces in %s: invalid parent: "),
                      G_OBJECT_TYPE_NAME (self));
      return FALSE;
    }

  return TRUE;
}

static gboolean
check_get_args (StacheNamespaceProvider  *self,
                const char               *name,
                GError                  **error)
{
  if (!stache_namespace_name_validate (name, error))
    {
      g_prefix_error (error, _("Get namespace from %s: "), G_OBJECT_TYPE_NAME (self));
      return FALSE;
    }

  return TRUE;
}

/**
 * StacheNamespaceProviderInterface::list_namespaces:
 * @self: a #StacheNamespaceProvider
 * @parent: (nullable): list only the direct children of this namespace, or
 *   %NULL to list every namespace
 * @cancellable: (nullable): a #GCancellable
 * @error: return location for a #GError
 *
 * Lists namespaces: with a @parent, only its direct children; with %NULL,
 * every namespace. The list is a #GList, not a #GPtrArray like the public
 * method's result, so that bindings hand over namespaces they own (in
 * Python: return a list).
 *
 * Returns: (transfer full) (element-type StacheNamespace) (nullable): the
 *   namespaces, %NULL for none (or with @error set)
 */

/* ---- public entry points ---- */

/**
 * stache_namespace_provider_create_namespace: (virtual create_namespace)
 * @self: a #StacheNamespaceProvider
 * @name: the name of the new namespace, such as `research/papers`
 * @description: (nullable): what the namespace holds, or %NULL
 * @metadata: (nullable): free-form metadata to store with the namespace
 * @cancellable: (nullable): a #GCancellable
 * @error: return location for a #GError
 *
 * Creates the namespace @name. An invalid name fails with
 * %STACHE_ERROR_INVALID_ARGUMENT before the provider is called; see
 * stache_namespace_name_validate(). A namespace that was created before
 * fails with %STACHE_ERROR_EXISTS; that is the provider's job.
 *
 * Returns: (transfer full): the new namespace, or %NULL with @error set
 */
StacheNamespace *
stache_namespace_provider_create_namespace (StacheNamespaceProvider  *self,
                                            const char               *name,
                                            const char               *description,
                                            JsonObject               *metadata,
                                            GCancellable             *cancellable,
                                            GError                  **error)
{
  StacheNamespaceProviderInterface *iface;
  StacheNamespace *namespace_;
  GError *local_error = NULL;

  g_return_val_if_fail (STACHE_IS_NAMESPACE_PROVIDER (self), NULL);
  g_return_val_if_fail (cancellable == NULL || G_IS_CANCELLABLE (cancellable), NULL);
  g_return_val_if_fail (error == NULL || *error == NULL, NULL);

  if (!check_create_args (self, name, description, error))
    return NULL;

  iface = STACHE_NAMESPACE_PROVIDER_GET_IFACE (self);
  if (iface->create_namespace == NULL)
    {
      _stache_set_not_supported (error, self, "create_namespace");
      return NULL;
    }

  namespace_ = iface->create_namespace (self, name, description, metadata, cancellable,
                                        &local_error);
  if (!check_outcome (self, "create_namespace", namespace_ != NULL, local_error, error))
    g_clear_object (&namespace_);

  return namespace_;
}

/**
 * stache_namespace_provider_create_namespace_async:
 * @self: a #StacheNamespaceProvider
 * @name: the name of the new namespace, such as `research/papers`
 * @description: (nullable): what the namespace holds, or %NULL
 * @metadata: (nullable): free-form metadata to store with the namespace
 * @cancellable: (nullable): a #GCancellable
 * @callback: (scope async): called with the new namespace
 * @user_data: data for @callback
 *
 * Asynchronously creates a namespace; see
 * stache_namespace_provider_create_namespace(). The arguments are copied,
 * so the caller may free them at once.
 */
void
stache_namespace_provider_create_namespace_async (StacheNamespaceProvider *self,
                                                  const char              *name,
                                                  const char              *description,
                                                  JsonObject              *metadata,
                                                  GCancellable            *cancellable,
                                                  GAsyncReadyCallback      callback,
                                                  gpointer                 user_data)
{
  CallData *data;

  g_return_if_fail (STACHE_IS_NAMESPACE_PROVIDER (self));
  g_return_if_fail (cancellable == NULL || G_IS_CANCELLABLE (cancellable));

  data = call_data_new (name);
  data->description = g_strdup (description);
  data->metadata = metadata != NULL ? json_object_ref (metadata) : NULL;
  _stache_task_run_in_thread (self, stache_namespace_provider_create_namespace_async, create_namespace_work,
                              data, call_data_free, g_object_unref, cancellable, callback, user_data);
}

/**
 * stache_namespace_provider_create_namespace_finish:
 * @self: a #StacheNamespaceProvider
 * @result: the #GAsyncResult passed to the callback
 * @error: return location for a #GError
 *
 * Finishes stache_namespace_provider_create_namespace_async().
 *
 * Returns: (transfer full): the new namespace, or %NULL with @error set
 */
StacheNamespace *
stache_namespace_provider_create_namespace_finish (StacheNamespaceProvider  *self,
                                                   GAsyncResult             *result,
                                                   GError                  **error)
{
  g_return_val_if_fail (STACHE_IS_NAMESPACE_PROVIDER (self), NULL);

  return _stache_task_finish_pointer (self, result, stache_namespace_provider_create_namespace_async, error);
}

/**
 * stache_namespace_provider_delete_namespace: (virtual delete_namespace)
 * @self: a #StacheNamespaceProvider
 * @name: the name of the namespace to delete
 * @cascade: whether to delete what the namespace holds as well
 * @cancellable: (nullable): a #GCancellable
 * @error: return location for a #GError
 *
 * Deletes the namespace @name.
 *
 * A namespace that still holds documents, chunks or child namespaces is
 * only deleted if @cascade is %TRUE, and then everything it holds, child
 * namespaces included, is deleted with it; without @cascade the provider
 * refuses with %STACHE_ERROR_NOT_EMPTY and deletes nothing. A
 * namespace that does not exist fails with %STACHE_ERROR_NOT_FOUND. Both
 * are the provider's job: this method only checks the name.
 *
 * Returns: %TRUE on success
 */
gboolean
stache_namespace_provider_delete_namespace (StacheNamespaceProvider  *self,
                                            const char               *name,
                                            gboolean                  cascade,
                                            GCancellable             *cancellable,
                                            GError                  **error)
{
  StacheNamespaceProviderInterface *iface;
  GError *local_error = NULL;
  gboolean deleted;

  g_return_val_if_fail (STACHE_IS_NAMESPACE_PROVIDER (self), FALSE);
  g_return_val_if_fail (cancellable == NULL || G_IS_CANCELLABLE (cancellable), FALSE);
  g_return_val_if_fail (error == NULL || *error == NULL, FALSE);

  if (!check_delete_args (self, name, error))
    return FALSE;

  iface = STACHE_NAMESPACE_PROVIDER_GET_IFACE (self);
  if (iface->delete_namespace == NULL)
    return _stache_set_not_supported (error, self, "delete_namespace");

  deleted = iface->delete_namespace (self, name, cascade, cancellable, &local_error);

  return check_outcome (self, "delete_namespace", deleted, local_error, error);
}

/**
 * stache_namespace_provider_delete_namespace_async:
 * @self: a #StacheNamespaceProvider
 * @name: the name of the namespace to delete
 * @cascade: whether to delete what the namespace holds as well
 * @cancellable: (nullable): a #GCancellable
 * @callback: (scope async): called when the namespace is deleted
 * @user_data: data for @callback
 *
 * Asynchronously deletes a namespace; see
 * stache_namespace_provider_delete_namespace().
 */
void
stache_namespace_provider_delete_namespace_async (StacheNamespaceProvider *self,
                                                  const char              *name,
                                                  gboolean                 cascade,
                                                  GCancellable            *cancellable,
                                                  GAsyncReadyCallback      callback,
                                                  gpointer                 user_data)
{
  CallData *data;

  g_return_if_fail (STACHE_IS_NAMESPACE_PROVIDER (self));
  g_return_if_fail (cancellable == NULL || G_IS_CANCELLABLE (cancellable));

  data = call_data_new (name);
  data->cascade = cascade;
  _stache_task_run_in_thread (self, stache_namespace_provider_delete_namespace_async, delete_namespace_work,
                              data, call_data_free, NULL, cancellable, callback, user_data);
}

/**
 * stache_namespace_provider_delete_namespace_finish:
 * @self: a #StacheNamespaceProvider
 * @result: the #GAsyncResult passed to the callback
 * @error: return location for a #GError
 *
 * Finishes stache_namespace_provider_delete_namespace_async().
 *
 * Returns: %TRUE on success
 */
gboolean
stache_namespace_provider_delete_namespace_finish (StacheNamespaceProvider  *self,
                                                   GAsyncResult             *result,
                                                   GError                  **error)
{
  g_return_val_if_fail (STACHE_IS_NAMESPACE_PROVIDER (self), FALSE);

  return _stache_task_finish_boolean (self, result, stache_namespace_provider_delete_namespace_async, error);
}

/**
 * stache_namespace_provider_list_namespaces:
 * @self: a #StacheNamespaceProvider
 * @parent: (nullable): list only the direct children of this namespace, or
 *   %NULL to list every namespace
 * @cancellable: (nullable): a #GCancellable
 * @error: return location for a #GError
 *
 * Lists namespaces. With a @parent such as `research`, only its direct
 * children are listed (`research/papers`, not `research/papers/2024` nor
 * `research` itself); with %NULL, every namespace is.
 *
 * Returns: (transfer container) (element-type StacheNamespace): the
 *   namespaces, possibly none, or %NULL with @error set; the array owns its
 *   elements
 */
GPtrArray *
stache_namespace_provider_list_namespaces (StacheNamespaceProvider  *self,
                                           const char               *parent,
                                           GCancellable             *cancellable,
                                           GError                  **error)
{
  StacheNamespaceProviderInterface *iface;
  GError *local_error = NULL;
  GList *namespaces;

  g_return_val_if_fail (STACHE_IS_NAMESPACE_PROVIDER (self), NULL);
  g_return_val_if_fail (cancellable == NULL || G_IS_CANCELLABLE (cancellable), NULL);
  g_return_val_if_fail (error == NULL || *error == NULL, NULL);

  if (!check_list_args (self, parent, error))
    return NULL;

  iface = STACHE_NAMESPACE_PROVIDER_GET_IFACE (self);
  if (iface->list_namespaces == NULL)
    {
      _stache_set_not_supported (error, self, "list_namespaces");
      return NULL;
    }

  /* The caller's @error may be NULL: a local one tells failure apart from
   * an empty (NULL) list. */
  namespaces = iface->list_namespaces (self, parent, cancellable, &local_error);
  if (local_error != NULL)
    {
      g_list_free_full (namespaces, g_object_unref);
      g_propagate_error (error, local_error);
      return NULL;
    }

  return _stache_object_list_to_array (namespaces);
}

/**
 * stache_namespace_provider_list_namespaces_async:
 * @self: a #StacheNamespaceProvider
 * @parent: (nullable): list only the direct children of this namespace, or
 *   %NULL to list every namespace
 * @cancellable: (nullable): a #GCancellable
 * @callback: (scope async): called with the namespaces
 * @user_data: data for @callback
 *
 * Asynchronously lists namespaces; see
 * stache_namespace_provider_list_namespaces().
 */
void
stache_namespace_provider_list_namespaces_async (StacheNamespaceProvider *self,
                                                 const char              *parent,
                                                 GCancellable            *cancellable,
                                                 GAsyncReadyCallback      callback,
                                                 gpointer                 user_data)
{
  g_return_if_fail (STACHE_IS_NAMESPACE_PROVIDER (self));
  g_return_if_fail (cancellable == NULL || G_IS_CANCELLABLE (cancellable));

  _stache_task_run_in_thread (self, stache_namespace_provider_list_namespaces_async, list_namespaces_work,
                              call_data_new (parent), call_data_free, (GDestroyNotify) g_ptr_array_unref,
                              cancellable, callback, user_data);
}

/**
 * stache_namespace_provider_list_namespaces_finish:
 * @self: a #StacheNamespaceProvider
 * @result: the #GAsyncResult passed to the callback
 * @error: return location for a #GError
 *
 * Finishes stache_namespace_provider_list_namespaces_async().
 *
 * Returns: (transfer container) (element-type StacheNamespace): the
 *   namespaces, or %NULL with @error set; the array owns its elements
 */
GPtrArray *
stache_namespace_provider_list_namespaces_finish (StacheNamespaceProvider  *self,
                                                  GAsyncResult             *result,
                                                  GError                  **error)
{
  g_return_val_if_fail (STACHE_IS_NAMESPACE_PROVIDER (self), NULL);

  return _stache_task_finish_pointer (self, result, stache_namespace_provider_list_namespaces_async, error);
}

/**
 * stache_namespace_provider_get_namespace: (virtual get_namespace)
 * @self: a #StacheNamespaceProvider
 * @name: the name of the namespace
 * @cancellable: (nullable): a #GCancellable
 * @error: return location for a #GError
 *
 * Looks up the namespace @name. A namespace that does not exist fails
 * with %STACHE_ERROR_NOT_FOUND; setting that error is the provider's job.
 *
 * Returns: (transfer full): the namespace, or %NULL with @error set
 */
StacheNamespace *
stache_namespace_provider_get_namespace (StacheNamespaceProvider  *self,
                                         const char               *name,
                                         GCancellable             *cancellable,
                                         GError                  **error)
{
  StacheNamespaceProviderInterface *iface;
  StacheNamespace *namespace_;
  GError *local_error = NULL;

  g_return_val_if_fail (STACHE_IS_NAMESPACE_PROVIDER (self), NULL);
  g_return_val_if_fail (cancellable == NULL || G_IS_CANCELLABLE (cancellable), NULL);
  g_return_val_if_fail (error == NULL || *error == NULL, NULL);

  if (!check_get_args (self, name, error))
    return NULL;

  iface = STACHE_NAMESPACE_PROVIDER_GET_IFACE (self);
  if (iface->get_namespace == NULL)
    {
      _stache_set_not_supported (error, self, "get_namespace");
      return NULL;
    }

  namespace_ = iface->get_namespace (self, name, cancellable, &local_error);
  if (!check_outcome (self, "get_namespace", namespace_ != NULL, local_error, error))
    g_clear_object (&namespace_);

  return namespace_;
}

/**
 * stache_namespace_provider_get_namespace_async:
 * @self: a #StacheNamespaceProvider
 * @name: the name of the namespace
 * @cancellable: (nullable): a #GCancellable
 * @callback: (scope async): called with the namespace
 * @user_data: data for @callback
 *
 * Asynchronously looks up a namespace; see
 * stache_namespace_provider_get_namespace().
 */
void
stache_namespace_provider_get_namespace_async (StacheNamespaceProvider *self,
                                               const char              *name,
                                               GCancellable            *cancellable,
                                               GAsyncReadyCallback      callback,
                                               gpointer                 user_data)
{
  g_return_if_fail (STACHE_IS_NAMESPACE_PROVIDER (self));
  g_return_if_fail (cancellable == NULL || G_IS_CANCELLABLE (cancellable));

  _stache_task_run_in_thread (self, stache_namespace_provider_get_namespace_async, get_namespace_work,
                              call_data_new (name), call_data_free, g_object_unref,
                              cancellable, callback, user_data);
}

/**
 * stache_namespace_provider_get_namespace_finish:
 * @self: a #StacheNamespaceProvider
 * @result: the #GAsyncResult passed to the callback
 * @error: return location for a #GError
 *
 * Finishes stache_namespace_provider_get_namespace_async().
 *
 * Returns: (transfer full): the namespace, or %NULL with @error set
 */
StacheNamespace *
stache_namespace_provider_get_namespace_finish (StacheNamespaceProvider  *self,
                                                GAsyncResult             *result,
                                                GError                  **error)
{
  g_return_val_if_fail (STACHE_IS_NAMESPACE_PROVIDER (self), NULL);

  return _stache_task_finish_pointer (self, result, stache_namespace_provider_get_namespace_async, error);
}

void
_stache_namespace_provider_add_missing_methods (const StacheNamespaceProviderInterface *iface,
                                                GPtrArray                              *missing)
{
  if (iface->create_namespace == NULL)
    g_ptr_array_add (missing, (gpointer) "create_namespace");
  if (iface->delete_namespace == NULL)
    g_ptr_array_add (missing, (gpointer) "delete_namespace");
  if (iface->list_namespaces == NULL)
    g_ptr_array_add (missing, (gpointer) "list_namespaces");
  if (iface->get_namespace == NULL)
    g_ptr_array_add (missing, (gpointer) "get_namespace");
}

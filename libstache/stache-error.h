/* stache-error.h: error domains
 *
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */
#pragma once

#if !defined(STACHE_INSIDE) && !defined(STACHE_COMPILATION)
# error "Only <stache.h> can be included directly."
#endif

#include <glib.h>
#include "stache-version.h"

G_BEGIN_DECLS

/**
 * STACHE_ERROR:
 *
 * Error domain for the core of libstache: settings, providers, arguments.
 * Errors in this domain use the #StacheError codes.
 */
#define STACHE_ERROR (stache_error_quark ())

/**
 * STACHE_PLUGIN_ERROR:
 *
 * Error domain for plugin discovery and loading. Errors in this domain use
 * the #StachePluginError codes.
 */
#define STACHE_PLUGIN_ERROR (stache_plugin_error_quark ())

/**
 * StacheError:
 * @STACHE_ERROR_FAILED: a generic failure; the message says what happened
 * @STACHE_ERROR_UNKNOWN_PROVIDER: no provider of the requested type has the
 *   requested name
 * @STACHE_ERROR_INVALID_SETTING: a setting has a value of the wrong form
 * @STACHE_ERROR_INVALID_ARGUMENT: an argument passed to a provider is invalid
 * @STACHE_ERROR_NOT_FOUND: the requested item does not exist
 * @STACHE_ERROR_NOT_SUPPORTED: the provider does not implement this operation
 * @STACHE_ERROR_CONFIG_FILE: the configuration file could not be read
 * @STACHE_ERROR_EXISTS: the item to create exists already
 * @STACHE_ERROR_NOT_EMPTY: the item to delete still holds other items
 *   (a namespace with documents, chunks or child namespaces) and the caller
 *   did not ask to delete them with it
 *
 * Error codes in the %STACHE_ERROR domain.
 */
typedef enum {
  /* New codes go at the end: the values are part of the ABI. */
  STACHE_ERROR_FAILED,
  STACHE_ERROR_UNKNOWN_PROVIDER,
  STACHE_ERROR_INVALID_SETTING,
  STACHE_ERROR_INVALID_ARGUMENT,
  STACHE_ERROR_NOT_FOUND,
  STACHE_ERROR_NOT_SUPPORTED,
  STACHE_ERROR_CONFIG_FILE,
  STACHE_ERROR_EXISTS,
  STACHE_ERROR_NOT_EMPTY,
} StacheError;

/**
 * StachePluginError:
 * @STACHE_PLUGIN_ERROR_BAD_PLUGIN_FILE: the `.plugin` file is unreadable,
 *   malformed or misses a required key
 * @STACHE_PLUGIN_ERROR_MISSING_MODULE: the module the `.plugin` file names
 *   does not exist beside it
 * @STACHE_PLUGIN_ERROR_LOADER_UNAVAILABLE: the plugin needs a libpeas loader
 *   (python3, lua5.1) that is not installed
 * @STACHE_PLUGIN_ERROR_LOAD_FAILED: the module could not be loaded (a
 *   shared-library error, a Python exception at import, …)
 * @STACHE_PLUGIN_ERROR_NO_MATCHING_TYPE: the module loaded but registers no
 *   type implementing a provider interface it declares
 * @STACHE_PLUGIN_ERROR_SHADOWED: a plugin found earlier in the search path
 *   already provides this name
 * @STACHE_PLUGIN_ERROR_MISSING_METHODS: the type the module registers for a
 *   provider interface leaves methods the interface requires unimplemented
 *
 * Error codes in the %STACHE_PLUGIN_ERROR domain.
 */
typedef enum {
  STACHE_PLUGIN_ERROR_BAD_PLUGIN_FILE,
  STACHE_PLUGIN_ERROR_MISSING_MODULE,
  STACHE_PLUGIN_ERROR_LOADER_UNAVAILABLE,
  STACHE_PLUGIN_ERROR_LOAD_FAILED,
  STACHE_PLUGIN_ERROR_NO_MATCHING_TYPE,
  STACHE_PLUGIN_ERROR_SHADOWED,
  STACHE_PLUGIN_ERROR_MISSING_METHODS,
} StachePluginError;

STACHE_AVAILABLE_IN_ALL
GQuark stache_error_quark        (void);
STACHE_AVAILABLE_IN_ALL
GQuark stache_plugin_error_quark (void);

G_END_DECLS

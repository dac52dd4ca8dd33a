/* stache-http-client-private.h: what the files of StacheHttpClient share
 *
 * SPDX-License-Identifier: LGPL-2.1-or-later
 *
 * StacheHttpClient is one class in four files: stache-http-client.c (the
 * object, its settings and the request loop: attempts, retries, errors),
 * stache-http-secrets.c (headers, secrets and their redaction),
 * stache-http-timing.c (deadlines on a timer thread, waits between
 * attempts, whether proxies can be used) and stache-http-stream.c (the
 * SSE and NDJSON parser of streamed answers).
 */
#pragma once

#include <libsoup/soup.h>

#include "stache-error.h"
#include "stache-http-client.h"
#include "stache-json.h"
#include "stache-private.h"

G_BEGIN_DECLS

#define REDACTED               "********"
#define MAX_BACKOFF_MS         30000
#define MAX_RESPONSE_SIZE      (64 * 1024 * 1024)  /* a JSON response this large is refused */
#define MAX_ERROR_BODY_SIZE    (64 * 1024)         /* enough of an error body to explain it */
#define ERROR_EXCERPT_CHARS    200
#define MALFORMED_EXCERPT_CHARS 100
#define READ_CHUNK_SIZE        (16 * 1024)
#define STATUS_TOO_MANY_REQUESTS 429   /* not among libsoup 3.2's names */

struct _StacheHttpClient
{
  GObject    parent_instance;

  guint64    serial;            /* unique in the process, set at init */

  char      *provider_name;
  char      *api_name;          /* guarded by mutex; NULL: provider_name */
  guint      connect_timeout;   /* seconds */
  guint      timeout;           /* seconds */
  guint      max_retries;
  guint      retry_budget;      /* seconds */
  guint      backoff_ms;

  GMutex     mutex;             /* guards headers and secrets */
  GPtrArray *headers;           /* Header*, in the order set */
  GPtrArray *secrets;           /* char*, longest first */
};

typedef struct
{
  char *name;
  char *value;
} Header;

/* stache-http-secrets.c */
void          _stache_http_register_url_secrets (StacheHttpClient *self,
                                                 GUri             *uri);
GPtrArray *   _stache_http_copy_headers (StacheHttpClient *self);
void          _stache_http_header_free (gpointer p);
void          _stache_http_debug_message (StacheHttpClient *self,
                                          const char       *format,
                                          ...) G_GNUC_PRINTF (2, 3);

/* stache-http-timing.c: the deadline of one attempt */
typedef enum {
  PHASE_NONE,
  PHASE_CONNECT,    /* until the request starts on a connection */
  PHASE_RESPONSE,   /* until the response (headers, for a stream) is read */
} Phase;

typedef struct
{
  GCancellable *cancellable;   /* the attempt's */
  gint          phase;         /* atomic Phase, the one being timed */
  gint          expired;       /* atomic Phase that ran out, or PHASE_NONE */
} Deadline;

/* stache-http-timing.c */
GSource *     _stache_http_deadline_arm (Deadline *deadline,
                                         Phase     phase,
                                         guint     seconds);
void          _stache_http_deadline_disarm (GSource **source);
void          _stache_http_deadline_release (gpointer p);
gboolean      _stache_http_proxies_usable (void);
gboolean      _stache_http_sleep_cancellable (guint64       ms,
                                              GCancellable *cancellable);

/* stache-http-client.c */
const char * const *_stache_http_client_setting_keys (void);
char *        _stache_http_excerpt (const char *data,
                                    gsize       len,
                                    guint       max_chars);

G_END_DECLS

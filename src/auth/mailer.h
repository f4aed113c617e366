/* Sign-in mail over SMTP with libcurl, sent off the event loop on libuv's thread pool with a
 * bounded retry; the result comes back on the loop thread. */
#ifndef GAVEL_AUTH_MAILER_H
#define GAVEL_AUTH_MAILER_H

#include "core/buf.h"

#include <stdint.h>
#include <uv.h>

typedef struct mailer_s mailer_t;

typedef struct {
    const char *smtp_url; /* smtp://host:port or smtps://host:port (required) */
    const char *from;     /* sender address (required) */
    const char *user;     /* optional SMTP user (from GAVEL_SMTP_USER) */
    const char *password; /* optional SMTP password (from GAVEL_SMTP_PASSWORD) */
    int max_attempts;     /* >= 1; default 3 */
    int timeout_s;        /* per attempt; default 10 */
} mailer_config_t;

/* Called on the loop thread once the mail was delivered (status 0) or every attempt failed
 * (GV_EUNAVAILABLE). detail is a short, secret-free reason for the log (NULL on success). */
typedef void (*mailer_done_fn)(int status, const char *detail, void *ctx);

/* mailer_new checks cfg (smtp:// or smtps:// URL, a from address) and copies it. 0,
 * GV_EINVALID_REQUEST or GV_ENOMEM. */
int mailer_new(mailer_t **out, uv_loop_t *loop, const mailer_config_t *cfg);

/* mailer_free releases the mailer; sends already queued finish first (call after the loop
 * stopped or when none is pending). NULL is a no-op. */
void mailer_free(mailer_t *m);

/* mailer_send queues one message (all strings copied) and returns 0, or GV_ENOMEM /
 * GV_EINVALID_REQUEST (header injection: CR or LF in to/subject). done is called exactly once
 * when 0 is returned, never when an error is returned. */
int mailer_send(mailer_t *m, const char *to, const char *subject, const char *text,
                const char *html, mailer_done_fn done, void *ctx);

/* mailer_format builds the RFC 5322 message (multipart/alternative: text/plain then text/html,
 * UTF-8, quoted-printable or base64 bodies, Date, Message-ID, From, To, Subject, MIME-Version)
 * into out. Pure. 0, GV_EINVALID_REQUEST (CR/LF in a header value) or GV_ENOMEM. */
int mailer_format(buf_t *out, const char *from, const char *to, const char *subject,
                  const char *text, const char *html, int64_t now_ms, const char *message_id);

#endif

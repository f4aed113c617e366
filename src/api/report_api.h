/* Error reports of the application: the HTTP server's 5xx responses and the auction service's
 * failed group commits become reports (report/report.h); the Sentry sender's counters for
 * /metrics. */
#ifndef GAVEL_API_REPORT_API_H
#define GAVEL_API_REPORT_API_H

#include "api/app.h"

/* api_report_check checks --sentry-dsn (nothing to check when empty): 0, or GV_EINVALID_REQUEST
 * with why (size n) saying what a DSN looks like. */
int api_report_check(const config_t *cfg, char *why, size_t n);

/* api_report_start starts the Sentry sender when --sentry-dsn is set, installs the HTTP server's
 * error observer (app->http must exist) and starts watching the auction service's failed
 * commits (a prepare handle on app->loop that keeps no loop alive; the loop walk at the end
 * closes it). 0, or GV_E* with a log line saying why. */
int api_report_start(app_t *app);

/* api_report_stop stops the Sentry sender (a short grace for what is queued); after the loop
 * ended. */
void api_report_stop(app_t *app);

/* api_report_metrics appends gavel_error_reports_total{outcome="sent|dropped|failed"} to a
 * /metrics body. 0 or GV_ENOMEM. */
int api_report_metrics(app_t *app, buf_t *out);

#endif

/* The last report of a process killed by a fatal signal: one line on stderr, written by an
 * async-signal-safe handler, then the signal goes on to kill the process as it would have. */
#ifndef GAVEL_REPORT_CRASH_H
#define GAVEL_REPORT_CRASH_H

#include "core/log.h"

/* crash_handler_install installs the handler of SIGSEGV, SIGBUS, SIGFPE, SIGILL and SIGABRT
 * (sigaction with SA_RESETHAND | SA_ONSTACK on an alternate stack of its own unless one is set)
 * and pre-formats its line in format: "error report kind=fatal_signal signal=SIGSEGV pid=N
 * version=V" with its ts and level (or the same members as JSON). The handler writes what the
 * log still buffers, then that line (write(2) only: no allocation, no stdio, no lock), puts back
 * the disposition that was there before (SIG_DFL, or a sanitizer's handler, which then reports
 * too) and lets the signal run it: re-raised when it was sent (kill, abort), and the faulting
 * instruction run again when it was not, so core dumps and exit statuses are unchanged. Call it
 * once, from the main thread, when the log format is known. 0 or GV_EIO. */
int crash_handler_install(log_format_t format, const char *version);

#endif

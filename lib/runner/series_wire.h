/*
 * lib/runner/series_wire.h - kt_ctx_series over the wire (private): the
 * child sends a series, the parent keeps it (bounded) in its kt__result
 * for the point's artifacts.
 *
 *   SERIES  <label> <unit> <lo> <hi> <count> <dropped>
 *   SAMPLES <label> <t>:<x> <t>:<x> ...      (one field, space separated)
 *
 * lo, hi and every x are the 64 bits of a double in hex (16 digits: exact
 * and locale-proof; NaN for "no bound"), t is ns in decimal. count samples
 * follow in SAMPLES lines naming the same label; dropped is how many the
 * child did not send (KT_CTX_MAX_SAMPLES).
 */
#ifndef KTSTR_LIB_RUNNER_SERIES_WIRE_H
#define KTSTR_LIB_RUNNER_SERIES_WIRE_H

#include <stdbool.h>

#include "evidence/result.h"
#include "ktstr/series.h"
#include "runner/wire.h"

/* kt_ctx_series's sending: s's SERIES line and its SAMPLES lines to fd
 * (at most KT_CTX_MAX_SAMPLES samples); 0 or -1 with errno. */
int kt__series_send(int fd, const kt_series *s, const char *unit, double lo, double hi);

/* Applies a SERIES or SAMPLES line to r (r->series, a kt__vec of
 * kt__evseries); false when m is neither or is malformed (the caller
 * counts it as a bad line). */
bool kt__series_line(kt__result *r, const kt__wire_msg *m);

#endif

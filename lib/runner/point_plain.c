/* Kind "plain": the body runs in this process, the point's child, and
 * its verdict's events go up the wire as they happen. */
#include <stdio.h>

#include "evidence/evidence.h"
#include "runner/point.h"
#include "runner/wire.h"

static const char *const event_type[] = {
    [KT_EVENT_PASS] = "PASS", [KT_EVENT_FAIL] = "FAIL", [KT_EVENT_NOTE] = "NOTE",
    [KT_EVENT_SKIP] = "SKIP", [KT_EVENT_DROPPED] = "DROP",
};

static void wire_sink(void *arg, kt_event ev, const kt_claim_record *c,
                      const char *text)
{
    const kt__run_ctx *rc = arg;

    if ((unsigned)ev >= sizeof(event_type) / sizeof(event_type[0]))
        return;
    if (ev == KT_EVENT_PASS || ev == KT_EVENT_FAIL) {
        kt__wire_send_claim(rc->wire_fd, ev == KT_EVENT_PASS, c, "");
    } else {
        kt__wire_send(rc->wire_fd, event_type[ev], &text, 1);
    }
}

static unsigned plain_extra_s(const void *cfg)
{
    (void)cfg;
    return 0;
}

static void plain_run(const kt_scenario *s, kt__run_ctx *rc, const void *cfg)
{
    kt_verdict v;
    char claims[24], failed[24];
    const char *done[2] = { claims, failed };

    (void)cfg;
    kt_verdict_init(&v);
    kt_verdict_set_sink(&v, wire_sink, rc,
                        rc->pub.verbose || (rc->evidence & KT__EVIDENCE_PASSES));
    /* The body's start, for a host watching a guest from outside. */
    kt__wire_send(rc->wire_fd, "BEGIN", NULL, 0);
    s->fn(&rc->pub, &v);
    snprintf(claims, sizeof(claims), "%llu", (unsigned long long)kt_verdict_claims(&v));
    snprintf(failed, sizeof(failed), "%llu", (unsigned long long)kt_verdict_failed(&v));
    kt__wire_send(rc->wire_fd, "DONE", done, 2);
    kt_verdict_fini(&v);
}

const kt__point_kind kt__point_plain = { "plain", plain_extra_s, plain_run };

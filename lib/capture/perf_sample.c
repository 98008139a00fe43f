/* Arithmetic on perf samples: IPC, its bands, multiplex scaling, and the
 * parser of the kernel's group read layout (kept apart from the syscalls so
 * fixture buffers test it on machines without a PMU). */
#include "ktstr/perf.h"

#include <string.h>

double kt_ipc(const kt_vcpu_perf_sample *s)
{
    if (!s || s->cycles == 0)
        return 0.0;
    return (double)s->instructions / (double)s->cycles;
}

kt_ipc_band kt_ipc_band_of(const kt_vcpu_perf_sample *s)
{
    double ipc;

    if (!s || s->cycles < KT_IPC_MIN_CYCLES)
        return KT_IPC_UNKNOWN;
    ipc = kt_ipc(s);
    if (ipc < KT_IPC_SPINNING_FROM)
        return KT_IPC_HALTED;
    if (ipc < KT_IPC_PRODUCTIVE_FROM)
        return KT_IPC_SPINNING;
    return KT_IPC_PRODUCTIVE;
}

const char *kt_ipc_band_name(kt_ipc_band band)
{
    static const char *const names[] = {
        [KT_IPC_UNKNOWN] = "unknown",
        [KT_IPC_HALTED] = "halted",
        [KT_IPC_SPINNING] = "spinning",
        [KT_IPC_PRODUCTIVE] = "productive",
    };

    if ((unsigned)band >= sizeof(names) / sizeof(names[0]))
        return "unknown";
    return names[band];
}

uint64_t kt_perf_scale(uint64_t value, uint64_t enabled, uint64_t running)
{
    unsigned __int128 r;

    if (running == 0)
        return 0;
    r = (unsigned __int128)value * enabled / running;
    return r > UINT64_MAX ? UINT64_MAX : (uint64_t)r;
}

int kt_perf_group_parse(const void *buf, size_t len, const uint64_t *ids,
                        int nr, kt_perf_values *out, kt_err *err)
{
    uint64_t w[3 + 2 * KT_PERF_MAX_EVENTS];
    size_t want;
    int seen = 0;

    if (nr < 1 || nr > KT_PERF_MAX_EVENTS)
        return kt_err_set(err, 0, "perf group read: %d events (1..%d allowed)",
                          nr, KT_PERF_MAX_EVENTS);
    want = (3 + 2 * (size_t)nr) * sizeof(uint64_t);
    if (len != want)
        return kt_err_set(err, 0,
                          "perf group read: %zu bytes, expected %zu for %d events",
                          len, want, nr);
    memcpy(w, buf, want);  /* the caller's buffer may be unaligned */
    if (w[0] != (uint64_t)nr)
        return kt_err_set(err, 0, "perf group read: nr %llu, expected %d",
                          (unsigned long long)w[0], nr);
    memset(out, 0, sizeof(*out));
    out->nr = nr;
    out->time_enabled_ns = w[1];
    out->time_running_ns = w[2];
    for (int i = 0; i < nr; i++) {
        uint64_t value = w[3 + 2 * i], id = w[4 + 2 * i];
        int slot = -1;

        for (int j = 0; j < nr; j++)
            if (ids[j] == id)
                slot = j;
        if (slot < 0)
            return kt_err_set(err, 0, "perf group read: unknown event id %llu",
                              (unsigned long long)id);
        if (seen & (1 << slot))
            return kt_err_set(err, 0, "perf group read: event id %llu twice",
                              (unsigned long long)id);
        seen |= 1 << slot;
        out->v[slot] = value;
    }
    return 0;
}

void kt_perf_to_vcpu_sample(const kt_perf_values *vals,
                            kt_vcpu_perf_sample *out)
{
    out->cycles = vals->v[0];
    out->instructions = vals->v[1];
    out->cache_misses = vals->v[2];
    out->branch_misses = vals->v[3];
    out->time_enabled_ns = vals->time_enabled_ns;
    out->time_running_ns = vals->time_running_ns;
}

/* The artifacts of a point (DESIGN.md section 10): DIR/<scenario>.json,
 * the sidecar with the point's outcome, claims, notes, duration and host;
 * and where the scenario handed over series (kt_ctx_series),
 * DIR/<scenario>.csv with their samples and DIR/<scenario>.svg plotting
 * them. Each file is built in memory and renamed into place, so a reader
 * (make report, a baseline) never sees half of one. */
#include "evidence/evidence.h"

#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/utsname.h>
#include <unistd.h>

#include "base/escape.h"
#include "base/file.h"
#include "evidence/json.h"
#include "ktstr/scx.h"
#include "verdict/verdict_item.h"

/* ---- the run's settings and the host ---------------------------------- */

/* mkdir -p: every missing component of path. */
static int make_dirs(const char *path, kt_err *err)
{
    char buf[4096];
    size_t n = strlen(path);
    struct stat st;

    if (n == 0 || n >= sizeof(buf))
        return kt_err_set(err, EINVAL, "artifacts directory '%s': %s", path,
                          n ? "path too long" : "empty");
    memcpy(buf, path, n + 1);
    for (size_t i = 1; i <= n; i++) {
        if (buf[i] != '/' && buf[i] != '\0')
            continue;
        buf[i] = '\0';
        if (mkdir(buf, 0777) < 0 && errno != EEXIST)
            return kt_err_sys(err, errno, "artifacts directory '%s': mkdir %s", path, buf);
        buf[i] = i < n ? '/' : '\0';
    }
    if (stat(path, &st) < 0)
        return kt_err_sys(err, errno, "artifacts directory '%s'", path);
    if (!S_ISDIR(st.st_mode))
        return kt_err_set(err, ENOTDIR, "artifacts directory '%s': not a directory", path);
    return 0;
}

/* The first "<key>\t*: value" line of /proc/cpuinfo for one of the keys
 * machines use for their CPU's name. */
static void cpu_model(char *out, size_t n)
{
    static const char *const keys[] = { "model name", "Hardware", "cpu model", "cpu" };
    kt__vec text = KT__VEC_INIT(char);

    out[0] = '\0';
    if (kt__read_file("/proc/cpuinfo", 1 << 24, &text, NULL) < 0)
        return;
    for (size_t k = 0; k < sizeof(keys) / sizeof(keys[0]) && !out[0]; k++) {
        size_t klen = strlen(keys[k]);

        for (const char *l = text.v; l && *l; l = strchr(l, '\n') ? strchr(l, '\n') + 1 : NULL) {
            const char *p = l + klen, *end;

            if (strncmp(l, keys[k], klen) != 0 || (*p != '\t' && *p != ' ' && *p != ':'))
                continue;
            while (*p == '\t' || *p == ' ')
                p++;
            if (*p++ != ':')
                continue;
            while (*p == ' ')
                p++;
            end = strchr(p, '\n');
            snprintf(out, n, "%.*s", (int)(end ? end - p : (long)strlen(p)), p);
            break;
        }
    }
    kt__vec_free(&text);
}

int kt__evidence_open(kt__evidence *ev, const char *dir, const char *baseline,
                      double rel_pct, double abs_gate, kt_err *err)
{
    struct utsname u;

    memset(ev, 0, sizeof(*ev));
    ev->dir = dir;
    ev->baseline = baseline;
    ev->rel_pct = rel_pct;
    ev->abs_gate = abs_gate;
    if (ev->dir)
        ev->want |= KT__EVIDENCE_PASSES | KT__EVIDENCE_SERIES;
    if (ev->baseline)
        ev->want |= KT__EVIDENCE_PASSES;
    if (!ev->dir)
        return 0;
    if (make_dirs(ev->dir, err) < 0)
        return -1;
    if (uname(&u) == 0)
        snprintf(ev->kernel, sizeof(ev->kernel), "%s", u.release);
    ev->cpus = sysconf(_SC_NPROCESSORS_ONLN);
    cpu_model(ev->cpu_model, sizeof(ev->cpu_model));
    return 0;
}

void kt__artifact_stem(char out[256], const char *name)
{
    size_t i;

    for (i = 0; name[i] && i < 200; i++) {
        char c = name[i];
        bool ok = (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
                  c == '_' || c == '-' || (c == '.' && i > 0);

        out[i] = ok ? c : '_';
    }
    if (i == 0)
        out[i++] = '_';
    out[i] = '\0';
}

/* ---- the sidecar ------------------------------------------------------ */

static void json_claim(kt__jw *w, const kt_claim_record *c, bool passed)
{
    char at[KT_VERDICT_STR_MAX + 32] = "";

    if (c->file && *c->file)
        snprintf(at, sizeof(at), "%s:%d", c->file, c->line);
    kt__jw_obj(w, NULL);
    kt__jw_str(w, "label", c->label);
    kt__jw_str(w, "op", c->op);
    kt__jw_str(w, "expected", c->expected);
    kt__jw_num(w, "actual", c->actual);
    kt__jw_bool(w, "passed", passed);
    if (c->timed)
        kt__jw_bool(w, "timing", true);
    kt__jw_str(w, "at", at);
    kt__jw_end(w);
}

/* The entry that stands for claims not kept, as the YAML has it. */
static void json_dropped(kt__jw *w, uint64_t n, const char *what, bool passed)
{
    char s[KT__MORE_MAX];
    kt_claim_record c = { "", "dropped", "", kt__more_not_kept(s, n, what), "", "", 0, passed };

    json_claim(w, &c, passed);
}

static void json_claims(kt__jw *w, const kt__result *r)
{
    struct kt__verdict_item *const *pass = r->passes.v;

    kt__jw_arr(w, "claims");
    for (size_t i = 0; i < r->v.failures_kept; i++)
        json_claim(w, kt_verdict_failure(&r->v, i), false);
    if (r->failed > r->v.failures_kept)
        json_dropped(w, r->failed - r->v.failures_kept, "failures", false);
    for (size_t i = 0; i < r->passes.n; i++)
        json_claim(w, &pass[i]->rec, true);
    if (r->passes_dropped)
        json_dropped(w, r->passes_dropped, "passes", true);
    kt__jw_end(w);
}

/* The notes, in the order the YAML lists them (runner.c, yaml_notes),
 * then why the point did not pass, then what the series bounds dropped. */
static void json_notes(kt__jw *w, const kt__result *r, const char *why)
{
    char *const *cleanup = r->cleanup.v;
    uint64_t notes_dropped = r->v.notes_dropped + r->cleanup_dropped;
    char s[128];

    kt__jw_arr(w, "notes");
    for (size_t i = 0; i < r->v.notes_kept; i++)
        kt__jw_str(w, NULL, kt_verdict_note_text(&r->v, i));
    for (size_t i = 0; i < r->cleanup.n; i++)
        kt__jw_str(w, NULL, cleanup[i]);
    if (r->dropped)
        kt__jw_str(w, NULL, r->dropped);
    if (notes_dropped) {
        char m[KT__MORE_MAX];

        kt__jw_str(w, NULL, kt__more_not_kept(m, notes_dropped, "notes"));
    }
    if (r->bad_lines) {
        snprintf(s, sizeof(s), "%llu malformed lines from the child dropped",
                 (unsigned long long)r->bad_lines);
        kt__jw_str(w, NULL, s);
    }
    if (why)
        kt__jw_str(w, NULL, why);   /* the YAML's message, or the skip */
    if (r->series_dropped) {
        snprintf(s, sizeof(s), "%llu series samples not kept (a point keeps %d series, "
                 "%d samples)", (unsigned long long)r->series_dropped, KT__SERIES_MAX,
                 KT__SERIES_MAX_SAMPLES);
        kt__jw_str(w, NULL, s);
    }
    kt__jw_end(w);
}

/* "vm" (VM mode) as the YAML has it: accel, kernel (the guest's uname
 * -r), topology, boot_ms and boot. The sched_ext scheduler under test adds its
 * "scheduler" map here too, from what kt__result holds of it (name,
 * attach_ms, the events counters' changes, and for a failure exit,
 * detect_ms, kernel_log, output, dump as the YAML's). */
static void json_lines(kt__jw *w, const char *key, const kt__vec *l)
{
    kt__jw_arr(w, key);
    for (size_t i = 0; i < l->n; i++)
        kt__jw_str(w, NULL, ((char **)l->v)[i]);
    kt__jw_end(w);
}

/* The vm and scheduler maps, as the YAML's. */
static void json_vm_scheduler(kt__jw *w, const kt__result *r)
{
    if (r->vm) {
        kt__jw_obj(w, "vm");
        kt__jw_str(w, "accel", r->vm_accel);
        kt__jw_str(w, "kernel", r->vm_kernel);
        kt__jw_str(w, "topology", r->vm_topology);
        kt__jw_int(w, "boot_ms", r->boot_ms);
        if (r->vm_boot)
            kt__jw_int(w, "boot", r->vm_boot);
        if (r->host_steal.n) {
            const kt__steal *st = r->host_steal.v;

            kt__jw_arr(w, "host_steal");
            for (size_t i = 0; i < r->host_steal.n; i++) {
                char share[32];

                snprintf(share, sizeof(share), "%.4f", st[i].share);
                kt__jw_obj(w, NULL);
                kt__jw_int(w, "vcpu", st[i].vcpu);
                kt__jw_int(w, "ms", (int64_t)(st[i].ms + 0.5));
                kt__jw_num(w, "share", share);
                kt__jw_end(w);
            }
            kt__jw_end(w);
        }
        kt__jw_end(w);
    }
    if (r->sched_name) {
        kt__jw_obj(w, "scheduler");
        kt__jw_str(w, "name", r->sched_name);
        if (r->sched_attach_ms >= 0)
            kt__jw_int(w, "attach_ms", r->sched_attach_ms);
        kt__jw_obj(w, "events");   /* the counters of root/events that changed */
        for (size_t i = 0; i < r->sched_events.n; i++) {
            const kt_scx_counter *ev = (const kt_scx_counter *)r->sched_events.v + i;
            char delta[24];

            snprintf(delta, sizeof(delta), "%llu", (unsigned long long)ev->value);
            kt__jw_num(w, ev->name, delta);
        }
        kt__jw_end(w);
        if (r->sched_failed) {
            kt__jw_str(w, "exit", r->sched_exit[0] ? r->sched_exit : r->sched_why);
            if (r->sched_has_detect)
                kt__jw_int(w, "detect_ms", r->sched_detect_ms);
            json_lines(w, "kernel_log", &r->sched_log);
            json_lines(w, "output", &r->sched_out);
            json_lines(w, "dump", &r->sched_dump);
        }
        kt__jw_end(w);
    }
}

static void json_point(kt__jw *w, const kt__evidence *ev, const char *name,
                       const kt__result *r, kt_outcome o, const char *why)
{
    const char *reason = kt_verdict_skip_reason(&r->v);
    char skipped[KT_VERDICT_STR_MAX + 16];

    /* a pass or a failure says it all in its claims; a skip its reason */
    if (o == KT_OUTCOME_SKIP) {
        snprintf(skipped, sizeof(skipped), "skipped: %s", reason ? reason : why ? why : "");
        why = skipped;
    } else if (o == KT_OUTCOME_PASS || o == KT_OUTCOME_FAIL) {
        why = NULL;
    }
    kt__jw_obj(w, NULL);
    kt__jw_str(w, "scenario", name);
    kt__jw_str(w, "outcome", kt_outcome_name(o));
    json_claims(w, r);
    json_notes(w, r, why);
    kt__jw_int(w, "duration_ms", r->duration_ms);

    kt__jw_obj(w, "host");
    kt__jw_str(w, "kernel", ev->kernel);
    kt__jw_int(w, "cpus", ev->cpus);
    kt__jw_str(w, "cpu_model", ev->cpu_model);
    kt__jw_end(w);
    json_vm_scheduler(w, r);
    kt__jw_end(w);
}

/* ---- the samples ------------------------------------------------------ */

static int append(kt__vec *out, const char *s, size_t n)
{
    return kt__vec_append(out, s, n, NULL, "artifacts");
}

static int append_csv_field(kt__vec *out, const char *s)
{
    if (append(out, "\"", 1) < 0 || kt__escape_append(out, s, &kt__escape_csv, NULL, "CSV") < 0)
        return -1;
    return append(out, "\",", 2);
}

/* series,unit,t_ms,value: one row per sample, t_ms exact from the ns
 * stamps, values with 10 significant digits ("nan", "inf", "-inf"). */
static int render_csv(kt__vec *out, const kt__evseries *s, size_t n, uint64_t t0)
{
    static const char head[] = "series,unit,t_ms,value\n";
    kt__vec prefix = KT__VEC_INIT(char);
    int rc = 0;

    if (append(out, head, sizeof(head) - 1) < 0)
        return -1;
    for (size_t i = 0; i < n && rc == 0; i++) {
        const uint64_t *t = s[i].t.v;
        const double *x = s[i].x.v;

        /* the quoted label and unit once per series, copied per row */
        prefix.n = 0;
        if (append_csv_field(&prefix, s[i].label) < 0 || append_csv_field(&prefix, s[i].unit) < 0)
            rc = -1;
        for (size_t k = 0; k < s[i].x.n && rc == 0; k++) {
            char row[96];
            uint64_t dt = t[k] >= t0 ? t[k] - t0 : 0;
            int len = snprintf(row, sizeof(row), "%" PRIu64 ".%06" PRIu64 ",", dt / 1000000u,
                               dt % 1000000u);

            if (isnan(x[k]))
                len += snprintf(row + len, sizeof(row) - (size_t)len, "nan\n");
            else
                len += snprintf(row + len, sizeof(row) - (size_t)len, "%.10g\n", x[k]);
            if (append(out, prefix.v, prefix.n) < 0 || append(out, row, (size_t)len) < 0)
                rc = -1;
        }
    }
    kt__vec_free(&prefix);
    return rc;
}

/* The earliest first sample of any series: the plots' and the CSV's 0. */
static uint64_t time_origin(const kt__evseries *s, size_t n)
{
    uint64_t t0 = UINT64_MAX;

    for (size_t i = 0; i < n; i++)
        if (s[i].t.n && *(const uint64_t *)s[i].t.v < t0)
            t0 = *(const uint64_t *)s[i].t.v;
    return t0 == UINT64_MAX ? 0 : t0;
}

int kt__artifacts_render(const kt__evidence *ev, const char *name, const kt__result *r,
                         kt_outcome o, const char *why, kt__vec *json, kt__vec *csv,
                         kt__vec *svg)
{
    const kt__evseries *s = r->series.v;
    size_t n = r->series.n;
    locale_t loc = kt__c_locale(), old = (locale_t)0;
    kt__jw w;
    int rc = 0;

    kt__jw_init(&w, json);
    json_point(&w, ev, name, r, o, why);
    if (kt__jw_done(&w) < 0)
        return -1;
    if (n == 0)
        return 0;
    /* printf's doubles in the C locale whatever the scenario set */
    if (loc != (locale_t)0)
        old = uselocale(loc);
    {
        uint64_t t0 = time_origin(s, n);
        char note[160] = "";

        if (r->series_dropped)
            snprintf(note, sizeof(note), "%s; %llu series samples not kept",
                     kt_outcome_name(o), (unsigned long long)r->series_dropped);
        else
            snprintf(note, sizeof(note), "%s", kt_outcome_name(o));
        if (render_csv(csv, s, n, t0) < 0 || kt__svg_plot(svg, name, note, s, n, t0) < 0)
            rc = -1;
    }
    if (old != (locale_t)0)
        uselocale(old);
    return rc;
}

/* ---- the files -------------------------------------------------------- */

/* Writes buf to path through path.tmp and a rename. */
static int write_file(const char *path, const kt__vec *buf, kt_err *err)
{
    char tmp[4200];
    const char *p = buf->v;
    size_t left = buf->n;
    int fd;

    snprintf(tmp, sizeof(tmp), "%s.tmp", path);
    fd = open(tmp, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0666);
    if (fd < 0)
        return kt_err_sys(err, errno, "%s: open", tmp);
    while (left > 0) {
        ssize_t w = write(fd, p, left);

        if (w < 0 && errno == EINTR)
            continue;
        if (w < 0) {
            kt_err_sys(err, errno, "%s: write", tmp);
            close(fd);
            unlink(tmp);
            return -1;
        }
        p += w;
        left -= (size_t)w;
    }
    if (close(fd) < 0) {
        kt_err_sys(err, errno, "%s: close", tmp);
        unlink(tmp);
        return -1;
    }
    if (rename(tmp, path) < 0) {
        kt_err_sys(err, errno, "%s: rename to %s", tmp, path);
        unlink(tmp);
        return -1;
    }
    return 0;
}

/* Writes the rendered buffers as DIR/<stem>.<ext>, recording each in f;
 * a series-less point removes a .csv and .svg left by an earlier run, so
 * a directory never pairs a sidecar with another run's plot. */
static void write_all(const kt__evidence *ev, const char *name, kt__vec *bufs,
                      kt__artifact_files *f)
{
    static const char *const ext[3] = { "json", "csv", "svg" };
    char stem[256];
    kt_err err = { 0, "" };

    kt__artifact_stem(stem, name);
    for (int i = 0; i < 3; i++) {
        size_t len = strlen(ev->dir) + strlen(stem) + 8;
        char *path = malloc(len);

        if (!path) {
            snprintf(f->error, sizeof(f->error), "%s: out of memory", name);
            return;
        }
        snprintf(path, len, "%s/%s.%s", ev->dir, stem, ext[i]);
        if (i > 0 && bufs[i].n == 0) {
            unlink(path);
            free(path);
            continue;
        }
        if (write_file(path, &bufs[i], &err) < 0) {
            snprintf(f->error, sizeof(f->error), "%s", err.msg);
            free(path);
            return;
        }
        f->path[f->n++] = path;
    }
}

void kt__artifacts_point(const kt__evidence *ev, const char *name, const kt__result *r,
                         kt_outcome o, const char *why, kt__artifact_files *f)
{
    kt__vec bufs[3] = { KT__VEC_INIT(char), KT__VEC_INIT(char), KT__VEC_INIT(char) };

    memset(f, 0, sizeof(*f));
    if (!ev->dir)
        return;
    if (kt__artifacts_render(ev, name, r, o, why, &bufs[0], &bufs[1], &bufs[2]) < 0)
        snprintf(f->error, sizeof(f->error), "%s: out of memory rendering the artifacts",
                 name);
    else
        write_all(ev, name, bufs, f);
    for (int i = 0; i < 3; i++)
        kt__vec_free(&bufs[i]);
    if (f->error[0]) {
        fprintf(stderr, "# %s: artifacts: %s\n", name, f->error);
        fflush(stderr);
    }
}

void kt__artifacts_skip(const kt__evidence *ev, const char *name, const char *reason)
{
    kt__result r;
    kt__artifact_files f;

    if (!ev->dir)
        return;
    kt__result_init(&r);
    kt__artifacts_point(ev, name, &r, KT_OUTCOME_SKIP, reason, &f);
    kt__artifact_files_fini(&f);
    kt__result_fini(&r);
}

void kt__artifacts_yaml(kt_tap *t, const kt__artifact_files *f)
{
    if (f->n > 0) {
        kt_tap_yaml_list(t, "artifacts");
        for (int i = 0; i < f->n; i++)
            kt_tap_yaml_item_str(t, f->path[i]);
        kt_tap_yaml_close(t);
    }
    if (f->error[0])
        kt_tap_yaml_str(t, "artifacts_error", f->error);
}

void kt__artifact_files_fini(kt__artifact_files *f)
{
    for (int i = 0; i < f->n; i++)
        free(f->path[i]);
    f->n = 0;
}

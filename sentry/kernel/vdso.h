/* The sandbox's vDSO (vdso/vdso.c): the time parameters the Sentry keeps for it
 * (sentry/kernel/vdso_time.c) and its mapping into every new address space
 * (sentry/loader/vdso_map.c). */
#ifndef SENTRY_KERNEL_VDSO_H
#define SENTRY_KERNEL_VDSO_H

#include <stdbool.h>
#include <stdint.h>

#include "vdso/vdso_data.h"

struct mm;
struct file;

/* How often the Sentry recalibrates the TSC against the host's clocks, and how soon after the
 * first sample it makes the first estimate (until then the vDSO makes real syscalls). */
#define VDSO_PERIOD_NS 1000000000LL
#define VDSO_FIRST_PERIOD_NS 10000000LL
#define VDSO_SHIFT 32

/* ---- vdso_time.c ---- */
/* At boot, before the Sentry is confined (it reads /proc/cpuinfo): use the vDSO only if the
 * host's TSC ticks at a constant rate in every power state (constant_tsc and nonstop_tsc), so
 * that one multiplier converts it. Otherwise programs get no vDSO and every time call traps,
 * as before. Logs the choice. */
void vdso_probe_host(void);
/* Did the probe allow the vDSO? */
bool vdso_enabled(void);
/* Start keeping the parameters in page (the vvar page, zeroed, which the Sentry alone writes):
 * a thread samples the host's clocks and the TSC, publishes the first estimate after
 * VDSO_FIRST_PERIOD_NS and refreshes it every VDSO_PERIOD_NS. Once. 0 or -errno. */
int vdso_time_start(struct vdso_data *page);
/* Clock id (LINUX_CLOCK_*) as the vDSO computes it, so that trapped calls agree with it:
 * 0 and *ns, or -ENOENT when the vDSO does not serve that clock (or is not running yet). */
int vdso_clock_ns(int id, int64_t *ns);

/* One sample of the host: its clocks at TSC value tsc. */
struct vdso_sample {
	uint64_t tsc;
	int64_t ns[VDSO_NCLOCKS];
};
/* The next parameters from the last two samples (prev, now: now.tsc > prev.tsc): the rate is
 * what the TSC did between them; the clocks start where the old parameters p had them at
 * now.tsc (never earlier, so no clock goes backwards across updates) and, when that is ahead
 * of the host, run slower so as to meet it after VDSO_PERIOD_NS. When p is not ready yet they
 * start at the host's values. Pure; unit-tested. Returns false (p unchanged) when the samples
 * do not allow an estimate. */
bool vdso_params_next(struct vdso_params *p, const struct vdso_sample *prev,
		      const struct vdso_sample *now);

/* ---- vdso_map.c ---- */
/* Map the vvar page and the vDSO into mm (exec), wherever mmap would place them: 0 with the
 * vDSO's address in *base (AT_SYSINFO_EHDR), or 0 with *base = 0 when the vDSO is disabled, or
 * -errno (ENOMEM). */
int vdso_map(struct mm *mm, uint64_t *base);
/* "[vvar]" or "[vdso]" when a mapping of f at offset foff is one of them (/proc/PID/maps),
 * else NULL. */
const char *vdso_mapping_name(const struct file *f, uint64_t foff);

#endif

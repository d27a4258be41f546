/* Unit tests for the vDSO's time computation (vdso/vdso_data.h) and its calibration
 * (sentry/kernel/vdso_time.c: vdso_params_next), on synthetic host clocks and TSCs. */
#include <criterion/criterion.h>
#include <stdint.h>
#include <stdlib.h>

#include "sentry/kernel/vdso.h"

#define SEC 1000000000LL

/* A synthetic host: the TSC runs at hz cycles per second (plus ppb parts per billion); the
 * clocks start at fixed values when the TSC is 0. */
struct host {
	double hz;
	int64_t real0, mono0, boot0;
};

static struct vdso_sample at(const struct host *h, int64_t mono_ns)
{
	struct vdso_sample s;
	int64_t d = mono_ns - h->mono0;
	s.tsc = (uint64_t)((double)d * h->hz / 1e9);
	s.ns[VDSO_MONOTONIC] = mono_ns;
	s.ns[VDSO_REALTIME] = h->real0 + d;
	s.ns[VDSO_BOOTTIME] = h->boot0 + d;
	return s;
}

Test(vdso, time_at_is_base_plus_scaled_delta)
{
	struct vdso_params p = {.tsc_base = 1000, .mult = 1ULL << 31, .shift = 32, .ready = 1};
	p.base_ns[VDSO_MONOTONIC] = 5 * SEC;
	cr_assert_eq(vdso_time_at(&p, VDSO_MONOTONIC, 1000), 5 * SEC);
	cr_assert_eq(vdso_time_at(&p, VDSO_MONOTONIC, 3000), 5 * SEC + 1000); /* half a ns/cycle */
	/* a TSC read before tsc_base counts as tsc_base: never earlier than the base */
	cr_assert_eq(vdso_time_at(&p, VDSO_MONOTONIC, 10), 5 * SEC);
	/* an hour of a 4 GHz TSC without overflow (the product needs more than 64 bits) */
	p.mult = (1ULL << 32) / 4;
	cr_assert_eq(vdso_time_at(&p, VDSO_MONOTONIC, 1000 + 4ULL * 3600 * SEC),
		     5 * SEC + 3600 * SEC);
}

Test(vdso, first_estimate_starts_at_the_host)
{
	struct host h = {
	    .hz = 2.5e9, .real0 = 1700000000 * SEC, .mono0 = 100 * SEC, .boot0 = 150 * SEC};
	struct vdso_params p = {0};
	struct vdso_sample a = at(&h, 100 * SEC), b = at(&h, 100 * SEC + 10000000);
	cr_assert(vdso_params_next(&p, &a, &b));
	cr_assert_eq(p.ready, 1);
	cr_assert_eq(p.tsc_base, b.tsc);
	for (int c = 0; c < VDSO_NCLOCKS; c++)
		cr_assert_eq(p.base_ns[c], b.ns[c]);
	/* one second later the estimate is within a microsecond of the host */
	struct vdso_sample later = at(&h, 101 * SEC + 10000000);
	for (int c = 0; c < VDSO_NCLOCKS; c++)
		cr_assert(llabs(vdso_time_at(&p, c, later.tsc) - later.ns[c]) < 1000, "clock %d",
			  c);
}

Test(vdso, bad_samples_change_nothing)
{
	struct host h = {.hz = 3e9, .mono0 = SEC};
	struct vdso_params p = {0}, before;
	struct vdso_sample a = at(&h, 2 * SEC), b = a;
	before = p;
	cr_assert_not(vdso_params_next(&p, &a, &b)); /* no TSC progress */
	b.tsc = a.tsc - 1;
	cr_assert_not(vdso_params_next(&p, &a, &b)); /* TSC went back */
	cr_assert_eq(memcmp(&p, &before, sizeof(p)), 0);
}

/* The host's TSC rate drifts and every sample is off by up to jitter ns (the time between the
 * TSC and clock reads); across many updates no clock ever reads earlier than it did, and the
 * estimate stays close to the host. */
static void drift(double ppm, int64_t jitter)
{
	struct host h = {.hz = 2.1e9, .real0 = 1600000000 * SEC, .mono0 = 0, .boot0 = 7 * SEC};
	struct vdso_params p = {0};
	int64_t mono = 50 * SEC;
	struct vdso_sample prev = at(&h, mono), now;
	int64_t last[VDSO_NCLOCKS] = {0};
	srand(42);
	for (int i = 0; i < 300; i++) {
		/* the true TSC rate wanders by ±ppm from period to period */
		h.hz = 2.1e9 * (1 + ppm * 1e-6 * ((rand() % 2001) - 1000) / 1000.0);
		int64_t period = i == 0 ? VDSO_FIRST_PERIOD_NS : VDSO_PERIOD_NS;
		uint64_t tsc0 = prev.tsc;
		int64_t mono0 = mono;
		mono += period;
		now = at(&h, mono);
		now.tsc = tsc0 + (uint64_t)((double)(mono - mono0) * h.hz / 1e9);
		int64_t j = jitter ? (rand() % (2 * jitter + 1)) - jitter : 0;
		for (int c = 0; c < VDSO_NCLOCKS; c++)
			now.ns[c] += j;
		/* readers just before the update */
		if (p.ready)
			for (int c = 0; c < VDSO_NCLOCKS; c++) {
				int64_t v = vdso_time_at(&p, c, now.tsc);
				cr_assert_geq(v, last[c], "clock %d went back before update %d", c,
					      i);
				last[c] = v;
			}
		struct vdso_params old = p;
		cr_assert(vdso_params_next(&p, &prev, &now));
		for (int c = 0; c < VDSO_NCLOCKS; c++) {
			/* at the switch, and a little after it, never below the old parameters */
			for (uint64_t dt = 0; dt < 100000; dt += 997) {
				int64_t v = vdso_time_at(&p, c, now.tsc + dt);
				cr_assert_geq(v, last[c], "clock %d went back at update %d", c, i);
				if (old.ready && dt == 0)
					cr_assert_geq(v, vdso_time_at(&old, c, now.tsc));
				last[c] = v;
			}
			/* and close to the host: within the drift of a period plus the jitter */
			int64_t err = vdso_time_at(&p, c, now.tsc) - now.ns[c];
			cr_assert(llabs(err) <= (int64_t)(2 * ppm * 1000) + 4 * jitter + 10,
				  "clock %d is %lld ns off the host at update %d", c,
				  (long long)err, i);
		}
		prev = now;
	}
}

Test(vdso, monotonic_and_close_with_a_steady_tsc) { drift(0, 0); }
Test(vdso, monotonic_and_close_with_drift_and_jitter) { drift(5, 200); }

Test(vdso, ahead_of_the_host_slows_down_to_meet_it)
{
	struct host h = {.hz = 3e9, .mono0 = 0};
	struct vdso_params p = {0};
	struct vdso_sample a = at(&h, 10 * SEC), b = at(&h, 11 * SEC);
	cr_assert(vdso_params_next(&p, &a, &b));
	/* pretend the page runs 300 us ahead */
	for (int c = 0; c < VDSO_NCLOCKS; c++)
		p.base_ns[c] += 300000;
	struct vdso_sample n = at(&h, 12 * SEC);
	int64_t before = vdso_time_at(&p, VDSO_MONOTONIC, n.tsc);
	cr_assert(vdso_params_next(&p, &b, &n));
	cr_assert_eq(vdso_time_at(&p, VDSO_MONOTONIC, n.tsc), before, "continuous at the switch");
	struct vdso_sample n2 = at(&h, 13 * SEC);
	cr_assert(llabs(vdso_time_at(&p, VDSO_MONOTONIC, n2.tsc) - n2.ns[VDSO_MONOTONIC]) < 100,
		  "meets the host one period later");
	/* behind the host: it jumps forwards to it */
	p.base_ns[VDSO_MONOTONIC] -= 500000;
	struct vdso_sample n3 = at(&h, 14 * SEC);
	cr_assert(vdso_params_next(&p, &n2, &n3));
	cr_assert_eq(vdso_time_at(&p, VDSO_MONOTONIC, n3.tsc), n3.ns[VDSO_MONOTONIC]);
}

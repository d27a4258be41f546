/* procfs: /proc/cpuinfo, one entry per CPU the Sentry may run on, described by cpuid as
 * Linux's arch/x86/kernel/cpu/proc.c prints it. Nothing that identifies the host machine
 * (serial numbers, microcode revision, APIC ids beyond the CPU index) is shown. */
#include "sentry/fs/procfs.h"
#include "sentry/fs/procfs_task.h"

#include <cpuid.h>
#include <stdbool.h>
#include <stdio.h>
#include <string.h>
#include <time.h>
#include <x86intrin.h>

#include "common/util.h"

/* One cpuid register of feature bits and Linux's names for them (cpufeatures.h), NULL for bits
 * Linux does not show. The words are in Linux's order, which is the order of the flags line. */
struct feature_word {
	uint32_t leaf, subleaf;
	int reg; /* 0 eax, 1 ebx, 2 ecx, 3 edx */
	const char *names[32];
};

static const struct feature_word feature_words[] = {
    {1, 0, 3, {"fpu",  "vme",	"de",	"pse",	   "tsc",  "msr", "pae",  "mce",
	       "cx8",  "apic",	NULL,	"sep",	   "mtrr", "pge", "mca",  "cmov",
	       "pat",  "pse36", "pn",	"clflush", NULL,   "dts", "acpi", "mmx",
	       "fxsr", "sse",	"sse2", "ss",	   "ht",   "tm",  "ia64", "pbe"}},
    {0x80000001,
     0,
     3,
     {[11] = "syscall",
      [19] = "mp",
      [20] = "nx",
      [22] = "mmxext",
      [25] = "fxsr_opt",
      [26] = "pdpe1gb",
      [27] = "rdtscp",
      [29] = "lm",
      [30] = "3dnowext",
      [31] = "3dnow"}},
    {1, 0, 2, {"pni",	 "pclmulqdq", "dtes64", "monitor", "ds_cpl",
	       "vmx",	 "smx",	      "est",	"tm2",	   "ssse3",
	       "cid",	 "sdbg",      "fma",	"cx16",	   "xtpr",
	       "pdcm",	 NULL,	      "pcid",	"dca",	   "sse4_1",
	       "sse4_2", "x2apic",    "movbe",	"popcnt",  "tsc_deadline_timer",
	       "aes",	 "xsave",     NULL,	"avx",	   "f16c",
	       "rdrand", "hypervisor"}},
    {0x80000001, 0, 2, {"lahf_lm",    "cmp_legacy",  "svm",
			"extapic",    "cr8_legacy",  "abm",
			"sse4a",      "misalignsse", "3dnowprefetch",
			"osvw",	      "ibs",	     "xop",
			"skinit",     "wdt",	     NULL,
			"lwp",	      "fma4",	     "tce",
			NULL,	      "nodeid_msr",  NULL,
			"tbm",	      "topoext",     "perfctr_core",
			"perfctr_nb", NULL,	     "bpext",
			"ptsc",	      "perfctr_llc", "mwaitx"}},
    {7, 0, 1, {"fsgsbase", "tsc_adjust", "sgx",	     "bmi1",	   "hle",      "avx2",
	       NULL,	   "smep",	 "bmi2",     "erms",	   "invpcid",  "rtm",
	       "cqm",	   NULL,	 "mpx",	     "rdt_a",	   "avx512f",  "avx512dq",
	       "rdseed",   "adx",	 "smap",     "avx512ifma", NULL,       "clflushopt",
	       "clwb",	   "intel_pt",	 "avx512pf", "avx512er",   "avx512cd", "sha_ni",
	       "avx512bw", "avx512vl"}},
    {0xd, 1, 0, {"xsaveopt", "xsavec", "xgetbv1", "xsaves"}},
    {7, 1, 0, {[4] = "avx_vnni", [5] = "avx512_bf16"}},
    {6, 0, 0, {"dtherm", "ida", "arat", NULL, "pln", NULL, "pts"}},
    {7,
     0,
     2,
     {NULL,
      "avx512vbmi",
      "umip",
      "pku",
      "ospke",
      "waitpkg",
      "avx512_vbmi2",
      NULL,
      "gfni",
      "vaes",
      "vpclmulqdq",
      "avx512_vnni",
      "avx512_bitalg",
      "tme",
      "avx512_vpopcntdq",
      [22] = "rdpid",
      [24] = "bus_lock_detect",
      [25] = "cldemote",
      [27] = "movdiri",
      [28] = "movdir64b",
      [29] = "enqcmd",
      [30] = "sgx_lc"}},
    {7,
     0,
     3,
     {[2] = "avx512_4vnniw",
      [3] = "avx512_4fmaps",
      [4] = "fsrm",
      [8] = "avx512_vp2intersect",
      [10] = "md_clear",
      [14] = "serialize",
      [16] = "tsxldtrk",
      [18] = "pconfig",
      [19] = "arch_lbr",
      [20] = "ibt",
      [22] = "amx_bf16",
      [23] = "avx512_fp16",
      [24] = "amx_tile",
      [25] = "amx_int8",
      [28] = "flush_l1d",
      [29] = "arch_capabilities"}},
};

static void cpuid_regs(uint32_t leaf, uint32_t sub, uint32_t r[4])
{
	uint32_t max = __get_cpuid_max(leaf & 0xf0000000u, NULL);

	r[0] = r[1] = r[2] = r[3] = 0;
	if (leaf <= max)
		__cpuid_count(leaf, sub, r[0], r[1], r[2], r[3]);
}

struct cpu_desc {
	char vendor[13];
	char model_name[49];
	uint32_t family, model, stepping, level;
	uint32_t khz;
	uint32_t cache_kb;
	uint32_t clflush, phys_bits, virt_bits;
};

/* The largest cache the deterministic cache leaf (4 on Intel, 0x8000001d on AMD) describes,
 * else AMD's L2 leaf. */
static uint32_t cache_kb(const char *vendor)
{
	uint32_t leaf = strcmp(vendor, "GenuineIntel") == 0 ? 4 : 0x8000001d, r[4], best = 0;

	for (uint32_t i = 0; i < 16; i++) {
		cpuid_regs(leaf, i, r);
		if ((r[0] & 0x1f) == 0)
			break;
		uint64_t size = (uint64_t)((r[1] >> 22) + 1) * (((r[1] >> 12) & 0x3ff) + 1) *
				((r[1] & 0xfff) + 1) * ((uint64_t)r[2] + 1);
		if (size / 1024 > best)
			best = (uint32_t)(size / 1024);
	}
	if (!best) {
		cpuid_regs(0x80000006, 0, r);
		best = r[2] >> 16;
	}
	return best;
}

/* The clock in kHz: cpuid's base frequency leaf, a hypervisor's TSC leaf, or (once) the TSC
 * measured against CLOCK_MONOTONIC over 20 ms, as Linux calibrates it. */
static uint32_t cpu_khz(void)
{
	static uint32_t measured;
	uint32_t r[4];

	cpuid_regs(0x16, 0, r);
	if (r[0] & 0xffff)
		return (r[0] & 0xffff) * 1000;
	cpuid_regs(1, 0, r);
	if (r[2] & (1u << 31)) { /* hypervisor present */
		cpuid_regs(0x40000000, 0, r);
		if (r[0] >= 0x40000010) {
			cpuid_regs(0x40000010, 0, r);
			if (r[0])
				return r[0];
		}
	}
	if (!measured) {
		struct timespec a, b, d = {0, 20 * 1000 * 1000};
		clock_gettime(CLOCK_MONOTONIC, &a);
		uint64_t t0 = __rdtsc();
		nanosleep(&d, NULL);
		uint64_t t1 = __rdtsc();
		clock_gettime(CLOCK_MONOTONIC, &b);
		uint64_t ns = (uint64_t)(b.tv_sec - a.tv_sec) * 1000000000ULL +
			      (uint64_t)b.tv_nsec - (uint64_t)a.tv_nsec;
		if (ns)
			measured = (uint32_t)((t1 - t0) * 1000000ULL / ns);
	}
	return measured;
}

static void cpu_describe(struct cpu_desc *c)
{
	uint32_t r[4];
	char *p;

	memset(c, 0, sizeof(*c));
	cpuid_regs(0, 0, r);
	c->level = r[0];
	memcpy(c->vendor, &r[1], 4);
	memcpy(c->vendor + 4, &r[3], 4);
	memcpy(c->vendor + 8, &r[2], 4);
	cpuid_regs(1, 0, r);
	c->stepping = r[0] & 0xf;
	c->family = (r[0] >> 8) & 0xf;
	c->model = (r[0] >> 4) & 0xf;
	if (c->family == 0xf)
		c->family += (r[0] >> 20) & 0xff;
	if (c->family >= 6)
		c->model += ((r[0] >> 16) & 0xf) << 4;
	c->clflush = ((r[1] >> 8) & 0xff) * 8;
	for (uint32_t i = 0; i < 3; i++) {
		cpuid_regs(0x80000002 + i, 0, r);
		memcpy(c->model_name + 16 * i, r, 16);
	}
	/* Linux strips the brand string's leading spaces */
	for (p = c->model_name; *p == ' '; p++)
		;
	memmove(c->model_name, p, strlen(p) + 1);
	c->khz = cpu_khz();
	c->cache_kb = cache_kb(c->vendor);
	cpuid_regs(0x80000008, 0, r);
	c->phys_bits = r[0] & 0xff;
	c->virt_bits = (r[0] >> 8) & 0xff;
	if (!c->phys_bits) {
		c->phys_bits = 36;
		c->virt_bits = 48;
	}
}

/* Linux's own word of flags (X86_FEATURE_CONSTANT_TSC...), the ones it sets on every x86-64
 * CPU from cpuid: they follow the extended EDX word. */
static void put_synthetic_flags(struct pbuf *b)
{
	uint32_t r[4];

	cpuid_regs(0x80000007, 0, r);
	bool invariant_tsc = r[3] & (1u << 8);
	if (invariant_tsc)
		pbuf_puts(b, " constant_tsc");
	pbuf_puts(b, " rep_good nopl");
	cpuid_regs(0xb, 0, r);
	if (r[1])
		pbuf_puts(b, " xtopology");
	if (invariant_tsc)
		pbuf_puts(b, " nonstop_tsc");
	pbuf_puts(b, " cpuid");
}

int proc_gen_cpuinfo(struct pbuf *b, int tgid, int tid)
{
	struct cpu_desc c;
	int n = proc_ncpus();

	(void)tgid;
	(void)tid;
	cpu_describe(&c);
	/* bogomips: twice the clock, as calibrate_delay comes out on modern CPUs */
	uint64_t bogo = (uint64_t)c.khz * 2 / 10;
	for (int i = 0; i < n; i++) {
		pbuf_printf(b,
			    "processor\t: %d\nvendor_id\t: %s\ncpu family\t: %u\nmodel\t\t: %u\n"
			    "model name\t: %s\nstepping\t: %u\nmicrocode\t: 0x1\n"
			    "cpu MHz\t\t: %u.%03u\ncache size\t: %u KB\nphysical id\t: 0\n"
			    "siblings\t: %d\ncore id\t\t: %d\ncpu cores\t: %d\napicid\t\t: %d\n"
			    "initial apicid\t: %d\nfpu\t\t: yes\nfpu_exception\t: yes\n"
			    "cpuid level\t: %u\nwp\t\t: yes\nflags\t\t:",
			    i, c.vendor, c.family, c.model, c.model_name, c.stepping, c.khz / 1000,
			    c.khz % 1000, c.cache_kb, n, i, n, i, i, c.level);
		for (size_t w = 0; w < ARRAY_SIZE(feature_words); w++) {
			const struct feature_word *fw = &feature_words[w];
			uint32_t r[4];
			cpuid_regs(fw->leaf, fw->subleaf, r);
			for (int bit = 0; bit < 32; bit++)
				if (fw->names[bit] && (r[fw->reg] & (1u << bit)))
					pbuf_printf(b, " %s", fw->names[bit]);
			if (w == 1)
				put_synthetic_flags(b);
		}
		pbuf_printf(b,
			    "\nbugs\t\t:\nbogomips\t: %llu.%02llu\nclflush size\t: %u\n"
			    "cache_alignment\t: %u\naddress sizes\t: %u bits physical, %u bits "
			    "virtual\npower management:\n\n",
			    (unsigned long long)(bogo / 100), (unsigned long long)(bogo % 100),
			    c.clflush, c.clflush, c.phys_bits, c.virt_bits);
	}
	return 0;
}

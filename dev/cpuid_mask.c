/* Preloaded into a process by dev/cpu_features.py: hides x86 instruction sets from CPUID.
 *
 * With VISIONKIT_CPUID_MASK set (no-vnni or avx2), the constructor makes the CPUID instruction fault in this
 * thread and every thread and child it later creates (Linux ARCH_SET_CPUID; needs CPUID faulting,
 * `cpuid_fault` in /proc/cpuinfo; execve resets it, so a new program is covered only by its own preload).
 * The SIGSEGV handler answers a faulting CPUID with the real values minus the hidden feature bits and steps
 * over the instruction. It stays installed: a handler that the program installs later for SIGSEGV (PyTorch's
 * DataLoader workers, Python's faulthandler) is recorded through the wrapped sigaction() and signal() and
 * given every other SIGSEGV, and with none the default action ends the process as it would have.
 *
 *   no-vnni: AVX512_VNNI, AVX-VNNI, AVX-VNNI-INT8 and AMX (int8/bf16 tiles) hidden: int8 dot products
 *            without VNNI, as on AVX-512 CPUs before Cascade Lake.
 *   avx2:    all AVX-512 (and AVX10) too: an AVX2 + FMA CPU, as most laptops and AMD before Zen 4.
 */
#define _GNU_SOURCE
#include <asm/prctl.h>
#include <cpuid.h>
#include <dlfcn.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <sys/syscall.h>
#include <ucontext.h>
#include <unistd.h>

#define BIT(n) (1u << (n))

static int hide_avx512;

static long set_cpuid(int enabled) { return syscall(SYS_arch_prctl, ARCH_SET_CPUID, (unsigned long)enabled); }

/* Bit positions: Intel SDM vol. 2A, CPUID leaf 07H. */
static void hide(unsigned leaf, unsigned sub, unsigned *a, unsigned *b, unsigned *c, unsigned *d) {
    if (leaf != 7) return;
    if (sub == 0) {
        *c &= ~BIT(11);                       /* AVX512_VNNI */
        *d &= ~(BIT(22) | BIT(24) | BIT(25)); /* AMX-BF16, AMX-TILE, AMX-INT8 */
        if (hide_avx512) {
            /* F, DQ, IFMA, PF, ER, CD, BW, VL */
            *b &= ~(BIT(16) | BIT(17) | BIT(21) | BIT(26) | BIT(27) | BIT(28) | BIT(30) | BIT(31));
            *c &= ~(BIT(1) | BIT(6) | BIT(12) | BIT(14)); /* VBMI, VBMI2, BITALG, VPOPCNTDQ */
            *d &= ~(BIT(2) | BIT(3) | BIT(8) | BIT(23));  /* 4VNNIW, 4FMAPS, VP2INTERSECT, FP16 */
        }
    } else if (sub == 1) {
        *a &= ~BIT(4); /* AVX-VNNI */
        *d &= ~BIT(4); /* AVX-VNNI-INT8 */
        if (hide_avx512) {
            *a &= ~BIT(5);  /* AVX512_BF16 */
            *d &= ~BIT(19); /* AVX10 */
        }
    }
}

typedef int (*sigaction_fn)(int, const struct sigaction *, struct sigaction *);
typedef sighandler_t (*signal_fn)(int, sighandler_t);

static sigaction_fn real_sigaction_fn;
static struct sigaction program_action; /* what the program set for SIGSEGV (SIG_DFL at first) */
static int active;

static int real_sigaction(int sig, const struct sigaction *action, struct sigaction *old) {
    if (real_sigaction_fn == NULL) real_sigaction_fn = (sigaction_fn)dlsym(RTLD_NEXT, "sigaction");
    return real_sigaction_fn(sig, action, old);
}

/* Not CPUID: do what the program's own SIGSEGV action would have done. */
static void pass_on(int sig, siginfo_t *info, void *context) {
    if (program_action.sa_flags & SA_SIGINFO) {
        program_action.sa_sigaction(sig, info, context);
    } else if (program_action.sa_handler != SIG_DFL && program_action.sa_handler != SIG_IGN) {
        program_action.sa_handler(sig);
    } else {
        struct sigaction fallback;
        memset(&fallback, 0, sizeof fallback);
        fallback.sa_handler = SIG_DFL;
        real_sigaction(sig, &fallback, NULL);
        raise(sig); /* pending until this handler returns: then the default action ends the process */
    }
}

static void on_segv(int sig, siginfo_t *info, void *context) {
    greg_t *r = ((ucontext_t *)context)->uc_mcontext.gregs;
    const unsigned char *ip = (const unsigned char *)r[REG_RIP];
    /* A faulting CPUID comes from the kernel (si_code SI_KERNEL) at a readable instruction 0F A2. */
    if (info->si_code != SI_KERNEL || ip[0] != 0x0f || ip[1] != 0xa2) {
        pass_on(sig, info, context);
        return;
    }
    unsigned leaf = (unsigned)r[REG_RAX], sub = (unsigned)r[REG_RCX], a, b, c, d;
    set_cpuid(1);
    __cpuid_count(leaf, sub, a, b, c, d);
    set_cpuid(0);
    hide(leaf, sub, &a, &b, &c, &d);
    r[REG_RAX] = a;
    r[REG_RBX] = b;
    r[REG_RCX] = c;
    r[REG_RDX] = d;
    r[REG_RIP] += 2;
}

/* The program's SIGSEGV handler is recorded, not installed, so that CPUID keeps reaching on_segv. */
int sigaction(int sig, const struct sigaction *action, struct sigaction *old) {
    if (sig != SIGSEGV || !active) return real_sigaction(sig, action, old);
    if (old != NULL) *old = program_action;
    if (action != NULL) program_action = *action;
    return 0;
}

sighandler_t signal(int sig, sighandler_t handler) {
    if (sig != SIGSEGV || !active) {
        signal_fn real_signal = (signal_fn)dlsym(RTLD_NEXT, "signal");
        return real_signal(sig, handler);
    }
    sighandler_t previous = (program_action.sa_flags & SA_SIGINFO) ? SIG_DFL : program_action.sa_handler;
    memset(&program_action, 0, sizeof program_action);
    program_action.sa_handler = handler;
    return previous;
}

__attribute__((constructor)) static void install(void) {
    const char *mode = getenv("VISIONKIT_CPUID_MASK");
    if (mode == NULL || (strcmp(mode, "no-vnni") != 0 && strcmp(mode, "avx2") != 0)) return;
    hide_avx512 = strcmp(mode, "avx2") == 0;
    struct sigaction action;
    memset(&action, 0, sizeof action);
    action.sa_sigaction = on_segv;
    action.sa_flags = SA_SIGINFO;
    program_action.sa_handler = SIG_DFL;
    if (real_sigaction(SIGSEGV, &action, NULL) == 0 && set_cpuid(0) == 0) active = 1;
}

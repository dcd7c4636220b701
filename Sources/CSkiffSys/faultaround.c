// Page-by-page mapping of skiff's own image.
//
// A read fault on a file mapping normally maps the whole 64 KiB block around the faulting page
// ("fault-around", /sys/kernel/mm/.../fault_around_bytes) when those pages are in the page
// cache, which they always are for a binary run this often. skiff touches a few hundred
// scattered pages of its 6 MB static image per invocation (glibc's start-up alone calls ~60
// IFUNC resolvers spread over libc's code, the Swift runtime scans conformance records all
// over .rodata); fault-around turned that into whole blocks, i.e. most of the peak RSS
// (create: 3.4 of 4.7 MiB were mapped code pages).
//
// The kernel skips fault-around in a mapping registered with userfaultfd for write-protect
// tracking (uffd_disable_fault_around). Registering the image with UFFD_FEATURE_WP_ASYNC
// (Linux 6.7+) changes nothing else: no page is ever write-protected, so no fault is delivered
// to userspace, and async mode would resolve one without a reader anyway. Only the descriptor
// must stay open: closing it unregisters; it is close-on-exec. A child's mappings lose the
// registration at fork, so sk_clone registers the child's own (init maps pages too).
//
// Left out is the hot range between sk_hot_text_start and sk_hot_text_end: the code every
// command runs, packed together by the link order (bench/link-order.txt), where fault-around
// maps pages that are about to be used anyway, in fewer faults. Also left out are the data
// segments (.rodata, .data.rel.ro, .data): registering them too saved another 0.4 MiB but
// cost ~90 us per invocation in extra faults, registering the code costs ~60 us (a fault costs
// ~1.3 us here; fault-around maps up to 16 pages for little more).
//
// It must happen before anything else touches the image, so it runs at the entry point
// (sk_entry, the linker's -e for the skiff executable), before glibc's start-up: no libc, no
// TLS, no errno yet: raw system calls only. Everything is best effort: on older kernels,
// without userfaultfd, or with SKIFF_FAULT_AROUND=1 in the environment the image is mapped the
// usual way.
#include "sk_sys.h"

#include <stdint.h>

// From linux/userfaultfd.h (Debian 12's headers predate WP_ASYNC) and asm/unistd_64.h.
#define SK_NR_IOCTL 16
#define SK_NR_CLOSE 3
#define SK_NR_FCNTL 72
#define SK_NR_DUP3 292
#define SK_NR_MADVISE 28
#define SK_MADV_DONTNEED 4
#define SK_NR_USERFAULTFD 323
#define SK_O_CLOEXEC 02000000
#define SK_O_NONBLOCK 04000
#define SK_F_DUPFD_CLOEXEC 1030
#define SK_UFFD_USER_MODE_ONLY 1
#define SK_UFFD_API ((uint64_t)0xAA)
#define SK_UFFD_FEATURE_WP_ASYNC (1ULL << 15)
#define SK_UFFDIO_REGISTER_MODE_WP ((uint64_t)1 << 1)
struct sk_uffdio_api { uint64_t api, features, ioctls; };
struct sk_uffdio_register { uint64_t start, len, mode, ioctls; };
// _IOWR(0xAA, 0x3F, struct uffdio_api) and _IOWR(0xAA, 0x00, struct uffdio_register)
#define SK_UFFDIO_API 0xc018aa3fUL
#define SK_UFFDIO_REGISTER 0xc020aa00UL
#define SK_PAGE 4096UL

// Linker-defined bounds of the image's read-only part: its first byte and the end of the code.
extern char __executable_start[];
extern char etext[];

// Markers the link order puts first and last in .text (see above).
__attribute__((noinline, used)) void sk_hot_text_start(void) { __asm__ volatile("" ::: "memory"); }
__attribute__((noinline, used)) int sk_hot_text_end(int x) { __asm__ volatile("" ::: "memory"); return x + 1; }

/// argc and argv as the process started (for CommandLine.arguments, see the end).
static char **sk_argv;
static int sk_argc;

#if defined(__x86_64__)

static inline long sk_raw3(long nr, long a, long b, long c) {
    long ret;
    __asm__ volatile("syscall" : "=a"(ret) : "a"(nr), "D"(a), "S"(b), "d"(c) : "rcx", "r11", "memory");
    return ret;
}

/// Registers [start, end); 0 or a negative errno.
__attribute__((no_stack_protector)) static long sk_register(int fd, uintptr_t start, uintptr_t end) {
    if (end <= start) return 0;
    struct sk_uffdio_register reg;
    reg.start = start;
    reg.len = end - start;
    reg.mode = SK_UFFDIO_REGISTER_MODE_WP;
    reg.ioctls = 0;
    return sk_raw3(SK_NR_IOCTL, fd, (long)SK_UFFDIO_REGISTER, (long)&reg);
}

__attribute__((no_stack_protector)) static int sk_register_image(void) {
    long fd = sk_raw3(SK_NR_USERFAULTFD, SK_O_CLOEXEC | SK_O_NONBLOCK | SK_UFFD_USER_MODE_ONLY, 0, 0);
    if (fd < 0) return -1;
    if (fd < 3) {
        // Never take the place of a closed standard descriptor.
        long high = sk_raw3(SK_NR_FCNTL, fd, SK_F_DUPFD_CLOEXEC, 3);
        sk_raw3(SK_NR_CLOSE, fd, 0, 0);
        if (high < 0) return -1;
        fd = high;
    }
    struct sk_uffdio_api api;
    api.api = SK_UFFD_API;
    api.features = SK_UFFD_FEATURE_WP_ASYNC;
    api.ioctls = 0;
    uintptr_t start = (uintptr_t)__executable_start & ~(SK_PAGE - 1);
    uintptr_t end = ((uintptr_t)etext + SK_PAGE - 1) & ~(SK_PAGE - 1);
    uintptr_t hot_start = (uintptr_t)&sk_hot_text_start & ~(SK_PAGE - 1);
    uintptr_t hot_end = ((uintptr_t)&sk_hot_text_end + SK_PAGE - 1) & ~(SK_PAGE - 1);
    long failed = sk_raw3(SK_NR_IOCTL, fd, (long)SK_UFFDIO_API, (long)&api);
    if (failed >= 0) {
        if (start <= hot_start && hot_start < hot_end && hot_end <= end) {
            failed = sk_register((int)fd, start, hot_start);
            if (failed >= 0) failed = sk_register((int)fd, hot_end, end);
        } else {
            failed = sk_register((int)fd, start, end);
        }
    }
    if (failed < 0) {
        sk_raw3(SK_NR_CLOSE, fd, 0, 0);
        return -1;
    }
    return (int)fd;
}

/// -1 until sk_early_start ran and registered the image; then the userfaultfd.
static int sk_image_fd = -1;
/// Set by SKIFF_FAULT_AROUND=1: leave the image alone (also in children).
static int sk_image_disabled = 0;
/// sk_early_start tried to register the image (this is skiff's entry point).
static int sk_image_tried = 0;

/// Runs at the entry point with the initial stack: argc, argv..., NULL, envp..., NULL.
__attribute__((used, no_stack_protector)) void sk_early_start(long *sp) {
    sk_argc = (int)sp[0];
    sk_argv = (char **)(sp + 1);
    char **envp = (char **)(sp + 1 + sp[0] + 1);
    static const char name[] = "SKIFF_FAULT_AROUND=";
    for (char **e = envp; *e; e++) {
        const char *s = *e;
        unsigned i = 0;
        while (i < sizeof(name) - 1 && s[i] == name[i]) i++;
        if (i == sizeof(name) - 1 && s[i] == '1') {
            sk_image_disabled = 1;
            return;
        }
    }
    sk_image_tried = 1;
    sk_image_fd = sk_register_image();
}

// Where the registration failed (Linux before 6.7: no UFFD_FEATURE_WP_ASYNC), every touch of
// cold code maps a 64 KiB fault-around block, and create's peak RSS is mostly code: the
// standard library's 1.6 MB of .text (one input section the link order cannot rearrange) is
// touched in almost every block. sk_image_trim unmaps the read-only part of the image (the
// pages stay in the page cache; nothing there is ever written) between phases of create, so
// the code only the earlier phase ran (start-up, argument parsing, config decoding and
// validation) no longer adds to the peak; the next phase faults back in what it uses.
void sk_image_trim(void) {
    if (!sk_image_tried || sk_image_fd >= 0) return;
    uintptr_t start = (uintptr_t)__executable_start & ~(SK_PAGE - 1);
    uintptr_t end = ((uintptr_t)etext + SK_PAGE - 1) & ~(SK_PAGE - 1);
    sk_raw3(SK_NR_MADVISE, (long)start, (long)(end - start), SK_MADV_DONTNEED);
}

int sk_image_page_faults(void) {
    if (sk_image_disabled || sk_image_fd < 0) return -1;  // not skiff's entry point, or disabled
    int fd = sk_register_image();
    if (fd < 0) return -1;
    // In a child: the inherited descriptor is the parent's registration. Put ours in its place
    // so the descriptor table looks as it did.
    if (sk_raw3(SK_NR_DUP3, fd, sk_image_fd, SK_O_CLOEXEC) >= 0) {
        sk_raw3(SK_NR_CLOSE, fd, 0, 0);
        return sk_image_fd;
    }
    sk_image_fd = fd;
    return fd;
}

// The entry point: registers the image, then continues at glibc's _start with the stack and
// %rdx (the exit hook the kernel leaves for _start) as the kernel set them up.
__asm__(
    "    .text\n"
    "    .globl sk_entry\n"
    "    .type sk_entry, @function\n"
    "sk_entry:\n"
    "    mov %rsp, %rdi\n"
    "    push %rdx\n"
    "    sub $8, %rsp\n"
    "    call sk_early_start\n"
    "    add $8, %rsp\n"
    "    pop %rdx\n"
    "    jmp _start\n"
    "    .size sk_entry, . - sk_entry\n");

#else  // other architectures: the usual mapping; sk_entry only continues at _start.

int sk_image_page_faults(void) { return -1; }
void sk_image_trim(void) {}

#if defined(__aarch64__)
__asm__(
    "    .text\n"
    "    .globl sk_entry\n"
    "    .type sk_entry, %function\n"
    "sk_entry:\n"
    "    b _start\n"
    "    .size sk_entry, . - sk_entry\n");
#endif

#endif

// ---- CommandLine.arguments without /proc/self/maps ------------------------------------------
//
// The Swift runtime finds argv for CommandLine.arguments with a static initializer
// (libswiftCore.a(CommandLine.cpp.o), "ArgvGrabber") that reads /proc/self/maps through stdio
// and sscanf to locate the initial stack, in every process before main: four system calls,
// ~50k instructions and a dozen pages of stdio and scanf code. Defining its two functions here
// keeps that archive member (and its initializer) out of the static executable; argv comes
// from the entry point, or from glibc, which passes argc and argv to initializers. Same
// contract: an override set through _swift_stdlib_overrideUnsafeArgvArgc wins. (In a
// dynamically linked test bundle libswiftCore.so keeps using its own, hidden, functions.)

static char **sk_override_argv;
static int sk_override_argc;

__attribute__((constructor(101))) static void sk_capture_argv(int argc, char **argv, char **envp) {
    (void)envp;
    if (!sk_argv && argv) {
        sk_argc = argc;
        sk_argv = argv;
    }
}

__attribute__((swiftcall)) void _swift_stdlib_overrideUnsafeArgvArgc(char **argv, int argc) {
    sk_override_argv = argv;
    sk_override_argc = argc;
}

__attribute__((swiftcall)) char **_swift_stdlib_getUnsafeArgvArgc(int *outArgLen) {
    static char *empty[] = { 0 };
    if (sk_override_argv) {
        *outArgLen = sk_override_argc;
        return sk_override_argv;
    }
    if (sk_argv) {
        *outArgLen = sk_argc;
        return sk_argv;
    }
    *outArgLen = 0;
    return empty;
}

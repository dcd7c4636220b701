#define _GNU_SOURCE
#include "sk_sys.h"

#include <elf.h>
#include <errno.h>
#include <fcntl.h>
#include <string.h>
#include <sys/syscall.h>
#include <unistd.h>

#ifndef MFD_CLOEXEC
#define MFD_CLOEXEC 0x0001U
#endif
#ifndef MFD_ALLOW_SEALING
#define MFD_ALLOW_SEALING 0x0002U
#endif
#ifndef MFD_EXEC
#define MFD_EXEC 0x0010U
#endif
#ifndef F_SEAL_EXEC
#define F_SEAL_EXEC 0x0020
#endif
#ifndef AT_EMPTY_PATH
#define AT_EMPTY_PATH 0x1000
#endif

// The trampoline is a complete static ELF program of a few dozen instructions. It is started
// as  trampoline PATH ARG0 ARG1 ... with the container's environment and does exactly
//     execve(argv[1-1]=PATH, &argv[1], envp)
// i.e. it drops its own argv[0] (the path) and hands the rest to the real program. On failure
// it exits 127. Its image lives in a sealed memfd, so nothing inside the container can write it.
#if defined(__x86_64__)
#define SK_TRAMPOLINE_MACHINE EM_X86_64
static const unsigned char sk_trampoline_code[] = {
    0x48, 0x8b, 0x7c, 0x24, 0x08,       // mov  rdi, [rsp+8]        ; PATH = argv[0]
    0x48, 0x8d, 0x74, 0x24, 0x10,       // lea  rsi, [rsp+16]       ; &argv[1]
    0x48, 0x8b, 0x04, 0x24,             // mov  rax, [rsp]          ; argc
    0x48, 0x8d, 0x54, 0xc4, 0x10,       // lea  rdx, [rsp+rax*8+16] ; envp
    0xb8, 0x3b, 0x00, 0x00, 0x00,       // mov  eax, 59             ; execve
    0x0f, 0x05,                         // syscall
    0xbf, 0x7f, 0x00, 0x00, 0x00,       // mov  edi, 127
    0xb8, 0xe7, 0x00, 0x00, 0x00,       // mov  eax, 231            ; exit_group
    0x0f, 0x05,                         // syscall
};
#elif defined(__aarch64__)
// Checked with aarch64-linux-gnu-objdump (decodes as written) and run under qemu-aarch64
// (`qemu-aarch64 -0 /bin/sh trampoline name -c '...'` execs sh with argv[0]=name and the env).
#define SK_TRAMPOLINE_MACHINE EM_AARCH64
static const uint32_t sk_trampoline_words[] = {
    0xf94007e0, // ldr  x0, [sp, #8]       ; PATH = argv[0]
    0x910043e1, // add  x1, sp, #16        ; &argv[1]
    0xf94003e2, // ldr  x2, [sp]           ; argc
    0x910003e3, // mov  x3, sp
    0x8b020c62, // add  x2, x3, x2, lsl #3
    0x91004042, // add  x2, x2, #16        ; envp
    0xd2801ba8, // mov  x8, #221           ; execve
    0xd4000001, // svc  #0
    0xd2800fe0, // mov  x0, #127
    0xd2800bc8, // mov  x8, #94            ; exit_group
    0xd4000001, // svc  #0
};
#define sk_trampoline_code ((const unsigned char *)sk_trampoline_words)
#define SK_TRAMPOLINE_CODE_SIZE sizeof(sk_trampoline_words)
#endif

#ifdef SK_TRAMPOLINE_MACHINE
#ifndef SK_TRAMPOLINE_CODE_SIZE
#define SK_TRAMPOLINE_CODE_SIZE sizeof(sk_trampoline_code)
#endif
#define SK_LOAD_ADDR 0x400000ULL

int sk_trampoline_create(void) {
    unsigned char image[sizeof(Elf64_Ehdr) + sizeof(Elf64_Phdr) + 64];
    size_t size = sizeof(Elf64_Ehdr) + sizeof(Elf64_Phdr) + SK_TRAMPOLINE_CODE_SIZE;
    Elf64_Ehdr eh;
    Elf64_Phdr ph;
    memset(&eh, 0, sizeof(eh));
    memcpy(eh.e_ident, ELFMAG, SELFMAG);
    eh.e_ident[EI_CLASS] = ELFCLASS64;
    eh.e_ident[EI_DATA] = ELFDATA2LSB;
    eh.e_ident[EI_VERSION] = EV_CURRENT;
    eh.e_ident[EI_OSABI] = ELFOSABI_SYSV;
    eh.e_type = ET_EXEC;
    eh.e_machine = SK_TRAMPOLINE_MACHINE;
    eh.e_version = EV_CURRENT;
    eh.e_entry = SK_LOAD_ADDR + sizeof(Elf64_Ehdr) + sizeof(Elf64_Phdr);
    eh.e_phoff = sizeof(Elf64_Ehdr);
    eh.e_ehsize = sizeof(Elf64_Ehdr);
    eh.e_phentsize = sizeof(Elf64_Phdr);
    eh.e_phnum = 1;
    memset(&ph, 0, sizeof(ph));
    ph.p_type = PT_LOAD;
    ph.p_flags = PF_R | PF_X;
    ph.p_offset = 0;
    ph.p_vaddr = SK_LOAD_ADDR;
    ph.p_paddr = SK_LOAD_ADDR;
    ph.p_filesz = size;
    ph.p_memsz = size;
    ph.p_align = 0x1000;
    memcpy(image, &eh, sizeof(eh));
    memcpy(image + sizeof(eh), &ph, sizeof(ph));
    memcpy(image + sizeof(eh) + sizeof(ph), sk_trampoline_code, SK_TRAMPOLINE_CODE_SIZE);

    int fd = sk_memfd_create("skiff-exec", MFD_CLOEXEC | MFD_ALLOW_SEALING | MFD_EXEC);
    if (fd < 0 && errno == EINVAL)
        fd = sk_memfd_create("skiff-exec", MFD_CLOEXEC | MFD_ALLOW_SEALING);
    if (fd < 0) return -1;
    size_t off = 0;
    while (off < size) {
        ssize_t n = write(fd, image + off, size - off);
        if (n < 0) {
            if (errno == EINTR) continue;
            close(fd);
            return -1;
        }
        off += (size_t)n;
    }
    int seals = F_SEAL_SEAL | F_SEAL_SHRINK | F_SEAL_GROW | F_SEAL_WRITE;
    if (fcntl(fd, F_ADD_SEALS, seals | F_SEAL_EXEC) < 0 && fcntl(fd, F_ADD_SEALS, seals) < 0) {
        close(fd);
        return -1;
    }
    return fd;
}
#else
int sk_trampoline_create(void) { errno = ENOSYS; return -1; }
#endif

int sk_exec_via(int fd, const char *path, char *const argv[], char *const envp[]) {
#ifdef SK_TRAMPOLINE_MACHINE
    if (fd >= 0) {
        size_t argc = 0;
        while (argv[argc]) argc++;
        // trampoline argv: PATH, then the program's argv
        char *targv[argc + 2];
        targv[0] = (char *)path;
        for (size_t i = 0; i < argc; i++) targv[i + 1] = argv[i];
        targv[argc + 1] = NULL;
        syscall(SYS_execveat, fd, "", targv, envp, AT_EMPTY_PATH);
        // memfds may not be executable here (vm.memfd_noexec) or a seccomp profile may
        // refuse execveat: fall through to a plain execve.
        if (errno != EACCES && errno != EPERM && errno != ENOEXEC && errno != ENOSYS) return -1;
    }
#else
    (void)fd;
#endif
    return execve(path, argv, envp);
}

// CSkiffSys: raw Linux syscalls Swift cannot call directly (variadic, macros, new
// syscalls glibc does not wrap) and the small pieces that must be C. Every symbol is
// prefixed sk_. Functions return -1 and leave errno set on failure, like libc.
#ifndef SK_SYS_H
#define SK_SYS_H

#include <stdint.h>
#include <sys/types.h>

// ---- errno --------------------------------------------------------------------------
int sk_errno(void);
void sk_set_errno(int value);

// ---- processes ------------------------------------------------------------------------
// Forks (fork semantics: the child returns 0 on a copy of the stack) into new namespaces.
// Uses clone3 when available, so cgroup_fd >= 0 means CLONE_INTO_CGROUP; *pidfd receives
// a pidfd when pidfd != NULL (CLONE_PIDFD). Falls back to clone(2) when clone3 is missing
// (then cgroup placement must be done by the caller and *pidfd is -1).
pid_t sk_clone(uint64_t flags, int cgroup_fd, int *pidfd);
int sk_pidfd_open(pid_t pid, unsigned int flags);
int sk_pidfd_send_signal(int pidfd, int sig);
int sk_wait_exited(int status);      // WIFEXITED
int sk_wait_exitstatus(int status);  // WEXITSTATUS
int sk_wait_signaled(int status);    // WIFSIGNALED
int sk_wait_termsig(int status);     // WTERMSIG
int sk_prctl(int option, unsigned long a2, unsigned long a3, unsigned long a4, unsigned long a5);
int sk_close_range(unsigned int first, unsigned int last, unsigned int flags);
int sk_personality(unsigned long persona);

// ---- namespaces -----------------------------------------------------------------------
int sk_setns(int fd, int nstype);
int sk_unshare(int flags);

// ---- files and mounts -----------------------------------------------------------------
int sk_openat2(int dirfd, const char *path, uint64_t flags, uint64_t mode, uint64_t resolve);
int sk_pivot_root(const char *new_root, const char *put_old);
int sk_open_tree(int dirfd, const char *path, unsigned int flags);
int sk_move_mount(int from_dirfd, const char *from_path, int to_dirfd, const char *to_path, unsigned int flags);
int sk_fsopen(const char *fsname, unsigned int flags);
int sk_fsconfig(int fd, unsigned int cmd, const char *key, const void *value, int aux);
int sk_fsmount(int fd, unsigned int flags, unsigned int attr_flags);
int sk_mount_setattr_flags(int dirfd, const char *path, unsigned int flags, uint64_t attr_set, uint64_t attr_clr, uint64_t propagation);
// mount_setattr(MOUNT_ATTR_IDMAP) with a user namespace fd (id-mapped mounts).
int sk_mount_setattr_idmap(int dirfd, unsigned int flags, int userns_fd);
int sk_mknodat(int dirfd, const char *path, mode_t mode, uint32_t major, uint32_t minor);
uint32_t sk_major(uint64_t dev);
uint32_t sk_minor(uint64_t dev);
long sk_statfs_type(int fd);          // f_type of the filesystem holding fd, -1 on error
int sk_fcntl_int(int fd, int cmd, int arg);
int sk_ioctl_int(int fd, unsigned long request, int arg);
int sk_ioctl_ptr(int fd, unsigned long request, void *arg);
int sk_memfd_create(const char *name, unsigned int flags);
int sk_pipe2(int fds[2], int flags);
struct stat;
int sk_stat(const char *path, struct stat *st);
int sk_lstat(const char *path, struct stat *st);
int sk_stat_path(const char *path, struct stat *st);
int sk_flock(int fd, int op);
int sk_setresuid(uint32_t uid);
int sk_setresgid(uint32_t gid);
int sk_setrlimit(int resource, uint64_t soft, uint64_t hard);
int sk_getrlimit(int resource, uint64_t *soft, uint64_t *hard);

// ---- terminals ------------------------------------------------------------------------
int sk_set_winsize(int fd, unsigned short rows, unsigned short cols);

// ---- sockets: SCM_RIGHTS ----------------------------------------------------------------
// Sends `name` (non-empty) with exactly one fd in one sendmsg, as runc's console protocol.
int sk_send_fd(int sock, int fd, const char *name);
// Receives one message with at most one fd; *fd = -1 when none came. Returns bytes read.
ssize_t sk_recv_fd(int sock, char *buf, size_t len, int *fd);

// ---- capabilities ---------------------------------------------------------------------
// Each set is two 32-bit words (capability version 3).
int sk_capget(uint32_t effective[2], uint32_t permitted[2], uint32_t inheritable[2]);
int sk_capset(const uint32_t effective[2], const uint32_t permitted[2], const uint32_t inheritable[2]);
int sk_last_cap(void);

// ---- keyrings -------------------------------------------------------------------------
// Joins a new session keyring named `name` (KEYCTL_JOIN_SESSION_KEYRING) and restricts it to
// its possessor. Returns the keyring serial or -1.
long sk_join_session_keyring(const char *name);

// ---- terminals: pty pair ----------------------------------------------------------------
// Opens the pty master at ptmx_path (O_RDWR|O_NOCTTY), unlocks it, and returns the peer
// (slave) fd via TIOCGPTPEER in *peer and its number in *index.
int sk_open_pty(int ptmx_fd, int *peer, int *index);
int sk_set_ctty(int fd);
// Raw mode for a relaying terminal: saves the old settings into `saved` (at least
// sk_termios_size() bytes) and restores them with sk_restore_termios.
int sk_termios_size(void);
int sk_make_raw(int fd, void *saved);
int sk_restore_termios(int fd, const void *saved);
int sk_get_winsize(int fd, unsigned short *rows, unsigned short *cols);
int sk_socketpair_stream(int fds[2]);

// ---- signals --------------------------------------------------------------------------
// Forwards every catchable signal (except SIGCHLD) to `pid` (run without --detach).
void sk_forward_signals(pid_t pid);

// ---- seccomp ----------------------------------------------------------------------------
// Loads a raw BPF program (an array of struct sock_filter, len bytes) with seccomp(2) and the
// given SECCOMP_FILTER_FLAG_* flags. Returns the listener fd with
// SECCOMP_FILTER_FLAG_NEW_LISTENER, else 0; -1 on error.
int sk_seccomp_load_bpf(const void *filter, size_t len, unsigned int flags);

// ---- eBPF (cgroup v2 device filter) -------------------------------------------------------
// Loads a BPF_PROG_TYPE_CGROUP_DEVICE program (insns: 8-byte instructions) and returns its
// fd; the verifier's log goes into log/log_size when it refuses the program.
int sk_bpf_load_device_program(const void *insns, unsigned int insn_count, char *log, unsigned int log_size);
// Attaches it to a cgroup2 directory (BPF_CGROUP_DEVICE, BPF_F_ALLOW_MULTI).
int sk_bpf_attach_device_program(int cgroup_fd, int prog_fd);

// ---- scheduling ---------------------------------------------------------------------------
// sched_setattr(2) for the calling thread.
int sk_sched_setattr(uint32_t policy, uint64_t flags, int32_t nice, uint32_t priority,
                     uint64_t runtime, uint64_t deadline, uint64_t period);
// ioprio_set(IOPRIO_WHO_PROCESS, 0, class << 13 | level).
int sk_ioprio_set(int ioclass, int level);
// sched_setaffinity(0) from a CPU bit list (bytes, CPU n = bit n).
int sk_sched_setaffinity(const uint8_t *mask, size_t bytes);

// ---- exec -----------------------------------------------------------------------------
// Executes `path` with argv/envp through a tiny sealed in-memory trampoline, so that the
// process entering the container's executable is never the on-disk skiff binary
// (CVE-2019-5736: /proc/self/exe of every container process is the sealed memfd or the
// user's program, never skiff). sk_trampoline_create returns the sealed close-on-exec memfd
// (or -1; made before a seccomp filter is loaded), sk_exec_via executes through it and only
// returns on failure, falling back to a plain execve when the architecture has no
// trampoline or memfds cannot be executed here (fd < 0: plain execve).
int sk_trampoline_create(void);
int sk_exec_via(int trampoline_fd, const char *path, char *const argv[], char *const envp[]);

// ---- own image --------------------------------------------------------------------------
// Maps skiff's own image page by page instead of in 64 KiB fault-around blocks, except the hot
// code range (see faultaround.c). The executable's entry point sk_entry does it before glibc
// starts; sk_clone calls this in the child, whose mappings lose the registration at fork.
// Returns the userfaultfd that keeps the registration (close-on-exec), or -1 when unavailable
// or not started through sk_entry.
int sk_image_page_faults(void);
// Where that is unavailable (Linux before 6.7): unmaps the image's read-only part (code,
// metadata), to be faulted in again by what runs next; keeps create's peak RSS down.
void sk_image_trim(void);

#endif

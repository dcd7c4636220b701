import Glibc

// Linux flags that Glibc's Swift module hides behind _GNU_SOURCE.
public let O_PATH: Int32 = 0o10000000
public let O_TMPFILE_FLAG: Int32 = 0o20200000
public let AT_EMPTY_PATH: Int32 = 0x1000
public let PR_SET_PDEATHSIG: Int32 = 1
public let PR_SET_DUMPABLE: Int32 = 4
public let PR_SET_KEEPCAPS: Int32 = 8
public let PR_CAPBSET_READ: Int32 = 23
public let PR_CAPBSET_DROP: Int32 = 24
public let PR_SET_NO_NEW_PRIVS: Int32 = 38
public let PR_SET_CHILD_SUBREAPER: Int32 = 36
public let PR_CAP_AMBIENT: Int32 = 47
public let PR_CAP_AMBIENT_RAISE: UInt = 2
public let PR_CAP_AMBIENT_CLEAR_ALL: UInt = 4

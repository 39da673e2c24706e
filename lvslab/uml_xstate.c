/*
 * Preloaded into linux.uml (LD_PRELOAD) on hosts whose XSAVE area is larger than the
 * one the UML 6.1 kernel knows (AVX-512, AMX: 2.6 KiB and more against its 832 bytes).
 *
 * UML saves and restores each guest task's FPU state with PTRACE_GETREGSET and
 * PTRACE_SETREGSET (NT_X86_XSTATE) into a fixed 832-byte buffer. The host kernel
 * truncates a GET to that size, but refuses a SET that is not the whole area (EFAULT),
 * so init dies at its first context switch: "ptrace set fp regs failed, errno = 14".
 *
 * This wrapper keeps, for every buffer UML passes (one per guest task), a shadow copy of
 * the whole area: a GET fills the shadow and hands UML its first bytes; a SET lays
 * UML's bytes over the shadow and sets the whole area. The parts UML cannot see (the
 * AVX-512 and PKRU components) thus survive every context switch unchanged, which
 * glibc's EVEX string functions in the guests rely on. Other requests pass through.
 */
#define _GNU_SOURCE
#include <dlfcn.h>
#include <elf.h>
#include <errno.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <sys/types.h>
#include <sys/uio.h>

/* <sys/ptrace.h> would declare ptrace() with glibc's enum type */
#define PTRACE_GETREGSET 0x4204
#define PTRACE_SETREGSET 0x4205
#ifndef NT_X86_XSTATE
#define NT_X86_XSTATE 0x202
#endif

#define PROBE_SIZE 65536
#define SLOTS 16384 /* guest tasks alive at once: a few hundred */

typedef long (*ptrace_fn)(int, pid_t, void *, void *);

static ptrace_fn real_ptrace;
static size_t full_size; /* the host's XSAVE area for a task, in bytes */
static unsigned char probe[PROBE_SIZE];
static struct {
    void *key;
    unsigned char *area;
} slots[SLOTS];

static long call(int request, pid_t pid, void *addr, void *data)
{
    if (!real_ptrace)
        real_ptrace = (ptrace_fn)dlsym(RTLD_NEXT, "ptrace");
    return real_ptrace(request, pid, addr, data);
}

/* Read the whole area of pid into buf (full_size bytes, learnt on the first call). */
static long get_whole(pid_t pid, unsigned char *buf)
{
    struct iovec iov = {buf ? buf : probe, buf ? full_size : PROBE_SIZE};
    long ret = call(PTRACE_GETREGSET, pid, (void *)NT_X86_XSTATE, &iov);
    if (ret == 0 && !buf && iov.iov_len > full_size)
        full_size = iov.iov_len;
    return ret;
}

static unsigned char *shadow(void *key, int create)
{
    size_t i = ((uintptr_t)key >> 4) % SLOTS;
    for (size_t n = 0; n < SLOTS; n++, i = (i + 1) % SLOTS) {
        if (slots[i].key == key)
            return slots[i].area;
        if (!slots[i].key) {
            if (!create)
                return NULL;
            slots[i].area = malloc(full_size);
            if (slots[i].area)
                slots[i].key = key;
            return slots[i].area;
        }
    }
    return NULL;
}

static long xstate(int request, pid_t pid, struct iovec *iov)
{
    if (!full_size) {
        long ret = get_whole(pid, NULL);
        if (ret < 0)
            return ret;
    }
    if (iov->iov_len >= full_size)
        return call(request, pid, (void *)NT_X86_XSTATE, iov);

    size_t len = iov->iov_len;
    if (request == PTRACE_GETREGSET) {
        unsigned char *area = shadow(iov->iov_base, 1);
        unsigned char *buf = area ? area : probe;
        long ret = get_whole(pid, buf);
        if (ret < 0)
            return ret;
        memcpy(iov->iov_base, buf, len);
        return 0;
    }
    /* PTRACE_SETREGSET: UML's bytes over the last whole area read into this buffer, or
     * over the task's current area when there is none (a task that was never saved) */
    unsigned char *area = shadow(iov->iov_base, 0);
    if (!area) {
        long ret = get_whole(pid, probe);
        if (ret < 0)
            return ret;
        area = probe;
    }
    memcpy(area, iov->iov_base, len);
    struct iovec whole = {area, full_size};
    return call(PTRACE_SETREGSET, pid, (void *)NT_X86_XSTATE, &whole);
}

long ptrace(int request, ...)
{
    va_list ap;
    va_start(ap, request);
    pid_t pid = va_arg(ap, pid_t);
    void *addr = va_arg(ap, void *);
    void *data = va_arg(ap, void *);
    va_end(ap);

    if ((request == PTRACE_GETREGSET || request == PTRACE_SETREGSET) &&
        (uintptr_t)addr == NT_X86_XSTATE && data)
        return xstate(request, pid, (struct iovec *)data);
    return call(request, pid, addr, data);
}

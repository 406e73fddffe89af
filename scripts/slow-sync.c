/*
 * slow-sync: makes every fsync, fdatasync and sync_file_range of a process (and its children)
 * take longer, to see how Quire behaves on a slow disk such as an SD card.
 *
 *   cc -O2 -shared -fPIC -o /tmp/slow-sync.so scripts/slow-sync.c -ldl
 *   SLOW_SYNC_US=5000 LD_PRELOAD=/tmp/slow-sync.so target/release/quire-burst --posts 5000
 *
 * SLOW_SYNC_US is the extra time per call in microseconds (default 5000). quire-burst's own
 * fsync anchor runs under it too, so its ratios stay comparable.
 */
#define _GNU_SOURCE
#include <dlfcn.h>
#include <fcntl.h>
#include <stdlib.h>
#include <unistd.h>

static void slow_down(void) {
    const char *us = getenv("SLOW_SYNC_US");
    usleep(us ? (useconds_t)atoi(us) : 5000);
}

int fsync(int fd) {
    static int (*real)(int);
    if (!real) real = (int (*)(int))dlsym(RTLD_NEXT, "fsync");
    slow_down();
    return real(fd);
}

int fdatasync(int fd) {
    static int (*real)(int);
    if (!real) real = (int (*)(int))dlsym(RTLD_NEXT, "fdatasync");
    slow_down();
    return real(fd);
}

int sync_file_range(int fd, off_t offset, off_t nbytes, unsigned int flags) {
    static int (*real)(int, off_t, off_t, unsigned int);
    if (!real) real = (int (*)(int, off_t, off_t, unsigned int))dlsym(RTLD_NEXT, "sync_file_range");
    slow_down();
    return real(fd, offset, nbytes, flags);
}

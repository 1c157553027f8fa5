package tests

import (
	"strings"
	"testing"
)

// aioSrc uses native AIO through the raw calls (as libaio does): a context,
// writes and reads at offsets, vectored ones, fsync, an eventfd told of
// each completion, io_getevents' bounds and timeout, and the errors of
// each call.
const aioSrc = `#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <linux/aio_abi.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/eventfd.h>
#include <sys/syscall.h>
#include <sys/uio.h>
#include <time.h>
#include <unistd.h>
static void show(const char *what, long r) {
	if (r < 0) printf("%s: -1 %s\n", what, strerrorname_np(errno));
	else printf("%s: %ld\n", what, r);
}
static long setup(unsigned n, aio_context_t *c) { return syscall(SYS_io_setup, n, c); }
static long submit(aio_context_t c, long n, struct iocb **p) { return syscall(SYS_io_submit, c, n, p); }
static long getev(aio_context_t c, long mn, long n, struct io_event *e, struct timespec *t) { return syscall(SYS_io_getevents, c, mn, n, e, t); }
int main(int argc, char **argv) {
	char path[256];
	snprintf(path, sizeof path, "%s/aio-file", argv[1]);
	int fd = open(path, O_RDWR | O_CREAT | O_TRUNC, 0600);
	aio_context_t ctx = 0;
	show("setup 0 events", setup(0, &ctx));
	show("setup", setup(4, &ctx));
	aio_context_t other = 1;
	show("setup with nonzero ctx", setup(4, &other));
	show("setup bad pointer", setup(4, (void *)8));
	int efd = eventfd(0, 0);
	struct iocb w = { .aio_data = 11, .aio_lio_opcode = IOCB_CMD_PWRITE, .aio_fildes = fd,
		.aio_buf = (uintptr_t)"hello aio", .aio_nbytes = 9, .aio_offset = 100,
		.aio_flags = IOCB_FLAG_RESFD, .aio_resfd = efd };
	struct iocb *list[] = { &w };
	show("submit write", submit(ctx, 1, list));
	struct io_event ev[8];
	show("getevents", getev(ctx, 1, 8, ev, 0));
	printf("event data %llu obj-is-iocb %d res %lld\n", (unsigned long long)ev[0].data, ev[0].obj == (uintptr_t)&w, (long long)ev[0].res);
	uint64_t cnt = 0;
	read(efd, &cnt, 8);
	printf("eventfd count %llu\n", (unsigned long long)cnt);
	char buf[32] = {0}, b2[8] = {0};
	struct iovec iov[2] = { { buf, 5 }, { b2, 4 } };
	struct iocb r = { .aio_data = 22, .aio_lio_opcode = IOCB_CMD_PREADV, .aio_fildes = fd,
		.aio_buf = (uintptr_t)iov, .aio_nbytes = 2, .aio_offset = 100 };
	struct iocb s = { .aio_data = 33, .aio_lio_opcode = IOCB_CMD_FSYNC, .aio_fildes = fd };
	struct iocb bad = { .aio_data = 44, .aio_lio_opcode = IOCB_CMD_PREAD, .aio_fildes = 999, .aio_buf = (uintptr_t)buf, .aio_nbytes = 1 };
	struct iocb *l2[] = { &r, &s, &bad };
	show("submit readv, fsync, bad fd", submit(ctx, 3, l2));
	show("getevents", getev(ctx, 2, 8, ev, 0));
	printf("readv data %llu res %lld: %s|%s\n", (unsigned long long)ev[0].data, (long long)ev[0].res, buf, b2);
	printf("fsync data %llu res %lld\n", (unsigned long long)ev[1].data, (long long)ev[1].res);
	struct iocb *l3[] = { &bad };
	show("submit bad fd first", submit(ctx, 1, l3));
	struct iocb rd = { .aio_data = 55, .aio_lio_opcode = IOCB_CMD_PREAD, .aio_fildes = fd, .aio_buf = 8, .aio_nbytes = 4, .aio_offset = 100 };
	struct iocb *l4[] = { &rd };
	show("submit read to a bad buffer", submit(ctx, 1, l4));
	show("getevents", getev(ctx, 1, 1, ev, 0));
	printf("bad buffer res %lld\n", (long long)ev[0].res);
	struct iocb unknown = { .aio_lio_opcode = 99, .aio_fildes = fd };
	struct iocb *l5[] = { &unknown };
	show("submit unknown opcode", submit(ctx, 1, l5));
	struct timespec ts = { 0, 50000000 };
	show("getevents none, timeout", getev(ctx, 1, 8, ev, &ts));
	show("getevents min > nr", getev(ctx, 2, 1, ev, &ts));
	show("getevents bad ctx", getev(12345, 0, 1, ev, &ts));
	show("cancel", syscall(SYS_io_cancel, ctx, &w, ev));
	show("destroy", syscall(SYS_io_destroy, ctx));
	show("destroy again", syscall(SYS_io_destroy, ctx));
	show("submit after destroy", submit(ctx, 1, list));
	unlink(path);
	return 0;
}
`

// TestAIO: native AIO answers as Linux does.
func TestAIO(t *testing.T) {
	t.Parallel()
	bin := compileC(t, "aio", aioSrc)
	native, _ := diff(t, []string{bin, t.TempDir()})
	if !strings.Contains(native.Stdout, "readv data 22 res 9: hello| aio") {
		t.Errorf("native run looks wrong:\n%s", native.Stdout)
	}
}

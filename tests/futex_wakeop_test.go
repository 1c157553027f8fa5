package tests

import "testing"

// futexWakeOpC: FUTEX_WAKE_OP's signed 12-bit arguments, its errors in
// Linux's order (an unknown operation is ENOSYS before the word is
// touched, even unmapped; an unknown comparison is ENOSYS after it was
// changed; EFAULT for an unmapped or read-only word, none for an unmapped
// first private word) and that a failed WAKE_OP wakes no one.
const futexWakeOpC = `
#include <errno.h>
#include <linux/futex.h>
#include <pthread.h>
#include <stdint.h>
#include <stdio.h>
#include <sys/mman.h>
#include <sys/syscall.h>
#include <unistd.h>

static long fx(uint32_t *a, int cmd, uint32_t v, unsigned long v2, uint32_t *a2, uint32_t v3) {
	return syscall(SYS_futex, a, cmd, v, v2, a2, v3);
}
#define WAKE_OP (FUTEX_WAKE_OP | FUTEX_PRIVATE_FLAG)
static void show(const char *what, long r) {
	printf("%s: %ld %s\n", what, r, r < 0 ? (errno == EFAULT ? "EFAULT" : errno == ENOSYS ? "ENOSYS" : errno == EINVAL ? "EINVAL" : "other") : "");
}
static uint32_t w1, w3;
static long woke = -2;
static void *waiter(void *arg) {
	woke = fx(&w1, FUTEX_WAIT_PRIVATE, 0, 0, 0, 0);
	return 0;
}
int main(void) {
	uint32_t x = 5, y = 0;
	show("add -1", fx(&y, WAKE_OP, 1, 1, &x, FUTEX_OP(FUTEX_OP_ADD, 0xfff, FUTEX_OP_CMP_EQ, 5)));
	printf("x=%u\n", x);
	x = 5;
	show("set, cmp ge -2048", fx(&y, WAKE_OP, 1, 1, &x, FUTEX_OP(FUTEX_OP_SET, 7, FUTEX_OP_CMP_GE, 0x800)));
	printf("x=%u\n", x);
	show("shift 1<<35", fx(&y, WAKE_OP, 1, 1, &x, FUTEX_OP(FUTEX_OP_SET | FUTEX_OP_OPARG_SHIFT, 35, FUTEX_OP_CMP_EQ, 0)));
	printf("x=%#x\n", x);
	x = 5;
	show("bad cmp", fx(&y, WAKE_OP, 1, 1, &x, FUTEX_OP(FUTEX_OP_ADD, 1, 7, 0)));
	printf("x=%u\n", x);
	char *hole = mmap(0, 8192, PROT_READ, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	munmap(hole + 4096, 4096);
	uint32_t *ro = (uint32_t *)hole, *gone = (uint32_t *)(hole + 4096);
	show("bad op, unmapped addr2", fx(&y, WAKE_OP, 1, 1, gone, (6u << 28)));
	show("unmapped addr2", fx(&y, WAKE_OP, 1, 1, gone, FUTEX_OP(FUTEX_OP_ADD, 1, FUTEX_OP_CMP_EQ, 0)));
	show("read-only addr2", fx(&y, WAKE_OP, 1, 1, ro, FUTEX_OP(FUTEX_OP_ADD, 1, FUTEX_OP_CMP_EQ, 0)));
	show("unmapped addr1", fx(gone, WAKE_OP, 1, 1, &x, FUTEX_OP(FUTEX_OP_ADD, 1, FUTEX_OP_CMP_EQ, 0)));
	show("kernel addr2", fx(&y, WAKE_OP, 1, 1, (uint32_t *)0xffff800000000000ul, (6u << 28)));
	show("misaligned addr2", fx(&y, WAKE_OP, 1, 1, (uint32_t *)((char *)&x + 1), (6u << 28)));
	/* A waiter is not woken by a WAKE_OP that fails on its comparison. */
	pthread_t th;
	pthread_create(&th, 0, waiter, 0);
	while (fx(&w1, FUTEX_CMP_REQUEUE_PRIVATE, 0, 1, &w3, 0) != 1)
		usleep(1000);
	show("bad cmp with a waiter", fx(&w3, WAKE_OP, 1, 1, &x, FUTEX_OP(FUTEX_OP_ADD, 1, 7, 0)));
	show("bad op with a waiter", fx(&w3, WAKE_OP, 1, 1, &x, (6u << 28)));
	show("wake", fx(&w3, FUTEX_WAKE_PRIVATE, 1, 0, 0, 0));
	pthread_join(th, 0);
	printf("waiter woke: %ld\n", woke);
	return 0;
}
`

func TestFutexWakeOp(t *testing.T) {
	t.Parallel()
	native, _ := diff(t, []string{compileC(t, "futex-wakeop", futexWakeOpC, "-pthread")})
	expect(t, "native", native, "add -1: 0 \nx=4\nset, cmp ge -2048: 0 \nx=7\nshift 1<<35: 0 \nx=0x8\n"+
		"bad cmp: -1 ENOSYS\nx=6\nbad op, unmapped addr2: -1 ENOSYS\nunmapped addr2: -1 EFAULT\n"+
		"read-only addr2: -1 EFAULT\nunmapped addr1: 0 \nkernel addr2: -1 EFAULT\nmisaligned addr2: -1 EINVAL\n"+
		"bad cmp with a waiter: -1 ENOSYS\nbad op with a waiter: -1 ENOSYS\nwake: 1 \nwaiter woke: 0\n", 0)
}

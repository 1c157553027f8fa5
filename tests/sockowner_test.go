package tests

import "testing"

// sockOwnerC sets and reads a socket's owner through the ioctls that are
// F_SETOWN and F_GETOWN by other names, and checks a non-socket refuses
// them.
const sockOwnerC = `#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/socket.h>
#include <unistd.h>
#ifndef FIOSETOWN
#define FIOSETOWN 0x8901
#define FIOGETOWN 0x8903
#endif
static void show(const char *what, int r) { printf("%s: %d %s\n", what, r, r < 0 ? strerror(errno) : ""); }
int main(void) {
	int s[2], p[2], me = getpid(), v, bad = -2147483647 - 1;
	socketpair(AF_UNIX, SOCK_STREAM, 0, s);
	pipe(p);
	v = me; show("FIOSETOWN pid", ioctl(s[0], FIOSETOWN, &v));
	show("F_GETOWN is pid", fcntl(s[0], F_GETOWN) == me);
	v = -1; show("FIOGETOWN", ioctl(s[0], FIOGETOWN, &v)); printf("  owner is pid: %d\n", v == me);
	v = -getpgrp(); show("SIOCSPGRP group", ioctl(s[0], SIOCSPGRP, &v));
	v = 0; show("SIOCGPGRP", ioctl(s[0], SIOCGPGRP, &v)); printf("  owner is -pgrp: %d\n", v == -getpgrp());
	show("F_GETOWN is -pgrp", fcntl(s[0], F_GETOWN) == -getpgrp());
	v = 999999; show("FIOSETOWN no such pid", ioctl(s[0], FIOSETOWN, &v));
	v = bad; show("FIOSETOWN INT_MIN", ioctl(s[0], FIOSETOWN, &v));
	show("FIOSETOWN bad pointer", ioctl(s[0], FIOSETOWN, (void *)8));
	show("FIOGETOWN bad pointer", ioctl(s[0], FIOGETOWN, (void *)8));
	v = me; show("FIOSETOWN on a pipe", ioctl(p[0], FIOSETOWN, &v));
	return 0;
}
`

// TestSockOwnerIoctls: FIOSETOWN/SIOCSPGRP and FIOGETOWN/SIOCGPGRP on a
// socket, as F_SETOWN and F_GETOWN. Linux: net/socket.c (sock_ioctl)
func TestSockOwnerIoctls(t *testing.T) {
	t.Parallel()
	prog := compileC(t, "sockowner", sockOwnerC)
	diff(t, []string{prog})
}

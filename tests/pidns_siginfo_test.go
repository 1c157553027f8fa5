package tests

import (
	"os/exec"
	"testing"
)

// pidnsSiginfoSrc prints, inside a new PID namespace, whether the pids
// siginfo carries are the namespace's: SIGCHLD's si_pid (taken with
// sigwaitinfo and through a signalfd), and a kill's si_pid.
const pidnsSiginfoSrc = `#define _GNU_SOURCE
#include <signal.h>
#include <stdio.h>
#include <sys/signalfd.h>
#include <sys/wait.h>
#include <unistd.h>
int main(void) {
	sigset_t set;
	sigemptyset(&set);
	sigaddset(&set, SIGCHLD);
	sigaddset(&set, SIGUSR1);
	sigprocmask(SIG_BLOCK, &set, 0);
	printf("my pid %d\n", getpid());
	pid_t c = fork();
	if (c == 0) _exit(3);
	siginfo_t si;
	sigwaitinfo(&set, &si);
	printf("SIGCHLD si_pid is the child: %d (child %d)\n", si.si_pid == c, c);
	waitpid(c, 0, 0);
	c = fork();
	if (c == 0) { kill(getppid(), SIGUSR1); _exit(0); }
	int fd = signalfd(-1, &set, 0);
	struct signalfd_siginfo ss;
	for (int i = 0; i < 2; i++) {
		read(fd, &ss, sizeof ss);
		printf("signalfd signo %u ssi_pid is the child: %d\n", ss.ssi_signo, ss.ssi_pid == (unsigned)c);
	}
	waitpid(c, 0, 0);
	return 0;
}
`

// TestPIDNamespaceSiginfo: inside a new PID namespace the pids in siginfo
// are the namespace's numbers.
func TestPIDNamespaceSiginfo(t *testing.T) {
	t.Parallel()
	if _, err := exec.LookPath("unshare"); err != nil {
		t.Skip("unshare not installed (apt-get install util-linux)")
	}
	bin := compileC(t, "pidns-siginfo", pidnsSiginfoSrc)
	diff(t, []string{"unshare", "-Urpf", "--mount-proc", bin})
}

// pidnsCredSrc passes SCM_CREDENTIALS both ways between a process and its
// child in a new PID namespace, reads SO_PEERCRED on each side, and asks
// F_GETLK about the other's record lock.
const pidnsCredSrc = `#define _GNU_SOURCE
#include <errno.h>
#include <sched.h>
#include <stdio.h>
#include <string.h>
#include <fcntl.h>
#include <stdlib.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>

static int sendcred(int s, pid_t pid) {
	struct ucred c = {pid, getuid(), getgid()};
	char buf[CMSG_SPACE(sizeof c)];
	char x = 'x';
	struct iovec iov = {&x, 1};
	struct msghdr m = {.msg_iov = &iov, .msg_iovlen = 1, .msg_control = buf, .msg_controllen = sizeof buf};
	struct cmsghdr *h = CMSG_FIRSTHDR(&m);
	h->cmsg_level = SOL_SOCKET;
	h->cmsg_type = SCM_CREDENTIALS;
	h->cmsg_len = CMSG_LEN(sizeof c);
	memcpy(CMSG_DATA(h), &c, sizeof c);
	return sendmsg(s, &m, 0);
}

static pid_t recvcred(int s) {
	char buf[CMSG_SPACE(sizeof(struct ucred))];
	char x;
	struct iovec iov = {&x, 1};
	struct msghdr m = {.msg_iov = &iov, .msg_iovlen = 1, .msg_control = buf, .msg_controllen = sizeof buf};
	if (recvmsg(s, &m, 0) < 0)
		return -1;
	struct cmsghdr *h = CMSG_FIRSTHDR(&m);
	if (!h || h->cmsg_type != SCM_CREDENTIALS)
		return -2;
	struct ucred c;
	memcpy(&c, CMSG_DATA(h), sizeof c);
	return c.pid;
}

static pid_t peer(int s) {
	struct ucred c;
	socklen_t n = sizeof c;
	getsockopt(s, SOL_SOCKET, SO_PEERCRED, &c, &n);
	return c.pid;
}

int main(void) {
	setvbuf(stdout, NULL, _IOLBF, 0);
	// The work in a child, whose pid is never 1 (the number the new
	// namespace gives its first process).
	pid_t w = fork();
	if (w > 0) {
		int st;
		waitpid(w, &st, 0);
		return WEXITSTATUS(st);
	}
	int sv[2];
	socketpair(AF_UNIX, SOCK_DGRAM, 0, sv);
	int on = 1;
	setsockopt(sv[0], SOL_SOCKET, SO_PASSCRED, &on, sizeof on);
	setsockopt(sv[1], SOL_SOCKET, SO_PASSCRED, &on, sizeof on);
	if (unshare(CLONE_NEWPID) != 0) {
		perror("unshare");
		return 1;
	}
	pid_t me = getpid();
	// A lock the parent holds, and one the child will hold.
	char tmpl[] = "/tmp/nscred-XXXXXX";
	int fd = mkstemp(tmpl);
	unlink(tmpl);
	struct flock fl = {.l_type = F_WRLCK, .l_whence = SEEK_SET, .l_start = 0, .l_len = 10};
	fcntl(fd, F_SETLK, &fl);
	pid_t c = fork();
	if (c == 0) {
		struct flock q = {.l_type = F_WRLCK, .l_whence = SEEK_SET, .l_start = 0, .l_len = 10};
		fcntl(fd, F_GETLK, &q);
		printf("child: F_GETLK on the parent's lock: type %s, pid %d\n", q.l_type == F_WRLCK ? "write" : "?", q.l_pid);
		struct flock mine = {.l_type = F_WRLCK, .l_whence = SEEK_SET, .l_start = 10, .l_len = 10};
		fcntl(fd, F_SETLK, &mine);
		printf("child: pid %d\n", getpid());
		printf("child: SO_PEERCRED pid (the parent, not in this namespace): %d\n", peer(sv[1]));
		printf("child: sendmsg own pid: %d\n", sendcred(sv[1], getpid()));
		errno = 0;
		int r = sendcred(sv[1], me);
		printf("child: sendmsg the parent's outer pid: %d %s\n", r, r < 0 ? strerror(errno) : "");
		printf("child: received pid (the parent's): %d\n", recvcred(sv[1]));
		return 0;
	}
	pid_t got = recvcred(sv[0]);
	struct flock q = {.l_type = F_WRLCK, .l_whence = SEEK_SET, .l_start = 10, .l_len = 10};
	fcntl(fd, F_GETLK, &q);
	int lockpid = q.l_pid == c;
	int pe = peer(sv[0]) == me;
	int sr = sendcred(sv[0], me);
	waitpid(c, NULL, 0);
	printf("parent: received the child's pid: %d\n", got == c);
	printf("parent: SO_PEERCRED is itself: %d\n", pe);
	printf("parent: sendmsg own pid: %d\n", sr);
	printf("parent: F_GETLK names the child: %d\n", lockpid);
	return 0;
}
`

// TestPIDNamespaceCredentials: SCM_CREDENTIALS, SO_PEERCRED and F_GETLK carry pids
// as the receiver's PID namespace numbers them (0 when the sender is not
// in it), and a sender may claim only a pid of its own namespace.
func TestPIDNamespaceCredentials(t *testing.T) {
	t.Parallel()
	if _, err := exec.LookPath("unshare"); err != nil {
		t.Skip("unshare not installed (apt-get install util-linux)")
	}
	diff(t, []string{"unshare", "-Ur", compileC(t, "pidns-cred", pidnsCredSrc)})
}

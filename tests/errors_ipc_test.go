package tests

import "testing"

// errorsIpcC: the argument checks of POSIX message queues, native AIO,
// SysV message queues and semaphores, ptrace, seccomp and userfaultfd
// that the feature tests leave out. Linux: ipc/mqueue.c, fs/aio.c,
// ipc/msg.c, ipc/sem.c, kernel/ptrace.c, kernel/seccomp.c, fs/userfaultfd.c
const errorsIpcC = `#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <linux/aio_abi.h>
#include <linux/filter.h>
#include <linux/seccomp.h>
#include <linux/userfaultfd.h>
#include <mqueue.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>
#include <sys/ipc.h>
#include <sys/msg.h>
#include <sys/ioctl.h>
#include <sys/prctl.h>
#include <sys/ptrace.h>
#include <sys/sem.h>
#include <sys/syscall.h>
#include <sys/wait.h>

#define R(what, expr) do { errno = 0; long _r = (long)(expr); \
	printf("%-48s = %ld %s\n", what, _r < 0 ? -1L : _r > 1000 ? 1000L : _r, _r < 0 ? strerror(errno) : ""); fflush(stdout); } while (0)

int main(void) {
	struct timespec ts0 = {0, 0}, bad = {0, 1000000000};
	/* POSIX message queues, through the system calls: a name is without
	   the leading slash glibc strips */
	char name[64];
	snprintf(name, sizeof name, "errors-ipc-%d", getuid());
	syscall(SYS_mq_unlink, name);
	R("mq_open empty name", syscall(SYS_mq_open, "", O_RDWR | O_CREAT, 0600, NULL));
	R("mq_open name with a slash", syscall(SYS_mq_open, "a/b", O_RDWR | O_CREAT, 0600, NULL));
	R("mq_open \".\"", syscall(SYS_mq_open, ".", O_RDWR | O_CREAT, 0600, NULL));
	R("mq_unlink \"..\"", syscall(SYS_mq_unlink, ".."));
	R("mq_open missing", syscall(SYS_mq_open, name, O_RDWR, 0600, NULL));
	R("mq_open bad name pointer", syscall(SYS_mq_open, (void *)8, O_RDWR | O_CREAT, 0600, NULL));
	R("mq_open bad attr pointer", syscall(SYS_mq_open, name, O_RDWR | O_CREAT, 0600, (void *)8));
	struct mq_attr at = {.mq_maxmsg = 0, .mq_msgsize = 16};
	R("mq_open maxmsg 0", syscall(SYS_mq_open, name, O_RDWR | O_CREAT, 0600, &at));
	at.mq_maxmsg = 4; at.mq_msgsize = 0;
	R("mq_open msgsize 0", syscall(SYS_mq_open, name, O_RDWR | O_CREAT, 0600, &at));
	at.mq_msgsize = -1;
	R("mq_open msgsize -1", syscall(SYS_mq_open, name, O_RDWR | O_CREAT, 0600, &at));
	at.mq_maxmsg = 100000; at.mq_msgsize = 16;
	R("mq_open maxmsg huge", syscall(SYS_mq_open, name, O_RDWR | O_CREAT, 0600, &at));
	at.mq_maxmsg = 4;
	int q = syscall(SYS_mq_open, name, O_RDWR | O_CREAT | O_NONBLOCK, 0600, &at);
	R("mq_open ok", q >= 0);
	R("mq_open O_EXCL existing", syscall(SYS_mq_open, name, O_RDWR | O_CREAT | O_EXCL, 0600, &at));
	int q2 = syscall(SYS_mq_open, name, O_RDWR, 0600, (void *)8);
	R("mq_open existing bad attr ignored", q2 >= 0);
	close(q2);
	R("mq_open O_RDWR|O_WRONLY", syscall(SYS_mq_open, name, O_RDWR | O_WRONLY, 0600, NULL));
	int qr = syscall(SYS_mq_open, name, O_RDONLY | O_NONBLOCK, 0600, NULL);
	R("mq_timedsend on O_RDONLY", syscall(SYS_mq_timedsend, qr, "x", 1, 0, NULL));
	R("mq_timedsend bad fd", syscall(SYS_mq_timedsend, 999, "x", 1, 0, NULL));
	R("mq_timedsend not a queue", syscall(SYS_mq_timedsend, 0, "x", 1, 0, NULL));
	R("mq_timedsend bad priority", syscall(SYS_mq_timedsend, q, "x", 1, 32768, NULL));
	R("mq_timedsend too long", syscall(SYS_mq_timedsend, q, "0123456789abcdefg", 17, 0, NULL));
	R("mq_timedsend bad buffer", syscall(SYS_mq_timedsend, q, (void *)8, 1, 0, NULL));
	R("mq_timedsend bad timeout pointer", syscall(SYS_mq_timedsend, q, "x", 1, 0, (void *)8));
	R("mq_timedsend bad timeout", syscall(SYS_mq_timedsend, q, "x", 1, 0, &bad));
	char buf[64];
	R("mq_timedreceive short buffer", syscall(SYS_mq_timedreceive, q, buf, 8, NULL, NULL));
	R("mq_timedreceive empty", syscall(SYS_mq_timedreceive, q, buf, 16, NULL, NULL));
	R("mq_timedreceive bad fd", syscall(SYS_mq_timedreceive, 999, buf, 16, NULL, NULL));
	int qw = syscall(SYS_mq_open, name, O_WRONLY | O_NONBLOCK, 0600, NULL);
	R("mq_timedreceive on O_WRONLY", syscall(SYS_mq_timedreceive, qw, buf, 16, NULL, NULL));
	R("mq_timedsend ok", syscall(SYS_mq_timedsend, q, "x", 1, 3, NULL));
	R("mq_timedreceive bad buffer", syscall(SYS_mq_timedreceive, q, (void *)8, 16, NULL, NULL));
	R("mq_timedreceive after bad buffer", syscall(SYS_mq_timedreceive, q, buf, 16, NULL, NULL));
	R("mq_timedreceive bad prio pointer", syscall(SYS_mq_timedreceive, q, buf, 16, (void *)8, NULL));
	R("mq_getsetattr bad fd", syscall(SYS_mq_getsetattr, 999, NULL, &at));
	R("mq_getsetattr bad new pointer", syscall(SYS_mq_getsetattr, q, (void *)8, NULL));
	R("mq_getsetattr bad old pointer", syscall(SYS_mq_getsetattr, q, NULL, (void *)8));
	struct mq_attr na = {.mq_flags = 0x1234};
	R("mq_getsetattr unknown flags", syscall(SYS_mq_getsetattr, q, &na, &at));
	R("mq_getsetattr not a queue", syscall(SYS_mq_getsetattr, 0, NULL, &at));
	struct sigevent sev = {.sigev_notify = 99};
	R("mq_notify bad notify", syscall(SYS_mq_notify, q, &sev));
	sev.sigev_notify = SIGEV_SIGNAL; sev.sigev_signo = 65;
	R("mq_notify signal 65", syscall(SYS_mq_notify, q, &sev));
	R("mq_notify bad pointer", syscall(SYS_mq_notify, q, (void *)8));
	R("mq_notify remove none", syscall(SYS_mq_notify, q, NULL));
	R("mq_notify not a queue", syscall(SYS_mq_notify, 0, NULL));
	R("mq_notify bad fd", syscall(SYS_mq_notify, 999, NULL));
	sev.sigev_signo = SIGUSR1;
	R("mq_notify signal", syscall(SYS_mq_notify, q, &sev));
	R("mq_notify signal again", syscall(SYS_mq_notify, q, &sev));
	R("mq_unlink bad name pointer", syscall(SYS_mq_unlink, (void *)8));
	R("mq_unlink empty", syscall(SYS_mq_unlink, ""));
	R("mq_unlink", syscall(SYS_mq_unlink, name));
	R("mq_unlink again", syscall(SYS_mq_unlink, name));

	/* native AIO */
	aio_context_t ctx = 0;
	R("io_setup nr 0", syscall(SYS_io_setup, 0, &ctx));
	R("io_setup bad pointer", syscall(SYS_io_setup, 4, (void *)8));
	ctx = 1;
	R("io_setup ctx not zero", syscall(SYS_io_setup, 4, &ctx));
	ctx = 0;
	R("io_setup nr huge", syscall(SYS_io_setup, 1 << 30, &ctx));
	R("io_setup ok", syscall(SYS_io_setup, 4, &ctx));
	struct io_event ev[4];
	R("io_getevents bad ctx", syscall(SYS_io_getevents, 12345, 0, 1, ev, NULL));
	R("io_getevents min > nr", syscall(SYS_io_getevents, ctx, 2, 1, ev, NULL));
	R("io_getevents negative min", syscall(SYS_io_getevents, ctx, -1L, 1L, ev, NULL));
	R("io_getevents negative nr", syscall(SYS_io_getevents, ctx, 0L, -1L, ev, NULL));
	R("io_getevents min 0, bad timeout (not checked)", syscall(SYS_io_getevents, ctx, 0, 1, ev, &bad));
	R("io_getevents bad timeout pointer, bad ctx", syscall(SYS_io_getevents, 12345, 1, 1, ev, (void *)8));
	R("io_getevents bad timeout pointer", syscall(SYS_io_getevents, ctx, 1, 1, ev, (void *)8));
	R("io_getevents nothing, timeout 0", syscall(SYS_io_getevents, ctx, 1, 1, ev, &ts0));
	R("io_submit negative nr", syscall(SYS_io_submit, ctx, -1L, NULL));
	R("io_submit nr 0", syscall(SYS_io_submit, ctx, 0, NULL));
	R("io_submit bad ctx", syscall(SYS_io_submit, 12345, 1, NULL));
	R("io_submit bad array", syscall(SYS_io_submit, ctx, 1, (void *)8));
	struct iocb cb = {.aio_fildes = 999, .aio_lio_opcode = IOCB_CMD_PREAD, .aio_buf = (unsigned long)buf, .aio_nbytes = 1};
	struct iocb *cbs[1] = {&cb};
	R("io_submit bad fd", syscall(SYS_io_submit, ctx, 1, cbs));
	cb.aio_fildes = 0; cb.aio_lio_opcode = 99;
	R("io_submit bad opcode", syscall(SYS_io_submit, ctx, 1, cbs));
	cb.aio_lio_opcode = IOCB_CMD_PREAD; cb.aio_reserved2 = 1;
	R("io_submit reserved field", syscall(SYS_io_submit, ctx, 1, cbs));
	cb.aio_reserved2 = 0;
	cbs[0] = (void *)8;
	R("io_submit bad iocb pointer", syscall(SYS_io_submit, ctx, 1, cbs));
	struct io_event one;
	R("io_cancel bad ctx", syscall(SYS_io_cancel, 12345, &cb, &one));
	R("io_cancel bad iocb", syscall(SYS_io_cancel, ctx, (void *)8, &one));
	R("io_cancel bad iocb, bad ctx", syscall(SYS_io_cancel, 12345, (void *)8, &one));
	R("io_cancel not submitted", syscall(SYS_io_cancel, ctx, &cb, &one));
	R("io_destroy bad ctx", syscall(SYS_io_destroy, 12345));
	R("io_destroy", syscall(SYS_io_destroy, ctx));
	R("io_destroy again", syscall(SYS_io_destroy, ctx));

	/* SysV message queues and semaphores */
	int mq = msgget(IPC_PRIVATE, IPC_CREAT | 0600);
	struct { long type; char text[8]; } m = {0, "x"};
	R("msgsnd type 0", msgsnd(mq, &m, 1, IPC_NOWAIT));
	m.type = 1;
	R("msgsnd size -1L", syscall(SYS_msgsnd, mq, &m, -1L, IPC_NOWAIT));
	R("msgsnd bad id", msgsnd(-1, &m, 1, IPC_NOWAIT));
	R("msgsnd bad buffer", msgsnd(mq, (void *)8, 1, IPC_NOWAIT));
	R("msgrcv size -1L", syscall(SYS_msgrcv, mq, &m, -1L, 0L, IPC_NOWAIT));
	R("msgrcv size 2^32-1", syscall(SYS_msgrcv, mq, &m, 0xffffffffL, 0L, IPC_NOWAIT));
	R("msgrcv empty", msgrcv(mq, &m, 8, 0, IPC_NOWAIT));
	R("msgrcv MSG_COPY without IPC_NOWAIT", msgrcv(mq, &m, 8, 0, 040000));
	R("msgrcv MSG_COPY with MSG_EXCEPT", msgrcv(mq, &m, 8, 0, 040000 | IPC_NOWAIT | 020000));
	R("msgctl bad cmd", msgctl(mq, 99, NULL));
	R("msgctl IPC_STAT bad buffer", msgctl(mq, IPC_STAT, (void *)8));
	R("msgctl IPC_RMID", msgctl(mq, IPC_RMID, NULL));
	R("msgsnd removed", msgsnd(mq, &m, 1, IPC_NOWAIT));
	R("msgget IPC_PRIVATE", msgget(IPC_PRIVATE, 0600) >= 0);
	int sem = semget(IPC_PRIVATE, 2, IPC_CREAT | 0600);
	R("semget nsems negative", semget(IPC_PRIVATE, -1, IPC_CREAT | 0600));
	R("semget nsems huge", semget(IPC_PRIVATE, 1 << 20, IPC_CREAT | 0600));
	struct sembuf op = {5, 1, 0};
	R("semop index out of range", semop(sem, &op, 1));
	op.sem_num = 0; op.sem_op = -1; op.sem_flg = IPC_NOWAIT;
	R("semop would block", semop(sem, &op, 1));
	R("semop nsops 0", semop(sem, &op, 0));
	R("semop nsops huge", semop(sem, &op, 1000));
	R("semop bad array", semop(sem, (void *)8, 1));
	R("semtimedop bad timeout", semtimedop(sem, &op, 1, &bad));
	op.sem_flg = 0;
	R("semtimedop timeout 0", semtimedop(sem, &op, 1, &ts0));
	R("semctl bad cmd", semctl(sem, 0, 99));
	R("semctl GETVAL bad index", semctl(sem, 7, GETVAL));
	R("semctl SETVAL negative", semctl(sem, 0, SETVAL, -1));
	R("semctl SETVAL too big", semctl(sem, 0, SETVAL, 40000));
	R("semctl GETALL bad buffer", semctl(sem, 0, GETALL, (void *)8));
	R("semctl IPC_RMID", semctl(sem, 0, IPC_RMID));
	R("semop removed", semop(sem, &op, 1));

	/* ptrace */
	R("ptrace bad request", ptrace(99999, getppid(), 0, 0));
	R("ptrace PEEKDATA not traced", ptrace(PTRACE_PEEKDATA, getppid(), 0, 0));
	R("ptrace no such pid", ptrace(PTRACE_ATTACH, 999999, 0, 0));
	R("ptrace attach self", ptrace(PTRACE_ATTACH, getpid(), 0, 0));
	R("ptrace SEIZE bad flags", ptrace(PTRACE_SEIZE, getppid(), 0, 1 << 30));
	pid_t c = fork();
	if (c == 0) { ptrace(PTRACE_TRACEME, 0, 0, 0); raise(SIGSTOP); _exit(0); }
	waitpid(c, NULL, 0);
	R("ptrace child stopped", c > 0 ? 0 : -1);
	R("ptrace PEEKDATA bad address", ptrace(PTRACE_PEEKDATA, c, (void *)8, 0) == -1 && errno ? -1 : 0);
	R("ptrace POKEDATA bad address", ptrace(PTRACE_POKEDATA, c, (void *)8, 0));
	R("ptrace GETREGS bad buffer", ptrace(PTRACE_GETREGS, c, 0, (void *)8));
	R("ptrace SETOPTIONS bad option", ptrace(PTRACE_SETOPTIONS, c, 0, 1 << 30));
	R("ptrace CONT bad signal", ptrace(PTRACE_CONT, c, 0, 99));
	R("ptrace attach already traced", ptrace(PTRACE_ATTACH, c, 0, 0));
	R("ptrace CONT", ptrace(PTRACE_CONT, c, 0, 0));
	waitpid(c, NULL, 0);

	/* seccomp and userfaultfd */
	R("seccomp bad op", syscall(SYS_seccomp, 99, 0, NULL));
	R("seccomp STRICT with flags", syscall(SYS_seccomp, SECCOMP_SET_MODE_STRICT, 1, NULL));
	struct sock_filter allow = BPF_STMT(BPF_RET | BPF_K, SECCOMP_RET_ALLOW);
	struct sock_fprog fp = {1, &allow};
	R("seccomp FILTER bad flags", syscall(SYS_seccomp, SECCOMP_SET_MODE_FILTER, 1 << 30, &fp));
	R("seccomp FILTER without no_new_privs", syscall(SYS_seccomp, SECCOMP_SET_MODE_FILTER, 0, &fp));
	struct sock_fprog empty = {0, &allow};
	R("seccomp FILTER empty program", syscall(SYS_seccomp, SECCOMP_SET_MODE_FILTER, 0, &empty));
	R("seccomp FILTER bad pointer", syscall(SYS_seccomp, SECCOMP_SET_MODE_FILTER, 0, (void *)8));
	R("seccomp GET_ACTION_AVAIL bad pointer", syscall(SYS_seccomp, SECCOMP_GET_ACTION_AVAIL, 0, (void *)8));
	unsigned act = 0x12340000;
	R("seccomp GET_ACTION_AVAIL unknown", syscall(SYS_seccomp, SECCOMP_GET_ACTION_AVAIL, 0, &act));
	R("userfaultfd bad flags", syscall(SYS_userfaultfd, 1 << 20));
	int uf = syscall(SYS_userfaultfd, O_CLOEXEC | O_NONBLOCK | UFFD_USER_MODE_ONLY);
	if (uf >= 0) {
		struct uffdio_api api = {.api = 1234};
		R("UFFDIO_API bad api", ioctl(uf, UFFDIO_API, &api));
		api.api = UFFD_API;
		R("UFFDIO_API ok", ioctl(uf, UFFDIO_API, &api));
		api.features = 0; /* the first call wrote back every feature the kernel has */
		R("UFFDIO_API twice", ioctl(uf, UFFDIO_API, &api));
		struct uffdio_register reg = {.range = {0x70000000, 4096}, .mode = UFFDIO_REGISTER_MODE_MISSING};
		R("UFFDIO_REGISTER unmapped", ioctl(uf, UFFDIO_REGISTER, &reg));
		reg.range.start = 0x70000001;
		R("UFFDIO_REGISTER unaligned", ioctl(uf, UFFDIO_REGISTER, &reg));
		R("read nothing pending", read(uf, buf, sizeof buf));
		close(uf);
	} else {
		printf("userfaultfd unavailable\n");
	}
	return 0;
}
`

func TestErrorsIpc(t *testing.T) {
	t.Parallel()
	prog := compileC(t, "errors-ipc", errorsIpcC)
	diff(t, []string{prog})
	diffAsUser(t, prog)
}

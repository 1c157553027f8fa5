package tests

import "testing"

// conformSysvC: System V message queues and semaphores, natively in a
// fresh IPC namespace (the sandbox has its own): msgget/msgsnd/msgrcv/
// msgctl with the search modes, MSG_COPY, MSG_NOERROR, MSG_EXCEPT, a
// blocked receiver handed a message, a blocked sender, EINTR, EIDRM and
// the info commands; semget/semop/semtimedop/semctl with GETALL/SETALL,
// GETNCNT/GETZCNT, SEM_UNDO undone at exit, EINTR and EIDRM; the
// /proc/sysvipc files and /proc/sys/kernel limits. Pids and times vary
// between the runs and are masked. Linux: ipc/msg.c, ipc/sem.c
const conformSysvC = `#define _GNU_SOURCE
#include <errno.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>
#include <sys/ipc.h>
#include <sys/msg.h>
#include <sys/sem.h>
#include <sys/wait.h>
#include <sys/time.h>

#define R(what, expr) do { errno = 0; long _r = (long)(expr); \
	printf("%-40s = %ld %s\n", what, _r, _r < 0 ? strerror(errno) : ""); fflush(stdout); } while (0)

#ifndef MSG_COPY
#define MSG_COPY 040000
#endif
#ifndef MSG_STAT_ANY
#define MSG_STAT_ANY 13
#endif
#ifndef SEM_STAT_ANY
#define SEM_STAT_ANY 20
#endif

union semun { int val; struct semid_ds *buf; unsigned short *array; struct seminfo *__buf; };
struct mb { long type; char text[64]; };

static void cat(const char *path) {
	char line[512];
	FILE *f = fopen(path, "r");
	if (!f) { printf("%s: %s\n", path, strerror(errno)); return; }
	printf("%s:\n", path);
	while (fgets(line, sizeof line, f)) {
		/* the times at the end of each line change from run to run */
		char *p = line + strlen(line);
		int fields = 0;
		if (strstr(path, "sysvipc/")) fields = strstr(path, "sem") ? 2 : 3;
		if (fields && line[0] == ' ' && strstr(line, "key") == NULL) {
			for (int i = 0; i < fields; i++) {
				while (p > line && (p[-1] == '\n' || p[-1] == ' ')) p--;
				while (p > line && p[-1] != ' ') p--;
			}
			*p = 0;
			strcat(line, "<times>\n");
		}
		/* pids differ natively and in the sandbox: in the lspid and
		   lrpid columns (the 6th and 7th), the caller's is "self" */
		if (strstr(path, "sysvipc/msg") && strstr(line, "key") == NULL) {
			char *tok = line;
			for (int i = 1; i <= 7; i++) {
				while (*tok == ' ') tok++;
				char *end = tok;
				while (*end && *end != ' ') end++;
				if (i >= 6 && atoi(tok) == getpid() && end - tok <= 5)
					memcpy(end - 5, " self", 5); /* a %5u field */
				tok = end;
			}
		}
		fputs(line, stdout);
	}
	fclose(f);
}

/* blocked waits until pid sleeps in the kernel (its msgrcv or msgsnd) */
static void blocked(pid_t pid) {
	char path[64], buf[256];
	snprintf(path, sizeof path, "/proc/%d/stat", pid);
	for (int i = 0; i < 1000; i++) {
		FILE *f = fopen(path, "r");
		if (!f) break;
		int n = fread(buf, 1, sizeof buf - 1, f);
		fclose(f);
		buf[n > 0 ? n : 0] = 0;
		char *rp = strrchr(buf, ')');
		if (rp && rp[2] == 'S') return;
		usleep(10000);
	}
	printf("pid never blocked\n");
}

/* waiting polls semctl(s, num, cmd) until it gives want */
static void waiting(int s, int num, int cmd, int want) {
	for (int i = 0; i < 1000 && semctl(s, num, cmd) != want; i++)
		usleep(10000);
}

static void onalrm(int s) { (void)s; }
static void alarm_in(int ms, int restart) {
	struct sigaction sa = {.sa_handler = onalrm, .sa_flags = restart ? SA_RESTART : 0};
	sigaction(SIGALRM, &sa, NULL);
	struct itimerval it = {{0, 0}, {0, ms * 1000}};
	setitimer(ITIMER_REAL, &it, NULL);
}

static void msgs(int root) {
	struct mb m;
	struct msqid_ds ds;
	cat("/proc/sys/kernel/msgmax");
	cat("/proc/sys/kernel/msgmnb");
	cat("/proc/sys/kernel/msgmni");
	R("msgget missing", msgget(1234, 0600));
	int q = msgget(1234, IPC_CREAT | 0640);
	printf("first id %d\n", q);
	R("msgget CREAT|EXCL existing", msgget(1234, IPC_CREAT | IPC_EXCL | 0600));
	R("msgget existing", msgget(1234, 0));
	int p = msgget(IPC_PRIVATE, 0600);
	printf("private id %d\n", p);
	m.type = 0;
	R("msgsnd type 0", msgsnd(q, &m, 4, 0));
	m.type = 1;
	R("msgsnd too big", msgsnd(q, &m, 8193, 0));
	R("msgsnd bad id", msgsnd(99999, &m, 4, 0));
	R("msgsnd negative id", msgsnd(-1, &m, 4, 0));
	R("msgsnd bad pointer", msgsnd(q, (void *)8, 4, 0));
	const char *texts[] = {"one", "two", "three", "four"};
	long types[] = {3, 1, 2, 1};
	for (int i = 0; i < 4; i++) {
		m.type = types[i];
		strcpy(m.text, texts[i]);
		R("msgsnd", msgsnd(q, &m, strlen(texts[i]) + 1, IPC_NOWAIT));
	}
	R("IPC_STAT", msgctl(q, IPC_STAT, &ds));
	printf("  qnum %lu cbytes %lu qbytes %lu mode %o lspid self %d lrpid %d stime set %d rtime %ld ctime set %d key %d\n",
		ds.msg_qnum, ds.__msg_cbytes, ds.msg_qbytes, ds.msg_perm.mode, ds.msg_lspid == getpid(), ds.msg_lrpid,
		ds.msg_stime > 0, (long)ds.msg_rtime, ds.msg_ctime > 0, ds.msg_perm.__key);
	cat("/proc/sysvipc/msg");
	memset(&m, 0, sizeof m);
	R("msgrcv COPY 2", msgrcv(q, &m, 64, 2, MSG_COPY | IPC_NOWAIT)); printf("  %ld %s\n", m.type, m.text);
	R("msgrcv COPY 9", msgrcv(q, &m, 64, 9, MSG_COPY | IPC_NOWAIT));
	R("msgrcv COPY without NOWAIT", msgrcv(q, &m, 64, 0, MSG_COPY));
	R("msgrcv COPY|EXCEPT", msgrcv(q, &m, 64, 0, MSG_COPY | MSG_EXCEPT | IPC_NOWAIT));
	R("msgrcv E2BIG", msgrcv(q, &m, 2, 0, 0));
	R("msgrcv type -2 (lowest <= 2)", msgrcv(q, &m, 64, -2, 0)); printf("  %ld %s\n", m.type, m.text);
	R("msgrcv EXCEPT 1", msgrcv(q, &m, 64, 1, MSG_EXCEPT)); printf("  %ld %s\n", m.type, m.text);
	R("msgrcv NOERROR 2 bytes", msgrcv(q, &m, 2, 0, MSG_NOERROR)); printf("  %ld %.2s\n", m.type, m.text);
	R("msgrcv type 1", msgrcv(q, &m, 64, 1, 0)); printf("  %ld %s\n", m.type, m.text);
	R("msgrcv empty NOWAIT", msgrcv(q, &m, 64, 0, IPC_NOWAIT));
	R("msgrcv bad size", msgrcv(q, &m, -1, 0, IPC_NOWAIT));
	R("msgrcv bad id", msgrcv(12345, &m, 64, 0, IPC_NOWAIT));
	msgctl(q, IPC_STAT, &ds);
	printf("  qnum %lu cbytes %lu lrpid self %d\n", ds.msg_qnum, ds.__msg_cbytes, ds.msg_lrpid == getpid());
	/* a blocked receiver gets the next matching message */
	pid_t c = fork();
	if (c == 0) {
		struct mb r;
		long n = msgrcv(q, &r, 64, 7, 0);
		printf("child received %ld: %ld %s\n", n, r.type, r.text);
		_exit(0);
	}
	blocked(c);
	m.type = 5; strcpy(m.text, "not for the child");
	msgsnd(q, &m, 18, 0);
	m.type = 7; strcpy(m.text, "for the child");
	msgsnd(q, &m, 14, 0);
	waitpid(c, NULL, 0);
	msgctl(q, IPC_STAT, &ds);
	printf("  qnum %lu after the hand-over\n", ds.msg_qnum);
	msgrcv(q, &m, 64, 0, 0);
	/* a full queue: NOWAIT is EAGAIN, a blocked sender goes on when space frees */
	ds.msg_qbytes = 10;
	R("IPC_SET qbytes 10", msgctl(q, IPC_SET, &ds));
	m.type = 1;
	R("msgsnd 8", msgsnd(q, &m, 8, 0));
	R("msgsnd 4 NOWAIT", msgsnd(q, &m, 4, IPC_NOWAIT));
	c = fork();
	if (c == 0) { long n = msgsnd(q, &m, 4, 0); printf("blocked sender done %ld\n", n); fflush(stdout); _exit(0); }
	blocked(c);
	long freed = msgrcv(q, &m, 64, 0, 0);
	waitpid(c, NULL, 0); /* the child prints first */
	R("msgrcv frees space", freed);
	R("msgrcv the sender's", msgrcv(q, &m, 64, 0, 0));
	ds.msg_qbytes = 20000;
	R("IPC_SET qbytes over msgmnb", msgctl(q, IPC_SET, &ds));
	ds.msg_qbytes = 16384;
	ds.msg_perm.mode = 0600;
	R("IPC_SET mode 600", msgctl(q, IPC_SET, &ds));
	/* signals end a blocked msgrcv with EINTR, with or without SA_RESTART */
	alarm_in(100, 0);
	R("msgrcv interrupted", msgrcv(q, &m, 64, 0, 0));
	alarm_in(100, 1);
	R("msgrcv interrupted SA_RESTART", msgrcv(q, &m, 64, 0, 0));
	/* IPC_RMID wakes a blocked receiver with EIDRM */
	c = fork();
	if (c == 0) { errno = 0; long n = msgrcv(p, &m, 64, 0, 0); printf("removed under receiver: %ld %s\n", n, strerror(errno)); fflush(stdout); _exit(0); }
	blocked(c);
	long rm = msgctl(p, IPC_RMID, NULL);
	waitpid(c, NULL, 0);
	R("IPC_RMID private", rm);
	R("msgsnd removed", msgsnd(p, &m, 4, 0));
	struct msginfo mi;
	R("IPC_INFO", msgctl(0, IPC_INFO, (struct msqid_ds *)&mi));
	printf("  pool %d map %d max %d mnb %d mni %d ssz %d tql %d seg %d\n", mi.msgpool, mi.msgmap, mi.msgmax, mi.msgmnb, mi.msgmni, mi.msgssz, mi.msgtql, mi.msgseg);
	m.type = 4; msgsnd(q, &m, 6, 0);
	R("MSG_INFO", msgctl(0, MSG_INFO, (struct msqid_ds *)&mi));
	printf("  queues %d msgs %d bytes %d\n", mi.msgpool, mi.msgmap, mi.msgtql);
	R("MSG_STAT index 0", msgctl(0, MSG_STAT, &ds));
	R("MSG_STAT index 1", msgctl(1, MSG_STAT, &ds));
	R("MSG_STAT_ANY index 0", msgctl(0, MSG_STAT_ANY, &ds));
	R("msgctl bad cmd", msgctl(q, 77, &ds));
	R("msgctl IPC_STAT bad buf", msgctl(q, IPC_STAT, (void *)8));
	if (root) {
		c = fork();
		if (c == 0) {
			setgid(1000); setuid(1000);
			R("uid 1000: msgsnd to 0600 queue", msgsnd(q, &m, 4, IPC_NOWAIT));
			R("uid 1000: IPC_STAT", msgctl(q, IPC_STAT, &ds));
			R("uid 1000: MSG_STAT_ANY", msgctl(0, MSG_STAT_ANY, &ds) >= 0);
			R("uid 1000: IPC_RMID", msgctl(q, IPC_RMID, NULL));
			R("uid 1000: msgget 0600", msgget(1234, 0600));
			_exit(0);
		}
		waitpid(c, NULL, 0);
	}
	R("IPC_RMID", msgctl(q, IPC_RMID, NULL));
	R("IPC_RMID again", msgctl(q, IPC_RMID, NULL));
	int q2 = msgget(1234, IPC_CREAT | 0600);
	printf("next id %d\n", q2);
	msgctl(q2, IPC_RMID, NULL);
}

static int sem_get(int id, int n) { return semctl(id, n, GETVAL); }

static void sems(int root) {
	long rm;
	union semun u;
	struct semid_ds ds;
	struct sembuf op[2];
	cat("/proc/sys/kernel/sem");
	R("semget nsems -1", semget(IPC_PRIVATE, -1, 0600));
	R("semget nsems 32001", semget(IPC_PRIVATE, 32001, 0600));
	R("semget nsems 0 new", semget(IPC_PRIVATE, 0, 0600));
	R("semget missing", semget(77, 1, 0600));
	int s = semget(77, 3, IPC_CREAT | 0640);
	printf("first id %d\n", s);
	R("semget existing bigger", semget(77, 4, 0));
	R("semget existing 0", semget(77, 0, 0));
	R("semget CREAT|EXCL", semget(77, 3, IPC_CREAT | IPC_EXCL));
	R("GETVAL fresh", semctl(s, 0, GETVAL));
	u.val = 40000;
	R("SETVAL 40000", semctl(s, 0, SETVAL, u));
	u.val = -1;
	R("SETVAL -1", semctl(s, 0, SETVAL, u));
	u.val = 2;
	R("SETVAL semnum 3", semctl(s, 3, SETVAL, u));
	R("SETVAL 2", semctl(s, 0, SETVAL, u));
	R("GETPID self", semctl(s, 0, GETPID) == getpid());
	unsigned short all[3] = {5, 0, 7}, got[3];
	R("SETALL", semctl(s, 0, SETALL, (union semun){.array = all}));
	R("GETALL", semctl(s, 0, GETALL, (union semun){.array = got}));
	printf("  %d %d %d\n", got[0], got[1], got[2]);
	unsigned short bad[3] = {1, 40000, 1};
	R("SETALL out of range", semctl(s, 0, SETALL, (union semun){.array = bad}));
	R("GETALL bad pointer", semctl(s, 0, GETALL, (union semun){.array = (void *)8}));
	R("GETVAL semnum -1", semctl(s, -1, GETVAL));
	R("semctl bad cmd", semctl(s, 0, 99));
	R("semctl bad id", semctl(4242, 0, GETVAL));
	op[0] = (struct sembuf){0, -3, 0};
	R("semop -3", semop(s, op, 1));
	R("  value", sem_get(s, 0));
	op[0] = (struct sembuf){0, -3, IPC_NOWAIT};
	R("semop -3 NOWAIT", semop(s, op, 1));
	op[0] = (struct sembuf){2, 0, IPC_NOWAIT};
	R("semop wait-zero NOWAIT", semop(s, op, 1));
	op[0] = (struct sembuf){5, 1, 0};
	R("semop semnum 5", semop(s, op, 1));
	R("semop nsops 0", semop(s, op, 0));
	R("semop nsops 501", semop(s, op, 501));
	R("semop bad pointer", semop(s, (void *)8, 1));
	op[0] = (struct sembuf){1, 32767, 0};
	op[1] = (struct sembuf){1, 1, 0};
	R("semop past SEMVMX", semop(s, op, 2));
	R("  value 1 unchanged", sem_get(s, 1));
	op[0] = (struct sembuf){1, 2, 0};
	op[1] = (struct sembuf){0, -2, 0};
	R("semop two ops", semop(s, op, 2));
	printf("  values %d %d\n", sem_get(s, 0), sem_get(s, 1));
	struct timespec ts = {0, 100000000};
	op[0] = (struct sembuf){0, -1, 0};
	R("semtimedop times out", semtimedop(s, op, 1, &ts));
	ts.tv_nsec = 2000000000;
	R("semtimedop bad timeout", semtimedop(s, op, 1, &ts));
	/* waiters: GETNCNT, GETZCNT, and who performs the operation */
	pid_t c = fork();
	if (c == 0) { struct sembuf o = {0, -2, 0}; long r = semop(s, &o, 1); printf("child -2 done %ld\n", r); fflush(stdout); _exit(0); }
	pid_t z = fork();
	if (z == 0) { struct sembuf o = {1, 0, 0}; long r = semop(s, &o, 1); printf("child wait-zero done %ld\n", r); fflush(stdout); _exit(0); }
	waiting(s, 0, GETNCNT, 1);
	waiting(s, 1, GETZCNT, 1);
	R("GETNCNT 0", semctl(s, 0, GETNCNT));
	R("GETZCNT 1", semctl(s, 1, GETZCNT));
	u.val = 1;
	semctl(s, 0, SETVAL, u);
	R("GETNCNT 0 still", semctl(s, 0, GETNCNT));
	op[0] = (struct sembuf){0, 1, 0};
	semop(s, op, 1);
	waitpid(c, NULL, 0);
	R("GETPID is the child", semctl(s, 0, GETPID) == c);
	u.val = 0;
	semctl(s, 1, SETVAL, u);
	waitpid(z, NULL, 0);
	/* SEM_UNDO: undone at exit, clamped at 0; SETVAL clears the adjustment */
	u.val = 3; semctl(s, 0, SETVAL, u);
	c = fork();
	if (c == 0) { struct sembuf o = {0, 2, SEM_UNDO}; semop(s, &o, 1); _exit(0); }
	waitpid(c, NULL, 0);
	R("after child +2 UNDO exit", sem_get(s, 0));
	int go[2];
	pipe(go);
	c = fork();
	if (c == 0) { struct sembuf o = {0, 4, SEM_UNDO}; char x; semop(s, &o, 1); read(go[0], &x, 1); _exit(0); }
	waiting(s, 0, GETVAL, 7);
	op[0] = (struct sembuf){0, -6, 0};
	semop(s, op, 1);
	write(go[1], "x", 1);
	waitpid(c, NULL, 0);
	R("undo clamped at 0", sem_get(s, 0));
	c = fork();
	if (c == 0) { struct sembuf o = {0, 5, SEM_UNDO}; char x; semop(s, &o, 1); read(go[0], &x, 1); _exit(0); }
	waiting(s, 0, GETVAL, 5);
	u.val = 9; semctl(s, 0, SETVAL, u);
	write(go[1], "x", 1);
	waitpid(c, NULL, 0);
	R("SETVAL cleared the undo", sem_get(s, 0));
	op[0] = (struct sembuf){0, -32767, SEM_UNDO};
	op[1] = (struct sembuf){0, 0, 0};
	u.val = 32767; semctl(s, 2, SETVAL, u);
	op[0] = (struct sembuf){2, -32767, SEM_UNDO};
	R("undo 32767", semop(s, op, 1));
	op[0] = (struct sembuf){2, 1, SEM_UNDO};
	R("undo to 32766", semop(s, op, 1));
	u.val = 0; semctl(s, 2, SETVAL, u);
	/* signals: EINTR even with SA_RESTART */
	op[0] = (struct sembuf){2, -1, 0};
	alarm_in(100, 0);
	R("semop interrupted", semop(s, op, 1));
	alarm_in(100, 1);
	R("semop interrupted SA_RESTART", semop(s, op, 1));
	R("IPC_STAT", semctl(s, 0, IPC_STAT, (union semun){.buf = &ds}));
	printf("  nsems %lu mode %o otime set %d ctime set %d key %d\n", ds.sem_nsems, ds.sem_perm.mode, ds.sem_otime > 0, ds.sem_ctime > 0, ds.sem_perm.__key);
	ds.sem_perm.mode = 0600;
	R("IPC_SET", semctl(s, 0, IPC_SET, (union semun){.buf = &ds}));
	R("SEM_STAT index 0", semctl(0, 0, SEM_STAT, (union semun){.buf = &ds}));
	R("SEM_STAT_ANY index 0", semctl(0, 0, SEM_STAT_ANY, (union semun){.buf = &ds}));
	R("SEM_STAT index 3", semctl(3, 0, SEM_STAT, (union semun){.buf = &ds}));
	struct seminfo si;
	R("IPC_INFO", semctl(0, 0, IPC_INFO, (union semun){.__buf = &si}));
	printf("  map %d mni %d mns %d mnu %d msl %d opm %d ume %d usz %d vmx %d aem %d\n", si.semmap, si.semmni, si.semmns, si.semmnu, si.semmsl, si.semopm, si.semume, si.semusz, si.semvmx, si.semaem);
	R("SEM_INFO", semctl(0, 0, SEM_INFO, (union semun){.__buf = &si}));
	printf("  sets %d sems %d\n", si.semusz, si.semaem);
	cat("/proc/sysvipc/sem");
	if (root) {
		c = fork();
		if (c == 0) {
			setgid(1000); setuid(1000);
			struct sembuf o = {0, 1, IPC_NOWAIT};
			R("uid 1000: semop on 0600 set", semop(s, &o, 1));
			R("uid 1000: GETVAL", semctl(s, 0, GETVAL));
			R("uid 1000: SETVAL", semctl(s, 0, SETVAL, (union semun){.val = 1}));
			R("uid 1000: IPC_RMID", semctl(s, 0, IPC_RMID));
			_exit(0);
		}
		waitpid(c, NULL, 0);
	}
	/* IPC_RMID wakes a waiter with EIDRM */
	c = fork();
	if (c == 0) { struct sembuf o = {2, -1, 0}; errno = 0; long r = semop(s, &o, 1); printf("removed under waiter: %ld %s\n", r, strerror(errno)); fflush(stdout); _exit(0); }
	waiting(s, 2, GETNCNT, 1);
	rm = semctl(s, 0, IPC_RMID);
	waitpid(c, NULL, 0);
	R("IPC_RMID", rm);
	R("GETVAL removed", semctl(s, 0, GETVAL));
	int s2 = semget(77, 1, IPC_CREAT | 0600);
	printf("next id %d\n", s2);
	semctl(s2, 0, IPC_RMID);
}

int main(void) {
	int root = geteuid() == 0;
	msgs(root);
	sems(root);
	cat("/proc/sysvipc/msg");
	cat("/proc/sysvipc/sem");
	return 0;
}
`

// diffFreshIPC runs prog natively in a new IPC namespace (as uid 1000
// with user) and under glassbox, and compares.
func diffFreshIPC(t *testing.T, prog string, user bool) {
	t.Helper()
	argv := []string{"unshare", "-i", prog}
	var flags []string
	if user {
		prog = userCopy(t, prog)
		argv = append(append([]string{"unshare", "-i"}, asUser...), prog)
		flags = userFlags
	}
	native := runNative(t, argv)
	gb := runGlassbox(t, flags, []string{prog})
	if native.Stdout != gb.Stdout || native.Code != gb.Code {
		t.Errorf("%q (user %v): glassbox differs from native\n===== native: %s\n===== glassbox: %s", prog, user, native, gb)
	}
}

func TestConformSysV(t *testing.T) {
	t.Parallel()
	prog := compileC(t, "conformsysv", conformSysvC)
	diffFreshIPC(t, prog, false)
	diffFreshIPC(t, prog, true)
}

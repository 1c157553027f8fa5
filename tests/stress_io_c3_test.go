package tests

// ioStressRecords is the record part of the stress program: several
// threads and a forked child write numbered records into one pipe (each
// at most PIPE_BUF bytes, so each must arrive whole) or one datagram or
// seqpacket socket (each a message), while one reader checks every
// record and each writer's order.
const ioStressRecords = `
#define NWRITERS 4 /* threads; one more writer is a forked child */
struct rec { uint16_t len, writer; uint32_t seq; }; /* then len-8 bytes of pattern */

struct recrun {
	int kind, nonblock, how, fds[2];
	long per; /* records per writer */
	atomic_long eintr;
	char err[160];
};
struct recwriter { struct recrun *run; int id; };

static void rec_seterr(struct recrun *run, const char *what, int e) {
	if (!run->err[0]) snprintf(run->err, sizeof run->err, "%s: %s", what, strerror(e));
}

static void recwrite(struct recrun *run, int id) {
	int fd = run->fds[1];
	uint64_t st = SEED * 977u + id * 31u + 1;
	unsigned char buf[4096];
	struct iovec iov[8];
	struct waiter w;
	waiter_init(&w, fd, POLLOUT, run->how);
	for (long seq = 0; seq <= run->per; seq++) {
		size_t len = seq == run->per ? 8 : 8 + rnd(&st) % (run->kind == K_PIPE ? 4089 : 3000);
		struct rec h = { (uint16_t)len, (uint16_t)id, (uint32_t)seq };
		memcpy(buf, &h, 8);
		fillpat(buf + 8, 0, len - 8, id * 65536u + (uint32_t)seq);
		for (;;) {
			ssize_t r;
			switch (seq % 4) {
			case 0: r = write(fd, buf, len); break;
			case 1: r = writev(fd, iov, splitiov(iov, 8, buf, len, &st)); break;
			case 2:
				if (run->kind == K_PIPE) { r = write(fd, buf, len); break; }
				r = send(fd, buf, len, 0); break;
			default: {
				if (run->kind == K_PIPE) { r = writev(fd, iov, splitiov(iov, 8, buf, len, &st)); break; }
				struct msghdr m = { .msg_iov = iov, .msg_iovlen = splitiov(iov, 8, buf, len, &st) };
				r = sendmsg(fd, &m, 0);
			}
			}
			if (r == (ssize_t)len) break;
			if (r >= 0) { rec_seterr(run, "torn write of an atomic record", 0); goto out; }
			if (errno == EINTR) { atomic_fetch_add(&run->eintr, 1); continue; }
			if (errno == EAGAIN) { waitready(&w, "record writer"); continue; }
			rec_seterr(run, "record write", errno);
			goto out;
		}
	}
out:
	waiter_close(&w);
}
static void *recwriter_thread(void *a) {
	struct recwriter *rw = a;
	worker_begin();
	recwrite(rw->run, rw->id);
	worker_end();
	return 0;
}

/* reads records until every writer's last one arrived */
static void recread(struct recrun *run, long *count) {
	int fd = run->fds[0];
	uint64_t st = SEED * 131u + 5;
	static unsigned char sbuf[1 << 17];
	size_t have = 0;
	long next[NWRITERS + 1] = {0};
	int done = 0;
	struct iovec iov[8];
	struct waiter w;
	waiter_init(&w, fd, POLLIN, run->how);
	while (done < NWRITERS + 1) {
		size_t n = run->kind == K_PIPE ? 1 + rnd(&st) % 9000 : 4096;
		ssize_t r;
		switch (rnd(&st) % 3) {
		case 0: r = read(fd, sbuf + have, n); break;
		case 1: r = readv(fd, iov, splitiov(iov, 8, sbuf + have, n, &st)); break;
		default:
			if (run->kind == K_PIPE) { r = read(fd, sbuf + have, n); break; }
			struct msghdr m = { .msg_iov = iov, .msg_iovlen = splitiov(iov, 8, sbuf + have, n, &st) };
			r = recvmsg(fd, &m, 0);
			if (r >= 0 && (m.msg_flags & MSG_TRUNC)) { rec_seterr(run, "MSG_TRUNC", 0); goto out; }
		}
		if (r < 0) {
			if (errno == EINTR) { atomic_fetch_add(&run->eintr, 1); continue; }
			if (errno == EAGAIN) { waitready(&w, "record reader"); continue; }
			rec_seterr(run, "record read", errno);
			goto out;
		}
		if (r == 0) { rec_seterr(run, "early EOF", 0); goto out; }
		have += r;
		/* a datagram is one record; a pipe's bytes are cut into records */
		while (have >= 8) {
			struct rec h;
			memcpy(&h, sbuf, 8);
			if (h.len < 8 || h.writer > NWRITERS || (run->kind != K_PIPE && h.len != have)) {
				rec_seterr(run, "bad record header", 0); goto out;
			}
			if (have < h.len) break;
			if ((long)h.seq != next[h.writer]) { rec_seterr(run, "record out of order or lost", 0); goto out; }
			if (checkpat(sbuf + 8, 0, h.len - 8, h.writer * 65536u + h.seq) >= 0) {
				rec_seterr(run, "record corrupt", 0); goto out;
			}
			if (h.seq == run->per) done++;
			else count[h.writer]++;
			next[h.writer]++;
			memmove(sbuf, sbuf + h.len, have - h.len);
			have -= h.len;
		}
	}
out:
	waiter_close(&w);
}

static int records_main(int kind, int nonblock, long per) {
	struct recrun run = { .kind = kind, .nonblock = nonblock, .how = (SEED + kind) % 3, .per = per };
	mkchan(kind, run.fds, SEED & 1);
	if (nonblock) { setnonblock(run.fds[0]); setnonblock(run.fds[1]); }
	pest_start();
	pid_t pid = fork();
	if (pid < 0) die("fork");
	if (pid == 0) {
		close(run.fds[0]);
		recwrite(&run, NWRITERS);
		_exit(run.err[0] ? 1 : SIGMODE != 2 && run.eintr ? 2 : 0);
	}
	pest_add_pid(pid);
	pthread_t t[NWRITERS];
	struct recwriter rw[NWRITERS];
	for (int i = 0; i < NWRITERS; i++) {
		rw[i] = (struct recwriter){ &run, i };
		if (pthread_create(&t[i], 0, recwriter_thread, &rw[i])) die("pthread_create");
	}
	long count[NWRITERS + 1] = {0};
	worker_begin();
	recread(&run, count);
	worker_end();
	for (int i = 0; i < NWRITERS; i++) pthread_join(t[i], 0);
	int status;
	while (waitpid(pid, &status, 0) < 0 && errno == EINTR) {}
	pest_del_pid(pid);
	pest_stop();
	if (!WIFEXITED(status) || WEXITSTATUS(status) == 1) rec_seterr(&run, "forked writer failed", 0);
	if (WIFEXITED(status) && WEXITSTATUS(status) == 2) run.eintr++;
	printf("records %s%s:", kname[kind], nonblock ? " nonblock" : "");
	for (int i = 0; i <= NWRITERS; i++) printf(" %ld", count[i]);
	if (run.err[0]) printf(" ERROR %s", run.err);
	if (SIGMODE != 2 && run.eintr) printf(" EINTR %ld times despite SA_RESTART", (long)run.eintr);
	printf("\n");
	return 0;
}
`

package tests

// ioStressStream is the byte-stream part of the stress program: every
// way to send (write, writev, send, sendmsg, sendfile, splice, tee) against
// every way to receive (read, readv, recv, recvmsg, splice to a pipe,
// splice to a file) on pipes, AF_UNIX streams and loopback TCP, blocking
// and not, senders in threads or forked children, many streams at once.
const ioStressStream = `
enum { S_WRITE, S_WRITEV, S_SEND, S_SENDMSG, S_SENDFILE, S_SPLICE, S_TEE, NSEND };
enum { R_READ, R_READV, R_RECV, R_RECVMSG, R_SPLICE, R_SPLICEFILE, NRECV };
static const char *sname[] = { "write", "writev", "send", "sendmsg", "sendfile", "splice", "tee" };
static const char *rname[] = { "read", "readv", "recv", "recvmsg", "splice", "splicefile" };

struct combo {
	int kind, snd, rcv, nonblock, forked, small, how;
	int fds[2];
	uint32_t seed;
	pid_t pid;
	pthread_t st, rt;
	/* results */
	long got, bad, eintr;
	uint64_t sum;
	char err[160];
};

static void seterr(struct combo *c, const char *what, int e) {
	if (!c->err[0]) snprintf(c->err, sizeof c->err, "%s: %s", what, strerror(e));
}

/* one data call failed: EINTR is counted and retried, EAGAIN waited out */
static int retry(struct combo *c, struct waiter *w, const char *who) {
	if (errno == EINTR) { c->eintr++; return 1; }
	if (errno == EAGAIN) { waitready(w, who); return 1; }
	return 0;
}

static void sender(struct combo *c) {
	int fd = c->fds[1];
	uint64_t st = c->seed * 2654435761u + 7;
	unsigned char *buf = malloc(65536);
	struct iovec iov[8];
	int src = -1, pp[2] = { -1, -1 };
	long inpp = 0; /* bytes in the private pipe, from pos on */
	if (c->snd == S_SENDFILE) src = patfile(c->seed, SIZE);
	if ((c->snd == S_SPLICE || c->snd == S_TEE) && pipe(pp)) die("pipe");
	struct waiter w;
	waiter_init(&w, fd, POLLOUT, c->how);
	char who[96];
	snprintf(who, sizeof who, "%s %s->%s sender", kname[c->kind], sname[c->snd], rname[c->rcv]);
	long pos = 0;
	while (pos < SIZE) {
		size_t n = 1 + rnd(&st) % 20000;
		if ((long)n > SIZE - pos) n = SIZE - pos;
		ssize_t r = -1;
		switch (c->snd) {
		case S_WRITE: fillpat(buf, pos, n, c->seed); r = write(fd, buf, n); break;
		case S_WRITEV: {
			fillpat(buf, pos, n, c->seed);
			int cnt = splitiov(iov, 8, buf, n, &st);
			r = writev(fd, iov, cnt);
			break;
		}
		case S_SEND: fillpat(buf, pos, n, c->seed); r = send(fd, buf, n, MSG_NOSIGNAL); break;
		case S_SENDMSG: {
			fillpat(buf, pos, n, c->seed);
			struct msghdr m = { .msg_iov = iov, .msg_iovlen = splitiov(iov, 8, buf, n, &st) };
			r = sendmsg(fd, &m, MSG_NOSIGNAL);
			break;
		}
		case S_SENDFILE:
			if (rnd(&st) & 1) {
				off_t o = pos;
				r = sendfile(fd, src, &o, n);
				if (r > 0 && o != pos + r) { seterr(c, "sendfile offset", 0); goto out; }
			} else {
				if (lseek(src, pos, SEEK_SET) != pos) die("lseek");
				r = sendfile(fd, src, 0, n);
				if (r > 0 && lseek(src, 0, SEEK_CUR) != pos + r) { seterr(c, "sendfile position", 0); goto out; }
			}
			break;
		case S_SPLICE: case S_TEE:
			if (inpp == 0) {
				if (n > 60000) n = 60000;
				fillpat(buf, pos, n, c->seed);
				if (writefull(pp[1], buf, n)) die("write private pipe");
				inpp = n;
			}
			if (c->snd == S_SPLICE) {
				r = splice(pp[0], 0, fd, 0, inpp, rnd(&st) & 1 ? SPLICE_F_MORE : SPLICE_F_MOVE);
			} else {
				r = tee(pp[0], fd, inpp, 0);
				if (r > 0) { /* tee copied r bytes and consumed none: drop them here */
					if (readfull(pp[0], buf, r)) die("read private pipe");
					long b = checkpat(buf, pos, r, c->seed);
					if (b >= 0) { seterr(c, "tee consumed its input", 0); goto out; }
				}
			}
			if (r > 0) inpp -= r;
			break;
		}
		if (r < 0) {
			if (retry(c, &w, who)) continue;
			seterr(c, sname[c->snd], errno);
			break;
		}
		if (r == 0) { seterr(c, "sent 0 bytes", 0); break; }
		pos += r;
	}
out:
	if (c->kind == K_PIPE) close(fd); else shutdown(fd, SHUT_WR);
	waiter_close(&w);
	if (src >= 0) close(src);
	if (pp[0] >= 0) { close(pp[0]); close(pp[1]); }
	free(buf);
}

static void receiver(struct combo *c) {
	int fd = c->fds[0];
	uint64_t st = c->seed * 40503u + 11;
	unsigned char *buf = malloc(65536);
	struct iovec iov[8];
	int pp[2] = { -1, -1 }, ffd = -1;
	if (c->rcv == R_SPLICE && pipe(pp)) die("pipe");
	if (c->rcv == R_SPLICEFILE) ffd = tmpfile_in(TMPDIR);
	struct waiter w;
	waiter_init(&w, fd, POLLIN, c->how);
	char who[96];
	snprintf(who, sizeof who, "%s %s->%s receiver", kname[c->kind], sname[c->snd], rname[c->rcv]);
	long pos = 0;
	uint64_t sum = FNV0;
	c->bad = -1;
	for (;;) {
		size_t n = 1 + rnd(&st) % 30000;
		ssize_t r = -1;
		switch (c->rcv) {
		case R_READ: r = read(fd, buf, n); break;
		case R_READV: r = readv(fd, iov, splitiov(iov, 8, buf, n, &st)); break;
		case R_RECV: r = recv(fd, buf, n, !c->nonblock && (rnd(&st) & 1) ? MSG_WAITALL : 0); break;
		case R_RECVMSG: {
			struct msghdr m = { .msg_iov = iov, .msg_iovlen = splitiov(iov, 8, buf, n, &st) };
			r = recvmsg(fd, &m, 0);
			break;
		}
		case R_SPLICE:
			r = splice(fd, 0, pp[1], 0, n, SPLICE_F_MOVE);
			if (r > 0 && readfull(pp[0], buf, r)) die("read private pipe");
			break;
		case R_SPLICEFILE: {
			loff_t o = pos;
			r = splice(fd, 0, ffd, &o, n, 0);
			if (r > 0 && o != pos + r) { seterr(c, "splice offset", 0); goto out; }
			if (r > 0 && pread(ffd, buf, r, pos) != r) die("pread");
			break;
		}
		}
		if (r < 0) {
			if (retry(c, &w, who)) continue;
			seterr(c, rname[c->rcv], errno);
			break;
		}
		if (r == 0) break;
		if (r > (ssize_t)n) { seterr(c, "received more than asked", 0); break; }
		if (c->bad < 0) c->bad = checkpat(buf, pos, r, c->seed);
		sum = fnv(sum, buf, r);
		pos += r;
	}
out:
	c->got = pos;
	c->sum = sum;
	/* after an error, drain to EOF so the sender can finish */
	while (c->err[0]) {
		ssize_t r = read(fd, buf, 65536);
		if (r == 0 || (r < 0 && errno != EINTR && errno != EAGAIN)) break;
		if (r < 0 && errno == EAGAIN) waitready(&w, who);
	}
	waiter_close(&w);
	if (pp[0] >= 0) { close(pp[0]); close(pp[1]); }
	if (ffd >= 0) close(ffd);
	free(buf);
}

static void *sender_thread(void *a) { worker_begin(); sender(a); worker_end(); return 0; }
static void *receiver_thread(void *a) { worker_begin(); receiver(a); worker_end(); return 0; }

static void combo_start(struct combo *c) {
	mkchan(c->kind, c->fds, c->small);
	if (c->nonblock) { setnonblock(c->fds[0]); setnonblock(c->fds[1]); }
	if (c->forked) {
		c->pid = fork();
		if (c->pid < 0) die("fork");
		if (c->pid == 0) {
			close(c->fds[0]);
			c->eintr = 0;
			sender(c);
			_exit(c->err[0] ? 1 : SIGMODE != 2 && c->eintr ? 2 : 0);
		}
		close(c->fds[1]);
		pest_add_pid(c->pid);
	} else if (pthread_create(&c->st, 0, sender_thread, c)) die("pthread_create");
	if (pthread_create(&c->rt, 0, receiver_thread, c)) die("pthread_create");
}

static void combo_finish(struct combo *c) {
	pthread_join(c->rt, 0);
	if (c->forked) {
		int status;
		while (waitpid(c->pid, &status, 0) < 0 && errno == EINTR) {}
		pest_del_pid(c->pid);
		if (!WIFEXITED(status) || WEXITSTATUS(status) == 1) seterr(c, "forked sender failed", 0);
		if (WIFEXITED(status) && WEXITSTATUS(status) == 2) c->eintr++;
	} else pthread_join(c->st, 0);
	close(c->fds[0]);
	if (!c->forked && c->kind != K_PIPE) close(c->fds[1]); /* the sender closed a pipe's */
}

static void combo_report(struct combo *c) {
	uint64_t want = FNV0;
	unsigned char b[4096];
	for (long off = 0; off < SIZE; off += sizeof b) {
		long m = SIZE - off < (long)sizeof b ? SIZE - off : (long)sizeof b;
		fillpat(b, off, m, c->seed);
		want = fnv(want, b, m);
	}
	printf("%s %s->%s%s%s: %ld bytes, fnv %016llx", kname[c->kind], sname[c->snd], rname[c->rcv],
		c->nonblock ? " nonblock" : "", c->forked ? " forked" : "", c->got, (unsigned long long)c->sum);
	if (c->err[0]) printf(" ERROR %s", c->err);
	if (c->bad >= 0) printf(" CORRUPT at byte %ld", c->bad);
	if (c->got != SIZE || c->sum != want) printf(" WRONG (want %ld bytes, fnv %016llx)", SIZE, (unsigned long long)want);
	/* With SA_RESTART (or no handler) no read or write returns EINTR. */
	if (SIGMODE != 2 && c->eintr) printf(" EINTR %ld times despite SA_RESTART", c->eintr);
	printf("\n");
}

static int sends_ok(int kind, int s) {
	if (kind == K_PIPE) return s != S_SEND && s != S_SENDMSG;
	return s != S_TEE;
}
static int recvs_ok(int kind, int r) {
	if (kind == K_PIPE) return r != R_RECV && r != R_RECVMSG;
	return r != R_SPLICEFILE; /* splice needs a pipe on one side */
}

/* stream: every sender against every receiver on every kind, batch
   streams at once; long runs all four blocking/forking variants. */
static int stream_main(int batch, int full) {
	static struct combo cs[1024];
	int n = 0;
	for (int k = K_PIPE; k <= K_TCP; k++)
		for (int s = 0; s < NSEND; s++)
			for (int r = 0; r < NRECV; r++) {
				if (!sends_ok(k, s) || !recvs_ok(k, r)) continue;
				for (int v = 0; v < 4; v++) {
					int i = n;
					if (!full && v != (s + r + k) % 4) continue;
					cs[n] = (struct combo){ .kind = k, .snd = s, .rcv = r, .nonblock = v & 1,
						.forked = (v >> 1) & 1, .small = (s + r + v) % 3 == 0, .how = (i + SEED) % 3,
						.seed = SEED * 1000003u + i };
					n++;
				}
			}
	pest_start();
	for (int i = 0; i < n; i += batch) {
		int e = i + batch < n ? i + batch : n;
		for (int j = i; j < e; j++) combo_start(&cs[j]);
		for (int j = i; j < e; j++) combo_finish(&cs[j]);
	}
	pest_stop();
	for (int i = 0; i < n; i++) combo_report(&cs[i]);
	return 0;
}
`

package tests

// ioStressFanout is the many-readers part of the stress program: writer
// threads and a forked writer put 16-byte records into one pipe (at most
// PIPE_BUF at a time), and several readers take them at once, each its
// own way (read, readv, splice into a private pipe or into a file):
// every record must arrive exactly once, whole, and each reader must see
// each writer's records in order.
const ioStressFanout = `
#define FW 3 /* writers: threads, the last a forked child */
#define FR 4 /* readers */
struct frec { uint32_t writer, seq; uint64_t check; };
static uint64_t frec_check(uint32_t w, uint32_t s) { return (((uint64_t)w << 32 | s) * 0x9E3779B97F4A7C15ull) ^ 0x5bd1e995; }

struct fan {
	int kind, nonblock, fds[2];
	long per;
	unsigned char *seen[FW]; /* one flag per record */
	atomic_long got[FW], dups, eintr;
	char err[160];
};
struct fanworker { struct fan *f; int id; };

static void fan_seterr(struct fan *f, const char *what, int e) {
	if (!f->err[0]) snprintf(f->err, sizeof f->err, "%s: %s", what, strerror(e));
}

static void fanwrite(struct fan *f, int id) {
	uint64_t st = SEED * 613u + id;
	struct frec b[256];
	struct waiter w;
	waiter_init(&w, f->fds[1], POLLOUT, (id + SEED) % 3);
	for (long seq = 0; seq < f->per;) {
		long n = 1 + rnd(&st) % 256;
		if (n > f->per - seq) n = f->per - seq;
		for (long i = 0; i < n; i++) b[i] = (struct frec){ id, seq + i, frec_check(id, seq + i) };
		ssize_t r = write(f->fds[1], b, n * sizeof b[0]);
		if (r < 0) {
			if (errno == EINTR) { atomic_fetch_add(&f->eintr, 1); continue; }
			if (errno == EAGAIN) { waitready(&w, "fanout writer"); continue; }
			fan_seterr(f, "fanout write", errno);
			break;
		}
		if (r % sizeof b[0]) { fan_seterr(f, "write cut a record", 0); break; }
		seq += r / sizeof b[0];
	}
	waiter_close(&w);
}
static void *fanwriter_thread(void *a) {
	struct fanworker *fw = a;
	worker_begin();
	fanwrite(fw->f, fw->id);
	worker_end();
	return 0;
}

static void *fanreader_thread(void *a) {
	struct fanworker *fw = a;
	struct fan *f = fw->f;
	worker_begin();
	uint64_t st = SEED * 389u + fw->id;
	static __thread unsigned char buf[65536];
	int pp[2] = { -1, -1 }, ffd = -1;
	loff_t fo = 0;
	int how = fw->id % 4;
	if (how == 2 && pipe(pp)) die("pipe");
	if (how == 3) ffd = tmpfile_in(TMPDIR);
	long last[FW];
	for (int i = 0; i < FW; i++) last[i] = -1;
	struct waiter w;
	waiter_init(&w, f->fds[0], POLLIN, fw->id % 3);
	for (;;) {
		size_t n = (1 + rnd(&st) % 300) * sizeof(struct frec);
		ssize_t r;
		struct iovec iov[2] = { { buf, n / 2 / 16 * 16 }, { buf + n / 2 / 16 * 16, n - n / 2 / 16 * 16 } };
		switch (how) {
		case 0: r = read(f->fds[0], buf, n); break;
		case 1: r = readv(f->fds[0], iov, 2); break;
		case 2:
			r = splice(f->fds[0], 0, pp[1], 0, n, 0);
			if (r > 0 && readfull(pp[0], buf, r)) die("read private pipe");
			break;
		default:
			r = splice(f->fds[0], 0, ffd, &fo, n, 0);
			if (r > 0 && pread(ffd, buf, r, fo - r) != r) die("pread");
		}
		if (r < 0) {
			if (errno == EINTR) { atomic_fetch_add(&f->eintr, 1); continue; }
			if (errno == EAGAIN) { waitready(&w, "fanout reader"); continue; }
			fan_seterr(f, "fanout read", errno);
			break;
		}
		if (r == 0) break;
		/* whole records in, whole records asked for: whole records out */
		if (r % sizeof(struct frec)) { fan_seterr(f, "read cut a record", 0); break; }
		for (ssize_t o = 0; o < r; o += sizeof(struct frec)) {
			struct frec *x = (struct frec *)(buf + o);
			if (x->writer >= FW || x->seq >= f->per || x->check != frec_check(x->writer, x->seq)) {
				fan_seterr(f, "record corrupt", 0); goto out;
			}
			if ((long)x->seq <= last[x->writer]) { fan_seterr(f, "a writer's records out of order", 0); goto out; }
			last[x->writer] = x->seq;
			if (__atomic_exchange_n(&f->seen[x->writer][x->seq], 1, __ATOMIC_RELAXED)) atomic_fetch_add(&f->dups, 1);
			atomic_fetch_add(&f->got[x->writer], 1);
		}
	}
out:
	waiter_close(&w);
	if (pp[0] >= 0) { close(pp[0]); close(pp[1]); }
	if (ffd >= 0) close(ffd);
	worker_end();
	return 0;
}

static int fanout_main(int nonblock, long per) {
	static struct fan f;
	int kind = K_PIPE;
	f.kind = kind; f.nonblock = nonblock; f.per = per;
	mkchan(kind, f.fds, 0);
	if (nonblock) { setnonblock(f.fds[0]); setnonblock(f.fds[1]); }
	for (int i = 0; i < FW; i++) f.seen[i] = calloc(per, 1);
	pest_start();
	pid_t pid = fork();
	if (pid < 0) die("fork");
	if (pid == 0) {
		close(f.fds[0]);
		fanwrite(&f, FW - 1);
		_exit(f.err[0] ? 1 : SIGMODE != 2 && f.eintr ? 2 : 0);
	}
	pest_add_pid(pid);
	pthread_t wt[FW - 1], rt[FR];
	struct fanworker ww[FW - 1], rw[FR];
	for (int i = 0; i < FR; i++) {
		rw[i] = (struct fanworker){ &f, i };
		if (pthread_create(&rt[i], 0, fanreader_thread, &rw[i])) die("pthread_create");
	}
	for (int i = 0; i < FW - 1; i++) {
		ww[i] = (struct fanworker){ &f, i };
		if (pthread_create(&wt[i], 0, fanwriter_thread, &ww[i])) die("pthread_create");
	}
	for (int i = 0; i < FW - 1; i++) pthread_join(wt[i], 0);
	int status;
	while (waitpid(pid, &status, 0) < 0 && errno == EINTR) {}
	pest_del_pid(pid);
	close(f.fds[1]);
	for (int i = 0; i < FR; i++) pthread_join(rt[i], 0);
	pest_stop();
	if (!WIFEXITED(status) || WEXITSTATUS(status) == 1) fan_seterr(&f, "forked writer failed", 0);
	if (WIFEXITED(status) && WEXITSTATUS(status) == 2) f.eintr++;
	printf("fanout pipe%s:", nonblock ? " nonblock" : "");
	for (int i = 0; i < FW; i++) printf(" %ld", (long)f.got[i]);
	printf(", duplicates %ld", (long)f.dups);
	if (f.err[0]) printf(" ERROR %s", f.err);
	if (SIGMODE != 2 && f.eintr) printf(" EINTR %ld times despite SA_RESTART", (long)f.eintr);
	printf("\n");
	return 0;
}
`

// ioStressCopyup: threads open one existing file for writing at the same
// moment (under glassbox a host file below the in-memory layer: each
// open may copy it up) and overwrite interleaved blocks; afterwards every
// block must be new, the rest of the file untouched.
const ioStressCopyup = `
struct cu { const char *path; long size; pthread_barrier_t bar; char err[160]; };
struct cuw { struct cu *c; int id; };
static void *copyup_thread(void *a) {
	struct cuw *w = a;
	struct cu *c = w->c;
	worker_begin();
	pthread_barrier_wait(&c->bar);
	int fd = open(c->path, w->id & 1 ? O_RDWR : O_WRONLY);
	if (fd < 0) { snprintf(c->err, sizeof c->err, "open: %s", strerror(errno)); goto out; }
	unsigned char b[BLK];
	/* blocks id, id+FT, ... of the first half get the next seed's pattern */
	for (long blk = w->id; (blk + 1) * BLK <= c->size / 2; blk += FT) {
		fillpat(b, blk * BLK, BLK, SEED + 1);
		ssize_t r;
		do r = pwrite(fd, b, BLK, blk * BLK); while (r < 0 && errno == EINTR);
		if (r != BLK) { snprintf(c->err, sizeof c->err, "pwrite: %s", strerror(errno)); break; }
	}
	close(fd);
out:
	worker_end();
	return 0;
}
static int copyup_main(const char *path, long size) {
	static struct cu c;
	c.path = path; c.size = size;
	pthread_barrier_init(&c.bar, 0, FT);
	pest_start();
	pthread_t th[FT];
	struct cuw w[FT];
	for (int i = 0; i < FT; i++) {
		w[i] = (struct cuw){ &c, i };
		if (pthread_create(&th[i], 0, copyup_thread, &w[i])) die("pthread_create");
	}
	for (int i = 0; i < FT; i++) pthread_join(th[i], 0);
	pest_stop();
	int fd = open(path, O_RDONLY);
	struct stat sb;
	fstat(fd, &sb);
	unsigned char *all = malloc(size), *want = malloc(size);
	long got = pread(fd, all, size, 0), half = size / 2 / BLK * BLK;
	fillpat(want, 0, half, SEED + 1);
	fillpat(want + half, half, size - half, SEED);
	long bad = -1;
	for (long i = 0; i < size && bad < 0; i++) if (all[i] != want[i]) bad = i;
	printf("copyup: size %ld, read %ld, fnv %016llx%s", (long)sb.st_size, got, (unsigned long long)fnv(FNV0, all, got > 0 ? got : 0),
		bad >= 0 ? " CORRUPT" : "");
	if (bad >= 0) printf(" at %ld (%s)", bad, all[bad] == pat(bad, SEED) ? "old data" : "neither");
	if (c.err[0]) printf(" ERROR %s", c.err);
	printf("\n");
	return 0;
}
`

package tests

// ioStressFiles is the file part of the stress program, run in one
// directory (tmpfs /tmp, the overlay root, a --bind host directory):
// threads pwrite/pwritev interleaved blocks, append records with
// O_APPEND, copy_file_range disjoint ranges, and sendfile/splice the file
// through a socket and a pipe into another file; every result is read
// back and checked.
const ioStressFiles = `
#define FT 4
struct frun { const char *dir; int fd, afd, gfd; long size; atomic_long eintr; char err[160]; pthread_barrier_t bar; };
struct fworker { struct frun *run; int id; };
#define BLK 1000

static void f_seterr(struct frun *run, const char *what, int e) {
	if (!run->err[0]) snprintf(run->err, sizeof run->err, "%s: %s", what, strerror(e));
}

/* thread id writes blocks id, id+FT, ... in a shuffled order, then
   reads them back; then appends its records; then copies its ranges */
static void *fworker(void *a) {
	struct fworker *fw = a;
	struct frun *run = fw->run;
	worker_begin();
	uint64_t st = SEED * 7919u + fw->id;
	long nblk = run->size / BLK;
	unsigned char buf[2 * BLK + 16], chk[2 * BLK + 16];
	long mine[4096]; int n = 0;
	for (long b = fw->id; b < nblk && n < 4096; b += FT) mine[n++] = b;
	for (int i = n - 1; i > 0; i--) { int j = rnd(&st) % (i + 1); long t = mine[i]; mine[i] = mine[j]; mine[j] = t; }
	for (int i = 0; i < n; i++) {
		long off = mine[i] * BLK;
		fillpat(buf, off, BLK, SEED);
		ssize_t r;
		if (i & 1) {
			struct iovec iov[8];
			r = pwritev(run->fd, iov, splitiov(iov, 8, buf, BLK, &st), off);
		} else r = pwrite(run->fd, buf, BLK, off);
		if (r < 0 && errno == EINTR) { atomic_fetch_add(&run->eintr, 1); i--; continue; }
		if (r != BLK) { f_seterr(run, "pwrite", errno); break; }
	}
	for (int i = 0; i < n; i++) {
		long off = mine[i] * BLK;
		struct iovec iov[8];
		ssize_t r = preadv(run->fd, iov, splitiov(iov, 8, chk, BLK, &st), off);
		if (r != BLK || checkpat(chk, off, BLK, SEED) >= 0) { f_seterr(run, "pread back", errno); break; }
	}
	pthread_barrier_wait(&run->bar); /* every block is written */
	/* O_APPEND records: each lands whole at the end */
	for (uint32_t seq = 0; seq < 200; seq++) {
		size_t len = 8 + rnd(&st) % 1500;
		struct rec h = { (uint16_t)len, (uint16_t)fw->id, seq };
		memcpy(buf, &h, 8);
		fillpat(buf + 8, 0, len - 8, fw->id * 65536u + seq);
		struct iovec iov[8];
		ssize_t r = seq & 1 ? writev(run->afd, iov, splitiov(iov, 8, buf, len, &st)) : write(run->afd, buf, len);
		if (r < 0 && errno == EINTR) { atomic_fetch_add(&run->eintr, 1); seq--; continue; }
		if (r != (ssize_t)len) { f_seterr(run, "append", errno); goto out; }
	}
	/* copy_file_range of this thread's quarter, in random pieces */
	long q = run->size / FT, from = fw->id * q, to = fw->id == FT - 1 ? run->size : from + q;
	while (from < to) {
		loff_t oi = from, oo = from;
		size_t len = 1 + rnd(&st) % 50000;
		if ((long)len > to - from) len = to - from;
		ssize_t r = copy_file_range(run->fd, &oi, run->gfd, &oo, len, 0);
		if (r < 0 && errno == EINTR) continue; /* a signal may end a copy early */
		if (r <= 0 || oi != from + r || oo != from + r) { f_seterr(run, "copy_file_range", errno); goto out; }
		from += r;
	}
out:
	worker_end();
	return 0;
}

static uint64_t fsum(int fd, long size, long *bad) {
	unsigned char b[8192];
	uint64_t h = FNV0;
	*bad = -1;
	for (long off = 0; off < size;) {
		ssize_t r = pread(fd, b, sizeof b, off);
		if (r <= 0) { *bad = off; break; }
		if (*bad < 0) *bad = checkpat(b, off, r, SEED);
		h = fnv(h, b, r);
		off += r;
	}
	return h;
}

/* sendfile fd → socket (offset pointer) in a thread; splice socket →
   pipe → a new file at explicit offsets here */
struct sfarg { int fd, sock; long size; int err; };
static void *sendfile_thread(void *a) {
	struct sfarg *s = a;
	worker_begin();
	off_t o = 0;
	while (o < s->size) {
		ssize_t r = sendfile(s->sock, s->fd, &o, s->size - o);
		if (r < 0 && errno == EINTR) continue;
		if (r <= 0) { s->err = errno ? errno : -1; break; }
	}
	shutdown(s->sock, SHUT_WR);
	worker_end();
	return 0;
}

static int files_main(const char *dir, long size) {
	struct frun run = { .dir = dir, .size = size };
	run.fd = tmpfile_in(dir);
	run.gfd = tmpfile_in(dir);
	char path[4096];
	snprintf(path, sizeof path, "%s/gbappendXXXXXX", dir);
	int t = mkstemp(path);
	if (t < 0) die("mkstemp");
	run.afd = open(path, O_RDWR | O_APPEND);
	unlink(path);
	close(t);
	pthread_barrier_init(&run.bar, 0, FT);
	pest_start();
	pthread_t th[FT];
	struct fworker fw[FT];
	for (int i = 0; i < FT; i++) {
		fw[i] = (struct fworker){ &run, i };
		if (pthread_create(&th[i], 0, fworker, &fw[i])) die("pthread_create");
	}
	for (int i = 0; i < FT; i++) pthread_join(th[i], 0);
	long bad;
	struct stat sb;
	fstat(run.fd, &sb);
	uint64_t h = fsum(run.fd, size, &bad);
	printf("files: pwrite %ld bytes (size %ld) fnv %016llx%s\n", size, (long)sb.st_size, (unsigned long long)h, bad >= 0 ? " CORRUPT" : "");
	fstat(run.gfd, &sb);
	h = fsum(run.gfd, size, &bad);
	printf("files: copy_file_range size %ld fnv %016llx%s\n", (long)sb.st_size, (unsigned long long)h, bad >= 0 ? " CORRUPT" : "");
	/* the appended records: all there, whole, each writer's in order */
	fstat(run.afd, &sb);
	unsigned char *all = malloc(sb.st_size + 1);
	long cnt[FT] = {0}, off = 0;
	if (pread(run.afd, all, sb.st_size, 0) != sb.st_size) f_seterr(&run, "read appended", errno);
	while (off + 8 <= sb.st_size) {
		struct rec hd;
		memcpy(&hd, all + off, 8);
		if (hd.len < 8 || hd.writer >= FT || off + hd.len > sb.st_size || hd.seq != cnt[hd.writer] ||
		    checkpat(all + off + 8, 0, hd.len - 8, hd.writer * 65536u + hd.seq) >= 0) {
			f_seterr(&run, "appended record corrupt", 0); break;
		}
		cnt[hd.writer]++;
		off += hd.len;
	}
	if (off != sb.st_size) f_seterr(&run, "appended file has a tail", 0);
	free(all);
	printf("files: append records %ld %ld %ld %ld\n", cnt[0], cnt[1], cnt[2], cnt[3]);
	/* sendfile through a socket, splice into a pipe and on into a file */
	int sv[2], pp[2];
	if (socketpair(AF_UNIX, SOCK_STREAM, 0, sv) || pipe(pp)) die("socketpair");
	int small = 4096;
	setsockopt(sv[1], SOL_SOCKET, SO_SNDBUF, &small, sizeof small);
	struct sfarg sa = { run.fd, sv[1], size, 0 };
	pthread_t sth;
	if (pthread_create(&sth, 0, sendfile_thread, &sa)) die("pthread_create");
	worker_begin();
	int hfd = tmpfile_in(dir);
	loff_t ho = 0;
	for (;;) {
		ssize_t r = splice(sv[0], 0, pp[1], 0, 1 << 20, 0);
		if (r < 0 && errno == EINTR) continue;
		if (r < 0) { f_seterr(&run, "splice socket to pipe", errno); break; }
		if (r == 0) break;
		while (r > 0) {
			ssize_t m = splice(pp[0], 0, hfd, &ho, r, 0);
			if (m < 0 && errno == EINTR) continue;
			if (m <= 0) { f_seterr(&run, "splice pipe to file", errno); break; }
			r -= m;
		}
	}
	worker_end();
	pthread_join(sth, 0);
	if (sa.err) f_seterr(&run, "sendfile to socket", sa.err > 0 ? sa.err : 0);
	h = fsum(hfd, size, &bad);
	printf("files: sendfile+splice %lld bytes fnv %016llx%s\n", (long long)ho, (unsigned long long)h, bad >= 0 ? " CORRUPT" : "");
	/* a lower-layer file: sendfile into a pipe reads what read(2) reads */
	int exe = open("/proc/self/exe", O_RDONLY);
	uint64_t h1 = FNV0, h2 = FNV0;
	unsigned char b[65536];
	for (;;) { ssize_t r = read(exe, b, sizeof b); if (r <= 0) break; h1 = fnv(h1, b, r); }
	off_t eo = 0;
	for (;;) {
		ssize_t r = sendfile(pp[1], exe, &eo, 65536);
		if (r < 0 && errno == EINTR) continue;
		if (r <= 0) break;
		if (readfull(pp[0], b, r)) die("read pipe");
		h2 = fnv(h2, b, r);
	}
	printf("files: sendfile of the executable matches read: %s\n", h1 == h2 ? "yes" : "NO");
	pest_stop();
	if (run.err[0]) printf("files: ERROR %s\n", run.err);
	if (run.eintr) printf("files: EINTR %ld times on regular files\n", (long)run.eintr);
	return 0;
}

`

// ioStressMain picks the part of the stress program argv[1] names.
const ioStressMain = `
int main(int argc, char **argv) {
	setvbuf(stdout, 0, _IOLBF, 0);
	if (argc < 5) { fprintf(stderr, "usage: %s stream|records|files|fanout|copyup SIGMODE SIZE SEED [args]\n", argv[0]); return 2; }
	SIGMODE = atoi(argv[2]);
	SIZE = atol(argv[3]);
	SEED = (uint32_t)atol(argv[4]);
	if (getenv("GBSTRESS_TMPDIR")) TMPDIR = getenv("GBSTRESS_TMPDIR");
	if (!strcmp(argv[1], "stream")) return stream_main(argc > 5 ? atoi(argv[5]) : 6, argc > 6 && atoi(argv[6]));
	if (!strcmp(argv[1], "records") && argc > 6) {
		int k = !strcmp(argv[5], "pipe") ? K_PIPE : !strcmp(argv[5], "dgram") ? K_DGRAM : K_SEQPACKET;
		return records_main(k, atoi(argv[6]), SIZE);
	}
	if (!strcmp(argv[1], "files") && argc > 5) return files_main(argv[5], SIZE);
	if (!strcmp(argv[1], "fanout") && argc > 5) return fanout_main(atoi(argv[5]), SIZE);
	if (!strcmp(argv[1], "copyup") && argc > 5) return copyup_main(argv[5], SIZE);
	fprintf(stderr, "bad arguments\n");
	return 2;
}
`

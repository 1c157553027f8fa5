package tests

import (
	"path/filepath"
	"strings"
	"testing"
)

// procnetSrc opens TCP (a listener, an accepted and an unaccepted
// connection, a socket bound but not listening), UDP (bound, connected
// with a datagram queued), IPv6 and AF_UNIX (pathname, abstract,
// socketpair, datagram) sockets, then prints the header lines of
// /proc/net/{tcp,udp,tcp6,udp6,unix} and its own rows, with ports and
// inode numbers named; /proc/net/dev's header and lo's field count,
// route and if_inet6 whole, and where /proc/net links.
const procnetSrc = `#define _GNU_SOURCE
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <netinet/in.h>
#include <arpa/inet.h>
/* Our sockets: their inode numbers and ports, to pick our lines and
   name the numbers that differ between runs. */
static unsigned long inos[16]; static const char *inoname[16]; static int ninos;
static unsigned ports[8]; static const char *portname[8]; static int nports;
static void ino(int fd, const char *name) { struct stat st; fstat(fd, &st); inos[ninos] = st.st_ino; inoname[ninos++] = name; }
static unsigned port(int fd, const char *name) {
	struct sockaddr_in6 a; socklen_t n = sizeof a; getsockname(fd, (void *)&a, &n);
	ports[nports] = ntohs(a.sin6_port); portname[nports++] = name; return ports[nports - 1];
}
static const char *inoof(unsigned long i) { for (int k = 0; k < ninos; k++) if (inos[k] == i) return inoname[k]; return i ? "other" : "0"; }
static const char *portof(unsigned p) { for (int k = 0; k < nports; k++) if (ports[k] == p) return portname[k]; return 0; }
static int cmp(const void *a, const void *b) { return strcmp(*(char **)a, *(char **)b); }
/* inet prints a socket table: its header, then our rows with ports and
   inodes named, sorted (Linux lists them in hash order). */
static void inet(const char *file) {
	FILE *f = fopen(file, "r");
	if (!f) { printf("%s: missing\n", file); return; }
	char line[512], *rows[32]; int nrows = 0;
	fgets(line, sizeof line, f);
	printf("%s header (%zu bytes): %s", file, strlen(line), line);
	while (fgets(line, sizeof line, f)) {
		char sl[16], la[64], ra[64], st[8], q[32], tr[32], rt[16], rest[256] = "";
		unsigned uid, to; unsigned long in;
		size_t len = strlen(line);
		if (sscanf(line, "%15s %63s %63s %7s %31s %31s %15s %u %u %lu %255[^\n]", sl, la, ra, st, q, tr, rt, &uid, &to, &in, rest) < 10) continue;
		char *lp = strrchr(la, ':'), *rp = strrchr(ra, ':');
		const char *lname = portof(strtoul(lp + 1, 0, 16)), *rname = portof(strtoul(rp + 1, 0, 16));
		if (!lname) continue;
		*lp = *rp = 0;
		/* The inode's digits vary; a UDP queue's bytes are its skbs' true sizes. */
		/* IPv4 rows are padded to a fixed width; IPv6 rows are not. */
		char num[32]; size_t plen = strchr(file, '6') ? len - snprintf(num, sizeof num, "%lu", in) : len;
		if (strstr(file, "udp") && strcmp(q + 9, "00000000")) strcpy(q + 9, "nonzero");
		int nf = 10; for (char *p = strtok(rest, " "); p; p = strtok(0, " ")) nf++;
		char *out; asprintf(&out, "  %s:%s %s:%s st %s q %s %s %s uid %u to %u inode %s fields %d len %zu\n",
			la, lname, ra, rname ? rname : rp + 1, st, q, tr, rt, uid, to, inoof(in), nf, plen);
		rows[nrows++] = out;
	}
	qsort(rows, nrows, sizeof *rows, cmp);
	for (int i = 0; i < nrows; i++) fputs(rows[i], stdout);
	fclose(f);
}
static void unixtab(const char *path) {
	FILE *f = fopen("/proc/net/unix", "r");
	char line[512], *rows[32]; int nrows = 0;
	fgets(line, sizeof line, f);
	printf("/proc/net/unix header: %s", line);
	while (fgets(line, sizeof line, f)) {
		char num[32], ref[16], proto[16], flags[16], type[8], st[8], p[256] = "";
		unsigned long in;
		if (sscanf(line, "%31s %15s %15s %15s %7s %7s %lu %255s", num, ref, proto, flags, type, st, &in, p) < 7) continue;
		const char *name = inoof(in);
		if (!strcmp(name, "other")) continue;
		char *out; asprintf(&out, "  %s proto %s flags %s type %s st %s path %s\n", name, proto, flags, type, st,
			!strcmp(p, path) ? "OURS" : p);
		rows[nrows++] = out;
	}
	qsort(rows, nrows, sizeof *rows, cmp);
	for (int i = 0; i < nrows; i++) fputs(rows[i], stdout);
	fclose(f);
}
static void cat(const char *file) {
	FILE *f = fopen(file, "r");
	if (!f) { printf("%s: missing\n", file); return; }
	char line[512];
	printf("%s:\n", file);
	while (fgets(line, sizeof line, f)) printf("  [%s", line);
	fclose(f);
}
int main(int argc, char **argv) {
	const char *path = argv[1];
	setvbuf(stdout, 0, _IONBF, 0);
	struct sockaddr_in a = { .sin_family = AF_INET, .sin_addr.s_addr = htonl(INADDR_LOOPBACK) };
	socklen_t n = sizeof a;
	int l = socket(AF_INET, SOCK_STREAM, 0);
	bind(l, (void *)&a, sizeof a); listen(l, 5); getsockname(l, (void *)&a, &n);
	ino(l, "listener"); port(l, "LPORT");
	int c = socket(AF_INET, SOCK_STREAM, 0);
	connect(c, (void *)&a, sizeof a);
	ino(c, "client"); port(c, "CPORT");
	int s = accept(l, 0, 0);
	ino(s, "server");
	int c2 = socket(AF_INET, SOCK_STREAM, 0); /* never accepted: inode 0 */
	connect(c2, (void *)&a, sizeof a);
	ino(c2, "client2"); port(c2, "C2PORT");
	write(c, "hello", 5);
	int b = socket(AF_INET, SOCK_STREAM, 0); /* bound, not listening: in no table */
	struct sockaddr_in any = { .sin_family = AF_INET, .sin_addr.s_addr = htonl(INADDR_LOOPBACK) };
	bind(b, (void *)&any, sizeof any); ino(b, "bound"); port(b, "BPORT");
	int u = socket(AF_INET, SOCK_DGRAM, 0);
	struct sockaddr_in ua = { .sin_family = AF_INET, .sin_addr.s_addr = htonl(INADDR_LOOPBACK) };
	bind(u, (void *)&ua, sizeof ua); ino(u, "udp"); port(u, "UPORT");
	int u2 = socket(AF_INET, SOCK_DGRAM, 0);
	n = sizeof ua; getsockname(u, (void *)&ua, &n);
	connect(u2, (void *)&ua, sizeof ua); ino(u2, "udp2"); port(u2, "U2PORT");
	write(u2, "datagram", 8);
	int l6 = socket(AF_INET6, SOCK_STREAM, 0);
	struct sockaddr_in6 a6 = { .sin6_family = AF_INET6, .sin6_addr = IN6ADDR_LOOPBACK_INIT };
	if (bind(l6, (void *)&a6, sizeof a6) == 0) { listen(l6, 1); ino(l6, "listener6"); port(l6, "L6PORT"); }
	int u6 = socket(AF_INET6, SOCK_DGRAM, 0);
	struct sockaddr_in6 w6 = { .sin6_family = AF_INET6 };
	bind(u6, (void *)&w6, sizeof w6); ino(u6, "udp6"); port(u6, "U6PORT");
	int x = socket(AF_UNIX, SOCK_STREAM, 0);
	struct sockaddr_un sa = { .sun_family = AF_UNIX };
	strcpy(sa.sun_path, path);
	unlink(path);
	bind(x, (void *)&sa, sizeof sa); listen(x, 1); ino(x, "unix listener");
	int pr[2]; socketpair(AF_UNIX, SOCK_STREAM, 0, pr); ino(pr[0], "pair0"); ino(pr[1], "pair1");
	int d = socket(AF_UNIX, SOCK_DGRAM, 0); ino(d, "dgram");
	int ab = socket(AF_UNIX, SOCK_SEQPACKET, 0);
	struct sockaddr_un aa = { .sun_family = AF_UNIX };
	memcpy(aa.sun_path, "\0glassbox-procnet\0x", 19);
	bind(ab, (void *)&aa, offsetof(struct sockaddr_un, sun_path) + 19); ino(ab, "abstract");
	usleep(100000);
	inet("/proc/net/tcp");
	inet("/proc/self/net/udp");
	inet("/proc/net/tcp6");
	inet("/proc/net/udp6");
	unixtab(path);
	FILE *f = fopen("/proc/net/dev", "r");
	char line[512];
	for (int i = 0; i < 2 && fgets(line, sizeof line, f); i++) printf("/proc/net/dev: %s", line);
	while (fgets(line, sizeof line, f)) {
		char name[32]; int nf = 0;
		sscanf(line, "%31s", name);
		for (char *p = strtok(line, " \n"); p; p = strtok(0, " \n")) nf++;
		if (!strcmp(name, "lo:")) printf("/proc/net/dev: lo: %d fields\n", nf);
	}
	fclose(f);
	cat("/proc/net/route");
	cat("/proc/net/if_inet6");
	char link[64] = ""; readlink("/proc/net", link, sizeof link - 1);
	printf("/proc/net -> %s\n", link);
	char self[64]; snprintf(self, sizeof self, "/proc/%d/net/tcp", getpid());
	printf("%s opens: %d\n", "/proc/PID/net/tcp", access(self, R_OK) == 0);
	unlink(path);
	return 0;
}
`

// TestProcNet: /proc/net lists the process's network namespace's sockets
// and interfaces in Linux's formats (native side in a fresh network
// namespace with lo up, as glassbox' loopback is).
func TestProcNet(t *testing.T) {
	t.Parallel()
	bin := compileC(t, "procnet", procnetSrc)
	sock := filepath.Join(t.TempDir(), "s")
	native, _ := diffWith(t, diffOpts{freshNet: true}, []string{bin, sock})
	for _, want := range []string{"inode listener fields 17 len 150", "inode 0 fields 17", "inode server fields 17",
		"inode udp2 fields 13", "unix listener proto 00000000 flags 00010000 type 0001 st 01 path OURS", "lo: 17 fields"} {
		if !strings.Contains(native.Stdout, want) {
			t.Errorf("native run lacks %q:\n%s", want, native.Stdout)
		}
	}
	if strings.Contains(native.Stdout, "inode bound") {
		t.Errorf("a bound TCP socket that does not listen is listed:\n%s", native.Stdout)
	}
	// A new network namespace: lo is down, no IPv6 address, no sockets.
	diffWith(t, diffOpts{freshNet: true}, []string{"unshare", "-n", "sh", "-c",
		"cat /proc/net/if_inet6 /proc/net/route /proc/net/tcp /proc/net/udp6; grep -c lo: /proc/net/dev"})
}

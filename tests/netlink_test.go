package tests

import (
	"strings"
	"testing"
)

// getifaddrsSrc prints every getifaddrs(3) entry (of the interface named
// by argv[1], if given): name, family, address, netmask and flags.
const getifaddrsSrc = `
#include <stdio.h>
#include <string.h>
#include <ifaddrs.h>
#include <arpa/inet.h>
#include <netpacket/packet.h>

static void addr(const struct sockaddr *sa, char *buf, size_t n) {
	if (!sa) { snprintf(buf, n, "-"); return; }
	if (sa->sa_family == AF_INET) inet_ntop(AF_INET, &((struct sockaddr_in *)sa)->sin_addr, buf, n);
	else if (sa->sa_family == AF_INET6) inet_ntop(AF_INET6, &((struct sockaddr_in6 *)sa)->sin6_addr, buf, n);
	else if (sa->sa_family == AF_PACKET) {
		struct sockaddr_ll *l = (struct sockaddr_ll *)sa;
		char *p = buf + sprintf(buf, "ll%d/%d/", l->sll_ifindex, l->sll_hatype);
		for (int i = 0; i < l->sll_halen; i++) p += sprintf(p, "%02x", l->sll_addr[i]);
	} else snprintf(buf, n, "family%d", sa->sa_family);
}

int main(int argc, char **argv) {
	struct ifaddrs *ifa, *p;
	if (getifaddrs(&ifa) != 0) { perror("getifaddrs"); return 1; }
	for (p = ifa; p; p = p->ifa_next) {
		if (argc > 1 && strcmp(p->ifa_name, argv[1]) != 0) continue;
		char a[128], m[128];
		addr(p->ifa_addr, a, sizeof a);
		addr(p->ifa_netmask, m, sizeof m);
		printf("%s fam=%d addr=%s mask=%s flags=%#x data=%d\n", p->ifa_name,
		       p->ifa_addr ? p->ifa_addr->sa_family : -1, a, m, p->ifa_flags, p->ifa_data != 0);
	}
	freeifaddrs(ifa);
	return 0;
}
`

// TestNetlinkGetifaddrs: with --net=none getifaddrs lists lo exactly as
// the host lists its lo (AF_PACKET, 127.0.0.1/8, ::1/128) and nothing
// else; with --net=host the host's whole list.
func TestNetlinkGetifaddrs(t *testing.T) {
	bin := compileC(t, "getifaddrs", getifaddrsSrc)
	diff(t, []string{bin, "lo"})
	gb := runGlassbox(t, nil, []string{bin})
	lo := runNative(t, []string{bin, "lo"})
	expect(t, "getifaddrs --net=none", gb, lo.Stdout, 0)
	if !strings.Contains(lo.Stdout, "lo fam=2 addr=127.0.0.1 mask=255.0.0.0 flags=0x10049") {
		t.Errorf("native lo is not as expected:\n%s", lo.Stdout)
	}
	diffWith(t, diffOpts{gbFlags: []string{"--net=host"}}, []string{bin})
}

// TestNetlinkIPLo: iproute2 inside the sandbox sees lo as the host's lo.
func TestNetlinkIPLo(t *testing.T) {
	for _, argv := range [][]string{
		{"/usr/sbin/ip", "-o", "addr", "show", "lo"},
		{"/usr/sbin/ip", "link", "show", "lo"},
		{"/usr/sbin/ip", "addr", "show", "dev", "lo"},
		{"/usr/sbin/ip", "-s", "-d", "-o", "-4", "addr", "show", "lo"},
		{"/usr/sbin/ip", "route", "show", "table", "local", "dev", "lo"},
		{"/usr/sbin/ip", "-6", "route", "show", "table", "local", "dev", "lo"},
	} {
		diff(t, argv)
	}
	// The whole sandbox is lo: no other link, no main-table route.
	expect(t, "ip -o link", runGlassbox(t, nil, []string{"/usr/sbin/ip", "-o", "link"}),
		"1: lo: <LOOPBACK,UP,LOWER_UP> mtu 65536 qdisc noqueue state UNKNOWN mode DEFAULT group default qlen 1000\\    link/loopback 00:00:00:00:00:00 brd 00:00:00:00:00:00\n", 0)
	expect(t, "ip route", runGlassbox(t, nil, []string{"/usr/sbin/ip", "route"}), "", 0)
	// Changes need CAP_NET_ADMIN, which the sandbox never has (natively
	// we are root, so there is nothing to compare with).
	r := runGlassbox(t, nil, []string{"/usr/sbin/ip", "link", "set", "lo", "mtu", "1500"})
	expect(t, "ip link set", r, "", 2)
	if !strings.Contains(r.Stderr, "Operation not permitted") {
		t.Errorf("ip link set: want EPERM, got %s", r)
	}
}

// TestNetlinkIPHost: with --net=host iproute2 lists the host's links,
// addresses and routes (relayed from a host netlink socket).
func TestNetlinkIPHost(t *testing.T) {
	o := diffOpts{gbFlags: []string{"--net=host"}}
	for _, argv := range [][]string{
		{"/usr/sbin/ip", "-o", "addr"},
		{"/usr/sbin/ip", "link"},
		{"/usr/sbin/ip", "route"},
		{"/usr/sbin/ip", "-6", "route", "show", "table", "all"},
		{"/usr/sbin/ip", "rule"},
		{"/usr/sbin/ip", "route", "get", "127.0.0.1"},
		{"/usr/sbin/ip", "link", "show", "nosuchif0"},
	} {
		diffWith(t, o, argv)
	}
}

package tests

import "testing"

// execIgnoredC: exec keeps an ignored signal ignored but clears its
// flags, mask and restorer; a caught signal goes back to SIG_DFL.
// Linux: kernel/signal.c (flush_signal_handlers)
const execIgnoredC = `#define _GNU_SOURCE
#include <signal.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>
#define SA_RESTORER 0x04000000
static void on(int s) { (void)s; }
static void show(const char *name, int sig) {
	struct sigaction a;
	sigaction(sig, NULL, &a);
	printf("%s: %s flags=%#x mask_has_usr2=%d\n", name,
		a.sa_handler == SIG_IGN ? "ignored" : a.sa_handler == SIG_DFL ? "default" : "caught",
		(unsigned)(a.sa_flags & ~SA_RESTORER), sigismember(&a.sa_mask, SIGUSR2));
}
int main(int argc, char **argv) {
	if (argc > 1) {
		show("SIGUSR1 after exec", SIGUSR1);
		show("SIGHUP after exec", SIGHUP);
		return 0;
	}
	struct sigaction a;
	memset(&a, 0, sizeof a);
	a.sa_handler = SIG_IGN;
	a.sa_flags = SA_RESTART | SA_ONSTACK;
	sigaddset(&a.sa_mask, SIGUSR2);
	sigaction(SIGUSR1, &a, NULL);
	a.sa_handler = on;
	sigaction(SIGHUP, &a, NULL);
	show("SIGUSR1 before exec", SIGUSR1);
	show("SIGHUP before exec", SIGHUP);
	fflush(stdout);
	execl(argv[0], argv[0], "after", (char *)0);
	return 1;
}
`

// TestExecIgnoredSignals: see execIgnoredC.
func TestExecIgnoredSignals(t *testing.T) {
	t.Parallel()
	diff(t, []string{compileC(t, "execignored", execIgnoredC)})
}

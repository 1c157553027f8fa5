package tests

import (
	"debug/elf"
	"strings"
	"testing"
)

const helloC = `
#include <stdio.h>
int main(void) {
	printf("hello, world\n");
	printf("%d %s %.3f\n", 42, "glassbox", 2.5);
	return 3;
}
`

// TestHello: printf output and a non-zero exit code survive the trip.
func TestHello(t *testing.T) {
	t.Parallel()
	prog := compileC(t, "hello", helloC)
	native, _ := diff(t, []string{prog})
	expect(t, "native", native, "hello, world\n42 glassbox 2.500\n", 3)
}

// TestStaticPIE: the same hello as a static PIE (ET_DYN without PT_INTERP),
// which the loader must relocate itself.
func TestStaticPIE(t *testing.T) {
	t.Parallel()
	prog := compileC(t, "hello-pie", helloC, "-static-pie", "-fPIE")
	f, err := elf.Open(prog)
	if err != nil {
		t.Fatal(err)
	}
	typ := f.Type
	interp := false
	for _, p := range f.Progs {
		interp = interp || p.Type == elf.PT_INTERP
	}
	f.Close()
	if typ != elf.ET_DYN || interp {
		t.Fatalf("%s is not a static PIE (type %v, PT_INTERP %v)", prog, typ, interp)
	}
	native, _ := diff(t, []string{prog})
	expect(t, "native", native, "hello, world\n42 glassbox 2.500\n", 3)
}

const argvC = `
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <stdint.h>
#include <sys/auxv.h>

extern char **environ;

static int cmp(const void *a, const void *b) {
	return strcmp(*(char *const *)a, *(char *const *)b);
}

int main(int argc, char **argv, char **envp) {
	printf("argc=%d\n", argc);
	for (int i = 0; i < argc; i++)
		printf("argv[%d]=[%s]\n", i, argv[i]);
	printf("argv[argc]=%s\n", argv[argc] == NULL ? "NULL" : "non-NULL");
	printf("envp==environ: %d\n", envp == environ);

	const char *foo = getenv("FOO");
	printf("FOO=[%s]\n", foo ? foo : "(unset)");

	/* The whole environment, order-independent: count and a hash of the
	   sorted strings. */
	int n = 0;
	while (envp[n]) n++;
	char **s = malloc((n + 1) * sizeof *s);
	memcpy(s, envp, n * sizeof *s);
	qsort(s, n, sizeof *s, cmp);
	uint64_t h = 1469598103934665603ULL;
	for (int i = 0; i < n; i++) {
		for (const char *p = s[i]; *p; p++) h = (h ^ (unsigned char)*p) * 1099511628211ULL;
		h = (h ^ 0xff) * 1099511628211ULL;
	}
	printf("envc=%d envhash=%016llx\n", n, (unsigned long long)h);

	printf("AT_PAGESZ=%lu\n", getauxval(AT_PAGESZ));
	printf("AT_UID=%lu AT_EUID=%lu AT_GID=%lu AT_EGID=%lu\n",
	       getauxval(AT_UID), getauxval(AT_EUID), getauxval(AT_GID), getauxval(AT_EGID));
	printf("AT_SECURE=%lu\n", getauxval(AT_SECURE));
	printf("AT_RANDOM non-null: %d\n", getauxval(AT_RANDOM) != 0);
	const char *execfn = (const char *)getauxval(AT_EXECFN);
	printf("AT_EXECFN=[%s]\n", execfn ? execfn : "(null)");
	printf("AT_PHDR non-null: %d, AT_ENTRY non-null: %d\n",
	       getauxval(AT_PHDR) != 0, getauxval(AT_ENTRY) != 0);
	return 0;
}
`

// TestArgvEnvAuxv: argc/argv (including an empty and a non-ASCII argument),
// an --env variable, the whole environment, and auxv entries agree with the
// host. Both sides run the program by the same absolute path, so AT_EXECFN
// must be equal too.
func TestArgvEnvAuxv(t *testing.T) {
	t.Parallel()
	prog := compileC(t, "argv", argvC)
	argv := []string{prog, "one", "two words", "", "ünïcødé", "--", "-x"}

	t.Run("env", func(t *testing.T) {
		native, _ := diffWith(t, diffOpts{env: []string{"FOO=bar"}}, argv)
		for _, want := range []string{"argc=7\n", "argv[3]=[]\n", "argv[4]=[ünïcødé]\n",
			"FOO=[bar]\n", "AT_PAGESZ=4096\n", "AT_RANDOM non-null: 1\n",
			"AT_EXECFN=[" + prog + "]\n", "envp==environ: 1\n"} {
			if !strings.Contains(native.Stdout, want) {
				t.Errorf("native output lacks %q:\n%s", want, native.Stdout)
			}
		}
	})
	t.Run("clear-env", func(t *testing.T) {
		native, _ := diffWith(t, diffOpts{env: []string{"FOO=bar"}, clearEnv: true}, argv)
		for _, want := range []string{"FOO=[bar]\n", "envc=1 "} {
			if !strings.Contains(native.Stdout, want) {
				t.Errorf("native output lacks %q:\n%s", want, native.Stdout)
			}
		}
	})
}

const procSelfExeC = `
#include <stdio.h>
#include <unistd.h>
int main(void) {
	char buf[4096];
	ssize_t n = readlink("/proc/self/exe", buf, sizeof buf - 1);
	if (n < 0) { perror("readlink"); return 1; }
	buf[n] = 0;
	printf("%s\n", buf);
	return 0;
}
`

// TestProcSelfExe: readlink("/proc/self/exe") is the program's absolute path.
func TestProcSelfExe(t *testing.T) {
	t.Parallel()
	prog := compileC(t, "procselfexe", procSelfExeC)
	native, gb := diff(t, []string{prog})
	expect(t, "native", native, prog+"\n", 0)
	expect(t, "glassbox", gb, prog+"\n", 0)
}

const unsupportedC = `
#include <stdio.h>
#include <errno.h>
#include <string.h>
#include <unistd.h>
#include <sys/syscall.h>
int main(void) {
	for (int i = 0; i < 2; i++) {
		errno = 0;
		/* Invalid fds, so even a native run (root, CAP_SYS_BOOT) loads nothing. */
		long r = syscall(SYS_kexec_file_load, -1, -1, 0UL, NULL, 0UL);
		printf("call %d: r=%ld errno=%d (%s)\n", i, r, errno, strerror(errno));
	}
	return 0;
}
`

// TestUnsupportedSyscall: an unimplemented syscall returns ENOSYS to the
// guest. glassbox says nothing of it by default; with --verbose it reports
// it once (by name and number) however often it is called, and --stats
// counts the calls.
//
// Not differential: natively kexec_file_load fails with EPERM (no
// CAP_SYS_BOOT), EBADF (root, given these fds) or ENOSYS (kernel without
// CONFIG_KEXEC_FILE, or a seccomp sandbox), depending on the host, so the
// host is no oracle here. This test pins glassbox's documented behaviour for
// unknown syscalls: ENOSYS, quiet unless asked.
func TestUnsupportedSyscall(t *testing.T) {
	t.Parallel()
	prog := compileC(t, "unsupported", unsupportedC)
	want := "call 0: r=-1 errno=38 (Function not implemented)\n" +
		"call 1: r=-1 errno=38 (Function not implemented)\n"
	gb := runGlassbox(t, nil, []string{prog})
	expect(t, "glassbox", gb, want, 0)
	if gb.Stderr != "" {
		t.Errorf("without --verbose glassbox wrote %q", gb.Stderr)
	}
	gb = runGlassbox(t, []string{"--verbose"}, []string{prog})
	expect(t, "glassbox --verbose", gb, want, 0)
	if gb.Stderr != "glassbox: unsupported syscall kexec_file_load (320)\n" {
		t.Errorf("--verbose: want the syscall named once, got %q", gb.Stderr)
	}
	gb = runGlassbox(t, []string{"--stats"}, []string{prog})
	expect(t, "glassbox --stats", gb, want, 0)
	if !strings.Contains(gb.Stderr, "\nglassbox: stats: unsupported syscall kexec_file_load (320) calls=2\n") {
		t.Errorf("--stats lacks the count of unsupported calls:\n%s", gb.Stderr)
	}
}

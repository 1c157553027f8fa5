package tests

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
)

const copyC = `
#define _GNU_SOURCE
#include <stdio.h>
#include <fcntl.h>
#include <unistd.h>
#include <string.h>
#include <errno.h>
#include <sys/sendfile.h>
int main(int argc, char **argv) {
	int in = open(argv[1], O_RDONLY);
	char tmpl[] = "/tmp/gbcopyXXXXXX"; int out = mkstemp(tmpl); unlink(tmpl);
	loff_t off = 5;
	ssize_t n = copy_file_range(in, &off, out, NULL, 100, 0);
	printf("copy_file_range n=%zd off=%lld pos=%lld\n", n, (long long)off, (long long)lseek(out, 0, SEEK_CUR));
	char buf[256] = {0}; pread(out, buf, sizeof buf - 1, 0); printf("[%s]\n", buf);
	int p[2]; pipe(p);
	loff_t o2 = 0;
	n = splice(in, &o2, p[1], NULL, 7, 0);
	printf("splice file->pipe n=%zd off=%lld\n", n, (long long)o2);
	n = splice(p[0], NULL, out, NULL, 100, 0);
	printf("splice pipe->file n=%zd\n", n);
	n = splice(in, NULL, out, NULL, 5, 0);
	printf("splice file->file n=%zd errno=%s\n", n, errno == EINVAL ? "EINVAL" : "?");
	off_t so = 2; n = sendfile(out, in, &so, 3);
	printf("sendfile n=%zd off=%lld\n", n, (long long)so);
	memset(buf, 0, sizeof buf); pread(out, buf, sizeof buf - 1, 0); printf("[%s]\n", buf);
	return 0;
}
`

// TestCopyCalls: copy_file_range, splice and sendfile with and without
// offsets, and splice's refusal of two non-pipes.
func TestCopyCalls(t *testing.T) {
	t.Parallel()
	in := filepath.Join(t.TempDir(), "in")
	if err := os.WriteFile(in, []byte(strings.Repeat("0123456789", 3)), 0o644); err != nil {
		t.Fatal(err)
	}
	prog := compileC(t, "copycalls", copyC, "-dynamic")
	native, _ := diff(t, []string{prog, in})
	if !strings.Contains(native.Stdout, "copy_file_range n=25") {
		t.Errorf("native run looks wrong: %s", native)
	}
}

package tests

import "testing"

// TestShellPipelines: the processes issue's commands, with the host's own
// dynamically linked shells and coreutils, match native output and status.
func TestShellPipelines(t *testing.T) {
	t.Parallel()
	for _, argv := range [][]string{
		{"/bin/sh", "-c", "ls -l /usr/bin | wc -l; echo status=$?"},
		{"/bin/bash", "-c", "for i in 1 2 3; do echo $i; done | tac"},
		// yes must die of SIGPIPE when head is done.
		{"/bin/bash", "-c", "yes | head -n 3; echo ${PIPESTATUS[@]}"},
		{"/bin/sh", "-c", "cd $(mktemp -d) && echo hi > x && cat x && rm x && cd / && echo ok"},
		{"/bin/bash", "-c", "x=$(echo sub); echo $x; (exit 7); echo $?; false || echo or; true && echo and"},
		{"/bin/sh", "-c", "exec 3>&1; echo to3 >&3; echo $$ > /dev/null; cat /etc/hostname | tr a-z A-Z | wc -c"},
		{"/bin/bash", "-c", "sort -r <<< $'b\\na\\nc' | head -2; seq 1 1000 | grep 7 | tail -1"},
	} {
		diff(t, argv)
	}
}

# The shape of CPython test_thread's test_forkinthread: a thread forks; the
# child writes b"OK" into a pipe and _exits; the parent reads it (issue 13
# saw b'\x90\xfd' here: the guest read wrong bytes). Repeated N times,
# with other threads allocating meanwhile in half of the rounds.
import _thread
import os
import sys
import threading
import warnings

warnings.simplefilter("ignore", DeprecationWarning)
n = int(sys.argv[1]) if len(sys.argv) > 1 else 20
stop = False


def churn():
    x = []
    while not stop:
        x.append(bytes(range(256)) * 4)
        if len(x) > 200:
            x.clear()


bad = 0
for i in range(n):
    busy = [threading.Thread(target=churn) for _ in range(2 if i % 2 else 0)]
    for t in busy:
        t.start()
    read_fd, write_fd = os.pipe()
    pid = None
    done = threading.Event()

    def fork_thread(read_fd, write_fd):
        global pid
        pid = os.fork()
        if pid:
            done.set()
            return
        try:
            os.close(read_fd)
            os.write(write_fd, b"OK")
        finally:
            os._exit(0)

    _thread.start_new_thread(fork_thread, (read_fd, write_fd))
    got = os.read(read_fd, 2)
    os.close(write_fd)
    done.wait()
    _, status = os.waitpid(pid, 0)
    os.close(read_fd)
    stop = True
    for t in busy:
        t.join()
    stop = False
    if got != b"OK" or status != 0:
        bad += 1
        print("round", i, "read", got, "status", status)
print("forkinthread:", n, "rounds,", bad, "bad")

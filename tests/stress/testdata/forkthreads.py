# Python threads build and mutate data while other threads fork. Each child
# checks a snapshot the parent made before forking (a checksum of a
# bytearray and a dict) and that the parent's write made after fork did not
# reach it, and reports through a pipe; the parent checks its own data and
# that the child's writes did not reach it.
import hashlib
import os
import sys
import threading

n = int(sys.argv[1]) if len(sys.argv) > 1 else 10
lock = threading.Lock()
buf = bytearray(os.urandom(0) or bytes(i % 251 for i in range(1 << 18)))
table = {i: str(i) * 3 for i in range(5000)}
stop = threading.Event()


def digest():
    h = hashlib.sha256(bytes(buf))
    h.update(repr(sorted(table.items())).encode())
    return h.hexdigest()


def mutator(k):
    j = 0
    while not stop.is_set():
        with lock:
            buf[(j * 7919 + k) % len(buf)] ^= 0x5A
            buf[(j * 7919 + k) % len(buf)] ^= 0x5A  # back: content unchanged under the lock
            table[5000 + k] = j
            del table[5000 + k]
        j += 1


def forker(results, i):
    marks = bytearray(b"before" * 1000)
    r, w = os.pipe()
    r2, w2 = os.pipe()
    with lock:
        want = digest()
        pid = os.fork()
    if pid == 0:
        os.close(r)
        os.read(r2, 1)  # after the parent's later write
        ok = digest() == want and marks == b"before" * 1000
        buf[0] ^= 0xFF  # the child's writes must not reach the parent
        marks[:] = b"child!" * 1000
        os.write(w, b"ok" if ok else b"no")
        os._exit(0)
    os.close(w)
    marks[:] = b"parent" * 1000  # must not reach the child
    os.write(w2, b"g")
    got = os.read(r, 2)
    os.close(r)
    os.close(r2)
    os.close(w2)
    _, st = os.waitpid(pid, 0)
    with lock:
        same = digest() == want and marks == b"parent" * 1000
    results[i] = (got, st, same)


muts = [threading.Thread(target=mutator, args=(k,)) for k in range(3)]
for t in muts:
    t.start()
results = [None] * n
for i in range(0, n, 2):
    fs = [threading.Thread(target=forker, args=(results, j)) for j in range(i, min(i + 2, n))]
    for t in fs:
        t.start()
    for t in fs:
        t.join()
stop.set()
for t in muts:
    t.join()
for i, r in enumerate(results):
    if r != (b"ok", 0, True):
        print("fork", i, "result", r)
print("forkthreads:", n, "forks from threads while 3 threads mutate:",
      "ok" if all(r == (b"ok", 0, True) for r in results) else "FAIL")

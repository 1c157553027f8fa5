// node with its thread pool, worker threads and child processes at once:
// worker threads hash buffers and post results back, the main thread runs
// execSync and spawn (fork+exec from a process whose helper threads are
// busy), timers fire, and the libuv pool does fs and crypto work. Every
// result is checked; the output is the same on every correct run.
const { Worker, isMainThread, parentPort, workerData } = require("worker_threads");
const crypto = require("crypto");
const cp = require("child_process");
const fs = require("fs");
const os = require("os");
const path = require("path");

if (!isMainThread) {
  let h = crypto.createHash("sha256");
  const b = Buffer.alloc(1 << 16);
  for (let i = 0; i < workerData.rounds; i++) {
    b.fill(i & 0xff);
    h.update(b);
  }
  parentPort.postMessage(h.digest("hex"));
  return;
}

const n = parseInt(process.argv[2] || "10", 10);
function expected(rounds) {
  const h = crypto.createHash("sha256");
  const b = Buffer.alloc(1 << 16);
  for (let i = 0; i < rounds; i++) {
    b.fill(i & 0xff);
    h.update(b);
  }
  return h.digest("hex");
}

const workers = [];
for (let w = 0; w < 3; w++) {
  workers.push(new Promise((resolve, reject) => {
    const wk = new Worker(__filename, { workerData: { rounds: 50 + w } });
    wk.on("message", (m) => resolve(m === expected(50 + w)));
    wk.on("error", reject);
  }));
}

let execOK = 0;
for (let i = 0; i < n; i++) {
  if (cp.execSync(`echo run ${i}`).toString() === `run ${i}\n`) execOK++;
}

const spawns = [];
for (let i = 0; i < n; i++) {
  spawns.push(new Promise((resolve) => {
    const c = cp.spawn("/bin/sh", ["-c", `exit ${i % 7}`]);
    c.on("exit", (code) => resolve(code === i % 7));
  }));
}

const dir = fs.mkdtempSync(path.join(os.tmpdir(), "nodestress-"));
const files = [];
for (let i = 0; i < n; i++) {
  files.push(fs.promises.writeFile(path.join(dir, `f${i}`), Buffer.alloc(10000, i))
    .then(() => fs.promises.readFile(path.join(dir, `f${i}`)))
    .then((b) => b.length === 10000 && b.every((x) => x === (i & 0xff))));
}

const pbk = [];
for (let i = 0; i < 4; i++) {
  pbk.push(new Promise((resolve) => crypto.pbkdf2("pw", "salt" + i, 1000, 32, "sha256",
    (err, k) => resolve(!err && k.equals(crypto.pbkdf2Sync("pw", "salt" + i, 1000, 32, "sha256"))))));
}

let ticks = 0;
const iv = setInterval(() => { ticks++; }, 5);

Promise.all([Promise.all(workers), Promise.all(spawns), Promise.all(files), Promise.all(pbk)])
  .then(([w, s, f, p]) => {
    clearInterval(iv);
    fs.rmSync(dir, { recursive: true });
    console.log("workers:", w.every(Boolean) ? "ok" : "BAD");
    console.log("execSync:", execOK, "of", n);
    console.log("spawn:", s.filter(Boolean).length, "of", n);
    console.log("fs:", f.filter(Boolean).length, "of", n);
    console.log("pbkdf2:", p.every(Boolean) ? "ok" : "BAD");
    setTimeout(() => console.log("timer"), 20);
  });

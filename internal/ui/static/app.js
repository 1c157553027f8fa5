// glassbox dashboard: draws the view from /api/stream (server-sent events).
// Everything the guest controls (names, arguments, paths) goes into the
// page as text, never as HTML.
"use strict";
(function () {
  var view = window.GB_INITIAL || { procs: [], pipes: [], stats: {}, running: true, t_ms: 0 };
  var selected = parseInt((location.hash.match(/pid=(\d+)/) || [0, "0"])[1], 10);
  var events = [];           // kept events, newest last
  var MAX_EVENTS = 5000;
  var lastSeq = 0;
  var paused = false;
  var kinds = { proc: true, signal: true, cow: true, fault: true, syscall: false, fd: false, mem: false };
  var source = null;
  // #kinds=proc,syscall in the address picks the event kinds to show.
  var hashKinds = location.hash.match(/kinds=([a-z,]+)/);
  if (hashKinds) {
    Object.keys(kinds).forEach(function (k) { kinds[k] = false; });
    hashKinds[1].split(",").forEach(function (k) { if (k in kinds) kinds[k] = true; });
  }

  function $(id) { return document.getElementById(id); }
  function el(tag, attrs) {
    var e = document.createElement(tag);
    if (attrs) for (var k in attrs) {
      if (k === "text") e.textContent = attrs[k];
      else if (k === "cls") e.className = attrs[k];
      else if (k === "onclick") e.onclick = attrs[k];
      else e.setAttribute(k, attrs[k]);
    }
    for (var i = 2; i < arguments.length; i++) {
      var c = arguments[i];
      if (c == null) continue;
      e.appendChild(typeof c === "string" ? document.createTextNode(c) : c);
    }
    return e;
  }
  function clear(e) { while (e.firstChild) e.removeChild(e.firstChild); }
  function bytes(n) {
    var u = ["B", "KiB", "MiB", "GiB", "TiB"], i = 0;
    while (n >= 1024 && i < u.length - 1) { n /= 1024; i++; }
    return (i ? n.toFixed(n < 10 ? 1 : 0) : n) + " " + u[i];
  }
  function ms(t) { return t < 1000 ? t.toFixed(1) + " ms" : (t / 1000).toFixed(2) + " s"; }
  function procName(p) { return p ? (p.comm || (p.cmdline && p.cmdline[0]) || "?") : "?"; }
  function byPid(pid) {
    for (var i = 0; i < view.procs.length; i++) if (view.procs[i].pid === pid) return view.procs[i];
    return null;
  }
  function select(pid) {
    selected = pid;
    if (history.replaceState) history.replaceState(null, "", "#pid=" + pid + (hashKinds ? "&kinds=" + hashKinds[1] : ""));
    render(); renderLog();
  }

  // ---- header ----
  function renderHeader() {
    var st = $("status");
    st.textContent = view.running ? "running · " + ms(view.t_ms) : "exited after " + ms(view.t_ms) + " · showing the run as it ended";
    st.className = "status" + (view.running ? "" : " exited");
    var s = view.stats || {};
    var c = $("counters"); clear(c);
    [["syscalls", s.syscalls], ["faults", s.faults], ["COW copies", s.cow_copies], ["processes", s.processes],
     ["threads", s.threads], ["memory", bytes(s.mem_in_use_bytes || 0)], ["peak", bytes(s.mem_peak_bytes || 0)]]
      .forEach(function (kv) { c.appendChild(el("div", null, el("dt", { text: kv[0] }), el("dd", { text: String(kv[1] == null ? 0 : kv[1]) }))); });
  }

  // ---- process tree ----
  function renderTree() {
    var tree = $("tree"); clear(tree);
    var kids = {}, pids = {};
    view.procs.forEach(function (p) { pids[p.pid] = true; });
    view.procs.forEach(function (p) {
      var parent = pids[p.ppid] && p.ppid !== p.pid ? p.ppid : 0;
      (kids[parent] = kids[parent] || []).push(p);
    });
    function walk(parent, depth) {
      (kids[parent] || []).forEach(function (p) {
        var args = (p.cmdline || []).slice(1).join(" ");
        var row = el("div", {
          cls: "proc" + (p.pid === selected ? " selected" : "") + (p.state === "X" ? " gone" : ""),
          "data-pid": p.pid, "data-ppid": p.ppid, "data-comm": procName(p), "data-state": p.state,
          onclick: function () { select(p.pid); }
        },
          el("span", { cls: "pid", text: String(p.pid) }),
          el("span", { cls: "state st-" + p.state, title: stateName(p.state), text: p.state }),
          el("span", { cls: "cmd", style: "padding-left:" + depth * 16 + "px" },
            depth ? el("span", { cls: "tw", text: "└ " }) : null,
            el("b", { text: procName(p) }), el("span", { cls: "args", text: args }),
            p.exit ? el("span", { cls: "exit", text: p.exit }) : null),
          el("span", { cls: "uid", title: "uid", text: "uid " + p.uid }),
          el("span", { cls: "ctr", title: "page faults · COW copies · traced syscalls", text:
            p.faults + " flt · " + p.cow_copies + " cow" + (p.syscalls_traced ? " · " + p.syscalls_traced + " sc" : "") }));
        tree.appendChild(row);
        walk(p.pid, depth + 1);
      });
    }
    walk(0, 0);
    if (!view.procs.length) tree.appendChild(el("div", { cls: "muted", text: "no processes yet" }));
    renderPipes();
  }
  function stateName(s) {
    return { R: "running", S: "waiting in the kernel", T: "stopped", Z: "zombie (exited, not waited for)", X: "gone, shown as last seen" }[s] || s;
  }
  function hue(name) { var n = parseInt((name.match(/\d+/) || ["0"])[0], 10); return (n * 67) % 360; }

  function renderPipes() {
    var svg = $("pipe-arcs"), list = $("pipe-list"), tree = $("tree");
    while (svg.firstChild) svg.removeChild(svg.firstChild);
    clear(list);
    var rows = {};
    Array.prototype.forEach.call(tree.querySelectorAll(".proc"), function (r) { rows[r.getAttribute("data-pid")] = r; });
    var ns = "http://www.w3.org/2000/svg", lane = 0;
    svg.setAttribute("height", tree.offsetHeight);
    (view.pipes || []).forEach(function (pp) {
      var color = "hsl(" + hue(pp.name) + ",70%,45%)";
      var pairs = [];
      pp.writers.forEach(function (w) { pp.readers.forEach(function (r) { if (w.pid !== r.pid) pairs.push([w, r]); }); });
      var desc = function (ends) {
        return ends.map(function (e) { return procName(byPid(e.pid)) + "[" + e.pid + "] fd " + e.fd; }).join(", ") || "nobody";
      };
      list.appendChild(el("li", {
        cls: "pipe", "data-pipe": pp.name,
        "data-writers": pp.writers.map(function (e) { return e.pid; }).join(" "),
        "data-readers": pp.readers.map(function (e) { return e.pid; }).join(" ")
      }, el("span", { cls: "name", style: "color:" + color, text: pp.name }), ": " + desc(pp.writers) + " → " + desc(pp.readers)));
      if (!pairs.length) return;
      lane++;
      pairs.forEach(function (pr) {
        var a = rows[pr[0].pid], b = rows[pr[1].pid];
        if (!a || !b) return;
        var y1 = a.offsetTop + a.offsetHeight / 2, y2 = b.offsetTop + b.offsetHeight / 2, x = 4, w = 16 + lane * 18;
        var path = document.createElementNS(ns, "path");
        path.setAttribute("d", "M" + x + "," + y1 + " C" + (x + w) + "," + y1 + " " + (x + w) + "," + y2 + " " + (x + 6) + "," + y2);
        path.setAttribute("stroke", color); path.setAttribute("stroke-width", "2"); path.setAttribute("fill", "none");
        path.setAttribute("class", "pipe-line"); path.setAttribute("data-pipe", pp.name);
        path.setAttribute("data-from", pr[0].pid); path.setAttribute("data-to", pr[1].pid);
        svg.appendChild(path);
        var head = document.createElementNS(ns, "path");
        head.setAttribute("d", "M" + x + "," + y2 + " l7,-4 l0,8 z"); head.setAttribute("fill", color);
        svg.appendChild(head);
        var label = document.createElementNS(ns, "text");
        label.setAttribute("x", x + w * 0.75 + 2); label.setAttribute("y", (y1 + y2) / 2 + 4);
        label.setAttribute("font-size", "11"); label.setAttribute("fill", color);
        label.textContent = pp.name;
        svg.appendChild(label);
      });
    });
    if (!(view.pipes || []).length) list.appendChild(el("li", { cls: "muted", text: "no pipes open" }));
  }

  // ---- selected process ----
  function renderDetail() {
    var p = byPid(selected);
    var sum = $("detail-summary"); clear(sum);
    var fdBody = $("fds").tBodies[0]; clear(fdBody);
    var vmBody = $("vmas").tBodies[0]; clear(vmBody);
    if (!p) { $("detail-title").textContent = selected ? "Process " + selected + " (not seen yet)" : "Process (click one)"; $("mem-summary").textContent = ""; return; }
    $("detail-title").textContent = procName(p) + " [" + p.pid + "]" + (p.state === "X" ? " — gone, as last seen" : "");
    var rows = [["command line", (p.cmdline || []).join(" ")], ["executable", p.exe], ["state", p.state + " (" + stateName(p.state) + ")" + (p.exit ? ", " + p.exit : "")],
      ["parent", String(p.ppid)], ["uid / gid", p.uid + " / " + p.gid], ["pgid / sid", p.pgid + " / " + p.sid],
      ["thread ids", (p.threads || []).join(" ")],
      ["page faults", String(p.faults)], ["COW copies / reuses", p.cow_copies + " / " + p.cow_reuses], ["host map calls", String(p.host_maps)],
      ["syscalls", p.syscalls_traced ? p.syscalls_traced + " (traced)" : (view.syscall_events ? "0 (traced)" : "tick “syscall” below to count them")]];
    if (p.seen_ms >= 0 && p.state === "X") rows.push(["last seen", ms(p.seen_ms)]);
    rows.forEach(function (kv) { if (kv[1]) { sum.appendChild(el("dt", { text: kv[0] })); sum.appendChild(el("dd", { text: kv[1] })); } });

    var peers = {};
    (view.pipes || []).forEach(function (pp) { peers[pp.name] = pp.writers.concat(pp.readers); });
    (p.fds || []).forEach(function (f) {
      var target = el("td", { cls: "mono" }, f.target);
      (peers[f.target] || []).forEach(function (e) {
        if (e.pid === p.pid) return;
        target.appendChild(el("span", { cls: "peer", text: "↔ " + procName(byPid(e.pid)) + "[" + e.pid + "]", onclick: function () { select(e.pid); } }));
      });
      fdBody.appendChild(el("tr", { "data-fd": f.fd, "data-target": f.target },
        el("td", { cls: "mono", text: String(f.fd) }), el("td", { text: f.mode + (f.cloexec ? " cloexec" : "") }),
        el("td", null, el("span", { cls: "kind " + f.kind, text: f.kind })), target));
    });
    if (!(p.fds || []).length) fdBody.appendChild(el("tr", null, el("td", { colspan: 4, cls: "muted", text: "none" })));

    $("mem-summary").textContent = (p.resident_pages || 0) + " pages resident (" + bytes((p.resident_pages || 0) * 4096) + ") of " + bytes(p.vsize_bytes || 0) + " mapped" + (p.swapped_pages ? ", " + p.swapped_pages + " pages in swap" : "");
    (p.vmas || []).forEach(function (v) {
      var strip;
      if (v.resident < 0 || !v.strip) {
        strip = el("div", { cls: "strip unknown", title: "per-page residency not reported by this build" }, "?");
      } else {
        strip = el("div", { cls: "strip", title: v.resident + " of " + v.pages + " pages resident, " + v.shared + " shared" + (v.swapped ? ", " + v.swapped + " in swap" : "") });
        for (var i = 0; i < v.strip.length; i++) {
          strip.appendChild(el("i", { cls: { ".": "c-none", "-": "c-part", "#": "c-full", "s": "c-shared", "o": "c-swapped" }[v.strip[i]] }));
        }
      }
      vmBody.appendChild(el("tr", null, el("td", { cls: "mono range", text: v.start + "-" + v.end }), el("td", { cls: "mono", text: v.perms }),
        el("td", { cls: "size", text: bytes(v.pages * 4096) }), el("td", { cls: "mono" }, el("div", { cls: "nm", title: v.name || "", text: v.name || "" })),
        el("td", null, strip, v.resident >= 0 ? el("span", { cls: "muted", text: " " + v.resident + "/" + v.pages }) : null)));
    });
    if (!(p.vmas || []).length) vmBody.appendChild(el("tr", null, el("td", { colspan: 5, cls: "muted", text: "no address space" })));
  }

  function render() {
    if (!selected && view.procs.length) selected = view.procs[0].pid;
    renderHeader(); renderTree(); renderDetail();
  }

  // ---- event log ----
  function lineFor(e) {
    var who = "[" + e.pid + (e.tid && e.tid !== e.pid ? "/" + e.tid : "") + "]";
    var text = e.kind === "syscall"
      ? e.name + "(" + (e.args || "") + ") = " + (e.result || "") + " <" + (e.dur_us || 0).toFixed(0) + "µs>"
      : e.detail || "";
    return { who: who, text: text };
  }
  function visible(e) {
    if (!kinds[e.kind]) return false;
    if ($("only-selected").checked && e.pid !== selected) return false;
    var f = $("text-filter").value;
    if (f) { var l = lineFor(e); if ((l.who + " " + e.kind + " " + l.text).indexOf(f) < 0) return false; }
    return true;
  }
  function eventRow(e) {
    if (e.lost) return el("div", { cls: "ev lost", text: "… " + e.lost + " events dropped (the ring moved on)" });
    var l = lineFor(e);
    return el("div", { cls: "ev k-" + e.kind, "data-pid": e.pid },
      el("span", { cls: "t", text: ((e.t_us / 1000).toFixed(3) + " ms").padStart(13) + " " }),
      el("span", { cls: "k", text: e.kind }), l.who + " " + l.text);
  }
  function renderLog() {
    var log = $("log"); clear(log);
    var shown = 0, frag = document.createDocumentFragment();
    for (var i = Math.max(0, events.length - 2000); i < events.length; i++) {
      if (events[i].lost || visible(events[i])) { frag.appendChild(eventRow(events[i])); shown++; }
    }
    log.appendChild(frag);
    log.scrollTop = log.scrollHeight;
    $("log-count").textContent = shown + " shown of " + events.length;
  }
  function addEvents(batch) {
    var log = $("log");
    var atBottom = log.scrollTop + log.clientHeight >= log.scrollHeight - 20;
    if (batch.lost) events.push({ lost: batch.lost });
    (batch.events || []).forEach(function (e) { events.push(e); lastSeq = Math.max(lastSeq, e.seq); });
    if (events.length > MAX_EVENTS) events.splice(0, events.length - MAX_EVENTS);
    if (paused) return;
    var frag = document.createDocumentFragment();
    if (batch.lost) frag.appendChild(eventRow({ lost: batch.lost }));
    (batch.events || []).forEach(function (e) { if (visible(e)) frag.appendChild(eventRow(e)); });
    log.appendChild(frag);
    while (log.childNodes.length > 2000) log.removeChild(log.firstChild);
    if (atBottom) log.scrollTop = log.scrollHeight;
    $("log-count").textContent = log.childNodes.length + " shown of " + events.length;
  }

  function setupFilters() {
    var box = $("kinds");
    Object.keys(kinds).forEach(function (k) {
      var cb = el("input", { type: "checkbox", id: "kind-" + k });
      cb.checked = kinds[k];
      cb.onchange = function () {
        kinds[k] = cb.checked;
        // Syscall, fd and mem events are only produced while a page asks.
        if (k === "syscall" || k === "fd" || k === "mem") connect();
        renderLog();
      };
      box.appendChild(el("label", { title: k === "syscall" ? "costly: every syscall is timed and rendered" : "" }, cb, " " + k));
    });
    $("only-selected").onchange = renderLog;
    $("text-filter").oninput = renderLog;
    $("pause").onclick = function () { paused = !paused; this.textContent = paused ? "resume" : "pause"; if (!paused) renderLog(); };
    $("clear").onclick = function () { events = []; renderLog(); };
    window.addEventListener("resize", renderPipes);
  }

  function connect() {
    if (source) source.close();
    if (!window.EventSource) return;
    var want = Object.keys(kinds).filter(function (k) { return kinds[k]; }).join(",");
    source = new EventSource("/api/stream?kinds=" + encodeURIComponent(want || "proc") + "&since=" + (lastSeq + 1));
    source.addEventListener("snapshot", function (m) { view = JSON.parse(m.data); render(); });
    source.addEventListener("events", function (m) { addEvents(JSON.parse(m.data)); });
    source.onopen = function () { $("conn").className = "conn"; $("conn").title = "live"; };
    source.onerror = function () { $("conn").className = "conn down"; $("conn").title = "disconnected (glassbox stopped?)"; };
  }

  setupFilters();
  render();
  renderLog();
  // The stream starts after the load event, so a page snapshot (or a
  // headless browser's DOM dump) shows the inlined view at once.
  window.addEventListener("load", function () { setTimeout(connect, 0); });
})();

#!/usr/bin/env python3
"""Judges the console of a guest run of tests/scx/scenarios.sh (see guest_test.sh).

Usage: check.py CONSOLE_LOG POLICIES
Prints one line per check ("ok" or "FAIL"), then the measured figures (WAVE_FIGURES ...) and a
markdown table of them; exits 1 if any check failed.
"""
import json
import re
import statistics
import sys

log_path, policies = sys.argv[1], sys.argv[2].split()
workloads, scx, agents, states = {}, {}, {}, {}
timeouts = []
hostile = None
with open(log_path, encoding="utf-8", errors="replace") as f:
    for raw in f:
        line = raw.strip()
        if line.startswith("WAVE_RESULT workload "):
            kv = dict(p.split("=", 1) for p in line.split()[2:] if "=" in p)
            workloads[kv["label"]] = kv
        elif line.startswith("WAVE_RESULT hostile "):
            hostile = dict(p.split("=", 1) for p in line.split()[2:] if "=" in p)
        elif line.startswith("WAVE_SCX "):
            m = re.match(r"WAVE_SCX label=(\S+) rc=(\d+) (.*)$", line)
            if m:
                try:
                    scx[m.group(1)] = dict(json.loads(m.group(3)), rc=int(m.group(2)))
                except ValueError:
                    scx[m.group(1)] = {"rc": int(m.group(2)), "unparsed": m.group(3)}
        elif line.startswith("WAVE_AGENT "):
            m = re.match(r"WAVE_AGENT label=(\S+) (.*)$", line)
            nums = dict((k.replace(" ", "_"), int(v)) for v, k in
                        [(x.group(2), x.group(1)) for x in
                         re.finditer(r"(commits sent|staged sent|ok|stale|rejected|in flight) (\d+)",
                                     m.group(2))])
            # An agent that left with an error has no summary: keep the line to show it.
            agents[m.group(1)] = dict(nums, line=m.group(2)) if nums else None
        elif line.startswith("WAVE_TIMEOUT "):
            timeouts.append(line)
        elif line.startswith("WAVE_ORPHAN ") or line.startswith("WAVE_GONE "):
            states["agent-after-hostkill"] = line.split()[0]
        elif line.startswith("WAVE_STATE "):
            parts = line.split()
            states[parts[1]] = parts[2] if len(parts) > 2 else ""

failures = 0


def check(name, cond, detail=""):
    global failures
    print(("ok    " if cond else "FAIL  ") + name + ("" if cond else ": " + detail))
    if not cond:
        failures += 1


def completed(label):
    w = workloads.get(label)
    check(f"{label}: every work item done", w is not None and w["done"] == w["items"],
          f"{w}")
    if w is not None and w.get("ext") == "1":
        check(f"{label}: every thread ran as SCHED_EXT", w["wrong_policy"] == "0", f"{w}")
    return w


def accounted(label, s):
    """Every commit and staged decision the agent sent is answered or dropped as stale, once."""
    k = s["kernel"]
    here = sum(s["results_here"].values())
    kernel_answers = sum(s["results_kernel"].values())
    check(f"{label}: every decision received is forwarded, answered here, or of an old epoch",
          s["commits_received"] + s["staged_received"] ==
          s["forwarded"] + s["staged_forwarded"] + here + s["stale_epoch"], json.dumps(s))
    check(f"{label}: the kernel answered every decision it took (or dropped it: old epoch)",
          kernel_answers + k["stale_epoch"] == k["committed"] + k["staged"], json.dumps(k))
    check(f"{label}: the kernel took what was forwarded",
          k["committed"] <= s["forwarded"] and k["staged"] <= s["staged_forwarded"] and
          s["forwarded"] - k["committed"] <= 64, json.dumps(s))
    check(f"{label}: the kernel dropped no event", k["dropped"] == 0, json.dumps(k))
    check(f"{label}: unregistered cleanly (not stopped by the kernel)",
          s["rc"] == 0 and 0 < s["exit_kind"] < 1024, f"rc {s['rc']} exit kind {s['exit_kind']}")


def policy_run(label):
    w = completed(label)
    s = scx.get(label)
    check(f"{label}: wave scx reported", s is not None and "kernel" in s, f"{s}")
    if s is None or "kernel" not in s or w is None:
        return
    accounted(label, s)
    ev = s["events"]
    threads, items = int(w["threads"]), int(w["items"])
    check(f"{label}: a TASK_NEW and a TASK_DEAD per thread",
          ev.get("TASK_NEW", 0) >= threads and ev.get("TASK_DEAD", 0) >= threads, json.dumps(ev))
    # A handoff wakes a sleeping partner, unless the partner had not gone to sleep yet (its futex
    # wait then returns at once: no block, no wakeup), which a few handoffs of every run do; and
    # a woken thread that finds the token not yet its own sleeps again. So: most handoffs wake
    # someone, and every block has its wakeup.
    check(f"{label}: wakeups and blocks pair up, most handoffs wake the partner",
          abs(ev.get("TASK_WAKEUP", 0) - ev.get("TASK_BLOCKED", 0)) <= threads + 1 and
          ev.get("TASK_WAKEUP", 0) >= items // 2, json.dumps(ev))
    a = agents.get(label)
    check(f"{label}: the agent's summary", a is not None, "")
    if a is None:
        return
    sent = a["commits_sent"] + a["staged_sent"]
    # A result can still be on its way when the host closes the session (the agent then exits
    # without reading it): those count as answered, and there can be no more of them than the
    # one batch the agent had out at the end.
    check(f"{label}: every commit the agent sent came back answered",
          sent == a["ok"] + a["stale"] + a["rejected"] + a["in_flight"] and a["in_flight"] <= 64,
          f"{a}")
    ok_total = s["results_here"]["ok"] + s["results_kernel"]["ok"]
    check(f"{label}: the agent's ok results are the host's",
          a["ok"] <= ok_total <= a["ok"] + a["in_flight"],
          f"agent {a['ok']} (+{a['in_flight']} in flight), host {ok_total}")
    check(f"{label}: the agent placed the threads (ok results, no FIFO)",
          a["ok"] >= items // 2 and s["kernel"]["fallback"] == 0,
          f"ok {a['ok']}, fallback {s['kernel']['fallback']}")


check("the guest never waited in vain for wave scx or an agent", not timeouts, "; ".join(timeouts))
rounds = sorted(int(l.split("-")[1]) for l in workloads if re.fullmatch(r"fifo-\d+", l))
for r in rounds:
    completed(f"cfs-{r}")
    policy_run(f"fifo-{r}")
    policy_run(f"pinned-{r}")
    check(f"fifo-{r}: sched_ext enabled while it ran", states.get(f"fifo-{r}") == "enabled",
          f"{states.get(f'fifo-{r}')}")
for p in policies:
    policy_run(p)
policy_run("prestage")
s = scx.get("prestage")
if s is not None and "kernel" in s:
    check("prestage: cpus took staged decisions, each answered STAGED",
          s["kernel"]["staged"] > 0 and s["staged_results_kernel"] > 0 and
          s["staged_results_kernel"] <= s["kernel"]["staged"], json.dumps(s))

# The killed agent.
completed("kill-a")
check("kill: the scheduler stayed attached after the agent was killed",
      states.get("kill-after") == "enabled", f"{states.get('kill-after')}")
s = scx.get("kill")
check("kill: wave scx reported", s is not None and "kernel" in s, f"{s}")
if s is not None and "kernel" in s:
    accounted("kill", s)
    check("kill: the silent agent was dropped and a second one attached",
          s["agent_lost"] >= 1 and s["agents"] == 2, json.dumps(s))
    check("kill: the kernel's FIFO ran threads while there was no agent",
          s["kernel"]["fallback"] > 0, json.dumps(s["kernel"]))
completed("kill-b")
a = agents.get("kill-second")
w = workloads.get("kill-b")
check("kill: the second agent took over (placed the second workload's threads)",
      a is not None and w is not None and a.get("ok", 0) >= int(w["items"]) // 2 and
      a.get("in_flight", 1) == 0, f"{a}")

# wave scx killed: the kernel unregisters it, the threads finish, the agent leaves.
check("hostkill: the kernel unregistered the scheduler when wave scx was killed",
      states.get("hostkill-after") == "disabled", f"{states.get('hostkill-after')}")
completed("hostkill")
check("hostkill: the agent child left by itself",
      states.get("agent-after-hostkill") == "WAVE_GONE", f"{states.get('agent-after-hostkill')}")

# The hostile agent.
completed("hostile")
check("hostile: sched_ext stayed enabled under the hostile agent",
      states.get("hostile-during") == "enabled", f"{states.get('hostile-during')}")
s = scx.get("hostile")
check("hostile: wave scx reported", s is not None and "kernel" in s, f"{s}")
if s is not None and "kernel" in s:
    accounted("hostile", s)
    rk = s["results_kernel"]
    check("hostile: the kernel side rejected malformed, unknown and stale decisions",
          rk["malformed"] > 0 and rk["unknown_task"] > 0 and rk["stale"] > 0, json.dumps(rk))
    check("hostile: threads ran by the waiting-time bound or the FIFO, not by the watchdog",
          s["kernel"]["starved"] + s["kernel"]["fallback"] > 0, json.dumps(s["kernel"]))
    if hostile is not None:
        check("hostile: every message it sent was seen",
              int(hostile["sent"]) == s["commits_received"] + s["staged_received"],
              f"sent {hostile['sent']}, received {s['commits_received']}+{s['staged_received']}")
check("the scheduler is gone at the end", states.get("end") == "disabled", f"{states.get('end')}")

# The figures: fifo under scx_wave against the default class, round by round (each ratio is to
# the default class's run of the same round).
def figures(kind):
    ratios, base, runs = [], [], []
    for r in rounds:
        c, x = workloads.get(f"cfs-{r}"), workloads.get(f"{kind}-{r}")
        if c and x:
            ratios.append(float(x["throughput"]) / float(c["throughput"]))
            base.append(c)
            runs.append(x)
    return ratios, base, runs


def med(rows, key):
    return statistics.median(float(r[key]) for r in rows)


table = []
for kind in ("fifo", "pinned"):
    ratios, base, runs = figures(kind)
    if not ratios:
        continue
    print(f"WAVE_FIGURES {kind} rounds={len(ratios)} throughput_ratio={statistics.median(ratios):.3f} "
          f"ratios={','.join(f'{x:.3f}' for x in ratios)} "
          f"cfs_items_per_s={med(base, 'throughput'):.0f} scx_items_per_s={med(runs, 'throughput'):.0f} "
          f"cfs_p50_us={med(base, 'lat_p50_us'):.1f} cfs_p99_us={med(base, 'lat_p99_us'):.1f} "
          f"scx_p50_us={med(runs, 'lat_p50_us'):.1f} scx_p99_us={med(runs, 'lat_p99_us'):.1f}")
    for r, c, x, q in zip(rounds, base, runs, ratios):
        table.append(f"| {r} | {kind} | {float(c['throughput']):.0f} | {float(x['throughput']):.0f} | "
                     f"{q:.3f} | {c['lat_p50_us']} / {c['lat_p99_us']} | "
                     f"{x['lat_p50_us']} / {x['lat_p99_us']} |")
if table:
    print("| round | scx_wave run | default class items/s | scx_wave + fifo items/s | ratio "
          "| default p50 / p99 us | scx_wave p50 / p99 us |")
    print("|---|---|---|---|---|---|---|")
    print("\n".join(sorted(table)))
print(f"{failures} check(s) failed" if failures else "all checks passed")
sys.exit(1 if failures else 0)

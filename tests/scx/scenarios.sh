# The scx scenarios, run inside the guest by tools/qemu-test (busybox sh). The caller prepends
# the settings: POLICIES (policies to run besides fifo), ROUNDS (throughput rounds), WORK
# (workload arguments). Every result is a line starting with WAVE_; tests/scx/check.py reads
# them. Nothing here judges: it only runs and reports.
POLICIES=${POLICIES:-}
ROUNDS=${ROUNDS:-3}
WORK=${WORK:---threads=8 --items=150 --work-us=200}

state() { echo "WAVE_STATE $1 $(cat /sys/kernel/sched_ext/state)"; }

# wait_for FILE TEXT: up to 20 s for TEXT to appear in FILE.
wait_for() {
  for i in $(seq 1 80); do
    grep -q "$2" "$1" 2>/dev/null && return 0
    sleep 0.25
  done
  echo "WAVE_TIMEOUT waiting for '$2' in $1"
}

# Starts `wave scx` with the given flags in the background; $scx is its pid. With an agent of
# its own (--policy=NAME) it returns once the agent has attached. Heartbeats are generous (1s):
# a busy host stalls the whole guest now and then, and these runs must not fall back.
start_scx() {
  label=$1
  shift
  wave scx --format=json --heartbeat-timeout=1s "$@" >/tmp/scx-$label.json \
    2>/tmp/scx-$label.err &
  scx=$!
  wait_for /tmp/scx-$label.err registered
  case "$*" in *--policy=none*) ;; *) wait_for /tmp/scx-$label.err "agent 1 attached" ;; esac
}

# Stops it (SIGINT) and reports its outcome.
stop_scx() {
  label=$1
  kill -INT $scx
  wait $scx
  rc=$?
  echo "WAVE_SCX label=$label rc=$rc $(cat /tmp/scx-$label.json)"
  grep '^wave agent:' /tmp/scx-$label.err | sed "s/^/WAVE_AGENT label=$label /"
  grep -v '^wave agent:' /tmp/scx-$label.err | sed "s/^/WAVE_LOG label=$label /"
}

# 1. Each policy schedules the workload to completion; fifo against the default class, in
#    alternating rounds (throughput and wakeup latency): fifo-R with wave and its agent anywhere
#    and every cpu managed, pinned-R with wave and its agent on cpu 0 and cpus 1-3 managed (the
#    agent takes a host cpu, as in `wave sim --placement=host`).
for r in $(seq 1 $ROUNDS); do
  workload $WORK --label=cfs-$r
  start_scx fifo-$r --policy=fifo
  state fifo-$r
  workload $WORK --ext --label=fifo-$r
  stop_scx fifo-$r
  start_scx pinned-$r --policy=fifo --cpus=1-3
  taskset -p -a -c 0 $scx >/dev/null 2>&1
  for a in $(pgrep -P $scx); do taskset -p -c 0 $a >/dev/null 2>&1; done
  workload $WORK --ext --label=pinned-$r
  stop_scx pinned-$r
done
for p in $POLICIES; do
  start_scx $p --policy=$p
  workload $WORK --ext --label=$p
  stop_scx $p
done
# fifo with prestaged decisions: cpus take them from their staging slots with no round trip.
start_scx prestage --policy=fifo --prestage=4
workload $WORK --ext --label=prestage
stop_scx prestage

# 2. The agent is killed mid-run: the kernel's FIFO finishes the work, the scheduler stays;
#    a second agent joins and takes over. The timeout is short, to see the death soon, but not
#    100 ms: under software emulation on a busy machine a live agent's loop has stalled that long.
#    The agents give a silent host 1 s, as start_scx's own agents do: the host is not on trial.
start_scx kill --policy=none --session=k --heartbeat-timeout=300ms
wave-agent --session=k --policy=fifo --idle-sleep=100us --mlock=on --heartbeat-timeout=1s \
  >/tmp/agent1.out 2>&1 &
agent1=$!
wait_for /tmp/scx-kill.err "agent 1 attached"
workload --threads=8 --items=600 --work-us=200 --ext --label=kill-a &
work=$!
sleep 0.5
kill -9 $agent1
echo "WAVE_KILLED agent=$agent1"
sleep 0.5
state kill-after
wait $work
wave-agent --session=k --policy=fifo --idle-sleep=100us --mlock=on --heartbeat-timeout=1s \
  >/tmp/agent2.out 2>&1 &
agent2=$!
wait_for /tmp/scx-kill.err "agent 2 attached"
workload $WORK --ext --label=kill-b
stop_scx kill
wait $agent2
sed 's/^/WAVE_AGENT label=kill-second /' /tmp/agent2.out

# 3. wave scx itself is killed (SIGKILL): the kernel unregisters the scheduler when its link
#    goes, the threads finish under the fair class, the agent child leaves by itself.
start_scx hostkill --policy=fifo
workload --threads=8 --items=600 --work-us=200 --ext --label=hostkill &
work=$!
sleep 0.5
agent=$(pgrep -P $scx)
kill -9 $scx
wait $scx
sleep 0.5
state hostkill-after
wait $work
for i in $(seq 1 20); do kill -0 $agent 2>/dev/null || break; sleep 0.25; done
kill -0 $agent 2>/dev/null && echo "WAVE_ORPHAN agent=$agent" || echo "WAVE_GONE agent=$agent"

# 4. A hostile agent: garbage and adversarial decisions, checked only by the kernel side.
start_scx hostile --policy=none --session=h --host-checks=off --max-wait=50ms --prestage=4
hostile_agent --session=h --seconds=4 &
hostile=$!
wait_for /tmp/scx-hostile.err "agent 1 attached"
workload $WORK --ext --label=hostile
state hostile-during
wait $hostile
stop_scx hostile
state end

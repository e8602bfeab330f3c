// Properties of the rpc and gang policies on the simulated host.
#include <gtest/gtest.h>

#include <memory>

#include "host/sim/sim.h"
#include "policies/sched/fifo.h"
#include "policies/sched/gang.h"
#include "policies/sched/rpc.h"
#include "tests/sim/sim_checks.h"

namespace wave {
namespace {

SimConfig RpcRun(Placement placement) {
  SimConfig c;
  c.duration_ns = 200'000'000;
  c.workload.kind = WorkloadKind::kRpc;
  c.workload.load_rps = 200'000;
  c.placement = placement;
  c.prestage_depth = 2;
  return c;
}

TEST(RpcPolicy, StagesHandlersBeforeTheirWakeupAndBeatsFifoOnTheIpu) {
  FifoPolicy fifo;
  RpcPolicy rpc;
  absl::StatusOr<SimResult> f = RunSim(RpcRun(Placement::kIpu), fifo);
  absl::StatusOr<SimResult> r = RunSim(RpcRun(Placement::kIpu), rpc);
  ASSERT_TRUE(f.ok() && r.ok());
  ExpectEveryRequestDone(*f);
  ExpectEveryRequestDone(*r);
  EXPECT_GT(rpc.staged_for_wakeup(), r->arrived / 2);  // most handlers were prepared
  EXPECT_GT(r->staged_hits, r->arrived / 2);           // and ran from the staging ring
  // The wakeup no longer waits for a round trip to the agent: p50 drops by most of it (2 us).
  EXPECT_LT(r->latency_p50_us, f->latency_p50_us - 1.5);
}

TEST(RpcPolicy, OnAHostCpuItIsJustFifo) {
  RpcPolicy rpc;
  absl::StatusOr<SimResult> r = RunSim(RpcRun(Placement::kHost), rpc);
  ASSERT_TRUE(r.ok());
  ExpectEveryRequestDone(*r);
  EXPECT_EQ(rpc.staged_for_wakeup(), 0u);  // the NIC is not next to a host-cpu agent
}

SimConfig VmRun(int vms, int vcpus) {
  SimConfig c;
  c.duration_ns = 300'000'000;
  c.workload.kind = WorkloadKind::kVms;
  c.workload.vms = vms;
  c.workload.vcpus_per_vm = vcpus;
  return c;
}

TEST(GangPolicy, VcpusRunTogetherAndNobodyStarves) {
  for (auto [vms, vcpus] : {std::pair{2, 2}, {3, 2}, {4, 2}, {2, 4}}) {
    SCOPED_TRACE(std::to_string(vms) + " VMs x " + std::to_string(vcpus));
    GangPolicy gang;
    absl::StatusOr<SimResult> g = RunSim(VmRun(vms, vcpus), gang);
    absl::StatusOr<SimResult> k = RunSimKernel(VmRun(vms, vcpus));
    ASSERT_TRUE(g.ok() && k.ok());
    EXPECT_EQ(g->invariant_violations, 0u);
    // Gangs: a running vCPU almost never runs without its active siblings (the only gaps are a
    // woken sibling's trip to the agent and back).
    EXPECT_GT(g->vm_useful_cpus, 0.97 * g->vm_oncpu_cpus);
    // Group commits were all-or-nothing: no member of a group ran while another was refused.
    EXPECT_EQ(g->agent.results[WAVE_COMMIT_GROUP_ABORTED], 0u);
    // Nobody starves: the antagonists keep at least one cpu's worth.
    EXPECT_GT(g->antagonist_cpus, 0.9);
    // And the VMs get at least as much useful work as under the kernel's round robin.
    EXPECT_GE(g->vm_useful_cpus, 0.98 * k->vm_useful_cpus);
  }
}

}  // namespace
}  // namespace wave

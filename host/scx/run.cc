#include "host/scx/run.h"

#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <sys/mman.h>
#include <sys/signalfd.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <memory>
#include <string>
#include <vector>

#include "absl/strings/str_format.h"
#include "host/mech/supervisor.h"
#include "transport/clock.h"  // MonotonicNs: CLOCK_MONOTONIC, bpf_ktime_get_ns's clock
#include "transport/doorbell.h"
#include "transport/session.h"

namespace wave {
namespace {

constexpr uint64_t kCheckPeriodNs = 1'000'000;
constexpr uint32_t kSpinRounds = 64;  // empty rounds before napping

// The agent child: `wave-agent --session=S --policy=P ...`, all its output on our stderr. It
// inherits two eventfds: it waits on `wait_fd` (rung when events went to it) and rings
// `ring_fd` when it has sent decisions, so neither side polls a quiet link.
absl::StatusOr<pid_t> SpawnAgent(const ScxConfig& config, const std::string& session,
                                 const sigset_t& mask, int wait_fd, int ring_fd) {
  std::vector<std::string> args = {
      "wave-agent",
      "--session=" + session,
      "--policy=" + config.policy,
      absl::StrFormat("--heartbeat-timeout=%uns", config.heartbeat_timeout_ns),
      absl::StrFormat("--idle-sleep=%uns", config.idle_sleep_ns),
      "--mlock=on",
      absl::StrFormat("--doorbells=%d,%d", wait_fd, ring_fd)};
  std::vector<char*> argv;
  argv.reserve(args.size() + 1);
  for (std::string& a : args) argv.push_back(a.data());
  argv.push_back(nullptr);
  const pid_t pid = fork();
  if (pid < 0) return absl::InternalError(absl::StrFormat("fork: %s", std::strerror(errno)));
  if (pid == 0) {
    sigprocmask(SIG_SETMASK, &mask, nullptr);
    fcntl(wait_fd, F_SETFD, 0);  // inherited across exec
    fcntl(ring_fd, F_SETFD, 0);
    dup2(STDERR_FILENO, STDOUT_FILENO);  // our stdout is for our own report
    execv(config.agent_binary.c_str(), argv.data());
    _exit(127);
  }
  return pid;
}

// Sleeps until the kernel has events, the agent rings, or `ns` passed.
void Nap(uint64_t ns, int kernel_fd, Doorbell& bell) {
  pollfd p[2] = {{.fd = kernel_fd, .events = POLLIN, .revents = 0},
                 {.fd = bell.fd(), .events = POLLIN, .revents = 0}};
  const timespec ts{static_cast<time_t>(ns / 1'000'000'000), static_cast<long>(ns % 1'000'000'000)};
  if (ppoll(p, 2, &ts, nullptr) > 0 && (p[1].revents & POLLIN)) bell.Clear();
}

}  // namespace

absl::StatusOr<ScxResult> RunScx(const ScxConfig& config) {
  if (absl::Status s = CheckScxSupport(); !s.ok()) return s;
  if (config.prestage > WAVE_SCX_STAGE_DEPTH || config.prestage == 1) {
    return absl::InvalidArgumentError(
        absl::StrFormat("prestage %u: 0 or 2..%u", config.prestage, WAVE_SCX_STAGE_DEPTH));
  }
  // Locked and preallocated before anything is registered.
  if (mlockall(MCL_CURRENT | MCL_FUTURE) != 0) {
    return absl::InternalError(absl::StrFormat("mlockall: %s", std::strerror(errno)));
  }

  sigset_t stop_signals;
  sigemptyset(&stop_signals);
  sigaddset(&stop_signals, SIGINT);
  sigaddset(&stop_signals, SIGTERM);
  sigset_t old_mask;
  sigprocmask(SIG_BLOCK, &stop_signals, &old_mask);
  struct MaskRestorer {
    sigset_t mask;
    ~MaskRestorer() { sigprocmask(SIG_SETMASK, &mask, nullptr); }
  } restore_mask{old_mask};
  const int sigfd = signalfd(-1, &stop_signals, SFD_CLOEXEC | SFD_NONBLOCK);
  if (sigfd < 0) return absl::InternalError(absl::StrFormat("signalfd: %s", std::strerror(errno)));
  struct FdCloser {
    int fd;
    ~FdCloser() { close(fd); }
  } close_sigfd{sigfd};

  absl::StatusOr<std::unique_ptr<ScxProgram>> prog =
      ScxProgram::Load({.managed_cpus = config.cpus,  // cpus beyond the machine's: refused
                        .heartbeat_timeout_ns = config.heartbeat_timeout_ns,
                        .max_wait_ns = config.max_wait_ns});
  if (!prog.ok()) return prog.status();
  const int num_cpus = (*prog)->num_cpus();
  absl::StatusOr<std::unique_ptr<ScxHost>> host =
      ScxHost::Create(**prog, {.host_checks = config.host_checks});
  if (!host.ok()) return host.status();

  const std::string name =
      config.session.empty() ? absl::StrFormat("scx-%d", getpid()) : config.session;
  SessionParams params;
  params.num_cpus = static_cast<uint32_t>(num_cpus);
  params.link_latency_ns = 0;  // a real link here: no emulated latency
  params.link = LinkConfig::Sched(config.link_capacity, config.link_capacity,
                                  config.prestage == 0 ? 0u : static_cast<uint32_t>(num_cpus),
                                  config.prestage);
  // The kernel side applies no all-or-nothing groups: an agent commits one by one.
  params.features = WAVE_FEATURES & ~WAVE_FEAT_GROUPS;
  absl::StatusOr<Session> session = Session::Create(name, params);
  if (!session.ok()) return session.status();

  if (absl::Status s = (*prog)->Attach(); !s.ok()) return s;

  const bool own_agent = !config.policy.empty() && config.policy != "none";
  pid_t agent = 0;
  Doorbell agent_bell;  // the host rings, the agent waits
  Doorbell host_bell;   // the agent rings, the host waits
  if (!agent_bell.ok() || !host_bell.ok()) {
    return absl::InternalError(absl::StrFormat("eventfd: %s", std::strerror(errno)));
  }
  if (own_agent) {
    absl::StatusOr<pid_t> pid = SpawnAgent(config, name, old_mask, agent_bell.fd(), host_bell.fd());
    if (!pid.ok()) return pid.status();
    agent = *pid;
  }
  if (config.on_attached) config.on_attached(name, agent);

  ScxResult result;
  absl::Status error;
  const uint64_t start = MonotonicNs();
  // A fresh session waits for its first agent as a reopened one would. No emulated latency: a
  // real link.
  AgentSupervisor supervisor(
      *session, SupervisorOptions{.heartbeat_timeout_ns = config.heartbeat_timeout_ns}, start);
  uint64_t next_check = 0;
  uint32_t idle_rounds = 0;
  for (;;) {
    const uint64_t now = MonotonicNs();
    if (config.duration_ns != 0 && now - start >= config.duration_ns) break;
    absl::StatusOr<uint32_t> pumped = (*host)->Pump(now);
    if (!pumped.ok()) {
      error = pumped.status();
      break;
    }
    absl::StatusOr<uint32_t> taken = (*host)->Actuate();
    if (!taken.ok()) {
      // A corrupt ring from the agent: it is dropped like a silent one; the kernel's FIFO runs.
      (*host)->DetachAgent();
      if (absl::Status s = supervisor.Drop(std::string(taken.status().message()), now); !s.ok()) {
        error = s;
        break;
      }
    }
    supervisor.Beat();
    if (now >= next_check) {
      next_check = now + kCheckPeriodNs;
      if (std::optional<ScxExit> e = (*prog)->Exited()) {
        result.exit = *e;
        break;
      }
      if (agent != 0 && waitpid(agent, nullptr, WNOHANG) == agent) agent = 0;  // reaped
      AgentSupervisor::Change c = supervisor.Check(now);
      if (c.kind == AgentSupervisor::Change::kLost) {
        (*host)->DetachAgent();  // the kernel's FIFO from now on
      } else if (c.kind == AgentSupervisor::Change::kJoined) {
        if (absl::Status s = (*host)->AttachAgent(*std::move(c.link->ends[WAVE_SUBSYS_SCHED]),
                                                  config.link_capacity, now);
            !s.ok()) {
          error = s;
          break;
        }
        if (config.on_agent) config.on_agent((*host)->stats().agents);
      } else if (supervisor.attached()) {
        (*host)->Beat(now);
      }
      if (!supervisor.status().ok()) {
        error = supervisor.status();
        break;
      }
      signalfd_siginfo si;
      if (read(sigfd, &si, sizeof(si)) == sizeof(si)) {
        result.signal = static_cast<int>(si.ssi_signo);
        break;
      }
    }
    if (*pumped > 0 || (taken.ok() && *taken > 0) || (*host)->backlogged()) {
      if ((*host)->has_agent()) agent_bell.Ring();
      idle_rounds = 0;
    } else if (++idle_rounds > kSpinRounds) {
      Nap(config.idle_sleep_ns, (*host)->kernel_fd(), host_bell);
    }
  }

  // Last results to the agent, then the agent is told to leave and the scheduler goes.
  if ((*host)->has_agent()) {
    (void)(*host)->Actuate();
    (void)(*host)->Pump(MonotonicNs());
  }
  result.fallback_ns = supervisor.without_agent_ns(MonotonicNs());
  result.agent_lost = supervisor.lost();
  result.last_agent_error = supervisor.last_error();
  session->Close();
  if (agent != 0) {
    // Give it the heartbeat timeout to notice the close, then make sure.
    const uint64_t deadline = MonotonicNs() + config.heartbeat_timeout_ns + 1'000'000'000;
    while (waitpid(agent, nullptr, WNOHANG) == 0) {
      if (MonotonicNs() > deadline) {
        kill(agent, SIGKILL);
        waitpid(agent, nullptr, 0);
        break;
      }
      usleep(1000);
    }
  }
  (*prog)->Detach();
  if (!result.exit) result.exit = (*prog)->Exited();
  result.host = (*host)->stats();
  result.kernel = (*prog)->Counters();
  host->reset();
  if (!error.ok()) return error;
  return result;
}

}  // namespace wave

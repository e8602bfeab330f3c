#include "host/trace/run.h"

#include <fcntl.h>
#include <sched.h>
#include <signal.h>
#include <sys/epoll.h>
#include <sys/signalfd.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>

#include <atomic>
#include <cerrno>
#include <cstring>
#include <memory>
#include <optional>
#include <thread>
#include <utility>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "absl/strings/str_join.h"
#include "host/trace/cgroup.h"
#include "host/trace/loader.h"
#include "host/trace/restore.h"
#include "host/trace/tracer.h"
#include "lib/sched/agent.h"
#include "transport/clock.h"
#include "transport/doorbell.h"
#include "transport/link.h"
#include "transport/region.h"

namespace wave {
namespace {

constexpr int kIdleWaitMs = 100;      // nothing to do: wake up this often anyway
constexpr int kBackloggedWaitMs = 1;  // the link was full: retry soon
constexpr uint64_t kPublishEveryNs = 50'000'000;
constexpr uint64_t kDrainDeadlineNs = 5'000'000'000;  // final drain, should the agent be stuck
constexpr uint64_t kSettleNs = 200'000'000;  // at most, for the last switches of exiting threads

absl::Status Errno(const std::string& what) {
  return absl::InternalError(absl::StrFormat("%s: %s", what, std::strerror(errno)));
}

// A file descriptor closed on scope exit.
class Fd {
 public:
  explicit Fd(int fd = -1) : fd_(fd) {}
  Fd(const Fd&) = delete;
  Fd& operator=(const Fd&) = delete;
  ~Fd() { Reset(); }
  void Reset(int fd = -1) {
    if (fd_ >= 0) close(fd_);
    fd_ = fd;
  }
  int get() const { return fd_; }

 private:
  int fd_;
};

// The agent's thread: the runtime's loop, waking on the doorbell the host rings, ringing the
// host's when commits went out; it leaves once `stop` is set and the event ring is drained.
void AgentLoop(Agent& agent, Doorbell& agent_bell, Doorbell& host_bell,
               const std::atomic<bool>& stop, absl::Status& error) {
  error = agent.runtime().Run(LoopOptions{.wait_bell = &agent_bell,
                                          .idle_wait_ms = kIdleWaitMs,
                                          .ring_bell = &host_bell,
                                          .stop = &stop});
}

int ExitCode(int wait_status) {
  if (WIFEXITED(wait_status)) return WEXITSTATUS(wait_status);
  if (WIFSIGNALED(wait_status)) return 128 + WTERMSIG(wait_status);
  return 1;
}

// Starts the command paused: it waits for `go` to close before it execs. Returns its pid; the
// exec's result comes later through `err` (closed by a successful exec).
absl::StatusOr<pid_t> ForkPaused(const std::vector<std::string>& command, const sigset_t& mask,
                                 Fd& go, Fd& err) {
  std::vector<char*> argv;
  argv.reserve(command.size() + 1);
  for (const std::string& a : command) argv.push_back(const_cast<char*>(a.c_str()));
  argv.push_back(nullptr);
  int go_fds[2];
  int err_fds[2];
  if (pipe2(go_fds, O_CLOEXEC) != 0) return Errno("pipe");
  if (pipe2(err_fds, O_CLOEXEC) != 0) {
    close(go_fds[0]);
    close(go_fds[1]);
    return Errno("pipe");
  }
  const pid_t pid = fork();
  if (pid < 0) {
    for (int fd : {go_fds[0], go_fds[1], err_fds[0], err_fds[1]}) close(fd);
    return Errno("fork");
  }
  if (pid == 0) {
    // Only async-signal-safe calls from here to exec.
    close(go_fds[1]);
    close(err_fds[0]);
    sigprocmask(SIG_SETMASK, &mask, nullptr);
    char byte;
    while (read(go_fds[0], &byte, 1) < 0 && errno == EINTR) {
    }
    execvp(argv[0], argv.data());
    const int e = errno;
    [[maybe_unused]] ssize_t n = write(err_fds[1], &e, sizeof(e));
    _exit(127);
  }
  close(go_fds[0]);
  close(err_fds[1]);
  go.Reset(go_fds[1]);
  err.Reset(err_fds[0]);
  return pid;
}

}  // namespace

CpuSet AllowedCpus() { return ThreadCpus(0).value_or(CpuSet()); }

absl::StatusOr<RunResult> RunTraced(const RunConfig& config, Policy& policy) {
  if (config.command.empty() && config.cgroup.empty()) {
    return absl::InvalidArgumentError("no command to run and no cgroup to manage");
  }
  if (absl::Status s = CheckTraceSupport(); !s.ok()) return s;
  std::optional<CgroupRef> cgroup;
  if (!config.cgroup.empty()) {
    absl::StatusOr<CgroupRef> c = ResolveCgroup(config.cgroup);
    if (!c.ok()) return c.status();
    if (InCgroupSubtree(*c)) {
      return absl::InvalidArgumentError(absl::StrFormat(
          "wave itself runs in cgroup %s: it would manage its own threads; start it from outside",
          c->path));
    }
    cgroup = *c;
  }
  absl::StatusOr<int> possible = PossibleCpus();
  if (!possible.ok()) return possible.status();
  if (*possible > CPU_SETSIZE) {  // the restore journal keeps glibc's fixed-size cpu_set_t
    return absl::FailedPreconditionError(absl::StrFormat(
        "%d possible cpus: wave run handles at most %d (its restore journal's cpu sets)", *possible,
        CPU_SETSIZE));
  }
  const int num_cpus = *possible;
  const CpuSet cpus = !config.cpus.empty() ? config.cpus : AllowedCpus();
  if (cpus.empty()) return absl::InvalidArgumentError("no cpus to manage");

  // The guardian first, while this process has no other thread.
  absl::StatusOr<std::unique_ptr<RestoreJournal>> journal = RestoreJournal::Create();
  if (!journal.ok()) return journal.status();
  if (absl::Status s =
          (*journal)->StartGuardian(config.publish_stats ? StatsPublisher::PathFor(getpid()) : "");
      !s.ok()) {
    return s;
  }

  // SIGINT and SIGTERM arrive through a signalfd, in the host loop; blocked before any thread
  // starts, so that every thread has them blocked.
  sigset_t stop_signals;
  sigemptyset(&stop_signals);
  sigaddset(&stop_signals, SIGINT);
  sigaddset(&stop_signals, SIGTERM);
  sigset_t old_mask;
  pthread_sigmask(SIG_BLOCK, &stop_signals, &old_mask);
  struct MaskRestorer {
    sigset_t mask;
    ~MaskRestorer() { pthread_sigmask(SIG_SETMASK, &mask, nullptr); }
  } mask_restorer{old_mask};
  Fd sigfd(signalfd(-1, &stop_signals, SFD_CLOEXEC | SFD_NONBLOCK));
  if (sigfd.get() < 0) return Errno("signalfd");

  absl::StatusOr<std::unique_ptr<TraceProgram>> prog =
      TraceProgram::Load({.managed_cpus = cpus,
                          .ring_bytes = config.ring_bytes,
                          .blind_tgid = config.blind_tgid,
                          .yields = config.yields});
  if (!prog.ok()) return prog.status();
  if (cgroup) (*prog)->ManageCgroup(*cgroup);

  const LinkConfig link_config = LinkConfig::Sched(config.link_capacity, config.link_capacity);
  absl::StatusOr<SharedRegion> region = SharedRegion::CreateAnonymous(LinkBytes(link_config));
  if (!region.ok()) return region.status();
  if (absl::Status s = LinkFormat(region->data(), region->size(), link_config); !s.ok()) return s;
  absl::StatusOr<HostEnd> host_end = AttachHost(region->data(), region->size());
  if (!host_end.ok()) return host_end.status();
  absl::StatusOr<AgentEnd> agent_end = AttachAgent(region->data(), region->size());
  if (!agent_end.ok()) return agent_end.status();

  absl::StatusOr<std::unique_ptr<TraceHost>> host =
      TraceHost::Create(**prog, *std::move(host_end), config.link_capacity, **journal, num_cpus);
  if (!host.ok()) return host.status();
  if (absl::Status s = (*host)->AnnounceCpus(); !s.ok()) return s;

  std::optional<StatsPublisher> publisher;
  if (config.publish_stats) {
    std::string what = absl::StrJoin(config.command, " ");
    if (cgroup) what = absl::StrCat("cgroup ", cgroup->path, what.empty() ? "" : " + ", what);
    absl::StatusOr<StatsPublisher> p = StatsPublisher::Create(config.policy_name, what);
    if (!p.ok()) return p.status();
    publisher.emplace(*std::move(p));
  }

  // The command, if any, starts paused until its thread group is managed. Without one (a
  // cgroup alone), wave runs until SIGINT or SIGTERM.
  Fd go;
  Fd exec_err;
  RunResult result;
  auto kill_child = [&result] {
    if (result.child <= 0) return;
    kill(result.child, SIGKILL);
    waitpid(result.child, nullptr, 0);
  };
  if (!config.command.empty()) {
    absl::StatusOr<pid_t> child = ForkPaused(config.command, old_mask, go, exec_err);
    if (!child.ok()) return child.status();
    result.child = *child;
    if (absl::Status s = (*prog)->Manage(*child); !s.ok()) {
      kill_child();
      return s;
    }
    if (publisher) publisher->SetChild(*child);
  }

  Doorbell agent_bell;
  Doorbell host_bell;
  if (!agent_bell.ok() || !host_bell.ok()) {
    kill_child();
    return Errno("eventfd");
  }
  Agent agent(*std::move(agent_end), policy, AgentOptions{.num_cpus = num_cpus});
  std::atomic<bool> agent_stop{false};
  absl::Status agent_error;
  std::thread agent_thread(AgentLoop, std::ref(agent), std::ref(agent_bell), std::ref(host_bell),
                           std::cref(agent_stop), std::ref(agent_error));

  // Let it run; a failed exec reports its errno through exec_err.
  int exec_errno = 0;
  const pid_t child_pid = result.child;
  absl::Status loop_error;
  Fd pidfd;
  if (child_pid > 0) {
    go.Reset();
    while (read(exec_err.get(), &exec_errno, sizeof(exec_errno)) < 0 && errno == EINTR) {
    }
    exec_err.Reset();
    pidfd.Reset(static_cast<int>(syscall(SYS_pidfd_open, child_pid, 0)));
    if (pidfd.get() < 0) loop_error = Errno("pidfd_open");
  }
  Fd ep(epoll_create1(EPOLL_CLOEXEC));
  if (ep.get() < 0) loop_error = Errno("epoll_create1");
  for (int fd : {(*host)->kernel_fd(), host_bell.fd(), sigfd.get(), pidfd.get()}) {
    if (!loop_error.ok()) break;
    if (fd < 0) continue;  // no child
    epoll_event ev{.events = EPOLLIN, .data = {.fd = fd}};
    if (epoll_ctl(ep.get(), EPOLL_CTL_ADD, fd, &ev) != 0) loop_error = Errno("epoll_ctl");
  }
  if (exec_errno == 0 && config.on_start && loop_error.ok()) config.on_start(child_pid);

  MonotonicClock clock;
  uint64_t next_publish = 0;
  bool child_done = false;
  uint64_t last_round = 0;
  while (loop_error.ok() && !child_done) {
    if (config.batch_ns > 0) {
      const uint64_t since = clock.NowNs() - last_round;
      if (since < config.batch_ns) {
        const uint64_t rest = config.batch_ns - since;
        const timespec ts{static_cast<time_t>(rest / 1'000'000'000),
                          static_cast<long>(rest % 1'000'000'000)};
        nanosleep(&ts, nullptr);
      }
      last_round = clock.NowNs();
    }
    absl::StatusOr<uint32_t> pumped = (*host)->Pump();
    if (!pumped.ok()) {
      loop_error = pumped.status();
      break;
    }
    if (*pumped > 0) agent_bell.Ring();
    absl::StatusOr<uint32_t> answered = (*host)->Actuate();
    if (!answered.ok()) {
      loop_error = answered.status();
      break;
    }
    if (*answered > 0) agent_bell.Ring();
    const uint64_t now = clock.NowNs();
    if (publisher && now >= next_publish) {
      (*host)->UpdateKernelCounters();
      publisher->Publish((*host)->stats(), now);
      next_publish = now + kPublishEveryNs;
    }

    epoll_event evs[4];
    const int n = epoll_wait(
        ep.get(), evs, 4, (*host)->backlogged() || *pumped > 0 ? kBackloggedWaitMs : kIdleWaitMs);
    if (n < 0 && errno != EINTR) {
      loop_error = Errno("epoll_wait");
      break;
    }
    for (int i = 0; i < n; ++i) {
      const int fd = evs[i].data.fd;
      if (fd == host_bell.fd()) host_bell.Clear();
      if (fd == pidfd.get()) {
        int status = 0;
        if (waitpid(child_pid, &status, WNOHANG) == child_pid) {
          result.wait_status = status;
          result.child_exited = true;
          child_done = true;
        }
      }
      if (fd != sigfd.get()) continue;
      signalfd_siginfo si;
      while (read(sigfd.get(), &si, sizeof(si)) == sizeof(si)) {
        if (result.signal != 0) {
          child_done = true;  // a second signal: stop waiting for the child (already restored)
          break;
        }
        result.signal = static_cast<int>(si.ssi_signo);
        // Undo everything now, and stop enacting: the command runs on unmanaged from here.
        (*host)->StopEnacting();
        (*host)->mutable_stats().restored += (*journal)->RestoreAll();
        if (child_pid <= 0) {
          child_done = true;  // nothing to wait for: a cgroup alone ends here
          break;
        }
        // A signal from the terminal reached the command's process group already.
        if (si.ssi_pid != 0) kill(child_pid, static_cast<int>(si.ssi_signo));
      }
    }
  }

  // Hand the agent what the kernel still holds (the command's last events), then stop it. The
  // command's last threads may still be on their way out when it is reaped: their last switches
  // come a moment later, so the drain also waits (briefly: other managed tasks may go on) until
  // every event the programs emitted has been read.
  const uint64_t drain_start = clock.NowNs();
  while (loop_error.ok()) {
    absl::StatusOr<uint32_t> pumped = (*host)->Pump();
    if (!pumped.ok()) {
      loop_error = pumped.status();
      break;
    }
    if (*pumped > 0) agent_bell.Ring();
    (*host)->UpdateKernelCounters();
    const TraceStats& st = (*host)->stats();
    const uint64_t waited = clock.NowNs() - drain_start;
    const bool kernel_ahead = st.records < st.kernel_emitted && waited < kSettleNs;
    if ((!(*host)->backlogged() && !kernel_ahead) || waited > kDrainDeadlineNs) break;
    host_bell.Wait(kBackloggedWaitMs);
  }
  agent_stop.store(true, std::memory_order_release);
  agent_bell.Ring();
  agent_thread.join();

  (*host)->StopEnacting();
  (*host)->mutable_stats().restored += (*journal)->RestoreAll();
  (*host)->UpdateKernelCounters();
  result.stats = (*host)->stats();
  result.agent = agent.stats();
  if (publisher) publisher->Publish(result.stats, clock.NowNs());
  host->reset();
  prog->reset();
  (*journal)->StopGuardian();

  if (exec_errno != 0) {
    if (!result.child_exited) waitpid(child_pid, nullptr, 0);
    return absl::NotFoundError(
        absl::StrFormat("cannot run '%s': %s", config.command[0], std::strerror(exec_errno)));
  }
  if (!loop_error.ok()) return loop_error;
  if (!agent_error.ok()) return agent_error;
  result.exit_code = result.child_exited ? ExitCode(result.wait_status)
                     : child_pid <= 0    ? 0                  // a cgroup alone, stopped
                                         : 128 + result.signal;  // left running: wave's signal
  return result;
}

}  // namespace wave

// Unit tests of the command-line parsers of `wave` (cli/flags.h) and `wave-agent`
// (cli/agent_flags.h): good values of every flag, each kind of bad value, and the help texts.
#include "cli/flags.h"

#include <optional>
#include <string>
#include <vector>

#include "cli/agent_flags.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"

namespace wave::cli {
namespace {

using ::testing::HasSubstr;
using ::testing::StartsWith;

absl::StatusOr<Command> Parse(const std::vector<std::string>& args) {
  return ParseCommandLine(args);
}

// Parses `wave sim ARGS...`, expecting success.
SimFlags Sim(std::vector<std::string> args) {
  args.insert(args.begin(), "sim");
  absl::StatusOr<Command> cmd = ParseCommandLine(args);
  EXPECT_TRUE(cmd.ok()) << cmd.status();
  if (!cmd.ok()) return {};
  EXPECT_EQ(cmd->kind, CommandKind::kSim);
  return cmd->sim;
}

// Parses `wave sim ARGS...`, expecting an InvalidArgument error; returns its message.
std::string SimError(std::vector<std::string> args) {
  args.insert(args.begin(), "sim");
  absl::StatusOr<Command> cmd = ParseCommandLine(args);
  EXPECT_FALSE(cmd.ok());
  if (cmd.ok()) return "";
  EXPECT_EQ(cmd.status().code(), absl::StatusCode::kInvalidArgument);
  std::string message(cmd.status().message());
  EXPECT_EQ(message.find('\n'), std::string::npos) << message;
  return message;
}

TEST(FlagsTest, NoFlagsGivesTheDefaults) {
  const SimFlags f = Sim({});
  const SimConfig defaults;
  EXPECT_EQ(f.policy, "fifo");
  EXPECT_EQ(f.format, OutputFormat::kTable);
  EXPECT_EQ(f.config.cpus, defaults.cpus);
  EXPECT_EQ(f.config.placement, Placement::kIpu);
  EXPECT_EQ(f.config.workload.kind, WorkloadKind::kRocksDb);
  EXPECT_EQ(f.config.link_latency_ns, defaults.link_latency_ns);
  EXPECT_EQ(f.config.duration_ns, defaults.duration_ns);
  EXPECT_EQ(f.config.workload.load_rps, defaults.workload.load_rps);
  EXPECT_EQ(f.config.seed, defaults.seed);
  EXPECT_EQ(f.config.workload.threads, defaults.workload.threads);
}

TEST(FlagsTest, EveryFlagWithEquals) {
  const SimFlags f = Sim({"--policy=fifo", "--workload=exponential", "--cpus=16", "--load=2.5e5",
                          "--duration=0.5", "--placement=host", "--link-latency=0.25",
                          "--seed=18446744073709551615", "--threads=32", "--format=json"});
  EXPECT_EQ(f.policy, "fifo");
  EXPECT_EQ(f.config.workload.kind, WorkloadKind::kExponential);
  EXPECT_EQ(f.config.cpus, 16);
  EXPECT_EQ(f.config.workload.load_rps, 250000);
  EXPECT_EQ(f.config.duration_ns, 500'000'000u);
  EXPECT_EQ(f.config.placement, Placement::kHost);
  EXPECT_EQ(f.config.link_latency_ns, 250u);
  EXPECT_EQ(f.config.seed, 18446744073709551615ull);
  EXPECT_EQ(f.config.workload.threads, 32);
  EXPECT_EQ(f.format, OutputFormat::kJson);
}

TEST(FlagsTest, EveryFlagWithSeparateValue) {
  const SimFlags f = Sim(
      {"--policy",   "fifo",    "--workload",  "uniform", "--cpus",         "1",   "--load", "1",
       "--duration", "2s",      "--placement", "ipu",     "--link-latency", "1us", "--seed", "0",
       "--threads",  "1000000", "--format",    "table"});
  EXPECT_EQ(f.config.workload.kind, WorkloadKind::kUniform);
  EXPECT_EQ(f.config.cpus, 1);
  EXPECT_EQ(f.config.workload.load_rps, 1);
  EXPECT_EQ(f.config.duration_ns, 2'000'000'000u);
  EXPECT_EQ(f.config.placement, Placement::kIpu);
  EXPECT_EQ(f.config.link_latency_ns, 1'000u);
  EXPECT_EQ(f.config.seed, 0u);
  EXPECT_EQ(f.config.workload.threads, 1'000'000);
  EXPECT_EQ(f.format, OutputFormat::kTable);
}

TEST(FlagsTest, LastValueWins) { EXPECT_EQ(Sim({"--cpus=4", "--cpus", "64"}).config.cpus, 64); }

TEST(FlagsTest, DurationUnits) {
  EXPECT_EQ(Sim({"--duration=2"}).config.duration_ns, 2'000'000'000u);
  EXPECT_EQ(Sim({"--duration=500ms"}).config.duration_ns, 500'000'000u);
  EXPECT_EQ(Sim({"--duration=250us"}).config.duration_ns, 250'000u);
  EXPECT_EQ(Sim({"--duration=7ns"}).config.duration_ns, 7u);
  EXPECT_EQ(Sim({"--duration=3600s"}).config.duration_ns, 3'600'000'000'000u);
}

TEST(FlagsTest, LinkLatencyUnits) {
  EXPECT_EQ(Sim({"--link-latency=1"}).config.link_latency_ns, 1'000u);
  EXPECT_EQ(Sim({"--link-latency=0.29"}).config.link_latency_ns, 290u);
  EXPECT_EQ(Sim({"--link-latency=250ns"}).config.link_latency_ns, 250u);
  EXPECT_EQ(Sim({"--link-latency=2ms"}).config.link_latency_ns, 2'000'000u);
  EXPECT_EQ(Sim({"--link-latency=0"}).config.link_latency_ns, 0u);
  EXPECT_EQ(Sim({"--link-latency=1s"}).config.link_latency_ns, 1'000'000'000u);
}

TEST(FlagsTest, BadIntegers) {
  for (const char* bad : {"abc", "", "0", "8193", "-1", "4.0", "1e1", "+4", " 4", "4 ", "0x10",
                          "4x", "99999999999999999999"}) {
    EXPECT_EQ(SimError({std::string("--cpus=") + bad}),
              std::string("--cpus: expected an integer in [1, 8192], got '") + bad + "'")
        << bad;
  }
  EXPECT_THAT(SimError({"--threads=0"}), StartsWith("--threads: expected an integer in [1, "));
  EXPECT_THAT(SimError({"--threads=1000001"}), StartsWith("--threads: expected an integer"));
  EXPECT_THAT(SimError({"--seed=-1"}), StartsWith("--seed: expected an integer"));
  EXPECT_THAT(SimError({"--seed=18446744073709551616"}), StartsWith("--seed: expected"));
  EXPECT_THAT(SimError({"--seed=1.5"}), StartsWith("--seed: expected"));
}

TEST(FlagsTest, BadNumbers) {
  for (const char* bad : {"0", "-5", "abc", "inf", "nan", "1e10", "", "1,000", "+1", "0x10"}) {
    EXPECT_THAT(SimError({std::string("--load=") + bad}),
                StartsWith("--load: expected a number of requests per second"))
        << bad;
  }
}

TEST(FlagsTest, BadTimes) {
  for (const char* bad :
       {"0", "0s", "-1", "abc", "2 s", "2S", "5x", "s", "", "0.1ns", "3601s", "inf", "nan", "1h"}) {
    EXPECT_THAT(SimError({std::string("--duration=") + bad}),
                StartsWith("--duration: expected a time in (0, 3600s]"))
        << bad;
  }
  for (const char* bad : {"-1", "-1us", "2s", "1000001", "x", "", "1m"}) {
    EXPECT_THAT(SimError({std::string("--link-latency=") + bad}),
                StartsWith("--link-latency: expected a time in [0, 1s]"))
        << bad;
  }
}

TEST(FlagsTest, BadChoices) {
  EXPECT_EQ(
      SimError({"--workload=redis"}),
      "--workload: expected one of rocksdb|uniform|exponential|rpc|vms|cpubound, got 'redis'");
  EXPECT_EQ(SimError({"--placement=nic"}), "--placement: expected one of host|ipu, got 'nic'");
  EXPECT_EQ(SimError({"--format=xml"}), "--format: expected one of table|json, got 'xml'");
  EXPECT_THAT(SimError({"--policy=nope"}), StartsWith("--policy: unknown policy 'nope' (known: "));
  EXPECT_THAT(SimError({"--policy=nope"}), HasSubstr("fifo"));
  EXPECT_THAT(SimError({"--workload=ROCKSDB"}), StartsWith("--workload: expected"));
}

TEST(FlagsTest, EveryPolicyAndWorkloadByName) {
  for (const char* policy : {"fifo", "fifo-percpu", "shinjuku", "fair"}) {
    EXPECT_EQ(Sim({std::string("--policy=") + policy}).policy, policy);
    EXPECT_THAT(SimHelp(), HasSubstr(std::string(policy) + " ("));  // named, with what it does
  }
  EXPECT_EQ(Sim({"--workload=cpubound"}).config.workload.kind, WorkloadKind::kCpuBound);
}

TEST(FlagsTest, NiceLists) {
  EXPECT_TRUE(Sim({}).config.workload.nice.empty());
  EXPECT_EQ(Sim({"--nice=0"}).config.workload.nice, (std::vector<int>{0}));
  EXPECT_EQ(Sim({"--nice=-20,0,19,5"}).config.workload.nice, (std::vector<int>{-20, 0, 19, 5}));
  for (const char* bad : {"", ",", "1,", ",1", "0,,1", "20", "-21", "1.5", "a", "+1", "0 ,1"}) {
    EXPECT_THAT(SimError({std::string("--nice=") + bad}),
                StartsWith("--nice: expected up to 1024 comma-separated integers in [-20, 19]"))
        << bad;
  }
}

TEST(FlagsTest, MissingValues) {
  EXPECT_EQ(SimError({"--cpus"}), "--cpus: missing value");
  EXPECT_EQ(SimError({"--cpus", "--load=5"}), "--cpus: missing value");
  EXPECT_EQ(SimError({"--seed=3", "--policy"}), "--policy: missing value");
}

TEST(FlagsTest, UnknownFlagsAndStrayArguments) {
  EXPECT_THAT(SimError({"--bogus=1"}), StartsWith("unknown flag '--bogus' for 'sim'"));
  EXPECT_THAT(SimError({"--bogus"}), StartsWith("unknown flag '--bogus'"));
  EXPECT_THAT(SimError({"-c", "4"}), StartsWith("unknown flag '-c'"));
  EXPECT_THAT(SimError({"--CPUS=4"}), StartsWith("unknown flag '--CPUS'"));
  EXPECT_THAT(SimError({"extra"}), StartsWith("sim: unexpected argument 'extra'"));
  EXPECT_THAT(SimError({"--cpus=4", "4"}), StartsWith("sim: unexpected argument '4'"));
  EXPECT_THAT(SimError({"-"}), StartsWith("sim: unexpected argument '-'"));
  EXPECT_THAT(SimError({"--"}), StartsWith("unknown flag '--'"));
  EXPECT_EQ(SimError({"--help=yes"}), "--help: takes no value");
}

TEST(FlagsTest, ControlCharactersAreEscapedInMessages) {
  EXPECT_EQ(SimError({"--cpus=1\n2"}), "--cpus: expected an integer in [1, 8192], got '1\\x0a2'");
  const std::string long_value(200, '7');
  EXPECT_THAT(SimError({"--cpus=" + long_value}), HasSubstr("...'"));
}

TEST(FlagsTest, Commands) {
  ASSERT_TRUE(Parse({"--help"}).ok());
  EXPECT_EQ(Parse({"--help"})->kind, CommandKind::kHelp);
  EXPECT_EQ(Parse({"-h"})->kind, CommandKind::kHelp);
  EXPECT_EQ(Parse({"help"})->kind, CommandKind::kHelp);
  EXPECT_EQ(Parse({"help", "sim"})->kind, CommandKind::kSimHelp);
  EXPECT_EQ(Parse({"sim", "--help"})->kind, CommandKind::kSimHelp);
  EXPECT_EQ(Parse({"sim", "-h"})->kind, CommandKind::kSimHelp);
  // Help wins over errors elsewhere on the line.
  EXPECT_EQ(Parse({"sim", "--cpus=abc", "--bogus", "-h"})->kind, CommandKind::kSimHelp);

  EXPECT_EQ(Parse({}).status().message(), "missing command (try 'wave --help')");
  EXPECT_THAT(std::string(Parse({"simulate"}).status().message()),
              StartsWith("unknown command 'simulate'"));
  EXPECT_THAT(std::string(Parse({"help", "nope"}).status().message()),
              HasSubstr("unknown command 'nope'"));
  EXPECT_THAT(std::string(Parse({"--cpus=4", "sim"}).status().message()),
              StartsWith("unknown flag '--cpus=4'"));
}

TEST(FlagsTest, HelpMentionsEveryFlagAndDefault) {
  for (const std::string& help : {SimHelp(), TopLevelHelp()}) {
    for (const char* flag :
         {"--policy=", "--workload=", "--cpus=", "--load=", "--duration=", "--placement=",
          "--link-latency=", "--seed=", "--threads=", "--format=", "--help"}) {
      EXPECT_THAT(help, HasSubstr(flag));
    }
    for (const char* def :
         {"(default: fifo)", "(default: rocksdb)", "(default: 8)", "(default: 2s)",
          "(default: ipu)", "(default: 1us)", "(default: 256)", "(default: table)"}) {
      EXPECT_THAT(help, HasSubstr(def));
    }
  }
  EXPECT_THAT(TopLevelHelp(), HasSubstr("sim"));
}

TEST(ValueParsersTest, Integers) {
  EXPECT_EQ(ParseInt64("42"), 42);
  EXPECT_EQ(ParseInt64("-42"), -42);
  EXPECT_EQ(ParseInt64("9223372036854775807"), INT64_MAX);
  EXPECT_FALSE(ParseInt64("9223372036854775808"));
  EXPECT_FALSE(ParseInt64(""));
  EXPECT_FALSE(ParseInt64("1 "));
  EXPECT_EQ(ParseUint64("18446744073709551615"), UINT64_MAX);
  EXPECT_FALSE(ParseUint64("-1"));
}

TEST(ValueParsersTest, Doubles) {
  EXPECT_EQ(ParseFiniteDouble("0.25"), 0.25);
  EXPECT_EQ(ParseFiniteDouble("1e5"), 1e5);
  EXPECT_EQ(ParseFiniteDouble("-3"), -3);
  EXPECT_FALSE(ParseFiniteDouble("1e999"));
  EXPECT_FALSE(ParseFiniteDouble("infinity"));
  EXPECT_FALSE(ParseFiniteDouble("0x1p3"));
  EXPECT_FALSE(ParseFiniteDouble("1.5."));
}

TEST(ValueParsersTest, Times) {
  EXPECT_EQ(ParseTimeNs("1.5", 1'000), 1'500u);
  EXPECT_EQ(ParseTimeNs("1.5us", 1), 1'500u);
  EXPECT_EQ(ParseTimeNs("0.0000005s", 1), 500u);
  EXPECT_EQ(ParseTimeNs("1.6ns", 1), 2u);  // rounded to whole nanoseconds
  EXPECT_FALSE(ParseTimeNs("-1ns", 1));
  EXPECT_FALSE(ParseTimeNs("1e30s", 1));
  EXPECT_FALSE(ParseTimeNs("ms", 1));
  EXPECT_FALSE(ParseTimeNs("1 ms", 1));
  EXPECT_FALSE(ParseTimeNs("1sec", 1));
}

TEST(ValueParsersTest, FormatTime) {
  EXPECT_EQ(FormatTimeNs(0), "0ns");
  EXPECT_EQ(FormatTimeNs(250), "250ns");
  EXPECT_EQ(FormatTimeNs(1'000), "1us");
  EXPECT_EQ(FormatTimeNs(1'500), "1.5us");
  EXPECT_EQ(FormatTimeNs(1'001), "1.001us");
  EXPECT_EQ(FormatTimeNs(1'000'001), "1000.001us");
  EXPECT_EQ(FormatTimeNs(500'000'000), "500ms");
  EXPECT_EQ(FormatTimeNs(2'000'000'000), "2s");
  EXPECT_EQ(FormatTimeNs(2'250'000'000), "2.25s");
  // What FormatTimeNs prints, ParseTimeNs reads back.
  for (uint64_t ns :
       {0ull, 7ull, 1'500ull, 1'001ull, 1'000'001ull, 2'250'000'000ull, 3'600'000'000'000ull}) {
    EXPECT_EQ(ParseTimeNs(FormatTimeNs(ns), 1), ns) << ns;
  }
}

}  // namespace
TEST(FlagsTest, SimPrestageAndFailureKnobs) {
  SimFlags f = Sim({"--prestage=4", "--agent-fail-at=500", "--agent-restart-at=1.2s",
                    "--fallback-slice=500us", "--policy=kernel", "--workload=vms"});
  EXPECT_EQ(f.config.prestage_depth, 4u);
  EXPECT_EQ(f.config.agent_fail_at_ns, 500'000'000u);
  EXPECT_EQ(f.config.agent_restart_at_ns, 1'200'000'000u);
  EXPECT_EQ(f.config.fallback_slice_ns, 500'000u);
  EXPECT_EQ(f.policy, "kernel");
  EXPECT_EQ(f.config.workload.kind, WorkloadKind::kVms);
  EXPECT_EQ(Sim({"--workload=rpc"}).config.workload.kind, WorkloadKind::kRpc);
  for (const char* bad : {"1", "3", "6", "512", "-2", "x"}) {
    EXPECT_THAT(SimError({std::string("--prestage=") + bad}), StartsWith("--prestage: expected"))
        << bad;
  }
  EXPECT_THAT(SimError({"--fallback-slice=0"}), StartsWith("--fallback-slice: expected a time"));
  EXPECT_THAT(SimError({"--agent-fail-at=2h"}), StartsWith("--agent-fail-at: expected a time"));
}

TEST(FlagsTest, SimSession) {
  EXPECT_EQ(Sim({}).config.session, "");
  const SimFlags f = Sim({"--session=run-1.a_b", "--heartbeat-timeout=20ms"});
  EXPECT_EQ(f.config.session, "run-1.a_b");
  EXPECT_EQ(f.config.heartbeat_timeout_ns, 20'000'000u);
  EXPECT_THAT(SimError({"--session=a/b"}), StartsWith("--session: expected"));
  EXPECT_THAT(SimError({"--session=.x"}), StartsWith("--session: expected"));
  EXPECT_THAT(SimError({"--heartbeat-timeout=0"}), StartsWith("--heartbeat-timeout: expected"));
}

absl::StatusOr<std::optional<AgentFlags>> ParseAgent(std::vector<std::string> args) {
  return ParseAgentFlags(args);
}

std::string AgentError(std::vector<std::string> args) {
  absl::StatusOr<std::optional<AgentFlags>> f = ParseAgentFlags(args);
  return f.ok() ? "" : std::string(f.status().message());
}

TEST(FlagsTest, Agent) {
  absl::StatusOr<std::optional<AgentFlags>> f =
      ParseAgent({"--session=s", "--policy=fifo", "--link-latency=250ns", "--ring-capacity", "1024",
                  "--heartbeat-timeout=1s", "--cpus=4"});
  ASSERT_TRUE(f.ok()) << f.status();
  ASSERT_TRUE(f->has_value());
  EXPECT_EQ((*f)->session, "s");
  EXPECT_EQ((*f)->link_latency_ns, 250u);
  EXPECT_EQ((*f)->ring_capacity, 1024u);
  EXPECT_EQ((*f)->heartbeat_timeout_ns, 1'000'000'000u);
  EXPECT_EQ((*f)->cpus, 4);
  f = ParseAgent({"--session=s"});
  ASSERT_TRUE(f.ok() && f->has_value());
  EXPECT_EQ((*f)->ring_capacity, 4096u);
  EXPECT_EQ((*f)->cpus, 0);
  EXPECT_FALSE(ParseAgent({"--help"})->has_value());
  EXPECT_FALSE(ParseAgent({"--bogus", "-h"})->has_value());
  EXPECT_THAT(AgentError({}), StartsWith("agent: --session=NAME is required"));
  EXPECT_THAT(AgentError({"--session=s", "--ring-capacity=1000"}),
              StartsWith("--ring-capacity: expected a power of two"));
  EXPECT_THAT(AgentError({"--session=s", "--cpus=8193"}), StartsWith("--cpus: expected"));
  EXPECT_THAT(AgentError({"--session=s", "--threads=4"}),
              StartsWith("unknown flag '--threads' for 'agent'"));
  EXPECT_THAT(AgentError({"--session=s", "x"}), StartsWith("agent: unexpected argument 'x'"));
  for (const char* flag : {"--session=", "--policy=", "--link-latency=", "--ring-capacity=",
                           "--heartbeat-timeout=", "--cpus=", "--help", "exit status"}) {
    EXPECT_THAT(AgentHelp(), HasSubstr(flag));
  }
  // `wave agent ...` is wave-agent's: passed on untouched, help included.
  absl::StatusOr<Command> cmd = Parse({"agent", "--session=s", "--bogus"});
  ASSERT_TRUE(cmd.ok());
  EXPECT_EQ(cmd->kind, CommandKind::kAgent);
  EXPECT_EQ(cmd->agent_args, (std::vector<std::string>{"--session=s", "--bogus"}));
  EXPECT_EQ(Parse({"help", "agent"})->kind, CommandKind::kAgentHelp);
  EXPECT_THAT(TopLevelHelp(), HasSubstr("agent"));
  EXPECT_THAT(SimHelp(), HasSubstr("--session="));
}

}  // namespace wave::cli

namespace wave::cli {
namespace {

TEST(RunFlagsTest, CommandGoesAfterTheSeparator) {
  absl::StatusOr<Command> c =
      ParseCommandLine({"run", "--policy=pin", "--cpus=1", "--", "make", "-j2", "--", "x"});
  ASSERT_TRUE(c.ok()) << c.status();
  EXPECT_EQ(c->kind, CommandKind::kRun);
  EXPECT_EQ(c->run.policy, "pin");
  EXPECT_EQ(c->run.cpus, CpuSet::Of({1}));
  EXPECT_EQ(c->run.command, (std::vector<std::string>{"make", "-j2", "--", "x"}));
  EXPECT_EQ(ParseCommandLine({"run", "--", "true"})->run.policy, "fifo");
  EXPECT_EQ(ParseCommandLine({"run", "--batch=0", "--", "true"})->run.batch_ns, 0u);
  EXPECT_EQ(ParseCommandLine({"run", "--batch", "2ms", "--", "true"})->run.batch_ns, 2'000'000u);
  EXPECT_EQ(ParseCommandLine({"run", "--", "true"})->run.yields, YieldEvents::kAuto);
  EXPECT_EQ(ParseCommandLine({"run", "--yields=syscalls", "--", "x"})->run.yields,
            YieldEvents::kSyscalls);
  EXPECT_EQ(ParseCommandLine({"run", "--yields=off", "--", "x"})->run.yields, YieldEvents::kOff);
}

TEST(RunFlagsTest, ACgroupMakesTheCommandOptional) {
  absl::StatusOr<Command> c = ParseCommandLine({"run", "--cgroup=/sys/fs/cgroup/app"});
  ASSERT_TRUE(c.ok()) << c.status();
  EXPECT_EQ(c->run.cgroup, "/sys/fs/cgroup/app");
  EXPECT_TRUE(c->run.command.empty());
  c = ParseCommandLine({"run", "--cgroup", "/cg", "--", "make"});
  ASSERT_TRUE(c.ok()) << c.status();
  EXPECT_EQ(c->run.cgroup, "/cg");
  EXPECT_EQ(c->run.command, std::vector<std::string>{"make"});
  EXPECT_THAT(std::string(ParseCommandLine({"run"}).status().message()),
              testing::HasSubstr("--cgroup=PATH"));
}

TEST(RunFlagsTest, BadRunCommandLines) {
  for (const std::vector<std::string>& args :
       std::vector<std::vector<std::string>>{{"run"},
                                             {"run", "--"},
                                             {"run", "make"},
                                             {"run", "--cpus=", "--", "x"},
                                             {"run", "--cpus=8192", "--", "x"},
                                             {"run", "--cpus=1-0", "--", "x"},
                                             {"run", "--batch=2s", "--", "x"},
                                             {"run", "--policy=nope", "--", "x"},
                                             {"run", "--yields=sometimes", "--", "x"},
                                             {"run", "--cgroup=", "--", "x"},
                                             {"stats", "--pid=-1"},
                                             {"stats", "x"},
                                             {"restore", "x"},
                                             {"restore", "--all"}}) {
    absl::StatusOr<Command> c = ParseCommandLine(args);
    EXPECT_FALSE(c.ok()) << args.size();
    if (!c.ok()) {
      EXPECT_EQ(c.status().message().find('\n'), std::string::npos);
    }
  }
  EXPECT_EQ(ParseCommandLine({"run", "--bogus", "-h"})->kind, CommandKind::kRunHelp);
  EXPECT_EQ(ParseCommandLine({"help", "stats"})->kind, CommandKind::kStatsHelp);
  EXPECT_EQ(ParseCommandLine({"restore"})->kind, CommandKind::kRestore);
  EXPECT_EQ(ParseCommandLine({"restore", "x", "-h"})->kind, CommandKind::kRestoreHelp);
  EXPECT_EQ(ParseCommandLine({"help", "restore"})->kind, CommandKind::kRestoreHelp);
}

TEST(RunFlagsTest, CpuLists) {
  EXPECT_EQ(ParseCpuList("0"), CpuSet::Of({0}));
  EXPECT_EQ(ParseCpuList("0,2-3"), CpuSet::Of({0, 2, 3}));
  EXPECT_EQ(ParseCpuList("63"), CpuSet::Of({63}));
  EXPECT_EQ(ParseCpuList("64-255,1000"), CpuSet::Range(64, 255) | CpuSet::Of({1000}));
  EXPECT_EQ(ParseCpuList("8191"), CpuSet::Of({8191}));
  for (const char* bad : {"", ",", "0,", "a", "1-", "-1", "3-2", "8192", "0-8192", " 1"}) {
    EXPECT_EQ(ParseCpuList(bad), std::nullopt) << bad;
  }
  EXPECT_EQ(ParseCpuList("0,2-3")->ToString(), "0,2-3");
  EXPECT_EQ(ParseCpuList("0-63")->ToString(), "0-63");
  EXPECT_EQ(CpuSet().ToString(), "");
}

}  // namespace
}  // namespace wave::cli

namespace wave::cli {
namespace {

TEST(ScxFlagsTest, Values) {
  absl::StatusOr<Command> c =
      ParseCommandLine({"scx", "--policy=pin", "--session=s1", "--cpus=1-3", "--duration=2s",
                        "--heartbeat-timeout=100ms", "--max-wait", "50ms", "--idle-sleep=50us",
                        "--prestage=4", "--host-checks=off", "--format=json"});
  ASSERT_TRUE(c.ok()) << c.status();
  EXPECT_EQ(c->kind, CommandKind::kScx);
  EXPECT_EQ(c->scx.policy, "pin");
  EXPECT_EQ(c->scx.session, "s1");
  EXPECT_EQ(c->scx.cpus, CpuSet::Range(1, 3));
  EXPECT_EQ(c->scx.duration_ns, 2'000'000'000u);
  EXPECT_EQ(c->scx.heartbeat_timeout_ns, 100'000'000u);
  EXPECT_EQ(c->scx.max_wait_ns, 50'000'000u);
  EXPECT_EQ(c->scx.idle_sleep_ns, 50'000u);
  EXPECT_EQ(c->scx.prestage, 4u);
  EXPECT_FALSE(c->scx.host_checks);
  EXPECT_EQ(c->scx.format, OutputFormat::kJson);
  c = ParseCommandLine({"scx"});
  ASSERT_TRUE(c.ok());
  EXPECT_EQ(c->scx.policy, "fifo");
  EXPECT_TRUE(c->scx.host_checks);
  EXPECT_EQ(c->scx.prestage, 0u);
  EXPECT_EQ(ParseCommandLine({"scx", "--policy=none"})->scx.policy, "none");
  EXPECT_EQ(ParseCommandLine({"scx", "--bogus", "-h"})->kind, CommandKind::kScxHelp);
  EXPECT_EQ(ParseCommandLine({"help", "scx"})->kind, CommandKind::kScxHelp);
  for (const char* flag : {"--policy=", "--session=", "--cpus=", "--duration=", "--prestage=",
                           "--host-checks=", "--max-wait=", "exit status"}) {
    EXPECT_THAT(ScxHelp(), HasSubstr(flag));
  }
  EXPECT_THAT(TopLevelHelp(), HasSubstr("scx"));
}

TEST(ScxFlagsTest, BadValues) {
  for (const std::vector<std::string>& args :
       std::vector<std::vector<std::string>>{{"scx", "--policy=nope"},
                                             {"scx", "--prestage=3"},
                                             {"scx", "--prestage=16"},
                                             {"scx", "--prestage=1"},
                                             {"scx", "--host-checks=maybe"},
                                             {"scx", "--max-wait=20s"},
                                             {"scx", "--idle-sleep=0"},
                                             {"scx", "--cpus=8192"},
                                             {"scx", "--session=.x"},
                                             {"scx", "stray"}}) {
    absl::StatusOr<Command> c = ParseCommandLine(args);
    EXPECT_FALSE(c.ok()) << args.back();
    if (!c.ok()) {
      EXPECT_EQ(c.status().message().find('\n'), std::string::npos);
    }
  }
  for (const std::vector<std::string>& args :
       std::vector<std::vector<std::string>>{{"--session=s", "--doorbells=5"},
                                             {"--session=s", "--doorbells=5,5"},
                                             {"--session=s", "--idle-sleep=1s"},
                                             {"--session=s", "--mlock=yes"}}) {
    const std::string error = AgentError(args);
    EXPECT_FALSE(error.empty()) << args.back();
    EXPECT_EQ(error.find('\n'), std::string::npos);
  }
  absl::StatusOr<std::optional<AgentFlags>> a =
      ParseAgent({"--session=s", "--doorbells=5,6", "--mlock=on"});
  ASSERT_TRUE(a.ok() && a->has_value()) << a.status();
  EXPECT_EQ((*a)->wait_fd, 5);
  EXPECT_EQ((*a)->ring_fd, 6);
  EXPECT_TRUE((*a)->mlock);
}

}  // namespace
}  // namespace wave::cli

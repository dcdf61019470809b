// The `heaplab` command as a user meets it: tables, JSON, verdicts and exit statuses
// (0 passed, 1 a verdict failed, 2 a usage problem with a one-line message).
#include <gtest/gtest.h>
#include <nlohmann/json.hpp>

#include <array>
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <map>
#include <regex>
#include <sstream>
#include <string>
#include <vector>
#include <sys/wait.h>

namespace {

namespace fs = std::filesystem;

struct Outcome {
    int status = -1;
    std::string out;  // stdout
    std::string err;  // stderr
};

/// Runs `heaplab ARGS` with stdout and stderr captured separately.
Outcome heaplab(const std::string &args) {
    static int counter = 0;
    fs::path err_file = fs::temp_directory_path() / ("heaplab_cli_err_" + std::to_string(getpid()) + "_" +
                                                     std::to_string(counter++));
    std::string command = std::string(HEAPLAB_BIN) + " " + args + " 2>" + err_file.string();
    Outcome run;
    FILE *pipe = popen(command.c_str(), "r");
    if (pipe == nullptr) return run;
    std::array<char, 4096> buffer{};
    while (std::fgets(buffer.data(), buffer.size(), pipe) != nullptr) run.out += buffer.data();
    int status = pclose(pipe);
    run.status = WIFEXITED(status) ? WEXITSTATUS(status) : -1;
    std::ifstream err(err_file);
    run.err.assign(std::istreambuf_iterator<char>(err), {});
    fs::remove(err_file);
    return run;
}

class HeaplabCli : public ::testing::Test {
protected:
    void SetUp() override {
        dir_ = fs::temp_directory_path() / ("heaplab_cli_" + std::to_string(getpid()));
        fs::create_directories(dir_);
    }
    void TearDown() override { fs::remove_all(dir_); }
    std::string write(const std::string &name, const std::string &text) {
        fs::path path = dir_ / name;
        std::ofstream(path) << text;
        return path.string();
    }
    std::string good() {
        return write("good.rep", "heaplab-trace 1\nname good\nids 3\nops 6\na 0 24\na 1 100\nr 0 300\nf 1\nc 2 2 8\nf 0\n");
    }
    fs::path dir_;
};

TEST_F(HeaplabCli, ReplayPrintsATableAndPasses) {
    Outcome run = heaplab("trace replay --allocator libc --runs 1 " + good());
    EXPECT_EQ(run.status, 0) << run.out << run.err;
    EXPECT_NE(run.out.find("allocator libc"), std::string::npos) << run.out;
    EXPECT_NE(run.out.find("good"), std::string::npos) << run.out;
    EXPECT_NE(run.out.find("1/1 ok"), std::string::npos) << "the totals line counts the passed traces:\n" << run.out;
}

TEST_F(HeaplabCli, JsonHasUtilizationAndThroughputPerTrace) {
    Outcome run = heaplab("trace replay --allocator libc --json --runs 1 " + good() + " " + good());
    ASSERT_EQ(run.status, 0) << run.err;
    nlohmann::json json = nlohmann::json::parse(run.out, nullptr, false);
    ASSERT_FALSE(json.is_discarded()) << "--json must print valid JSON, got:\n" << run.out;
    const auto &libc = json.at("allocators").at(0);
    EXPECT_EQ(libc.at("allocator"), "libc");
    ASSERT_EQ(libc.at("traces").size(), 2u);
    for (const auto &trace : libc.at("traces")) {
        EXPECT_TRUE(trace.at("ok").get<bool>());
        EXPECT_GT(trace.at("utilization").get<double>(), 0.0);
        EXPECT_GT(trace.at("ops_per_second").get<double>(), 0.0);
    }
    EXPECT_EQ(libc.at("totals").at("passed"), 2);
}

TEST_F(HeaplabCli, AMalformedTraceExits2WithFileAndLine) {
    std::string bad = write("bad.rep", "heaplab-trace 1\nids 2\nops 2\na 0 8\nf 1\n");
    Outcome run = heaplab("trace replay --allocator libc " + good() + " " + bad);
    EXPECT_EQ(run.status, 2);
    EXPECT_EQ(run.err, bad + ":5: free of id 1, which was never allocated\n") << "one line, file:line: reason";
    EXPECT_EQ(run.out, "") << "nothing is replayed when an input is malformed";
}

TEST_F(HeaplabCli, AMissingFileExits2) {
    Outcome run = heaplab("trace replay --allocator libc " + (dir_ / "nope.rep").string());
    EXPECT_EQ(run.status, 2);
    EXPECT_NE(run.err.find("nope.rep:0: cannot open the file"), std::string::npos) << run.err;
}

TEST_F(HeaplabCli, AnUnknownAllocatorExits2AndListsTheKnownOnes) {
    Outcome run = heaplab("trace replay --allocator nosuch " + good());
    EXPECT_EQ(run.status, 2);
    EXPECT_NE(run.err.find("unknown allocator 'nosuch'"), std::string::npos) << run.err;
    EXPECT_NE(run.err.find("known: libc"), std::string::npos) << run.err;
}

TEST_F(HeaplabCli, BadArgumentsExit2) {
    EXPECT_EQ(heaplab("trace replay --allocator libc --frobnicate " + good()).status, 2);
    EXPECT_EQ(heaplab("trace replay --allocator libc").status, 2) << "no trace given";
    EXPECT_EQ(heaplab("trace replay --allocator libc --runs 0 " + good()).status, 2);
    EXPECT_EQ(heaplab("trace replay --allocator libc --alignment 12 " + good()).status, 2);
    EXPECT_EQ(heaplab("trace replay --allocator libc --cap lots " + good()).status, 2);
    EXPECT_EQ(heaplab("nosuchcommand").status, 2);
    EXPECT_EQ(heaplab("").status, 2) << "a subcommand is required";
}

/// Two short traces of the suite: enough for the journey's shape, seconds to replay everywhere.
std::string two_suite_traces() {
    std::string root = std::getenv("HEAPLAB_SOURCE_DIR") != nullptr ? std::getenv("HEAPLAB_SOURCE_DIR") : ".";
    return root + "/traces/12-large-blocks.rep " + root + "/traces/07-realloc-shrink.rep";
}

/// What the journey must list, in order: libc, every lab stage this build has, the reference.
std::vector<std::string> journey_order() {
    std::vector<std::string> stages;
    bool reference = false;
    std::istringstream lines(heaplab("allocators").out);
    for (std::string line; std::getline(lines, line);) {
        std::string name = line.substr(0, line.find(' '));
        if (std::regex_match(name, std::regex(R"(\d\d-.+)"))) stages.push_back(name);
        reference = reference || name == "reference";
    }
    std::vector<std::string> order{"libc"};
    order.insert(order.end(), stages.begin(), stages.end());
    if (reference) order.push_back("reference");
    return order;
}

/// The `title` of labs/LAB/lab.toml: the idea the journey shows for a stage.
std::string lab_title(const std::string &lab) {
    std::ifstream toml(std::string(std::getenv("HEAPLAB_SOURCE_DIR")) + "/labs/" + lab + "/lab.toml");
    std::smatch m;
    for (std::string line; std::getline(toml, line);)
        if (std::regex_match(line, m, std::regex(R"re(title = "(.*)")re"))) return m[1].str();
    return "(no title in lab.toml)";
}

TEST_F(HeaplabCli, JourneyShowsEveryStageBesideGlibcWithItsIdeaAndTheReplaysFigures) {
    ASSERT_NE(std::getenv("HEAPLAB_SOURCE_DIR"), nullptr);
    Outcome run = heaplab("journey --runs 1 " + two_suite_traces());
    ASSERT_EQ(run.status, 0) << run.out << run.err;
    // The same suite through `trace replay`: the journey must show exactly its utilizations.
    Outcome replay = heaplab("trace replay --allocator all --json --no-time " + two_suite_traces());
    ASSERT_EQ(replay.status, 0) << replay.err;
    nlohmann::json json = nlohmann::json::parse(replay.out);
    std::map<std::string, double> utilization;
    for (const auto &a : json.at("allocators"))
        utilization[a.at("allocator")] = a.at("totals").at("mean_utilization").get<double>();

    std::vector<std::string> seen;
    std::regex row(R"(^  (\S+) +(\S+) +(\S+) +(\S+) +(\S+) +(\d+/\d+)  (.*)$)");
    std::istringstream lines(run.out);
    for (std::string line; std::getline(lines, line);) {
        std::smatch m;
        if (!std::regex_match(line, m, row) || m[1] == "allocator") continue;
        std::string name = m[1];
        seen.push_back(name);
        EXPECT_EQ(m[6].str(), "2/2") << "every trace replays correctly on " << name << ":\n" << run.out;
        if (name == "libc") {
            EXPECT_EQ(m[3].str(), "1.00x") << "glibc is the yardstick of the ratios:\n" << run.out;
            EXPECT_EQ(m[5].str(), "1.00x") << run.out;
            continue;
        }
        EXPECT_NE(m[5].str(), "-") << name << " has a throughput ratio to glibc:\n" << run.out;
        char expected[32];
        std::snprintf(expected, sizeof expected, "%.1f%%", 100 * utilization[name]);
        EXPECT_EQ(m[2].str(), expected) << name << ": the journey's utilization differs from trace replay's";
        if (name != "reference") {
            EXPECT_EQ(m[7].str(), lab_title(name)) << "the idea is the stage's lab.toml title";
        }
    }
    EXPECT_EQ(seen, journey_order()) << "libc, then every stage in order, then the reference:\n" << run.out;
}

TEST_F(HeaplabCli, JourneyInMarkdownIsATableWithARowPerAllocator) {
    std::string trace = std::string(std::getenv("HEAPLAB_SOURCE_DIR")) + "/traces/12-large-blocks.rep";
    Outcome run = heaplab("journey --runs 1 --format markdown " + trace);
    ASSERT_EQ(run.status, 0) << run.out << run.err;
    std::istringstream lines(run.out);
    std::string header, rule;
    std::getline(lines, header);
    std::getline(lines, rule);
    EXPECT_EQ(header, "| allocator | the idea | utilization | vs glibc | throughput (Kops/s) | vs glibc | traces ok |");
    EXPECT_EQ(rule, "| --- | --- | ---: | ---: | ---: | ---: | ---: |");
    for (const std::string &name : journey_order()) {
        std::string line;
        std::getline(lines, line);
        EXPECT_EQ(line.rfind("| `" + name + "` | ", 0), 0u) << "a row for " << name << ", got: " << line;
        EXPECT_EQ(line.substr(line.size() - 8), " | 1/1 |") << line;
    }
    EXPECT_EQ(heaplab("journey --format xml " + trace).err, "heaplab: --format: expected text or markdown, got 'xml'\n");
}

TEST_F(HeaplabCli, ReplayOfSeveralAllocatorsEndsWithTheJourneyTable) {
    Outcome run = heaplab("trace replay --allocator libc,01-bump --no-time " + good());
    ASSERT_EQ(run.status, 0) << run.out << run.err;
    std::string table = run.out.substr(run.out.find("side by side"));
    EXPECT_NE(table.find("vs glibc"), std::string::npos) << table;
    EXPECT_NE(table.find("1/1  " + lab_title("01-bump")), std::string::npos) << "the stage's idea:\n" << table;
}

TEST_F(HeaplabCli, BoundPrintsEachTraceAndTheMean) {
    // Two live 1-byte blocks: 2 bytes live; any allocator lays down at least 2 x 16 bytes, of
    // which the last block's rounding may lie past the break: 2 / 16 = 12.5%. With the
    // reference's layout (8-byte header, 32-byte blocks): 2 / (64 - 16) = 4.2%.
    std::string tiny = write("tiny.rep", "heaplab-trace 1\nname tiny\nids 2\nops 2\na 0 1\na 1 1\n");
    Outcome any = heaplab("trace bound " + tiny);
    EXPECT_EQ(any.status, 0) << any.err;
    EXPECT_NE(any.out.find("header 0 B, minimum block 16 B, alignment 16 B"), std::string::npos) << any.out;
    EXPECT_NE(any.out.find("tiny"), std::string::npos) << any.out;
    EXPECT_NE(any.out.find("12.5%"), std::string::npos) << "expected a bound of 12.5%:\n" << any.out;
    Outcome ref = heaplab("trace bound --header 8 --min-block 32 --zero-block 32 " + tiny + " " + tiny);
    EXPECT_EQ(ref.status, 0) << ref.err;
    EXPECT_NE(ref.out.find("mean"), std::string::npos) << ref.out;
    EXPECT_NE(ref.out.find("4.2%"), std::string::npos) << "expected a bound of 4.2%:\n" << ref.out;
}

TEST_F(HeaplabCli, BoundJsonHasEveryTraceAndTheMean) {
    Outcome run = heaplab("trace bound --json " + good() + " " + good());
    ASSERT_EQ(run.status, 0) << run.err;
    nlohmann::json json = nlohmann::json::parse(run.out, nullptr, false);
    ASSERT_FALSE(json.is_discarded()) << "--json must print valid JSON, got:\n" << run.out;
    ASSERT_EQ(json.at("traces").size(), 2u);
    const auto &trace = json.at("traces").at(0);
    EXPECT_EQ(trace.at("trace"), "good");
    EXPECT_EQ(trace.at("peak_live_bytes"), 400) << "24 + 100 grown to 300, with the 100 still live";
    EXPECT_EQ(trace.at("peak_footprint_bytes"), 416) << "304 + 112";
    EXPECT_DOUBLE_EQ(json.at("mean_bound").get<double>(), 1.0);
    EXPECT_EQ(json.at("layout").at("min_block"), 16);
}

TEST_F(HeaplabCli, BoundRejectsAnImpossibleLayoutInOneLine) {
    Outcome run = heaplab("trace bound --alignment 24 " + good());
    EXPECT_EQ(run.status, 2);
    EXPECT_EQ(run.err, "heaplab: trace bound: alignment must be a power of two, got 24\n");
    EXPECT_EQ(heaplab("trace bound").status, 2) << "no trace given";
    EXPECT_EQ(heaplab("trace bound --header lots " + good()).status, 2);
}

TEST_F(HeaplabCli, ACrashingAllocatorGetsAVerdictAndTheRunGoesOn) {
    // The plug-in crashes in its fifth mm_malloc: request 4 of this trace.
    std::string mallocs = write("mallocs.rep", "heaplab-trace 1\nids 6\nops 6\na 0 1\na 1 2\na 2 3\na 3 4\na 4 5\na 5 6\n");
    Outcome run = heaplab(std::string("trace replay --runs 1 --allocator ") + CRASH_PLUGIN + ",libc " + mallocs + " " + mallocs);
    EXPECT_EQ(run.status, 1) << "a failed verdict exits 1:\n" << run.out << run.err;
    EXPECT_NE(run.out.find("crashed with ILL"), std::string::npos) << run.out;
    EXPECT_NE(run.out.find("during request 4 (a 4 5)"), std::string::npos) << run.out;
    EXPECT_NE(run.out.find("0/2 ok"), std::string::npos) << run.out;
    EXPECT_NE(run.out.find("allocator libc"), std::string::npos) << "libc is still replayed after the crash:\n" << run.out;
    EXPECT_NE(run.out.find("side by side"), std::string::npos) << run.out;
}

}  // namespace

// Real programs under LD_PRELOAD=libheaplab.so, each compared with the same command on
// glibc's malloc: same output, exit status 0 — and HEAPLAB_STATS proving that the reference
// served the calls (a preload that silently did not take effect would pass everything else).
// The lab stages run ListsUsrLib and PythonBuildsAndDropsObjects on their own preloadable
// builds (HEAPLAB_TEST_PRELOAD, HEAPLAB_EXPECT_ALLOCATOR: see cmake/HeapLabLabs.cmake).
#include "run_child.h"

#include <gtest/gtest.h>

#include <sys/stat.h>

#include <cstdio>
#include <filesystem>
#include <fstream>
#include <random>
#include <regex>

namespace heaplab::ref::test {
namespace {

namespace fs = std::filesystem;

/// The most calls any one process of the preloaded run reported as served by the expected
/// allocator (the statistics line ends with its name).
std::uint64_t max_calls(const std::string &err) {
    static const std::regex line(R"(heaplab stats: pid \d+ calls (\d+) [^\n]* allocator (\S+))");
    std::uint64_t best = 0;
    for (auto it = std::sregex_iterator(err.begin(), err.end(), line); it != std::sregex_iterator(); ++it)
        if ((*it)[2].str() == expected_allocator()) best = std::max<std::uint64_t>(best, std::stoull((*it)[1].str()));
    return best;
}

/// Drops the statistics lines, leaving what the program itself wrote to stderr.
std::string without_stats(const std::string &err) {
    return std::regex_replace(err, std::regex(R"(heaplab stats: [^\n]*\n)"), "");
}

class Programs : public ::testing::Test {
protected:
    void SetUp() override {
        char tmpl[] = "/tmp/heaplab-ref-programs-XXXXXX";
        dir_ = mkdtemp(tmpl);
    }
    void TearDown() override { fs::remove_all(dir_); }

    /// Runs @p argv twice — glibc, then the reference — in the scratch directory. Arguments
    /// may contain "{}", replaced by "plain" or "preloaded" (to keep their output files apart).
    void run_both(const std::vector<std::string> &argv, std::vector<std::string> env = {}) {
        auto with = [&argv](const std::string &tag) {
            std::vector<std::string> a;
            for (auto s : argv) {
                for (auto at = s.find("{}"); at != std::string::npos; at = s.find("{}")) s.replace(at, 2, tag);
                a.push_back(s);
            }
            return a;
        };
        plain_ = run_child(with("plain"), env, dir_);
        env.push_back(preload_env());
        env.push_back("HEAPLAB_STATS=1");
        preloaded_ = run_child(with("preloaded"), env, dir_);
        ASSERT_TRUE(plain_.exited_ok()) << "without the preload: " << plain_.describe();
        ASSERT_TRUE(preloaded_.exited_ok()) << "with the preload: " << preloaded_.describe();
        EXPECT_EQ(plain_.out, preloaded_.out);
        EXPECT_EQ(without_stats(plain_.err), without_stats(preloaded_.err));
    }

    void expect_served_at_least(std::uint64_t calls) {
        EXPECT_GE(max_calls(preloaded_.err), calls)
            << "calls served by " << expected_allocator() << ", from the HEAPLAB_STATS output:\n"
            << preloaded_.err.substr(0, 3000);
    }

    void expect_same_file(const std::string &a, const std::string &b) {
        std::string x = slurp(dir_ + "/" + a), y = slurp(dir_ + "/" + b);
        EXPECT_FALSE(x.empty()) << a;
        EXPECT_TRUE(x == y) << a << " and " << b << " differ";
    }

    std::string dir_;
    ChildResult plain_, preloaded_;
};

/// True when @p tool is on PATH (a missing tool skips its test instead of failing it).
bool have(const std::string &tool) {
    return run_child({"sh", "-c", "command -v " + tool + " >/dev/null"}).exited_ok();
}

#define REQUIRE_TOOLS(...)                                                      \
    for (const char *tool : {__VA_ARGS__})                                      \
        if (!have(tool)) GTEST_SKIP() << tool << " is not installed"

/// The interpreter itself, not a version-manager shim that would run several processes.
std::string python() {
    ChildResult r = run_child({"python3", "-c", "import sys; print(sys.executable)"});
    std::string path = r.out.substr(0, r.out.find('\n'));
    return path.empty() ? "python3" : path;
}

TEST_F(Programs, PythonBuildsAndDropsAMillionObjects) {
    REQUIRE_TOOLS("python3");
    run_both({python(), "-c",
              "import gc\n"
              "xs = [(i, str(i), [i]) for i in range(1000000)]\n"
              "d = {s: n for n, s, _ in xs[::3]}\n"
              "print(len(xs), len(d), sum(n for n, _, _ in xs) % 1000003)\n"
              "del xs, d\n"
              "gc.collect()\n"
              "print('dropped')\n"},
             // Without this, Python serves small objects from its own arenas (pymalloc) and
             // malloc sees few calls; with it, every object is a malloc and a free.
             {"PYTHONMALLOC=malloc"});
    expect_served_at_least(1000000);
}

TEST_F(Programs, ListsUsrLib) {
    REQUIRE_TOOLS("ls");
    run_both({"ls", "-l", "/usr/lib"});
    EXPECT_NE(preloaded_.out.find("total "), std::string::npos) << preloaded_.out.substr(0, 500);
    expect_served_at_least(50);  // ls -l: a few hundred (one name, one owner lookup, ... each)
}

/// Python as it normally runs: its own allocator (pymalloc) serves objects up to 512 bytes from
/// arenas it maps itself, and malloc serves the rest — here thousands of strings and bytes
/// objects of up to 3000 bytes, list and dict tables grown by realloc, a third dropped, then
/// everything. (PythonBuildsAndDropsAMillionObjects makes every object a malloc: a stage
/// that searches its blocks one by one, as Lab 02 does, would take minutes.)
TEST_F(Programs, PythonBuildsAndDropsObjects) {
    REQUIRE_TOOLS("python3");
    run_both({python(), "-c",
              "import gc\n"
              "rows = [(i, 'x' * (i % 3000), [i] * (i % 50)) for i in range(4000)]\n"
              "keep = {i: r for i, r in enumerate(rows) if i % 3}\n"
              "del rows\n"
              "gc.collect()\n"
              "again = [bytes(i % 2000) for i in range(4000)]\n"
              "print(len(keep), sum(len(s) for _, s, _ in keep.values()), sum(map(len, again)))\n"
              "del keep, again\n"
              "gc.collect()\n"
              "print('dropped')\n"});
    EXPECT_EQ(preloaded_.out, "2666 3332667 3998000\ndropped\n");
    expect_served_at_least(10000);
}

TEST_F(Programs, GxxCompilesARealSourceFile) {
    REQUIRE_TOOLS("g++");
    std::string src = std::string(HEAPLAB_SOURCE_DIR_PATH) + "/reference_allocator/src/heap.cpp";
    std::string inc1 = std::string("-I") + HEAPLAB_SOURCE_DIR_PATH + "/reference_allocator/src";
    std::string inc2 = std::string("-I") + HEAPLAB_SOURCE_DIR_PATH + "/common/include";
    run_both({"g++", "-std=c++20", "-O2", inc1, inc2, "-c", src, "-o", "{}.o"});
    expect_same_file("plain.o", "preloaded.o");
    expect_served_at_least(10000);  // cc1plus alone makes far more
}

TEST_F(Programs, SortOfA50MiBFile) {
    REQUIRE_TOOLS("sort");
    {
        std::ofstream f(dir_ + "/input.txt");
        std::mt19937_64 rng(42);
        std::size_t written = 0;
        char line[64];
        while (written < (std::size_t{50} << 20)) {
            int n = std::snprintf(line, sizeof line, "%016llx %llu\n", static_cast<unsigned long long>(rng()),
                                  static_cast<unsigned long long>(rng() % 100000));
            f.write(line, n);
            written += static_cast<std::size_t>(n);
        }
    }
    run_both({"sort", "--parallel=2", "-o", "{}.txt", "input.txt"});
    expect_same_file("plain.txt", "preloaded.txt");
    expect_served_at_least(10);
}

TEST_F(Programs, TarAndXzOfADirectory) {
    REQUIRE_TOOLS("tar", "xz");
    // A fixed system directory of a few MB, copied so that timestamps and order are ours.
    fs::copy("/usr/include/linux", dir_ + "/tree", fs::copy_options::recursive);
    run_both({"tar", "--sort=name", "--mtime=@0", "--owner=0", "--group=0", "-cJf", "{}.tar.xz", "tree"});
    expect_same_file("plain.tar.xz", "preloaded.tar.xz");
    expect_served_at_least(100);
}

TEST_F(Programs, CmakeBuildsASmallProjectWithTwoJobs) {
    REQUIRE_TOOLS("cmake", "make", "c++");
    fs::create_directories(dir_ + "/proj");
    std::ofstream(dir_ + "/proj/CMakeLists.txt") << "cmake_minimum_required(VERSION 3.20)\n"
                                                    "project(tiny CXX)\n"
                                                    "add_executable(tiny main.cpp a.cpp b.cpp)\n";
    std::ofstream(dir_ + "/proj/a.cpp") << "#include <string>\n#include <vector>\n"
                                           "std::string a() { std::vector<std::string> v{\"x\", \"y\"}; return v[0] + v[1]; }\n";
    std::ofstream(dir_ + "/proj/b.cpp") << "#include <map>\n#include <string>\n"
                                           "int b() { std::map<std::string, int> m{{\"k\", 41}}; return m[\"k\"] + 1; }\n";
    std::ofstream(dir_ + "/proj/main.cpp") << "#include <iostream>\n#include <string>\n"
                                              "std::string a(); int b();\n"
                                              "int main() { std::cout << a() << b() << std::endl; }\n";
    // Configure and build, each variant in its own build directory; then run what was built.
    run_both({"sh", "-c",
              "cmake -S proj -B build-{} -G 'Unix Makefiles' >/dev/null && "
              "cmake --build build-{} -j2 >/dev/null && ./build-{}/tiny"});
    EXPECT_EQ(preloaded_.out, "xy42\n");
    expect_served_at_least(1000);
}

}  // namespace
}  // namespace heaplab::ref::test

// `heaplab grade` on a small class: every submission gets a row whatever it did, archives are
// taken in safely, and a batch killed halfway finishes on the next run without losing or
// doubling a row. A trimmed copy of Lab 01 (tests parts only) keeps it quick.
#include "shell.h"

#include <gtest/gtest.h>
#include <nlohmann/json.hpp>

#include <array>
#include <chrono>
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <sstream>
#include <sys/wait.h>
#include <thread>

namespace {

namespace fs = std::filesystem;
using heaplab::testing::Outcome;
using heaplab::testing::read;
using heaplab::testing::shell;

class GradeBatch : public ::testing::Test {
protected:
    void SetUp() override {
        dir_ = fs::temp_directory_path() / ("heaplab_grade_" + std::to_string(getpid()));
        fs::remove_all(dir_);
        fs::create_directories(dir_ / "class");
        // The lab: Lab 01's tests, graded on two tests parts only.
        fs::copy(fs::path(SOURCE_DIR) / "labs" / "01-bump", lab(), fs::copy_options::recursive);
        fs::remove_all(lab() / "build");
        std::ofstream(lab() / "lab.toml") << "[lab]\nid = \"01-bump\"\ntitle = \"Bump (trimmed)\"\nsubmit = [\"mm.cpp\"]\n"
                                             "[symbols]\nallowed = [\"memcpy\", \"memset\", \"__errno_location\", \"fprintf\", \"printf\", \"stderr\"]\n"
                                             "[[part]]\nname = \"malloc\"\nkind = \"tests\"\ntests = \"BumpMalloc.*\"\npoints = 60\n"
                                             "[[part]]\nname = \"calloc\"\nkind = \"tests\"\ntests = \"BumpCalloc.*\"\npoints = 40\n";
        solution_ = shell(std::string(HEAPLAB_BIN) + " lab strip " + SOURCE_DIR + "/solutions/01-bump/mm.cpp").out;
    }
    void TearDown() override { fs::remove_all(dir_); }
    fs::path lab() const { return dir_ / "lab"; }
    void submit(const std::string &name, const std::string &source) {
        fs::create_directories(dir_ / "class" / name);
        std::ofstream(dir_ / "class" / name / "mm.cpp") << source;
    }
    Outcome grade(const std::string &extra = "") {
        return shell(std::string(HEAPLAB_BIN) + " grade --lab " + lab().string() + " --out " + (dir_ / "out").string() +
                     " " + extra + " " + (dir_ / "class").string());
    }
    std::vector<std::string> gradebook_rows() {
        std::istringstream in(read(dir_ / "out" / "gradebook.csv"));
        std::vector<std::string> rows;
        for (std::string line; std::getline(in, line);) rows.push_back(line);
        return rows;
    }
    fs::path dir_;
    std::string solution_;
};

TEST_F(GradeBatch, EverySubmissionGetsARowWhateverItDid) {
    submit("alice", solution_);
    submit("bob", "this does not compile\n");
    fs::create_directories(dir_ / "class" / "carol");  // an empty hand-in
    std::ofstream(dir_ / "class" / "dave.zip") << "PK\x03\x04 but not really a zip";
    // An archive whose only mm.cpp climbs out with ../
    fs::create_directories(dir_ / "evil" / "inner");
    std::ofstream(dir_ / "evil" / "mm.cpp") << solution_;
    // -P: GNU tar would otherwise strip the leading ../ itself.
    ASSERT_EQ(shell("cd " + (dir_ / "evil" / "inner").string() + " && tar -P -czf " + (dir_ / "class" / "erin.tar.gz").string() +
                    " ../mm.cpp").status, 0);
    // A good archive with the file in a subfolder.
    fs::create_directories(dir_ / "pack" / "frank-handin");
    std::ofstream(dir_ / "pack" / "frank-handin" / "mm.cpp") << solution_;
    ASSERT_EQ(shell("tar czf " + (dir_ / "class" / "frank.tar.gz").string() + " -C " + (dir_ / "pack").string() +
                    " frank-handin").status, 0);

    // A crash in the calloc tests: the malloc tests still count.
    std::string crashing = solution_;
    std::string calloc_start = "void *mm_calloc(size_t nmemb, size_t size) {";
    ASSERT_NE(crashing.find(calloc_start), std::string::npos);
    crashing.replace(crashing.find(calloc_start), calloc_start.size(),
                     calloc_start + " if (nmemb > 0) *(volatile int *)nullptr = 1;");
    submit("gina", crashing);
    // A missing function: it compiles, but does not link.
    std::string missing = solution_;
    std::string realloc_start = "void *mm_realloc(void *ptr, size_t size) {";
    missing.replace(missing.find(realloc_start), realloc_start.size(), "void *mm_realloc_typo(void *ptr, size_t size) {");
    submit("hank", missing);

    Outcome outcome = grade("--jobs 2");
    ASSERT_EQ(outcome.status, 0) << outcome.out;
    std::vector<std::string> rows = gradebook_rows();
    ASSERT_EQ(rows.size(), 9u) << "a header and one row per submission:\n" << read(dir_ / "out" / "gradebook.csv");
    EXPECT_EQ(rows[0], "submission,student_id,name,score,max_score,status,malloc,calloc");
    EXPECT_EQ(rows[1], "alice,alice,,100,100,graded,60,40");
    EXPECT_EQ(rows[2], "bob,bob,,0,100,build failed,0,0");
    EXPECT_EQ(rows[3], "carol,carol,,0,100,intake failed,0,0");
    EXPECT_EQ(rows[4], "dave,dave,,0,100,intake failed,0,0");
    EXPECT_EQ(rows[5], "erin,erin,,0,100,intake failed,0,0");
    EXPECT_EQ(rows[6], "frank,frank,,100,100,graded,60,40");
    EXPECT_EQ(rows[7], "gina,gina,,60,100,graded,60,0") << "a crash costs only the crashing tests";
    EXPECT_EQ(rows[8], "hank,hank,,0,100,build failed,0,0");
    EXPECT_NE(read(dir_ / "out" / "submissions" / "gina" / "feedback.md").find("SIGSEGV"), std::string::npos);
    EXPECT_NE(read(dir_ / "out" / "submissions" / "hank" / "feedback.md").find("does not link"), std::string::npos);

    nlohmann::json erin = nlohmann::json::parse(read(dir_ / "out" / "submissions" / "erin" / "record.json"));
    EXPECT_NE(erin["notes"].dump().find("a path with '..'"), std::string::npos) << erin.dump(2);
    EXPECT_FALSE(fs::exists(dir_ / "out" / "submissions" / "mm.cpp")) << "nothing is written outside the scratch";
    nlohmann::json results = nlohmann::json::parse(read(dir_ / "out" / "submissions" / "alice" / "results.json"));
    EXPECT_EQ(results["score"], 100.0);
    EXPECT_EQ(results["tests"].size(), 2u);
    EXPECT_EQ(results["tests"][0]["status"], "passed");
    EXPECT_NE(read(dir_ / "out" / "submissions" / "bob" / "feedback.md").find("mm.cpp:1:"), std::string::npos)
        << "the compiler's first error is in the feedback, with file:line";
    EXPECT_NE(read(dir_ / "out" / "summary.md").find("8 submissions graded"), std::string::npos);
}

TEST_F(GradeBatch, AKilledBatchFinishesOnTheNextRunWithoutLosingOrDoublingARow) {
    for (int i = 0; i < 6; ++i) submit("student" + std::to_string(i), solution_);
    // Start, and kill -9 as soon as the first record is on disk.
    std::string command = std::string(HEAPLAB_BIN) + " grade --lab " + lab().string() + " --out " +
                          (dir_ / "out").string() + " " + (dir_ / "class").string() + " >/dev/null 2>&1 & echo $!";
    std::string pid = shell(command).out;
    auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(60);
    while (!fs::exists(dir_ / "out" / "submissions" / "student0" / "record.json") &&
           std::chrono::steady_clock::now() < deadline)
        std::this_thread::sleep_for(std::chrono::milliseconds(20));
    shell("kill -9 " + pid);
    std::this_thread::sleep_for(std::chrono::milliseconds(200));

    Outcome rerun = grade();
    ASSERT_EQ(rerun.status, 0) << rerun.out;
    EXPECT_NE(rerun.out.find("already graded"), std::string::npos) << rerun.out;
    std::vector<std::string> rows = gradebook_rows();
    ASSERT_EQ(rows.size(), 7u) << read(dir_ / "out" / "gradebook.csv");
    for (int i = 0; i < 6; ++i) {
        std::string name = "student" + std::to_string(i);
        EXPECT_EQ(rows[i + 1], name + "," + name + ",,100,100,graded,60,40");
    }
}

// Submissions that attack the grader. The trimmed lab allows the calls they make (an allow-list
// would refuse them before they run): what is tested here is the isolation itself.
TEST_F(GradeBatch, HostileSubmissionsGetAVerdictAndTheBatchGoesOn) {
    std::ofstream(lab() / "lab.toml") << "[lab]\nid = \"01-bump\"\ntitle = \"Bump (hostile)\"\nsubmit = [\"mm.cpp\"]\n"
                                         "[limits]\ntest_seconds = 2\n"
                                         "[symbols]\nallowed = [\"memcpy\", \"memset\", \"__errno_location\", \"fprintf\", "
                                         "\"printf\", \"stderr\", \"exit\", \"fopen\", \"fputs\", \"fclose\", \"fwrite\", \"_exit\", \"puts\", \"fork\", \"sleep\"]\n"
                                         "[[part]]\nname = \"malloc\"\nkind = \"tests\"\ntests = \"BumpMalloc.Returns*\"\npoints = 100\n";
    auto with_init = [&](const std::string &init_body) {
        std::string source = solution_;
        std::string plain = "int mm_init(void) { return 0; }";
        std::size_t at = source.find(plain);
        EXPECT_NE(at, std::string::npos) << "the Lab 01 solution changed: update this test";
        return source.substr(0, at) + "#include <cstdlib>\n#include <unistd.h>\nint mm_init(void) { " + init_body +
               " return 0; }" + source.substr(at + plain.size());
    };
    std::string escape = (dir_ / "escaped").string();
    submit("a-loops", with_init("for (;;) {}"));
    submit("b-exits", with_init("exit(0);"));
    submit("c-forges", with_init("puts(\"[  PASSED  ] 1 test.\"); exit(0);"));
    submit("d-floods", with_init("for (;;) puts(\"flood flood flood flood flood flood flood flood\");"));
    submit("e-escapes", with_init("FILE *f = fopen(\"" + escape + "\", \"w\"); if (f) { fputs(\"out\", f); fclose(f); }"));
    submit("f-forks", with_init("for (int i = 0; i < 20; ++i) if (fork() == 0) { sleep(30); _exit(0); }"));
    submit("g-honest", solution_);

    auto started = std::chrono::steady_clock::now();
    Outcome outcome = grade("--jobs 2");
    double seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - started).count();
    ASSERT_EQ(outcome.status, 0) << outcome.out;
    EXPECT_LT(seconds, 120) << "the grader must not wait on a hostile submission past its limits";
    std::vector<std::string> rows = gradebook_rows();
    ASSERT_EQ(rows.size(), 8u) << read(dir_ / "out" / "gradebook.csv");
    EXPECT_EQ(rows[1], "a-loops,a-loops,,0,100,graded,0");
    EXPECT_EQ(rows[2], "b-exits,b-exits,,0,100,graded,0");
    EXPECT_EQ(rows[3], "c-forges,c-forges,,0,100,graded,0");
    EXPECT_EQ(rows[4], "d-floods,d-floods,,0,100,graded,0");
    EXPECT_EQ(rows[6], "f-forks,f-forks,,100,100,graded,100") << "forking is harmless here; its children are killed";
    EXPECT_EQ(rows[7], "g-honest,g-honest,,100,100,graded,100") << "hostile neighbours do not affect an honest submission";
    auto explanation = [&](const std::string &name) {
        return nlohmann::json::parse(read(dir_ / "out" / "submissions" / name / "record.json"))["parts"][0]["explanation"]
            .get<std::string>();
    };
    EXPECT_NE(explanation("a-loops").find("timed out after 2 s"), std::string::npos) << explanation("a-loops");
    EXPECT_NE(explanation("b-exits").find("exited 0 without GoogleTest's report"), std::string::npos) << explanation("b-exits");
    EXPECT_NE(explanation("c-forges").find("exited 0 without GoogleTest's report"), std::string::npos);
    EXPECT_NE(explanation("d-floods").find("timed out"), std::string::npos) << explanation("d-floods");
    if (fs::exists("/usr/bin/bwrap")) {
        EXPECT_FALSE(fs::exists(escape)) << "a submission wrote outside its scratch folder";
        EXPECT_EQ(rows[5], "e-escapes,e-escapes,,100,100,graded,100") << "its fopen failed, and it went on";
    }
}

TEST(GradeClassic, AClassicHandInInCIsGradedOnTracesUtilizationThroughputAndMemcheck) {
    fs::path out = fs::temp_directory_path() / ("heaplab_classic_" + std::to_string(getpid()));
    fs::remove_all(out);
    Outcome outcome = shell(std::string(HEAPLAB_BIN) + " grade --lab classic --out " + out.string() + " " + SOURCE_DIR +
                            "/labs/classic/example");
    ASSERT_EQ(outcome.status, 0) << outcome.out;
    nlohmann::json record = nlohmann::json::parse(read(out / "submissions" / "example" / "record.json"));
    EXPECT_EQ(record["status"], "graded") << record.dump(2);
    ASSERT_EQ(record["parts"].size(), 4u);
    EXPECT_EQ(record["parts"][0]["summary"], "16/16 traces") << "8-byte alignment, no mm_calloc: " << record.dump(2);
    EXPECT_EQ(record["parts"][0]["points"], 40.0);
    EXPECT_NE(record["parts"][1]["summary"].get<std::string>().find("mean utilization"), std::string::npos);
    EXPECT_GT(record["parts"][1]["points"].get<double>(), 0.0) << "the example's utilization is above the zero point";
    EXPECT_NE(record["parts"][2]["summary"].get<std::string>().find("x "), std::string::npos) << record.dump(2);
    EXPECT_EQ(record["parts"][3]["points"], 20.0) << "the example is Memcheck-clean: " << record.dump(2);
    fs::remove_all(out);
}

TEST_F(GradeBatch, ARosterNamesTheStudentsAndAManifestMismatchIsReported) {
    fs::create_directories(dir_ / "pack");
    std::ofstream(dir_ / "pack" / "mm.cpp") << solution_;
    // What make handin writes: the file and its hash; then the file is edited.
    ASSERT_EQ(shell("cd " + (dir_ / "pack").string() + " && sha256sum mm.cpp > MANIFEST.sha256 && echo '// edited' >> mm.cpp && tar czf " +
                    (dir_ / "class" / "ivy.tar.gz").string() + " mm.cpp MANIFEST.sha256").status, 0);
    submit("jo", solution_);
    std::ofstream(dir_ / "roster.csv") << "submission,student_id,name\nivy,s1234,\"Ivy Ng\"\n";
    Outcome outcome = grade("--roster " + (dir_ / "roster.csv").string());
    ASSERT_EQ(outcome.status, 0) << outcome.out;
    std::vector<std::string> rows = gradebook_rows();
    ASSERT_EQ(rows.size(), 3u);
    EXPECT_EQ(rows[1], "ivy,s1234,Ivy Ng,100,100,graded,60,40");
    EXPECT_EQ(rows[2], "jo,jo,,100,100,graded,60,40") << "not on the roster: the submission's name";
    EXPECT_NE(read(dir_ / "out" / "submissions" / "ivy" / "feedback.md").find("does not match the hand-in's MANIFEST.sha256"),
              std::string::npos);
    std::ofstream(dir_ / "bad.csv") << "ivy\n";
    EXPECT_EQ(shell(std::string(HEAPLAB_BIN) + " grade --lab " + lab().string() + " --roster " + (dir_ / "bad.csv").string() +
                    " " + (dir_ / "class").string()).status, 2);
}

TEST_F(GradeBatch, BadArgumentsExit2) {
    EXPECT_EQ(shell(std::string(HEAPLAB_BIN) + " grade --lab 99 " + dir_.string()).status, 2);
    EXPECT_EQ(shell(std::string(HEAPLAB_BIN) + " grade --lab " + lab().string() + " /nonexistent").status, 2);
}

}  // namespace

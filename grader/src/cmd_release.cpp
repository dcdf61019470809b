/**
 * @file cmd_release.cpp
 * @brief The student repository: labs with skeletons and public tests, the framework, the
 *        traces, the grader (for `make check`), a README and a Makefile for students, and the
 *        GitHub Classroom workflow. Never the solutions, the hidden tests or the reference
 *        allocator's source: what is copied is an explicit list, not "everything but".
 */
#include "cmd_release.h"

#include "check.h"
#include "cli_error.h"
#include "lab_spec.h"

#include <fmt/format.h>

#include <algorithm>
#include <fstream>
#include <sstream>

namespace heaplab {
namespace fs = std::filesystem;
namespace {

/// What a student repository holds of the instructor's tree.
const char *const kCopied[] = {"common", "traces", "grader/src", "grader/CMakeLists.txt", "scripts/install-deps",
                               "labs/lab.mk", "labs/handin.mk", "labs/.gitignore", ".gitattributes", ".gitignore", "docs"};

bool skipped(const fs::path &relative) {
    for (const auto &part : relative) {
        std::string name = part.string();
        if (name == "build" || name.starts_with("build-") || name == "handin.tar.gz" || name.ends_with(".configure.log"))
            return true;
    }
    return false;
}

void copy_tree(const fs::path &from, const fs::path &to, const fs::path &relative_base) {
    if (!fs::exists(from)) return;
    if (fs::is_regular_file(from)) {
        fs::create_directories(to.parent_path());
        fs::copy_file(from, to, fs::copy_options::overwrite_existing);
        return;
    }
    for (auto it = fs::recursive_directory_iterator(from); it != fs::recursive_directory_iterator(); ++it) {
        fs::path relative = fs::relative(it->path(), relative_base);
        if (skipped(relative)) {
            if (it->is_directory()) it.disable_recursion_pending();
            continue;
        }
        if (!it->is_regular_file() || it->is_symlink()) continue;
        fs::path target = to / fs::relative(it->path(), from);
        fs::create_directories(target.parent_path());
        fs::copy_file(it->path(), target, fs::copy_options::overwrite_existing);
    }
}

void write(const fs::path &path, const std::string &text) {
    fs::create_directories(path.parent_path());
    std::ofstream out(path);
    out << text;
    if (!out) throw UsageError("cannot write " + path.string());
}

std::string read(const fs::path &path) {
    std::ifstream in(path);
    std::ostringstream text;
    text << in.rdbuf();
    return text.str();
}

/// A step id GitHub accepts: letters, digits, '-' and '_', starting with a letter.
std::string step_id(const std::string &lab, const std::string &part) {
    std::string id = "lab" + lab + "-" + part;
    for (char &c : id)
        if (!std::isalnum(static_cast<unsigned char>(c)) && c != '-' && c != '_') c = '-';
    return id;
}

std::string classroom_workflow(const std::vector<LabSpec> &labs) {
    std::string steps, reporter_env, runners;
    for (const LabSpec &lab : labs) {
        for (const LabPart &part : lab.parts) {
            if (part.visibility != "visible") continue;
            std::string id = step_id(lab.id, part.name);
            std::string upper = id;
            std::transform(upper.begin(), upper.end(), upper.begin(), [](unsigned char c) { return std::toupper(c); });
            steps += fmt::format(
                "      - name: \"{0}: {1}\"\n"
                "        id: {2}\n"
                "        run: |\n"
                "          result=$(build/bin/heaplab check labs/{0} --part \"{1}\" --format classroom | base64 -w0)\n"
                "          echo \"result=$result\" >> \"$GITHUB_OUTPUT\"\n",
                lab.id, part.name, id);
            reporter_env += fmt::format("          {}_RESULTS: \"${{{{ steps.{}.outputs.result }}}}\"\n", upper, id);
            runners += (runners.empty() ? "" : ",") + id;
        }
    }
    return "# GitHub Classroom autograding, written by `heaplab release`: one step per graded part of\n"
           "# each lab (points per part, from `heaplab check --format classroom`), then the grading\n"
           "# reporter that sends the points to GitHub Classroom.\n"
           "name: Autograding Tests\n"
           "'on':\n"
           "  - push\n"
           "  - repository_dispatch\n"
           "permissions:\n"
           "  checks: write\n"
           "  actions: read\n"
           "  contents: read\n"
           "jobs:\n"
           "  run-autograding-tests:\n"
           "    runs-on: ubuntu-latest\n"
           "    if: github.actor != 'github-classroom[bot]'\n"
           "    steps:\n"
           "      - name: Checkout code\n"
           "        uses: actions/checkout@v4\n"
           "      - name: Build the grader\n"
           "        run: |\n"
           "          sudo apt-get update -qq\n"
           "          sudo scripts/install-deps --core\n"
           "          make build\n" +
           steps +
           "      - name: Autograding Reporter\n"
           "        uses: classroom-resources/autograding-grading-reporter@v1\n"
           "        env:\n" +
           reporter_env +
           "        with:\n"
           "          runners: " + runners + "\n";
}

std::string student_readme(const std::vector<LabSpec> &labs) {
    std::string list;
    for (const LabSpec &lab : labs) list += fmt::format("- [`labs/{0}`](labs/{0}/README.md) — {1}\n", lab.id, lab.title);
    return "# HeapLab\n\n"
           "In these labs you build a real `malloc`, one stage at a time, on a heap you grow yourself\n"
           "with `mem_sbrk` — the lab framework's stand-in for the program break (`sbrk`).\n\n"
           "## Getting started (Debian or Ubuntu)\n\n"
           "```sh\n"
           "make                 # installs what is missing (asks for sudo), builds the grader and the framework\n"
           "cd labs/01-bump      # start with the first lab\n"
           "less README.md       # the handout: what to do, step by step\n"
           "make test            # build your mm.cpp with the public tests and run them\n"
           "make check           # self-grade: points per part, trace replay, Valgrind\n"
           "make handin          # pack your submission\n"
           "```\n\n"
           "## The labs\n\n" +
           list +
           "\nEach lab starts from the previous one's solution, so you can always go on. Edit only the\n"
           "files a lab's `lab.toml` lists under `submit` (usually `mm.cpp`).\n\n"
           "## What is here\n\n"
           "```\n"
           "labs/       one folder per lab: handout, the file you edit, public tests, lab.toml\n"
           "common/     the framework: mm.h (what you implement), memlib.h (mem_sbrk and friends)\n"
           "traces/     the workload traces your allocator is replayed on (format: traces/README.md)\n"
           "grader/     the heaplab command behind make check\n"
           "```\n\n"
           "`build/bin/heaplab trace replay --allocator labs/01-bump/build/check/mm_submission.so traces/*.rep`\n"
           "replays the traces on your last checked allocator, with utilization and throughput.\n";
}

std::string student_makefile() {
    return "# HeapLab for students. `make` builds the grader and the framework into build/.\n"
           "BUILD ?= build\n"
           "JOBS ?= $(shell nproc 2>/dev/null || echo 2)\n\n"
           ".PHONY: all build deps test clean\n\n"
           "all: build\n\n"
           "deps:\n"
           "\t@scripts/install-deps --check >/dev/null || scripts/install-deps --core\n\n"
           "build: deps\n"
           "\tcmake -S . -B $(BUILD) -DCMAKE_BUILD_TYPE=RelWithDebInfo\n"
           "\tcmake --build $(BUILD) -j $(JOBS) --target heaplab\n\n"
           "test: build\n"
           "\tcmake --build $(BUILD) -j $(JOBS)\n"
           "\tcd $(BUILD) && ctest --output-on-failure -j $(JOBS)\n\n"
           "clean:\n"
           "\trm -rf $(BUILD)\n";
}

void release(const fs::path &out) {
    fs::path root = heaplab_root();
    if (fs::exists(out) && !fs::is_empty(out)) throw UsageError(out.string() + " exists and is not empty");
    for (const char *item : kCopied) copy_tree(root / item, out / item, root);

    // The labs: every lab folder but the instructors' classic lab, as students see it.
    std::vector<LabSpec> labs;
    std::error_code error;
    std::vector<fs::path> lab_dirs;
    for (const auto &entry : fs::directory_iterator(root / "labs", error))
        if (entry.is_directory() && fs::exists(entry.path() / "lab.toml") && entry.path().filename() != "classic")
            lab_dirs.push_back(entry.path());
    std::sort(lab_dirs.begin(), lab_dirs.end());
    for (const fs::path &dir : lab_dirs) {
        copy_tree(dir, out / "labs" / dir.filename(), root);
        LabSpec spec = read_lab_spec((dir / "lab.toml").string());
        // CMake glue of the instructors' build does not travel.
        fs::remove(out / "labs" / dir.filename() / "CMakeLists.txt");
        if (fs::exists(dir / "mm.cpp") || spec.build_kind == "programs") labs.push_back(spec);
    }

    // The build: the instructors' CMakeLists, without the labs, solutions, reference and tests.
    std::string cmake = read(root / "CMakeLists.txt");
    std::size_t at = cmake.find("foreach(dir ");
    if (at != std::string::npos) {
        std::size_t end = cmake.find(')', at);
        cmake.replace(at, end - at + 1, "foreach(dir grader)");
    }
    write(out / "CMakeLists.txt", cmake);
    write(out / "Makefile", student_makefile());
    write(out / "README.md", student_readme(labs));
    write(out / ".github" / "workflows" / "classroom.yml", classroom_workflow(labs));
    fs::permissions(out / "scripts" / "install-deps", fs::perms::owner_all | fs::perms::group_read |
                                                          fs::perms::group_exec | fs::perms::others_read |
                                                          fs::perms::others_exec);
    fmt::print("wrote the student repository to {} ({} labs)\n", out.string(), labs.size());
}

}  // namespace

void add_release_command(CLI::App &app) {
    auto out = std::make_shared<std::string>();
    CLI::App *command = app.add_subcommand("release", "Write the student repository (no solutions, hidden tests or reference)");
    command->add_option("--out,-o", *out, "an empty or new folder")->required();
    command->callback([out] { release(fs::absolute(*out)); });
}

}  // namespace heaplab

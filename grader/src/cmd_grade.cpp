/**
 * @file cmd_grade.cpp
 * @brief Batch grading: every submission gets a record, a feedback page, a Gradescope-style
 *        results.json, and a row in gradebook.csv — also when it failed to build or crashed.
 *
 * Safe to interrupt. A submission counts as graded once its record (`record.json`) exists;
 * the record is written last, through a temporary file and a rename, so it is either whole or
 * absent. Run again after a kill (even `kill -9`), the batch skips what has a record and grades
 * the rest; gradebook.csv and summary.md are rebuilt from the records every time, so no row is
 * lost or doubled.
 */
#include "cmd_grade.h"

#include "check.h"
#include "cli_error.h"
#include "intake.h"
#include "lab_spec.h"

#include <fmt/format.h>
#include <nlohmann/json.hpp>

#include <algorithm>
#include <atomic>
#include <chrono>
#include <cmath>
#include <fstream>
#include <iostream>
#include <map>
#include <mutex>
#include <thread>
#include <pwd.h>
#include <sys/stat.h>
#include <unistd.h>

namespace heaplab {
namespace fs = std::filesystem;
using nlohmann::json;
namespace {

struct GradeSettings {
    std::string lab;
    int jobs = 1;
    std::string out = "grades";
    bool public_only = false;
    std::string roster;
    std::vector<std::string> submissions;
};

/// A roster maps submission names to students: CSV lines `submission,student_id[,name]`.
struct Student {
    std::string id;
    std::string name;
};

std::map<std::string, Student> read_roster(const std::string &path) {
    std::map<std::string, Student> roster;
    if (path.empty()) return roster;
    std::ifstream in(path);
    if (!in) throw UsageError("cannot read the roster " + path);
    std::size_t line_no = 0;
    for (std::string line; std::getline(in, line);) {
        ++line_no;
        if (!line.empty() && line.back() == '\r') line.pop_back();
        if (line.empty() || line[0] == '#') continue;
        std::vector<std::string> fields;
        std::size_t start = 0;
        for (std::size_t comma; (comma = line.find(',', start)) != std::string::npos; start = comma + 1)
            fields.push_back(line.substr(start, comma - start));
        fields.push_back(line.substr(start));
        for (std::string &field : fields)  // "Ivy Ng" -> Ivy Ng (fields may not hold commas)
            if (field.size() >= 2 && field.front() == '"' && field.back() == '"') field = field.substr(1, field.size() - 2);
        if (line_no == 1 && fields[0] == "submission") continue;  // a header
        if (fields.size() < 2 || fields[0].empty() || fields[1].empty())
            throw UsageError(path + ":" + std::to_string(line_no) + ": expected submission,student_id[,name]");
        roster[fields[0]] = {fields[1], fields.size() > 2 ? fields[2] : ""};
    }
    return roster;
}

void write_atomically(const fs::path &path, const std::string &text) {
    fs::path temporary = path;
    temporary += ".tmp";
    {
        std::ofstream out(temporary, std::ios::binary);
        out << text;
        out.flush();
        if (!out) throw std::runtime_error("cannot write " + temporary.string());
    }
    fs::rename(temporary, path);
}

/// labs/NN-name from "NN", "NN-name" or a path.
fs::path find_lab(const std::string &lab, const fs::path &root) {
    if (fs::exists(fs::path(lab) / "lab.toml")) return fs::absolute(lab);
    std::error_code error;
    for (const auto &entry : fs::directory_iterator(root / "labs", error)) {
        std::string name = entry.path().filename().string();
        if ((name == lab || name.starts_with(lab + "-")) && fs::exists(entry.path() / "lab.toml")) return entry.path();
    }
    throw UsageError("no lab '" + lab + "' in " + (root / "labs").string());
}

json part_json(const PartResult &part, double seconds = 0) {
    return {{"name", part.name},         {"kind", part.kind},       {"visibility", part.visibility},
            {"points", part.points},     {"max_points", part.max_points}, {"skipped", part.skipped},
            {"summary", part.summary},   {"explanation", part.explanation}, {"seconds", seconds}};
}

std::string number(double points) {
    double rounded = std::round(points * 100) / 100;
    return fmt::format("{:g}", rounded);
}

/// Gradescope's results.json: hidden parts are listed, marked hidden.
json gradescope_results(const json &record, double seconds) {
    json tests = json::array();
    int number_in_order = 1;
    for (const json &part : record["parts"]) {
        bool passed = part["points"].get<double>() >= part["max_points"].get<double>();
        std::string output = part["summary"].get<std::string>();
        if (!part["explanation"].get<std::string>().empty()) output += "\n\n" + part["explanation"].get<std::string>();
        tests.push_back({{"name", part["name"]},
                         {"number", std::to_string(number_in_order++)},
                         {"score", part["points"]},
                         {"max_score", part["max_points"]},
                         {"status", passed ? "passed" : "failed"},
                         {"output", output},
                         {"output_format", "text"},
                         {"visibility", part["visibility"]}});
    }
    std::string output = record["status"].get<std::string>() == "graded"
                             ? "Graded by HeapLab."
                             : "Not graded in full: " + record["problem"].get<std::string>();
    return {{"score", record["score"]}, {"execution_time", static_cast<int>(seconds)}, {"output", output},
            {"output_format", "text"},  {"visibility", "visible"}, {"stdout_visibility", "hidden"},
            {"tests", tests}};
}

std::string feedback_page(const json &record) {
    std::string page = fmt::format("# {} — feedback for {}\n\n**Score: {} / {}**\n\n", record["lab_title"].get<std::string>(),
                                   record["submission"].get<std::string>(), number(record["score"].get<double>()),
                                   number(record["max_score"].get<double>()));
    if (record["status"] != "graded") page += "> " + record["problem"].get<std::string>() + "\n\n";
    for (const json &note : record["notes"]) page += "- note: " + note.get<std::string>() + "\n";
    page += "\n| Part | Points | Result |\n|---|---:|---|\n";
    for (const json &part : record["parts"])
        page += fmt::format("| {} | {} / {} | {} |\n", part["name"].get<std::string>(), number(part["points"].get<double>()),
                            number(part["max_points"].get<double>()), part["summary"].get<std::string>());
    for (const json &part : record["parts"]) {
        std::string explanation = part["explanation"].get<std::string>();
        if (explanation.empty()) continue;
        page += "\n## " + part["name"].get<std::string>() + "\n\n";
        if (part["visibility"] == "hidden") {
            page += "A hidden part: its details are not shown.\n";
        } else {
            page += "```\n" + explanation + "```\n";
        }
    }
    return page;
}

/// Grades one submission into OUT/submissions/NAME/; never throws.
void grade_one(const Submission &submission, const LabSpec &spec, const fs::path &lab_dir, const fs::path &out,
               const CheckSetup &setup) {
    auto started = std::chrono::steady_clock::now();
    fs::path folder = out / "submissions" / submission.name;
    fs::path scratch = out / "work" / submission.name;
    json record = {{"submission", submission.name}, {"source", fs::absolute(submission.source).string()},
                   {"lab", spec.id},                {"lab_title", spec.title},
                   {"status", "graded"},            {"problem", ""},
                   {"score", 0.0},                  {"max_score", spec.total_points()},
                   {"parts", json::array()},        {"notes", json::array()},
                   {"forbidden", json::array()},    {"warnings", 0}};
    auto zero_parts = [&](const std::string &why) {
        for (const LabPart &part : spec.parts)
            record["parts"].push_back(part_json({part.name, part.kind, part.visibility, 0, part.points, false, "not run", why}));
    };
    try {
        fs::remove_all(scratch);
        fs::create_directories(folder);
        IntakeResult intake = take_in(submission, spec.submit, scratch / "submitted");
        for (const std::string &note : intake.notes) record["notes"].push_back(note);
        if (!intake.ok) {
            record["status"] = "intake failed";
            record["problem"] = intake.problem;
            zero_parts(intake.problem);
        } else {
            CheckReport report = check_submission(spec, lab_dir, scratch / "submitted", scratch / "build", setup);
            for (std::size_t i = 0; i < report.parts.size(); ++i)
                record["parts"].push_back(
                    part_json(report.parts[i], i < report.part_seconds.size() ? report.part_seconds[i] : 0.0));
            record["build_seconds"] = report.build_seconds;
            record["score"] = report.score();
            record["forbidden"] = report.forbidden;
            record["warnings"] = report.warnings;
            record["isolation"] = report.isolation;
            if (!report.built) {
                record["status"] = "build failed";
                record["problem"] = "the submission does not build:\n" + report.build_output;
            } else if (!report.forbidden.empty()) {
                record["status"] = "refused";
                record["problem"] = "uses what the lab does not allow";
            }
        }
    } catch (const std::exception &error) {
        record["status"] = "grader error";
        record["problem"] = error.what();
        record["parts"] = json::array();
        record["score"] = 0.0;
        zero_parts(std::string("grader error: ") + error.what());
    }
    double seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - started).count();
    record["seconds"] = seconds;
    try {
        fs::create_directories(folder);
        write_atomically(folder / "feedback.md", feedback_page(record));
        write_atomically(folder / "results.json", gradescope_results(record, seconds).dump(2) + "\n");
        write_atomically(folder / "record.json", record.dump(2) + "\n");  // last: marks it graded
    } catch (const std::exception &error) {
        std::cerr << "heaplab: cannot write the record of " << submission.name << ": " << error.what() << "\n";
    }
    std::error_code ignored;
    fs::remove_all(scratch, ignored);
}

std::string csv_field(const std::string &text) {
    if (text.find_first_of(",\"\n") == std::string::npos) return text;
    std::string quoted = "\"";
    for (char c : text) quoted += c == '"' ? std::string("\"\"") : std::string(1, c);
    return quoted + "\"";
}

/// gradebook.csv and summary.md from every record under OUT: the truth is the records.
std::string rebuild_gradebook(const LabSpec &spec, const fs::path &out, const std::map<std::string, Student> &roster) {
    std::vector<json> records;
    std::error_code error;
    for (const auto &entry : fs::directory_iterator(out / "submissions", error)) {
        fs::path record = entry.path() / "record.json";
        if (!fs::exists(record)) continue;
        std::ifstream in(record);
        json parsed = json::parse(in, nullptr, false);
        if (!parsed.is_discarded()) records.push_back(parsed);
    }
    std::sort(records.begin(), records.end(),
              [](const json &a, const json &b) { return a["submission"] < b["submission"]; });
    // Columns a learning platform imports: who, the score out of what, per part, and how it went.
    std::string csv = "submission,student_id,name,score,max_score,status";
    for (const LabPart &part : spec.parts) csv += "," + csv_field(part.name);
    csv += "\n";
    std::vector<double> scores;
    for (const json &record : records) {
        std::string name = record["submission"];
        auto student = roster.find(name);
        std::string id = student != roster.end() ? student->second.id : name;
        std::string full_name = student != roster.end() ? student->second.name : "";
        csv += csv_field(name) + "," + csv_field(id) + "," + csv_field(full_name) + "," + number(record["score"]) + "," +
               number(record["max_score"]) + "," + csv_field(record["status"]);
        for (const LabPart &part : spec.parts) {
            double points = 0;
            for (const json &graded : record["parts"])
                if (graded["name"] == part.name) points = graded["points"];
            csv += "," + number(points);
        }
        csv += "\n";
        scores.push_back(record["score"].get<double>() / std::max(1.0, record["max_score"].get<double>()));
    }
    write_atomically(out / "gradebook.csv", csv);

    std::string summary = fmt::format("# {} — {} submissions graded\n\n", spec.title, records.size());
    if (!scores.empty()) {
        std::vector<double> sorted = scores;
        std::sort(sorted.begin(), sorted.end());
        double mean = 0;
        for (double s : scores) mean += s;
        mean /= static_cast<double>(scores.size());
        summary += fmt::format("mean {:.1f}%, median {:.1f}%\n\n```\n", 100 * mean, 100 * sorted[sorted.size() / 2]);
        for (int bucket = 0; bucket <= 10; ++bucket) {
            std::size_t count = 0;
            for (double s : scores)
                if (std::min(10, static_cast<int>(std::floor(s * 10 + 1e-9))) == bucket) ++count;
            summary += fmt::format("{:>4}% {:<40} {}\n", bucket * 10, std::string(std::min<std::size_t>(count, 40), '#'), count);
        }
        summary += "```\n";
    }
    write_atomically(out / "summary.md", summary);
    // The table for the terminal: one line per submission.
    std::size_t width = 10;
    for (const json &record : records) width = std::max(width, record["submission"].get<std::string>().size());
    std::string table = fmt::format("{:<{}}  {:>13}  {}\n", "submission", width, "score", "status");
    for (const json &record : records)
        table += fmt::format("{:<{}}  {:>6} / {:<4}  {}\n", record["submission"].get<std::string>(), width,
                             number(record["score"].get<double>()), number(record["max_score"].get<double>()),
                             record["status"].get<std::string>());
    return summary + "\n" + table;
}

/// HEAPLAB_STUDENT_USER, when the grader runs as root: the user student processes run as (the
/// Gradescope image's `heaplab-student`; `nobody` will do). "" when it applies; else why not.
std::string take_student_user(CheckSetup &setup) {
    const char *user = std::getenv("HEAPLAB_STUDENT_USER");
    if (user == nullptr || *user == '\0' || geteuid() != 0) return "";
    passwd *entry = getpwnam(user);
    if (entry == nullptr) return std::string("no user named ") + user + " (HEAPLAB_STUDENT_USER)";
    setup.student_uid = entry->pw_uid;
    setup.student_gid = entry->pw_gid;
    return "";
}

void run_grade(const GradeSettings &settings) {
    if (settings.submissions.empty()) throw UsageError("grade: no submissions given");
    if (settings.jobs < 1) throw UsageError("--jobs must be at least 1");
    read_roster(settings.roster);  // a bad roster is reported before any grading
    CheckSetup setup;
    setup.root = heaplab_root();
    setup.heaplab = fs::read_symlink("/proc/self/exe");
    setup.include_hidden = !settings.public_only;
    if (std::string problem = take_student_user(setup); !problem.empty()) throw UsageError(problem);
    fs::path lab_dir = find_lab(settings.lab, setup.root);
    LabSpec spec = read_lab_spec((lab_dir / "lab.toml").string());
    std::vector<Submission> submissions;
    try {
        submissions = find_submissions(settings.submissions, spec.submit);
    } catch (const std::exception &error) {
        throw UsageError(error.what());
    }
    fs::path out = fs::absolute(settings.out);
    fs::create_directories(out / "submissions");
    setup.objects_cache = lab_objects_cache(setup, lab_dir, spec, out / "work" / "lab-objects");
    try {
        build_lab_objects(lab_dir, spec.id, setup.objects_cache, setup, lab_flags(spec, lab_dir));  // once, before the workers
    } catch (const std::exception &error) {
        throw UsageError(std::string("grader error: ") + error.what());
    }

    std::vector<Submission> todo;
    for (const Submission &submission : submissions)
        if (!fs::exists(out / "submissions" / submission.name / "record.json")) todo.push_back(submission);
    std::size_t already = submissions.size() - todo.size();
    bool terminal = isatty(STDERR_FILENO);
    fmt::print(stderr, "grading {} submissions of {} ({} already graded) with {} job{}\n", todo.size(), spec.id, already,
               settings.jobs, settings.jobs == 1 ? "" : "s");

    std::atomic<std::size_t> next{0}, done{0};
    std::mutex print;
    auto worker = [&] {
        for (std::size_t i; (i = next.fetch_add(1)) < todo.size();) {
            grade_one(todo[i], spec, lab_dir, out, setup);
            std::size_t finished = ++done;
            std::lock_guard lock(print);
            if (terminal) {
                std::size_t width = 30, filled = width * finished / todo.size();
                fmt::print(stderr, "\r[{}{}] {}/{} {:<30.30}", std::string(filled, '#'), std::string(width - filled, '.'),
                           finished, todo.size(), todo[i].name);
            } else {
                fmt::print(stderr, "graded {} ({}/{})\n", todo[i].name, finished, todo.size());
            }
        }
    };
    std::vector<std::thread> workers;
    for (int j = 0; j < std::min<int>(settings.jobs, static_cast<int>(std::max<std::size_t>(todo.size(), 1))); ++j)
        workers.emplace_back(worker);
    for (std::thread &thread : workers) thread.join();
    if (terminal && !todo.empty()) fmt::print(stderr, "\n");
    std::string summary = rebuild_gradebook(spec, out, read_roster(settings.roster));
    fmt::print("{}\nwritten: {}/gradebook.csv, {}/summary.md, and per submission {}/submissions/NAME/"
               "{{record.json,feedback.md,results.json}}\n",
               summary, out.string(), out.string(), out.string());
}

/// Gradescope's side: /autograder/submission in, /autograder/results/results.json out, always.
void run_gradescope(const std::string &lab) {
    const char *relocated = std::getenv("HEAPLAB_AUTOGRADER_ROOT");
    fs::path root = relocated != nullptr && *relocated != '\0' ? fs::path(relocated) : fs::path("/autograder");
    fs::path results = root / "results";
    fs::create_directories(results);
    auto started = std::chrono::steady_clock::now();
    auto give_up = [&](const std::string &why) {
        json record = {{"score", 0.0}, {"status", "grader error"}, {"problem", why}, {"parts", json::array()}};
        write_atomically(results / "results.json", gradescope_results(record, 0).dump(2) + "\n");
        std::cerr << "heaplab gradescope: " << why << "\n";
    };
    CheckSetup setup;
    setup.root = heaplab_root();
    setup.heaplab = fs::read_symlink("/proc/self/exe");
    setup.include_hidden = true;
    // Student code runs as this user when the grader is root (run_autograder sets it).
    if (std::string problem = take_student_user(setup); !problem.empty()) return give_up(problem);
    fs::path lab_dir;
    LabSpec spec;
    try {
        lab_dir = find_lab(lab, setup.root);
        spec = read_lab_spec((lab_dir / "lab.toml").string());
    } catch (const std::exception &error) {
        return give_up(error.what());
    }
    // The submission folder itself, or the one archive or folder inside it.
    Submission submission{"submission", root / "submission"};
    if (!fs::is_directory(submission.source)) {
        fs::create_directories(submission.source);
    } else {
        try {
            std::vector<Submission> inside = find_submissions({submission.source.string()}, spec.submit);
            if (inside.size() == 1) submission.source = inside.front().source;
        } catch (const std::exception &) {
        }
    }
    // Scratch outside results/: student processes may write there, never next to results.json.
    char scratch_template[] = "/tmp/heaplab-gradescope-XXXXXX";
    char *scratch = mkdtemp(scratch_template);
    if (scratch == nullptr) return give_up("cannot make a scratch folder in /tmp");
    fs::path out(scratch);
    if (setup.student_uid != 0) (void)!chmod(scratch, 0755);
    setup.objects_cache = out / "lab-objects";
    try {
        build_lab_objects(lab_dir, spec.id, setup.objects_cache, setup, lab_flags(spec, lab_dir));
    } catch (const std::exception &error) {
        fs::remove_all(out);
        return give_up(error.what());
    }
    grade_one(submission, spec, lab_dir, out, setup);
    fs::path produced = out / "submissions" / submission.name / "results.json";
    if (fs::exists(produced)) {
        json results_json = json::parse(std::ifstream(produced), nullptr, false);
        results_json["execution_time"] =
            static_cast<int>(std::chrono::duration<double>(std::chrono::steady_clock::now() - started).count());
        write_atomically(results / "results.json", results_json.dump(2) + "\n");
    } else {
        give_up("the grader wrote no result");
    }
    std::error_code ignored;
    fs::remove_all(out, ignored);
}

}  // namespace

void add_gradescope_command(CLI::App &app) {
    auto lab = std::make_shared<std::string>();
    CLI::App *gradescope = app.add_subcommand(
        "gradescope", "Grade /autograder/submission into /autograder/results/results.json (Gradescope's run_autograder)");
    gradescope->add_option("--lab", *lab, "the lab: 01, 01-bump, or a lab folder")->required();
    gradescope->callback([lab] { run_gradescope(*lab); });
}

void add_grade_command(CLI::App &app) {
    auto settings = std::make_shared<GradeSettings>();
    CLI::App *grade = app.add_subcommand("grade", "Grade a class: folders, .zip or .tar.gz submissions, or folders of them");
    grade->add_option("--lab", settings->lab, "the lab: 01, 01-bump, or a lab folder")->required();
    grade->add_option("--jobs,-j", settings->jobs, "submissions graded at once")->capture_default_str();
    grade->add_option("--out,-o", settings->out, "where records, feedback and the gradebook go")->capture_default_str();
    grade->add_flag("--public-only", settings->public_only, "skip the hidden parts");
    grade->add_option("--roster", settings->roster, "CSV of submission,student_id[,name] for the gradebook");
    grade->add_option("submissions", settings->submissions, "submissions")->required();
    grade->callback([settings] { run_grade(*settings); });
}

}  // namespace heaplab

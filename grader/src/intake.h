/**
 * @file intake.h
 * @brief Taking in submissions: a directory, a .zip, a .tar.gz, or a folder holding many.
 *
 * Only the files a lab's `submit` list names are taken, and only as plain files: an archive
 * entry with an absolute path or `..`, a link, a device, an oversized file, or an archive with
 * too many entries is refused and named in the report. The submission itself is never modified;
 * its files are copied into the submission's scratch folder.
 */
#ifndef HEAPLAB_INTAKE_H
#define HEAPLAB_INTAKE_H

#include <filesystem>
#include <string>
#include <vector>

namespace heaplab {

/** @brief One submission found on the command line. */
struct Submission {
    std::string name;               ///< e.g. the archive's or folder's name without extension
    std::filesystem::path source;   ///< a directory or an archive
};

/** @brief What taking in found. */
struct IntakeResult {
    bool ok = false;                  ///< every file to submit was found
    std::string problem;              ///< why not, in a sentence
    std::vector<std::string> notes;   ///< entries refused or ignored, ambiguities
};

/** @brief The largest submitted file taken (1 MiB): an allocator is not that big. */
inline constexpr std::size_t kMaxSubmittedFile = 1 << 20;
/** @brief The most entries an archive may have before it is refused. */
inline constexpr std::size_t kMaxArchiveEntries = 5000;

/**
 * @brief Expands the command line: a directory holding a file to submit is one submission; any
 *        other directory holds many (each subfolder or archive in it is one).
 * @throws std::runtime_error for a path that does not exist or is not a directory or archive.
 */
std::vector<Submission> find_submissions(const std::vector<std::string> &paths,
                                         const std::vector<std::string> &submit_files);

/** @brief Copies the files to submit from @p submission into @p destination. Never throws for a
 *         malformed submission: the result says what was wrong. */
IntakeResult take_in(const Submission &submission, const std::vector<std::string> &submit_files,
                     const std::filesystem::path &destination);

/** @brief A name made safe to print and to use as a file name (non-ASCII and odd bytes → '_'). */
std::string safe_name(const std::string &name);

}  // namespace heaplab

#endif  // HEAPLAB_INTAKE_H

// abi_probe: checks one glibc-ABI rule of whatever malloc serves this process.
//
// The reference's ABI tests run it under LD_PRELOAD=libheaplab.so (see abi_test.cpp): the
// test binaries themselves run on glibc's malloc, and a malloc cannot be swapped inside a
// running process, so each rule is checked in a child process whose whole heap is ours.
// Usage: abi_probe CASE... Exit 0 when every rule holds; a message on stderr and exit 1
// otherwise. The lab stages' `preload-abi` tests run the rules that apply to an mm.h
// allocator, in one process, with HEAPLAB_EXPECT_ALLOCATOR naming the stage.
// (Built with -fno-builtin: GCC would otherwise fold malloc/free pairs it can see through.)
#include <dlfcn.h>
#include <malloc.h>
#include <pthread.h>
#include <sys/wait.h>
#include <unistd.h>

#include <atomic>
#include <cerrno>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <functional>
#include <map>
#include <string>
#include <vector>

namespace {

int failures = 0;

#define CHECK(cond)                                                                  \
    do {                                                                             \
        if (!(cond)) {                                                               \
            std::fprintf(stderr, "FAIL %s:%d: %s\n", __FILE__, __LINE__, #cond);     \
            ++failures;                                                              \
        }                                                                            \
    } while (0)

/// An environment variable as a count (@p fallback when unset): the lab stages run the threaded
/// cases shorter, as their one lock (and Lab 01's heap that only grows) make them slower.
int env_count(const char *name, int fallback) {
    const char *v = std::getenv(name);
    return v != nullptr && std::atoi(v) > 0 ? std::atoi(v) : fallback;
}

bool aligned(const void *p, std::size_t a) { return reinterpret_cast<std::uintptr_t>(p) % a == 0; }

void fill(void *p, std::size_t n, unsigned seed) {
    auto *b = static_cast<unsigned char *>(p);
    for (std::size_t i = 0; i < n; ++i) b[i] = static_cast<unsigned char>(seed + i * 13);
}
bool intact(const void *p, std::size_t n, unsigned seed) {
    auto *b = static_cast<const unsigned char *>(p);
    for (std::size_t i = 0; i < n; ++i)
        if (b[i] != static_cast<unsigned char>(seed + i * 13)) return false;
    return true;
}

// Sizes beyond any heap, kept in volatiles so the compiler cannot reason about them.
volatile std::size_t kHuge = SIZE_MAX;
volatile std::size_t kHalf = SIZE_MAX / 2;

std::uint64_t rng_state = 88172645463325252ULL;
std::uint64_t rnd() {
    rng_state ^= rng_state << 13;
    rng_state ^= rng_state >> 7;
    rng_state ^= rng_state << 17;
    return rng_state;
}

/// A heaplab preload serves the process: the one named by HEAPLAB_EXPECT_ALLOCATOR if set,
/// else the reference.
void case_active() {
    auto name = reinterpret_cast<const char *(*)()>(dlsym(RTLD_DEFAULT, "heaplab_preload_name"));
    CHECK(name != nullptr);
    const char *expected = std::getenv("HEAPLAB_EXPECT_ALLOCATOR");
    if (expected == nullptr) expected = "reference";
    if (name != nullptr && std::strcmp(name(), expected) != 0) {
        std::fprintf(stderr, "FAIL: the preload serving this process is %s, expected %s\n", name(), expected);
        ++failures;
    }
}

void case_malloc0_unique() {
    void *a = malloc(0), *b = malloc(0);
    CHECK(a != nullptr && b != nullptr && a != b);
    CHECK(aligned(a, 16) && aligned(b, 16));
    free(a);
    free(b);
}

void case_malloc_enomem() {
    errno = 0;
    CHECK(malloc(kHuge) == nullptr && errno == ENOMEM);
    errno = 0;
    CHECK(malloc(PTRDIFF_MAX) == nullptr && errno == ENOMEM);
    errno = 0;
    CHECK(malloc(kHuge - 8) == nullptr && errno == ENOMEM);  // header arithmetic must not wrap
}

void case_calloc_overflow() {
    errno = 0;
    CHECK(calloc(kHalf, 3) == nullptr && errno == ENOMEM);
    errno = 0;
    CHECK(calloc(3, kHalf) == nullptr && errno == ENOMEM);
}

void case_calloc_zeroes() {
    for (std::size_t n : {1, 24, 100, 1000, 5000, 100000, 3000000}) {
        void *dirty = malloc(n);
        std::memset(dirty, 0xAB, n);
        free(dirty);
        auto *z = static_cast<unsigned char *>(calloc(n, 1));
        CHECK(z != nullptr);
        bool zero = true;
        for (std::size_t i = 0; i < n; ++i) zero = zero && z[i] == 0;
        CHECK(zero);
        free(z);
    }
}

void case_reallocarray_overflow() {
    errno = 0;
    CHECK(reallocarray(nullptr, kHalf, 3) == nullptr && errno == ENOMEM);
    void *p = malloc(32);
    fill(p, 32, 7);
    errno = 0;
    CHECK(reallocarray(p, kHalf, 3) == nullptr && errno == ENOMEM);
    CHECK(intact(p, 32, 7));
    void *q = reallocarray(p, 10, 10);
    CHECK(q != nullptr && intact(q, 32, 7));
    free(q);
}

void case_realloc_null_is_malloc() {
    void *p = realloc(nullptr, 100);
    CHECK(p != nullptr && aligned(p, 16) && malloc_usable_size(p) >= 100);
    free(p);
}

void case_realloc_zero_frees() {
    void *p = malloc(100);
    CHECK(realloc(p, 0) == nullptr);  // documented: frees p, returns NULL (as glibc)
}

void case_realloc_keeps_contents() {
    std::size_t n = 1;
    void *p = malloc(n);
    fill(p, n, 3);
    for (int i = 0; i < 40; ++i) {
        std::size_t m = i < 25 ? n * 2 + 1 : n / 2 + 1;
        void *q = realloc(p, m);
        CHECK(q != nullptr && aligned(q, 16));
        CHECK(intact(q, m < n ? m : n, 3));
        fill(q, m, 3);
        p = q;
        n = m;
    }
    free(p);
}

void case_realloc_enomem_keeps_block() {
    void *p = malloc(64);
    fill(p, 64, 9);
    errno = 0;
    CHECK(realloc(p, kHalf) == nullptr && errno == ENOMEM);
    CHECK(intact(p, 64, 9));
    free(p);
}

void case_posix_memalign_einval() {
    void *sentinel = reinterpret_cast<void *>(0x1234);
    void *p = sentinel;
    errno = 4321;
    CHECK(posix_memalign(&p, 3, 10) == EINVAL && p == sentinel);
    CHECK(posix_memalign(&p, 4, 10) == EINVAL && p == sentinel);  // not a multiple of void *
    CHECK(posix_memalign(&p, 0, 10) == EINVAL && p == sentinel);
    CHECK(posix_memalign(&p, 48, 10) == EINVAL && p == sentinel);
    CHECK(errno == 4321);
}

void case_posix_memalign_enomem() {
    void *sentinel = reinterpret_cast<void *>(0x1234);
    void *p = sentinel;
    errno = 4321;
    CHECK(posix_memalign(&p, 64, kHalf) == ENOMEM && p == sentinel);
    CHECK(errno == 4321);
}

void case_posix_memalign_aligns() {
    for (std::size_t a = 8; a <= (std::size_t{1} << 22); a *= 2) {
        for (std::size_t n : {0, 1, 100, 5000, 300000}) {
            void *p = nullptr;
            CHECK(posix_memalign(&p, a, n) == 0 && p != nullptr && aligned(p, a));
            std::memset(p, 1, n);
            CHECK(malloc_usable_size(p) >= n);
            free(p);
        }
    }
}

void case_aligned_alloc_rules() {
    void *p = aligned_alloc(64, 100);
    CHECK(p != nullptr && aligned(p, 64));
    free(p);
    errno = 0;
    CHECK(aligned_alloc(24, 100) == nullptr && errno == EINVAL);
    errno = 0;
    CHECK(aligned_alloc(64, kHalf) == nullptr && errno == ENOMEM);
}

void case_memalign_rounds_up() {
    void *p = memalign(24, 10);  // glibc rounds a non-power-of-two alignment up (32)
    CHECK(p != nullptr && aligned(p, 32));
    free(p);
    p = memalign(4096, 1);
    CHECK(p != nullptr && aligned(p, 4096));
    free(p);
}

void case_valloc_pvalloc() {
    long page = sysconf(_SC_PAGESIZE);
    void *v = valloc(10);
    CHECK(v != nullptr && aligned(v, static_cast<std::size_t>(page)));
    void *pv = pvalloc(10);
    CHECK(pv != nullptr && aligned(pv, static_cast<std::size_t>(page)) &&
          malloc_usable_size(pv) >= static_cast<std::size_t>(page));
    void *pv0 = pvalloc(0);
    CHECK(pv0 != nullptr && malloc_usable_size(pv0) >= static_cast<std::size_t>(page));
    errno = 0;
    CHECK(pvalloc(kHuge) == nullptr && errno == ENOMEM);
    free(v);
    free(pv);
    free(pv0);
}

void case_usable_size() {
    CHECK(malloc_usable_size(nullptr) == 0);
    for (std::size_t n = 0; n < 5000; n += 7) {
        void *p = malloc(n);
        std::size_t u = malloc_usable_size(p);
        CHECK(u >= n && u < n + 64);
        std::memset(p, 0x5A, u);  // every usable byte really is usable
        free(p);
    }
}

void case_free_keeps_errno() {
    void *small = malloc(10), *big = malloc(1 << 20), *huge = malloc(std::size_t{64} << 20);
    errno = 4321;
    free(small);
    free(big);
    free(huge);
    free(nullptr);
    CHECK(errno == 4321);
}

void case_alignment_16() {
    std::vector<void *> keep;
    for (std::size_t n = 0; n <= 4096; ++n) {
        void *p = malloc(n);
        CHECK(p != nullptr && aligned(p, 16));
        keep.push_back(p);
    }
    for (void *p : keep) free(p);
}

void case_double_free_small() {
    void *p = malloc(40);
    free(p);
    free(p);  // must abort with a report
}

void case_double_free_large() {
    void *p = malloc(200000);
    void *guard = malloc(10);  // keeps p off the top of the heap (not trimmed away)
    free(p);
    free(p);
    free(guard);
}

void case_invalid_free_interior() {
    auto *p = static_cast<char *>(malloc(256));
    free(p + 64);
}

void case_invalid_free_stack() {
    alignas(16) char local[64];
    free(local + 16);
}

/// Threads allocate blocks of random sizes, fill them, keep some, free some, and hand the rest
/// to the next thread through a mailbox; every block's contents are checked when it is freed.
void case_stress() {
    constexpr int kThreads = 4;
    static const int kRounds = env_count("HEAPLAB_STRESS_ROUNDS", 200000);
    struct Mailbox {
        pthread_mutex_t m = PTHREAD_MUTEX_INITIALIZER;
        std::vector<std::pair<void *, std::size_t>> items;
    };
    static Mailbox box[kThreads];
    static std::atomic<int> bad{0};
    auto worker = [](void *arg) -> void * {
        int me = static_cast<int>(reinterpret_cast<std::intptr_t>(arg));
        std::uint64_t s = 0x9E3779B97F4A7C15ULL * static_cast<std::uint64_t>(me + 1);
        auto r = [&s] {
            s ^= s << 13;
            s ^= s >> 7;
            s ^= s << 17;
            return s;
        };
        std::vector<std::pair<void *, std::size_t>> mine;
        for (int i = 0; i < kRounds; ++i) {
            std::uint64_t x = r();
            if (x % 4 != 0 || mine.empty()) {
                std::size_t n = (x >> 8) % 8 == 0 ? (x >> 16) % 70000 : (x >> 16) % 600;
                void *p = (x >> 40) % 5 == 0 ? calloc(1, n) : malloc(n);
                if (p == nullptr) {
                    bad++;
                    continue;
                }
                fill(p, n, static_cast<unsigned>(n));
                mine.emplace_back(p, n);
            } else {
                auto [p, n] = mine.back();
                mine.pop_back();
                if (!intact(p, n, static_cast<unsigned>(n))) bad++;
                if (x % 3 == 0) {  // hand it to the next thread
                    Mailbox &b = box[(me + 1) % kThreads];
                    pthread_mutex_lock(&b.m);
                    b.items.emplace_back(p, n);
                    pthread_mutex_unlock(&b.m);
                } else if (x % 5 == 0) {
                    std::size_t m = (x >> 20) % 2000 + 1;  // realloc(p, 0) would free
                    void *q = realloc(p, m);
                    if (q == nullptr || !intact(q, m < n ? m : n, static_cast<unsigned>(n))) bad++;
                    fill(q, m, static_cast<unsigned>(m));
                    mine.emplace_back(q, m);
                } else {
                    free(p);
                }
            }
            if (i % 64 == 0) {  // free what other threads sent us
                Mailbox &b = box[me];
                pthread_mutex_lock(&b.m);
                auto items = std::move(b.items);
                b.items.clear();
                pthread_mutex_unlock(&b.m);
                for (auto [p, n] : items) {
                    if (!intact(p, n, static_cast<unsigned>(n))) bad++;
                    free(p);
                }
            }
            if (mine.size() > 3000) {
                for (auto [p, n] : mine) free(p);
                mine.clear();
            }
        }
        for (auto [p, n] : mine) {
            if (!intact(p, n, static_cast<unsigned>(n))) bad++;
            free(p);
        }
        return nullptr;
    };
    pthread_t t[kThreads];
    for (int i = 0; i < kThreads; ++i)
        pthread_create(&t[i], nullptr, worker, reinterpret_cast<void *>(static_cast<std::intptr_t>(i)));
    for (auto &th : t) pthread_join(th, nullptr);
    for (auto &b : box)
        for (auto [p, n] : b.items) {
            if (!intact(p, n, static_cast<unsigned>(n))) bad++;
            free(p);
        }
    CHECK(bad.load() == 0);
}

/// fork() while other threads allocate: the child must be able to allocate (no lock is left
/// held by a thread that does not exist in the child), and so must the parent afterwards.
void case_fork() {
    static std::atomic<bool> stop{false};
    auto churn = [](void *) -> void * {
        std::vector<void *> v;
        while (!stop.load()) {
            for (int i = 0; i < 100; ++i) v.push_back(malloc(static_cast<std::size_t>(rnd() % 3000)));
            for (void *p : v) free(p);
            v.clear();
            void *big = malloc(300000);
            free(big);
        }
        return nullptr;
    };
    pthread_t t[2];
    for (auto &th : t) pthread_create(&th, nullptr, churn, nullptr);
    for (int i = 0, forks = env_count("HEAPLAB_FORKS", 60); i < forks; ++i) {
        pid_t pid = fork();
        if (pid == 0) {
            std::vector<void *> v;
            for (int j = 0; j < 2000; ++j) {
                void *p = malloc(static_cast<std::size_t>(j % 700));
                std::memset(p, j, static_cast<std::size_t>(j % 700));
                v.push_back(p);
            }
            void *big = malloc(std::size_t{8} << 20);
            std::memset(big, 1, std::size_t{8} << 20);
            free(big);
            for (void *p : v) free(p);
            _exit(0);
        }
        int status = 0;
        CHECK(pid > 0 && waitpid(pid, &status, 0) == pid);
        CHECK(WIFEXITED(status) && WEXITSTATUS(status) == 0);
    }
    stop = true;
    for (auto &th : t) pthread_join(th, nullptr);
    void *p = malloc(100);
    CHECK(p != nullptr);
    free(p);
}

/// Something else moves the break (a foreign sbrk user): the heap can no longer grow there,
/// and every request must still be served — from mapped regions and chunks.
void case_mmap_fallback() {
    void *first = malloc(100);
    CHECK(first != nullptr);
    CHECK(sbrk(4096) != reinterpret_cast<void *>(-1));  // the foreign user
    std::vector<std::pair<void *, std::size_t>> v;
    for (int i = 0; i < 20000; ++i) {
        std::size_t n = i % 100 == 0 ? 3000000 : (rnd() % 5000);
        void *p = malloc(n);
        CHECK(p != nullptr && aligned(p, 16));
        if (p == nullptr) return;
        fill(p, n, static_cast<unsigned>(i));
        v.emplace_back(p, n);
    }
    for (std::size_t i = 0; i < v.size(); i += 3) {
        auto [p, n] = v[i];
        void *q = realloc(p, n * 2 + 1);
        CHECK(q != nullptr && intact(q, n, static_cast<unsigned>(i)));
        fill(q, n * 2 + 1, static_cast<unsigned>(i));
        v[i] = {q, n * 2 + 1};
    }
    for (std::size_t i = 0; i < v.size(); ++i) {
        CHECK(intact(v[i].first, v[i].second, static_cast<unsigned>(i)));
        free(v[i].first);
    }
    void *p = nullptr;
    CHECK(posix_memalign(&p, 1 << 16, 5000000) == 0 && aligned(p, 1 << 16));
    free(p);
    free(first);
}

/// A large free block at the top of the heap is given back to the kernel (negative sbrk).
void case_trim() {
    void *small = malloc(100);
    void *before = sbrk(0);
    void *big = malloc(std::size_t{32} << 20);
    std::memset(big, 1, std::size_t{32} << 20);
    void *grown = sbrk(0);
    CHECK(static_cast<char *>(grown) - static_cast<char *>(before) >= (31 << 20));
    free(big);
    void *after = sbrk(0);
    CHECK(static_cast<char *>(after) - static_cast<char *>(before) < (1 << 20));
    free(small);
}

const std::map<std::string, std::function<void()>> cases = {
    {"active", case_active},
    {"malloc0_unique", case_malloc0_unique},
    {"malloc_enomem", case_malloc_enomem},
    {"calloc_overflow", case_calloc_overflow},
    {"calloc_zeroes", case_calloc_zeroes},
    {"reallocarray_overflow", case_reallocarray_overflow},
    {"realloc_null_is_malloc", case_realloc_null_is_malloc},
    {"realloc_zero_frees", case_realloc_zero_frees},
    {"realloc_keeps_contents", case_realloc_keeps_contents},
    {"realloc_enomem_keeps_block", case_realloc_enomem_keeps_block},
    {"posix_memalign_einval", case_posix_memalign_einval},
    {"posix_memalign_enomem", case_posix_memalign_enomem},
    {"posix_memalign_aligns", case_posix_memalign_aligns},
    {"aligned_alloc_rules", case_aligned_alloc_rules},
    {"memalign_rounds_up", case_memalign_rounds_up},
    {"valloc_pvalloc", case_valloc_pvalloc},
    {"usable_size", case_usable_size},
    {"free_keeps_errno", case_free_keeps_errno},
    {"alignment_16", case_alignment_16},
    {"double_free_small", case_double_free_small},
    {"double_free_large", case_double_free_large},
    {"invalid_free_interior", case_invalid_free_interior},
    {"invalid_free_stack", case_invalid_free_stack},
    {"stress", case_stress},
    {"fork", case_fork},
    {"mmap_fallback", case_mmap_fallback},
    {"trim", case_trim},
};

}  // namespace

int main(int argc, char **argv) {
    if (argc < 2) {
        std::fprintf(stderr, "usage: abi_probe CASE...\n");
        return 2;
    }
    for (int i = 1; i < argc; ++i) {
        if (cases.count(argv[i]) == 0) {
            std::fprintf(stderr, "abi_probe: unknown case '%s'\n", argv[i]);
            return 2;
        }
    }
    for (int i = 1; i < argc; ++i) {
        int before = failures;
        cases.at(argv[i])();
        if (failures != before) std::fprintf(stderr, "case %s: %d check(s) failed\n", argv[i], failures - before);
    }
    return failures == 0 ? 0 : 1;
}

/** @file thread_cache.cpp @brief Slow paths of the thread caches (see thread_cache.h). */
#include "thread_cache.h"

#include "heap.h"

#include "heaplab/memlib.h"

#include <atomic>
#include <cstring>
#include <pthread.h>
#include <sys/single_threaded.h>
#include <sys/mman.h>

namespace heaplab::ref {

__thread ThreadCache *t_cache HEAPLAB_TLS = nullptr;

namespace {

/// Set once this thread's cache has been given back: later calls bypass the cache, so a
/// destructor running after ours cannot resurrect a cache nobody would ever flush.
__thread bool t_exiting HEAPLAB_TLS = false;

// Guarded by the heap lock.
ThreadCache *g_all = nullptr;
ThreadCache *g_spare = nullptr;
char *g_slab_next = nullptr;
char *g_slab_end = nullptr;

pthread_key_t g_exit_key;
/// 0: nothing set up; 1: being set up (by some thread, maybe this one, re-entered through a
/// malloc inside pthread_atfork); 2: ready.
std::atomic<int> g_process_state{0};

constexpr std::size_t kSlabBytes = 64 * 1024;

/// Transfer stacks (preload build only; tcmalloc's "transfer cache"): per class, up to
/// kTransferChains chains of blocks that a full thread cache gave up, linked and marked
/// exactly as in a cache. A thread whose class runs dry takes a whole chain in O(1), instead
/// of one free() into the heap and one malloc() out of it per block. This is what makes a
/// producer/consumer pair cheap: the consumer's frees reach the producer as whole chains,
/// and the heap lock is held for a few instructions. Guarded by the heap lock.
constexpr unsigned kTransferChains = kPreload ? 4 : 0;
struct TransferStack {
    char *chain[kTransferChains > 0 ? kTransferChains : 1];
    std::uint16_t length[kTransferChains > 0 ? kTransferChains : 1];
    unsigned n;
};
TransferStack g_transfer[kCacheClasses];

void fork_prepare() {
    g_heap.lock();
    mem_fork_prepare();
}

void fork_parent() {
    mem_fork_release();
    g_heap.unlock();
}

/// Set in a child forked by a process with other threads: their caches are frozen as the
/// fork found them — perhaps in the middle of a push or pop, which take no lock — and their
/// blocks stay allocated in the child for good (a leak, never a corruption).
bool g_caches_torn_by_fork = false;

void fork_child() {
    // The forking thread is the only thread here: it holds both locks and may release them
    // (default pthread mutexes do not check the owner).
    for (ThreadCache *tc = g_all; tc != nullptr; tc = tc->next_all)
        if (tc != t_cache) g_caches_torn_by_fork = true;
    mem_fork_release();
    g_heap.unlock();
}

void on_thread_exit(void *arg) {
    auto *tc = static_cast<ThreadCache *>(arg);
    t_cache = nullptr;
    t_exiting = true;
    g_heap.lock();
    for (unsigned c = 0; c < kCacheClasses; ++c)
        while (char *b = tc->pop(c)) g_heap.free_locked(b);
    tc->next_spare = g_spare;
    g_spare = tc;
    g_heap.unlock();
}

/// Process-wide set-up, done by the first thread that creates a cache. Both calls may
/// allocate (glibc's atfork list grows with malloc): they are made without the heap lock,
/// and a malloc they make finds state 1 and is served without a cache.
bool process_ready() {
    int state = g_process_state.load(std::memory_order_acquire);
    if (HEAPLAB_LIKELY(state == 2)) return true;
    if (state == 1 || !g_process_state.compare_exchange_strong(state, 1)) return false;
    pthread_key_create(&g_exit_key, on_thread_exit);
    pthread_atfork(fork_prepare, fork_parent, fork_child);
    g_process_state.store(2, std::memory_order_release);
    return true;
}

/// A zeroed cache: a spare one, or a new one carved from a slab (heap lock held).
ThreadCache *take_cache_locked() {
    if (ThreadCache *tc = g_spare) {
        g_spare = tc->next_spare;
        return tc;
    }
    constexpr std::size_t need = round_up(sizeof(ThreadCache), 64);  // own cache lines
    if (static_cast<std::size_t>(g_slab_end - g_slab_next) < need) {
        void *slab = mmap(nullptr, kSlabBytes, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
        if (slab == MAP_FAILED) return nullptr;
        g_slab_next = static_cast<char *>(slab);
        g_slab_end = g_slab_next + kSlabBytes;
    }
    auto *tc = reinterpret_cast<ThreadCache *>(g_slab_next);  // fresh mapping: all zero
    g_slab_next += need;
    tc->next_all = g_all;
    g_all = tc;
    return tc;
}

}  // namespace

ThreadCache *thread_cache_create() {
    if (t_exiting || !process_ready()) return nullptr;
    g_heap.lock();
    ThreadCache *tc = take_cache_locked();
    g_heap.unlock();
    if (tc == nullptr) return nullptr;
    pthread_setspecific(g_exit_key, tc);  // keys below 32 live in the thread: no malloc
    t_cache = tc;
    return tc;
}

// [refill]
char *thread_cache_refill(ThreadCache *tc, unsigned c, std::size_t size) {
    // How many blocks to fetch in one visit to the heap is a trade between the lock and
    // locality:
    //  - Fetching only the block asked for keeps consecutive allocations of *any* sizes next
    //    to each other in memory, as a program allocates them (a tuple, its list, its string).
    //    Measured: Python walking a million objects in its GC ran ~1.5x slower when each size
    //    came from its own pre-fetched run, against one block at a time.
    //  - Fetching half a class at once pays the lock once per many blocks, which is what
    //    matters when threads compete for it.
    // So: one block while the process has a single thread (its lock is free, and skipped
    // anyway), a batch once there are several. The mm.h build always fetches one
    // (utilization: no hoarding). A single block has the size asked for, not its class's
    // (1040 bytes asked in class 1280 must not cost 1280); a batch has its class's size.
    unsigned batch = 1;
    if constexpr (kPreload) {
        if (!__libc_single_threaded) batch = kCapacity.of[c] / 2;
    }
    g_heap.lock();
    if (TransferStack &ts = g_transfer[c]; ts.n > 0) {  // a whole chain another cache gave up
        --ts.n;
        char *first = ts.chain[ts.n];
        unsigned length = ts.length[ts.n];
        g_heap.unlock();
        auto *link = static_cast<char **>(payload_of(first));
        tc->head[c] = link[0];
        tc->count[c] = static_cast<std::uint16_t>(length - 1);
        link[1] = nullptr;  // handed out: drop the cache mark
        return first;
    }
    thread_cache_drain_before_growth_locked(tc, size);
    char *got[kCacheMaxCount];
    unsigned n;
    if (batch == 1) {
        got[0] = g_heap.alloc_locked(size);
        n = got[0] != nullptr ? 1 : 0;
    } else {
        size = cache_class_size(c);
        n = g_heap.alloc_run_locked(size, batch, got);  // one search for the whole batch
    }
    g_heap.unlock();
    // Consecutive blocks usually come out at ascending addresses (split off one free block);
    // pushing them in reverse hands them out in that same order.
    for (unsigned i = n; i > 1; --i) tc->push(c, got[i - 1]);
    return n == 0 ? nullptr : got[0];
}
// [refill]

void thread_cache_drain_before_growth_locked(ThreadCache *tc, std::size_t size) {
    if (tc == nullptr || g_heap.fits_locked(size)) return;
    for (unsigned c = 0; c < kCacheClasses; ++c)
        while (char *b = tc->pop(c)) g_heap.free_locked(b);
}

void thread_cache_flush_and_push(ThreadCache *tc, unsigned c, char *b) {
    // Keep the most recently freed half (warm in the CPU cache), return the older half.
    unsigned keep = kCapacity.of[c] / 2;
    char *rest = tc->head[c];
    char *last_kept = nullptr;
    for (unsigned i = 0; i < keep; ++i) {
        last_kept = rest;
        rest = *static_cast<char **>(payload_of(rest));
    }
    if (last_kept != nullptr)
        *static_cast<char **>(payload_of(last_kept)) = nullptr;
    else
        tc->head[c] = nullptr;
    unsigned length = tc->count[c] - keep;
    tc->count[c] = static_cast<std::uint16_t>(keep);
    g_heap.lock();
    if (TransferStack &ts = g_transfer[c]; ts.n < kTransferChains) {
        ts.chain[ts.n] = rest;
        ts.length[ts.n] = static_cast<std::uint16_t>(length);
        ++ts.n;
        rest = nullptr;
    }
    while (rest != nullptr) {
        char *next = *static_cast<char **>(payload_of(rest));
        static_cast<Word *>(payload_of(rest))[1] = 0;  // not cached any more: drop the mark
        g_heap.free_locked(rest);
        rest = next;
    }
    g_heap.unlock();
    tc->push(c, b);
}

void thread_caches_forget_locked() {
    std::memset(g_transfer, 0, sizeof g_transfer);
    for (ThreadCache *tc = g_all; tc != nullptr; tc = tc->next_all) {
        std::memset(tc->head, 0, sizeof tc->head);
        std::memset(tc->count, 0, sizeof tc->count);
    }
}

bool thread_caches_exact_locked() { return !g_caches_torn_by_fork; }

std::size_t thread_caches_blocks_locked() {
    std::size_t n = 0;
    for (const TransferStack &ts : g_transfer)
        for (unsigned i = 0; i < ts.n; ++i) n += ts.length[i];
    for (ThreadCache *tc = g_all; tc != nullptr; tc = tc->next_all)
        for (unsigned c = 0; c < kCacheClasses; ++c) n += tc->count[c];
    return n;
}

std::size_t thread_caches_bytes_locked() {
    std::size_t n = 0;
    for (unsigned c = 0; c < kCacheClasses; ++c)
        for (unsigned i = 0; i < g_transfer[c].n; ++i) n += g_transfer[c].length[i] * cache_class_size(c);
    for (ThreadCache *tc = g_all; tc != nullptr; tc = tc->next_all)
        for (unsigned c = 0; c < kCacheClasses; ++c) n += tc->count[c] * cache_class_size(c);
    return n;
}

std::uint64_t thread_caches_calls_locked() {
    std::uint64_t n = 0;
    for (ThreadCache *tc = g_all; tc != nullptr; tc = tc->next_all) n += tc->calls;
    return n;
}

}  // namespace heaplab::ref

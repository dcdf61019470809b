/*
 * heap_watch.cpp — the malloc/calloc/realloc/free wrappers behind HeapWatch (see heap_watch.h).
 *
 * With `-Wl,--wrap=malloc` the linker resolves every call to malloc in this program's object
 * files to __wrap_malloc, and __real_malloc to glibc's malloc. The wrappers must not allocate
 * with malloc themselves (they would call themselves), so their notes live in fixed tables.
 */
#include "heap_watch.h"

#include <valgrind/valgrind.h>

#include <cerrno>
#include <cstdint>
#include <cstdio>
#include <cstring>
#include <sstream>

extern "C" {
extern char etext, end; /* set by the linker: the end of the code, the end of the static data */
void *__real_malloc(size_t size);
void *__real_calloc(size_t count, size_t size);
void *__real_realloc(void *ptr, size_t size);
void __real_free(void *ptr);
void *__wrap_malloc(size_t size);
void *__wrap_calloc(size_t count, size_t size);
void *__wrap_realloc(void *ptr, size_t size);
void __wrap_free(void *ptr);
}

namespace heap_watch {
namespace {

constexpr unsigned char kFreshByte = 0xAA; /* what a new malloc block holds, natively */
constexpr unsigned char kFreedByte = 0x00; /* what a freed block holds: reads give 0 and NULL */
constexpr int kMaxBlocks = 8192;           /* more than any test allocates */

/* Addresses are stored XOR-ed with this mask. Memcheck's leak check looks for pointers to a
 * block anywhere in memory: a plain address in our tables would make every leaked block look
 * "still reachable" instead of "definitely lost". */
constexpr std::uintptr_t kHide = 0xA5A5A5A5A5A5A5A5u;

struct Record {
    std::uintptr_t hidden; /* address ^ kHide */
    std::size_t size;
};

std::uintptr_t hide(const void *p) { return reinterpret_cast<std::uintptr_t>(p) ^ kHide; }
void *unhide(std::uintptr_t hidden) { return reinterpret_cast<void *>(hidden ^ kHide); }

/* A table of blocks, searched from the end: the block freed next is usually a recent one. */
struct Table {
    Record records[kMaxBlocks];
    int count = 0;

    int find(const void *p) const {
        std::uintptr_t key = hide(p);
        for (int i = count - 1; i >= 0; --i)
            if (records[i].hidden == key) return i;
        return -1;
    }
    bool add(const void *p, std::size_t size) {
        if (count == kMaxBlocks) return false;
        records[count++] = Record{hide(p), size};
        return true;
    }
    Record remove(int i) {
        Record record = records[i];
        records[i] = records[--count];
        return record;
    }
};

struct State {
    bool watching = false;
    bool valgrind = false;
    Table live;  /* allocated while watching, not freed */
    Table freed; /* freed while watching; natively the memory itself is kept until the end */
    int malloc_countdown = 0;
    int realloc_countdown = 0;
    int bad_frees = 0;
    int untracked = 0; /* blocks the tables had no room for */
    char first_bad_free[256] = "";
};
State state;

void note_bad_free(const char *what, const void *p) {
    if (state.bad_frees++ == 0)
        std::snprintf(state.first_bad_free, sizeof state.first_bad_free, "%s (address %p)", what, p);
}

bool fails_now(int &countdown) { return countdown > 0 && --countdown == 0; }

/* A block was handed out while watching. */
void note_allocated(void *p, std::size_t size, bool fill) {
    if (p == nullptr) return;
    int old = state.freed.find(p); /* glibc may reuse an address freed under Valgrind */
    if (old >= 0) state.freed.remove(old);
    if (!state.live.add(p, size)) ++state.untracked;
    if (fill && !state.valgrind) std::memset(p, kFreshByte, size);
}

/* Frees a live block: natively it is zeroed and kept aside; under Valgrind it is freed. */
void watched_free(int live_index) {
    Record record = state.live.remove(live_index);
    void *p = unhide(record.hidden);
    if (state.valgrind) {
        __real_free(p);
        if (!state.freed.add(p, record.size)) ++state.untracked;
        return;
    }
    std::memset(p, kFreedByte, record.size);
    if (!state.freed.add(p, record.size)) {
        ++state.untracked;
        __real_free(p);
    }
}

/* free() of something that is not a live block of this watch. Returns true when it must not
 * reach glibc (natively only: under Valgrind, Memcheck is there to report it). */
bool refuse_free(void *p) {
    if (state.freed.find(p) >= 0) {
        note_bad_free("a block freed a second time", p);
        return !state.valgrind;
    }
    if (on_stack(p)) {
        note_bad_free("free() of an address on the stack, which malloc never returned", p);
        return !state.valgrind;
    }
    return false; /* allocated before the watch started (by the test framework): pass it on */
}

}  // namespace

HeapWatch::HeapWatch() {
    state.valgrind = RUNNING_ON_VALGRIND != 0;
    state.live.count = 0;
    state.freed.count = 0;
    state.malloc_countdown = 0;
    state.realloc_countdown = 0;
    state.bad_frees = 0;
    state.untracked = 0;
    state.first_bad_free[0] = '\0';
    state.watching = true;
}

HeapWatch::~HeapWatch() {
    state.watching = false;
    if (!state.valgrind)
        for (int i = 0; i < state.freed.count; ++i) __real_free(unhide(state.freed.records[i].hidden));
    state.freed.count = 0;
    /* Blocks still live are leaks: they stay leaked, so that Memcheck reports them too. */
    state.live.count = 0;
}

void HeapWatch::fail_malloc(int nth) { state.malloc_countdown = nth; }
void HeapWatch::fail_realloc(int nth) { state.realloc_countdown = nth; }

bool HeapWatch::is_block(const void *p) const { return p != nullptr && state.live.find(p) >= 0; }

std::size_t HeapWatch::block_size(const void *p) const {
    int i = p == nullptr ? -1 : state.live.find(p);
    return i < 0 ? 0 : state.live.records[i].size;
}

std::size_t HeapWatch::live_blocks() const { return static_cast<std::size_t>(state.live.count); }

std::size_t HeapWatch::live_bytes() const {
    std::size_t bytes = 0;
    for (int i = 0; i < state.live.count; ++i) bytes += state.live.records[i].size;
    return bytes;
}

bool HeapWatch::under_valgrind() { return RUNNING_ON_VALGRIND != 0; }

std::string HeapWatch::describe(const void *p) const {
    std::ostringstream text;
    if (p == nullptr) return "NULL";
    if (int i = state.live.find(p); i >= 0) {
        text << "a block of " << state.live.records[i].size << " bytes from malloc";
        return text.str();
    }
    if (int i = state.freed.find(p); i >= 0) {
        text << "a block of " << state.freed.records[i].size << " bytes that was already freed";
        return text.str();
    }
    auto address = reinterpret_cast<std::uintptr_t>(p);
    for (int i = 0; i < state.live.count; ++i) {
        auto start = state.live.records[i].hidden ^ kHide;
        if (address > start && address < start + state.live.records[i].size) {
            text << "byte " << address - start << " inside a block of " << state.live.records[i].size
                 << " bytes, not its start";
            return text.str();
        }
    }
    if (on_stack(p)) {
        text << "an address on the stack (" << p << ")";
        return text.str();
    }
    if (address >= reinterpret_cast<std::uintptr_t>(&etext) && address < reinterpret_cast<std::uintptr_t>(&end)) {
        text << "an address in the program's static data, where global and static variables live (" << p << ")";
        return text.str();
    }
    text << "an address that no malloc of this test returned (" << p << ")";
    return text.str();
}

::testing::AssertionResult HeapWatch::IsBlock(const void *p) const {
    if (is_block(p)) return ::testing::AssertionSuccess();
    return ::testing::AssertionFailure() << "expected a block from malloc, got " << describe(p);
}

::testing::AssertionResult HeapWatch::NoLeaks() const {
    if (state.live.count == 0 && state.untracked == 0) return ::testing::AssertionSuccess();
    ::testing::AssertionResult result = ::testing::AssertionFailure();
    result << state.live.count << (state.live.count == 1 ? " block" : " blocks") << " (" << live_bytes()
           << " bytes) never freed; sizes:";
    for (int i = 0; i < state.live.count && i < 10; ++i) result << " " << state.live.records[i].size;
    if (state.live.count > 10) result << " ...";
    if (state.untracked > 0) result << " (and " << state.untracked << " blocks the watch had no room to record)";
    return result;
}

::testing::AssertionResult HeapWatch::NoBadFrees() const {
    if (state.bad_frees == 0) return ::testing::AssertionSuccess();
    return ::testing::AssertionFailure() << state.bad_frees << " bad free" << (state.bad_frees == 1 ? "" : "s")
                                         << "; the first: " << state.first_bad_free;
}

bool on_stack(const void *p) {
    /* The stack is a few MiB at most, far from the heap and from mmap'd memory: an address
     * within 8 MiB of this function's frame is on the stack. */
    auto here = reinterpret_cast<std::uintptr_t>(__builtin_frame_address(0));
    auto address = reinterpret_cast<std::uintptr_t>(p);
    constexpr std::uintptr_t kReach = 8u << 20;
    return address + kReach > here && address < here + kReach;
}

__attribute__((noinline)) void scribble_on_stack() {
    volatile char junk[4096];
    for (std::size_t i = 0; i < sizeof junk; ++i) junk[i] = '#';
}

std::string peek_string(const char *p, std::size_t max) {
    if (p == nullptr) return "NULL";
    std::string text = "\"";
    std::size_t i = 0;
    for (; i < max && p[i] != '\0'; ++i) {
        auto c = static_cast<unsigned char>(p[i]);
        if (c >= 32 && c < 127) {
            text += static_cast<char>(c);
        } else {
            char escaped[8];
            std::snprintf(escaped, sizeof escaped, "\\x%02x", c);
            text += escaped;
        }
    }
    text += i == max ? "\"..." : "\"";
    return text;
}

}  // namespace heap_watch

using heap_watch::state;

void *__wrap_malloc(size_t size) {
    if (!state.watching) return __real_malloc(size);
    if (heap_watch::fails_now(state.malloc_countdown)) {
        errno = ENOMEM;
        return nullptr;
    }
    void *p = __real_malloc(size);
    heap_watch::note_allocated(p, size, true);
    return p;
}

void *__wrap_calloc(size_t count, size_t size) {
    if (!state.watching) return __real_calloc(count, size);
    if (heap_watch::fails_now(state.malloc_countdown)) {
        errno = ENOMEM;
        return nullptr;
    }
    void *p = __real_calloc(count, size);
    heap_watch::note_allocated(p, count * size, false); /* calloc refuses an overflowing product */
    return p;
}

void *__wrap_realloc(void *ptr, size_t size) {
    if (!state.watching) return __real_realloc(ptr, size);
    if (heap_watch::fails_now(state.realloc_countdown)) {
        errno = ENOMEM;
        return nullptr;
    }
    if (ptr == nullptr) {
        void *p = __real_realloc(nullptr, size); /* realloc(NULL, n) is malloc(n) */
        heap_watch::note_allocated(p, size, true);
        return p;
    }
    int i = state.live.find(ptr);
    if (i < 0) {
        if (heap_watch::refuse_free(ptr)) return nullptr;
        return __real_realloc(ptr, size); /* a block from before the watch */
    }
    if (size == 0) { /* glibc frees the block and returns NULL */
        heap_watch::watched_free(i);
        return nullptr;
    }
    std::size_t old_size = state.live.records[i].size;
    if (state.valgrind) {
        void *p = __real_realloc(ptr, size);
        if (p == nullptr) return nullptr;
        state.live.remove(i);
        if (p != ptr && !state.freed.add(ptr, old_size)) ++state.untracked;
        heap_watch::note_allocated(p, size, false);
        return p;
    }
    /* Natively, always move (as Memcheck's realloc does): code that keeps using the old
     * pointer then reads a zeroed, retired block instead of getting lucky. */
    void *p = __real_malloc(size);
    if (p == nullptr) return nullptr;
    std::memcpy(p, ptr, old_size < size ? old_size : size);
    if (size > old_size) std::memset(static_cast<char *>(p) + old_size, heap_watch::kFreshByte, size - old_size);
    heap_watch::watched_free(i);
    heap_watch::note_allocated(p, size, false);
    return p;
}

void __wrap_free(void *ptr) {
    if (ptr == nullptr) return;
    if (!state.watching) {
        __real_free(ptr);
        return;
    }
    if (int i = state.live.find(ptr); i >= 0) {
        heap_watch::watched_free(i);
        return;
    }
    if (heap_watch::refuse_free(ptr)) return;
    __real_free(ptr);
}

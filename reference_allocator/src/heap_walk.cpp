/**
 * @file heap_walk.cpp
 * @brief mm_heap_walk() for the mm.h build: the reference's blocks as `heaplab trace viz`
 *        draws them (heap_walk.h). Read-only; nothing here is on an allocation path.
 *
 * ## Spec
 * The mm.h build has one region, on the simulated break (block.h, heap.h): a pad, blocks back
 * to back from the first address whose payload is 16-aligned (a header at 8 mod 16), and an
 * epilogue in the last 8 bytes below the break. Each block is reported with its 8-byte header;
 * a free block also has its 8-byte footer; an allocated block has none (::kPrevAlloc in the
 * next header replaces it). A block a thread cache holds is allocated in its header but free
 * for the program: it is reported as ::MM_BLOCK_CACHED. The free block at the top (the
 * wilderness) is an ordinary free block here.
 *
 * The walk checks every header before it visits anything, and returns -1 without a visit if
 * the blocks do not end exactly at the epilogue — a picture of a corrupt heap would mislead.
 */
#include "heaplab/heap_walk.h"

#include "heaplab/memlib.h"

#include "block.h"
#include "config.h"
#include "heap.h"
#include "size_class.h"
#include "thread_cache.h"

namespace heaplab::ref {
namespace {

/// The first block's header: the first address at or above @p lo that is 8 mod 16.
char *first_block(char *lo) {
    auto a = reinterpret_cast<std::uintptr_t>(lo);
    return lo + (kAlign - (a + kHeaderSize) % kAlign) % kAlign;
}

/// True when the blocks from @p first end exactly at the epilogue @p epilogue.
bool blocks_are_whole(char *first, char *epilogue) {
    char *b = first;
    while (b < epilogue) {
        std::size_t size = size_of(load(b));
        if (size < kMinBlock || size % kAlign != 0 || size > static_cast<std::size_t>(epilogue - b)) return false;
        b += size;
    }
    return b == epilogue && size_of(load(epilogue)) == 0;
}

}  // namespace
}  // namespace heaplab::ref

using namespace heaplab::ref;

extern "C" HEAPLAB_EXPORT int mm_heap_walk(mm_block_visitor visit, void *context) {
    if (kPreload || mem_heapsize() < 2 * kHeaderSize) return -1;  // one region, set up by mm_init
    g_heap.lock();
    char *first = first_block(static_cast<char *>(mem_heap_lo()));
    char *epilogue = static_cast<char *>(mem_heap_hi()) + 1 - kHeaderSize;
    if (!blocks_are_whole(first, epilogue)) {
        g_heap.unlock();
        return -1;
    }
    for (char *b = first; b < epilogue; b += size_of(load(b))) {
        Word h = load(b);
        std::size_t size = size_of(h);
        bool in_use = (h & kAlloc) != 0;
        int state = !in_use                                          ? MM_BLOCK_FREE
                    : size <= kCacheMaxBlock && is_cached(b)         ? MM_BLOCK_CACHED
                                                                     : MM_BLOCK_ALLOCATED;
        visit(b, size, state, kHeaderSize, in_use ? 0 : kHeaderSize, context);
    }
    g_heap.unlock();
    return 0;
}

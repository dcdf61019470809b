// The glibc ABI of libheaplab.so, one test per rule.
//
// Why child processes: this test binary runs on glibc's malloc, and a process cannot change
// its malloc once running (dlopen-ing a second malloc would mix two heaps: memory from one
// freed into the other). So each rule runs in abi_probe (abi_probe.cpp) under
// LD_PRELOAD=libheaplab.so, where every allocation of the process — libc's, libstdc++'s,
// the probe's — is ours. Each test also proves the preload took effect ("active").
#include "run_child.h"

#include <gtest/gtest.h>

namespace heaplab::ref::test {
namespace {

ChildResult probe(const std::string &which) {
    return run_child({HEAPLAB_ABI_PROBE, which}, {preload_env()});
}

void expect_holds(const std::string &which) {
    ChildResult r = probe(which);
    EXPECT_TRUE(r.exited_ok()) << which << ": " << r.describe();
}

void expect_abort(const std::string &which, const std::string &message) {
    ChildResult r = probe(which);
    EXPECT_TRUE(r.aborted()) << which << ": " << r.describe();
    EXPECT_NE(r.err.find("heaplab: free(): " + message), std::string::npos) << r.err;
    EXPECT_NE(r.err.find(": 0x"), std::string::npos) << "the report names the address: " << r.err;
}

TEST(Abi, PreloadServesTheProcess) { expect_holds("active"); }
TEST(Abi, MallocZeroReturnsAUniquePointer) { expect_holds("malloc0_unique"); }
TEST(Abi, MallocFailsWithEnomem) { expect_holds("malloc_enomem"); }
TEST(Abi, CallocDetectsOverflow) { expect_holds("calloc_overflow"); }
TEST(Abi, CallocZeroesRecycledMemory) { expect_holds("calloc_zeroes"); }
TEST(Abi, ReallocarrayDetectsOverflowAndKeepsTheBlock) { expect_holds("reallocarray_overflow"); }
TEST(Abi, ReallocOfNullIsMalloc) { expect_holds("realloc_null_is_malloc"); }
TEST(Abi, ReallocToZeroFreesAndReturnsNull) { expect_holds("realloc_zero_frees"); }
TEST(Abi, ReallocKeepsTheContents) { expect_holds("realloc_keeps_contents"); }
TEST(Abi, FailedReallocKeepsTheBlock) { expect_holds("realloc_enomem_keeps_block"); }
TEST(Abi, PosixMemalignEinvalLeavesThePointer) { expect_holds("posix_memalign_einval"); }
TEST(Abi, PosixMemalignEnomemLeavesThePointer) { expect_holds("posix_memalign_enomem"); }
TEST(Abi, PosixMemalignAlignsUpTo4MiB) { expect_holds("posix_memalign_aligns"); }
TEST(Abi, AlignedAllocRequiresAPowerOfTwo) { expect_holds("aligned_alloc_rules"); }
TEST(Abi, MemalignRoundsTheAlignmentUp) { expect_holds("memalign_rounds_up"); }
TEST(Abi, VallocAndPvallocArePageAligned) { expect_holds("valloc_pvalloc"); }
TEST(Abi, MallocUsableSizeCoversTheRequest) { expect_holds("usable_size"); }
TEST(Abi, FreeKeepsErrno) { expect_holds("free_keeps_errno"); }
TEST(Abi, EverySizeIs16ByteAligned) { expect_holds("alignment_16"); }
TEST(Abi, DoubleFreeOfASmallBlockAborts) { expect_abort("double_free_small", "double free"); }
TEST(Abi, DoubleFreeOfALargeBlockAborts) { expect_abort("double_free_large", "double free"); }
TEST(Abi, FreeOfAnInteriorPointerAborts) { expect_abort("invalid_free_interior", "invalid pointer"); }
TEST(Abi, FreeOfAStackAddressAborts) { expect_abort("invalid_free_stack", "invalid pointer"); }
TEST(Abi, LargeFreeBlockAtTheTopIsTrimmed) { expect_holds("trim"); }
TEST(Abi, ForeignBrkUserFallsBackToMmap) { expect_holds("mmap_fallback"); }

// Multi-threaded stress and fork, on the real break (the in-process variants over the
// simulated break are in stress_test.cpp).
TEST(AbiThreads, StressOwnAndOtherThreadsBlocks) { expect_holds("stress"); }
TEST(AbiThreads, ForkWhileOtherThreadsAllocate) { expect_holds("fork"); }

}  // namespace
}  // namespace heaplab::ref::test

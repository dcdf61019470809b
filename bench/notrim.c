/* make bench: preloaded in front of every allocator for the trace-suite throughput runs.
 *
 * `heaplab trace replay --allocator libc` calls malloc_trim(0) before every timed run, so that
 * each pass starts alike. Only glibc's heap is trimmed by it: the other allocators do not
 * define malloc_trim (it resolves to glibc's, which then trims glibc's idle arena), so glibc
 * alone would re-fault its heap in every timed run. Making malloc_trim a no-op for all of
 * them keeps every allocator's heap warm alike. */
#include <stddef.h>

int malloc_trim(size_t pad) {
  (void)pad;
  return 0;
}

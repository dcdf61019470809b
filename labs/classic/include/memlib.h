/*
 * memlib.h for classic malloc-lab submissions: HeapLab's simulated break under the classic
 * names (mem_sbrk, mem_heap_lo, mem_heap_hi, mem_heapsize, mem_pagesize).
 */
#ifndef HEAPLAB_CLASSIC_MEMLIB_H
#define HEAPLAB_CLASSIC_MEMLIB_H

#include "heaplab/memlib.h"

#endif /* HEAPLAB_CLASSIC_MEMLIB_H */

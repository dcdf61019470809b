/*
 * mm.h for classic malloc-lab submissions graded by HeapLab.
 *
 * Classic submissions include "mm.h" and "memlib.h" by those names, and many define a `team`
 * variable describing the authors. This header gives them what they expect: HeapLab's own
 * mm.h (the same six functions; mm_calloc and mm_checkheap are optional here) and a team
 * record type with the usual fields, so last year's hand-ins compile unchanged.
 */
#ifndef HEAPLAB_CLASSIC_MM_H
#define HEAPLAB_CLASSIC_MM_H

#include <stdio.h>

#include "heaplab/mm.h"

/* The authors of a submission, as classic hand-ins declare them. */
typedef struct {
    char *teamname; /* a short name, or a login */
    char *name1;    /* first member's full name */
    char *id1;      /* first member's login or e-mail */
    char *name2;    /* second member's full name, if any */
    char *id2;      /* second member's login or e-mail, if any */
} team_t;

extern team_t team;

#endif /* HEAPLAB_CLASSIC_MM_H */

/*
 * int_stack.cpp — Exercise 5: use after free.
 *
 * Once a block is freed, its bytes belong to the allocator again: glibc writes its own
 * bookkeeping into them at once, and the next malloc may hand them to someone else. Reading a
 * freed block may still "work" on your machine today, and return garbage tomorrow. The rule:
 * take everything you still need out of a block, then free it.
 */
#include "exercises.h"

#include <cstdlib>

int stack_push(IntStack *stack, int value) {
    StackNode *node = static_cast<StackNode *>(malloc(sizeof *node));
    if (node == NULL) return -1;
    node->value = value;
    node->below = stack->top;
    stack->top = node;
    stack->size++;
    return 0;
}

int stack_pop(IntStack *stack, int *value) {
    StackNode *top = stack->top;
    if (top == NULL) return -1;
    *value = top->value;       /* everything we need from the node ... */
    stack->top = top->below;
    stack->size--;
    free(top);                 /* ... before it goes */
    return 0;
}

void stack_clear(IntStack *stack) {
    // BEGIN SOLUTION
    StackNode *node = stack->top;
    while (node != NULL) {
        StackNode *below = node->below; /* read the link while the node is still ours */
        free(node);
        node = below;
    }
    // STUB
    // for (StackNode *node = stack->top; node != NULL; node = node->below) free(node);
    // END SOLUTION
    stack->top = NULL;
    stack->size = 0;
}

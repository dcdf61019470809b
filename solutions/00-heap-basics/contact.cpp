/*
 * contact.cpp — Exercise 4: free exactly once.
 *
 * A Contact owns its two strings. Freeing a block ends its life, but it does not change the
 * pointers that still hold its address: they keep pointing at memory that is no longer yours
 * (a "dangling pointer"). Free the same block through one of them a second time and glibc's
 * heap is corrupted; glibc often notices and aborts ("free(): double free detected"), and when
 * it does not, two later mallocs can return the same block.
 *
 * free(NULL) does nothing, by definition: a pointer set to NULL after its block is freed can
 * be freed again safely, and says "no block" to everyone who reads it.
 */
#include "exercises.h"

#include <cstdlib>
#include <cstring>

namespace {

/* A copy of text that the caller owns; NULL if memory runs out. */
char *copy_of(const char *text) {
    size_t size = strlen(text) + 1;
    char *copy = static_cast<char *>(malloc(size));
    if (copy != NULL) memcpy(copy, text, size);
    return copy;
}

}  // namespace

Contact *contact_new(const char *name) {
    Contact *contact = static_cast<Contact *>(malloc(sizeof *contact));
    if (contact == NULL) return NULL;
    contact->name = copy_of(name);
    if (contact->name == NULL) {
        free(contact);
        return NULL;
    }
    contact->email = NULL;
    return contact;
}

int contact_set_email(Contact *contact, const char *email) {
    char *copy = copy_of(email);
    if (copy == NULL) return -1; /* the old email is untouched */
    free(contact->email);        /* the old one, if any: free(NULL) does nothing */
    contact->email = copy;
    return 0;
}

void contact_clear_email(Contact *contact) {
    // BEGIN SOLUTION
    free(contact->email);
    contact->email = NULL; /* the block is gone: say so, or the next free frees it again */
    // STUB
    // free(contact->email);
    // END SOLUTION
}

void contact_destroy(Contact *contact) {
    if (contact == NULL) return;
    free(contact->name);
    free(contact->email);
    free(contact);
}

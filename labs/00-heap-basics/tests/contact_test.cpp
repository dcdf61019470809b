// Exercise 4 (contact.cpp): each block is freed exactly once.
#include "exercises.h"
#include "heap_watch.h"

namespace {

using heap_watch::HeapWatch;

TEST(Contact, NewContactHasANameAndNoEmail) {
    HeapWatch watch;
    Contact *contact = contact_new("Ada");
    ASSERT_TRUE(watch.IsBlock(contact));
    EXPECT_STREQ(contact->name, "Ada");
    EXPECT_EQ(contact->email, nullptr);
    contact_destroy(contact);
    EXPECT_TRUE(watch.NoLeaks());
}

TEST(Contact, SetEmailReplacesTheOldOne) {
    HeapWatch watch;
    Contact *contact = contact_new("Ada");
    ASSERT_TRUE(watch.IsBlock(contact));
    ASSERT_EQ(contact_set_email(contact, "ada@example.org"), 0);
    ASSERT_EQ(contact_set_email(contact, "countess@example.org"), 0);
    EXPECT_STREQ(contact->email, "countess@example.org");
    contact_destroy(contact);
    EXPECT_TRUE(watch.NoLeaks());
    EXPECT_TRUE(watch.NoBadFrees());
}

TEST(Contact, ClearEmailLeavesNoEmail) {
    HeapWatch watch;
    Contact *contact = contact_new("Ada");
    ASSERT_TRUE(watch.IsBlock(contact));
    ASSERT_EQ(contact_set_email(contact, "ada@example.org"), 0);
    contact_clear_email(contact);
    EXPECT_EQ(contact->email, nullptr) << "after contact_clear_email the contact has no email, so email must be "
                                          "NULL; it still points at "
                                       << watch.describe(contact->email) << " (a dangling pointer)";
    contact_destroy(contact);
}

TEST(Contact, DestroyAfterClearFreesEachBlockOnce) {
    HeapWatch watch;
    Contact *contact = contact_new("Ada");
    ASSERT_TRUE(watch.IsBlock(contact));
    ASSERT_EQ(contact_set_email(contact, "ada@example.org"), 0);
    contact_clear_email(contact);
    contact_destroy(contact);
    EXPECT_TRUE(watch.NoBadFrees()) << "contact_destroy freed the email that contact_clear_email had already "
                                       "freed: a pointer to a freed block must not be freed again";
    EXPECT_TRUE(watch.NoLeaks()) << "a block was never freed: contact_clear_email must free the email before it "
                                    "forgets it (free first, then set the pointer to NULL)";
}

TEST(Contact, SetEmailAfterClear) {
    HeapWatch watch;
    Contact *contact = contact_new("Ada");
    ASSERT_TRUE(watch.IsBlock(contact));
    ASSERT_EQ(contact_set_email(contact, "ada@example.org"), 0);
    contact_clear_email(contact);
    ASSERT_EQ(contact_set_email(contact, "countess@example.org"), 0);
    EXPECT_TRUE(watch.NoBadFrees()) << "contact_set_email freed the old email, which contact_clear_email had "
                                       "already freed";
    EXPECT_STREQ(contact->email, "countess@example.org");
    contact_destroy(contact);
    EXPECT_TRUE(watch.NoLeaks());
}

TEST(Contact, ClearWithoutAnEmail) {
    HeapWatch watch;
    Contact *contact = contact_new("Ada");
    ASSERT_TRUE(watch.IsBlock(contact));
    contact_clear_email(contact);
    contact_clear_email(contact);
    EXPECT_EQ(contact->email, nullptr);
    contact_destroy(contact);
    EXPECT_TRUE(watch.NoBadFrees());
    EXPECT_TRUE(watch.NoLeaks());
}

TEST(Contact, SetEmailKeepsTheOldOneWhenMallocFails) {
    HeapWatch watch;
    Contact *contact = contact_new("Ada");
    ASSERT_TRUE(watch.IsBlock(contact));
    ASSERT_EQ(contact_set_email(contact, "ada@example.org"), 0);
    watch.fail_malloc(1);
    EXPECT_EQ(contact_set_email(contact, "countess@example.org"), -1);
    EXPECT_STREQ(contact->email, "ada@example.org");
    contact_destroy(contact);
    EXPECT_TRUE(watch.NoLeaks());
}

}  // namespace

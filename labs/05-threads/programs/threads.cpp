// A small multi-threaded program to run on your allocator: four threads pass blocks around in a
// ring — each allocates blocks (malloc, calloc, realloc), fills them, and hands them to the next
// thread, which checks and frees them — while the main thread forks children that allocate too.
// It prints the same lines whatever malloc it runs on (nothing in them depends on addresses):
//
//   g++ -O2 -pthread programs/threads.cpp -o build/threads
//   build/threads                          # on glibc's malloc
//   make preload RUN=build/threads         # on your allocator: the same lines, and its statistics
//
// `make test` at the top of the kit runs it the same way on the Lab 05 solution
// (05-threads/preload-runs-threads).
#include <pthread.h>
#include <sys/wait.h>
#include <unistd.h>

#include <atomic>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <cstring>

namespace {

constexpr int kThreads = 4;
constexpr int kBlocksPerThread = 20000;
constexpr int kForks = 5;

/* A block in flight: what the next thread must find in it. */
struct Parcel {
    unsigned char *data;
    std::size_t size;
    unsigned seed;
};

/* A small queue per thread, under a mutex: the blocks the previous thread hands it. */
struct Mailbox {
    pthread_mutex_t lock = PTHREAD_MUTEX_INITIALIZER;
    pthread_cond_t ready = PTHREAD_COND_INITIALIZER;
    Parcel slots[64];
    int head = 0, count = 0;
    bool closed = false;
};
Mailbox mailboxes[kThreads];

void send(Mailbox &box, Parcel parcel) {
    pthread_mutex_lock(&box.lock);
    while (box.count == 64) pthread_cond_wait(&box.ready, &box.lock);
    box.slots[(box.head + box.count++) % 64] = parcel;
    pthread_cond_broadcast(&box.ready);
    pthread_mutex_unlock(&box.lock);
}

/* The next parcel, or one with data == NULL once the sender is done. */
Parcel receive(Mailbox &box) {
    pthread_mutex_lock(&box.lock);
    while (box.count == 0 && !box.closed) pthread_cond_wait(&box.ready, &box.lock);
    Parcel parcel{nullptr, 0, 0};
    if (box.count > 0) {
        parcel = box.slots[box.head];
        box.head = (box.head + 1) % 64;
        --box.count;
        pthread_cond_broadcast(&box.ready);
    }
    pthread_mutex_unlock(&box.lock);
    return parcel;
}

void close(Mailbox &box) {
    pthread_mutex_lock(&box.lock);
    box.closed = true;
    pthread_cond_broadcast(&box.ready);
    pthread_mutex_unlock(&box.lock);
}

unsigned char byte_of(unsigned seed, std::size_t i) { return static_cast<unsigned char>(seed * 31 + i * 7 + 1); }

std::atomic<long> corrupted{0};
std::atomic<std::uint64_t> checksum{0};

/* Makes one block: malloc, calloc, or a buffer grown by realloc. */
Parcel make_block(unsigned seed) {
    std::size_t size = seed % 5 == 0 ? 300 + seed % 4000 : 1 + seed % 200;
    unsigned char *data = nullptr;
    if (seed % 3 == 0) {
        data = static_cast<unsigned char *>(calloc(size, 1));
        for (std::size_t i = 0; data != nullptr && i < size; ++i)
            if (data[i] != 0) ++corrupted;
    } else if (seed % 3 == 1) {
        data = static_cast<unsigned char *>(malloc(size));
    } else {
        std::size_t half = size / 2 + 1;
        data = static_cast<unsigned char *>(malloc(half));
        if (data != nullptr) {
            for (std::size_t i = 0; i < half; ++i) data[i] = byte_of(seed, i);
            auto *grown = static_cast<unsigned char *>(realloc(data, size));
            for (std::size_t i = 0; grown != nullptr && i < half && i < size; ++i)
                if (grown[i] != byte_of(seed, i)) ++corrupted;
            data = grown;
        }
    }
    if (data == nullptr) {
        std::fprintf(stderr, "out of memory\n");
        std::exit(1);
    }
    for (std::size_t i = 0; i < size; ++i) data[i] = byte_of(seed, i);
    return Parcel{data, size, seed};
}

void *ring_thread(void *argument) {
    int me = static_cast<int>(reinterpret_cast<std::intptr_t>(argument));
    Mailbox &inbox = mailboxes[me];
    Mailbox &outbox = mailboxes[(me + 1) % kThreads];
    int sent = 0;
    bool inbox_open = true;
    while (sent < kBlocksPerThread || inbox_open) {
        if (sent < kBlocksPerThread) {
            send(outbox, make_block(static_cast<unsigned>(me * kBlocksPerThread + sent)));
            if (++sent == kBlocksPerThread) close(outbox);
        }
        if (inbox_open) {  // one in for one out: the ring never fills up (64 a mailbox)
            Parcel parcel = receive(inbox);
            if (parcel.data == nullptr) {
                inbox_open = false;
                continue;
            }
            std::uint64_t sum = 0;
            for (std::size_t i = 0; i < parcel.size; ++i) {
                if (parcel.data[i] != byte_of(parcel.seed, i)) ++corrupted;
                sum += parcel.data[i];
            }
            checksum += sum;
            free(parcel.data);
        }
    }
    return nullptr;
}

/* A child of fork() made while the ring runs: it must be able to allocate (fork handlers). */
bool child_allocates() {
    pid_t child = fork();
    if (child == 0) {
        alarm(10);  // a child stuck on a lock it inherited held ends here, and the parent says so
        void *blocks[100];
        for (int i = 0; i < 100; ++i) blocks[i] = malloc(16 + i * 40);
        for (void *block : blocks) free(block);
        _exit(0);
    }
    int status = 0;
    bool ok = child > 0 && waitpid(child, &status, 0) == child && WIFEXITED(status) && WEXITSTATUS(status) == 0;
    if (!ok) std::fprintf(stderr, "a child of fork() failed: %s\n", WIFSIGNALED(status) ? strsignal(WTERMSIG(status)) : "exit status not 0");
    return ok;
}

}  // namespace

int main() {
    pthread_t threads[kThreads];
    for (int i = 0; i < kThreads; ++i)
        pthread_create(&threads[i], nullptr, ring_thread, reinterpret_cast<void *>(static_cast<std::intptr_t>(i)));
    int children_ok = 0;
    for (int i = 0; i < kForks; ++i) {
        if (child_allocates()) ++children_ok;
        usleep(1000);
    }
    for (pthread_t thread : threads) pthread_join(thread, nullptr);
    std::printf("%d threads passed %d blocks around the ring: %ld corrupted, checksum %llu\n", kThreads,
                kThreads * kBlocksPerThread, corrupted.load(), static_cast<unsigned long long>(checksum.load()));
    std::printf("%d of %d children forked meanwhile could allocate\n", children_ok, kForks);
    return corrupted == 0 && children_ok == kForks ? 0 : 1;
}

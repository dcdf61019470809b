// Multi-threaded allocator workloads for `make bench`.
//
// Plain malloc/free only, so that LD_PRELOAD swaps the allocator under test. One run per
// process (a fresh heap every time); bench/run repeats and takes the median.
//
//   mt_workloads WORKLOAD THREADS      prints "<ops_per_second>" on stdout
//
// WORKLOAD:
//   churn      server-like: each thread keeps 1000 live blocks of random sizes (80% 16..256
//              bytes, 20% up to 4 KiB) and replaces a random one per step (free + malloc).
//   prodcons   producer/consumer: with 2 threads, one thread mallocs batches of 256 blocks
//              (16..512 bytes) and hands them over a *bounded* queue (8 batches) to the other,
//              which frees them; with 1 thread, the same thread frees its own batches.
//   small      many small objects per thread: allocate 100000 objects of 16..64 bytes, touch
//              them, free them all; repeated.
// Work per thread is fixed (weak scaling): ops/s with 2 threads ideally doubles.
// Built with -fno-builtin so the compiler cannot elide malloc/free pairs.
#include <atomic>
#include <chrono>
#include <condition_variable>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <mutex>
#include <thread>
#include <vector>

namespace {

struct Rng {
  std::uint64_t s;
  std::uint64_t next() {
    s ^= s << 13;
    s ^= s >> 7;
    s ^= s << 17;
    return s;
  }
};

std::atomic<std::uint64_t> g_sink{0};

void touch(void *p, std::size_t n) {
  auto *c = static_cast<unsigned char *>(p);
  c[0] = static_cast<unsigned char>(n);
  c[n - 1] = static_cast<unsigned char>(n >> 3);
}

// ---- churn ----
constexpr int kChurnLive = 1000;
constexpr long kChurnSteps = 4'000'000;

std::size_t churn_size(Rng &r) {
  std::uint64_t x = r.next();
  return (x % 5 == 0) ? 16 + (x >> 8) % 4081 : 16 + (x >> 8) % 241;
}

std::uint64_t churn_thread(unsigned seed) {
  Rng r{0x9E3779B97F4A7C15ull * (seed + 1)};
  void *slot[kChurnLive];
  std::uint64_t sum = 0;
  for (auto &p : slot) {
    std::size_t n = churn_size(r);
    p = std::malloc(n);
    touch(p, n);
  }
  for (long i = 0; i < kChurnSteps; ++i) {
    int k = static_cast<int>(r.next() % kChurnLive);
    sum += *static_cast<unsigned char *>(slot[k]);
    std::free(slot[k]);
    std::size_t n = churn_size(r);
    slot[k] = std::malloc(n);
    touch(slot[k], n);
  }
  for (auto p : slot) std::free(p);
  g_sink += sum;
  return 2 * static_cast<std::uint64_t>(kChurnSteps) + 2 * kChurnLive;
}

// ---- producer/consumer ----
constexpr int kBatch = 256;
constexpr int kBatches = 16000;
constexpr int kQueue = 8;

struct Queue {
  std::mutex m;
  std::condition_variable not_full, not_empty;
  void **ring[kQueue];
  int head = 0, count = 0;
  void push(void **b) {
    std::unique_lock<std::mutex> lk(m);
    not_full.wait(lk, [&] { return count < kQueue; });
    ring[(head + count) % kQueue] = b;
    ++count;
    not_empty.notify_one();
  }
  void **pop() {
    std::unique_lock<std::mutex> lk(m);
    not_empty.wait(lk, [&] { return count > 0; });
    void **b = ring[head];
    head = (head + 1) % kQueue;
    --count;
    not_full.notify_one();
    return b;
  }
};

// Batch arrays are static (kQueue + 2 of them, reused round-robin) so that only the blocks go
// through malloc.
void *g_batches[kQueue + 2][kBatch];

void fill(void **b, Rng &r) {
  for (int i = 0; i < kBatch; ++i) {
    std::size_t n = 16 + r.next() % 497;
    b[i] = std::malloc(n);
    touch(b[i], n);
  }
}

std::uint64_t drain(void **b) {
  std::uint64_t sum = 0;
  for (int i = 0; i < kBatch; ++i) {
    sum += *static_cast<unsigned char *>(b[i]);
    std::free(b[i]);
  }
  return sum;
}

std::uint64_t prodcons(int threads) {
  Rng r{12345};
  if (threads == 1) {
    std::uint64_t sum = 0;
    for (int i = 0; i < kBatches; ++i) {
      fill(g_batches[0], r);
      sum += drain(g_batches[0]);
    }
    g_sink += sum;
    return 2ull * kBatch * kBatches;
  }
  Queue q;
  std::thread consumer([&] {
    std::uint64_t sum = 0;
    for (int i = 0; i < kBatches; ++i) sum += drain(q.pop());
    g_sink += sum;
  });
  // kQueue + 2 arrays: at most kQueue queued, one being drained, one being filled.
  for (int i = 0; i < kBatches; ++i) {
    void **b = g_batches[i % (kQueue + 2)];
    fill(b, r);
    q.push(b);
  }
  consumer.join();
  return 2ull * kBatch * kBatches;
}

// ---- many small objects ----
constexpr int kSmallObjects = 100'000;
constexpr int kSmallRounds = 40;

std::uint64_t small_thread(unsigned seed) {
  Rng r{0xD1B54A32D192ED03ull * (seed + 1)};
  std::vector<void *> v(kSmallObjects);
  std::uint64_t sum = 0;
  for (int round = 0; round < kSmallRounds; ++round) {
    for (auto &p : v) {
      std::size_t n = 16 + r.next() % 49;
      p = std::malloc(n);
      touch(p, n);
    }
    for (auto p : v) {
      sum += *static_cast<unsigned char *>(p);
      std::free(p);
    }
  }
  g_sink += sum;
  return 2ull * kSmallObjects * kSmallRounds;
}

}  // namespace

int main(int argc, char **argv) {
  if (argc != 3) {
    std::fprintf(stderr, "usage: %s churn|prodcons|small THREADS(1|2|...)\n", argv[0]);
    return 2;
  }
  const char *w = argv[1];
  int threads = std::atoi(argv[2]);
  if (threads < 1 || threads > 64) return 2;
  if (std::strcmp(w, "prodcons") == 0 && threads > 2) return 2;

  auto t0 = std::chrono::steady_clock::now();
  std::uint64_t ops = 0;
  if (std::strcmp(w, "prodcons") == 0) {
    ops = prodcons(threads);
  } else {
    std::uint64_t (*fn)(unsigned);
    if (std::strcmp(w, "churn") == 0)
      fn = churn_thread;
    else if (std::strcmp(w, "small") == 0)
      fn = small_thread;
    else
      return 2;
    std::vector<std::thread> ts;
    std::vector<std::uint64_t> counts(static_cast<std::size_t>(threads));
    for (int i = 0; i < threads; ++i)
      ts.emplace_back([&, i] { counts[static_cast<std::size_t>(i)] = fn(static_cast<unsigned>(i)); });
    for (auto &t : ts) t.join();
    for (auto c : counts) ops += c;
  }
  double secs = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
  std::printf("%.0f\n", static_cast<double>(ops) / secs);
  return g_sink.load() == 42 ? 1 : 0;  // keep the sums alive
}

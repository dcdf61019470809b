# bench: write a deterministic ~50 MB text file of random lines for `sort`.
import random
import sys

r = random.Random(1)
target = int(sys.argv[2]) if len(sys.argv) > 2 else 50_000_000
n = 0
with open(sys.argv[1], "w") as f:
    while n < target:
        s = "%d %s\n" % (r.getrandbits(48), "x" * r.randrange(0, 40))
        f.write(s)
        n += len(s)

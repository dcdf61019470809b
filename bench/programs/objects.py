# bench: build and drop a million small objects (run with PYTHONMALLOC=malloc, so that every
# object is a malloc and the preloaded allocator serves it).
objs = [(i, str(i), [i]) for i in range(1_000_000)]
total = sum(len(o[1]) for o in objs)
del objs
d = {i: (i, i * 2) for i in range(300_000)}
del d
print(total)

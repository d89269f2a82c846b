import sys
from functools import lru_cache

sys.setrecursionlimit(10_000)


@lru_cache(maxsize=None)
def fib(n):
    return n if n < 2 else fib(n - 1) + fib(n - 2)


print("fib(300) =", fib(300))


def depth(node, children):
    return 1 + max((depth(c, children) for c in children.get(node, [])), default=0)


chain = {i: [i + 1] for i in range(2000)}
print("Depth of a 2000-node chain:", depth(0, chain))


def flatten(x):
    return [y for item in x for y in (flatten(item) if isinstance(item, list) else [item])]


nested = [1, [2, [3, [4, [5]]]], 6]
print("Flattened:", flatten(nested))

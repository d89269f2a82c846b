import numpy as np

rng = np.random.default_rng(seed=42)
print("Integers:", rng.integers(1, 7, size=10))
print("Uniform:", np.round(rng.random(4), 6))
normal = rng.normal(loc=100, scale=15, size=10_000)
print(f"Normal sample: mean={normal.mean():.3f} std={normal.std(ddof=1):.3f}")
print("Choice:", rng.choice(["red", "green", "blue"], size=6, p=[0.5, 0.3, 0.2]))
deck = np.arange(10)
rng.shuffle(deck)
print("Shuffled:", deck)
print("Permutation:", rng.permutation(8))
print("Poisson:", rng.poisson(3.5, size=8))
print("Binomial heads in 10 flips x5:", rng.binomial(10, 0.5, size=5))
boot = [rng.choice(normal, size=200).mean() for _ in range(500)]
lo, hi = np.percentile(boot, [2.5, 97.5])
print(f"Bootstrap 95% CI of the mean: [{lo:.2f}, {hi:.2f}]")
rolls = rng.integers(1, 7, size=(6000, 2)).sum(axis=1)
counts = np.bincount(rolls, minlength=13)[2:]
print("Two-dice sums 2..12:", counts)

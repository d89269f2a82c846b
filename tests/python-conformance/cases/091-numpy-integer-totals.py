import numpy as np

# "What's the sum of 1..100000, and of the squares up to 70000? Use numpy."
n = np.arange(1, 100_001)
total = n.sum()
print("Sum 1..100000:", total)
print("Matches n(n+1)/2:", total == 100_000 * 100_001 // 2)
squares = np.arange(1, 70_001) ** 2
print("Largest square:", squares.max())
print("Running total at the end:", np.cumsum(n)[-1])
print("20! =", np.prod(np.arange(1, 21)))

population = np.array([83_200_000, 67_800_000, 59_000_000, 47_400_000])
print("Total population:", population.sum())
print("Population x 100:", (population * 100).tolist())
print("Default integer type:", np.arange(3).dtype)

import numpy as np

data = np.array([23, 45, 12, 67, 34, 89, 21, 56, 43, 38, 90, 11, 65, 48, 52])
print("Mean:", data.mean())
print("Median:", np.median(data))
print("Std (population, sample):", round(data.std(), 4), round(data.std(ddof=1), 4))
print("Percentiles 25/50/75/90:", np.percentile(data, [25, 50, 75, 90]))
q1, q3 = np.percentile(data, [25, 75])
iqr = q3 - q1
print("IQR:", iqr, "outlier fences:", q1 - 1.5 * iqr, q3 + 1.5 * iqr)
hist, edges = np.histogram(data, bins=4)
for c, lo, hi in zip(hist, edges[:-1], edges[1:]):
    print(f"  [{lo:5.1f}, {hi:5.1f}) {'#' * c}")
print("Cumulative sum:", np.cumsum(data)[-5:])
print("Sorted top 3:", np.sort(data)[-3:][::-1], "at", np.argsort(data)[-3:][::-1])
x = np.arange(15)
print("Correlation with index:", round(np.corrcoef(x, data)[0, 1], 5))
print("Weighted average:", round(np.average(data, weights=np.linspace(1, 2, 15)), 4))
print("Unique after //10:", np.unique(data // 10, return_counts=True))

import numpy as np
from scipy import stats

hours = np.array([1, 2, 2.5, 3, 4, 4.5, 5, 6, 7, 8])
score = np.array([52, 55, 61, 60, 68, 70, 74, 79, 83, 91])
r, p = stats.pearsonr(hours, score)
print(f"Pearson r = {r:.4f}, p = {p:.2e}")
rho, p_s = stats.spearmanr(hours, score)
print(f"Spearman rho = {rho:.4f}, p = {p_s:.2e}")
tau = stats.kendalltau(hours, score)
print(f"Kendall tau = {tau.statistic:.4f}")
lr = stats.linregress(hours, score)
print(f"score = {lr.slope:.3f} * hours + {lr.intercept:.3f} (r^2 = {lr.rvalue**2:.4f}, stderr {lr.stderr:.4f})")
res = stats.pearsonr(hours, score)
ci = res.confidence_interval(confidence_level=0.95)
print(f"95% CI for r: [{ci.low:.4f}, {ci.high:.4f}]")
print("Strong positive:", r > 0.9)

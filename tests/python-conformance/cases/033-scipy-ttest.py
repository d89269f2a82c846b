import numpy as np
from scipy import stats

control = np.array([12.1, 11.8, 13.0, 12.6, 12.9, 11.5, 12.2, 12.8, 13.1, 12.0])
treated = np.array([13.2, 12.9, 14.1, 13.5, 12.8, 13.9, 14.3, 13.0, 13.7, 13.4])

t, p = stats.ttest_ind(treated, control)
print(f"Student t-test: t = {t:.4f}, p = {p:.6f}")
w = stats.ttest_ind(treated, control, equal_var=False)
print(f"Welch t-test:   t = {w.statistic:.4f}, p = {w.pvalue:.6f}, df = {w.df:.3f}")
ci = w.confidence_interval(0.95)
print(f"95% CI of the difference: [{ci.low:.3f}, {ci.high:.3f}]")

before = np.array([82, 90, 75, 88, 94, 70, 85])
after = np.array([85, 93, 78, 87, 99, 76, 88])
paired = stats.ttest_rel(after, before)
print(f"Paired: t = {paired.statistic:.4f}, p = {paired.pvalue:.5f}")
one = stats.ttest_1samp(control, popmean=12.0)
print(f"One-sample vs 12: t = {one.statistic:.4f}, p = {one.pvalue:.4f}")
u = stats.mannwhitneyu(treated, control, alternative="greater")
print(f"Mann-Whitney U = {u.statistic}, p = {u.pvalue:.6f}")
print("Significant at 5%:", p < 0.05)
d = (treated.mean() - control.mean()) / np.sqrt((treated.var(ddof=1) + control.var(ddof=1)) / 2)
print(f"Cohen's d = {d:.3f}")

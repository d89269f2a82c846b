import numpy as np
from scipy import stats

# Did the new landing page change the sign-up rate?
observed = np.array([[120, 880], [150, 850]])
chi2, p, dof, expected = stats.chi2_contingency(observed)
print(f"chi2 = {chi2:.4f}, p = {p:.5f}, dof = {dof}")
print("Expected counts:\n", np.round(expected, 2))
odds, p_fisher = stats.fisher_exact(observed)
print(f"Fisher exact: odds ratio {odds:.4f}, p = {p_fisher:.5f}")

dice = np.array([18, 22, 16, 25, 19, 20])
gof = stats.chisquare(dice)
print(f"Die fairness: chi2 = {gof.statistic:.3f}, p = {gof.pvalue:.4f}")

a = [85, 86, 88, 75, 78, 94, 98, 79, 71, 80]
b2 = [91, 92, 93, 85, 87, 84, 82, 88, 95, 96]
c = [79, 78, 88, 94, 92, 85, 83, 85, 82, 81]
f, p_anova = stats.f_oneway(a, b2, c)
print(f"ANOVA: F = {f:.4f}, p = {p_anova:.4f}")
h, p_kw = stats.kruskal(a, b2, c)
print(f"Kruskal-Wallis: H = {h:.4f}, p = {p_kw:.4f}")

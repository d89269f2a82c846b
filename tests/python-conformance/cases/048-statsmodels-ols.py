import numpy as np
import statsmodels.api as sm

rng = np.random.default_rng(2026)
n = 80
advertising = rng.uniform(10, 100, n)
price = rng.uniform(5, 15, n)
sales = 50 + 1.8 * advertising - 4.2 * price + rng.normal(0, 8, n)

X = sm.add_constant(np.column_stack([advertising, price]))
model = sm.OLS(sales, X).fit()
names = ["const", "advertising", "price"]
print("Coefficients:")
for name, b, se, p in zip(names, model.params, model.bse, model.pvalues):
    print(f"  {name:12s} {b:9.4f}  (se {se:.4f}, p {p:.3g})")
print(f"R-squared: {model.rsquared:.4f}, adjusted: {model.rsquared_adj:.4f}")
print(f"F-statistic: {model.fvalue:.2f}, p = {model.f_pvalue:.3g}")
print(f"AIC: {model.aic:.2f}, BIC: {model.bic:.2f}")
ci = model.conf_int(0.05)
print("95% CI for advertising:", np.round(ci[1], 4))
pred = model.get_prediction(np.array([[1, 60, 10]])).summary_frame(alpha=0.05)
print("Prediction at ad=60, price=10:", pred[["mean", "obs_ci_lower", "obs_ci_upper"]].round(3).to_dict("records"))
print("Durbin-Watson:", round(sm.stats.durbin_watson(model.resid), 4))

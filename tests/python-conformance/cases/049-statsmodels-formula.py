import pandas as pd
import statsmodels.formula.api as smf
from statsmodels.stats.anova import anova_lm

df = pd.read_csv("sales.csv")
df["revenue"] = df["units"] * df["unit_price"]
model = smf.ols("revenue ~ units + C(region)", data=df).fit()
print(model.params.round(4))
print()
print(model.pvalues.round(4))
print()
print(f"R2 = {model.rsquared:.4f}  n = {int(model.nobs)}  df_resid = {int(model.df_resid)}")
print()
table = anova_lm(model, typ=2)
print(table.round(4))
print()
logit_df = df.assign(big=(df["units"] > 20).astype(int))
logit = smf.logit("big ~ unit_price", data=logit_df).fit(disp=False)
print("Logit params:", logit.params.round(4).to_dict())
print("Pseudo R2:", round(logit.prsquared, 4))

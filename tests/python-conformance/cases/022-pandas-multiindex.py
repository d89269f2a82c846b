import pandas as pd

df = pd.read_csv("sales.csv", parse_dates=["date"])
df["revenue"] = (df["units"] * df["unit_price"]).round(2)
df["month"] = df["date"].dt.month_name()
g = df.groupby(["region", "month"], sort=True)["revenue"].sum().round(2)
print(g.head(8))
print()
wide = g.unstack("month", fill_value=0)[["January", "February", "March"]]
print(wide)
print()
print("North, February:", g.loc[("North", "February")])
print(g.xs("March", level="month"))
top = g.groupby(level="region", group_keys=False).nlargest(1)
print(top)

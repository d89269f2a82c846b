import pandas as pd

df = pd.read_csv("sales.csv")
print(df.columns.tolist())
# The model assumed a "revenue" column exists.
top = df.sort_values("units", ascending=False).head(3)
print(top[["order_id", "units"]])
print(df["revenue"].sum())

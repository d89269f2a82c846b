import pandas as pd

df = pd.read_csv("sales.csv")
df["size"] = pd.cut(df["units"], [0, 10, 25, 40], labels=["small", "medium", "large"])
ct = pd.crosstab(df["region"], df["size"], margins=True)
print(ct)
print()
print(pd.crosstab(df["region"], df["product"], normalize="index").round(2))
print()
print(pd.crosstab(df["product"], df["size"], values=df["units"], aggfunc="sum").fillna(0).astype(int))

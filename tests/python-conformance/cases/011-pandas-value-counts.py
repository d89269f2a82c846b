import pandas as pd

df = pd.read_csv("sales.csv")
print(df["product"].value_counts())
print()
print(df["region"].value_counts(normalize=True).round(3))
print()
print(df.value_counts(["region", "product"]).head(6))
print()
bins = pd.cut(df["units"], bins=[0, 10, 20, 30, 40])
print(bins.value_counts().sort_index())
print()
print("Unique products:", df["product"].nunique(), sorted(df["product"].unique()))

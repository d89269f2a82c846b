import pandas as pd

df = pd.read_csv("sales.csv")
df["revenue"] = df["units"] * df["unit_price"]
g = df.groupby("region")["revenue"]
df["region_share"] = (df["revenue"] / g.transform("sum") * 100).round(2)
df["z"] = ((df["revenue"] - g.transform("mean")) / g.transform("std")).round(3)
df["order_no"] = df.groupby("region").cumcount() + 1
df["running"] = g.cumsum().round(2)
print(df[["order_id", "region", "revenue", "region_share", "z", "order_no", "running"]].head(10).to_string(index=False))
print()
big = df.groupby("product").filter(lambda x: x["units"].sum() > 250)
print("Products over 250 units:", sorted(big["product"].unique()))
print(df.groupby("region").apply(lambda x: x.nlargest(1, "revenue"), include_groups=False)[["order_id", "revenue"]])
print()
outliers = df[df["z"].abs() > 1.5]
print("Outliers:", outliers[["order_id", "region", "revenue"]].to_dict("records"))

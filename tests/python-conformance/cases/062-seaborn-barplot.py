import matplotlib.pyplot as plt
import pandas as pd
import seaborn as sns

df = pd.read_csv("sales.csv")
df["revenue"] = df["units"] * df["unit_price"]
sns.set_theme(style="whitegrid")
fig, ax = plt.subplots(figsize=(7, 4), dpi=100)
sns.barplot(data=df, x="region", y="revenue", hue="product", estimator="sum", errorbar=None, ax=ax,
            order=["North", "South", "East", "West"])
ax.set_title("Revenue by region and product")
fig.savefig("revenue_by_region.png")

with open("revenue_by_region.png", "rb") as f:
    sig = f.read(8)
print("Valid PNG:", sig == b"\x89PNG\r\n\x1a\n")
print("Bars drawn:", len([p for p in ax.patches if p.get_height() > 0]))
print(df.groupby(["region", "product"])["revenue"].sum().unstack().round(1).to_string())

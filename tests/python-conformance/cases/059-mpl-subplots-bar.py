import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt
import pandas as pd
from PIL import Image

df = pd.read_csv("sales.csv")
df["revenue"] = df["units"] * df["unit_price"]
by_region = df.groupby("region")["revenue"].sum().sort_values()
by_product = df.groupby("product")["units"].sum()

fig, (ax1, ax2) = plt.subplots(1, 2, figsize=(10, 4), dpi=80)
ax1.barh(by_region.index, by_region.values, color="tab:blue")
ax1.set_title("Revenue by region")
for i, v in enumerate(by_region.values):
    ax1.text(v, i, f" {v:,.0f}", va="center")
by_product.plot.bar(ax=ax2, color=["#4c72b0", "#dd8452", "#55a868", "#c44e52"], rot=0)
ax2.set_title("Units by product")
fig.suptitle("Q1 2026 sales")
fig.tight_layout()
fig.savefig("sales_overview.png")

img = Image.open("sales_overview.png")
print("Format:", img.format, "size:", img.size, "mode:", img.mode)
print(by_region.round(2).to_string())

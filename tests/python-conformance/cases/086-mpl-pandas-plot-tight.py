import matplotlib.pyplot as plt
import pandas as pd

df = pd.read_csv("sales.csv", parse_dates=["date"])
df["revenue"] = df["units"] * df["unit_price"]
weekly = df.set_index("date").resample("W")["revenue"].sum()
ax = weekly.plot(kind="line", marker="o", figsize=(9, 4), title="Weekly revenue")
ax.set_ylabel("€")
ax.axhline(weekly.mean(), color="gray", linestyle=":", label=f"mean {weekly.mean():.0f}")
ax.legend()
plt.tight_layout()
plt.savefig("weekly_revenue.png", dpi=120, bbox_inches="tight")
plt.savefig("weekly_revenue.pdf")
df.pivot_table(index="region", columns="product", values="units", aggfunc="sum").plot.bar(stacked=True)
plt.savefig("stacked.png")

for name in ["weekly_revenue.png", "stacked.png"]:
    with open(name, "rb") as f:
        print(name, "is a PNG:", f.read(8) == b"\x89PNG\r\n\x1a\n")
with open("weekly_revenue.pdf", "rb") as f:
    print("PDF header:", f.read(5))
print("Weeks:", len(weekly), "best week:", weekly.idxmax().date(), round(weekly.max(), 2))

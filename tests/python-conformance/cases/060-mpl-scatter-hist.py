import matplotlib.pyplot as plt
import numpy as np

rng = np.random.default_rng(0)
x = rng.normal(170, 10, 400)
y = 0.9 * x - 85 + rng.normal(0, 6, 400)

fig, axes = plt.subplots(2, 2, figsize=(8, 8), dpi=75)
axes[0, 0].scatter(x, y, s=8, alpha=0.5)
m, b = np.polyfit(x, y, 1)
xs = np.linspace(x.min(), x.max(), 2)
axes[0, 0].plot(xs, m * xs + b, color="red")
axes[0, 0].set(title="Height vs weight", xlabel="cm", ylabel="kg")
counts, edges, _ = axes[0, 1].hist(x, bins=20, edgecolor="black")
axes[1, 0].boxplot([x - 170, y - y.mean()], tick_labels=["height", "weight"])
axes[1, 1].hexbin(x, y, gridsize=15, cmap="viridis")
fig.savefig("analysis.png")
fig.savefig("analysis.svg")
plt.close("all")

print("Slope:", round(m, 3), "Intercept:", round(b, 2))
print("Histogram total:", int(counts.sum()), "bins:", len(counts))
with open("analysis.png", "rb") as f:
    data = f.read()
print("PNG:", data[:8] == b"\x89PNG\r\n\x1a\n", "IHDR size:", int.from_bytes(data[16:20], "big"), "x", int.from_bytes(data[20:24], "big"))
print("SVG starts with XML:", open("analysis.svg").read(5) == "<?xml")

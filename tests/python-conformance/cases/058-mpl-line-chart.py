import struct

import matplotlib.pyplot as plt
import numpy as np

months = ["Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec"]
revenue = [12.1, 13.4, 12.9, 15.2, 16.8, 18.1, 17.5, 19.2, 18.7, 20.4, 22.0, 24.3]
costs = [10.2, 10.8, 11.1, 11.9, 12.4, 13.0, 13.3, 13.9, 14.2, 14.8, 15.1, 16.0]

fig, ax = plt.subplots(figsize=(8, 4.5), dpi=100)
ax.plot(months, revenue, marker="o", label="Revenue")
ax.plot(months, costs, marker="s", linestyle="--", label="Costs")
ax.fill_between(range(12), costs, revenue, alpha=0.15)
ax.set_title("Revenue vs costs 2026 (k€)")
ax.set_ylabel("k€")
ax.grid(alpha=0.3)
ax.legend()
fig.savefig("revenue.png")
plt.close(fig)

with open("revenue.png", "rb") as f:
    head = f.read(24)
print("PNG signature ok:", head[:8] == b"\x89PNG\r\n\x1a\n")
width, height = struct.unpack(">II", head[16:24])
print(f"Saved revenue.png: {width}x{height} pixels")
print("Profit margin Dec:", f"{(revenue[-1] - costs[-1]) / revenue[-1]:.1%}")

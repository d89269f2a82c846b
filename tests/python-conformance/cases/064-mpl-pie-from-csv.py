import matplotlib.pyplot as plt
import pandas as pd

df = pd.read_csv("sales.csv")
share = df.groupby("product")["units"].sum()
fig, ax = plt.subplots(figsize=(5, 5), dpi=100)
wedges, texts, autotexts = ax.pie(share, labels=share.index, autopct="%1.1f%%", startangle=90)
ax.set_title("Units sold by product")
fig.savefig("product_share.png", facecolor="white")
print("Slices:", [t.get_text() for t in texts])
print("Labels:", [t.get_text() for t in autotexts])

with open("product_share.png", "rb") as f:
    png = f.read()
ok = png.startswith(b"\x89PNG\r\n\x1a\n") and png[12:16] == b"IHDR"
print("PNG check:", ok, int.from_bytes(png[16:20], "big"), int.from_bytes(png[20:24], "big"))

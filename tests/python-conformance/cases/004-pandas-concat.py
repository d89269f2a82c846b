import pandas as pd

q1 = pd.DataFrame({"month": ["Jan", "Feb", "Mar"], "revenue": [12000, 13500, 12800]})
q2 = pd.DataFrame({"month": ["Apr", "May", "Jun"], "revenue": [14100, 15050, 16200]})
q3 = pd.DataFrame({"month": ["Jul", "Aug"], "revenue": [15800, 17025], "note": ["", "promo"]})

year = pd.concat([q1, q2, q3], ignore_index=True)
print(year)
print()
print("Total:", year["revenue"].sum())
print("Months with a note:", year["note"].notna().sum())

keyed = pd.concat({"Q1": q1, "Q2": q2}, names=["quarter", "row"])
print()
print(keyed)
print()

side = pd.concat([q1.set_index("month"), q2.set_index("month").rename(columns={"revenue": "rev_q2"})], axis=1)
print(side)

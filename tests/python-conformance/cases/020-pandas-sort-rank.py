import pandas as pd

df = pd.DataFrame({
    "team": ["Red", "Blue", "Green", "Gold", "Black", "White", "Teal"],
    "points": [42, 57, 57, 38, 61, 42, 50],
    "goal_diff": [5, 12, 9, -3, 20, 1, 4],
})
table = df.sort_values(["points", "goal_diff"], ascending=[False, False]).reset_index(drop=True)
table.index += 1
print(table)
print()
df["rank_min"] = df["points"].rank(method="min", ascending=False).astype(int)
df["rank_dense"] = df["points"].rank(method="dense", ascending=False).astype(int)
df["pct"] = df["points"].rank(pct=True).round(3)
print(df.sort_values(["rank_min", "team"]).to_string(index=False))
print()
print(df.nlargest(3, "points")[["team", "points"]].to_string(index=False))
print(df.nsmallest(2, "goal_diff")[["team", "goal_diff"]].to_string(index=False))

import pandas as pd

wide = pd.DataFrame({
    "country": ["Norway", "Spain", "Japan"],
    "2022": [5.43, 47.6, 125.1],
    "2023": [5.52, 48.3, 124.5],
    "2024": [5.59, 48.8, 123.9],
})
long = wide.melt(id_vars="country", var_name="year", value_name="population_m")
long["year"] = long["year"].astype(int)
print(long.sort_values(["country", "year"]).to_string(index=False))
print()

back = long.pivot(index="country", columns="year", values="population_m")
print(back)
print()

stacked = back.stack()
print(stacked.head(4))
print()
change = back.pct_change(axis="columns").mul(100).round(2).dropna(axis=1)
print(change)

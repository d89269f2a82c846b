import pandas as pd

df = pd.DataFrame({
    "date": pd.date_range("2026-01-01", periods=6, freq="MS"),
    "city": ["Oslo", "Bergen", "Oslo", "Tromsø", "Bergen", "Oslo"],
    "sales": [1200.5, 980.0, 1430.25, 610.0, 1005.75, 1510.0],
    "returned": [False, True, False, False, True, False],
})
df.to_csv("export.csv", index=False)
df.to_csv("export_semicolon.csv", sep=";", decimal=",", index=False)

print(open("export.csv", encoding="utf-8").read())
back = pd.read_csv("export.csv", parse_dates=["date"])
print(back.dtypes)
print("Equal after round trip:", back.equals(df))
eu = pd.read_csv("export_semicolon.csv", sep=";", decimal=",")
print(eu["sales"].sum())
chunks = [len(c) for c in pd.read_csv("export.csv", chunksize=4)]
print("Chunk sizes:", chunks)

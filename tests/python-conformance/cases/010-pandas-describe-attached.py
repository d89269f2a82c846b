import pandas as pd

df = pd.read_csv("sales.csv")
print("Shape:", df.shape)
print()
print(df.dtypes)
print()
print(df.head())
print()
print(df.describe().round(2))
print()
print(df.describe(include="object"))
print()
df.info()

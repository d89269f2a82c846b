import pandas as pd

print("Loading the data you uploaded...")
df = pd.read_csv("data.csv")
print(df.head())

import pandas as pd
from openpyxl import load_workbook

df = pd.DataFrame({
    "item": ["Laptop", "Monitor", "Keyboard", "Mouse"],
    "qty": [3, 5, 10, 12],
    "price": [1199.0, 229.5, 49.99, 19.95],
})
df["total"] = df["qty"] * df["price"]

with pd.ExcelWriter("inventory.xlsx", engine="openpyxl") as writer:
    df.to_excel(writer, sheet_name="Items", index=False)
    df.describe().round(2).to_excel(writer, sheet_name="Stats")

back = pd.read_excel("inventory.xlsx", sheet_name=None)
print("Sheets:", list(back))
print(back["Items"])
print("Round trip equal:", back["Items"].equals(df))

wb = load_workbook("inventory.xlsx")
ws = wb["Items"]
print("Dimensions:", ws.dimensions)
print("Header:", [c.value for c in ws[1]])
ws["F1"] = "checked"
wb.save("inventory.xlsx")
print("Cell F1 now:", load_workbook("inventory.xlsx")["Items"]["F1"].value)

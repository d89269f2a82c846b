import pandas as pd

df = pd.DataFrame({
    "Region": ["North", "South", "East", "West"],
    "Q1": [12500, 9800, 14300, 11050],
    "Q2": [13100, 10400, 13900, 12500],
})
df["Growth %"] = ((df["Q2"] - df["Q1"]) / df["Q1"] * 100).round(1)

with pd.ExcelWriter("report.xlsx", engine="xlsxwriter") as writer:
    df.to_excel(writer, sheet_name="Summary", index=False, startrow=1)
    book = writer.book
    sheet = writer.sheets["Summary"]
    title = book.add_format({"bold": True, "font_size": 14})
    money = book.add_format({"num_format": "#,##0"})
    sheet.write(0, 0, "Quarterly revenue", title)
    sheet.set_column("B:C", 12, money)
    sheet.conditional_format("D3:D6", {"type": "3_color_scale"})
    chart = book.add_chart({"type": "column"})
    chart.add_series({"name": "Q1", "categories": "=Summary!$A$3:$A$6", "values": "=Summary!$B$3:$B$6"})
    chart.add_series({"name": "Q2", "categories": "=Summary!$A$3:$A$6", "values": "=Summary!$C$3:$C$6"})
    sheet.insert_chart("F2", chart)

check = pd.read_excel("report.xlsx", skiprows=1)
print(check)
print("Best growth:", check.loc[check["Growth %"].idxmax(), "Region"])
with open("report.xlsx", "rb") as f:
    print("Zip signature ok:", f.read(4) == b"PK\x03\x04")

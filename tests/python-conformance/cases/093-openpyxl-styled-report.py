from openpyxl import Workbook, load_workbook
from openpyxl.chart import BarChart, Reference
from openpyxl.styles import Alignment, Font, PatternFill
from openpyxl.utils import get_column_letter

wb = Workbook()
ws = wb.active
ws.title = "Budget"
rows = [("Category", "Planned", "Actual"), ("Rent", 1200, 1200), ("Food", 450, 512.3),
        ("Transport", 120, 96.5), ("Fun", 200, 260.0)]
for r in rows:
    ws.append(r)
ws["D1"] = "Difference"
for i in range(2, len(rows) + 1):
    ws[f"D{i}"] = f"=C{i}-B{i}"
    ws[f"D{i}"].number_format = "#,##0.00"
ws.append(["Total", "=SUM(B2:B5)", "=SUM(C2:C5)", "=SUM(D2:D5)"])
for cell in ws[1]:
    cell.font = Font(bold=True, color="FFFFFF")
    cell.fill = PatternFill("solid", fgColor="4472C4")
    cell.alignment = Alignment(horizontal="center")
for col in range(1, 5):
    ws.column_dimensions[get_column_letter(col)].width = 14
ws.freeze_panes = "A2"
chart = BarChart()
chart.title = "Planned vs actual"
chart.add_data(Reference(ws, min_col=2, max_col=3, min_row=1, max_row=5), titles_from_data=True)
chart.set_categories(Reference(ws, min_col=1, min_row=2, max_row=5))
ws.add_chart(chart, "F2")
wb.save("budget.xlsx")

back = load_workbook("budget.xlsx")["Budget"]
print("Rows:", back.max_row, "Cols:", back.max_column, "Freeze:", back.freeze_panes)
print("Formulas:", [back[f"D{i}"].value for i in range(2, 7)])
print("Header bold:", back["A1"].font.b, "fill:", back["A1"].fill.fgColor.rgb)
print("Charts:", len(back._charts) if hasattr(back, "_charts") else "n/a")
over = [r[0] for r in rows[1:] if r[2] > r[1]]
print("Over budget:", over)

from pypdf import PdfReader
from reportlab.lib import colors
from reportlab.lib.pagesizes import A4
from reportlab.lib.styles import getSampleStyleSheet
from reportlab.platypus import Paragraph, SimpleDocTemplate, Spacer, Table, TableStyle

styles = getSampleStyleSheet()
doc = SimpleDocTemplate("report.pdf", pagesize=A4, title="Sales report")
data = [["Region", "Orders", "Revenue"], ["North", 11, "2,840.10"], ["South", 13, "3,310.55"], ["East", 9, "2,105.00"]]
table = Table(data)
table.setStyle(TableStyle([("BACKGROUND", (0, 0), (-1, 0), colors.lightgrey), ("GRID", (0, 0), (-1, -1), 0.5, colors.black)]))
doc.build([Paragraph("Q1 sales report", styles["Title"]), Spacer(1, 12),
           Paragraph("Revenue by region for the first quarter.", styles["Normal"]), Spacer(1, 12), table])

reader = PdfReader("report.pdf")
print("Pages:", len(reader.pages))
text = reader.pages[0].extract_text()
print("Title found:", "Q1 sales report" in text)
print("Lines with numbers:", [line for line in text.splitlines() if any(ch.isdigit() for ch in line)])
box = reader.pages[0].mediabox
print("Page size (pt):", round(float(box.width)), "x", round(float(box.height)))

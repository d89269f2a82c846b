import pandas as pd

staff = pd.read_excel("employees.xlsx", sheet_name="Staff")
budget = pd.read_excel("employees.xlsx", sheet_name="Budget")
print(staff)
print()
staff["Tenure years"] = ((pd.Timestamp("2026-12-01") - staff["Hire date"]).dt.days / 365.25).round(1)
summary = staff.groupby("Department").agg(headcount=("Name", "size"), payroll=("Salary", "sum"),
                                          avg_tenure=("Tenure years", "mean"))
summary = summary.join(budget.set_index("Department"))
summary["payroll % of budget"] = (summary["payroll"] / summary["Budget"] * 100).round(1)
summary["avg_tenure"] = summary["avg_tenure"].round(2)
print(summary)
print()
print("Longest serving:", staff.sort_values("Hire date").iloc[0]["Name"])

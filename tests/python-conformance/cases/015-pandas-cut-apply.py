import pandas as pd

scores = pd.DataFrame({
    "student": ["Ana", "Ben", "Cleo", "Dev", "Eli", "Fay", "Gus", "Hal"],
    "math": [88, 72, 95, 60, 79, 84, 55, 91],
    "reading": [92, 65, 89, 70, 85, 78, 62, 94],
})
scores["average"] = scores[["math", "reading"]].mean(axis=1)
scores["grade"] = pd.cut(scores["average"], bins=[0, 60, 70, 80, 90, 100], labels=list("FDCBA"), right=False)
scores["quartile"] = pd.qcut(scores["math"], 4, labels=["Q1", "Q2", "Q3", "Q4"])
scores["pass"] = scores.apply(lambda r: "yes" if min(r["math"], r["reading"]) >= 65 else "no", axis=1)
scores["initials"] = scores["student"].map(lambda s: s[0] + ".")
print(scores.to_string(index=False))
print()
print(scores.groupby("grade", observed=True)["student"].apply(list))
print()
print(scores.select_dtypes("number").corr().round(3))

from tabulate import tabulate

rows = [
    ["Python", 1991, 28.11, "Guido van Rossum"],
    ["Rust", 2015, 1.47, "Graydon Hoare"],
    ["Go", 2009, 2.2, "Griesemer, Pike, Thompson"],
    ["Julia", 2012, 0.33, "Bezanson et al."],
]
headers = ["Language", "Year", "Share %", "Creator"]
print(tabulate(rows, headers=headers, tablefmt="github"))
print()
print(tabulate(rows, headers=headers, tablefmt="grid", floatfmt=".1f"))
print()
print(tabulate([{"k": "a", "v": 1}, {"k": "bb", "v": 22.5}], headers="keys", tablefmt="simple"))
print()
print(tabulate(rows[:2], headers=headers, tablefmt="html"))

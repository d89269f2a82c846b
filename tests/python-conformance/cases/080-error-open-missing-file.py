import os

print("Files here:", sorted(os.listdir(".")))
with open("report.txt") as f:
    print(f.read())

data = {"north": [120, 80, 95], "south": [], "east": [60, 75]}
for region, values in data.items():
    avg = sum(values) / len(values)
    print(f"{region}: average {avg:.1f}")

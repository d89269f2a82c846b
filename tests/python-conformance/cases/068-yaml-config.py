import yaml

text = """
app:
  name: reporter
  version: 1.4
  debug: false
  features: [export, charts, email]
database:
  host: localhost
  port: 5432
  credentials: {user: admin, password: null}
schedules:
  - name: daily
    cron: "0 6 * * *"
  - name: weekly
    cron: "0 7 * * 1"
"""
cfg = yaml.safe_load(text)
print(cfg["app"]["name"], cfg["app"]["version"], type(cfg["app"]["version"]).__name__)
print("Features:", ", ".join(cfg["app"]["features"]))
print("Port + 1:", cfg["database"]["port"] + 1)
print("Password set:", cfg["database"]["credentials"]["password"] is not None)
cfg["app"]["debug"] = True
cfg["schedules"].append({"name": "monthly", "cron": "0 8 1 * *"})
out = yaml.safe_dump(cfg, sort_keys=False, default_flow_style=False)
print(out)
docs = list(yaml.safe_load_all("a: 1\n---\nb: [2, 3]\n"))
print(docs)
try:
    yaml.safe_load("key: [unclosed")
except yaml.YAMLError as e:
    print("YAML error:", type(e).__name__, str(e).splitlines()[0])

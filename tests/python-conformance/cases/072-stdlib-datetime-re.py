import calendar
import re
from datetime import date, datetime, timedelta

log = """2026-11-02 08:15:03 INFO user=alice action=login ip=10.0.0.12
2026-11-02 08:17:45 WARN user=bob action=upload size=15MB
2026-11-02 09:01:10 ERROR user=alice action=export code=E502
2026-11-03 10:22:00 INFO user=carol action=login ip=10.0.0.40
2026-11-03 11:05:59 ERROR user=bob action=login code=E401"""
pattern = re.compile(r"^(?P<ts>\S+ \S+) (?P<level>\w+) user=(?P<user>\w+) action=(?P<action>\w+)(?: (?P<extra>.*))?$", re.M)
events = [m.groupdict() for m in pattern.finditer(log)]
print("Parsed", len(events), "events")
errors = [e for e in events if e["level"] == "ERROR"]
print("Errors:", [(e["user"], re.search(r"code=(\w+)", e["extra"]).group(1)) for e in errors])
print("IPs:", re.findall(r"\b(?:\d{1,3}\.){3}\d{1,3}\b", log))
first = datetime.strptime(events[0]["ts"], "%Y-%m-%d %H:%M:%S")
last = datetime.strptime(events[-1]["ts"], "%Y-%m-%d %H:%M:%S")
print("Span:", last - first, "=", (last - first).total_seconds() / 3600, "hours")
print(re.sub(r"user=(\w+)", lambda m: "user=" + m.group(1)[0] + "***", log.splitlines()[0]))

d = date(2026, 12, 2)
print(d.isoformat(), d.strftime("%A %d %B %Y"), "week", d.isocalendar().week, "day", d.timetuple().tm_yday)
print("Next Friday:", d + timedelta(days=(4 - d.weekday()) % 7))
print("Days to New Year:", (date(2027, 1, 1) - d).days)
print("Leap years 2024-2032:", [y for y in range(2024, 2033) if calendar.isleap(y)])
print(calendar.month(2026, 2))
print(datetime.fromisoformat("2026-05-17T14:30:00+02:00").astimezone(tz=None).utcoffset() is not None)
print(datetime(2026, 1, 31) + timedelta(weeks=2, hours=36))

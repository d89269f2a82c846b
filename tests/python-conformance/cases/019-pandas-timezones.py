import pandas as pd
from zoneinfo import ZoneInfo
from datetime import datetime

meetings = pd.DataFrame({
    "title": ["Standup", "Review", "Planning", "Retro"],
    "utc": pd.to_datetime(["2026-03-27 08:00", "2026-03-30 14:30", "2026-10-23 16:00", "2026-10-26 09:15"], utc=True),
})
for tz in ["Europe/Berlin", "America/New_York", "Asia/Tokyo", "Australia/Sydney"]:
    meetings[tz.split("/")[1]] = meetings["utc"].dt.tz_convert(tz).dt.strftime("%a %H:%M %Z")
print(meetings.to_string(index=False))
print()
naive = pd.Timestamp("2026-03-29 02:30")
try:
    naive.tz_localize("Europe/Berlin")
except Exception as e:
    print(type(e).__name__, "->", e)
print(naive.tz_localize("Europe/Berlin", nonexistent="shift_forward"))
d = datetime(2026, 7, 1, 12, tzinfo=ZoneInfo("America/Los_Angeles"))
print(d.isoformat(), d.tzname(), d.utcoffset())

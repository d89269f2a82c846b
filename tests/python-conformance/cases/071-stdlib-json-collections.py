import json
from collections import Counter, OrderedDict, defaultdict, deque, namedtuple

text = """The quick brown fox jumps over the lazy dog. The dog sleeps; the fox runs.
A quick fox is a happy fox."""
words = [w.strip(".;,").lower() for w in text.split()]
counts = Counter(words)
print("Top words:", counts.most_common(4))
print("Distinct:", len(counts), "total:", sum(counts.values()))

by_letter = defaultdict(list)
for w in sorted(set(words)):
    by_letter[w[0]].append(w)
print(json.dumps(by_letter, sort_keys=True))

Point = namedtuple("Point", "x y")
pts = [Point(3, 4), Point(1, 1), Point(0, 5)]
print(sorted(pts, key=lambda p: p.x**2 + p.y**2))
last3 = deque(maxlen=3)
for i in range(7):
    last3.append(i)
print("Last three:", list(last3))
record = {"id": 7, "tags": ["a", "b"], "price": 9.5, "active": True, "meta": None}
s = json.dumps(record, indent=2)
print(s)
print(json.loads(s) == record)
print(json.dumps(OrderedDict(z=1, a=2)), json.dumps({"emoji": "café ☕"}), json.dumps({"emoji": "café ☕"}, ensure_ascii=False))
try:
    json.loads('{"a": 1,}')
except json.JSONDecodeError as e:
    print("JSON error:", e)

from jinja2 import Environment, StrictUndefined, UndefinedError

env = Environment(trim_blocks=True, lstrip_blocks=True, undefined=StrictUndefined)
env.filters["eur"] = lambda v: f"€{v:,.2f}"
tpl = env.from_string("""\
Invoice {{ number }} for {{ customer.name | title }}
{% for line in lines %}
{{ loop.index }}. {{ "%-12s" | format(line.item) }} {{ line.qty }} x {{ line.price | eur }}{% if line.qty > 5 %} (bulk){% endif %}

{% endfor %}
Total: {{ lines | sum(attribute='total') | eur }}
Items: {{ lines | map(attribute='item') | join(', ') }}
{% if customer.vip %}Thank you for being a VIP!{% else %}Join our VIP programme.{% endif %}
""")
lines = [
    {"item": "Paper", "qty": 10, "price": 4.5},
    {"item": "Stapler", "qty": 1, "price": 12.99},
    {"item": "Ink", "qty": 3, "price": 27.0},
]
for line in lines:
    line["total"] = line["qty"] * line["price"]
print(tpl.render(number="2026-0042", customer={"name": "ada lovelace", "vip": True}, lines=lines))
try:
    env.from_string("Hello {{ nobody }}").render()
except UndefinedError as e:
    print("UndefinedError:", e)
print(env.from_string("{{ text | wordcount }} words, {{ text | upper | truncate(12) }}").render(text="the quick brown fox jumps"))

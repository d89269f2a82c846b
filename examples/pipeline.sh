# A bash job of the kind an LLM writes: generate data, count with a pipeline, hand off to Python.
for i in $(seq 1 200); do echo "user$((i % 7)) $(( (i * 37) % 100 ))"; done > scores.txt
echo "Most active users:"
cut -d' ' -f1 scores.txt | sort | uniq -c | sort -rn | head -3
python3 - <<'PY'
import statistics
scores = [int(line.split()[1]) for line in open("scores.txt")]
print(f"{len(scores)} scores, mean {statistics.mean(scores):.1f}, median {statistics.median(scores)}")
PY

#!/bin/bash
printf '1\n2\n3\n' > a.txt
printf '2\n3\n4\n' > b.txt
diff <(sort a.txt) <(sort b.txt)
echo "diff status: $?"
comm -12 <(sort a.txt) <(sort b.txt)
paste <(seq 1 3) <(seq 4 6)

import hashlib
import random
import string
import uuid

random.seed(42)
print("Dice:", [random.randint(1, 6) for _ in range(10)])
print("Float:", round(random.random(), 12))
team = ["Ana", "Ben", "Cleo", "Dev", "Eli", "Fay"]
random.shuffle(team)
print("Shuffled:", team)
print("Sample:", random.sample(range(100), 5))
print("Choice:", random.choices(["A", "B", "C"], weights=[5, 3, 2], k=8))
print("Gauss:", round(random.gauss(0, 1), 10))
print("Password:", "".join(random.choice(string.ascii_letters + string.digits) for _ in range(12)))
rng = random.Random("seed-as-text")
print("String seed:", rng.randrange(1000))
print("UUID from random:", uuid.UUID(int=random.getrandbits(128), version=4))

data = "The quick brown fox".encode()
print("md5:", hashlib.md5(data).hexdigest())
print("sha256:", hashlib.sha256(data).hexdigest())
print("blake2b:", hashlib.blake2b(data, digest_size=16).hexdigest())
print("uuid5:", uuid.uuid5(uuid.NAMESPACE_DNS, "example.com"))

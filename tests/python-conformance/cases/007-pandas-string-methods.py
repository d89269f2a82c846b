import pandas as pd

raw = pd.DataFrame({
    "full_name": ["  alice SMITH", "Bob   jones ", "carla de la Cruz", "DAN o'brien", None],
    "email": ["Alice@Example.COM", "bob@example.org", "carla@mail.example.com", "dan@", "eve@example.com"],
    "phone": ["(555) 123-4567", "555.987.6543", "+1 555 222 3333", "n/a", "5550001111"],
})

df = raw.copy()
df["full_name"] = df["full_name"].str.strip().str.replace(r"\s+", " ", regex=True).str.title()
df["first"] = df["full_name"].str.split(" ").str[0]
df["email"] = df["email"].str.lower()
df["domain"] = df["email"].str.extract(r"@([\w.]+\.\w+)$", expand=False)
df["valid_email"] = df["email"].str.match(r"^[\w.+-]+@[\w-]+(\.[\w-]+)+$")
digits = df["phone"].str.replace(r"\D", "", regex=True).str[-10:]
df["phone"] = digits.where(digits.str.len() == 10).str.replace(r"(\d{3})(\d{3})(\d{4})", r"\1-\2-\3", regex=True)

print(df.to_string())
print()
print("Emails per domain:")
print(df["domain"].value_counts(dropna=False))
print("Names containing 'o':", df["full_name"].str.contains("o", case=False, na=False).sum())

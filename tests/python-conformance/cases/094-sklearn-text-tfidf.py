from sklearn.feature_extraction.text import CountVectorizer, TfidfVectorizer
from sklearn.naive_bayes import MultinomialNB
from sklearn.pipeline import make_pipeline

train = [
    "refund my order please", "the package arrived broken", "I want my money back",
    "love the product, works great", "fast delivery and great quality", "excellent support, thank you",
    "item was damaged and late", "very happy with this purchase",
]
labels = ["complaint", "complaint", "complaint", "praise", "praise", "praise", "complaint", "praise"]
model = make_pipeline(TfidfVectorizer(), MultinomialNB())
model.fit(train, labels)
tests = ["my order arrived damaged", "great product, thank you", "money back now"]
for text, label in zip(tests, model.predict(tests)):
    print(f"{label:9s} <- {text}")
probs = model.predict_proba(tests)
print("Classes:", list(model.classes_))
print("Probabilities:", probs.round(3).tolist())
vec = model.named_steps["tfidfvectorizer"]
print("Vocabulary size:", len(vec.vocabulary_))
print("First terms:", list(vec.get_feature_names_out()[:8]))
counts = CountVectorizer(ngram_range=(1, 2), min_df=2).fit(train)
print("Frequent unigrams/bigrams:", list(counts.get_feature_names_out()))

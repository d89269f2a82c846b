from bs4 import BeautifulSoup

html = """
<html><head><title>Quarterly Report</title></head>
<body>
  <h1 id="top">Results</h1>
  <p class="lead">Revenue grew <b>12%</b> year over year.</p>
  <table id="kpi">
    <tr><th>Metric</th><th>Q1</th><th>Q2</th></tr>
    <tr><td>Users</td><td>1,200</td><td>1,450</td></tr>
    <tr><td>Churn</td><td>3.1%</td><td>2.7%</td></tr>
  </table>
  <ul class="links">
    <li><a href="/docs/intro">Intro</a></li>
    <li><a href="https://example.com/blog" class="ext">Blog</a></li>
    <li><a>Missing link</a></li>
  </ul>
</body></html>
"""
soup = BeautifulSoup(html, "html.parser")
print("Title:", soup.title.string)
print("Lead:", soup.find("p", class_="lead").get_text(strip=True))
rows = []
for tr in soup.select("#kpi tr")[1:]:
    rows.append([td.get_text() for td in tr.find_all("td")])
print("Table rows:", rows)
print("Links:", [(a.get_text(), a.get("href")) for a in soup.find_all("a")])
print("External:", [a["href"] for a in soup.select("a.ext")])
soup.find("b").string = "15%"
print(soup.find("p"))
lx = BeautifulSoup(html, "lxml")
print("lxml parser headers:", [th.text for th in lx.select("table th")])

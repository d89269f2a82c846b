from lxml import etree, html

xml = b"""<?xml version="1.0"?>
<catalog xmlns:p="urn:prices">
  <book id="b1" lang="en"><title>Python Basics</title><p:price currency="EUR">29.90</p:price><year>2021</year></book>
  <book id="b2" lang="de"><title>Datenanalyse</title><p:price currency="EUR">39.00</p:price><year>2023</year></book>
  <book id="b3" lang="en"><title>Machine Learning</title><p:price currency="USD">54.50</p:price><year>2024</year></book>
</catalog>"""
root = etree.fromstring(xml)
ns = {"p": "urn:prices"}
print("Titles:", root.xpath("//book/title/text()"))
print("English after 2022:", root.xpath("//book[@lang='en' and year > 2022]/@id"))
total = sum(float(p) for p in root.xpath("//p:price[@currency='EUR']/text()", namespaces=ns))
print("EUR total:", round(total, 2))
new = etree.SubElement(root, "book", id="b4", lang="fr")
etree.SubElement(new, "title").text = "Statistique"
print("Books now:", len(root.findall("book")))
print(etree.tostring(new, encoding="unicode"))

page = html.fromstring("<div><p class='x'>one</p><p>two <span>three</span></p><a href='/a'>A</a></div>")
print("Paragraph texts:", [p.text_content() for p in page.xpath("//p")])
print("Class x:", [e.text for e in page.find_class("x")])
print("Links:", list(page.iterlinks())[0][2])

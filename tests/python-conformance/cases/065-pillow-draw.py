from PIL import Image, ImageDraw, ImageFilter, ImageOps

img = Image.new("RGB", (320, 200), "white")
d = ImageDraw.Draw(img)
d.rectangle([20, 20, 140, 120], fill=(30, 120, 200), outline="black", width=3)
d.ellipse([160, 40, 300, 180], fill=(240, 90, 60))
d.line([(0, 199), (319, 0)], fill="green", width=2)
d.text((24, 140), "nestbox", fill="black")
img.save("shapes.png")

print("size:", img.size, "mode:", img.mode)
print("pixel at (50, 50):", img.getpixel((50, 50)))
print("pixel at (230, 110):", img.getpixel((230, 110)))
gray = ImageOps.grayscale(img)
print("gray mode:", gray.mode, "histogram bins:", len(gray.histogram()))
thumb = img.copy()
thumb.thumbnail((100, 100))
print("thumbnail:", thumb.size)
blurred = img.filter(ImageFilter.GaussianBlur(2))
rot = img.rotate(90, expand=True)
print("rotated:", rot.size)
img.resize((160, 100)).save("small.jpg", quality=85)
with Image.open("small.jpg") as j:
    print("jpeg:", j.format, j.size)
with Image.open("shapes.png") as p:
    print("reloaded:", p.format, p.size, p.getbbox())
colors = sorted(img.getcolors(maxcolors=100000), reverse=True)[:2]
print("two most common colours:", colors)

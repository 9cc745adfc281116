"""create.py NAME FILE|-: conn.image.create_image, with FILE uploaded (and
waited for) or without data ('-')."""
from sdkcommon import args, connect, image_view, out

name, path = args(2)
conn = connect()
if path == "-":
    img = conn.image.create_image(name, disk_format="raw", container_format="bare", min_ram=128)
else:
    img = conn.image.create_image(name, filename=path, disk_format="raw", container_format="bare",
                                  wait=True, timeout=60)
out(image_view(conn.image.get_image(img.id)))

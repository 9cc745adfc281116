"""importimage.py glance-direct NAME FILE | web-download NAME URL: the
interoperable import, staged from a file or fetched by the service."""
from sdkcommon import args, connect, out

method, name, source = args(3)
conn = connect()
if method == "glance-direct":
    img = conn.image.create_image(name, filename=source, disk_format="raw", container_format="bare",
                                  use_import=True)
else:
    img = conn.image.create_image(name, disk_format="raw", container_format="bare")
    conn.image.import_image(img, method=method, uri=source)
out({"id": img.id})

"""upload.py ID FILE: upload FILE into the existing queued image ID."""
from sdkcommon import args, connect, image_view, out

image_id, path = args(2)
conn = connect()
img = conn.image.get_image(image_id)
with open(path, "rb") as f:
    img.data = f
    img.upload(conn.image)
out(image_view(conn.image.get_image(image_id)))

"""delete.py ID: delete_image, which must find the image."""
from sdkcommon import args, connect, out

(image_id,) = args(1)
conn = connect()
conn.image.delete_image(image_id, ignore_missing=False)
out({"deleted": image_id})

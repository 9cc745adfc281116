"""download.py ID PATH: download_image into PATH."""
from sdkcommon import args, connect, out

image_id, path = args(2)
conn = connect()
conn.image.download_image(image_id, output=path)
out({"path": path})

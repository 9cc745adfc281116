"""deactivate.py ID: deactivate, read the status, reactivate, read it."""
from sdkcommon import args, connect, out

(image_id,) = args(1)
conn = connect()
conn.image.deactivate_image(image_id)
deactivated = conn.image.get_image(image_id).status
conn.image.reactivate_image(image_id)
out({"deactivated": deactivated, "reactivated": conn.image.get_image(image_id).status})

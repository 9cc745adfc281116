"""update.py ID NEWNAME: update_image (JSON patch) of name, a property,
min_disk, protected and hidden."""
from sdkcommon import args, connect, image_view, out

image_id, name = args(2)
conn = connect()
conn.image.update_image(image_id, name=name, hw_disk_bus="scsi", min_disk=5, is_protected=True,
                        is_hidden=True)
out(image_view(conn.image.get_image(image_id)))

"""tags.py ID: add the tags gold and fast, remove gold."""
from sdkcommon import args, connect, out

(image_id,) = args(1)
conn = connect()
conn.image.add_tag(image_id, "gold")
conn.image.add_tag(image_id, "fast")
after_add = sorted(conn.image.get_image(image_id).tags)
conn.image.remove_tag(image_id, "gold")
out({"after_add": after_add, "after_remove": sorted(conn.image.get_image(image_id).tags)})

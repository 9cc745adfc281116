"""list.py TAG: list the images with TAG a page of one image at a time
(openstacksdk follows the next links), sorted on two keys; then the images
after the first one (marker) in ascending name order. (openstacksdk 0.101
refuses custom property filters in images(), so the filter is a tag.)"""
from sdkcommon import args, connect, out

(tag,) = args(1)
conn = connect()
desc = list(conn.image.images(tag=tag, sort="name:desc,created_at:asc", limit=1))
asc = list(conn.image.images(tag=tag, sort_key="name", sort_dir="asc"))
after = list(conn.image.images(tag=tag, sort_key="name", sort_dir="asc", marker=asc[0].id, limit=1))
out({"desc": [i.name for i in desc], "after_first": [i.name for i in after]})

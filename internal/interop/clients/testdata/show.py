"""show.py ID NAME: get_image by id and find_image by name (what
conn.create_image, Ansible and `openstack image show NAME` do)."""
from sdkcommon import args, connect, image_view, out

image_id, name = args(2)
conn = connect()
by_id = conn.image.get_image(image_id)
by_name = conn.image.find_image(name, ignore_missing=False)
out({"by_id": image_view(by_id), "by_name": image_view(by_name)})

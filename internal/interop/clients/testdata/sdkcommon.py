"""Shared by the openstacksdk scenario scripts: connect from the OS_*
environment the Go test sets, and print one JSON line for the test."""
import json
import sys

import openstack


def connect():
    return openstack.connect()


def out(obj):
    print(json.dumps(obj, default=str))


def image_view(img):
    """The fields the tests compare, as openstacksdk's Image model has them."""
    return {"id": img.id, "name": img.name, "status": img.status, "size": img.size,
            "checksum": img.checksum, "disk_format": img.disk_format,
            "min_disk": img.min_disk, "is_protected": img.is_protected,
            "is_hidden": img.is_hidden, "tags": sorted(img.tags or []),
            "owner": img.owner_id, "hw_disk_bus": img.hw_disk_bus}


def args(n):
    if len(sys.argv) != n + 1:
        sys.exit("usage: %s takes %d arguments" % (sys.argv[0], n))
    return sys.argv[1:]

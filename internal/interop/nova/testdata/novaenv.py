"""Nova's real code, configured in-process for one RBD compute node.

Only libvirt is left out: nothing here connects to it. The settings are
the ones a compute node with images_type=rbd has; they come from a JSON
document (argv[1]) the Go test writes.
"""
import json
import sys

from oslo_config import cfg

import nova.conf
from nova import config
from nova import context as nova_context
from nova import objects

CONF = nova.conf.CONF


def setup():
    """Reads the test's JSON settings and configures Nova with them."""
    args = json.loads(sys.argv[1])
    config.parse_args([sys.argv[0]], default_config_files=[])
    objects.register_all()
    CONF.set_override('api_servers', [args['image_url']], group='glance')
    CONF.set_override('num_retries', 0, group='glance')
    CONF.set_override('images_type', 'rbd', group='libvirt')
    CONF.set_override('images_rbd_pool', args['pool'], group='libvirt')
    CONF.set_override('images_rbd_ceph_conf', args['ceph_conf'], group='libvirt')
    CONF.set_override('rbd_user', args['rbd_user'], group='libvirt')
    CONF.set_override('instances_path', args['instances_path'])
    CONF.set_override('lock_path', args['instances_path'], group='oslo_concurrency')
    return args


def request_context(args):
    """A request context carrying the test's token, as nova-compute has."""
    return nova_context.RequestContext(
        user_id='nova-interop', project_id=args.get('project', 'p1'),
        auth_token=args['token'], roles=args.get('roles', ['admin']))


def emit(doc):
    """Prints the one JSON line the Go test reads."""
    json.dump(doc, sys.stdout, default=str)
    sys.stdout.write('\n')
    sys.stdout.flush()

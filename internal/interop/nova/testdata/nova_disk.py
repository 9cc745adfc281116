"""Makes an instance's root disk the way nova-compute does on an RBD node:
LibvirtDriver._create_and_inject_local_root, that is Rbd.clone from the
image's locations, falling back to images.fetch_to_raw and `rbd import`,
then a resize to the flavor's root_gb. Only libvirt is left out: the
driver object is made without __init__ (which connects to libvirt) and is
given the image backend __init__ would have made."""
import novaenv

from oslo_concurrency import processutils

import nova.privsep
from nova import objects
from nova.virt.libvirt import driver
from nova.virt.libvirt import imagebackend


def instance(args):
    """A real Instance object, in memory only (no database)."""
    flavor = objects.Flavor(name='interop', root_gb=args['root_gb'],
                            ephemeral_gb=0, swap=0, memory_mb=512, vcpus=1,
                            extra_specs={})
    return objects.Instance(
        uuid=args['instance_uuid'], flavor=flavor, task_state=None,
        vm_state='building', config_drive='', launched_at=None,
        image_ref=args['image_id'], trusted_certs=None,
        migration_context=None,
        system_metadata={}, metadata={})


def main():
    args = novaenv.setup()
    # qemu-img convert runs through privsep; this process is root already,
    # so it runs in-process instead of through a privsep-helper daemon.
    nova.privsep.sys_admin_pctxt.set_client_mode(False)
    ctx = novaenv.request_context(args)
    drv = driver.LibvirtDriver.__new__(driver.LibvirtDriver)
    drv.image_backend = imagebackend.Backend(False)
    mapping = {'disk': {'bus': 'virtio', 'dev': 'vda', 'type': 'disk'}}
    made = drv._create_and_inject_local_root(
        ctx, instance(args), mapping, False, '',
        {'image_id': args['image_id']}, None, None)
    backend = drv.image_backend.by_name(instance(args), 'disk')
    novaenv.emit({'created': made, 'name': backend.rbd_name,
                  'pool': backend.driver.pool,
                  'size': backend.get_disk_size(backend.rbd_name)})


if __name__ == '__main__':
    try:
        main()
    except processutils.ProcessExecutionError as e:
        raise SystemExit('command failed: %s' % e)

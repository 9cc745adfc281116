"""nova.image.glance.API().get(ctx, id, include_locations=True), as
imagebackend.Rbd.clone calls it; prints what Nova sees."""
import novaenv

from nova.image import glance


def main():
    args = novaenv.setup()
    ctx = novaenv.request_context(args)
    image = glance.API().get(ctx, args['image_id'], include_locations=True)
    novaenv.emit({
        'id': image.get('id'),
        'status': image.get('status'),
        'disk_format': image.get('disk_format'),
        'size': image.get('size'),
        'locations': image.get('locations'),
        'direct_url': image.get('direct_url'),
    })


if __name__ == '__main__':
    main()

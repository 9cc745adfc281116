"""members.py add|accept|list|remove ID MEMBER: one member operation, run
as the owner (add, list, remove) or as the member project (accept)."""
from sdkcommon import args, connect, out

op, image_id, member = args(3)
conn = connect()
if op == "add":
    m = conn.image.add_member(image_id, member=member)
elif op == "accept":
    m = conn.image.update_member(member, image_id, status="accepted")
elif op == "remove":
    conn.image.remove_member(member, image_id, ignore_missing=False)
    m = None
elif op == "list":
    out([{"member_id": m.member_id, "status": m.status} for m in conn.image.members(image_id)])
    raise SystemExit(0)
else:
    raise SystemExit("unknown operation " + op)
out(None if m is None else {"member_id": m.member_id, "status": m.status})

"""moto_server with four speed-ups that change no answer (irflow's launcher).

internal/mototest runs this file with the interpreter of the virtualenv that
holds moto (requirements.txt pins moto[server]==5.2.5) instead of its
moto_server script. Under `make stress` moto is the bottleneck (one Python
process for 200 concurrent executions); a profile of a stress run (py-spy)
put a third of its time, and after the first three a fifth more, in work
that AWS does not do:

1. DynamoDB Query on a table's own key read every item of the table and
   sorted them (moto's Table.query calls Table.all_items, which sorts all
   items, then keeps those of the partition): O(n log n) per query, so the
   audit chain's head reads grew with every case in the table. Here a
   Query on the table (no index) sees only its partition's items, the ones
   query's own filter (item.hash_key == hash_key) would keep; query then
   sorts and pages them as before.
2. The dispatcher listed moto's package folder on disk for every request
   (backends.list_of_moto_modules): the installed package does not change
   while the server runs, so the list is read once.
3. werkzeug logged every request to stderr, which nobody reads.
4. An EC2 resource's tags (every Describe answer carries them) were found
   by scanning every tag of the region (TaggedEC2Resource.get_tags asks
   TagBackend.describe_tags for resource-id = its id): here one exact id
   reads that resource's tags directly, the same list the scan keeps.

Each patch checks that what it replaces is there; when moto changes (a new
pin), the launcher says which patch it could not apply and runs moto as is,
correct but slower.
"""

import functools
import logging
import sys
import threading


def _patch_query():
    import inspect

    from moto.dynamodb.models.table import Table

    # The wrapper finds index_name by position: fail (run unpatched) when
    # the signature moved.
    params = list(inspect.signature(Table.query).parameters)
    want = ["self", "hash_key", "range_comparison", "range_objs", "limit", "exclusive_start_key",
            "scan_index_forward", "projection_expressions", "index_name"]
    if params[:len(want)] != want:
        raise RuntimeError(f"Table.query takes {params}, not {want}...")
    if not callable(getattr(Table, "all_items", None)):
        raise RuntimeError("Table.all_items is gone")
    orig_query = Table.query
    orig_all_items = Table.all_items
    local = threading.local()

    def all_items(self):
        part = getattr(local, "partition", None)
        if part is None or part[0] is not self:
            return orig_all_items(self)
        hash_key = part[1]
        if hash_key not in self.items:  # a defaultdict: .get, never create
            return []
        hash_set = self.items[hash_key]
        # Table.query sorts what it keeps by the sort key afterwards.
        return list(hash_set.values()) if self.range_key_attr else [hash_set]

    @functools.wraps(orig_query)
    def query(self, hash_key, *args, **kwargs):
        index_name = kwargs.get("index_name")
        if index_name is None and len(args) >= 7:
            index_name = args[6]
        if index_name or hash_key is None:
            return orig_query(self, hash_key, *args, **kwargs)
        local.partition = (self, hash_key)
        try:
            return orig_query(self, hash_key, *args, **kwargs)
        finally:
            local.partition = None

    Table.all_items = all_items
    Table.query = query


def _patch_ec2_tags():
    import inspect

    from moto.ec2.models import tags as tagmod

    TagBackend = tagmod.TagBackend
    if list(inspect.signature(TagBackend.describe_tags).parameters) != ["self", "filters"]:
        raise RuntimeError("TagBackend.describe_tags changed its parameters")
    to_resource, prefix = tagmod.EC2_PREFIX_TO_RESOURCE, tagmod.get_prefix
    orig = TagBackend.describe_tags

    @functools.wraps(orig)
    def describe_tags(self, filters=None):
        ids = (filters or {}).get("resource-id") or []
        if filters and list(filters) == ["resource-id"] and len(ids) == 1 and not any(c in ids[0] for c in "*?[\\"):
            # What the scan keeps for one exact id (its pattern is anchored
            # at both ends): that resource's tags, in their order.
            rid = ids[0]
            tags = self.tags[rid] if rid in self.tags else {}  # a defaultdict: never create
            rtype = to_resource.get(prefix(rid), "")
            return [{"resource_id": rid, "key": k, "value": v, "resource_type": rtype} for k, v in list(tags.items())]
        return orig(self, filters)

    TagBackend.describe_tags = describe_tags


def _patch_module_list():
    from moto import backends

    orig = backends.list_of_moto_modules
    modules = tuple(orig())
    backends.list_of_moto_modules = lambda: iter(modules)


def _quiet_requests():
    logging.getLogger("werkzeug").setLevel(logging.WARNING)


PATCHES = (("dynamodb-query-partition", _patch_query),
           ("ec2-tags-of-one-resource", _patch_ec2_tags),
           ("module-list-once", _patch_module_list),
           ("quiet-request-log", _quiet_requests))


def main():
    # --check: apply every patch and exit 0, or 1 naming what failed
    # (internal/mototest's test runs it against the pinned moto).
    check = sys.argv[1:] == ["--check"]
    failed = []
    for name, patch in PATCHES:
        try:
            patch()
        except Exception as e:  # moto changed: run it unpatched
            failed.append(name)
            print(f"irflow moto launcher: {name} not applied ({e!r}); moto runs as is", file=sys.stderr)
    if check:
        sys.exit(1 if failed else 0)
    from moto.server import main as moto_main

    moto_main(sys.argv[1:])


if __name__ == "__main__":
    main()

"""Drives squall's Nimbus server with streamparse 5.0.1's own client code
(thriftpy2, framed transport, binary protocol), as `sparse submit`, `sparse
list` and `sparse kill` call it. Run by TestPythonStreamparseClient:

    $SQUALL_PYTHON client.py PORT WORKDIR

Prints one JSON object per step on stdout for the Go test to check.
"""

import json
import os
import sys
import zipfile

from streamparse import Bolt, Grouping, JavaSpout, Spout, Topology
from streamparse.cli.kill import kill_topology
from streamparse.cli.list import list_topologies
from streamparse.cli.submit import _kill_existing_topology, _submit_topology, _upload_jar
from streamparse.thrift import AlreadyAliveException, InvalidTopologyException, NotAliveException
from streamparse.util import get_nimbus_client, nimbus_storm_version


class WordSpout(Spout):
    outputs = ["word"]


class WordCountBolt(Bolt):
    outputs = ["word", "count"]


WordSpout.__module__ = "spouts.words"
WordCountBolt.__module__ = "bolts.wordcount"


class WordCount(Topology):
    word_spout = WordSpout.spec()
    count_bolt = WordCountBolt.spec(inputs={word_spout: Grouping.fields("word")}, par=2)


class Pixels(Topology):
    pixel_spout = JavaSpout.spec(name="pixel-spout", full_class_name="pixelcount.spouts.PixelSpout",
                                 args_list=[], outputs=["pixel"])
    count = WordCountBolt.spec(inputs=[pixel_spout])


def step(name, **kw):
    print(json.dumps(dict(step=name, **kw)), flush=True)


def main():
    port, work = int(sys.argv[1]), sys.argv[2]
    jar = os.path.join(work, "wordcount.jar")
    with zipfile.ZipFile(jar, "w") as z:  # the layout of `lein jar` (spec §2.5)
        z.writestr("META-INF/MANIFEST.MF", "Manifest-Version: 1.0\n")
        z.writestr("resources/spouts/words.py", "class WordSpout: pass\n")
        z.writestr("resources/bolts/wordcount.py", "class WordCountBolt: pass\n")
        z.writestr("resources/bolts/big.bin", os.urandom(400_000))  # two chunks
    config_file = os.path.join(work, "config.json")
    with open(config_file, "w") as f:
        json.dump({"serializer": "json", "topology_specs": "topologies/", "virtualenv_specs": "virtualenvs/",
                   "envs": {"prod": {"nimbus": f"127.0.0.1:{port}", "use_ssh_for_nimbus": False, "workers": ["node1"]}}}, f)

    client = get_nimbus_client(host="127.0.0.1", port=port, timeout=7000)
    step("version", version=str(nimbus_storm_version(client)))
    conf = json.loads(client.getNimbusConf())
    step("conf", log_dir=conf["storm.log.dir"])

    loc = _upload_jar(client, jar)
    options = {"topology.workers": 1, "topology.acker.executors": 1, "sudo_user": None,
               "storm.workers.list": ["node1"], "topology.original_name": "wordcount"}
    _submit_topology("wordcount", WordCount, loc, {"serializer": "json"}, {}, client, options=options, active=True)
    step("submitted", location=loc)

    # A second submit without -f: Storm's client-side "invalid name", or the
    # typed AlreadyAliveException when the name check is skipped.
    loc2 = _upload_jar(client, jar)
    try:
        _submit_topology("wordcount", WordCount, loc2, {}, {}, client, options=options)
        step("resubmit", error=None)
    except ValueError as e:
        step("resubmit", error=str(e))
    try:
        client.submitTopology("wordcount", loc2, "{}", WordCount.thrift_topology)
    except AlreadyAliveException as e:
        step("already_alive", msg=e.msg)

    list_topologies("prod", timeout=7000, config_file=open(config_file))  # sparse list, printed on stdout
    step("listed")

    # sparse submit -f: kill, poll until gone, submit.
    _kill_existing_topology("wordcount", True, 1, client)
    loc3 = _upload_jar(client, jar)
    _submit_topology("wordcount", WordCount, loc3, {"serializer": "json"}, {}, client, options=options, active=False)
    step("forced")

    try:
        loc4 = _upload_jar(client, jar)
        _submit_topology("pixels", Pixels, loc4, {"serializer": "json"}, {}, client, options=options)
    except InvalidTopologyException as e:
        step("java", msg=e.msg)

    kill_topology("wordcount", "prod", wait=2, timeout=7000, config_file=open(config_file))  # sparse kill
    step("killed")
    try:
        client.killTopologyWithOpts("nope", None)
    except NotAliveException as e:
        step("not_alive", msg=e.msg)


if __name__ == "__main__":
    main()

"""Drives a node's Nimbus API (node --nimbus) with streamparse 5.0.1's own
client code, as `sparse submit`, `sparse list` and `sparse kill` call it.
Run by TestNodeNimbusServesStreamparse, one step per run:

    $SQUALL_PYTHON nimbus_client.py submit|force|list|kill PORT WORKDIR

submit writes a tiny streamparse project (a word spout and a counting bolt
in src/), packs src/ as `lein jar` does (under resources/), uploads it and
submits it; force is `sparse submit -f -i`: it kills the running one, waits
until it is gone and submits it inactive. Prints one JSON object per step on stdout for the Go test.
"""

import json
import os
import sys
import zipfile

from streamparse.cli.kill import kill_topology
from streamparse.cli.list import list_topologies
from streamparse.cli.submit import _kill_existing_topology, _submit_topology, _upload_jar
from streamparse.thrift import ShellComponent
from streamparse.util import get_nimbus_client

SPOUT = '''import itertools

from streamparse import Spout


class WordSpout(Spout):
    outputs = ["word"]

    def initialize(self, stormconf, context):
        self.words = itertools.cycle(["dog", "cat", "zebra", "elephant"])
        self.n = 0

    def next_tuple(self):
        self.n += 1
        self.emit([next(self.words)], tup_id=self.n)
'''

BOLT = '''from collections import Counter

from streamparse import Bolt


class WordCountBolt(Bolt):
    outputs = ["word", "count"]

    def initialize(self, conf, ctx):
        self.counts = Counter()

    def process(self, tup):
        word = tup.values[0]
        self.counts[word] += 1
        self.emit([word, self.counts[word]])
'''


def step(name, **kw):
    print(json.dumps(dict(step=name, **kw)), flush=True)


def write_project(work):
    src = os.path.join(work, "src")
    files = {"spouts/__init__.py": "", "spouts/words.py": SPOUT, "bolts/__init__.py": "", "bolts/wordcount.py": BOLT}
    for rel, text in files.items():
        path = os.path.join(src, rel)
        os.makedirs(os.path.dirname(path), exist_ok=True)
        with open(path, "w") as f:
            f.write(text)
    jar = os.path.join(work, "wordcount.jar")
    with zipfile.ZipFile(jar, "w") as z:  # the layout of `lein jar` (spec §2.5)
        z.writestr("META-INF/MANIFEST.MF", "Manifest-Version: 1.0\n")
        for rel, text in files.items():
            z.writestr("resources/" + rel, text)
            z.writestr(rel, text)  # lein's :source-paths copy, ignored
    return src, jar


def config_file(work, port):
    path = os.path.join(work, "config.json")
    with open(path, "w") as f:
        json.dump({"serializer": "json", "topology_specs": "topologies/", "virtualenv_specs": "virtualenvs/",
                   "envs": {"prod": {"nimbus": f"127.0.0.1:{port}", "use_ssh_for_nimbus": False, "workers": ["node1"]}}}, f)
    return path


def submit(port, work, force=False):
    src, jar = write_project(work)
    sys.path.insert(0, src)  # sparse submit imports the topology locally
    from streamparse import Grouping, Topology
    from spouts.words import WordSpout
    from bolts.wordcount import WordCountBolt

    class WordCount(Topology):
        word_spout = WordSpout.spec()
        count_bolt = WordCountBolt.spec(inputs={word_spout: Grouping.fields("word")}, par=2)

    # sparse submit with use_virtualenv: every streamparse_run becomes
    # <virtualenv_root>/<virtualenv_name>/bin/streamparse_run, here this
    # Python's own virtualenv.
    run = "/".join([os.path.dirname(sys.prefix), os.path.basename(sys.prefix), "bin", "streamparse_run"])
    for spec in list(WordCount.thrift_bolts.values()) + list(WordCount.thrift_spouts.values()):
        obj = getattr(spec, "bolt_object", None) or spec.spout_object
        if isinstance(obj.shell, ShellComponent) and "streamparse_run" in obj.shell.execution_command:
            obj.shell.execution_command = run

    client = get_nimbus_client(host="127.0.0.1", port=port, timeout=7000)
    loc = _upload_jar(client, jar)
    options = {"topology.workers": 1, "topology.acker.executors": 1, "sudo_user": None, "topology.max.spout.pending": 50,
               "storm.workers.list": ["node1"], "topology.original_name": "wordcount"}
    _kill_existing_topology("wordcount", force, 1, client)
    _submit_topology("wordcount", WordCount, loc, {"serializer": "json"}, {}, client, options=options, active=not force)
    conf = json.loads(client.getNimbusConf())
    step("force" if force else "submit", location=loc, log_dir=conf["storm.log.dir"], ui_port=conf["ui.port"])


def main():
    cmd, port, work = sys.argv[1], int(sys.argv[2]), sys.argv[3]
    if cmd in ("submit", "force"):
        submit(port, work, force=cmd == "force")
    elif cmd == "list":
        list_topologies("prod", timeout=7000, config_file=open(config_file(work, port)))  # sparse list
        info = get_nimbus_client(host="127.0.0.1", port=port, timeout=7000).getClusterInfo()
        step("list", topologies=[dict(name=t.name, status=t.status, tasks=t.num_tasks) for t in info.topologies],
             supervisors=[s.host for s in info.supervisors])
    elif cmd == "kill":
        kill_topology("wordcount", "prod", wait=1, timeout=7000, config_file=open(config_file(work, port)))  # sparse kill
        step("kill")


if __name__ == "__main__":
    main()

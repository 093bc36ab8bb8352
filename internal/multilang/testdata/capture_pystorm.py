#!/usr/bin/env python3
"""Record what a real pystorm component writes, for the Go golden tests.

The .in files are squall's side of a session, written by the Go encoder
(`go test -run TestGoldenInput -update`). This script runs a pystorm spout or
bolt on one of them and writes the component's stdout, byte for byte, to the
matching .out file, which TestGoldenOutput decodes.

Setup (pystorm 3.1.4 pins msgpack-python, which unpacks strings as bytes):

    python3 -m venv /tmp/pyst
    /tmp/pyst/bin/pip install --no-deps pystorm==3.1.4
    /tmp/pyst/bin/pip install six simplejson 'msgpack>=1.0'

Run from this directory, for each of bolt|spout and json|msgpack:

    /tmp/pyst/bin/python capture_pystorm.py bolt json < bolt.json.in > bolt.json.out

The component exits with status 2 when it reads EOF ("Storm went away").
The .out files in the repository were made with pystorm 3.1.4, simplejson
4.3.0, msgpack 1.2.4 and CPython 3.11.7.
"""

import os
import sys

from pystorm import Bolt, Spout

# Must match goldenPIDDir in sessions_test.go: pystorm creates an empty file
# named after its pid in this directory before it answers the handshake.
PID_DIR = "/tmp/squall-multilang-capture/pids"

# Must match goldenPID in sessions_test.go.
PID = 4242

# The user code is compiled under a fixed file name so that the traceback in
# the bolt's error message does not depend on where this file lives.
USER_CODE = '''
class CaptureBolt(Bolt):
    auto_ack = False

    def __init__(self, *args, **kwargs):
        super(CaptureBolt, self).__init__(*args, **kwargs)
        self.pid = PID

    def process(self, tup):
        sentence = tup.values[0]
        if sentence == "boom":
            try:
                raise ValueError("boom")
            except ValueError as e:
                self.raise_exception(e, tup)
            self.fail(tup)
            return
        words = sentence.split(" ")
        task_ids = self.emit([words[0]], need_task_ids=True)
        for word in words[1:]:
            self.emit([word])
        self.emit(list(tup.values), stream="s", direct_task=5)
        self.log("task ids {}".format(task_ids), level="warning")
        self.ack(tup)

    def process_tick(self, tup):
        self.report_metric("ticks", {"count": 1, "freq": tup.values[0]})
        self.log("tick", level="debug")
        self.ack(tup)


class CaptureSpout(Spout):
    def __init__(self, *args, **kwargs):
        super(CaptureSpout, self).__init__(*args, **kwargs)
        self.pid = PID
        self.calls = 0

    def activate(self):
        self.log("activated")

    def deactivate(self):
        self.log("deactivated")

    def next_tuple(self):
        self.calls += 1
        if self.calls == 1:
            self.emit(["snow white", "", None], tup_id=1)
        elif self.calls == 2:
            self.emit(["seven"], tup_id="m-2", stream="words")
        elif self.calls == 3:
            task_ids = self.emit(["x", "", None], tup_id=3.5, need_task_ids=True)
            self.log("task ids {}".format(task_ids))
        elif self.calls == 4:
            self.emit(["direct", "", None], direct_task=3)
        else:
            self.report_metric("emitted", 4)

    def ack(self, tup_id):
        self.log("acked {!r}".format(tup_id))

    def fail(self, tup_id):
        self.log("failed {!r}".format(tup_id))
'''


def main():
    kind, serializer = sys.argv[1], sys.argv[2]
    os.makedirs(PID_DIR, exist_ok=True)
    scope = {"Bolt": Bolt, "Spout": Spout, "PID": PID}
    exec(compile(USER_CODE, "user_code.py", "exec"), scope)
    component = scope["CaptureBolt" if kind == "bolt" else "CaptureSpout"]
    component(serializer=serializer).run()


if __name__ == "__main__":
    main()

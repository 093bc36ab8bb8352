"""A bolt on the bare protocol that reports its own environment: for each
tuple [name] it emits [name, value], the value "<unset>" when the variable
is not set. It stands in for any dependency of a Python bolt that reads
os.environ (issue 11: they could read the node's admin token)."""

import json
import os
import sys


def read_message():
    lines = []
    while True:
        line = sys.stdin.readline()
        if not line:
            sys.exit(2)
        if line == "end\n":
            return json.loads("".join(lines))
        lines.append(line)


def send(msg):
    sys.stdout.write(json.dumps(msg) + "\nend\n")
    sys.stdout.flush()


def main():
    hs = read_message()
    open(os.path.join(hs["pidDir"], str(os.getpid())), "w").close()
    send({"pid": os.getpid()})
    while True:
        tup = read_message()
        if tup["task"] == -1 and tup["stream"] == "__heartbeat":
            send({"command": "sync"})
            continue
        name = tup["tuple"][0]
        value = os.environ.get(name, "<unset>")
        send({"command": "emit", "anchors": [tup["id"]], "tuple": [name, value], "need_task_ids": False})
        send({"command": "ack", "id": tup["id"]})


if __name__ == "__main__":
    main()

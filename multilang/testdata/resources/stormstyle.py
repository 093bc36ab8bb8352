"""A bolt written against the bare protocol like Storm's storm.py: its
emits omit need_task_ids (so Storm's default, true, applies) and it blocks
reading the task-id list, queueing tuples it reads meanwhile. It emits each
word on "default" and the task ids it was told on stream "tasks"."""

import json
import os
import sys

pending_commands = []
pending_task_ids = []


def read_message():
    lines = []
    while True:
        line = sys.stdin.readline()
        if not line:
            sys.exit(2)
        if line == "end\n":
            return json.loads("".join(lines))
        lines.append(line)


def read_task_ids():
    if pending_task_ids:
        return pending_task_ids.pop(0)
    while True:
        msg = read_message()
        if isinstance(msg, list):
            return msg
        pending_commands.append(msg)


def read_command():
    if pending_commands:
        return pending_commands.pop(0)
    while True:
        msg = read_message()
        if not isinstance(msg, list):
            return msg
        pending_task_ids.append(msg)


def send(msg):
    sys.stdout.write(json.dumps(msg) + "\nend\n")
    sys.stdout.flush()


def main():
    hs = read_message()
    open(os.path.join(hs["pidDir"], str(os.getpid())), "w").close()
    send({"pid": os.getpid()})
    ctx = hs["context"]
    assert ctx["componentid"] == ctx["task->component"][str(ctx["taskid"])], ctx
    while True:
        tup = read_command()
        if tup["task"] == -1 and tup["stream"] == "__heartbeat":
            send({"command": "sync"})
            continue
        word = tup["tuple"][0]
        send({"command": "emit", "anchors": [tup["id"]], "tuple": [word]})
        tasks = read_task_ids()
        send({"command": "emit", "anchors": [tup["id"]], "stream": "tasks", "tuple": [word, tasks]})
        read_task_ids()
        send({"command": "log", "msg": "emitted %s to %s" % (word, tasks), "level": 1})
        send({"command": "ack", "id": tup["id"]})


if __name__ == "__main__":
    main()

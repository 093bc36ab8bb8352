"""Components on the bare protocol that loop without progress, as a buggy
component would (issue 11). argv[1] is the mode:

spout-syncflood  answers "next" with an emit and 100 syncs;
spout-logloop    answers "next" with log commands, for ever, and no sync;
bolt             echoes and acks each word, but on "syncflood" sends syncs
                 for ever, and on "logloop" log commands for ever, neither
                 acking nor answering heartbeats.
"""

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


def spout(mode):
    n = 0
    while True:
        cmd = read_message()
        if cmd["command"] == "next":
            n += 1
            if mode == "spout-logloop":
                while True:
                    send({"command": "log", "msg": "still busy with next %d" % n})
            send({"command": "emit", "id": n, "tuple": ["s%d" % n], "need_task_ids": False})
            for _ in range(99):
                send({"command": "sync"})
        send({"command": "sync"})


def bolt():
    while True:
        tup = read_message()
        if tup["task"] == -1 and tup["stream"] == "__heartbeat":
            send({"command": "sync"})
            continue
        word = tup["tuple"][0]
        if word == "syncflood":
            while True:
                send({"command": "sync"})
        if word == "logloop":
            while True:
                send({"command": "log", "msg": "still busy with %s" % word})
        send({"command": "emit", "anchors": [tup["id"]], "tuple": [word], "need_task_ids": False})
        send({"command": "ack", "id": tup["id"]})


def main():
    hs = read_message()
    open(os.path.join(hs["pidDir"], str(os.getpid())), "w").close()
    send({"pid": os.getpid()})
    if sys.argv[1] == "bolt":
        bolt()
    else:
        spout(sys.argv[1])


if __name__ == "__main__":
    main()

#!/usr/bin/env python3
# SPDX-License-Identifier: GPL-2.0
#
# selftests/drivers/evdev-keys.py DEVICE CODE [COUNT] - read an evdev node
# until COUNT (default 2) EV_KEY events of key CODE have come, or 10 s
# pass without any event.  Prints "open" once the node is open (so that a
# test knows when to send its input), then "evdev CODE V1 V2 ..." with
# the values seen (1 down, 0 up, 2 repeat).  Repeats are not counted.
import os
import select
import struct
import sys

EVENT = struct.Struct("qqHHi")  # struct input_event on 64-bit Linux
EV_KEY = 1

dev, code = sys.argv[1], int(sys.argv[2])
want = int(sys.argv[3]) if len(sys.argv) > 3 else 2
fd = os.open(dev, os.O_RDONLY)
print("open", flush=True)
seen = []
while len(seen) < want:
    ready, _, _ = select.select([fd], [], [], 10)
    if not ready:
        break
    data = os.read(fd, EVENT.size * 64)
    for i in range(0, len(data) - EVENT.size + 1, EVENT.size):
        _, _, etype, ecode, value = EVENT.unpack_from(data, i)
        if etype == EV_KEY and ecode == code and value != 2:
            seen.append(value)
print("evdev", code, " ".join(map(str, seen)), flush=True)

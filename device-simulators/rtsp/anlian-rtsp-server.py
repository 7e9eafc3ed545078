#!/usr/bin/python3
# Simulated cameras' RTSP streams: Debian's GStreamer RTSP server (python3-gi,
# gir1.2-gst-rtsp-server-1.0; x264enc from gstreamer1.0-plugins-ugly). One process serves every
# simulated camera of a simulator at rtsp://HOST:PORT/<mount>; the Node side (rtsp-stream-server.ts)
# starts it and tells it, one line on stdin at a time, which mounts exist and what their picture is:
#
#   set <mount> <gst-launch pipeline ending in "rtph264pay name=pay0">
#   unset <mount>
#
# A factory is not shared: every RTSP client gets a new pipeline from the launch line in force when
# it connects, so a fault set between two probes shows on the next one. Prints "listening <port>"
# once bound, and "ok <command> <mount>" after each command.
import sys

import gi

gi.require_version("Gst", "1.0")
gi.require_version("GstRtspServer", "1.0")
from gi.repository import GLib, Gst, GstRtspServer  # noqa: E402

Gst.init(None)
host = sys.argv[1] if len(sys.argv) > 1 else "127.0.0.1"
port = sys.argv[2] if len(sys.argv) > 2 else "0"
server = GstRtspServer.RTSPServer()
server.set_address(host)
server.set_service(port)
mounts = server.get_mount_points()


def on_line(channel, condition):
    line = channel.readline()
    if not line:  # stdin closed: the simulator is gone
        loop.quit()
        return False
    parts = line.strip().split(" ", 2)
    if len(parts) >= 2 and parts[0] == "unset":
        mounts.remove_factory("/" + parts[1])
    elif len(parts) == 3 and parts[0] == "set":
        factory = GstRtspServer.RTSPMediaFactory()
        factory.set_launch("( " + parts[2] + " )")
        factory.set_shared(False)
        mounts.add_factory("/" + parts[1], factory)
    else:
        print("error bad command", flush=True)
        return True
    print("ok " + parts[0] + " " + parts[1], flush=True)
    return True


server_id = server.attach(None)
if server_id == 0:
    print("error cannot listen on " + host + ":" + port, flush=True)
    sys.exit(1)
print("listening " + str(server.get_bound_port()), flush=True)
loop = GLib.MainLoop()
GLib.io_add_watch(GLib.IOChannel.unix_new(sys.stdin.fileno()), GLib.IO_IN | GLib.IO_HUP, on_line)
loop.run()

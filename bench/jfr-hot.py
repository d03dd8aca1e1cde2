#!/usr/bin/env python3
"""Hottest code of a JFR recording: execution samples by top frame and by coarse category.
Usage: bench/jfr-hot.py FILE.jfr [N]   (runs `jfr print --events jdk.ExecutionSample --stack-depth 64`)"""
import collections, re, subprocess, sys

CATEGORIES = [  # first match over the whole stack, top frame first
    ("SHA-256 hashing", re.compile(r"sun\.security\.provider\.(SHA|Digest)|MessageDigest|HashTree")),
    ("frame codec", re.compile(r"io\.peernode\.protocol\.sync\.Frame")),
    ("file read/write/copy", re.compile(r"FileChannelImpl\.(read|write|transfer|force)|sun\.nio\.ch\.(IOUtil|FileDispatcher)|Files\.copy|java\.io\.File")),
    ("TCP socket i/o", re.compile(r"sun\.nio\.ch\.(SocketChannelImpl|SocketDispatcher|SelectorImpl|EPoll)|akka\.io\.")),
    ("ByteString copies", re.compile(r"akka\.util\.ByteString|System\.arraycopy|ByteBuffer\.(put|get)")),
    ("JSON", re.compile(r"com\.fasterxml\.jackson")),
    ("akka streams", re.compile(r"akka\.stream\.")),
    ("akka actors/dispatch", re.compile(r"akka\.(actor|dispatch)\.")),
    ("class loading / startup", re.compile(r"ClassLoader|java\.lang\.invoke|jdk\.internal\.loader|com\.typesafe\.config")),
]

def main():
    path, n = sys.argv[1], int(sys.argv[2]) if len(sys.argv) > 2 else 12
    out = subprocess.run(["jfr", "print", "--events", "jdk.ExecutionSample", "--stack-depth", "64", path],
                         capture_output=True, text=True, check=True).stdout
    tops, cats, total = collections.Counter(), collections.Counter(), 0
    for ev in out.split("jdk.ExecutionSample {")[1:]:
        m = re.search(r"stackTrace = \[\n(.*?)\n\s*\]", ev, re.S)
        if not m:
            continue
        frames = [re.sub(r"\s+line:.*", "", f.strip()) for f in m.group(1).split("\n") if f.strip() and f.strip() != "..."]
        if not frames:
            continue
        total += 1
        tops[frames[0]] += 1
        stack = "\n".join(frames)
        cats[next((name for name, rx in CATEGORIES if rx.search(stack)), "other")] += 1
    print(f"{path}: {total} execution samples")
    for name, c in cats.most_common():
        print(f"  {100 * c / max(total, 1):5.1f}%  {name}")
    print("  top frames:")
    for f, c in tops.most_common(n):
        print(f"  {100 * c / max(total, 1):5.1f}%  {f}")

if __name__ == "__main__":
    main()

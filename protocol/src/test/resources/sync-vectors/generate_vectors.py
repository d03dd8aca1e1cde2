# Independent (Python) implementation of the spec's tree and framing, used to generate the vectors.
import hashlib, json, os
def content(n, seed):
    return bytes(((i * 31 + seed * 7 + (i >> 8)) & 0xff) for i in range(n))
def tree(data, bs):
    count = (len(data) + bs - 1) // bs
    L = 1
    while L < max(count, 1): L *= 2
    nodes = [b'\0' * 32] * (2 * L - 1)
    for j in range(count):
        nodes[L - 1 + j] = hashlib.sha256(data[j * bs:(j + 1) * bs]).digest()
    for k in range(L - 2, -1, -1):
        nodes[k] = hashlib.sha256(nodes[2 * k + 1] + nodes[2 * k + 2]).digest()
    return count, L, nodes
files = [("empty.bin", 0, 0), ("one-byte.bin", 1, 1), ("exact-3k.bin", 3072, 2), ("3k-plus-1.bin", 3073, 3),
         ("5000.bin", 5000, 4), ("8k.bin", 8192, 5), ("20000.bin", 20000, 6)]
trees = []
for name, size, seed in files:
    d = content(size, seed)
    open("files/" + name, "wb").write(d)
    for bs in (1024, 2048, 4096):
        count, L, nodes = tree(d, bs)
        trees.append({"file": name, "size": size, "blockSize": bs, "blockCount": count, "leafCount": L,
                      "root": nodes[0].hex(), "nodes": [n.hex() for n in nodes]})
def frame(obj, binary=b""):
    j = json.dumps(obj, separators=(",", ":")).encode()
    return b"json-length: %d\nbin-length: %d\n" % (len(j), len(binary)) + j + binary
h0 = bytes.fromhex(trees[9]["nodes"][1]) + bytes.fromhex(trees[9]["nodes"][2])
frames = [
  ("init-push", {"command":"init","version":[0,1,0],"action":"push","filename":"dir/a.bin","blockSize":1024,"blockCount":4,"size":3073}, b""),
  ("init-pull", {"command":"init","version":[0,1,0],"action":"pull","filename":"a.bin","blockSize":4096,"blockCount":0}, b""),
  ("init-reply", {"command":"init","version":[0,1,0],"blockSize":1024,"blockCount":4,"size":3073,"root":trees[9]["root"]}, b""),
  ("req-hash", {"command":"req","dataType":"hash","index":[1,2]}, b""),
  ("send-hash", {"command":"send","dataType":"hash","index":[1,2]}, h0),
  ("req-data", {"command":"req","dataType":"data","index":[3]}, b""),
  ("send-data", {"command":"send","dataType":"data","index":[3]}, content(3073, 3)[3072:]),
  ("end-push", {"command":"end","action":"push","size":3073,"root":trees[9]["root"]}, b""),
  ("end", {"command":"end"}, b""),
  ("ack", {"command":"ack"}, b""),
  ("err", {"command":"err","msg":"index 9 is out of range"}, b""),
  ("deny", {"command":"deny","retry":5,"status":503,"msg":"busy"}, b""),
]
fv = []
for name, obj, b in frames:
    open("frames/%s.frame" % name, "wb").write(frame(obj, b))
    fv.append({"frame": name + ".frame", "json": json.dumps(obj, separators=(",", ":")), "binary": b.hex()})
json.dump({"trees": trees, "frames": fv}, open("vectors.json", "w"), indent=1)

"""Small .npy helper for the distributed tests (no NumPy needed).

  npytool.py blobs OUT.npy N D DTYPE SEED   clustered samples, u8 or f32
  npytool.py poke OUT.npy ROW COL nan       sets one f32 value to NaN
  npytool.py split IN.npy OUT_{rank}.npy P  one file per rank: rows [r*N/P, (r+1)*N/P)
  npytool.py close A.npy B.npy TOL          f32 arrays equal within TOL relative (|b| >= 1)
"""
import random
import struct
import sys


def header(descr, shape):
    s = "(%s)" % (", ".join(str(x) for x in shape) + ("," if len(shape) == 1 else ""))
    h = "{'descr': '%s', 'fortran_order': False, 'shape': %s, }" % (descr, s)
    h += " " * ((64 - (10 + len(h) + 1) % 64) % 64) + "\n"
    return b"\x93NUMPY\x01\x00" + struct.pack("<H", len(h)) + h.encode()


def read(path):
    raw = open(path, "rb").read()
    hlen = struct.unpack("<H", raw[8:10])[0]
    h = raw[10 : 10 + hlen].decode()
    descr = h.split("'descr': '")[1].split("'")[0]
    shape = tuple(int(x) for x in h.split("(")[1].split(")")[0].split(",") if x.strip())
    return descr, shape, raw[10 + hlen :]


def main():
    cmd = sys.argv[1]
    if cmd == "blobs":
        out, n, d, dtype, seed = sys.argv[2], int(sys.argv[3]), int(sys.argv[4]), sys.argv[5], int(sys.argv[6])
        rng = random.Random(seed)
        centers = [[rng.randrange(0, 200) for _ in range(d)] for _ in range(9)]
        vals = []
        for i in range(n):
            c = centers[rng.randrange(9)]
            vals.extend(min(255, x + rng.randrange(0, 56)) for x in c)
        if dtype == "u8":
            data = header("|u1", (n, d)) + bytes(vals)
        else:
            data = header("<f4", (n, d)) + struct.pack("<%df" % len(vals), *[v * 0.37 + rng.random() for v in vals])
        open(out, "wb").write(data)
    elif cmd == "poke":
        path, row, col = sys.argv[2], int(sys.argv[3]), int(sys.argv[4])
        descr, shape, payload = read(path)
        raw = bytearray(open(path, "rb").read())
        at = len(raw) - len(payload) + 4 * (row * shape[1] + col)
        raw[at : at + 4] = struct.pack("<f", float("nan"))
        open(path, "wb").write(raw)
    elif cmd == "split":
        path, pattern, p = sys.argv[2], sys.argv[3], int(sys.argv[4])
        descr, shape, payload = read(path)
        n, row = shape[0], len(payload) // shape[0]
        for r in range(p):
            a, b = r * n // p, (r + 1) * n // p
            open(pattern.replace("{rank}", str(r)), "wb").write(
                header(descr, (b - a,) + shape[1:]) + payload[a * row : b * row]
            )
    elif cmd == "close":
        (da, sa, pa), (db, sb, pb), tol = read(sys.argv[2]), read(sys.argv[3]), float(sys.argv[4])
        assert da == db == "<f4" and sa == sb, (da, db, sa, sb)
        a = struct.unpack("<%df" % (len(pa) // 4), pa)
        b = struct.unpack("<%df" % (len(pb) // 4), pb)
        worst = max(abs(x - y) / max(abs(y), 1.0) for x, y in zip(a, b))
        print("largest relative difference %.3g" % worst)
        sys.exit(0 if worst <= tol else 1)
    else:
        sys.exit("unknown command " + cmd)


if __name__ == "__main__":
    main()

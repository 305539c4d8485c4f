#!/usr/bin/env python3
"""Writes the fuzz targets' seed corpora (fuzz/corpus/<target>/seed-*). Deterministic; rerun it
after changing a format. The seeds are small valid files and near misses of each defect the
parsers name, so the fuzzer starts next to every branch."""
import gzip, json, os, struct

ROOT = os.path.join(os.path.dirname(os.path.abspath(__file__)), "corpus")

def idx(dims, data=None):
    n = 1
    for d in dims:
        n *= d
    if data is None:
        data = bytes((i * 37) % 256 for i in range(n))
    return bytes([0, 0, 8, len(dims)]) + b"".join(struct.pack(">I", d) for d in dims) + data

def gz(b):
    return gzip.compress(b, mtime=0)

def write(target, name, data):
    with open(os.path.join(ROOT, target, "seed-" + name), "wb") as f:
        f.write(data)

images = idx([3, 4, 4])
labels = idx([3], bytes([7, 2, 1]))
idx_seeds = {
    "images": images, "labels": labels, "images.gz": gz(images), "labels.gz": gz(labels),
    "empty": b"", "short": b"\0\0", "magic": b"\x12\x34\x08\x03" + images[4:],
    "float-type": b"\0\0\x0d\x03" + images[4:], "rank2": idx([4, 4]),
    "truncated-header": images[:9], "truncated-data": images[:-3], "extra-data": images + b"\0",
    "zero-dim": idx([0, 28, 28], b""), "huge-claim": bytes([0, 0, 8, 3]) + struct.pack(">III", 0xFFFFFFFF, 28, 28),
    "2pow32": bytes([0, 0, 8, 1]) + struct.pack(">I", 0xFFFFFFFF),
    "gzip-truncated": gz(images)[:-6], "gzip-corrupt": gz(images)[:12] + b"\xff" * 8 + gz(images)[20:],
    "gzip-empty": gz(b""), "label-10": idx([2], bytes([3, 10])),
}
for k, v in idx_seeds.items():
    write("idx", k, v)
for k in ["images", "labels", "rank2", "truncated-data", "extra-data", "zero-dim", "huge-claim", "label-10"]:
    write("idx_gzip", k, idx_seeds[k])

def pair(a, b):
    return struct.pack("<H", len(a)) + a + b
write("dataset", "ok", pair(images, labels))
write("dataset", "ok-gzip", pair(gz(images), gz(labels)))
write("dataset", "count-mismatch", pair(images, idx([2], bytes([1, 2]))))
write("dataset", "label-out-of-range", pair(images, idx([3], bytes([1, 11, 2]))))
write("dataset", "swapped", pair(labels, images))

def safetensors(tensors, meta=None):
    header, blobs, off = {}, [], 0
    for name, shape, values, dtype in tensors:
        raw = b"".join(struct.pack("<f", v) for v in values) if dtype == "F32" else bytes(values)
        header[name] = {"dtype": dtype, "shape": shape, "data_offsets": [off, off + len(raw)]}
        blobs.append(raw)
        off += len(raw)
    if meta is not None:
        header["__metadata__"] = meta
    h = json.dumps(header, separators=(",", ":")).encode()
    h += b" " * (-len(h) % 8)
    return struct.pack("<Q", len(h)) + h + b"".join(blobs)

# The 13-7-3 model of fuzz/targets.rs: PyTorch names and shapes (out, in).
I, H, L = 13, 7, 3
shapes = [("fc1.weight", [H, I]), ("fc1.bias", [H]), ("fc2.weight", [L, H]), ("fc2.bias", [L]),
          ("fc3.weight", [L, H]), ("fc3.bias", [L]), ("fc4.weight", [H, L]), ("fc4.bias", [H]),
          ("fc5.weight", [I, H]), ("fc5.bias", [I])]
def tensors(f=lambda name, i: 0.01 * ((i * 7) % 13 - 6)):
    out = []
    for name, shape in shapes:
        n = 1
        for d in shape:
            n *= d
        out.append((name, shape, [f(name, i) for i in range(n)], "F32"))
    return out
good = tensors()
write("checkpoint", "ok", safetensors(good, {"epoch": "1"}))
write("checkpoint", "missing-tensor", safetensors(good[:-1]))
write("checkpoint", "wrong-shape", safetensors([(n, s[::-1] if n == "fc1.weight" else s, v, d) for n, s, v, d in good]))
write("checkpoint", "f16", safetensors([(n, s, [0] * (2 * len(v)), "F16") if n == "fc4.bias" else (n, s, v, d) for n, s, v, d in good]))
write("checkpoint", "nan", safetensors(tensors(lambda name, i: float("nan") if name == "fc5.bias" and i == 2 else 0.5)))
write("checkpoint", "truncated", safetensors(good)[:-10])
write("checkpoint", "header-too-long", struct.pack("<Q", 1 << 40) + b"{}")
write("checkpoint", "garbage", b"not a checkpoint")

def cfg(input, hidden, latent, batch, epochs, lr, b1, b2, eps, seed, shift, has_len, train_len):
    words = [input, hidden, latent, batch, epochs]
    words += [struct.unpack("<I", struct.pack("<f", x))[0] for x in (lr, b1, b2, eps)]
    words += [seed, shift, has_len, train_len]
    return b"".join(struct.pack("<I", w) for w in words)
write("config", "default", cfg(784, 400, 20, 128, 15, 1e-3, 0.9, 0.999, 1e-8, 1, 0, 1, 60000))
write("config", "max", cfg(16384, 8192, 1024, 8192, 100000, 10.0, 0.0, 0.999, 1e-8, 7, 0, 0, 0))
write("config", "too-big", cfg(16385, 8193, 1025, 8193, 100001, 10.5, 1.0, 1.0, 0.0, 1, 0, 1, 10))
write("config", "nan-lr", cfg(784, 400, 20, 128, 15, float("nan"), 0.9, 0.999, 1e-8, 1, 0, 0, 0))
write("config", "zero", cfg(0, 0, 0, 0, 0, 0.0, -1.0, 2.0, float("inf"), 0, 0, 1, 0))
print("seeds written under", ROOT)

# Writes the bad-input corpus's data files (run from this folder: python3 data/make-data.py).
# Small valid Fashion-MNIST-format IDX files, then one defect per folder; image folders with one
# defect each; damaged Keras .h5 files from the dsl module's fixture.
import gzip, os, shutil, struct, zlib

def idx_images(n, h=28, w=28):
    return struct.pack(">IIII", 0x00000803, n, h, w) + bytes((i * 7) % 256 for i in range(n * h * w))

def idx_labels(n):
    return struct.pack(">II", 0x00000801, n) + bytes(i % 10 for i in range(n))

def fmnist(folder, images=None, labels=None, skip=()):
    os.makedirs(folder, exist_ok=True)
    files = {
        "train-images-idx3-ubyte.gz": gzip.compress(images if images is not None else idx_images(64)),
        "train-labels-idx1-ubyte.gz": gzip.compress(labels if labels is not None else idx_labels(64)),
        "t10k-images-idx3-ubyte.gz": gzip.compress(idx_images(16)),
        "t10k-labels-idx1-ubyte.gz": gzip.compress(idx_labels(16)),
    }
    for name, content in files.items():
        if name not in skip:
            open(os.path.join(folder, name), "wb").write(content)

fmnist("data/fmnist-missing-labels", skip=("train-labels-idx1-ubyte.gz",))
fmnist("data/fmnist-wrong-magic", images=struct.pack(">IIII", 0x00000999, 64, 28, 28) + bytes(64 * 28 * 28))
fmnist("data/fmnist-label-count", labels=idx_labels(60))
fmnist("data/fmnist-truncated")
full = open("data/fmnist-truncated/train-images-idx3-ubyte.gz", "rb").read()
open("data/fmnist-truncated/train-images-idx3-ubyte.gz", "wb").write(full[: len(full) // 2])

def png(w, h, seed):
    raw = b"".join(b"\x00" + bytes(((x * 31 + y * 17 + seed) % 256) for x in range(w * 3)) for y in range(h))
    chunk = lambda t, d: struct.pack(">I", len(d)) + t + d + struct.pack(">I", zlib.crc32(t + d) & 0xffffffff)
    return b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", struct.pack(">IIBBBBB", w, h, 8, 2, 0, 0, 0)) \
        + chunk(b"IDAT", zlib.compress(raw)) + chunk(b"IEND", b"")

def image_folder(root, splits=("train", "val"), classes=("a", "b"), per_class=4, broken=None, empty=None):
    for split in splits:
        for c in classes:
            d = os.path.join(root, split, c)
            os.makedirs(d, exist_ok=True)
            if (split, c) == empty:
                open(os.path.join(d, ".keep"), "w").close()  # git keeps the folder, the loader sees no image
                continue
            for i in range(per_class):
                open(os.path.join(d, f"{i}.png"), "wb").write(png(12, 12, i + ord(c)))
    if broken:
        open(os.path.join(root, broken), "wb").write(b"this is not a JPEG")

image_folder("data/images-broken", broken="train/a/9.jpg")
image_folder("data/images-empty-class", empty=("train", "b"))
image_folder("data/images-no-val", splits=("train",))

keras = "../../../../../dsl/src/test/resources/keras/save-weights.h5"
shutil.copy(keras, "data/mobilenet-fragment.h5")
content = open(keras, "rb").read()
open("data/truncated.h5", "wb").write(content[: len(content) // 3])
open("data/not-hdf5.h5", "wb").write(b"plain text, not HDF5\n" * 10)

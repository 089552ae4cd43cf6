# Writes the Keras-format fixtures with h5py exactly as Keras 2's legacy HDF5 saving does
# (keras/src/legacy/saving/hdf5_format.py): attributes are numpy arrays of fixed-length byte
# strings, datasets sit at <layer>/<weight name>. Run: /usr/bin/python3 make-fixtures.py (Debian python3-h5py).
import h5py
import numpy as np

def save_weights(group, layers):
    group.attrs["layer_names"] = np.array([name.encode("utf8") for name, _ in layers])
    group.attrs["backend"] = b"tensorflow"
    group.attrs["keras_version"] = b"2.15.0"
    for name, weights in sorted(layers, key=lambda l: l[0]):
        g = group.create_group(name)
        names = [f"{name}/{w}:0".encode("utf8") for w, _ in weights]
        g.attrs["weight_names"] = np.array(names) if names else np.array([], dtype="S1")
        for (w, value), n in zip(weights, names):
            g.create_dataset(n, value.shape, dtype=value.dtype)[...] = value

layers = [
    ("input_1", []),
    ("Conv", [("kernel", np.arange(3 * 3 * 3 * 2, dtype=np.float32).reshape(3, 3, 3, 2) / 100)]),
    ("Conv/BatchNorm", [("gamma", np.array([1.0, 2.0], np.float32)), ("beta", np.array([0.5, -0.5], np.float32)),
                        ("moving_mean", np.array([0.25, 0.75], np.float32)), ("moving_variance", np.array([4.0, 9.0], np.float32))]),
    ("expanded_conv/depthwise", [("depthwise_kernel", np.full((3, 3, 2, 1), 0.125, np.float32))]),
    ("Logits", [("kernel", np.array([[1.0, 2.0, 3.0]], np.float64)), ("bias", np.zeros(3, np.float32))]),
]

with h5py.File("save-weights.h5", "w") as f:
    save_weights(f, layers)
with h5py.File("model-save.h5", "w") as f:
    f.attrs["model_config"] = b"{}"
    save_weights(f.create_group("model_weights"), layers)

package dev.kqat.runtime.data;

import java.nio.file.Files;
import java.nio.file.Path;

/**
 * Fashion-MNIST from IDX files, by default where Debian's {@code dataset-fashion-mnist} installs
 * them. Pixels are scaled to [0, 1] and normalised with the reference task's mean and std.
 */
public final class FashionMnist {
  /** Install location of the Debian package. */
  public static final Path DEBIAN_DIR = Path.of("/usr/share/datasets/fashion-mnist");
  public static final float MEAN = 0.2860f;
  public static final float STD = 0.3530f;

  private FashionMnist() {}

  /** Loads the training ({@code train-*}) or test ({@code t10k-*}) split from {@code dir}. */
  public static InMemoryDataset load(Path dir, boolean train) {
    if (!Files.isDirectory(dir)) {
      throw new DatasetException(
          dir + ": Fashion-MNIST directory not found (install it with"
              + " 'apt-get install dataset-fashion-mnist' or give the path)");
    }
    String prefix = train ? "train" : "t10k";
    IdxReader.Idx images = IdxReader.read(find(dir, prefix + "-images-idx3-ubyte"));
    IdxReader.Idx labels = IdxReader.read(find(dir, prefix + "-labels-idx1-ubyte"));
    if (images.dims().length != 3 || labels.dims().length != 1) {
      throw new DatasetException(dir + ": expected 3-D images and 1-D labels for split " + prefix);
    }
    int n = images.dims()[0];
    if (labels.dims()[0] != n) {
      throw new DatasetException(
          dir + ": " + n + " images but " + labels.dims()[0] + " labels in split " + prefix);
    }
    int h = images.dims()[1];
    int w = images.dims()[2];
    float[] x = new float[n * h * w];
    byte[] px = images.data();
    for (int i = 0; i < x.length; i++) {
      x[i] = ((px[i] & 0xff) / 255f - MEAN) / STD;
    }
    int[] y = new int[n];
    for (int i = 0; i < n; i++) {
      y[i] = labels.data()[i] & 0xff;
      if (y[i] > 9) {
        throw new DatasetException(dir + ": label " + y[i] + " at index " + i + " is not a Fashion-MNIST class");
      }
    }
    return new InMemoryDataset(x, y, new int[] {h, w, 1}, 10);
  }

  /** Plain or {@code .gz} variant of a file name. */
  static Path find(Path dir, String base) {
    Path gz = dir.resolve(base + ".gz");
    if (Files.isRegularFile(gz)) {
      return gz;
    }
    Path plain = dir.resolve(base);
    if (Files.isRegularFile(plain)) {
      return plain;
    }
    throw new DatasetException(dir + ": neither " + base + ".gz nor " + base + " exists");
  }
}

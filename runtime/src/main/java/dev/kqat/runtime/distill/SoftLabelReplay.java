package dev.kqat.runtime.distill;

import dev.kqat.runtime.data.Batch;
import dev.kqat.runtime.data.BatchIterator;
import dev.kqat.runtime.data.Dataset;
import dev.kqat.runtime.data.ImageFolderDataset;
import dev.kqat.runtime.data.PixelCrop;
import java.util.Arrays;
import java.util.Iterator;
import java.util.zip.CRC32;
import org.tensorflow.ndarray.Shape;
import org.tensorflow.ndarray.buffer.DataBuffers;
import org.tensorflow.types.TFloat32;
import org.tensorflow.types.TInt32;

/**
 * Replays stored crops during training (algorithms.md §3.4): per image and pass, a random permutation
 * of its R stored crops keyed by the pass seed and the image's dataset position, of which the first
 * {@code crops} are taken; the step's crops are concatenated crop-major (all images' first crop, then
 * all second ones, …). The draw depends on nothing else, so a resumed run replays the same crops.
 *
 * <p>An in-memory training set is cut in the graph ({@code CropAndResize} on the step's whole images);
 * an image folder is cut while its files are decoded ({@link ImageFolderDataset#cropBatch}, from the
 * full-size image, as FKD does), and the graph's boxes are then the whole crop.
 */
public final class SoftLabelReplay implements AutoCloseable {
  private final SoftLabelFile file;
  private final StoredSoftLabels spec;
  private final int[] shape;
  private final int classes;
  private final ImageFolderDataset folder;

  private SoftLabelReplay(SoftLabelFile file, StoredSoftLabels spec, int[] shape, int classes, ImageFolderDataset folder) {
    this.file = file;
    this.spec = spec;
    this.shape = shape;
    this.classes = classes;
    this.folder = folder;
  }

  /** Opens {@code spec}'s file and checks that it was written for {@code train} (count, labels, shape, classes). */
  public static SoftLabelReplay open(StoredSoftLabels spec, Dataset train) {
    ImageFolderDataset folder = train instanceof ImageFolderDataset f ? f : null;
    SoftLabelFile file = SoftLabelFile.open(spec.file());
    try {
      SoftLabelFile.Header h = file.header();
      String where = spec.file() + ": ";
      if (h.images() != train.size()) {
        throw new IllegalArgumentException(where + "written for " + h.images() + " training images, this training set has " + train.size());
      }
      if (h.labelsCrc32() != labelsCrc32(train)) {
        throw new IllegalArgumentException(where + "written for another training set (its labels' CRC-32 differs)");
      }
      if (!Arrays.equals(h.imageShape(), train.imageShape())) {
        throw new IllegalArgumentException(where + "written for images of " + Arrays.toString(h.imageShape())
            + ", these are " + Arrays.toString(train.imageShape()));
      }
      if (h.classes() != train.numClasses()) {
        throw new IllegalArgumentException(where + "a teacher of " + h.classes() + " classes, the data has " + train.numClasses());
      }
      if (spec.crops() > h.crops()) {
        throw new IllegalArgumentException("distillation.crops: " + spec.crops() + " crops per image asked, "
            + spec.file() + " stores " + h.crops());
      }
      return new SoftLabelReplay(file, spec, train.imageShape(), train.numClasses(), folder);
    } catch (RuntimeException e) {
      file.close();
      throw e;
    }
  }

  /** CRC-32 of the labels in dataset order, each as int32 little-endian: a file's dataset identity. */
  public static long labelsCrc32(Dataset data) {
    CRC32 crc = new CRC32();
    byte[] b = new byte[4];
    for (int i = 0; i < data.size(); i++) {
      int v = data.label(i);
      b[0] = (byte) v;
      b[1] = (byte) (v >>> 8);
      b[2] = (byte) (v >>> 16);
      b[3] = (byte) (v >>> 24);
      crc.update(b);
    }
    return crc.getValue();
  }

  /**
   * A pass's training batches, {@code imagesPerStep} images per step in the order of the training
   * set's shuffled batches: whole images to cut in the graph, or an image folder's crops already cut.
   */
  public Iterator<Batch> batches(Dataset train, int imagesPerStep, int crops, long passSeed) {
    if (folder == null) {
      return train.batches(imagesPerStep, true, passSeed, true);
    }
    return folder.cropBatches(imagesPerStep, true, passSeed, true, crops, (image, h, w) -> {
      StoredCrop[] stored = file.read(image);
      int[] order = permutation(stored.length, passSeed, image);
      PixelCrop[] chosen = new PixelCrop[crops];
      for (int r = 0; r < crops; r++) {
        chosen[r] = stored[order[r]].pixels(h, w);
      }
      return chosen;
    });
  }

  /** The crops of {@code images} (a batch of {@link #batches}) for a pass of {@code crops} crops per image. */
  public CropBatch crops(Batch images, int crops, long passSeed) {
    int m = images.indices().length;
    int n = m * crops;
    float[] boxes = new float[n * 4];
    int[] boxImages = new int[n];
    int[] labels = new int[n];
    float[] targets = new float[n * classes];
    int[] hard = new int[m];
    for (int k = 0; k < m; k++) {
      hard[k] = images.labels().getInt(k);  // crop-major rows: the first m are the images' first crops
    }
    for (int k = 0; k < m; k++) {
      int image = images.indices()[k];
      StoredCrop[] stored = file.read(image);
      int[] order = permutation(stored.length, passSeed, image);
      for (int r = 0; r < crops; r++) {
        int row = r * m + k;
        StoredCrop c = stored[order[r]];
        if (folder == null) {
          c.box(shape[0], shape[1], boxes, row * 4);
          boxImages[row] = k;
        } else {
          StoredCrop.wholeBox(boxes, row * 4);
          boxImages[row] = row;
        }
        labels[row] = hard[k];
        spec.decoding().decode(c.classes(), c.probabilities(), classes, targets, row * classes);
      }
    }
    return new CropBatch(images,
        TFloat32.tensorOf(Shape.of(n, 4), DataBuffers.of(boxes, true, false)),
        TInt32.tensorOf(Shape.of(n), DataBuffers.of(boxImages, true, false)),
        TInt32.tensorOf(Shape.of(n), DataBuffers.of(labels, true, false)),
        TFloat32.tensorOf(Shape.of(n, classes), DataBuffers.of(targets, true, false)), n);
  }

  /** The order in which image {@code image}'s stored crops are taken in the pass seeded {@code passSeed}. */
  static int[] permutation(int r, long passSeed, int image) {
    return BatchIterator.order(r, true, imageSeed(passSeed, image));
  }

  /** A seed of one image's own draws under {@code seed}: its crops when written, their order when replayed. */
  static long imageSeed(long seed, int image) {
    return seed * 0x9E3779B97F4A7C15L + image;
  }

  @Override
  public void close() {
    file.close();
  }
}

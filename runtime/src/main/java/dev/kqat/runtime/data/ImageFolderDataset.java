package dev.kqat.runtime.data;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.Iterator;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.TreeMap;
import java.util.stream.Stream;

/**
 * An ImageNet-style folder split ({@code <split>/<class>/<image>}), decoded and transformed by an
 * {@link ImagePipeline} as batches are requested. Classes are the sub-folder names in sorted order
 * (torchvision's {@code ImageFolder}); a validation split is read with the training split's class
 * list so that labels agree. Files ending in .jpg, .jpeg, .png or .bmp are images.
 */
public final class ImageFolderDataset implements Dataset, AutoCloseable {
  /** Which transform a split gets. */
  public enum Transform {
    /** Random resized crop and horizontal flip. */
    TRAIN_AUGMENT,
    /** Resize of the shorter side, then centre crop. */
    EVAL_CENTER_CROP
  }

  private final Path dir;
  private final List<String> classes;
  private final List<String> files;
  private final int[] labels;
  private final Transform transform;
  private final ImagePipeline pipeline;

  private ImageFolderDataset(Path dir, List<String> classes, List<String> files, int[] labels,
      Transform transform, ImagePipeline pipeline) {
    this.dir = dir;
    this.classes = classes;
    this.files = files;
    this.labels = labels;
    this.transform = transform;
    this.pipeline = pipeline;
  }

  /** Sorted class folder names of {@code splitDir}. */
  public static List<String> classNames(Path splitDir) {
    if (!Files.isDirectory(splitDir)) {
      throw new DatasetException(splitDir + ": image folder not found (expected <split>/<class>/<image> files)");
    }
    try (Stream<Path> entries = Files.list(splitDir)) {
      List<String> names = entries.filter(Files::isDirectory).map(p -> p.getFileName().toString()).sorted().toList();
      if (names.isEmpty()) {
        throw new DatasetException(splitDir + ": no class folders (expected <split>/<class>/<image> files)");
      }
      return names;
    } catch (IOException e) {
      throw new DatasetException(splitDir + ": cannot list class folders: " + e.getMessage(), e);
    }
  }

  /**
   * Indexes {@code splitDir} (no image is decoded yet).
   *
   * @param classes the class list labels refer to: the training split's, also for validation
   * @param pipeline decodes this split's images; the dataset owns and closes it
   */
  public static ImageFolderDataset open(Path splitDir, List<String> classes, Transform transform, ImagePipeline pipeline) {
    try {
      return index(splitDir, classes, transform, pipeline);
    } catch (RuntimeException e) {
      pipeline.close();
      throw e;
    }
  }

  private static ImageFolderDataset index(Path splitDir, List<String> classes, Transform transform, ImagePipeline pipeline) {
    Map<String, Integer> index = new TreeMap<>();
    for (int i = 0; i < classes.size(); i++) {
      index.put(classes.get(i), i);
    }
    List<String> files = new ArrayList<>();
    List<Integer> labels = new ArrayList<>();
    for (String name : classNames(splitDir)) {
      Integer label = index.get(name);
      if (label == null) {
        throw new DatasetException(splitDir.resolve(name) + ": class '" + name + "' is not among the training classes");
      }
      try (Stream<Path> images = Files.list(splitDir.resolve(name))) {
        List<String> found = images.filter(ImageFolderDataset::isImage).map(Path::toString).sorted().toList();
        if (found.isEmpty()) {
          // A class without examples would train a classifier row that never sees data.
          throw new DatasetException(splitDir.resolve(name) + ": class folder holds no image (.jpg, .jpeg, .png or .bmp)");
        }
        found.forEach(f -> {
          files.add(f);
          labels.add(label);
        });
      } catch (IOException e) {
        throw new DatasetException(splitDir.resolve(name) + ": cannot list images: " + e.getMessage(), e);
      }
    }
    if (files.isEmpty()) {
      throw new DatasetException(splitDir + ": no .jpg, .jpeg, .png or .bmp images in its class folders");
    }
    return new ImageFolderDataset(splitDir, List.copyOf(classes), files,
        labels.stream().mapToInt(Integer::intValue).toArray(), transform, pipeline);
  }

  private static boolean isImage(Path p) {
    String n = p.getFileName().toString().toLowerCase(Locale.ROOT);
    return Files.isRegularFile(p) && (n.endsWith(".jpg") || n.endsWith(".jpeg") || n.endsWith(".png") || n.endsWith(".bmp"));
  }

  /**
   * A fixed random subset of {@code n} examples (seed 0, file order kept). Folders are sorted by
   * class, so the first {@code n} files would hold only the first classes. The subset takes over
   * this dataset's pipeline.
   */
  public ImageFolderDataset limit(int n) {
    if (n >= files.size()) {
      return this;
    }
    int[] order = BatchIterator.order(files.size(), true, 0);
    int[] chosen = Arrays.copyOf(order, n);
    Arrays.sort(chosen);
    List<String> f = new ArrayList<>();
    int[] l = new int[n];
    for (int i = 0; i < n; i++) {
      f.add(files.get(chosen[i]));
      l[i] = labels[chosen[i]];
    }
    return new ImageFolderDataset(dir, classes, f, l, transform, pipeline);
  }

  public Path dir() {
    return dir;
  }

  public List<String> classes() {
    return classes;
  }

  @Override
  public int label(int i) {
    return labels[i];
  }

  @Override
  public int size() {
    return files.size();
  }

  @Override
  public int[] imageShape() {
    return new int[] {pipeline.size(), pipeline.size(), 3};
  }

  @Override
  public int numClasses() {
    return classes.size();
  }

  /**
   * Decodes batches lazily. Training crops and flips are keyed by {@code seed} and the file's
   * index, so the same epoch seed gives the same images whatever the batch size.
   */
  @Override
  public Iterator<Batch> batches(int batchSize, boolean shuffle, long seed, boolean dropLast) {
    return new BatchIterator(BatchIterator.order(files.size(), shuffle, seed), batchSize,
        batchCount(batchSize, dropLast), indices -> assemble(indices, seed));
  }

  private Batch assemble(int[] indices, long seed) {
    int n = indices.length;
    int length = pipeline.imageLength();
    float[] img = new float[n * length];
    int[] lab = new int[n];
    for (int i = 0; i < n; i++) {
      int src = indices[i];
      if (transform == Transform.TRAIN_AUGMENT) {
        pipeline.train(files.get(src), seed, src, img, i * length);
      } else {
        pipeline.eval(files.get(src), img, i * length);
      }
      lab[i] = labels[src];
    }
    return Batch.of(img, lab, indices, imageShape());
  }

  /**
   * Batches of chosen crops instead of the augmented view, in the example order of {@link #batches}
   * with the same arguments: {@code images} examples per batch, each cut {@code crops} times as
   * {@code chooser} says ({@link #cropBatch}).
   */
  public Iterator<Batch> cropBatches(int images, boolean shuffle, long seed, boolean dropLast, int crops,
      PixelCrop.Chooser chooser) {
    return new BatchIterator(BatchIterator.order(files.size(), shuffle, seed), images,
        batchCount(images, dropLast), indices -> cropBatch(indices, crops, chooser));
  }

  /**
   * The crops of examples {@code indices}, each image decoded once and cut {@code crops} times as
   * {@code chooser} says. Rows are crop-major (all examples' first crop, then all second ones, ...),
   * as stored soft labels are replayed; the batch's indices are the {@code indices.length} examples.
   */
  public Batch cropBatch(int[] indices, int crops, PixelCrop.Chooser chooser) {
    int m = indices.length;
    int length = pipeline.imageLength();
    float[] img = new float[m * crops * length];
    int[] lab = new int[m * crops];
    for (int k = 0; k < m; k++) {
      int src = indices[k];
      try (ImagePipeline.Decoded image = pipeline.decode(files.get(src))) {
        PixelCrop[] chosen = chooser.choose(src, image.height(), image.width());
        if (chosen.length != crops) {
          throw new IllegalStateException(crops + " crops per image expected, " + chosen.length + " chosen for " + files.get(src));
        }
        for (int r = 0; r < crops; r++) {
          int row = r * m + k;
          pipeline.crop(image, chosen[r], img, row * length);
          lab[row] = labels[src];
        }
      }
    }
    return Batch.of(img, lab, indices, imageShape());
  }

  /** Closes the decoding graph. */
  @Override
  public void close() {
    pipeline.close();
  }
}

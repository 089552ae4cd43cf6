package dev.kqat.runtime.distill;

import dev.kqat.runtime.data.Batch;
import dev.kqat.runtime.data.Dataset;
import dev.kqat.runtime.data.ImageFolderDataset;
import dev.kqat.runtime.data.PixelCrop;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.Iterator;
import java.util.List;
import java.util.Map;
import java.util.Random;
import java.util.function.IntConsumer;
import org.tensorflow.Graph;
import org.tensorflow.Operand;
import org.tensorflow.Result;
import org.tensorflow.Session;
import org.tensorflow.ndarray.Shape;
import org.tensorflow.ndarray.buffer.DataBuffers;
import org.tensorflow.op.Ops;
import org.tensorflow.op.core.Placeholder;
import org.tensorflow.op.nn.TopK;
import org.tensorflow.types.TFloat32;
import org.tensorflow.types.TInt32;

/**
 * Writes a soft-label file (FKD's label generation, algorithms.md §3.4): for every training image, in
 * dataset order, R random resized crops ({@link CropSampler}, seeded by the seed and the image's
 * position), each cut out of the image by {@code CropAndResize} exactly as training will replay it,
 * labelled by the teacher's evaluation pass with its top-k probabilities. An image folder's crops are
 * drawn on each file's full-size image and cut while it is decoded ({@link ImageFolderDataset#cropBatch}),
 * as training replays them there.
 */
public final class SoftLabelGenerator {
  /** Crops per teacher run (each image with all its crops). */
  private static final int CROPS_PER_RUN = 512;

  /**
   * What to generate.
   *
   * @param crops crops per image (R)
   * @param topK probabilities kept per crop
   * @param minScale smallest crop area as a fraction of the image
   * @param maxScale largest crop area
   * @param seed seed of the crop sampler
   */
  public record Settings(int crops, int topK, double minScale, double maxScale, long seed) {
    public Settings {
      if (crops < 1) {
        throw new IllegalArgumentException("crops: must be >= 1, got " + crops);
      }
      if (topK < 1) {
        throw new IllegalArgumentException("topK: must be >= 1, got " + topK);
      }
    }
  }

  private SoftLabelGenerator() {}

  /**
   * Labels every crop of {@code train} with {@code teacher} into {@code out} (written whole or not at
   * all); {@code progress} hears the images done so far.
   */
  public static SoftLabelFile.Header generate(OnlineTeacher teacher, Dataset train, Path out, Settings s,
      IntConsumer progress) {
    ImageFolderDataset folder = train instanceof ImageFolderDataset f ? f : null;
    int[] shape = train.imageShape();
    int classes = teacher.teacher().numClasses();
    if (s.topK() > classes) {
      throw new IllegalArgumentException("topK: " + s.topK() + " exceeds the teacher's " + classes + " classes");
    }
    CropSampler sampler = new CropSampler(shape[0], shape[1], s.minScale(), s.maxScale());
    SoftLabelFile.Header header = new SoftLabelFile.Header(train.size(), s.crops(), classes, s.topK(), shape,
        SoftLabelReplay.labelsCrc32(train), teacher.checkpoint().toString(), s.seed(), s.minScale(), s.maxScale());
    try (Graph g = new Graph(); Session session = new Session(g);
        SoftLabelFile.Writer writer = new SoftLabelFile.Writer(out, header)) {
      Ops tf = Ops.create(g);
      Placeholder<TFloat32> images = tf.placeholder(TFloat32.class,
          Placeholder.shape(Shape.of(-1, shape[0], shape[1], shape[2])));
      Placeholder<TFloat32> boxes = tf.placeholder(TFloat32.class, Placeholder.shape(Shape.of(-1, 4)));
      Placeholder<TInt32> boxImages = tf.placeholder(TInt32.class, Placeholder.shape(Shape.of(-1)));
      Operand<TFloat32> cropped = cropAndResize(tf, images, boxes, boxImages, shape);
      Teacher net = new Teacher(tf, teacher, cropped);
      TopK<TFloat32, TInt32> top = tf.nn.topK(net.probabilities(), tf.constant(s.topK()), TInt32.class);
      session.initialize();
      net.load(session);
      int done = 0;
      int imagesPerRun = Math.max(1, CROPS_PER_RUN / s.crops());
      // Crops drawn for a folder image once its size is known, by image position.
      Map<Integer, List<StoredCrop>> folderDraws = new HashMap<>();
      Iterator<Batch> batches = folder == null ? train.batches(imagesPerRun, false, 0, false)
          : folder.cropBatches(imagesPerRun, false, 0, false, s.crops(), (image, h, w) -> {
            List<StoredCrop> crops = draw(new CropSampler(h, w, s.minScale(), s.maxScale()), s, image);
            folderDraws.put(image, crops);
            return crops.stream().map(c -> c.pixels(h, w)).toArray(PixelCrop[]::new);
          });
      while (batches.hasNext()) {
        try (Batch b = batches.next()) {
          int m = b.indices().length;
          int n = m * s.crops();
          List<List<StoredCrop>> drawn = new ArrayList<>();
          float[] box = new float[n * 4];
          int[] owner = new int[n];
          for (int k = 0; k < m; k++) {
            int image = b.indices()[k];
            List<StoredCrop> crops = folder == null ? draw(sampler, s, image) : folderDraws.remove(image);
            for (int r = 0; r < s.crops(); r++) {
              if (folder == null) {
                crops.get(r).box(shape[0], shape[1], box, (k * s.crops() + r) * 4);
                owner[k * s.crops() + r] = k;
              } else {
                // Already cut, crop-major: the whole of row r·m + k.
                StoredCrop.wholeBox(box, (k * s.crops() + r) * 4);
                owner[k * s.crops() + r] = r * m + k;
              }
            }
            drawn.add(crops);
          }
          try (TFloat32 boxT = TFloat32.tensorOf(Shape.of(n, 4), DataBuffers.of(box, true, false));
              TInt32 ownerT = TInt32.tensorOf(Shape.of(n), DataBuffers.of(owner, true, false));
              Result r = session.runner().feed(images, b.images()).feed(boxes, boxT).feed(boxImages, ownerT)
                  .fetch(top.values()).fetch(top.indices()).run()) {
            TFloat32 values = (TFloat32) r.get(0);
            TInt32 indices = (TInt32) r.get(1);
            for (int k = 0; k < m; k++) {
              List<StoredCrop> labelled = new ArrayList<>();
              for (int j = 0; j < s.crops(); j++) {
                int row = k * s.crops() + j;
                int[] cls = new int[s.topK()];
                float[] p = new float[s.topK()];
                for (int t = 0; t < s.topK(); t++) {
                  cls[t] = indices.getInt(row, t);
                  p[t] = values.getFloat(row, t);
                }
                StoredCrop c = drawn.get(k).get(j);
                labelled.add(new StoredCrop(c.top(), c.left(), c.height(), c.width(), c.flip(), cls, p));
              }
              writer.append(labelled);
            }
          }
          done += m;
          progress.accept(done);
        }
      }
      writer.finish();
    }
    return header;
  }

  /** Image {@code image}'s R crops (no labels yet), drawn from its own seed. */
  private static List<StoredCrop> draw(CropSampler sampler, Settings s, int image) {
    Random rnd = new Random(SoftLabelReplay.imageSeed(s.seed(), image));
    List<StoredCrop> crops = new ArrayList<>();
    for (int r = 0; r < s.crops(); r++) {
      crops.add(sampler.next(rnd));
    }
    return crops;
  }

  /** The crops of {@code images} at the images' own size, bilinear: what training replays too. */
  public static Operand<TFloat32> cropAndResize(Ops tf, Operand<TFloat32> images, Operand<TFloat32> boxes,
      Operand<TInt32> boxImages, int[] shape) {
    return tf.image.cropAndResize(images, boxes, boxImages, tf.constant(new int[] {shape[0], shape[1]}));
  }
}

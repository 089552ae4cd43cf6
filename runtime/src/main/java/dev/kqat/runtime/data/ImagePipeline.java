package dev.kqat.runtime.data;

import java.util.Arrays;
import org.tensorflow.Graph;
import org.tensorflow.Operand;
import org.tensorflow.Result;
import org.tensorflow.Session;
import org.tensorflow.ndarray.Shape;
import org.tensorflow.ndarray.buffer.DataBuffers;
import org.tensorflow.op.Ops;
import org.tensorflow.op.core.Placeholder;
import org.tensorflow.op.image.DecodeImage;
import org.tensorflow.op.image.ScaleAndTranslate;
import org.tensorflow.op.image.StatelessSampleDistortedBoundingBox;
import org.tensorflow.types.TBool;
import org.tensorflow.types.TFloat32;
import org.tensorflow.types.TInt32;
import org.tensorflow.types.TInt64;
import org.tensorflow.types.TString;
import org.tensorflow.types.TUint8;

/**
 * Decodes and transforms one image file with TensorFlow ops, in a small graph of its own.
 *
 * <p>Training: random resized crop (area 8–100 %, aspect ratio 3/4–4/3, TensorFlow's sampler with
 * 10 attempts, whole image when none fits) to {@code size × size}, then a horizontal flip with
 * probability ½. Both draws are stateless, keyed by (epoch seed, example index), so a resumed run
 * sees the same crops. Evaluation: resize the shorter side to {@code resize}, centre crop
 * {@code size × size} (torchvision's {@code Resize} + {@code CenterCrop}). Resizing is bilinear
 * with antialiasing, like PIL. Pixels are scaled to [0, 1], then normalised per channel.
 *
 * <p>Given crops ({@link #decode} then {@link #crop}): an image decoded once, then any crop of it in
 * its own pixels resized to {@code size × size} the same way, mirrored when asked: stored soft labels
 * are written and replayed through this one path.
 */
public final class ImagePipeline implements AutoCloseable {
  private final int size;
  private final Graph graph;
  private final Session session;
  private final Placeholder<TString> file;
  private final Placeholder<TInt64> key;
  private final Operand<TFloat32> train;
  private final Operand<TFloat32> eval;
  private final Operand<TUint8> decoded;
  private final Placeholder<TUint8> source;
  private final Placeholder<TInt32> cropBegin;
  private final Placeholder<TInt32> cropSize;
  private final Placeholder<TBool> cropFlip;
  private final Operand<TFloat32> cropped;

  /**
   * @param size side of the square output image
   * @param resize shorter side before the evaluation centre crop (torchvision: 256 for 224)
   */
  public ImagePipeline(int size, int resize, float[] mean, float[] std) {
    if (size < 1 || resize < size) {
      throw new IllegalArgumentException("need 1 <= size <= resize, got size " + size + ", resize " + resize);
    }
    if (mean.length != 3 || std.length != 3) {
      throw new IllegalArgumentException("mean and std need 3 (RGB) values, got "
          + Arrays.toString(mean) + " and " + Arrays.toString(std));
    }
    this.size = size;
    this.graph = new Graph();
    Ops tf = Ops.create(graph);
    file = tf.placeholder(TString.class, Placeholder.shape(Shape.scalar()));
    key = tf.placeholder(TInt64.class, Placeholder.shape(Shape.of(2)));
    Operand<TUint8> image = tf.image.decodeImage(tf.io.readFile(file), TUint8.class,
        DecodeImage.channels(3L), DecodeImage.expandAnimations(false));
    Operand<TInt32> shape = tf.shape(image);

    StatelessSampleDistortedBoundingBox<TInt32> box = tf.image.statelessSampleDistortedBoundingBox(
        shape, tf.zeros(tf.constant(new int[] {1, 0, 4}), TFloat32.class), tf.constant(0f), key,
        StatelessSampleDistortedBoundingBox.areaRange(0.08f, 1f),
        StatelessSampleDistortedBoundingBox.aspectRatioRange(3f / 4f, 4f / 3f),
        StatelessSampleDistortedBoundingBox.maxAttempts(10L),
        StatelessSampleDistortedBoundingBox.useImageIfNoBoundingBoxes(true));
    Operand<TFloat32> crop = resize(tf, tf.slice(image, box.begin(), box.sizeOutput()),
        tf.constant(new float[] {size, size}));
    Operand<TFloat32> coin = tf.random.statelessRandomUniform(
        tf.constant(new int[0]), tf.math.add(key, tf.constant(new long[] {0L, 0x5DEECE66DL})), TFloat32.class);
    Operand<TFloat32> flipped = tf.select(tf.math.less(coin, tf.constant(0.5f)),
        tf.reverse(crop, tf.constant(new int[] {2})), crop);
    train = normalise(tf, flipped, mean, std);

    Operand<TFloat32> hw = tf.dtypes.cast(tf.slice(shape, tf.constant(new int[] {0}), tf.constant(new int[] {2})),
        TFloat32.class);
    Operand<TFloat32> shorter = tf.min(hw, tf.constant(0));
    // torchvision truncates the longer side: int(resize * long / short). The epsilon keeps the
    // shorter side at exactly `resize` despite float rounding.
    Operand<TFloat32> resizedHw = tf.math.floor(
        tf.math.add(tf.math.div(tf.math.mul(hw, tf.constant((float) resize)), shorter), tf.constant(1e-3f)));
    Operand<TFloat32> resized = resize(tf, image, resizedHw);
    Operand<TInt32> offset = tf.dtypes.cast(
        tf.math.round(tf.math.div(tf.math.sub(resizedHw, tf.constant((float) size)), tf.constant(2f))),
        TInt32.class);
    Operand<TInt32> begin = tf.concat(java.util.List.of(tf.constant(new int[] {0}), offset, tf.constant(new int[] {0})),
        tf.constant(0));
    eval = normalise(tf, tf.slice(resized, begin, tf.constant(new int[] {1, size, size, 3})), mean, std);

    decoded = image;
    source = tf.placeholder(TUint8.class, Placeholder.shape(Shape.of(-1, -1, 3)));
    cropBegin = tf.placeholder(TInt32.class, Placeholder.shape(Shape.of(3)));
    cropSize = tf.placeholder(TInt32.class, Placeholder.shape(Shape.of(3)));
    cropFlip = tf.placeholder(TBool.class, Placeholder.shape(Shape.scalar()));
    Operand<TFloat32> given = resize(tf, tf.slice(source, cropBegin, cropSize), tf.constant(new float[] {size, size}));
    cropped = normalise(tf, tf.select(cropFlip, tf.reverse(given, tf.constant(new int[] {2})), given), mean, std);
    session = new Session(graph);
  }

  /** Bilinear antialiased resize of an [h, w, 3] image to [1, out_h, out_w, 3] floats. */
  private static Operand<TFloat32> resize(Ops tf, Operand<TUint8> image, Operand<TFloat32> outHw) {
    Operand<TFloat32> batch = tf.expandDims(tf.dtypes.cast(image, TFloat32.class), tf.constant(0));
    Operand<TFloat32> inHw = tf.dtypes.cast(
        tf.slice(tf.shape(image), tf.constant(new int[] {0}), tf.constant(new int[] {2})), TFloat32.class);
    return tf.image.scaleAndTranslate(batch, tf.dtypes.cast(outHw, TInt32.class), tf.math.div(outHw, inHw),
        tf.constant(new float[] {0f, 0f}), ScaleAndTranslate.kernelType("triangle"), ScaleAndTranslate.antialias(true));
  }

  private static Operand<TFloat32> normalise(Ops tf, Operand<TFloat32> x, float[] mean, float[] std) {
    float[] m = new float[3];
    float[] s = new float[3];
    for (int c = 0; c < 3; c++) {
      m[c] = 255f * mean[c];
      s[c] = 255f * std[c];
    }
    return tf.math.div(tf.math.sub(x, tf.constant(m)), tf.constant(s));
  }

  public int size() {
    return size;
  }

  /** Values per output image ({@code size * size * 3}). */
  public int imageLength() {
    return size * size * 3;
  }

  /** Writes the augmented training view of {@code path} into {@code dst[offset ...]}. */
  public void train(String path, long seed, long index, float[] dst, int offset) {
    run(path, train, seed, index, dst, offset);
  }

  /** Writes the resized, centre-cropped evaluation view of {@code path} into {@code dst[offset ...]}. */
  public void eval(String path, float[] dst, int offset) {
    run(path, eval, 0, 0, dst, offset);
  }

  /** An image decoded once, to cut several crops from; close it. */
  public static final class Decoded implements AutoCloseable {
    private final String path;
    private final TUint8 pixels;

    private Decoded(String path, TUint8 pixels) {
      this.path = path;
      this.pixels = pixels;
    }

    public int height() {
      return (int) pixels.shape().get(0);
    }

    public int width() {
      return (int) pixels.shape().get(1);
    }

    @Override
    public void close() {
      pixels.close();
    }
  }

  /** Decodes {@code path} (RGB) for {@link #crop}. */
  public Decoded decode(String path) {
    try (TString f = TString.scalarOf(path);
        TInt64 k = TInt64.vectorOf(0, 0);
        Result r = session.runner().feed(file, f).feed(key, k).fetch(decoded).run()) {
      // The result closes its tensors: keep a copy of the pixels.
      TUint8 pixels = (TUint8) r.get(0);
      TUint8 kept = TUint8.tensorOf(pixels.shape());
      pixels.copyTo(kept);
      return new Decoded(path, kept);
    } catch (RuntimeException e) {
      throw unreadable(path, e);
    }
  }

  /** Writes {@code crop} of {@code image}, resized to {@code size × size} and normalised, into {@code dst[offset ...]}. */
  public void crop(Decoded image, PixelCrop crop, float[] dst, int offset) {
    if (crop.top() + crop.height() > image.height() || crop.left() + crop.width() > image.width()) {
      throw new DatasetException(image.path + ": crop " + crop + " reaches outside the image of "
          + image.height() + "×" + image.width() + " pixels");
    }
    try (TInt32 begin = TInt32.vectorOf(crop.top(), crop.left(), 0);
        TInt32 extent = TInt32.vectorOf(crop.height(), crop.width(), 3);
        TBool flip = TBool.scalarOf(crop.flip());
        Result r = session.runner().feed(source, image.pixels).feed(cropBegin, begin).feed(cropSize, extent)
            .feed(cropFlip, flip).fetch(cropped).run()) {
      ((TFloat32) r.get(0)).copyTo(DataBuffers.of(dst, false, false).slice(offset, imageLength()));
    }
  }

  private void run(String path, Operand<TFloat32> out, long seed, long index, float[] dst, int offset) {
    try (TString f = TString.scalarOf(path);
        TInt64 k = TInt64.vectorOf(seed, index);
        Result r = session.runner().feed(file, f).feed(key, k).fetch(out).run()) {
      ((TFloat32) r.get(0)).copyTo(DataBuffers.of(dst, false, false).slice(offset, imageLength()));
    } catch (RuntimeException e) {
      // TensorFlow's status exceptions (TFInvalidArgumentException, TFNotFoundException, ...) do
      // not share a base class beyond RuntimeException.
      throw unreadable(path, e);
    }
  }

  private static DatasetException unreadable(String path, RuntimeException e) {
    return new DatasetException(path + ": cannot read or decode image (" + firstLine(e.getMessage()) + ")", e);
  }

  private static String firstLine(String message) {
    if (message == null) {
      return "no detail";
    }
    int nl = message.indexOf('\n');
    return nl < 0 ? message : message.substring(0, nl);
  }

  @Override
  public void close() {
    session.close();
    graph.close();
  }
}

package dev.kqat.runtime.nn;

import dev.kqat.runtime.tf.ParamRole;
import dev.kqat.runtime.tf.ParamStore;
import java.util.List;
import org.tensorflow.Operand;
import org.tensorflow.ndarray.Shape;
import org.tensorflow.ndarray.buffer.DataBuffers;
import org.tensorflow.op.Ops;
import org.tensorflow.op.core.Variable;
import org.tensorflow.types.TFloat32;
import org.tensorflow.types.TInt32;

/**
 * Swin's (shifted) window attention on a [batch, H, W, C] feature map (algorithms.md §4): the map
 * is cut into {@code window}×{@code window} windows, optionally after a cyclic shift by
 * {@code shift} pixels up and left; inside each window, multi-head self-attention with separate Q, K
 * and V and a learned relative position bias ({@code (2·window-1)²} entries per head); with a shift,
 * tokens that were not neighbours before the shift are kept apart by an attention mask (−100 added
 * to their scores, as the reference). The result is shifted back.
 */
public final class WindowAttention {
  /** What the reference adds to the scores of token pairs from different regions. */
  public static final float MASKED = -100f;

  private WindowAttention() {}

  /**
   * @param name layer prefix: projections {@code name/q|k|v|proj}, the bias table
   *     {@code name/relative_position_bias_table}
   */
  public static Operand<TFloat32> apply(
      NetContext ctx, String name, Operand<TFloat32> x, int heads, int window, int shift) {
    Ops tf = ctx.tf();
    Shape shape = x.shape();
    int height = (int) shape.get(1);
    int width = (int) shape.get(2);
    int dim = Layers.channels(x);
    if (height % window != 0 || width % window != 0) {
      throw new IllegalArgumentException(name + ": feature map " + height + "x" + width
          + " is not a multiple of the window " + window);
    }
    int tokens = window * window;
    int windows = (height / window) * (width / window);
    Operand<TFloat32> shifted = shift == 0 ? x : roll(ctx, x, -shift, height, width);
    Operand<TFloat32> inWindows = partition(ctx, shifted, window, height, width, dim); // [N·nW, T, C]
    Operand<TFloat32> projected = Attention.attend(ctx, name, inWindows, heads, scores -> {
      Operand<TFloat32> biased = tf.math.add(scores, relativePositionBias(ctx, name, heads, window)); // [h, T, T] broadcast
      if (shift == 0) {
        return biased;
      }
      // [N·nW, h, T, T] → [N, nW, h, T, T] + mask [nW, 1, T, T] → back.
      Operand<TFloat32> perImage = tf.reshape(biased, tf.constant(new long[] {-1, windows, heads, tokens, tokens}));
      Operand<TFloat32> mask = tf.constant(Shape.of(windows, 1, tokens, tokens),
          DataBuffers.of(shiftMask(height, width, window, shift), true, false));
      return tf.reshape(tf.math.add(perImage, mask), tf.constant(new long[] {-1, heads, tokens, tokens}));
    });
    Operand<TFloat32> back = reverse(ctx, projected, window, height, width, dim);
    return shift == 0 ? back : roll(ctx, back, shift, height, width);
  }

  /** The [h, T, T] bias: the table's entry for each query–key offset, per head. */
  private static Operand<TFloat32> relativePositionBias(NetContext ctx, String name, int heads, int window) {
    Ops tf = ctx.tf();
    ParamStore p = ctx.params();
    int entries = (2 * window - 1) * (2 * window - 1);
    String tableName = name + "/relative_position_bias_table";
    Variable<TFloat32> table = p.getOrCreate(tableName, Shape.of(entries, heads), ParamRole.WEIGHT,
        s -> p.normal(tableName, s, TransformerLayers.INIT_STD));
    p.excludeFromDecay(tableName);
    int tokens = window * window;
    Operand<TInt32> index = tf.constant(Shape.of(tokens * tokens), DataBuffers.of(relativePositionIndex(window), true, false));
    Operand<TFloat32> gathered = tf.gather(table, index, tf.constant(0)); // [T·T, h]
    Operand<TFloat32> square = tf.reshape(gathered, tf.constant(new long[] {tokens, tokens, heads}));
    return tf.linalg.transpose(square, tf.constant(new int[] {2, 0, 1}));
  }

  /**
   * For query token i and key token j of a window (row-major), the table row of their offset:
   * {@code (dy + w - 1)·(2w - 1) + (dx + w - 1)} with {@code dy = y_i - y_j}, {@code dx = x_i - x_j}.
   */
  public static int[] relativePositionIndex(int window) {
    int tokens = window * window;
    int[] index = new int[tokens * tokens];
    for (int i = 0; i < tokens; i++) {
      for (int j = 0; j < tokens; j++) {
        int dy = i / window - j / window + window - 1;
        int dx = i % window - j % window + window - 1;
        index[i * tokens + j] = dy * (2 * window - 1) + dx;
      }
    }
    return index;
  }

  /**
   * The [windows, T, T] mask of a map shifted by {@code shift}: pixels are labelled by the region
   * they came from (the three bands {@code [0, H-w)}, {@code [H-w, H-s)}, {@code [H-s, H)} in each
   * direction); a pair of tokens of one window with different labels gets {@link #MASKED}.
   */
  public static float[] shiftMask(int height, int width, int window, int shift) {
    int[] labels = new int[height * width];
    for (int y = 0; y < height; y++) {
      for (int x = 0; x < width; x++) {
        labels[y * width + x] = band(y, height, window, shift) * 3 + band(x, width, window, shift);
      }
    }
    int tokens = window * window;
    int across = width / window;
    int windows = (height / window) * across;
    float[] mask = new float[windows * tokens * tokens];
    for (int w = 0; w < windows; w++) {
      int top = (w / across) * window;
      int left = (w % across) * window;
      for (int i = 0; i < tokens; i++) {
        int a = labels[(top + i / window) * width + left + i % window];
        for (int j = 0; j < tokens; j++) {
          int b = labels[(top + j / window) * width + left + j % window];
          mask[(w * tokens + i) * tokens + j] = a == b ? 0f : MASKED;
        }
      }
    }
    return mask;
  }

  private static int band(int at, int size, int window, int shift) {
    return at < size - window ? 0 : at < size - shift ? 1 : 2;
  }

  /** [N, H, W, C] to [N·nW, w·w, C], windows in row-major order. */
  static Operand<TFloat32> partition(NetContext ctx, Operand<TFloat32> x, int window, int height, int width, int dim) {
    Ops tf = ctx.tf();
    Operand<TFloat32> blocks = tf.reshape(x, tf.constant(new long[] {-1, height / window, window, width / window, window, dim}));
    Operand<TFloat32> grouped = tf.linalg.transpose(blocks, tf.constant(new int[] {0, 1, 3, 2, 4, 5}));
    return tf.reshape(grouped, tf.constant(new long[] {-1, (long) window * window, dim}));
  }

  /** The inverse of {@link #partition}. */
  static Operand<TFloat32> reverse(NetContext ctx, Operand<TFloat32> windows, int window, int height, int width, int dim) {
    Ops tf = ctx.tf();
    Operand<TFloat32> blocks = tf.reshape(windows, tf.constant(new long[] {-1, height / window, width / window, window, window, dim}));
    Operand<TFloat32> grouped = tf.linalg.transpose(blocks, tf.constant(new int[] {0, 1, 3, 2, 4, 5}));
    return tf.reshape(grouped, tf.constant(new long[] {-1, height, width, dim}));
  }

  /** Cyclic shift by {@code by} pixels along H and W (negative: up and left), as {@code torch.roll}. */
  static Operand<TFloat32> roll(NetContext ctx, Operand<TFloat32> x, int by, int height, int width) {
    return rollAxis(ctx, rollAxis(ctx, x, by, height, 1), by, width, 2);
  }

  private static Operand<TFloat32> rollAxis(NetContext ctx, Operand<TFloat32> x, int by, int size, int axis) {
    Ops tf = ctx.tf();
    int cut = Math.floorMod(-by, size); // output starts at input index cut
    // int32 begin and size: Slice's C++ gradient builds int32 shapes.
    int[] begin = {0, 0, 0, 0};
    int[] headSize = {-1, -1, -1, -1};
    int[] tailSize = {-1, -1, -1, -1};
    begin[axis] = cut;
    headSize[axis] = size - cut;
    tailSize[axis] = cut;
    Operand<TFloat32> head = tf.slice(x, tf.constant(begin), tf.constant(headSize));
    Operand<TFloat32> tail = tf.slice(x, tf.constant(new int[] {0, 0, 0, 0}), tf.constant(tailSize));
    return tf.concat(List.of(head, tail), tf.constant(axis));
  }
}

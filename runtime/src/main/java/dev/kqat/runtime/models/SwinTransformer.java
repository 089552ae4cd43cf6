package dev.kqat.runtime.models;

import dev.kqat.runtime.quant.LayerKind;
import static dev.kqat.runtime.nn.TransformerLayers.dropPath;
import static dev.kqat.runtime.nn.TransformerLayers.layerNorm;
import static dev.kqat.runtime.nn.TransformerLayers.mlp;

import dev.kqat.runtime.nn.Layers;
import dev.kqat.runtime.nn.NetContext;
import dev.kqat.runtime.nn.TransformerLayers;
import dev.kqat.runtime.nn.WindowAttention;
import org.tensorflow.Operand;
import org.tensorflow.op.Ops;
import org.tensorflow.types.TFloat32;

/**
 * Swin Transformer (algorithms.md §4) as timm's {@code swin_*_patch4_window7}: a 4×4 patch
 * embedding with LayerNorm, four stages of pre-norm blocks with (shifted) window attention
 * ({@link WindowAttention}; odd blocks shift by half a window unless the map is no larger than one
 * window), patch merging (2×2 neighbours concatenated, LayerNorm, a linear 4C → 2C without bias)
 * before stages 2–4, a final LayerNorm, average pooling and the head. The feature map stays
 * [batch, H, W, C]; stochastic depth rises linearly over all blocks to {@code dropPath}.
 *
 * <p>Layer names: {@code patch_embed}, {@code layers/<s>/blocks/<b>/attn/{q,k,v,proj}},
 * {@code layers/<s>/blocks/<b>/mlp/{fc1,fc2}}, {@code layers/<s>/downsample/reduction}, {@code head}.
 */
public final class SwinTransformer extends ImageClassifier {
  /**
   * @param patch patch side
   * @param dim width of the first stage (doubled by each merge)
   * @param depths blocks per stage
   * @param heads attention heads per stage
   * @param window window side
   * @param mlpRatio MLP hidden width over the stage width
   * @param dropPath stochastic-depth rate of the last block
   */
  public record Config(int patch, int dim, int[] depths, int[] heads, int window, double mlpRatio, double dropPath) {
    public Config {
      if (depths.length != heads.length || depths.length == 0) {
        throw new IllegalArgumentException("Swin needs one depth and one head count per stage");
      }
      if (!(dropPath >= 0 && dropPath < 1)) {
        throw new IllegalArgumentException("dropPath must be in [0, 1), got " + dropPath);
      }
      depths = depths.clone();
      heads = heads.clone();
    }

    /** Swin-T: patch 4, width 96, depths (2, 2, 6, 2), heads (3, 6, 12, 24), window 7 (28,288,354 weights). */
    public static Config tiny(double dropPath) {
      return new Config(4, 96, new int[] {2, 2, 6, 2}, new int[] {3, 6, 12, 24}, 7, 4.0, dropPath);
    }
  }

  /** timm's LayerNorm ε for Swin. */
  static final float EPSILON = 1e-5f;

  private final Config config;

  public SwinTransformer(String name, Config config, int numClasses, int[] inputShape) {
    super(name, numClasses, inputShape);
    this.config = config;
  }

  @Override
  public Operand<TFloat32> forward(NetContext ctx, Operand<TFloat32> images) {
    Operand<TFloat32> x = TransformerLayers.patchProjection(ctx, "patch_embed", images, config.patch(), config.dim());
    x = layerNorm(ctx, "patch_embed/norm", x, EPSILON);
    int total = java.util.Arrays.stream(config.depths()).sum();
    int blockIndex = 0;
    for (int s = 0; s < config.depths().length; s++) {
      String stage = "layers/" + s;
      if (s > 0) {
        x = patchMerging(ctx, stage + "/downsample", x);
      }
      int height = (int) x.shape().get(1);
      int width = (int) x.shape().get(2);
      // A map no larger than a window is one window, never shifted (timm).
      int window = Math.min(config.window(), Math.min(height, width));
      for (int b = 0; b < config.depths()[s]; b++, blockIndex++) {
        String block = stage + "/blocks/" + b;
        int shift = b % 2 == 1 && Math.min(height, width) > config.window() ? window / 2 : 0;
        float rate = TransformerLayers.dropPathRate(config.dropPath(), blockIndex, total);
        Operand<TFloat32> attended = WindowAttention.apply(
            ctx, block + "/attn", layerNorm(ctx, block + "/norm1", x, EPSILON), config.heads()[s], window, shift);
        x = Layers.add(ctx, x, dropPath(ctx, block + "/drop_path1", attended, rate));
        int hidden = (int) Math.round(Layers.channels(x) * config.mlpRatio());
        Operand<TFloat32> mixed = mlp(ctx, block + "/mlp", layerNorm(ctx, block + "/norm2", x, EPSILON), hidden);
        x = Layers.add(ctx, x, dropPath(ctx, block + "/drop_path2", mixed, rate));
      }
    }
    x = layerNorm(ctx, "norm", x, EPSILON);
    return Layers.dense(ctx, "head", Layers.globalAvgPool(ctx, x), numClasses, TransformerLayers.INIT_STD);
  }

  /**
   * 2×2 neighbourhoods concatenated in timm's order ([..., w parity, h parity, C] flattened), then
   * LayerNorm over 4C and a linear 4C → 2C without bias.
   */
  static Operand<TFloat32> patchMerging(NetContext ctx, String name, Operand<TFloat32> x) {
    Ops tf = ctx.tf();
    long height = x.shape().get(1);
    long width = x.shape().get(2);
    int dim = Layers.channels(x);
    if (height % 2 != 0 || width % 2 != 0) {
      throw new IllegalArgumentException(name + ": feature map " + height + "x" + width + " cannot be merged 2x2");
    }
    Operand<TFloat32> split = tf.reshape(x, tf.constant(new long[] {-1, height / 2, 2, width / 2, 2, dim}));
    Operand<TFloat32> ordered = tf.linalg.transpose(split, tf.constant(new int[] {0, 1, 3, 4, 2, 5}));
    Operand<TFloat32> merged = tf.reshape(ordered, tf.constant(new long[] {-1, height / 2, width / 2, 4L * dim}));
    return Layers.dense(ctx, name + "/reduction", layerNorm(ctx, name + "/norm", merged, EPSILON), 2 * dim,
        TransformerLayers.INIT_STD, false, LayerKind.PATCH_MERGING);
  }
}

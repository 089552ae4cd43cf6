package dev.kqat.runtime.models;

import dev.kqat.runtime.quant.ActivationPoint;
import static dev.kqat.runtime.nn.TransformerLayers.classToken;
import static dev.kqat.runtime.nn.TransformerLayers.classTokenAndPositions;
import static dev.kqat.runtime.nn.TransformerLayers.dropPath;
import static dev.kqat.runtime.nn.TransformerLayers.layerNorm;
import static dev.kqat.runtime.nn.TransformerLayers.mlp;
import static dev.kqat.runtime.nn.TransformerLayers.patchEmbedding;

import dev.kqat.runtime.nn.Attention;
import dev.kqat.runtime.nn.Layers;
import dev.kqat.runtime.nn.NetContext;
import dev.kqat.runtime.nn.TransformerLayers;
import org.tensorflow.Operand;
import org.tensorflow.types.TFloat32;

/**
 * A ViT / DeiT classifier (algorithms.md §4): patch embedding, class token and learned position
 * embedding, {@code depth} pre-norm blocks {@code x + attn(LN1(x))}, {@code x + mlp(LN2(x))}, a final
 * LayerNorm and a linear head on the class token. Stochastic depth rises linearly from 0 at the first
 * block to {@code dropPath} at the last (timm's rule).
 *
 * <p>Layer names: {@code patch_embed}, {@code blocks/<i>/attn/{q,k,v,proj}},
 * {@code blocks/<i>/mlp/{fc1,fc2}}, {@code blocks/<i>/norm1|norm2}, {@code norm}, {@code head};
 * the class token and position embedding are {@code embed/cls_token} and {@code embed/pos_embed}.
 */
public final class VisionTransformer extends ImageClassifier {
  /**
   * The architecture's settings.
   *
   * @param patch patch side in pixels
   * @param dim token width
   * @param depth number of blocks
   * @param heads attention heads per block
   * @param mlpRatio MLP hidden width over {@code dim}
   * @param dropPath stochastic-depth rate of the last block
   * @param layerNormEpsilon LayerNorm ε (DeiT: 1e-6)
   */
  public record Config(int patch, int dim, int depth, int heads, double mlpRatio, double dropPath, float layerNormEpsilon) {
    public Config {
      if (patch < 1 || dim < 1 || depth < 1 || heads < 1 || mlpRatio <= 0) {
        throw new IllegalArgumentException("ViT settings must be positive: " + this);
      }
      if (dim % heads != 0) {
        throw new IllegalArgumentException("ViT width " + dim + " is not divisible by " + heads + " heads");
      }
      if (!(dropPath >= 0 && dropPath < 1)) {
        throw new IllegalArgumentException("dropPath must be in [0, 1), got " + dropPath);
      }
    }

    /** DeiT-Tiny: patch 16, width 192, 12 blocks, 3 heads (5,717,416 parameters at 1000 classes, 224 px). */
    public static Config deitTiny(double dropPath) {
      return new Config(16, 192, 12, 3, 4.0, dropPath, 1e-6f);
    }

    /** DeiT-Small: patch 16, width 384, 12 blocks, 6 heads (22,050,664 parameters). */
    public static Config deitSmall(double dropPath) {
      return new Config(16, 384, 12, 6, 4.0, dropPath, 1e-6f);
    }

    /**
     * The Fashion-MNIST reference ViT: patch 4 on 28×28 (49 patches and the class token), width 64,
     * 3 blocks of 4 heads; about 1.7× tiny-MBV2's multiply-accumulates per image (docs/benchmarks.md).
     */
    public static Config tiny(double dropPath) {
      return new Config(4, 64, 3, 4, 4.0, dropPath, 1e-6f);
    }
  }

  private final Config config;

  public VisionTransformer(String name, Config config, int numClasses, int[] inputShape) {
    super(name, numClasses, inputShape);
    this.config = config;
  }

  public Config config() {
    return config;
  }

  @Override
  public Operand<TFloat32> forward(NetContext ctx, Operand<TFloat32> images) {
    Operand<TFloat32> input = ctx.quantizeActivation(ActivationPoint.PATCH_INPUT, "patch_embed/input", images);
    Operand<TFloat32> x = patchEmbedding(ctx, "patch_embed", input, config.patch(), config.dim());
    x = classTokenAndPositions(ctx, "embed", x);
    int hidden = (int) Math.round(config.dim() * config.mlpRatio());
    for (int i = 0; i < config.depth(); i++) {
      String block = "blocks/" + i;
      float rate = TransformerLayers.dropPathRate(config.dropPath(), i, config.depth());
      Operand<TFloat32> attended = Attention.multiHeadSelfAttention(
          ctx, block + "/attn", layerNorm(ctx, block + "/norm1", x, config.layerNormEpsilon()), config.heads());
      x = Layers.add(ctx, x, dropPath(ctx, block + "/drop_path1", attended, rate));
      Operand<TFloat32> mixed = mlp(ctx, block + "/mlp", layerNorm(ctx, block + "/norm2", x, config.layerNormEpsilon()), hidden);
      x = Layers.add(ctx, x, dropPath(ctx, block + "/drop_path2", mixed, rate));
    }
    x = layerNorm(ctx, "norm", x, config.layerNormEpsilon());
    return Layers.dense(ctx, "head", classToken(ctx, x), numClasses, TransformerLayers.INIT_STD);
  }
}

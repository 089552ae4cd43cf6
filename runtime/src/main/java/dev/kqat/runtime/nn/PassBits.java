package dev.kqat.runtime.nn;

import dev.kqat.runtime.quant.BitRange;
import java.util.Collections;
import java.util.LinkedHashMap;
import java.util.Map;
import org.tensorflow.Operand;
import org.tensorflow.ndarray.Shape;
import org.tensorflow.op.Ops;
import org.tensorflow.types.TInt32;

/**
 * The bit-widths of one forward pass through a supernet (RFQuant, algorithms.md §2.2): per searchable
 * layer, its weight bits and its input bits as scalar inputs of the graph, made as the pass meets the
 * layer. Unfed, each is the layer's highest candidate (the max subnet); a run feeds integers to pick
 * any other configuration, so one graph serves them all.
 */
public final class PassBits {
  /** One layer's two bit-width inputs and the candidates they range over. */
  public record LayerBits(String layer, BitRange candidates, Operand<TInt32> weight, Operand<TInt32> input) {}

  private final String prefix;
  private final Map<String, LayerBits> layers = new LinkedHashMap<>();
  /** The pass's sub-scope, made once: TF Java's withSubScope scans every op of the graph. */
  private Ops scope;

  /** @param prefix names the inputs {@code <prefix>/<layer>.weight_bits} (slashes of the layer name become dots), so that several passes can coexist */
  public PassBits(String prefix) {
    this.prefix = prefix;
  }

  /** The layer's inputs, made on first use. */
  LayerBits of(Ops tf, String layer, BitRange candidates) {
    return layers.computeIfAbsent(layer, l -> new LayerBits(l, candidates,
        input(tf, l + "/weight_bits", candidates.highest()), input(tf, l + "/input_bits", candidates.highest())));
  }

  private Operand<TInt32> input(Ops tf, String name, int highest) {
    if (scope == null) {
      scope = tf.withSubScope(prefix);
    }
    return scope.withName(name.replace('/', '.')).placeholderWithDefault(tf.constant(highest), Shape.scalar());
  }

  /** The searchable layers met by the pass, in forward order. */
  public Map<String, LayerBits> layers() {
    return Collections.unmodifiableMap(layers);
  }
}

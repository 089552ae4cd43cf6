package dev.kqat.runtime.quant;

import java.util.ArrayDeque;
import java.util.BitSet;
import java.util.Deque;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import org.tensorflow.GraphOperation;
import org.tensorflow.Operand;
import org.tensorflow.Operation;
import org.tensorflow.types.TFloat32;

/**
 * Which quantizers a tensor's value depends on: those whose step size or integer range is among
 * its graph ancestors. Calibration uses it to set, in one pass over the network, every quantizer
 * whose input no longer waits for an upstream quantizer.
 */
final class QuantizerDependencies {
  private final Map<String, Integer> stateOwner = new HashMap<>();
  private final Map<GraphOperation, BitSet> memo = new HashMap<>();
  private final String imagesOp;

  /**
   * @param quantizers the quantizers to track, by index
   * @param images the placeholder whose dependents are reported by {@link #needsImages}
   */
  QuantizerDependencies(List<Quantizer> quantizers, Operation images) {
    for (int i = 0; i < quantizers.size(); i++) {
      Quantizer q = quantizers.get(i);
      stateOwner.put(q.scale().op().name(), i);
      stateOwner.put(q.lowest().op().name(), i);
      stateOwner.put(q.highest().op().name(), i);
    }
    this.imagesOp = images.name();
    // The images get a bit of their own, one past the last quantizer.
    stateOwner.put(imagesOp, quantizers.size());
  }

  /** The indices of the tracked quantizers {@code tensor} depends on (bit {@code size()} = the images). */
  BitSet of(Operand<TFloat32> tensor) {
    GraphOperation root = (GraphOperation) tensor.op();
    // Iterative post-order walk: evaluation passes are thousands of ops deep.
    Deque<GraphOperation> open = new ArrayDeque<>();
    open.push(root);
    while (!open.isEmpty()) {
      GraphOperation op = open.peek();
      if (memo.containsKey(op)) {
        open.pop();
        continue;
      }
      boolean ready = true;
      for (int i = 0; i < op.numInputs(); i++) {
        GraphOperation from = (GraphOperation) op.input(i).op();
        if (!memo.containsKey(from)) {
          open.push(from);
          ready = false;
        }
      }
      if (!ready) {
        continue;
      }
      open.pop();
      BitSet deps = new BitSet();
      Integer owner = stateOwner.get(op.name());
      if (owner != null) {
        deps.set(owner);
      }
      for (int i = 0; i < op.numInputs(); i++) {
        deps.or(memo.get((GraphOperation) op.input(i).op()));
      }
      memo.put(op, deps);
    }
    return (BitSet) memo.get(root).clone();
  }

  /** Whether a dependency set from {@link #of} includes the images. */
  boolean needsImages(BitSet deps) {
    return deps.get(stateOwner.get(imagesOp));
  }
}

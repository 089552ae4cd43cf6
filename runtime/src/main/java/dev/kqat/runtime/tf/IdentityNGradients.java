package dev.kqat.runtime.tf;

import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;
import org.tensorflow.GraphOperation;
import org.tensorflow.Operand;
import org.tensorflow.Output;
import org.tensorflow.TensorFlow;
import org.tensorflow.op.Ops;
import org.tensorflow.op.core.IdentityN;

/**
 * kqat's custom gradients, all carried by TensorFlow's {@code IdentityN} op: the mechanism Python's
 * {@code tf.custom_gradient} uses in graph mode. A value is routed through an {@code IdentityN}
 * named by a marker that also takes what its backward pass needs; the one gradient function
 * registered on {@code IdentityN} hands the op to the gradient of its marker.
 *
 * <p>Only op types without a C++ gradient can be given one from Java (IdentityN has none),
 * registration cannot be undone, and TF Java has reports of crashes after many registrations
 * (tensorflow/java #512, #632): exactly one op type is registered, exactly once. An
 * {@code IdentityN} without a known marker and input count keeps its natural pass-through gradient.
 */
final class IdentityNGradients {
  /** The gradient of a marked op: one operand per input of {@code op}, given its outputs' {@code grads}. */
  interface Gradient {
    List<Operand<?>> of(Ops tf, GraphOperation op, List<Output<?>> grads);
  }

  private record Marked(int inputs, Gradient gradient) {}

  private static final Map<String, Marked> BY_MARKER = new ConcurrentHashMap<>();
  private static volatile boolean registered;

  private IdentityNGradients() {}

  /**
   * Gives {@code IdentityN} ops named {@code marker} (TF's {@code _N} suffix aside) with {@code inputs}
   * inputs the gradient {@code gradient}; safe to call many times.
   */
  static synchronized void register(String marker, int inputs, Gradient gradient) {
    if (!registered) {
      if (!TensorFlow.registerCustomGradient(IdentityN.OP_NAME, IdentityNGradients::gradient)) {
        throw new IllegalStateException("TensorFlow already has a gradient for IdentityN; kqat's gradients cannot be registered");
      }
      registered = true;
    }
    BY_MARKER.putIfAbsent(marker, new Marked(inputs, gradient));
  }

  /** Whether {@code op} is an {@code IdentityN} named {@code marker} with {@code inputs} inputs. */
  static boolean isMarked(GraphOperation op, String marker, int inputs) {
    return op.type().equals(IdentityN.OP_NAME) && markerOf(op).equals(marker) && op.numInputs() == inputs;
  }

  private static List<Operand<?>> gradient(Ops tf, GraphOperation op, List<Output<?>> grads) {
    Marked marked = BY_MARKER.get(markerOf(op));
    if (marked != null && op.numInputs() == marked.inputs()) {
      return marked.gradient().of(tf, op, grads);
    }
    return new ArrayList<>(grads);
  }

  /** The innermost scope of the op's name without the {@code _N} TF adds to make it unique. */
  private static String markerOf(GraphOperation op) {
    String name = op.name();
    return name.substring(name.lastIndexOf('/') + 1).replaceFirst("_[0-9]+$", "");
  }
}

package dev.kqat.runtime.nn;

import dev.kqat.runtime.quant.LayerQuant;
import dev.kqat.runtime.quant.Quantizer;
import java.util.ArrayList;
import java.util.Collections;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import org.tensorflow.Operand;
import org.tensorflow.ndarray.Shape;
import org.tensorflow.op.Op;
import org.tensorflow.op.Ops;
import org.tensorflow.types.TFloat32;
import org.tensorflow.types.TInt64;

/**
 * One forward pass being built: training or evaluation mode over a shared {@link ModelState}.
 * Layers ask it for variables and quantized tensors; it records BN updates (training), the
 * weight layers met, and each input quantizer's un-quantized input (used for range init).
 */
public final class NetContext {
  private final ModelState state;
  private final boolean training;
  private final Operand<TInt64> stepKey;
  private final List<Op> updates = new ArrayList<>();
  private final List<LayerInfoDraft> layersSeen = new ArrayList<>();
  private final Map<String, Operand<TFloat32>> quantizerInputs = new LinkedHashMap<>();

  /** A weight layer as met during the forward pass, before the total count is known. */
  public record LayerInfoDraft(String name, LayerKind kind) {}

  /**
   * @param stepKey per-step random key (for dropout) or null in evaluation
   */
  public NetContext(ModelState state, boolean training, Operand<TInt64> stepKey) {
    this.state = state;
    this.training = training;
    this.stepKey = stepKey;
  }

  public Ops tf() {
    return state.params().tf();
  }

  public ParamStore params() {
    return state.params();
  }

  public boolean training() {
    return training;
  }

  Operand<TInt64> stepKey() {
    return stepKey;
  }

  void addUpdate(Op op) {
    updates.add(op);
  }

  /** Ops that must run with each training step (BN running statistics). */
  public List<Op> updates() {
    return Collections.unmodifiableList(updates);
  }

  public List<LayerInfoDraft> layersSeen() {
    return Collections.unmodifiableList(layersSeen);
  }

  /** Quantizer name to the tensor it quantizes (kernel or layer input), in forward order. */
  public Map<String, Operand<TFloat32>> quantizerInputs() {
    return Collections.unmodifiableMap(quantizerInputs);
  }

  /** Registers a weight layer and returns what the policy decided for it. */
  LayerQuant enterLayer(String name, LayerKind kind) {
    for (LayerInfoDraft d : layersSeen) {
      if (d.name().equals(name)) {
        throw new IllegalStateException("two layers are both called '" + name + "'");
      }
    }
    layersSeen.add(new LayerInfoDraft(name, kind));
    return state.planFor(name);
  }

  /** Fake-quantizes a layer input if the plan says so. */
  Operand<TFloat32> quantizeInput(String layer, LayerQuant plan, Operand<TFloat32> x) {
    if (plan.input() == null) {
      return x;
    }
    Quantizer q = state.quantizer(layer + "/input", plan.input(), Shape.scalar());
    quantizerInputs.put(q.name(), x);
    return q.apply(tf(), x);
  }

  /** Fake-quantizes a kernel; per-channel step sizes follow the kernel's trailing channel dims. */
  Operand<TFloat32> quantizeWeight(
      String layer, LayerQuant plan, Operand<TFloat32> kernel, Shape channelShape) {
    if (plan.weight() == null) {
      return kernel;
    }
    Shape scaleShape = plan.weight().perChannel() ? channelShape : Shape.scalar();
    Quantizer q = state.quantizer(layer + "/weight", plan.weight(), scaleShape);
    quantizerInputs.put(q.name(), kernel);
    return q.apply(tf(), kernel);
  }
}

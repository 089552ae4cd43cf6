package dev.kqat.runtime.nn;

import dev.kqat.runtime.quant.ActivationPoint;
import dev.kqat.runtime.quant.BitRange;
import dev.kqat.runtime.quant.LayerCost;
import dev.kqat.runtime.tf.ParamStore;
import dev.kqat.runtime.quant.LayerKind;
import dev.kqat.runtime.quant.LayerQuant;
import dev.kqat.runtime.quant.Quantizer;
import dev.kqat.runtime.quant.QuantizerSpec;
import dev.kqat.runtime.quant.QuantizerTarget;
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
import org.tensorflow.types.TInt32;
import org.tensorflow.types.TInt64;

/**
 * One forward pass being built, in a {@link PassMode}, over a shared {@link ModelState}. Layers
 * ask it for variables and quantized tensors; it records BN updates (training), the ops the
 * quantization hooks add to the pass, the weight layers met, and each quantizer's un-quantized
 * input (used for range init).
 */
public final class NetContext {
  private final ModelState state;
  private final PassMode mode;
  private final List<BnStatistics> batchStatistics = new ArrayList<>();
  private final Operand<TInt64> stepKey;
  private final List<Op> updates = new ArrayList<>();
  private final List<Op> passUpdates = new ArrayList<>();
  private final List<LayerInfoDraft> layersSeen = new ArrayList<>();
  private final List<LayerCost> layerCosts = new ArrayList<>();
  private final Map<String, Operand<TFloat32>> quantizerInputs = new LinkedHashMap<>();
  /** Output of each activation point's quantizer ("op:index") to the quantizer's name. */
  private final Map<String, String> pointOutputs = new LinkedHashMap<>();
  private final Map<String, String> layerInputQuantizers = new LinkedHashMap<>();
  private final PassBits bits;
  /** The bit-width inputs of the last weight layer entered, if it switches (its BN follows it). */
  private PassBits.LayerBits lastLayerBits;
  private final Map<String, Operand<TFloat32>> switchedFeatures = new LinkedHashMap<>();
  private final FeatureTap featureTap;

  /**
   * What a pass does with each switching layer's BN output (its {@link #switchedFeatures}) before the
   * layers after it read it: RFQuant's IDM loss attaches there (§2.5).
   */
  @FunctionalInterface
  public interface FeatureTap {
    /** The tensor the layers after {@code layer} read in place of {@code feature}: the same values. */
    Operand<TFloat32> tap(String layer, Operand<TFloat32> feature);

    FeatureTap NONE = (layer, feature) -> feature;
  }

  /**
   * One BN layer's statistics of the current batch, with the running statistics they re-estimate.
   */
  public record BnStatistics(String name, Operand<TFloat32> batchMean, Operand<TFloat32> batchVariance,
      org.tensorflow.op.core.Variable<TFloat32> movingMean, org.tensorflow.op.core.Variable<TFloat32> movingVariance) {}

  /** A weight layer as met during the forward pass, before the total count is known. */
  public record LayerInfoDraft(String name, LayerKind kind) {}

  /**
   * @param stepKey per-step random key (for dropout) in a training pass, else null
   */
  public NetContext(ModelState state, PassMode mode, Operand<TInt64> stepKey) {
    this(state, mode, stepKey, null);
  }

  /**
   * @param bits the pass's bit-width inputs of a supernet (RFQuant); null: every layer at its fixed bits
   */
  public NetContext(ModelState state, PassMode mode, Operand<TInt64> stepKey, PassBits bits) {
    this(state, mode, stepKey, bits, FeatureTap.NONE);
  }

  /** @param featureTap what the pass does with each switching layer's BN output */
  public NetContext(ModelState state, PassMode mode, Operand<TInt64> stepKey, PassBits bits, FeatureTap featureTap) {
    this.state = state;
    this.mode = mode;
    this.stepKey = stepKey;
    this.bits = bits;
    this.featureTap = featureTap;
  }

  /**
   * The bit-width inputs of the weight layer just entered when it switches bit-widths: the batch
   * norm that follows it keeps one set of parameters and statistics per (weight, input) pair (§2.4).
   */
  PassBits.LayerBits precedingLayerBits() {
    return lastLayerBits;
  }

  /** Records a switching layer's BN output and returns what the layers after it read ({@link FeatureTap}). */
  Operand<TFloat32> switchedFeature(String layer, Operand<TFloat32> bnOutput) {
    switchedFeatures.put(layer, bnOutput);
    return featureTap.tap(layer, bnOutput);
  }

  /**
   * Per switching layer, the output of the batch norm that follows it, in forward order: the
   * features RFQuant's IDM compares between subnets (§2.5).
   */
  public Map<String, Operand<TFloat32>> switchedFeatures() {
    return Collections.unmodifiableMap(switchedFeatures);
  }

  public PassMode mode() {
    return mode;
  }

  void addBatchStatistics(BnStatistics s) {
    batchStatistics.add(s);
  }

  /** Per BN layer, the batch statistics of a {@link PassMode#BN_STATISTICS} pass. */
  public List<BnStatistics> batchStatistics() {
    return Collections.unmodifiableList(batchStatistics);
  }

  public Ops tf() {
    return state.params().tf();
  }

  public ParamStore params() {
    return state.params();
  }

  public boolean training() {
    return mode == PassMode.TRAIN;
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

  /** Adds an op a quantization hook needs to run with this pass (e.g. oscillation tracking). */
  public void addPassUpdate(Op op) {
    passUpdates.add(op);
  }

  /**
   * Ops the hooks added to this pass: with the training step they run before the optimizer
   * changes the weights they read.
   */
  public List<Op> passUpdates() {
    return Collections.unmodifiableList(passUpdates);
  }

  public List<LayerInfoDraft> layersSeen() {
    return Collections.unmodifiableList(layersSeen);
  }

  /** Each weight layer's weights and multiply-accumulates, in forward order. */
  public List<LayerCost> layerCosts() {
    return Collections.unmodifiableList(layerCosts);
  }

  /** Records a layer's cost from its kernel shape and the static shape of its output. */
  void recordCost(String layer, LayerKind kind, Shape kernel, Operand<TFloat32> output) {
    Shape out = output.shape();
    long positions = 1;
    for (int d = 1; d < out.numDimensions() - 1; d++) {
      positions *= Math.max(out.size(d), 0);
    }
    layerCosts.add(new LayerCost(layer, kind, kernel.size(), kernel.size() * positions));
  }

  /** Quantizer name to the tensor it quantizes (kernel or layer input), in forward order. */
  public Map<String, Operand<TFloat32>> quantizerInputs() {
    return Collections.unmodifiableMap(quantizerInputs);
  }

  /**
   * Weight layer name to the quantizer of its input: its own {@code <layer>/input}, or the
   * activation point whose quantized output it reads (VVTQ's map), for layers with a quantized input.
   */
  public Map<String, String> layerInputQuantizers() {
    return Collections.unmodifiableMap(layerInputQuantizers);
  }

  /**
   * Fake-quantizes the activation at a marked point when the policy quantizes it there; the name is
   * the quantizer's, e.g. {@code block0/attn/query}.
   */
  public Operand<TFloat32> quantizeActivation(ActivationPoint point, String name, Operand<TFloat32> x) {
    QuantizerSpec spec = state.planFor(point, name);
    if (spec == null) {
      return x;
    }
    Quantizer q = state.quantizer(name, QuantizerTarget.ACTIVATION, spec, Shape.scalar());
    quantizerInputs.put(q.name(), x);
    Operand<TFloat32> y = state.hooks().activation(new QuantHooks.ActivationSite(this, q, x, q.apply(tf(), x)));
    pointOutputs.put(key(y), q.name());
    return y;
  }

  private static String key(Operand<?> x) {
    return x.asOutput().op().name() + ":" + x.asOutput().index();
  }

  /** Registers a weight layer and returns what the policy decided for it. */
  LayerQuant enterLayer(String name, LayerKind kind) {
    for (LayerInfoDraft d : layersSeen) {
      if (d.name().equals(name)) {
        throw new IllegalStateException("two layers are both called '" + name + "'");
      }
    }
    layersSeen.add(new LayerInfoDraft(name, kind));
    BitRange candidates = bits == null ? null : state.candidatesFor(name);
    lastLayerBits = candidates == null ? null : bits.of(tf(), name, candidates);
    return state.planFor(name);
  }

  /** Fake-quantizes at the pass's bit-width input when the layer switches, else at the quantizer's fixed bits. */
  private Operand<TFloat32> quantize(Quantizer q, Operand<TFloat32> x, Operand<TInt32> switchable) {
    return switchable == null ? q.apply(tf(), x) : q.apply(tf(), x, switchable);
  }

  /** Fake-quantizes a layer input if the plan says so. */
  Operand<TFloat32> quantizeInput(String layer, LayerQuant plan, Operand<TFloat32> x) {
    if (plan.input() == null) {
      String point = pointOutputs.get(key(x));
      if (point != null) {
        layerInputQuantizers.put(layer, point);
      }
      return x;
    }
    Quantizer q = state.quantizer(layer + "/input", QuantizerTarget.ACTIVATION, plan.input(), Shape.scalar());
    quantizerInputs.put(q.name(), x);
    layerInputQuantizers.put(layer, q.name());
    Operand<TFloat32> quantized = quantize(q, x, lastLayerBits == null ? null : lastLayerBits.input());
    return state.hooks().activation(new QuantHooks.ActivationSite(this, q, x, quantized));
  }

  /** Fake-quantizes a kernel; per-channel step sizes follow the kernel's trailing channel dims. */
  Operand<TFloat32> quantizeWeight(
      String layer, LayerQuant plan, Operand<TFloat32> kernel, Shape channelShape) {
    if (plan.weight() == null) {
      return kernel;
    }
    Shape scaleShape = plan.weight().perChannel() ? channelShape : Shape.scalar();
    Quantizer q = state.quantizer(layer + "/weight", QuantizerTarget.WEIGHT, plan.weight(), scaleShape);
    quantizerInputs.put(q.name(), kernel);
    Operand<TFloat32> quantized = quantize(q, kernel, lastLayerBits == null ? null : lastLayerBits.weight());
    return state.hooks().weight(new QuantHooks.WeightSite(this, q, kernel, quantized, channelShape));
  }
}

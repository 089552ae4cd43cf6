package dev.kqat.runtime.nn;

import dev.kqat.runtime.oscillation.DampeningLoss;
import dev.kqat.runtime.oscillation.OscillationSpec;
import dev.kqat.runtime.oscillation.OscillationTracker;
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
 * oscillation trackers' updates and dampening terms of the weights, the weight layers met, and
 * each quantizer's un-quantized input (used for range init).
 */
public final class NetContext {
  private final ModelState state;
  private final boolean training;
  private final boolean bnStatistics;
  private final List<BnStatistics> batchStatistics = new ArrayList<>();
  private final Operand<TInt64> stepKey;
  private final List<Op> updates = new ArrayList<>();
  private final List<Op> trackingUpdates = new ArrayList<>();
  private final List<Operand<TFloat32>> dampeningTerms = new ArrayList<>();
  private final List<LayerInfoDraft> layersSeen = new ArrayList<>();
  private final Map<String, Operand<TFloat32>> quantizerInputs = new LinkedHashMap<>();

  /**
   * One BN layer's statistics of the current batch, with the running statistics they re-estimate.
   */
  public record BnStatistics(String name, Operand<TFloat32> batchMean, Operand<TFloat32> batchVariance,
      org.tensorflow.op.core.Variable<TFloat32> movingMean, org.tensorflow.op.core.Variable<TFloat32> movingVariance) {}

  /** A weight layer as met during the forward pass, before the total count is known. */
  public record LayerInfoDraft(String name, LayerKind kind) {}

  /**
   * @param stepKey per-step random key (for dropout) or null in evaluation
   */
  public NetContext(ModelState state, boolean training, Operand<TInt64> stepKey) {
    this(state, training, stepKey, false);
  }

  private NetContext(ModelState state, boolean training, Operand<TInt64> stepKey, boolean bnStatistics) {
    this.state = state;
    this.training = training;
    this.stepKey = stepKey;
    this.bnStatistics = bnStatistics;
  }

  /**
   * A pass for BN re-estimation (algorithms.md §1.8): evaluation mode (quantizers, dropout) except
   * that BN layers normalise with the batch's statistics and report them
   * ({@link #batchStatistics()}); running statistics are left alone.
   */
  public static NetContext bnStatistics(ModelState state) {
    return new NetContext(state, false, null, true);
  }

  /** Whether BN layers use and report batch statistics while everything else evaluates. */
  boolean collectsBnStatistics() {
    return bnStatistics;
  }

  void addBatchStatistics(BnStatistics s) {
    batchStatistics.add(s);
  }

  /** Per BN layer, the batch statistics of a {@link #bnStatistics} pass. */
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

  /**
   * Oscillation trackers' updates from this pass: with the training step they must run before the
   * optimizer changes the weights they read.
   */
  public List<Op> trackingUpdates() {
    return Collections.unmodifiableList(trackingUpdates);
  }

  /** Per-layer dampening terms of this (training) pass, to be summed and weighted by λ. */
  public List<Operand<TFloat32>> dampeningTerms() {
    return Collections.unmodifiableList(dampeningTerms);
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
    Ops tf = tf();
    Operand<TFloat32> quantized = q.apply(tf, kernel);
    OscillationSpec oscillations = state.oscillations();
    OscillationTracker tracker = state.tracker(q, kernel.shape());
    if (tracker != null) {
      quantized = tracker.pin(tf, quantized, q.learnedStepSize(tf, kernel));
      if (training || oscillations.tracking().countEvaluationPasses()) {
        Operand<TFloat32> integers = tracker.pinIntegers(tf, q.integers(tf, kernel));
        trackingUpdates.addAll(
            tracker.update(tf, integers, training ? state.freezingThreshold() : null, quantized));
      }
    }
    if (training && oscillations.dampening() != null) {
      dampeningTerms.add(DampeningLoss.term(
          tf, q, kernel, quantized, channelShape.size(), oscillations.dampening().aggregation()));
    }
    return quantized;
  }
}

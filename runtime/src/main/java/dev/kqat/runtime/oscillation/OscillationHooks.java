package dev.kqat.runtime.oscillation;

import dev.kqat.runtime.nn.PassMode;
import dev.kqat.runtime.nn.QuantHooks;
import dev.kqat.runtime.quant.Quantizer;
import dev.kqat.runtime.tf.ParamStore;
import java.util.ArrayList;
import java.util.Collections;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import org.tensorflow.Operand;
import org.tensorflow.ndarray.Shape;
import org.tensorflow.op.Ops;
import org.tensorflow.op.core.Placeholder;
import org.tensorflow.types.TFloat32;

/**
 * Oscillation control (algorithms.md §1.4–1.7) as quantization hooks on the weights: a tracker per
 * tracked weight (pinning frozen elements, updated by training passes, and by evaluation passes
 * with the parity switch), and the dampening term and VVTQ's bin regulariser of every quantized
 * weight in the training pass.
 * The per-step schedule values come in through two placeholders ({@link #feeds}).
 */
public final class OscillationHooks implements QuantHooks {
  private final ParamStore params;
  private final OscillationSpec spec;
  private final Map<String, OscillationTracker> trackers = new LinkedHashMap<>();
  private final List<Operand<TFloat32>> dampeningTerms = new ArrayList<>();
  private final List<Operand<TFloat32>> binTerms = new ArrayList<>();
  private final List<BinnedLayer> binnedLayers = new ArrayList<>();
  private final Placeholder<TFloat32> dampeningWeight;
  private final Placeholder<TFloat32> binWeight;
  private final Placeholder<TFloat32> freezingThreshold;

  public OscillationHooks(ParamStore params, OscillationSpec spec) {
    this.params = params;
    this.spec = spec.requireValid();
    this.dampeningWeight = spec.dampening() == null ? null : scalarFeed("dampening_weight");
    this.freezingThreshold = spec.freezing() == null ? null : scalarFeed("freezing_threshold");
    this.binWeight = spec.binRegularizer() == null ? null : scalarFeed("bin_regularizer_weight");
  }

  @Override
  public Operand<TFloat32> weight(WeightSite site) {
    Ops tf = site.pass().tf();
    Quantizer q = site.quantizer();
    PassMode mode = site.pass().mode();
    Operand<TFloat32> quantized = site.quantized();
    OscillationTracker tracker = tracker(q, site.kernel().shape());
    if (tracker != null) {
      quantized = tracker.pin(tf, quantized, q.learnedStepSize(tf, site.kernel()));
      if (mode == PassMode.TRAIN || spec.tracking().countEvaluationPasses()) {
        Operand<TFloat32> integers = tracker.pinIntegers(tf, q.integers(tf, site.kernel()));
        // Only optimizer steps freeze; evaluation passes counted by the parity switch never do.
        tracker.update(tf, integers, mode == PassMode.TRAIN ? freezingThreshold : null, quantized)
            .forEach(site.pass()::addPassUpdate);
      }
    }
    if (mode == PassMode.TRAIN && spec.dampening() != null) {
      dampeningTerms.add(DampeningLoss.term(
          tf, q, site.kernel(), quantized, site.channelShape().size(), spec.dampening().aggregation()));
    }
    if (mode == PassMode.TRAIN && spec.binRegularizer() != null) {
      BinRegularizer.Bins bins = BinRegularizer.of(tf, q, site.kernel());
      binTerms.add(bins.term());
      binnedLayers.add(new BinnedLayer(q.name(), site.kernel().shape().size(), bins));
    }
    return quantized;
  }

  /** The tracker of a weight quantizer, created on first use; null when that weight is not tracked. */
  private OscillationTracker tracker(Quantizer quantizer, Shape weightShape) {
    if (!spec.tracks() || quantizer.spec().bits() > spec.tracking().maxBits()) {
      return null;
    }
    return trackers.computeIfAbsent(quantizer.name(), n -> new OscillationTracker(params, n, weightShape, spec));
  }

  /** Trackers in creation (forward) order; empty without tracking. */
  public List<OscillationTracker> trackers() {
    return List.copyOf(trackers.values());
  }

  /**
   * The dampening loss of the training pass, {@code λ · Σ_layers term} (§1.5), or null without
   * dampening.
   */
  public Operand<TFloat32> dampeningLoss(Ops tf) {
    return weightedSum(tf, dampeningWeight, dampeningTerms);
  }

  /** The bin regulariser of the training pass, {@code λ(e) · Σ_layers R} (VVTQ §3.3), or null without it. */
  public Operand<TFloat32> binRegularizerLoss(Ops tf) {
    return weightedSum(tf, binWeight, binTerms);
  }

  /** {@code weight · Σ terms}, or null without terms. */
  private static Operand<TFloat32> weightedSum(Ops tf, Placeholder<TFloat32> weight, List<Operand<TFloat32>> terms) {
    return terms.isEmpty() ? null : tf.math.mul(weight, tf.math.addN(Collections.unmodifiableList(terms)));
  }

  /** A regularised weight tensor: its quantizer's name, its size, its term and spread. */
  public record BinnedLayer(String name, long weights, BinRegularizer.Bins bins) {}

  /** The regularised weight tensors in forward order; empty without the bin regulariser. */
  public List<BinnedLayer> binnedLayers() {
    return List.copyOf(binnedLayers);
  }

  /** The bin regulariser's weight λ at training {@code progress}; 0 without it. */
  public double binWeightAt(double progress) {
    return spec.binRegularizer() == null ? 0 : spec.binRegularizer().weight().at(progress);
  }

  /** One row per tracker: [oscillating, frequency sum, frozen, oscillating and not frozen, elements]; null without tracking. */
  public Operand<TFloat32> statistics(Ops tf) {
    if (trackers.isEmpty()) {
      return null;
    }
    return tf.stack(trackers().stream().map(t -> t.statistics(tf, (float) spec.tracking().threshold())).toList());
  }

  /** The schedule placeholders and their values at training {@code progress}. */
  public Map<Placeholder<TFloat32>, Float> feeds(double progress) {
    Map<Placeholder<TFloat32>, Float> feeds = new LinkedHashMap<>();
    if (dampeningWeight != null) {
      feeds.put(dampeningWeight, (float) spec.dampening().weightAt(progress));
    }
    if (freezingThreshold != null) {
      feeds.put(freezingThreshold, (float) spec.freezing().thresholdAt(progress));
    }
    if (binWeight != null) {
      feeds.put(binWeight, (float) spec.binRegularizer().weight().at(progress));
    }
    return feeds;
  }

  private Placeholder<TFloat32> scalarFeed(String name) {
    return params.tf().withName(name).placeholder(TFloat32.class, Placeholder.shape(Shape.scalar()));
  }
}

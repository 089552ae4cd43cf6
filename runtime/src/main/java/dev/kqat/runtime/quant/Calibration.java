package dev.kqat.runtime.quant;

import dev.kqat.runtime.data.Batch;
import java.util.ArrayList;
import java.util.BitSet;
import java.util.List;
import java.util.Map;
import org.tensorflow.Operand;
import org.tensorflow.Result;
import org.tensorflow.Session;
import org.tensorflow.Tensor;
import org.tensorflow.ndarray.Shape;
import org.tensorflow.ndarray.buffer.DataBuffers;
import org.tensorflow.op.core.Placeholder;
import org.tensorflow.types.TFloat32;

/**
 * Range initialisation of every quantizer before QAT (algorithms.md §1.2): calibration batches go
 * through the evaluation pass and each quantizer's step size and integer range are set from the
 * tensor it quantizes. An activation quantizer sees its input as produced by the already-initialised
 * quantizers upstream, as in the reference.
 *
 * <p>Quantizers are set in waves: each wave is every quantizer whose input no longer depends on an
 * unset quantizer (the kernels and the first activations, then what follows them), which gives the
 * same ranges as setting them one by one in forward order. Every wave runs the same fetch list and
 * one assignment of all step sizes, because TensorFlow prunes the whole graph for each new list of
 * fetches and targets: one run per quantizer cost 40 s on a MobileNetV2 at 32 px.
 */
public final class Calibration {
  /** Floats fetched per run at most (512 MiB): larger batches are fetched in slices of images. */
  static final long MAX_FETCHED_FLOATS = 128L << 20;

  private Calibration() {}

  /**
   * @param inputs quantizer name to the evaluation-pass tensor it quantizes
   * @param images the graph's image placeholder
   * @param batches calibration batches (the reference uses one)
   */
  public static void run(
      Session session,
      List<Quantizer> quantizers,
      Map<String, Operand<TFloat32>> inputs,
      Placeholder<TFloat32> images,
      List<Batch> batches) {
    run(session, quantizers, inputs, images, batches, MAX_FETCHED_FLOATS);
  }

  /** As {@link #run(Session, List, Map, Placeholder, List)}, fetching at most {@code maxFetchedFloats} per run. */
  static void run(
      Session session,
      List<Quantizer> quantizers,
      Map<String, Operand<TFloat32>> inputs,
      Placeholder<TFloat32> images,
      List<Batch> batches,
      long maxFetchedFloats) {
    if (quantizers.isEmpty()) {
      return;
    }
    List<Operand<TFloat32>> sources = new ArrayList<>();
    for (Quantizer q : quantizers) {
      Operand<TFloat32> source = inputs.get(q.name());
      if (source == null) {
        throw new IllegalStateException("no calibration input recorded for quantizer " + q.name());
      }
      sources.add(source);
    }
    QuantizerDependencies dependencies = new QuantizerDependencies(quantizers, images.op());
    List<BitSet> waitsFor = new ArrayList<>();
    sources.forEach(s -> waitsFor.add(dependencies.of(s)));
    WaveFetch fetch = new WaveFetch(sources, images, maxFetchedFloats);
    List<float[][]> state = currentState(session, quantizers);
    BitSet unset = new BitSet();
    unset.set(0, quantizers.size());
    while (!unset.isEmpty()) {
      BitSet wave = new BitSet();
      for (int k = unset.nextSetBit(0); k >= 0; k = unset.nextSetBit(k + 1)) {
        if (!waitsFor.get(k).intersects(unset)) {
          wave.set(k);
        }
      }
      if (wave.isEmpty()) {
        throw new IllegalStateException("quantizer inputs depend on each other in a cycle: "
            + unset.stream().mapToObj(k -> quantizers.get(k).name()).toList());
      }
      Map<Integer, List<float[]>> samples = fetch.samples(session, wave, batches, k ->
          quantizers.get(k).target() == QuantizerTarget.WEIGHT || !dependencies.needsImages(waitsFor.get(k)));
      for (int k = wave.nextSetBit(0); k >= 0; k = wave.nextSetBit(k + 1)) {
        state.set(k, ranges(quantizers.get(k), samples.get(k)));
      }
      assignAll(session, quantizers, state);
      unset.andNot(wave);
    }
  }

  /** Step sizes, lowest and highest integer of every quantizer as the session holds them. */
  private static List<float[][]> currentState(Session session, List<Quantizer> quantizers) {
    Session.Runner runner = session.runner();
    quantizers.forEach(q -> runner.fetch(q.scale()).fetch(q.lowest()).fetch(q.highest()));
    List<float[][]> state = new ArrayList<>();
    try (Result r = runner.run()) {
      for (int k = 0; k < quantizers.size(); k++) {
        state.add(new float[][] {
            toArray((TFloat32) r.get(3 * k)), toArray((TFloat32) r.get(3 * k + 1)), toArray((TFloat32) r.get(3 * k + 2))});
      }
    }
    return state;
  }

  /** One assignment of every quantizer's state: the same targets each wave, so one pruned graph. */
  private static void assignAll(Session session, List<Quantizer> quantizers, List<float[][]> state) {
    List<Tensor> fed = new ArrayList<>();
    try {
      Session.Runner runner = session.runner();
      for (int k = 0; k < quantizers.size(); k++) {
        Quantizer q = quantizers.get(k);
        float[][] values = state.get(k);
        Shape shape = q.variableShape();
        TFloat32 s = shape.numDimensions() == 0 ? TFloat32.scalarOf(values[0][0])
            : TFloat32.tensorOf(shape, DataBuffers.of(values[0], true, false));
        fed.add(s);
        runner.feed(q.scaleFeed(), s).addTarget(q.assignScale());
        if (q.rangeFromData()) {
          TFloat32 n = TFloat32.scalarOf(values[1][0]);
          fed.add(n);
          TFloat32 p = TFloat32.scalarOf(values[2][0]);
          fed.add(p);
          runner.feed(q.lowestFeed(), n).feed(q.highestFeed(), p)
              .addTarget(q.assignLowest()).addTarget(q.assignHighest());
        }
      }
      runner.run();
    } finally {
      fed.forEach(Tensor::close);
    }
  }

  /**
   * One quantizer's step sizes and integer range from its sample tensors: {scales, {n}, {p}}; with a
   * step size per bit-width, the scales of every bit-width 2..8 in slot order.
   */
  static float[][] ranges(Quantizer q, List<float[]> samples) {
    QuantizerSpec spec = q.spec();
    Fit active = fit(spec, q.channels(), samples);
    if (!spec.perBitWidth()) {
      return new float[][] {active.steps(), {active.range().n()}, {active.range().p()}};
    }
    int channels = q.channels();
    float[] slots = new float[spec.slots() * channels];
    for (int slot = 0; slot < spec.slots(); slot++) {
      // VVTQ writes its activation init, computed at the configured bits, into every slot.
      float[] steps = spec.init() == RangeInit.MEAN_MAGNITUDE ? active.steps()
          : fit(spec.withBits(QuantizerSpec.SLOT_MIN_BITS + slot), channels, samples).steps();
      System.arraycopy(steps, 0, slots, slot * channels, channels);
    }
    return new float[][] {slots, {active.range().n()}, {active.range().p()}};
  }

  private record Fit(float[] steps, IntRange range) {}

  private static Fit fit(QuantizerSpec spec, int channels, List<float[]> samples) {
    IntRange fixed = spec.signedness() == Signedness.FROM_DATA ? null : spec.signedness().range(spec.bits());
    if (spec.init() == RangeInit.MSE) {
      MseGridSearch search = new MseGridSearch(spec.bits(), spec.candidates(), channels, fixed);
      samples.forEach(search::add);
      return new Fit(search.bestScales(), search.intRange());
    }
    float[] all = concat(samples);
    float min = 0f;
    for (float v : all) {
      min = Math.min(min, v);
    }
    IntRange range = fixed != null ? fixed : MinMaxRange.intRange(min, spec.bits());
    return new Fit(switch (spec.init()) {
      case MIN_MAX -> MinMaxRange.scales(all, range, channels);
      case LEAST_SQUARES -> LeastSquaresFit.steps(all, range, channels);
      case MEAN_MAGNITUDE -> meanMagnitudeSteps(all, spec.bits(), channels);
      case LSQ_MAGNITUDE -> lsqMagnitudeSteps(all, range, channels);
      case THREE_SIGMA -> threeSigmaSteps(all, spec.bits(), channels);
      case MSE -> throw new IllegalStateException("handled above");
    }, range);
  }

  /** VVTQ's activation init {@code 2·mean|x| / sqrt(2^(b-1)-1)}: the signed p, also on an unsigned grid. */
  static float[] meanMagnitudeSteps(float[] x, int bits, int channels) {
    return magnitudeSteps(x, IntRange.signed(bits).p(), channels);
  }

  /** LSQ's {@code 2·mean|x| / sqrt(p)} with the grid's own p (RFQuant's activations, §2.3). */
  static float[] lsqMagnitudeSteps(float[] x, IntRange range, int channels) {
    return magnitudeSteps(x, range.p(), channels);
  }

  /** {@code 2·mean|x| / sqrt(p)} per channel. */
  private static float[] magnitudeSteps(float[] x, int p, int channels) {
    double[] sums = new double[channels];
    for (int i = 0; i < x.length; i++) {
      sums[i % channels] += Math.abs(x[i]);
    }
    double perChannel = (double) x.length / channels;
    float[] out = new float[channels];
    for (int c = 0; c < channels; c++) {
      out[c] = (float) Math.max(2 * (sums[c] / perChannel) / Math.sqrt(p), 1e-8);
    }
    return out;
  }

  /** RFQuant's weight init {@code max(|μ-3σ|, |μ+3σ|) / 2^(b-1)}, μ and σ of the whole tensor (§2.3). */
  static float[] threeSigmaSteps(float[] w, int bits, int channels) {
    double mean = 0;
    for (float v : w) {
      mean += v;
    }
    mean /= w.length;
    double squares = 0;
    for (float v : w) {
      squares += (v - mean) * (v - mean);
    }
    // torch.std: Bessel's correction.
    double sigma = Math.sqrt(squares / Math.max(1, w.length - 1));
    float step = (float) Math.max(Math.max(Math.abs(mean - 3 * sigma), Math.abs(mean + 3 * sigma)) / (1 << (bits - 1)), 1e-8);
    float[] out = new float[channels];
    java.util.Arrays.fill(out, step);
    return out;
  }

  static float[] toArray(TFloat32 t) {
    float[] out = new float[(int) t.shape().size()];
    t.copyTo(DataBuffers.of(out, false, false));
    return out;
  }

  private static float[] concat(List<float[]> parts) {
    int n = parts.stream().mapToInt(a -> a.length).sum();
    float[] out = new float[n];
    int at = 0;
    for (float[] a : parts) {
      System.arraycopy(a, 0, out, at, a.length);
      at += a.length;
    }
    return out;
  }
}

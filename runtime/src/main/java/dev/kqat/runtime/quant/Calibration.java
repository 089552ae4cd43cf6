package dev.kqat.runtime.quant;

import dev.kqat.runtime.data.Batch;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import org.tensorflow.Operand;
import org.tensorflow.Session;
import org.tensorflow.Tensor;
import org.tensorflow.ndarray.Shape;
import org.tensorflow.op.core.Placeholder;
import org.tensorflow.types.TFloat32;

/**
 * Range initialisation of every quantizer before QAT (algorithms.md §1.2): calibration batches go
 * through the evaluation pass and each quantizer's step size and integer range are set from the
 * tensor it quantizes. Quantizers are processed in forward order, so an activation quantizer sees
 * its input as produced by the already-initialised quantizers upstream, as in the reference.
 */
public final class Calibration {
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
    for (Quantizer q : quantizers) {
      Operand<TFloat32> source = inputs.get(q.name());
      if (source == null) {
        throw new IllegalStateException("no calibration input recorded for quantizer " + q.name());
      }
      List<float[]> samples = new ArrayList<>();
      boolean constant = q.target() == QuantizerTarget.WEIGHT;
      for (Batch b : batches) {
        try (Tensor t = session.runner().feed(images, b.images()).fetch(source).run().get(0)) {
          samples.add(toArray((TFloat32) t));
        }
        if (constant) {
          break; // a kernel is the same for every batch
        }
      }
      initialise(session, q, samples);
    }
  }

  /** Computes and assigns one quantizer's range from sample tensors. */
  static void initialise(Session session, Quantizer q, List<float[]> samples) {
    QuantizerSpec spec = q.spec();
    float[] scales;
    IntRange range;
    if (spec.init() == RangeInit.MSE) {
      MseGridSearch search = new MseGridSearch(spec.bits(), spec.candidates(), q.channels());
      samples.forEach(search::add);
      scales = search.bestScales();
      range = search.intRange();
    } else {
      float[] all = concat(samples);
      float min = 0f;
      for (float v : all) {
        min = Math.min(min, v);
      }
      range = MinMaxRange.intRange(min, spec.bits());
      scales = MinMaxRange.scales(all, spec.bits(), q.channels());
    }
    Shape shape = q.scaleShape();
    try (TFloat32 s = shape.numDimensions() == 0 ? TFloat32.scalarOf(scales[0])
            : TFloat32.tensorOf(shape, org.tensorflow.ndarray.buffer.DataBuffers.of(scales, true, false));
        TFloat32 n = TFloat32.scalarOf(range.n());
        TFloat32 p = TFloat32.scalarOf(range.p())) {
      session.runner()
          .feed(q.scaleFeed(), s)
          .feed(q.lowestFeed(), n)
          .feed(q.highestFeed(), p)
          .addTarget(q.assignScale())
          .addTarget(q.assignLowest())
          .addTarget(q.assignHighest())
          .run();
    }
  }

  static float[] toArray(TFloat32 t) {
    float[] out = new float[(int) t.shape().size()];
    t.copyTo(org.tensorflow.ndarray.buffer.DataBuffers.of(out, false, false));
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

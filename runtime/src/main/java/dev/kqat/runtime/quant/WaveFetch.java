package dev.kqat.runtime.quant;

import dev.kqat.runtime.data.Batch;
import java.util.ArrayList;
import java.util.BitSet;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.function.IntPredicate;
import org.tensorflow.Operand;
import org.tensorflow.Output;
import org.tensorflow.Result;
import org.tensorflow.Session;
import org.tensorflow.ndarray.Shape;
import org.tensorflow.ndarray.index.Indices;
import org.tensorflow.op.core.Placeholder;
import org.tensorflow.types.TFloat32;

/**
 * The calibration inputs of one wave of quantizers, fetched with the same fetch list every time
 * (every distinct quantizer input), so that TensorFlow prunes the graph for it once. Batches whose
 * fetched tensors would exceed a budget of floats are run in slices of images and put back
 * together, so each quantizer still receives one sample per calibration batch.
 */
final class WaveFetch {
  private final List<Operand<TFloat32>> sources;
  private final Placeholder<TFloat32> images;
  /** Distinct fetched tensors, by "op:index", in fetch order. */
  private final Map<String, Integer> fetchIndex = new LinkedHashMap<>();
  private final List<Output<TFloat32>> fetches = new ArrayList<>();
  private final long floatsPerImage;
  private final long maxFetchedFloats;

  WaveFetch(List<Operand<TFloat32>> sources, Placeholder<TFloat32> images, long maxFetchedFloats) {
    this.maxFetchedFloats = maxFetchedFloats;
    this.sources = sources;
    this.images = images;
    long perImage = 0;
    for (Operand<TFloat32> s : sources) {
      Output<TFloat32> out = s.asOutput();
      if (isImages(out)) {
        continue; // fed, not fetched: TensorFlow cannot fetch a tensor it is fed
      }
      if (fetchIndex.putIfAbsent(key(out), fetches.size()) == null) {
        fetches.add(out);
        Shape shape = out.shape();
        if (shape.numDimensions() > 0 && shape.size(0) < 0) {
          long size = 1;
          for (int d = 1; d < shape.numDimensions(); d++) {
            size *= Math.max(1, shape.size(d));
          }
          perImage += size;
        }
      }
    }
    this.floatsPerImage = Math.max(1, perImage);
  }

  /**
   * The samples of every quantizer in {@code wave}: one array per batch, or only the first batch's
   * where {@code oneSample} holds (a kernel is the same for every batch).
   */
  Map<Integer, List<float[]>> samples(Session session, BitSet wave, List<Batch> batches, IntPredicate oneSample) {
    Map<Integer, List<float[]>> samples = new HashMap<>();
    wave.stream().forEach(k -> samples.put(k, new ArrayList<>()));
    for (int b = 0; b < batches.size(); b++) {
      BitSet wanted = (BitSet) wave.clone();
      if (b > 0) {
        wave.stream().filter(oneSample).forEach(wanted::clear);
      }
      if (wanted.isEmpty()) {
        break;
      }
      Map<Integer, float[]> batchSamples = batchSamples(session, wanted, batches.get(b), oneSample);
      batchSamples.forEach((k, values) -> samples.get(k).add(values));
    }
    return samples;
  }

  private Map<Integer, float[]> batchSamples(Session session, BitSet wanted, Batch batch, IntPredicate oneSample) {
    int rows = batch.size();
    int slice = (int) Math.max(1, Math.min(rows, maxFetchedFloats / floatsPerImage));
    Map<Integer, float[]> out = new HashMap<>();
    for (int from = 0; from < rows; from += slice) {
      int to = Math.min(rows, from + slice);
      TFloat32 part = slice == rows ? batch.images() : imagesSlice(batch.images(), from, to);
      try {
        Session.Runner runner = session.runner().feed(images, part);
        fetches.forEach(runner::fetch);
        try (Result r = runner.run()) {
          for (int k = wanted.nextSetBit(0); k >= 0; k = wanted.nextSetBit(k + 1)) {
            Output<TFloat32> source = sources.get(k).asOutput();
            TFloat32 t = isImages(source) ? part : (TFloat32) r.get(fetchIndex.get(key(source)));
            float[] values = Calibration.toArray(t);
            if (slice == rows || oneSample.test(k)) {
              out.putIfAbsent(k, values);
            } else {
              int perRow = values.length / (to - from);
              float[] whole = out.computeIfAbsent(k, x -> new float[perRow * rows]);
              System.arraycopy(values, 0, whole, from * perRow, values.length);
            }
          }
        }
      } finally {
        if (part != batch.images()) {
          part.close();
        }
      }
    }
    return out;
  }

  private static TFloat32 imagesSlice(TFloat32 all, int from, int to) {
    long[] dims = all.shape().asArray();
    dims[0] = to - from;
    TFloat32 part = TFloat32.tensorOf(Shape.of(dims));
    all.slice(Indices.range(from, to)).copyTo(part);
    return part;
  }

  private boolean isImages(Output<?> out) {
    return out.op().name().equals(images.op().name());
  }

  private static String key(Output<?> out) {
    return out.op().name() + ":" + out.index();
  }
}

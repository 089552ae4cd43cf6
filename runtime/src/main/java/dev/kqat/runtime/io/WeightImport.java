package dev.kqat.runtime.io;

import dev.kqat.runtime.tf.Param;
import dev.kqat.runtime.tf.ParamStore;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.LinkedHashMap;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;
import org.tensorflow.Session;
import org.tensorflow.ndarray.Shape;
import org.tensorflow.ndarray.buffer.DataBuffers;
import org.tensorflow.op.Ops;
import org.tensorflow.op.core.Placeholder;
import org.tensorflow.types.TFloat32;

/**
 * Starts a model from imported weights — Keras {@code .h5} files ({@link #keras}) or timm ViT/DeiT
 * {@code .safetensors} files ({@link #timmVit}): every network weight and BN statistic of the model
 * must come from the file with its shape, except the classifier's when the class count differs
 * (fine-tuning ImageNet weights on another label set); anything else missing, extra or misshapen is
 * an error listing every problem.
 */
public final class WeightImport {
  private static final int MAX_LISTED = 20;

  private WeightImport() {}

  /**
   * What was loaded.
   *
   * @param loaded number of model variables set from the file
   * @param skipped classifier variables left at their initial values (shape differs from the file)
   */
  public record Result(int loaded, List<String> skipped) {}

  /**
   * Keras weights.
   *
   * @param layerNames Keras layer name to model layer name (a model's Keras layout); null when
   *     the file's layer names are the model's own
   * @param classifier the model's last layer, whose variables may be skipped on a shape mismatch
   */
  public static Result keras(Session session, ParamStore params, Path file, Map<String, String> layerNames,
      String classifier) {
    return fit(session, params, file, KerasH5Weights.read(file), layerNames, "Keras", classifier);
  }

  /**
   * A timm ViT/DeiT checkpoint ({@code .safetensors}), names and layouts mapped by {@link TimmVitNames}
   * (a fused {@code qkv} projection split into Q, K and V).
   */
  public static Result timmVit(Session session, ParamStore params, Path file, String classifier) {
    return fit(session, params, file, TimmVitNames.toModel(file, SafetensorsFile.read(file)), null, "timm", classifier);
  }

  private static Result fit(Session session, ParamStore params, Path file, List<KerasH5Weights.Weight> weights,
      Map<String, String> layerNames, String source, String classifier) {
    List<String> problems = new ArrayList<>();
    List<String> skipped = new ArrayList<>();
    Set<String> skippedNames = new LinkedHashSet<>();
    Map<Param, float[]> values = new LinkedHashMap<>();
    Set<String> unmappedLayers = new LinkedHashSet<>();
    for (KerasH5Weights.Weight w : weights) {
      String layer = layerNames == null ? w.layer() : layerNames.get(w.layer());
      if (layer == null) {
        unmappedLayers.add(w.layer());
        continue;
      }
      String variable = w.variable().equals("depthwise_kernel") ? "kernel" : w.variable();
      Param p = params.get(layer + "/" + variable);
      if (p == null || !p.role().isModelVariable()) {
        problems.add(source + " weight " + w.layer() + "/" + w.variable() + ": the model has no variable " + layer + "/" + variable);
        continue;
      }
      if (!sameValues(p.shape(), w.shape())) {
        String text = p.name() + " has shape " + p.shape() + ", the file " + Arrays.toString(w.shape());
        if (layer.equals(classifier)) {
          skipped.add(text);
          skippedNames.add(p.name());
        } else {
          problems.add(text);
        }
        continue;
      }
      values.put(p, w.values());
    }
    if (!unmappedLayers.isEmpty()) {
      problems.add(source + " layers with no counterpart in the model: " + unmappedLayers);
    }
    List<String> notInFile = new ArrayList<>();
    for (Param p : params.all()) {
      if (p.role().isModelVariable() && !values.containsKey(p) && !skippedNames.contains(p.name())) {
        notInFile.add(p.name());
      }
    }
    if (!notInFile.isEmpty()) {
      problems.add("model variables not in the file: " + notInFile);
    }
    if (!problems.isEmpty()) {
      List<String> listed = problems.subList(0, Math.min(MAX_LISTED, problems.size()));
      throw new IllegalArgumentException(file + ": does not fit the model (" + problems.size() + " problems):\n  "
          + String.join("\n  ", listed) + (problems.size() > MAX_LISTED ? "\n  ..." : ""));
    }
    assign(session, params.tf(), values);
    return new Result(values.size(), List.copyOf(skipped));
  }

  /** Equal shapes, or a Keras 1×1 convolution kernel [1,1,in,out] for a dense [in,out]. */
  private static boolean sameValues(Shape ours, int[] theirs) {
    long[] a = ours.asArray();
    if (Arrays.equals(a, Arrays.stream(theirs).asLongStream().toArray())) {
      return true;
    }
    return a.length == 2 && theirs.length == 4 && theirs[0] == 1 && theirs[1] == 1
        && theirs[2] == a[0] && theirs[3] == a[1];
  }

  private static void assign(Session session, Ops tf, Map<Param, float[]> values) {
    Session.Runner runner = session.runner();
    List<TFloat32> tensors = new ArrayList<>();
    try {
      for (Map.Entry<Param, float[]> e : values.entrySet()) {
        Param p = e.getKey();
        Placeholder<TFloat32> in = tf.placeholder(TFloat32.class, Placeholder.shape(p.shape()));
        TFloat32 t = TFloat32.tensorOf(p.shape(), DataBuffers.of(e.getValue(), true, false));
        tensors.add(t);
        runner.feed(in, t).addTarget(tf.assign(p.variable(), in));
      }
      runner.run();
    } finally {
      tensors.forEach(TFloat32::close);
    }
  }
}

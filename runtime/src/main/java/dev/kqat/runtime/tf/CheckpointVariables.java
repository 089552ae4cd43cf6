package dev.kqat.runtime.tf;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import org.tensorflow.Operand;
import org.tensorflow.Session;
import org.tensorflow.ndarray.Shape;
import org.tensorflow.op.Op;
import org.tensorflow.op.Ops;
import org.tensorflow.op.core.Placeholder;
import org.tensorflow.op.train.Restore;
import org.tensorflow.types.TFloat32;
import org.tensorflow.types.TString;
import org.tensorflow.types.family.TType;

/**
 * Reads variables out of a kqat checkpoint folder ({@code manifest.tsv} of names and shapes beside
 * TensorFlow's {@code variables.*} files) into a graph's {@link Param}s by name. Below the training
 * loop's checkpoint store, so that anything holding parameters (a distillation teacher) can load them.
 */
public final class CheckpointVariables {
  public static final String MANIFEST = "manifest.tsv";
  public static final String VARIABLES = "variables";

  private CheckpointVariables() {}

  /**
   * Loads {@code params} from {@code checkpoint} by name (e.g. a distillation teacher's, kept in a
   * store of its own); each must be there with its shape.
   */
  public static void restore(Session session, Ops tf, Path checkpoint, List<Param> params) {
    restore(session, tf, checkpoint, params, params.stream().map(Param::name).toList());
  }

  /** As {@link #restore(Session, Ops, Path, List)}, each of {@code params} from the checkpoint's variable {@code sources[i]}. */
  public static void restore(Session session, Ops tf, Path checkpoint, List<Param> params, List<String> sources) {
    Map<String, String> manifest = manifest(checkpoint);
    List<String> missing = new ArrayList<>();
    for (int i = 0; i < params.size(); i++) {
      Param p = params.get(i);
      String shape = manifest.get(sources.get(i));
      if (shape == null || !shape.equals(shapeText(p.shape()))) {
        missing.add(sources.get(i) + (shape == null ? "" : " (shape " + shape + " ≠ " + shapeText(p.shape()) + ")"));
      }
    }
    if (!missing.isEmpty()) {
      throw new IllegalStateException(
          checkpoint + ": does not match this experiment's graph; missing or different: " + missing);
    }
    restoreInto(session, tf, checkpoint, sources, (i, value) -> tf.assign(params.get(i).variable(), value));
  }

  /** Loads {@code toLoad} from {@code checkpoint}, whose manifest the caller has checked. */
  public static void load(Session session, Ops tf, Path checkpoint, List<Param> toLoad) {
    restoreInto(session, tf, checkpoint, toLoad.stream().map(Param::name).toList(),
        (i, value) -> tf.assign(toLoad.get(i).variable(), value));
  }

  /**
   * Loads each of {@code targets}, a {@code [rows, C]} table, from the checkpoint's {@code [C]}
   * variable {@code sources[i]} repeated in every row: a supernet's switchable BN starting from the
   * one BN of a network of fixed bits (RFQuant trains from FP32 weights, §2.1).
   */
  public static void loadRepeated(Session session, Ops tf, Path checkpoint, List<Param> targets, List<String> sources) {
    restoreInto(session, tf, checkpoint, sources, (i, value) -> {
      Param t = targets.get(i);
      Operand<TFloat32> rows = tf.tile(tf.expandDims(value, tf.constant(0)),
          tf.constant(new long[] {t.shape().get(0), 1}));
      return tf.assign(t.variable(), rows);
    });
  }

  private static void restoreInto(Session session, Ops tf, Path checkpoint, List<String> sources,
      java.util.function.BiFunction<Integer, Operand<TFloat32>, Op> assign) {
    String[] names = sources.toArray(String[]::new);
    String[] slices = new String[names.length];
    Arrays.fill(slices, "");
    List<Class<? extends TType>> types = new ArrayList<>();
    sources.forEach(p -> types.add(TFloat32.class));
    Placeholder<TString> prefixFeed = tf.placeholder(TString.class);
    Restore restored = tf.train.restore(prefixFeed, tf.constant(StandardCharsets.UTF_8, names),
        tf.constant(StandardCharsets.UTF_8, slices), types);
    List<Op> assigns = new ArrayList<>();
    for (int i = 0; i < names.length; i++) {
      @SuppressWarnings("unchecked")
      Operand<TFloat32> value = (Operand<TFloat32>) restored.tensors().get(i);
      assigns.add(assign.apply(i, value));
    }
    try (TString prefix = TString.scalarOf(checkpoint.resolve(VARIABLES).toString())) {
      Session.Runner r = session.runner().feed(prefixFeed, prefix);
      assigns.forEach(r::addTarget);
      r.run();
    }
  }

  /**
   * Of {@code params}, the model variables ({@link ParamRole#isHandedOver}) that {@code manifest} holds
   * under the same name and shape: what one phase hands the next.
   */
  public static List<Param> sameNameAndShape(List<Param> params, Map<String, String> manifest) {
    return params.stream()
        .filter(p -> p.role().isHandedOver())
        .filter(p -> shapeText(p.shape()).equals(manifest.get(p.name())))
        .toList();
  }

  /** Variable name → shape text, as the checkpoint's manifest lists them. */
  public static Map<String, String> manifest(Path checkpoint) {
    Map<String, String> out = new HashMap<>();
    Path file = checkpoint.resolve(MANIFEST);
    try {
      for (String line : Files.readAllLines(file)) {
        int tab = line.indexOf('\t');
        if (tab > 0) {
          out.put(line.substring(0, tab), line.substring(tab + 1));
        }
      }
    } catch (IOException e) {
      throw new UncheckedIOException(file + ": cannot read checkpoint manifest", e);
    }
    return out;
  }

  /** How a shape is written in the manifest. */
  public static String shapeText(Shape shape) {
    return shape.toString();
  }
}

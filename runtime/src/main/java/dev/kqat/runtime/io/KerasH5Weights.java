package dev.kqat.runtime.io;

import io.jhdf.HdfFile;
import io.jhdf.api.Attribute;
import io.jhdf.api.Dataset;
import io.jhdf.api.Group;
import io.jhdf.api.Node;
import io.jhdf.exceptions.HdfException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;

/**
 * Reads the weights of a Keras 2 HDF5 file — what {@code model.save_weights("w.h5")},
 * {@code model.save("m.h5")} and the {@code keras.applications} downloads hold: a root (or
 * {@code model_weights}) group with a {@code layer_names} attribute, one group per layer with a
 * {@code weight_names} attribute, and one float dataset per weight at {@code <layer>/<weight name>}.
 */
public final class KerasH5Weights {
  private KerasH5Weights() {}

  /**
   * One weight tensor of the file.
   *
   * @param layer Keras layer name, e.g. {@code block_1_expand_BN}
   * @param variable the variable's own name without layer prefix or {@code :0}, e.g. {@code gamma}
   */
  public record Weight(String layer, String variable, int[] shape, float[] values) {}

  /** Whether {@code file} looks like an HDF5 file by name (what {@code initFrom} dispatches on). */
  public static boolean isH5(Path file) {
    String name = file.getFileName().toString().toLowerCase(java.util.Locale.ROOT);
    return name.endsWith(".h5") || name.endsWith(".hdf5");
  }

  /** All weights, in the file's layer order. Fails naming the file and what is wrong with it. */
  public static List<Weight> read(Path file) {
    if (!Files.isRegularFile(file)) {
      throw new IllegalArgumentException(file + ": Keras weights file not found");
    }
    try (HdfFile hdf = new HdfFile(file)) {
      Group root = hdf;
      if (hdf.getChildren().get("model_weights") instanceof Group g) {
        root = g; // a whole model saved with model.save("m.h5")
      }
      String[] layers = strings(root, "layer_names", file);
      List<Weight> out = new ArrayList<>();
      for (String layer : layers) {
        Node layerNode = root.getByPath(layer);
        String[] weightNames = strings(layerNode, "weight_names", file);
        for (String weightName : weightNames) {
          Node n = ((Group) layerNode).getByPath(weightName);
          if (!(n instanceof Dataset d)) {
            throw new IllegalArgumentException(file + ": " + layer + "/" + weightName + " is not a dataset");
          }
          out.add(new Weight(layer, variableName(weightName), d.getDimensions(), floats(d, file)));
        }
      }
      return out;
    } catch (HdfException e) {
      throw new IllegalArgumentException(file + ": not a readable HDF5 file (" + e.getMessage() + ")", e);
    }
  }

  /** {@code block_1_expand/kernel:0} → {@code kernel}. */
  static String variableName(String weightName) {
    String last = weightName.substring(weightName.lastIndexOf('/') + 1);
    int colon = last.indexOf(':');
    return colon < 0 ? last : last.substring(0, colon);
  }

  private static String[] strings(Node node, String attribute, Path file) {
    Attribute a = node.getAttributes().get(attribute);
    if (a == null) {
      String hint = attribute.equals("layer_names")
          ? " — not a Keras 2 HDF5 weights file (Keras 3 '.weights.h5' files are not supported;"
              + " save with model.save_weights(\"w.h5\") from Keras 2 or tf.keras)"
          : "";
      throw new IllegalArgumentException(file + ": " + node.getPath() + " has no '" + attribute + "' attribute" + hint);
    }
    // Keras writes a weightless layer's names as an empty (float) array.
    if (a.isEmpty() || a.getSize() == 0) {
      return new String[0];
    }
    Object data = a.getData();
    if (data instanceof String[] s) {
      return s;
    }
    if (data instanceof String s) {
      return new String[] {s};
    }
    throw new IllegalArgumentException(
        file + ": attribute '" + attribute + "' of " + node.getPath() + " is not a list of strings");
  }

  private static float[] floats(Dataset d, Path file) {
    Object flat = d.getDataFlat();
    if (flat instanceof float[] f) {
      return f;
    }
    if (flat instanceof double[] values) {
      float[] f = new float[values.length];
      for (int i = 0; i < f.length; i++) {
        f[i] = (float) values[i];
      }
      return f;
    }
    throw new IllegalArgumentException(file + ": " + d.getPath() + " holds " + d.getJavaType().getSimpleName()
        + ", expected floating-point weights");
  }
}

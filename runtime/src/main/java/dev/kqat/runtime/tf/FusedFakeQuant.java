package dev.kqat.runtime.tf;

import java.io.IOException;
import java.io.InputStream;
import java.io.UncheckedIOException;
import java.net.URL;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import org.tensorflow.Operand;
import org.tensorflow.Operation;
import org.tensorflow.Output;
import org.tensorflow.TensorFlow;
import org.tensorflow.op.Ops;
import org.tensorflow.types.TFloat32;

/**
 * The fused fake-quantization ops of {@code src/main/c/kqat_fake_quant.c}: one pass over the
 * tensor forward ({@code KqatFakeQuant}) and one backward ({@code KqatFakeQuantGrad}), where plain
 * TensorFlow ops take four and five. The build compiles the library into the runtime jar (CPU
 * builds only: the kernels are registered for TensorFlow's CPU device); it is loaded into
 * TensorFlow once per process, on first use.
 */
public final class FusedFakeQuant {
  static final String FORWARD = "KqatFakeQuant";
  static final String BACKWARD = "KqatFakeQuantGrad";
  private static final String LIBRARY = "native/libkqat_fake_quant.so";

  private static volatile boolean loaded;

  private FusedFakeQuant() {}

  /** Whether this build carries the library (CPU builds do; the {@code gpu} profile leaves it out). */
  public static boolean isBuilt() {
    return FusedFakeQuant.class.getResource(LIBRARY) != null;
  }

  /** Loads the library into TensorFlow; safe to call many times. */
  public static synchronized void ensureLoaded() {
    if (loaded) {
      return;
    }
    URL resource = FusedFakeQuant.class.getResource(LIBRARY);
    if (resource == null) {
      throw new IllegalStateException("this kqat build has no fused fake-quant kernel (" + LIBRARY
          + " is built by the runtime module's CPU build); use -Dkqat.fakeQuantKernel=ops");
    }
    try {
      // TF_LoadLibrary needs a file; the library may sit inside a jar.
      Path file = Files.createTempFile("libkqat_fake_quant", ".so");
      file.toFile().deleteOnExit();
      try (InputStream in = resource.openStream()) {
        Files.copy(in, file, StandardCopyOption.REPLACE_EXISTING);
      }
      TensorFlow.loadLibrary(file.toString());
    } catch (IOException e) {
      throw new UncheckedIOException("cannot unpack the fused fake-quant kernel: " + e.getMessage(), e);
    }
    loaded = true;
  }

  /** {@code s * round(clamp(x/s, n, p))}, half to even; {@code s} spans x's trailing axes or is a scalar. */
  public static Operand<TFloat32> forward(
      Ops tf, Operand<TFloat32> x, Operand<TFloat32> s, Operand<TFloat32> n, Operand<TFloat32> p) {
    ensureLoaded();
    Operation op = tf.scope().opBuilder(FORWARD, FORWARD)
        .addInput(x.asOutput()).addInput(s.asOutput()).addInput(n.asOutput()).addInput(p.asOutput())
        .build();
    return op.output(0);
  }

  /**
   * The straight-through gradients for upstream gradient {@code g}: {@code [dL/dx, dL/ds]}, with the
   * pass-through window {@code lo <= x/s <= hi} (algorithms.md §0.1).
   */
  static Output<TFloat32>[] backward(Ops tf, Operand<TFloat32> g, Operand<TFloat32> x, Operand<TFloat32> s,
      Operand<TFloat32> n, Operand<TFloat32> p, Operand<TFloat32> lo, Operand<TFloat32> hi) {
    ensureLoaded();
    Operation op = tf.scope().opBuilder(BACKWARD, BACKWARD)
        .addInput(g.asOutput()).addInput(x.asOutput()).addInput(s.asOutput())
        .addInput(n.asOutput()).addInput(p.asOutput()).addInput(lo.asOutput()).addInput(hi.asOutput())
        .build();
    @SuppressWarnings("unchecked")
    Output<TFloat32>[] out = new Output[] {op.output(0), op.output(1)};
    return out;
  }
}

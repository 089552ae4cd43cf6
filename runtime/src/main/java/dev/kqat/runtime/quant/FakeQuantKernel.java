package dev.kqat.runtime.quant;

import dev.kqat.runtime.tf.DeviceSetting;
import dev.kqat.runtime.tf.KqatNativeOps;
import java.util.Locale;

/**
 * How fake quantization (and RFQuant's IDM loss, {@link dev.kqat.runtime.tf.FeatureMse}) is computed; both
 * give the same values and gradients.
 */
public enum FakeQuantKernel {
  /** One pass over the tensor each way, in kqat's C kernels (CPU builds); IDM skips the layers it does not weigh. */
  FUSED,
  /** Plain TensorFlow ops, on any device: four passes forward, five backward. */
  TF_OPS;

  /**
   * The kernel that runs on {@code device}: the fused kernel is registered for TensorFlow's CPU
   * device only, so under a GPU {@link #FUSED} becomes {@link #TF_OPS} (same values and gradients)
   * rather than soft placement moving every quantizer to the CPU and back.
   */
  public FakeQuantKernel on(DeviceSetting device) {
    return this == FUSED && device.type() != DeviceSetting.Kind.CPU ? TF_OPS : this;
  }

  /** System property that overrides the choice: {@code fused} or {@code ops}. */
  public static final String PROPERTY = "kqat.fakeQuantKernel";

  /** {@link #FUSED} where the build carries it, unless {@code -Dkqat.fakeQuantKernel=ops}. */
  public static FakeQuantKernel preferred() {
    String chosen = System.getProperty(PROPERTY, "").trim().toLowerCase(Locale.ROOT);
    return switch (chosen) {
      case "" -> KqatNativeOps.isBuilt() ? FUSED : TF_OPS;
      case "fused" -> FUSED;
      case "ops" -> TF_OPS;
      default -> throw new IllegalArgumentException(
          "-D" + PROPERTY + " must be 'fused' or 'ops', got '" + chosen + "'");
    };
  }
}

package dev.kqat.runtime.tf;

import dev.kqat.runtime.settings.Settings;
import java.lang.reflect.Method;
import java.util.Iterator;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import org.tensorflow.DeviceSpec;
import org.tensorflow.Graph;
import org.tensorflow.GraphOperation;
import org.tensorflow.internal.c_api.TF_Graph;
import org.tensorflow.internal.c_api.global.tensorflow;
import org.tensorflow.proto.ConfigProto;

/**
 * Where a phase's training graph runs and with how many threads: {@link #cpu()}, {@link #gpu(int)}
 * or {@link #auto()} (GPU 0 when TensorFlow sees one, else the CPU), each {@link
 * #withThreads(int, int) with} TensorFlow's intra-op and inter-op thread counts (0: TensorFlow's
 * default, one per core).
 *
 * <p>The bounds live here once: {@link #problems} lists them for validators that report every
 * problem at once, and {@link #resolve()} refuses a setting that has any.
 *
 * <p>{@link #resolve()} turns {@code auto} into a concrete device and checks that a requested GPU
 * is visible to TensorFlow ({@link VisibleDevices}); only a resolved setting gives the {@linkplain
 * #tfDevice() device string} placed on every op and the {@linkplain #sessionConfig() session
 * configuration}.
 *
 * @param type CPU, GPU or AUTO
 * @param index the GPU's index for {@link Kind#GPU}, else 0
 * @param intraOpThreads threads one op may use (0: TensorFlow's default)
 * @param interOpThreads ops run at the same time (0: TensorFlow's default)
 */
public record DeviceSetting(Kind type, int index, int intraOpThreads, int interOpThreads) implements Settings {
  /** The kinds of device a phase can ask for. */
  public enum Kind {
    CPU,
    GPU,
    /** GPU 0 when TensorFlow sees a GPU, else the CPU. */
    AUTO
  }

  /** A thread count that leaves the choice to TensorFlow (one per core). */
  public static final int DEFAULT_THREADS = 0;

  /** The largest thread count accepted (a larger one is a typo, not a machine). */
  public static final int MAX_THREADS = 1024;

  /** The default: the CPU with TensorFlow's default thread counts. */
  public static final DeviceSetting DEFAULT =
      new DeviceSetting(Kind.CPU, 0, DEFAULT_THREADS, DEFAULT_THREADS);

  public static DeviceSetting cpu() {
    return DEFAULT;
  }

  public static DeviceSetting gpu(int index) {
    return new DeviceSetting(Kind.GPU, index, DEFAULT_THREADS, DEFAULT_THREADS);
  }

  public static DeviceSetting auto() {
    return new DeviceSetting(Kind.AUTO, 0, DEFAULT_THREADS, DEFAULT_THREADS);
  }

  /** This device with these thread counts (0: TensorFlow's default). */
  public DeviceSetting withThreads(int intraOp, int interOp) {
    return new DeviceSetting(type, index, intraOp, interOp);
  }

  /**
   * What is wrong with these values, by component name ({@code type}, {@code index},
   * {@code intraOpThreads}, {@code interOpThreads}); empty when they make a setting.
   */
  @Override
  public Map<String, String> problems() {
    Map<String, String> out = new LinkedHashMap<>();
    if (type == null) {
      out.put("type", "must be cpu, gpu or auto");
    } else if (type == Kind.GPU && index < 0) {
      out.put("index", "a GPU index must be >= 0, got " + index);
    } else if (type != Kind.GPU && index != 0) {
      out.put("index", "only a GPU has an index, got " + index + " for " + type.name().toLowerCase());
    }
    threads(out, "intraOpThreads", intraOpThreads);
    threads(out, "interOpThreads", interOpThreads);
    return out;
  }

  private static void threads(Map<String, String> out, String name, int n) {
    if (n < 0 || n > MAX_THREADS) {
      out.put(name, "must be in 0.." + MAX_THREADS + " (0: TensorFlow's default), got " + n);
    }
  }

  /** Whether this names one device ({@link Kind#CPU} or {@link Kind#GPU}), not {@link Kind#AUTO}. */
  public boolean isResolved() {
    return type != Kind.AUTO;
  }

  /**
   * The concrete device on this machine: {@code auto} becomes GPU 0 or the CPU; a GPU that
   * TensorFlow does not see fails here, before anything is built.
   *
   * @throws IllegalStateException naming the devices TensorFlow lists and the likely cause
   */
  public DeviceSetting resolve() {
    requireValid();
    return type == Kind.CPU ? this : resolve(VisibleDevices.gpus());
  }

  /** As {@link #resolve()}, against the GPUs given (their indices, as TensorFlow numbers them). */
  public DeviceSetting resolve(List<Integer> visibleGpus) {
    return switch (type) {
      case CPU -> this;
      case AUTO -> visibleGpus.contains(0)
          ? new DeviceSetting(Kind.GPU, 0, intraOpThreads, interOpThreads)
          : new DeviceSetting(Kind.CPU, 0, intraOpThreads, interOpThreads);
      case GPU -> {
        if (!visibleGpus.contains(index)) {
          throw new IllegalStateException(VisibleDevices.missingGpu(index, visibleGpus));
        }
        yield this;
      }
    };
  }

  /** The device every op is placed on: {@code /device:CPU:0} or {@code /device:GPU:<index>}. */
  public String tfDevice() {
    return deviceSpec().toString();
  }

  /** {@link #tfDevice()} as TensorFlow Java's {@link DeviceSpec}, for {@code Ops.withDevice}. */
  public DeviceSpec deviceSpec() {
    requireResolved();
    return DeviceSpec.newBuilder()
        .deviceType(type == Kind.GPU ? DeviceSpec.DeviceType.GPU : DeviceSpec.DeviceType.CPU)
        .deviceIndex(type == Kind.GPU ? index : 0)
        .build();
  }

  /**
   * The session's configuration: the thread counts; soft placement, so that an op without a
   * kernel on the chosen GPU (checkpoint save/restore, string ops) runs on the CPU instead of
   * failing; and for the CPU, no GPU devices in the session at all.
   */
  public ConfigProto sessionConfig() {
    requireResolved();
    ConfigProto.Builder config = ConfigProto.newBuilder()
        .setIntraOpParallelismThreads(intraOpThreads)
        .setInterOpParallelismThreads(interOpThreads)
        .setAllowSoftPlacement(true);
    if (type == Kind.CPU) {
      config.putDeviceCount("GPU", 0);
    }
    return config.build();
  }

  /**
   * Places every op of {@code graph} that has no device yet on {@link #tfDevice()}. Ops built
   * through an {@code Ops} made {@code withDevice(deviceSpec())} carry the device already; the
   * gradient ops that TensorFlow's C++ gradient builder adds ({@code Ops.gradients}, and the
   * registered straight-through gradient) carry none, and the C API sets it on them afterwards
   * ({@code TF_SetRequestedDevice}). Call it after the last gradient and before a session runs the
   * graph.
   *
   * @return how many ops it placed
   */
  public int placeUnplacedOps(Graph graph) {
    String device = tfDevice();
    // TF Java keeps the graph's C handle package-private; Graph.ref() holds it open meanwhile.
    try {
      Method ref = Graph.class.getDeclaredMethod("ref");
      ref.setAccessible(true);
      try (AutoCloseable reference = (AutoCloseable) ref.invoke(graph)) {
        Method handle = reference.getClass().getDeclaredMethod("nativeHandle");
        handle.setAccessible(true);
        TF_Graph graphHandle = (TF_Graph) handle.invoke(reference);
        int placed = 0;
        for (Iterator<GraphOperation> it = graph.operations(); it.hasNext(); ) {
          GraphOperation op = it.next();
          if (op.device().isEmpty()) {
            tensorflow.TF_SetRequestedDevice(graphHandle, op.getUnsafeNativeHandle(), device);
            placed++;
          }
        }
        return placed;
      }
    } catch (Exception e) {
      // ReflectiveOperationException: a TensorFlow Java without Graph.ref().nativeHandle().
      throw new IllegalStateException("cannot place the gradient ops on " + device + ": " + e, e);
    }
  }

  private void requireResolved() {
    if (!isResolved()) {
      throw new IllegalStateException("device auto: resolve() it to a CPU or GPU first");
    }
  }

  /** As written in an experiment: {@code cpu()}, {@code gpu(1)}, {@code auto()}, with threads if set. */
  @Override
  public String toString() {
    String device = switch (type) {
      case CPU -> "cpu()";
      case GPU -> "gpu(" + index + ")";
      case AUTO -> "auto()";
    };
    return intraOpThreads == DEFAULT_THREADS && interOpThreads == DEFAULT_THREADS ? device
        : device + " threads(intraOp = " + intraOpThreads + ", interOp = " + interOpThreads + ")";
  }
}

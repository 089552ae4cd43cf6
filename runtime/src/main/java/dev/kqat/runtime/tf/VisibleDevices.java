package dev.kqat.runtime.tf;

import static org.tensorflow.internal.c_api.global.tensorflow.TF_DeleteDeviceList;
import static org.tensorflow.internal.c_api.global.tensorflow.TF_DeviceListCount;
import static org.tensorflow.internal.c_api.global.tensorflow.TF_DeviceListName;
import static org.tensorflow.internal.c_api.global.tensorflow.TF_DeviceListType;
import static org.tensorflow.internal.c_api.global.tensorflow.TF_SessionListDevices;

import java.util.ArrayList;
import java.util.Collections;
import java.util.List;
import java.util.stream.Collectors;
import org.bytedeco.javacpp.Loader;
import org.bytedeco.javacpp.PointerScope;
import org.tensorflow.TensorFlow;
import org.tensorflow.internal.c_api.TF_DeviceList;
import org.tensorflow.internal.c_api.TF_Graph;
import org.tensorflow.internal.c_api.TF_Session;
import org.tensorflow.internal.c_api.TF_SessionOptions;
import org.tensorflow.internal.c_api.TF_Status;

/**
 * The devices TensorFlow sees in this process: the device list of a throwaway session on an empty
 * graph (the C API's {@code TF_SessionListDevices}), asked once and remembered. A session lists
 * what its device factories created: the CPU always, a GPU only where the natives carry CUDA
 * support and CUDA finds a device.
 */
public final class VisibleDevices {
  private static volatile List<String> devices;

  private VisibleDevices() {}

  /** Every device, as {@code /device:CPU:0}, {@code /device:GPU:0}, … in TensorFlow's order. */
  public static List<String> all() {
    List<String> d = devices;
    if (d == null) {
      synchronized (VisibleDevices.class) {
        if (devices == null) {
          devices = Collections.unmodifiableList(list());
        }
        d = devices;
      }
    }
    return d;
  }

  /** The indices of the visible GPUs, as TensorFlow numbers them ({@code /device:GPU:<index>}). */
  public static List<Integer> gpus() {
    String prefix = "/device:GPU:";
    return all().stream().filter(n -> n.startsWith(prefix))
        .map(n -> Integer.parseInt(n.substring(prefix.length()))).sorted().toList();
  }

  /**
   * Whether TensorFlow's GPU natives are on the class path (the {@code gpu} Maven profile's
   * {@code tensorflow-core-native} classifier {@code <platform>-gpu}); the CPU natives have no
   * CUDA support and never list a GPU.
   */
  public static boolean gpuNatives() {
    String library = "/org/tensorflow/internal/c_api/" + Loader.getPlatform() + "-gpu/"
        + System.mapLibraryName("jnitensorflow");
    return VisibleDevices.class.getResource(library) != null;
  }

  /** Why GPU {@code index} cannot be used: what TensorFlow lists and what to change. */
  static String missingGpu(int index, List<Integer> visibleGpus) {
    String listed = String.join(", ", all());
    if (visibleGpus.isEmpty()) {
      return "no GPU visible to TensorFlow for gpu(" + index + "): it lists " + listed + " only ("
          + (gpuNatives()
              ? "this build uses the GPU natives: check the NVIDIA driver, CUDA 12 + cuDNN 9 and CUDA_VISIBLE_DEVICES"
              : "this build uses the CPU natives; build with -Pgpu and install CUDA 12 + cuDNN 9")
          + "); use cpu() or auto() to train on the CPU";
    }
    return "no GPU " + index + " visible to TensorFlow for gpu(" + index + "): it sees GPU "
        + visibleGpus.stream().map(String::valueOf).collect(Collectors.joining(", "))
        + " (it lists " + listed + ")";
  }

  private static List<String> list() {
    TensorFlow.version(); // loads the natives
    try (PointerScope scope = new PointerScope()) {
      TF_Status status = TF_Status.newStatus();
      TF_Graph graph = TF_Graph.newGraph();
      TF_Session session = TF_Session.newSession(graph, TF_SessionOptions.newSessionOptions(), status);
      status.throwExceptionIfNotOK();
      try {
        TF_DeviceList list = TF_SessionListDevices(session, status);
        status.throwExceptionIfNotOK();
        try {
          List<String> out = new ArrayList<>();
          for (int i = 0; i < TF_DeviceListCount(list); i++) {
            String name = TF_DeviceListName(list, i, status).getString();
            status.throwExceptionIfNotOK();
            String type = TF_DeviceListType(list, i, status).getString();
            status.throwExceptionIfNotOK();
            // "/job:localhost/replica:0/task:0/device:GPU:0" -> "/device:GPU:0"
            int at = name.indexOf("/device:");
            out.add(at >= 0 ? name.substring(at) : "/device:" + type + ":" + i);
          }
          return out;
        } finally {
          TF_DeleteDeviceList(list);
        }
      } finally {
        session.delete(); // before its graph
      }
    }
  }
}

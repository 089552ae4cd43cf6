package dev.kqat.runtime.tf;

import java.io.IOException;
import java.io.InputStream;
import java.io.UncheckedIOException;
import java.net.URL;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;

/**
 * kqat's CPU kernels ({@code src/main/c/*.c}: {@link FusedFakeQuant}'s and {@link FeatureMse}'s ops),
 * compiled by the build into one library inside the runtime jar (CPU builds only: the kernels are
 * registered for TensorFlow's CPU device) and loaded into TensorFlow once per process, on first use.
 */
public final class KqatNativeOps {
  private static final String LIBRARY = "native/libkqat_ops.so";

  private static volatile boolean loaded;

  private KqatNativeOps() {}

  /** Whether this build carries the library (CPU builds do; the {@code gpu} profile leaves it out). */
  public static boolean isBuilt() {
    return KqatNativeOps.class.getResource(LIBRARY) != null;
  }

  /** Loads the library into TensorFlow; safe to call many times. */
  public static synchronized void ensureLoaded() {
    if (loaded) {
      return;
    }
    URL resource = KqatNativeOps.class.getResource(LIBRARY);
    if (resource == null) {
      throw new IllegalStateException("this kqat build has no CPU kernels (" + LIBRARY
          + " is built by the runtime module's CPU build); use -Dkqat.fakeQuantKernel=ops");
    }
    try {
      // TF_LoadLibrary needs a file; the library may sit inside a jar. Once loaded the process keeps its
      // mapping, so the file goes at once: a process killed later (kill -9 skips deleteOnExit) leaves none.
      Path file = Files.createTempFile("libkqat_ops", ".so");
      try {
        try (InputStream in = resource.openStream()) {
          Files.copy(in, file, StandardCopyOption.REPLACE_EXISTING);
        }
        org.tensorflow.TensorFlow.loadLibrary(file.toString());
      } finally {
        Files.deleteIfExists(file);
      }
    } catch (IOException e) {
      throw new UncheckedIOException("cannot unpack kqat's CPU kernels: " + e.getMessage(), e);
    }
    loaded = true;
  }
}

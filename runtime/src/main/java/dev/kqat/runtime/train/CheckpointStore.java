package dev.kqat.runtime.train;

import dev.kqat.runtime.tf.CheckpointVariables;
import dev.kqat.runtime.tf.Param;
import dev.kqat.runtime.tf.ParamRole;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.AtomicMoveNotSupportedException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.Set;
import java.util.stream.Stream;
import org.tensorflow.Operand;
import org.tensorflow.Session;
import org.tensorflow.exceptions.TensorFlowException;
import org.tensorflow.op.Op;
import org.tensorflow.op.Ops;
import org.tensorflow.op.core.Placeholder;
import org.tensorflow.types.TString;

/**
 * Checkpoints of one phase: {@code DIR/epoch-NNNN/} with TensorFlow's SaveV2 files, a manifest of
 * variable names and shapes, and the trainer state. A checkpoint is written into a hidden temporary
 * folder and renamed into place, and the {@code latest} pointer is replaced the same way, so a run
 * killed at any moment leaves the previous or the new checkpoint, never a broken one.
 */
public final class CheckpointStore {
  /** The file that marks a folder as a checkpoint (phase, epoch, step). */
  public static final String STATE_FILE = CheckpointState.FILE;
  static final String MANIFEST = CheckpointVariables.MANIFEST;
  static final String VARIABLES = CheckpointVariables.VARIABLES;
  private static final String LATEST = "latest";
  private final Path dir;
  private final int keep;

  /**
   * @param keep how many most recent checkpoints stay on disk (at least 1)
   */
  public CheckpointStore(Path dir, int keep) {
    this.dir = dir;
    this.keep = Math.max(1, keep);
  }

  public Path dir() {
    return dir;
  }

  /**
   * Saves every variable of {@code graph} with {@code state}; returns the checkpoint folder. A write
   * that fails (e.g. a full disk) removes its temporary folder and leaves the previous checkpoint as
   * the latest one.
   *
   * @throws CheckpointWriteException when the checkpoint cannot be written
   */
  public Path save(Session session, TrainingGraph graph, CheckpointState state) {
    return save(session, graph.tf(), graph.params().all(), state, Map.of());
  }

  /**
   * Saves {@code params} with {@code state} and {@code files} (name to text, e.g. a supernet's
   * candidate state) in one checkpoint folder, written as {@link #save(Session, TrainingGraph,
   * CheckpointState)} writes it.
   */
  public Path save(Session session, Ops tf, List<Param> params, CheckpointState state, Map<String, String> files) {
    String name = String.format("epoch-%04d", state.epoch());
    Path tmp = null;
    try {
      Files.createDirectories(dir);
      tmp = Files.createTempDirectory(dir, "." + name + ".tmp-");
      writeVariables(session, tf, params, tmp);
      injectedFailure(state.epoch());
      for (Map.Entry<String, String> f : files.entrySet()) {
        Files.writeString(tmp.resolve(f.getKey()), f.getValue());
      }
      StringBuilder manifest = new StringBuilder();
      for (Param p : params) {
        manifest.append(p.name()).append('\t').append(CheckpointVariables.shapeText(p.shape())).append('\n');
      }
      Files.writeString(tmp.resolve(MANIFEST), manifest);
      state.write(tmp);
      Path target = dir.resolve(name);
      if (Files.exists(target)) {
        deleteTree(target);
      }
      move(tmp, target);
      Path pointerTmp = Files.createTempFile(dir, ".latest", ".tmp");
      Files.writeString(pointerTmp, name + "\n");
      move(pointerTmp, dir.resolve(LATEST));
      prune(name);
      return target;
    } catch (IOException | TensorFlowException e) {
      deleteQuietly(tmp);
      String kept = latest().map(p -> "the latest complete checkpoint is " + p).orElse("no earlier checkpoint exists");
      throw new CheckpointWriteException(
          "cannot write checkpoint " + dir.resolve(name) + " (" + e.getMessage() + "); " + kept, e);
    }
  }

  private static void writeVariables(Session session, Ops tf, List<Param> params, Path folder) {
    String[] names = params.stream().map(Param::name).toArray(String[]::new);
    String[] slices = new String[names.length];
    java.util.Arrays.fill(slices, "");
    List<Operand<?>> tensors = new ArrayList<>();
    params.forEach(p -> tensors.add(p.variable()));
    try (TString prefix = TString.scalarOf(folder.resolve(VARIABLES).toString())) {
      Placeholder<TString> prefixFeed = tf.placeholder(TString.class);
      Op saveOp = tf.train.save(prefixFeed, tf.constant(java.nio.charset.StandardCharsets.UTF_8, names),
          tf.constant(java.nio.charset.StandardCharsets.UTF_8, slices), tensors);
      session.runner().feed(prefixFeed, prefix).addTarget(saveOp).run();
    }
  }

  /**
   * Failure injection for tests on machines that cannot mount a small tmpfs: with the system
   * property {@code kqat.test.failCheckpointAtEpoch=N}, writing epoch N's checkpoint fails after its
   * variables are written, as a full disk would.
   */
  private static void injectedFailure(int epoch) throws IOException {
    String failAt = System.getProperty("kqat.test.failCheckpointAtEpoch");
    if (failAt != null && Integer.parseInt(failAt) == epoch) {
      throw new IOException("No space left on device (injected by kqat.test.failCheckpointAtEpoch)");
    }
  }

  private static void deleteQuietly(Path tmp) {
    try {
      deleteTree(tmp);
    } catch (IOException | RuntimeException ignored) {
      // the next successful save prunes leftovers of this one
    }
  }

  /** The newest complete checkpoint, if any; a damaged pointer falls back to scanning. */
  public Optional<Path> latest() {
    Path pointer = dir.resolve(LATEST);
    try {
      if (Files.isRegularFile(pointer)) {
        Path p = dir.resolve(Files.readString(pointer).trim());
        if (isComplete(p)) {
          return Optional.of(p);
        }
      }
      if (!Files.isDirectory(dir)) {
        return Optional.empty();
      }
      try (Stream<Path> s = Files.list(dir)) {
        return s.filter(p -> p.getFileName().toString().startsWith("epoch-"))
            .filter(CheckpointStore::isComplete)
            .max(Comparator.comparing(p -> p.getFileName().toString()));
      }
    } catch (IOException e) {
      throw new UncheckedIOException("cannot read checkpoints in " + dir, e);
    }
  }

  public static CheckpointState state(Path checkpoint) {
    try {
      return CheckpointState.read(checkpoint);
    } catch (IOException e) {
      throw new UncheckedIOException(checkpoint + ": unreadable checkpoint: " + e.getMessage(), e);
    }
  }

  /**
   * Loads every variable of {@code graph} from {@code checkpoint}, which must hold all of them with
   * the same shapes: a run resumed from its own checkpoint, optimizer slots and trackers included.
   */
  public static void restore(Session session, TrainingGraph graph, Path checkpoint) {
    CheckpointVariables.restore(session, graph.tf(), checkpoint, graph.params().all());
  }

  /**
   * Starts a phase from another phase's checkpoint: loads the variables that {@linkplain
   * ParamRole#isHandedOver() cross phases} (weights, BN parameters and statistics, quantizer
   * parameters) and are in the checkpoint with the same shape. Optimizer slots, trackers and other
   * per-phase state keep their initial values, as a fresh optimizer would.
   *
   * @return names of the variables loaded
   */
  public static Set<String> handOver(Session session, TrainingGraph graph, Path checkpoint) {
    Map<String, String> manifest = CheckpointVariables.manifest(checkpoint);
    List<Param> toLoad = CheckpointVariables.sameNameAndShape(graph.params().all(), manifest);
    if (toLoad.isEmpty()) {
      throw new IllegalStateException(checkpoint + ": holds none of this model's variables");
    }
    CheckpointVariables.load(session, graph.tf(), checkpoint, toLoad);
    Set<String> names = new LinkedHashSet<>();
    toLoad.forEach(p -> names.add(p.name()));
    return names;
  }

  private static boolean isComplete(Path p) {
    return Files.isRegularFile(p.resolve(CheckpointState.FILE))
        && Files.isRegularFile(p.resolve(MANIFEST))
        && Files.isRegularFile(p.resolve(VARIABLES + ".index"));
  }

  private void prune(String newest) throws IOException {
    try (Stream<Path> s = Files.list(dir)) {
      List<Path> olds =
          s.filter(p -> p.getFileName().toString().startsWith("epoch-"))
              .sorted(Comparator.comparing((Path p) -> p.getFileName().toString()).reversed())
              .toList();
      for (int i = keep; i < olds.size(); i++) {
        if (!olds.get(i).getFileName().toString().equals(newest)) {
          deleteTree(olds.get(i));
        }
      }
    }
    try (Stream<Path> s = Files.list(dir)) {
      for (Path p : s.filter(p -> p.getFileName().toString().startsWith(".epoch-")).toList()) {
        deleteTree(p); // leftovers of a run killed mid-write
      }
    }
  }

  private static void move(Path from, Path to) throws IOException {
    try {
      Files.move(from, to, StandardCopyOption.ATOMIC_MOVE, StandardCopyOption.REPLACE_EXISTING);
    } catch (AtomicMoveNotSupportedException e) {
      Files.move(from, to, StandardCopyOption.REPLACE_EXISTING);
    }
  }

  private static void deleteTree(Path root) throws IOException {
    if (root == null || !Files.exists(root)) {
      return;
    }
    try (Stream<Path> s = Files.walk(root)) {
      for (Path p : s.sorted(Comparator.reverseOrder()).toList()) {
        Files.deleteIfExists(p);
      }
    }
  }
}

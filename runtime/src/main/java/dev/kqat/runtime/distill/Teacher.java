package dev.kqat.runtime.distill;

import dev.kqat.runtime.io.KerasH5Weights;
import dev.kqat.runtime.io.SafetensorsFile;
import dev.kqat.runtime.io.WeightImport;
import dev.kqat.runtime.models.KerasLayout;
import dev.kqat.runtime.models.ModelInspector;
import dev.kqat.runtime.nn.ModelState;
import dev.kqat.runtime.nn.NetContext;
import dev.kqat.runtime.nn.PassMode;
import dev.kqat.runtime.nn.QuantHooks;
import dev.kqat.runtime.quant.FakeQuantKernel;
import dev.kqat.runtime.quant.LayerInfo;
import dev.kqat.runtime.quant.QuantPolicy;
import dev.kqat.runtime.tf.ParamStore;
import dev.kqat.runtime.tf.CheckpointVariables;
import java.nio.file.Path;
import java.util.List;
import org.tensorflow.Operand;
import org.tensorflow.Session;
import org.tensorflow.op.Ops;
import org.tensorflow.types.TFloat32;

/**
 * A distillation teacher inside the student's graph: its own variables (op names under
 * {@code teacher.}, checkpoint names as in its own runs), never trained and never saved with the
 * student; its evaluation pass (running BN statistics, no dropout) on the student's images.
 */
public final class Teacher {
  /** Op-name prefix of the teacher's variables. */
  static final String OP_PREFIX = "teacher.";

  private final OnlineTeacher spec;
  private final ParamStore params;
  private final Operand<TFloat32> probabilities;

  /** Builds the teacher's forward pass on {@code images}. */
  public Teacher(Ops tf, OnlineTeacher spec, Operand<TFloat32> images) {
    this.spec = spec;
    this.params = new ParamStore(tf, 0, OP_PREFIX);
    ModelState state = new ModelState(params, QuantPolicy.FLOAT, List.of(), FakeQuantKernel.preferred(), QuantHooks.NONE);
    Operand<TFloat32> logits = spec.teacher().forward(new NetContext(state, PassMode.EVAL, null), images);
    this.probabilities = tf.stopGradient(tf.nn.softmax(logits));
  }

  /** The teacher's class probabilities, a constant for the student's gradients. */
  public Operand<TFloat32> probabilities() {
    return probabilities;
  }

  /**
   * Loads the teacher's weights after the session's variables are initialised or restored: from a
   * kqat checkpoint folder, a timm ViT {@code .safetensors} or a Keras {@code .h5} file (for the last
   * two every variable, the classifier too, must be in the file: a teacher with a fresh head teaches
   * nothing).
   */
  public void load(Session session) {
    Path file = spec.checkpoint();
    if (!SafetensorsFile.isSafetensors(file) && !KerasH5Weights.isH5(file)) {
      CheckpointVariables.restore(session, params.tf(), file, params.all());
      return;
    }
    List<LayerInfo> layers = ModelInspector.inspect(spec.teacher()).layers();
    String classifier = layers.get(layers.size() - 1).name();
    WeightImport.Result r = SafetensorsFile.isSafetensors(file)
        ? WeightImport.timmVit(session, params, file, classifier)
        : WeightImport.keras(session, params, file,
            spec.teacher() instanceof KerasLayout k ? k.kerasLayerNames() : null, classifier);
    if (!r.skipped().isEmpty()) {
      throw new IllegalArgumentException(file + ": the distillation teacher's classifier does not fit this data: " + r.skipped());
    }
  }
}

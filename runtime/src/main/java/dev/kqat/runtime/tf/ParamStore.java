package dev.kqat.runtime.tf;

import java.util.ArrayList;
import java.util.Collections;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.function.Function;
import org.tensorflow.Operand;
import org.tensorflow.ndarray.Shape;
import org.tensorflow.op.Ops;
import org.tensorflow.op.core.Variable;
import org.tensorflow.types.TFloat32;
import org.tensorflow.types.TInt64;

/**
 * All variables of one graph, created once by name and shared by the train and eval forward
 * passes. Random initial values come from stateless TensorFlow ops seeded from the experiment
 * seed and the variable name, so a model is initialised identically in every graph and process.
 */
public final class ParamStore {
  private final Ops tf;
  private final long seed;
  private final Map<String, Param> params = new LinkedHashMap<>();
  private final java.util.Set<String> noDecay = new java.util.HashSet<>();
  private final String opPrefix;

  public ParamStore(Ops tf, long seed) {
    this(tf, seed, "");
  }

  /**
   * A store whose variables' op names start with {@code opPrefix}, so that a second network (a
   * distillation teacher) lives in the same graph under its own variables' usual names.
   */
  public ParamStore(Ops tf, long seed, String opPrefix) {
    this.tf = tf;
    this.seed = seed;
    this.opPrefix = opPrefix;
  }

  public Ops tf() {
    return tf;
  }

  /** Returns the variable called {@code name}, creating it from {@code init} the first time. */
  public Variable<TFloat32> getOrCreate(
      String name, Shape shape, ParamRole role, Function<Shape, Operand<TFloat32>> init) {
    Param existing = params.get(name);
    if (existing != null) {
      if (!existing.shape().equals(shape)) {
        throw new IllegalStateException(
            "variable " + name + " re-declared with shape " + shape + ", was " + existing.shape());
      }
      return existing.variable();
    }
    Variable<TFloat32> v = tf.withName(opPrefix + uniqueOpName(name)).variable(init.apply(shape));
    params.put(name, new Param(name, v, shape, role));
    return v;
  }

  /** Normal(0, std) values, deterministic in (seed, name). */
  public Operand<TFloat32> normal(String name, Shape shape, double std) {
    Operand<TInt64> key = tf.constant(new long[] {seed, name.hashCode()});
    Operand<TFloat32> z =
        tf.random.statelessRandomNormal(tf.constant(shape), key, TFloat32.class);
    return tf.math.mul(z, tf.constant((float) std));
  }

  /** Uniform(-limit, limit) values, deterministic in (seed, name). */
  public Operand<TFloat32> uniform(String name, Shape shape, double limit) {
    Operand<TInt64> key = tf.constant(new long[] {seed, name.hashCode()});
    Operand<TFloat32> u =
        tf.random.statelessRandomUniform(tf.constant(shape), key, TFloat32.class);
    return tf.math.mul(tf.math.sub(tf.math.mul(u, tf.constant(2f)), tf.constant(1f)),
        tf.constant((float) limit));
  }

  public Operand<TFloat32> fill(Shape shape, float value) {
    return tf.fill(tf.constant(shape), tf.constant(value));
  }

  public List<Param> all() {
    return Collections.unmodifiableList(new ArrayList<>(params.values()));
  }

  public List<Param> withRole(ParamRole role) {
    return params.values().stream().filter(p -> p.role() == role).toList();
  }

  public Param get(String name) {
    return params.get(name);
  }

  /**
   * Marks a weight that decoupled weight decay (AdamW) leaves alone although it is not 1-D: a
   * transformer's class token and position embedding (timm's {@code no_weight_decay}).
   */
  public void excludeFromDecay(String name) {
    noDecay.add(name);
  }

  /**
   * Whether AdamW decays {@code p}: weights of two or more dimensions not excluded by name; never
   * biases, normalisation parameters (1-D) or quantizer parameters.
   */
  public boolean decoupledDecayApplies(Param p) {
    return p.role() == ParamRole.WEIGHT && p.shape().numDimensions() >= 2 && !noDecay.contains(p.name());
  }

  private static String uniqueOpName(String name) {
    // Op names may not contain '/' here; the checkpoint key keeps the readable name.
    return "var." + name.replaceAll("[^A-Za-z0-9._\\-]", ".");
  }
}

package dev.kqat.runtime.tf;

import org.tensorflow.ndarray.Shape;
import org.tensorflow.op.core.Variable;
import org.tensorflow.types.TFloat32;

/**
 * A named graph variable with its role.
 *
 * @param name checkpoint key, e.g. {@code block1/dw/kernel}
 * @param variable the TensorFlow variable
 * @param shape static shape
 * @param role optimizer group or state
 */
public record Param(String name, Variable<TFloat32> variable, Shape shape, ParamRole role) {}

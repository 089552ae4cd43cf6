package dev.kqat.runtime.distill;

import dev.kqat.runtime.models.Model;
import java.nio.file.Path;

/**
 * Distillation from a teacher evaluated on the student's own training images at every step.
 *
 * @param teacher the teacher network (any architecture taking the same images), run in evaluation
 *     mode in floating point
 * @param checkpoint a kqat checkpoint folder holding every variable of {@code teacher}, or its weights
 *     as a timm ViT {@code .safetensors} or Keras {@code .h5} file
 */
public record OnlineTeacher(Model teacher, Path checkpoint) implements Distillation {}

package dev.kqat.runtime.distill;

import dev.kqat.runtime.models.Model;
import java.nio.file.Path;

/**
 * Knowledge distillation from an online teacher (algorithms.md §3.4): the training loss becomes the
 * soft cross-entropy {@code -(1/N) Σ_i Σ_c t_ic log softmax(z_i)_c} against the teacher's softmax
 * {@code t} on the same images, with no hard-label term; accuracy is still counted against the
 * labels.
 *
 * @param teacher the teacher network (any architecture taking the same images), run in evaluation
 *     mode in floating point
 * @param checkpoint a kqat checkpoint folder holding every variable of {@code teacher}, or its weights
 *     as a timm ViT {@code .safetensors} or Keras {@code .h5} file
 */
public record Distillation(Model teacher, Path checkpoint) {}

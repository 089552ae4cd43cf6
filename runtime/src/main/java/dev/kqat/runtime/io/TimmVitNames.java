package dev.kqat.runtime.io;

import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;

/**
 * timm's ViT/DeiT and Swin state-dict names and layouts onto {@code VisionTransformer}'s and
 * {@code SwinTransformer}'s variables
 * (algorithms.md §3.5): {@code blocks.3.mlp.fc1.weight} [out, in] becomes {@code blocks/3/mlp/fc1}
 * {@code kernel} [in, out]; the patch projection's [out, in, kh, kw] becomes HWIO; LayerNorm
 * {@code weight}/{@code bias} become {@code gamma}/{@code beta}; {@code cls_token} and
 * {@code pos_embed} go to the {@code embed} layer; a fused {@code attn.qkv} projection ([3C, C] rows
 * q, k, v as timm stacks them) is split into {@code attn/q}, {@code attn/k} and {@code attn/v}.
 * VVTQ's own checkpoints with separate {@code attn.q/k/v} map one to one. Swin: relative position
 * bias tables map as they are, the index and mask buffers are skipped (kqat derives them), and the
 * layout is timm ≥ 0.9's (patch merging at the start of stages 2–4, head as {@code head.fc}).
 */
final class TimmVitNames {
  private TimmVitNames() {}

  /** The file's tensors as model weights (layer = the kqat layer name). */
  static List<KerasH5Weights.Weight> toModel(Path file, Map<String, SafetensorsFile.Tensor> tensors) {
    List<KerasH5Weights.Weight> out = new ArrayList<>();
    for (SafetensorsFile.Tensor t : tensors.values()) {
      String name = t.name();
      int dot = name.lastIndexOf('.');
      if (dot < 0) {
        // Top-level parameters (cls_token, pos_embed; a distilled DeiT's dist_token has no counterpart).
        out.add(weight("embed", name, t.shape(), t.floats(file)));
        continue;
      }
      String module = name.substring(0, dot).replace('.', '/');
      String kind = name.substring(dot + 1);
      if (kind.equals("relative_position_index") || kind.equals("attn_mask")) {
        continue; // Swin's buffers: kqat computes them from the window size
      }
      if (module.equals("patch_embed/proj") || module.equals("head/fc")) {
        module = module.substring(0, module.indexOf('/')); // kqat's patch embedding and head are the layers themselves
      }
      float[] values = t.floats(file);
      if (module.endsWith("attn/qkv")) {
        String attention = module.substring(0, module.length() - "qkv".length());
        splitQkv(file, t, values, attention, kind, out);
      } else if (isNorm(module)) {
        out.add(weight(module, kind.equals("weight") ? "gamma" : "beta", t.shape(), values));
      } else if (kind.equals("weight") && t.shape().length == 2) {
        out.add(weight(module, "kernel", new long[] {t.shape()[1], t.shape()[0]}, transpose(values, t.shape()[0], t.shape()[1])));
      } else if (kind.equals("weight") && t.shape().length == 4) {
        out.add(weight(module, "kernel", hwioShape(t.shape()), oihwToHwio(values, t.shape())));
      } else {
        out.add(weight(module, kind, t.shape(), values));
      }
    }
    return out;
  }

  private static boolean isNorm(String module) {
    String last = module.substring(module.lastIndexOf('/') + 1);
    return last.startsWith("norm") || last.equals("fc_norm");
  }

  /** [3C, C] rows (q; k; v) or [3C] biases, into three projections. */
  private static void splitQkv(Path file, SafetensorsFile.Tensor t, float[] values, String attention, String kind,
      List<KerasH5Weights.Weight> out) {
    long rows = t.shape()[0];
    if (rows % 3 != 0) {
      throw new IllegalArgumentException(file + ": " + t.name() + " has " + rows + " rows, not 3 equal parts for q, k and v");
    }
    int part = (int) (rows / 3);
    int perRow = t.shape().length == 2 ? (int) t.shape()[1] : 1;
    String[] names = {"q", "k", "v"};
    for (int i = 0; i < 3; i++) {
      float[] slice = new float[part * perRow];
      System.arraycopy(values, i * part * perRow, slice, 0, slice.length);
      if (kind.equals("weight")) {
        out.add(weight(attention + names[i], "kernel", new long[] {perRow, part}, transpose(slice, part, perRow)));
      } else {
        out.add(weight(attention + names[i], kind, new long[] {part}, slice));
      }
    }
  }

  /** A row-major [rows, cols] matrix transposed. */
  static float[] transpose(float[] m, long rows, long cols) {
    float[] t = new float[m.length];
    for (int r = 0; r < rows; r++) {
      for (int c = 0; c < cols; c++) {
        t[(int) (c * rows + r)] = m[(int) (r * cols + c)];
      }
    }
    return t;
  }

  private static long[] hwioShape(long[] oihw) {
    return new long[] {oihw[2], oihw[3], oihw[1], oihw[0]};
  }

  /** PyTorch's [out, in, kh, kw] convolution kernel as TensorFlow's [kh, kw, in, out]. */
  static float[] oihwToHwio(float[] w, long[] oihw) {
    int o = (int) oihw[0];
    int in = (int) oihw[1];
    int kh = (int) oihw[2];
    int kw = (int) oihw[3];
    float[] out = new float[w.length];
    for (int a = 0; a < o; a++) {
      for (int b = 0; b < in; b++) {
        for (int y = 0; y < kh; y++) {
          for (int x = 0; x < kw; x++) {
            out[((y * kw + x) * in + b) * o + a] = w[((a * in + b) * kh + y) * kw + x];
          }
        }
      }
    }
    return out;
  }

  private static KerasH5Weights.Weight weight(String layer, String variable, long[] shape, float[] values) {
    int[] dims = new int[shape.length];
    for (int i = 0; i < shape.length; i++) {
      dims[i] = Math.toIntExact(shape[i]);
    }
    return new KerasH5Weights.Weight(layer, variable, dims, values);
  }
}

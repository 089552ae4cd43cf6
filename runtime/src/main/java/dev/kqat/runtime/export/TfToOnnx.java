package dev.kqat.runtime.export;

import static dev.kqat.runtime.export.OnnxGraph.integer;
import static dev.kqat.runtime.export.OnnxGraph.ints;
import static dev.kqat.runtime.export.OnnxGraph.real;

import ai.onnx.proto.OnnxMl.AttributeProto;
import dev.kqat.runtime.quant.Quantizer;
import dev.kqat.runtime.tf.StraightThroughGradient;
import java.util.ArrayDeque;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.Deque;
import java.util.HashMap;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.Set;
import org.tensorflow.GraphOperation;
import org.tensorflow.Operand;
import org.tensorflow.Output;
import org.tensorflow.Result;
import org.tensorflow.Session;
import org.tensorflow.ndarray.Shape;

/**
 * Translates kqat's evaluation pass, op by op, from the TensorFlow graph into an {@link OnnxGraph}.
 *
 * <p>What does not depend on the images (weights, BN statistics, step sizes, shape constants) is
 * computed once by the session and written as initializers. Each fake quantizer becomes
 * QuantizeLinear → Clip → DequantizeLinear: for an activation around the tensor it quantizes; for a
 * weight around the weight as the evaluation pass uses it (frozen weights pinned), which is checked
 * to lie on the quantizer's grid so that the three nodes give it back exactly. BN stays a
 * BatchNormalization node with its trained statistics.
 *
 * <p>kqat computes in NHWC; ONNX convolutions, pools and BN take NCHW. Each value carries its
 * layout: an op that needs NCHW transposes its input once (the transposed copy is shared), element-wise
 * ops follow their inputs' layout (constants are transposed to match), and any other op gets NHWC
 * back, so the graph computes exactly what kqat computes.
 */
final class TfToOnnx {
  /** A translated tensor: its ONNX name, rank, and whether a rank-4 tensor is held as NCHW. */
  record Value(String name, int rank, boolean nchw) {}

  private static final int[] TO_NCHW = {0, 3, 1, 2};
  /** An NHWC axis's position in NCHW. */
  private static final int[] NHWC_AXIS_IN_NCHW = {0, 2, 3, 1};

  private final Session session;
  private final GraphOperation images;
  private final Map<String, Quantizer> quantizerByInput = new HashMap<>();
  private final OnnxGraph onnx;
  private final Map<String, Value> values = new HashMap<>();
  private final Map<String, Value> nchwCopies = new HashMap<>();
  private final Map<String, Value> nhwcCopies = new HashMap<>();
  private final Map<GraphOperation, Boolean> dependsOnImages = new HashMap<>();
  private final Map<String, Folded> folded = new HashMap<>();
  private final Map<GraphOperation, Optional<GraphOperation>> quantizersAbove = new HashMap<>();
  private final List<OnnxExport.QuantizerSite> sites = new ArrayList<>();

  /**
   * @param images the image placeholder, which becomes the graph input {@code imagesName}
   * @param quantizerInputs each quantizer's input in the evaluation pass, by quantizer name
   */
  TfToOnnx(Session session, Output<?> images, String imagesName, Map<String, ? extends Operand<?>> quantizerInputs,
      List<Quantizer> quantizers, OnnxGraph onnx) {
    this.session = session;
    this.images = (GraphOperation) images.op();
    this.onnx = onnx;
    Map<String, Quantizer> byName = new HashMap<>();
    quantizers.forEach(q -> byName.put(q.name(), q));
    quantizerInputs.forEach((name, input) -> quantizerByInput.put(key(input.asOutput()), byName.get(name)));
    values.put(key(images), new Value(imagesName, 4, false));
  }

  List<OnnxExport.QuantizerSite> sites() {
    return List.copyOf(sites);
  }

  /** The ONNX value of {@code out} in NHWC (kqat's own) layout. */
  Value translateNhwc(Output<?> out) {
    prefetch(out);
    return nhwc(translate(out));
  }

  /**
   * Computes every constant the translation of {@code out} reads in one session run: each distinct
   * fetch list costs TensorFlow a prune of the whole graph, which one run per constant would pay
   * hundreds of times.
   */
  private void prefetch(Output<?> out) {
    Map<String, Output<?>> constants = new java.util.LinkedHashMap<>();
    quantizerByInput.values().forEach(q -> {
      constants.put(key(q.lowest().asOutput()), q.lowest().asOutput());
      constants.put(key(q.highest().asOutput()), q.highest().asOutput());
    });
    Deque<GraphOperation> open = new ArrayDeque<>(List.of((GraphOperation) out.op()));
    Set<GraphOperation> seen = new HashSet<>(open);
    while (!open.isEmpty()) {
      GraphOperation op = open.pop();
      for (int i = 0; i < op.numInputs(); i++) {
        Output<?> in = op.input(i);
        GraphOperation from = (GraphOperation) in.op();
        if (dependsOnImages(from)) {
          if (seen.add(from)) {
            open.push(from);
          }
          continue;
        }
        constants.put(key(in), in);
        GraphOperation carrier = fakeQuantizerAbove(from);
        if (carrier != null) {
          constants.put(key(carrier.input(2)), carrier.input(2));
        }
      }
    }
    List<Output<?>> fetches = new ArrayList<>(constants.values());
    Session.Runner runner = session.runner();
    fetches.forEach(runner::fetch);
    try (Result r = runner.run()) {
      for (int i = 0; i < fetches.size(); i++) {
        folded.put(key(fetches.get(i)), Folded.of(r.get(i)));
      }
    }
  }

  private Value translate(Output<?> out) {
    String key = key(out);
    Value v = values.get(key);
    if (v != null) {
      return v;
    }
    GraphOperation op = (GraphOperation) out.op();
    if (!dependsOnImages(op)) {
      Folded f = fold(out);
      v = new Value(onnx.constant(op.name(), f), f.rank(), false);
    } else {
      v = translateOp(op, out.index());
    }
    values.put(key, v);
    return v;
  }

  private Value translateOp(GraphOperation op, int index) {
    String type = op.type();
    if (index > 0 && !type.equals("IdentityN")) {
      throw unsupported(op, "its output " + index + " is used");
    }
    return switch (type) {
      case "Identity", "StopGradient", "Snapshot" -> translate(op.input(0));
      case "IdentityN" -> StraightThroughGradient.isFakeQuantizer(op) && index == 0
          ? activationQdq(op) : translate(op.input(index));
      case "Conv2D" -> convolution(op, false);
      case "DepthwiseConv2dNative" -> convolution(op, true);
      case "FusedBatchNorm", "FusedBatchNormV2", "FusedBatchNormV3" -> batchNorm(op);
      case "Relu" -> unary(op, "Relu");
      case "Sigmoid" -> unary(op, "Sigmoid");
      case "Tanh" -> unary(op, "Tanh");
      case "Relu6" -> relu6(op);
      case "Add", "AddV2", "BiasAdd" -> binary(op, "Add");
      case "Sub" -> binary(op, "Sub");
      case "Mul" -> binary(op, "Mul");
      case "RealDiv", "Div" -> binary(op, "Div");
      case "Maximum" -> binary(op, "Max");
      case "Minimum" -> binary(op, "Min");
      case "Mean" -> mean(op);
      case "MatMul" -> matMul(op);
      case "Reshape", "Squeeze", "ExpandDims" -> reshape(op);
      case "MaxPool", "MaxPoolV2", "AvgPool" -> pool(op);
      case "Select", "SelectV2" -> where(op);
      case "ConcatV2" -> concat(op);
      case "Pad", "PadV2" -> pad(op);
      case "Placeholder" -> throw unsupported(op, "the evaluation pass reads a placeholder other than the images");
      default -> throw unsupported(op, "no ONNX translation is written for it");
    };
  }

  // ---- quantizers

  private Value activationQdq(GraphOperation carrier) {
    Quantizer q = quantizer(carrier);
    Value x = translate(carrier.input(1));
    Folded s = fold(carrier.input(2));
    if (s.size() != 1) {
      throw new OnnxExportException("activation quantizer " + q.name() + " has " + s.size()
          + " step sizes; export writes per-tensor activation quantizers only");
    }
    return new Value(qdq(x.name(), s, q, 0), x.rank(), x.nchw());
  }

  /**
   * A weight as the evaluation pass uses it, in ONNX layout: an initializer, behind
   * Quantize–Clip–Dequantize when a fake quantizer computed it.
   *
   * @param axis the output-channel axis of {@code onnxLayout}, for per-channel step sizes
   */
  private String weight(Output<?> tfWeight, Folded onnxLayout, int axis) {
    GraphOperation carrier = fakeQuantizerAbove((GraphOperation) tfWeight.op());
    if (carrier == null) {
      return onnx.constant(tfWeight.op().name(), onnxLayout);
    }
    Quantizer q = quantizer(carrier);
    Folded s = fold(carrier.input(2));
    requireOnGrid(q, onnxLayout, s, axis);
    return qdq(onnx.constant(q.name(), onnxLayout), s, q, axis);
  }

  /** Quantize–Clip–Dequantize with zero point 0: INT8 for a signed grid, UINT8 for an unsigned one. */
  private String qdq(String x, Folded s, Quantizer q, int axis) {
    long n = (long) fold(q.lowest()).floatAt(0);
    long p = (long) fold(q.highest()).floatAt(0);
    boolean signed = n < 0;
    if (signed ? n < -128 || p > 127 : p > 255) {
      throw new OnnxExportException("quantizer " + q.name() + " has the integer range [" + n + ", " + p
          + "]; ONNX export writes at most 8 bits");
    }
    int channels = s.size();
    String scale = onnx.constant(q.name() + "/scale",
        channels == 1 ? Folded.ofFloats(new long[0], new float[] {s.floatAt(0)}) : s.reshaped(channels));
    String zeroPoint = onnx.integerScalar(q.name() + "/zero_point", 0, signed, channels);
    String lowest = onnx.integerScalar(q.name() + "/n", n, signed, 1);
    String highest = onnx.integerScalar(q.name() + "/p", p, signed, 1);
    AttributeProto[] perAxis = channels == 1 ? new AttributeProto[0] : new AttributeProto[] {integer("axis", axis)};
    String quantized = onnx.node("QuantizeLinear", q.name() + "/quantize", List.of(x, scale, zeroPoint), perAxis);
    String clipped = onnx.node("Clip", q.name() + "/clip", List.of(quantized, lowest, highest));
    sites.add(new OnnxExport.QuantizerSite(q.name(), q.target(), q.spec().bits(), signed, channels > 1));
    return onnx.node("DequantizeLinear", q.name() + "/dequantize", List.of(clipped, scale, zeroPoint), perAxis);
  }

  /** Every weight must be s·k with k on the grid: then Quantize–Clip–Dequantize returns it unchanged. */
  private void requireOnGrid(Quantizer q, Folded w, Folded s, int axis) {
    float n = fold(q.lowest()).floatAt(0);
    float p = fold(q.highest()).floatAt(0);
    long stride = 1;
    for (int d = axis + 1; d < w.rank(); d++) {
      stride *= w.shape()[d];
    }
    long channels = w.shape()[axis];
    for (int i = 0; i < w.size(); i++) {
      float step = s.size() == 1 ? s.floatAt(0) : s.floatAt((int) ((i / stride) % channels));
      float k = (float) Math.rint(w.floatAt(i) / step);
      if (k < n || k > p || step * k != w.floatAt(i)) {
        throw new OnnxExportException("weight " + q.name() + " element " + i + " (" + w.floatAt(i)
            + ") is not on its quantization grid (step " + step + ", range [" + n + ", " + p + "])");
      }
    }
  }

  /**
   * The nearest fake quantizer above a weight's folded computation, or null for an unquantized
   * weight; remembered, since the prefetch and the weight's translation both ask.
   */
  private GraphOperation fakeQuantizerAbove(GraphOperation start) {
    return quantizersAbove.computeIfAbsent(start, op -> Optional.ofNullable(searchFakeQuantizerAbove(op))).orElse(null);
  }

  private static GraphOperation searchFakeQuantizerAbove(GraphOperation start) {
    Deque<GraphOperation> open = new ArrayDeque<>(List.of(start));
    Set<GraphOperation> seen = new HashSet<>(open);
    GraphOperation found = null;
    while (!open.isEmpty()) {
      GraphOperation op = open.pop();
      if (StraightThroughGradient.isFakeQuantizer(op)) {
        if (found != null && !found.equals(op)) {
          throw new OnnxExportException("the weight computed by " + start.name() + " passes two fake quantizers ("
              + found.name() + ", " + op.name() + ")");
        }
        found = op;
        continue;
      }
      for (int i = 0; i < op.numInputs(); i++) {
        GraphOperation in = (GraphOperation) op.input(i).op();
        if (seen.add(in)) {
          open.push(in);
        }
      }
    }
    return found;
  }

  private Quantizer quantizer(GraphOperation carrier) {
    Quantizer q = quantizerByInput.get(key(carrier.input(1)));
    if (q == null) {
      throw unsupported(carrier, "this fake quantizer belongs to no quantizer of the evaluation pass");
    }
    return q;
  }

  // ---- layers

  private Value convolution(GraphOperation op, boolean depthwise) {
    requireNhwc(op);
    Value x = nchw(translate(op.input(0)));
    Output<?> kernel = op.input(1);
    requireFolded(op, kernel);
    Folded hwio = fold(kernel);
    long[] k = hwio.shape();
    Folded onnxKernel = depthwise
        ? hwio.permuted(2, 3, 0, 1).reshaped(k[2] * k[3], 1, k[0], k[1])
        : hwio.permuted(3, 2, 0, 1);
    long[] strides = op.attributes().getAttrIntList("strides");
    long[] dilations = op.attributes().getAttrIntList("dilations");
    long[] pads = pads(op, new long[] {k[0], k[1]}, strides, dilations);
    String y = onnx.node("Conv", op.name(), List.of(x.name(), weight(kernel, onnxKernel, 0)),
        ints("kernel_shape", k[0], k[1]), ints("strides", strides[1], strides[2]),
        ints("dilations", dilations[1], dilations[2]), ints("pads", pads), integer("group", depthwise ? k[2] : 1));
    return new Value(y, 4, true);
  }

  private Value batchNorm(GraphOperation op) {
    requireNhwc(op);
    if (op.attributes().getAttrBool("is_training")) {
      throw unsupported(op, "it normalises with batch statistics");
    }
    Value x = nchw(translate(op.input(0)));
    List<String> inputs = new ArrayList<>(List.of(x.name()));
    for (int i = 1; i <= 4; i++) {
      requireFolded(op, op.input(i));
      inputs.add(translate(op.input(i)).name());
    }
    String y = onnx.node("BatchNormalization", op.name(), inputs, real("epsilon", op.attributes().getAttrFloat("epsilon")));
    return new Value(y, x.rank(), x.nchw());
  }

  private Value matMul(GraphOperation op) {
    if (op.attributes().getAttrBool("transpose_a") || op.attributes().getAttrBool("transpose_b")) {
      throw unsupported(op, "it transposes an operand");
    }
    Value a = nhwc(translate(op.input(0)));
    Output<?> b = op.input(1);
    String bName = dependsOnImages((GraphOperation) b.op()) ? nhwc(translate(b)).name() : weight(b, fold(b), 1);
    return new Value(onnx.node("MatMul", op.name(), List.of(a.name(), bName)), 2, false);
  }

  private Value pool(GraphOperation op) {
    requireNhwc(op);
    Value x = nchw(translate(op.input(0)));
    boolean v2 = op.type().equals("MaxPoolV2");
    long[] ksize = v2 ? fold(op.input(1)).longs() : op.attributes().getAttrIntList("ksize");
    long[] strides = v2 ? fold(op.input(2)).longs() : op.attributes().getAttrIntList("strides");
    if (ksize[0] != 1 || ksize[3] != 1 || strides[0] != 1 || strides[3] != 1) {
      throw unsupported(op, "it pools over the batch or channel axis");
    }
    long[] pads = pads(op, new long[] {ksize[1], ksize[2]}, strides, new long[] {1, 1, 1, 1});
    List<AttributeProto> attributes = new ArrayList<>(List.of(ints("kernel_shape", ksize[1], ksize[2]),
        ints("strides", strides[1], strides[2]), ints("pads", pads)));
    if (op.type().equals("AvgPool")) {
      // TensorFlow averages over the valid (unpadded) positions only.
      attributes.add(integer("count_include_pad", 0));
    }
    String y = onnx.node(op.type().equals("AvgPool") ? "AveragePool" : "MaxPool", op.name(), List.of(x.name()),
        attributes.toArray(AttributeProto[]::new));
    return new Value(y, 4, true);
  }

  /** TensorFlow's SAME padding (the odd pixel at the end) or VALID, as ONNX's explicit pads. */
  private static long[] pads(GraphOperation op, long[] kernel, long[] strides, long[] dilations) {
    String padding = op.attributes().getAttrString("padding");
    if (padding.equals("VALID")) {
      return new long[] {0, 0, 0, 0};
    }
    if (!padding.equals("SAME")) {
      throw unsupported(op, "its padding is " + padding);
    }
    Shape in = op.input(0).shape();
    long[] begin = new long[2];
    long[] end = new long[2];
    for (int d = 0; d < 2; d++) {
      long size = in.get(d + 1);
      if (size < 0) {
        throw unsupported(op, "its input has no static spatial size");
      }
      long stride = strides[d + 1];
      long out = (size + stride - 1) / stride;
      long effective = (kernel[d] - 1) * dilations[d + 1] + 1;
      long total = Math.max((out - 1) * stride + effective - size, 0);
      begin[d] = total / 2;
      end[d] = total - begin[d];
    }
    return new long[] {begin[0], begin[1], end[0], end[1]};
  }

  // ---- element-wise and shape ops

  private Value unary(GraphOperation op, String onnxType) {
    Value x = translate(op.input(0));
    return new Value(onnx.node(onnxType, op.name(), List.of(x.name())), x.rank(), x.nchw());
  }

  private Value relu6(GraphOperation op) {
    Value x = translate(op.input(0));
    String zero = onnx.constant(op.name() + "/min", Folded.ofFloats(new long[0], new float[] {0f}));
    String six = onnx.constant(op.name() + "/max", Folded.ofFloats(new long[0], new float[] {6f}));
    return new Value(onnx.node("Clip", op.name(), List.of(x.name(), zero, six)), x.rank(), x.nchw());
  }

  /** A broadcasting binary op; operands are brought to one layout first. */
  private Value binary(GraphOperation op, String onnxType) {
    Output<?> a = op.input(0);
    Output<?> b = op.input(1);
    boolean aData = dependsOnImages((GraphOperation) a.op());
    boolean bData = dependsOnImages((GraphOperation) b.op());
    Value va;
    Value vb;
    if (aData && bData) {
      va = translate(a);
      vb = translate(b);
      if (va.nchw() != vb.nchw()) {
        boolean bothRank4 = va.rank() == 4 && vb.rank() == 4;
        va = bothRank4 ? nchw(va) : nhwc(va);
        vb = bothRank4 ? nchw(vb) : nhwc(vb);
      }
    } else {
      Value data = translate(aData ? a : b);
      Output<?> constant = aData ? b : a;
      Value c = data.nchw() ? constantAsNchw(constant) : translate(constant);
      va = aData ? data : c;
      vb = aData ? c : data;
    }
    String y = onnx.node(onnxType, op.name(), List.of(va.name(), vb.name()));
    return new Value(y, Math.max(va.rank(), vb.rank()), va.nchw() || vb.nchw());
  }

  /** A constant broadcast against an NCHW tensor: numpy-aligned to rank 4, then transposed. */
  private Value constantAsNchw(Output<?> constant) {
    Folded f = fold(constant);
    if (f.rank() == 0) {
      return translate(constant);
    }
    if (f.rank() > 4) {
      throw unsupported((GraphOperation) constant.op(), "a constant of rank " + f.rank() + " meets an image tensor");
    }
    return new Value(onnx.constant(constant.op().name() + "/nchw", f.atRank(4).permuted(TO_NCHW)), 4, true);
  }

  private Value mean(GraphOperation op) {
    Value x = translate(op.input(0));
    requireFolded(op, op.input(1));
    long[] axes = fold(op.input(1)).longs().clone();
    for (int i = 0; i < axes.length; i++) {
      axes[i] = axes[i] < 0 ? axes[i] + x.rank() : axes[i];
    }
    boolean keep = op.attributes().getAttrBool("keep_dims");
    boolean spatial = Arrays.equals(Arrays.stream(axes).sorted().toArray(), new long[] {1, 2});
    if (x.nchw() && !keep && !spatial) {
      x = nhwc(x);
    }
    if (x.nchw()) {
      for (int i = 0; i < axes.length; i++) {
        axes[i] = NHWC_AXIS_IN_NCHW[(int) axes[i]];
      }
    }
    String y = onnx.node("ReduceMean", op.name(), List.of(x.name()), ints("axes", axes), integer("keepdims", keep ? 1 : 0));
    int rank = keep ? x.rank() : x.rank() - axes.length;
    return new Value(y, rank, keep && x.nchw());
  }

  /** Reshape, Squeeze and ExpandDims as a Reshape to the op's static output shape (batch left free). */
  private Value reshape(GraphOperation op) {
    Value x = nhwc(translate(op.input(0)));
    long[] shape = op.output(0).shape().asArray();
    if (op.type().equals("Reshape")) {
      requireFolded(op, op.input(1));
      shape = fold(op.input(1)).longs();
    }
    if (shape == null || Arrays.stream(shape).filter(d -> d < 0).count() > 1) {
      throw unsupported(op, "its output shape is not static but for one axis");
    }
    String target = onnx.constant(op.name() + "/shape", Folded.ofLongs(new long[] {shape.length}, shape));
    return new Value(onnx.node("Reshape", op.name(), List.of(x.name(), target)), shape.length, false);
  }

  private Value where(GraphOperation op) {
    List<String> inputs = new ArrayList<>();
    int rank = 0;
    for (int i = 0; i < 3; i++) {
      Value v = nhwc(translate(op.input(i)));
      inputs.add(v.name());
      rank = Math.max(rank, v.rank());
    }
    return new Value(onnx.node("Where", op.name(), inputs), rank, false);
  }

  private Value concat(GraphOperation op) {
    int n = op.numInputs() - 1;
    requireFolded(op, op.input(n));
    List<String> inputs = new ArrayList<>();
    int rank = 0;
    for (int i = 0; i < n; i++) {
      Value v = nhwc(translate(op.input(i)));
      inputs.add(v.name());
      rank = v.rank();
    }
    long axis = fold(op.input(n)).longs()[0];
    return new Value(onnx.node("Concat", op.name(), inputs, integer("axis", axis)), rank, false);
  }

  private Value pad(GraphOperation op) {
    Value x = nhwc(translate(op.input(0)));
    requireFolded(op, op.input(1));
    long[] pairs = fold(op.input(1)).longs();
    long[] pads = new long[pairs.length];
    int rank = pairs.length / 2;
    for (int d = 0; d < rank; d++) {
      pads[d] = pairs[2 * d];
      pads[rank + d] = pairs[2 * d + 1];
    }
    List<String> inputs = new ArrayList<>(List.of(x.name(),
        onnx.constant(op.name() + "/pads", Folded.ofLongs(new long[] {pads.length}, pads))));
    if (op.type().equals("PadV2")) {
      inputs.add(translate(op.input(2)).name());
    }
    return new Value(onnx.node("Pad", op.name(), inputs), x.rank(), false);
  }

  // ---- layouts

  private Value nchw(Value v) {
    if (v.rank() != 4 || v.nchw()) {
      return v;
    }
    return nchwCopies.computeIfAbsent(v.name(), name ->
        new Value(onnx.node("Transpose", name + "/nchw", List.of(name), ints("perm", 0, 3, 1, 2)), 4, true));
  }

  private Value nhwc(Value v) {
    if (!v.nchw()) {
      return v;
    }
    return nhwcCopies.computeIfAbsent(v.name(), name ->
        new Value(onnx.node("Transpose", name + "/nhwc", List.of(name), ints("perm", 0, 2, 3, 1)), 4, false));
  }

  // ---- graph analysis

  private boolean dependsOnImages(GraphOperation op) {
    Boolean known = dependsOnImages.get(op);
    if (known != null) {
      return known;
    }
    boolean depends = op.equals(images);
    for (int i = 0; i < op.numInputs() && !depends; i++) {
      depends = dependsOnImages((GraphOperation) op.input(i).op());
    }
    dependsOnImages.put(op, depends);
    return depends;
  }

  private Folded fold(Operand<?> operand) {
    Output<?> out = operand.asOutput();
    return folded.computeIfAbsent(key(out), k -> {
      try (Result r = session.runner().fetch(out).run()) {
        return Folded.of(r.get(0));
      }
    });
  }

  private void requireFolded(GraphOperation op, Output<?> input) {
    if (dependsOnImages((GraphOperation) input.op())) {
      throw unsupported(op, "its input " + input.op().name() + " is computed from the images");
    }
  }

  private static void requireNhwc(GraphOperation op) {
    String format = op.attributes().getAttrString("data_format");
    if (!format.equals("NHWC")) {
      throw unsupported(op, "its data format is " + format);
    }
  }

  private static OnnxExportException unsupported(GraphOperation op, String why) {
    return new OnnxExportException("cannot export " + op.type() + " op '" + op.name() + "': " + why);
  }

  private static String key(Output<?> out) {
    return out.op().name() + ":" + out.index();
  }
}

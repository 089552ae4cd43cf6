package dev.kqat.runtime.export;

import ai.onnx.proto.OnnxMl.ModelProto;
import ai.onnx.proto.OnnxMl.OperatorSetIdProto;
import ai.onnx.proto.OnnxMl.StringStringEntryProto;
import dev.kqat.runtime.quant.QuantizerTarget;
import dev.kqat.runtime.train.TrainingGraph;
import java.io.IOException;
import java.io.OutputStream;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.util.List;
import org.tensorflow.Session;

/**
 * Writes the evaluation pass of a session's network as an ONNX model (opset {@value #OPSET}):
 * input {@code images} (float NHWC, normalised as kqat's data pipeline feeds them), output
 * {@code logits}. Every fake quantizer is a QuantizeLinear → Clip → DequantizeLinear chain with
 * zero point 0 (INT8 for signed grids, UINT8 for unsigned ones; per-channel through {@code axis}),
 * exact for every bit-width up to 8; BN is a BatchNormalization node with its trained statistics.
 */
public final class OnnxExport {
  /** ONNX opset: per-axis QuantizeLinear and integer Clip are in opset 13. */
  public static final int OPSET = 13;
  public static final String INPUT = "images";
  public static final String OUTPUT = "logits";

  /** One fake quantizer written as Quantize–Clip–Dequantize. */
  public record QuantizerSite(String quantizer, QuantizerTarget target, int bits, boolean signed, boolean perChannel) {}

  /** What was written. */
  public record Summary(Path file, long bytes, int nodes, List<QuantizerSite> quantizers) {}

  private OnnxExport() {}

  /**
   * Translates the evaluation pass and writes it to {@code file}, replacing it only once the new
   * file is complete (an export that fails leaves an earlier file as it was).
   *
   * @param session a session of {@code graph} holding the trained variables
   * @param name the model's name in the file (e.g. the experiment's)
   */
  public static Summary write(TrainingGraph graph, Session session, Path file, String name) {
    graph.quantizers().stream().filter(q -> q.spec().offset()).findFirst().ifPresent(q -> {
      throw new OnnxExportException("quantizer " + q.name() + " has a learnable offset (LSQ+); ONNX export writes "
          + "zero-point-0 quantizers only");
    });
    OnnxGraph onnx = new OnnxGraph();
    int[] in = graph.setup().model().inputShape();
    onnx.input(INPUT, new long[] {-1, in[0], in[1], in[2]});
    TfToOnnx translator = new TfToOnnx(session, graph.images().asOutput(), INPUT, graph.quantizerInputs(),
        graph.quantizers(), onnx);
    String logits = translator.translateNhwc(graph.evalLogits().asOutput()).name();
    onnx.node("Identity", OUTPUT, List.of(logits));
    onnx.output(OUTPUT, new long[] {-1, graph.setup().model().numClasses()});
    ModelProto model = ModelProto.newBuilder()
        .setIrVersion(8)
        .setProducerName("kqat")
        .addOpsetImport(OperatorSetIdProto.newBuilder().setDomain("").setVersion(OPSET))
        .addMetadataProps(StringStringEntryProto.newBuilder().setKey("kqat.model")
            .setValue(graph.setup().model().name()))
        .addMetadataProps(StringStringEntryProto.newBuilder().setKey("kqat.input")
            .setValue("float32 NHWC images, normalised as kqat's data pipeline feeds them"))
        .setGraph(onnx.build(name, "kqat evaluation pass of " + graph.setup().model().name()))
        .build();
    long bytes = writeReplacing(file, model);
    return new Summary(file, bytes, model.getGraph().getNodeCount(), translator.sites());
  }

  private static long writeReplacing(Path file, ModelProto model) {
    Path dir = file.toAbsolutePath().getParent();
    Path partial = null;
    try {
      Files.createDirectories(dir);
      partial = Files.createTempFile(dir, file.getFileName().toString(), ".partial");
      try (OutputStream out = Files.newOutputStream(partial)) {
        model.writeTo(out);
      }
      Files.move(partial, file, StandardCopyOption.REPLACE_EXISTING, StandardCopyOption.ATOMIC_MOVE);
      return Files.size(file);
    } catch (IOException e) {
      if (partial != null) {
        try {
          Files.deleteIfExists(partial);
        } catch (IOException ignored) {
          // the write error below is the one to report
        }
      }
      throw new UncheckedIOException("cannot write " + file + ": " + e.getMessage(), e);
    }
  }
}

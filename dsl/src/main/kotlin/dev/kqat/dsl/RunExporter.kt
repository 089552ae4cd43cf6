package dev.kqat.dsl

import dev.kqat.runtime.export.OnnxExport
import dev.kqat.runtime.run.PhaseRunner
import kotlinx.serialization.SerialName
import kotlinx.serialization.Serializable
import java.nio.file.Path

/** One fake quantizer as written: a QuantizeLinear → Clip → DequantizeLinear chain. */
@Serializable
data class ExportedQuantizer(
    val name: String,
    val target: String,
    val bits: Int,
    val signed: Boolean,
    @SerialName("per_channel") val perChannel: Boolean,
)

/** What `kqat export` wrote. */
@Serializable
data class ExportedModel(
    val file: String,
    val checkpoint: String,
    val phase: String,
    val epoch: Int,
    val opset: Int,
    val bytes: Long,
    val nodes: Int,
    val input: String,
    val output: String,
    val quantizers: List<ExportedQuantizer>,
)

object RunExporter {
    /**
     * Where the file goes without `--out`: `RUN_DIR/model.onnx` for a run, beside it named after
     * the checkpoint (`RUN_DIR/qat-epoch-0003.onnx`) for one checkpoint folder.
     */
    fun defaultFile(target: RunTarget): Path =
        if (target.wholeRun) target.runDir.resolve("model.onnx")
        else target.runDir.resolve("${target.phase}-${target.checkpoint.fileName}.onnx")

    /** Restores [target]'s checkpoint into its phase's graph and writes the evaluation pass as ONNX. */
    fun export(target: RunTarget, file: Path): ExportedModel {
        val summary = PhaseRunner(target.setup()).use { runner ->
            runner.restore(target.checkpoint)
            runner.exportOnnx(file, target.experiment.name)
        }
        return ExportedModel(
            file.toString(), target.checkpoint.toString(), target.phase, target.epoch, OnnxExport.OPSET,
            summary.bytes(), summary.nodes(), OnnxExport.INPUT, OnnxExport.OUTPUT,
            summary.quantizers().map {
                ExportedQuantizer(it.quantizer(), it.target().name.lowercase(), it.bits(), it.signed(), it.perChannel())
            },
        )
    }
}

package dev.kqat.scripts

import com.github.ajalt.clikt.core.CliktCommand
import com.github.ajalt.clikt.core.Context
import com.github.ajalt.clikt.parameters.arguments.argument
import com.github.ajalt.clikt.parameters.options.flag
import com.github.ajalt.clikt.parameters.options.option
import com.github.ajalt.clikt.parameters.types.path
import dev.kqat.dsl.ExperimentJson
import dev.kqat.dsl.ExportedModel
import dev.kqat.dsl.RunExporter
import dev.kqat.dsl.RunTarget

class ExportCommand : CliktCommand(name = "export") {
    override fun help(context: Context) =
        "Write a run's final checkpoint (RUN_DIR) or one checkpoint folder as ONNX: every fake quantizer as " +
            "QuantizeLinear → Clip → DequantizeLinear (exact up to 8 bits), BN as trained"

    private val target by argument("RUN_DIR|CHECKPOINT").path()
    private val out by option("--out", help = "the .onnx file (default: RUN_DIR/model.onnx, or named after the checkpoint)").path()
    private val json by option("--json", help = "print what was written as one JSON object").flag()

    override fun run() = Launch.exitingOnFailure(this) {
        val resolved = RunTarget.resolve(target)
        val exported = RunExporter.export(resolved, out ?: RunExporter.defaultFile(resolved))
        if (json) echo(ExperimentJson.encodeToString(ExportedModel.serializer(), exported))
        else {
            val weights = exported.quantizers.count { it.target == "weight" }
            echo("checkpoint ${exported.checkpoint} (phase ${exported.phase}, epoch ${exported.epoch})")
            echo("wrote ${exported.file}: ONNX opset ${exported.opset}, ${exported.nodes} nodes, %.1f KiB"
                .format(exported.bytes / 1024.0))
            echo("$weights weight and ${exported.quantizers.size - weights} activation quantizers as " +
                "QuantizeLinear → Clip → DequantizeLinear; input '${exported.input}' (float NHWC, normalised as " +
                "kqat feeds it), output '${exported.output}'")
        }
    }
}

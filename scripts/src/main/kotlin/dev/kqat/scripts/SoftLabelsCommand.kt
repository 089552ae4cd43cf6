package dev.kqat.scripts

import com.github.ajalt.clikt.core.CliktCommand
import com.github.ajalt.clikt.core.Context
import com.github.ajalt.clikt.parameters.arguments.argument
import com.github.ajalt.clikt.parameters.options.default
import com.github.ajalt.clikt.parameters.options.option
import com.github.ajalt.clikt.parameters.types.double
import com.github.ajalt.clikt.parameters.types.int
import com.github.ajalt.clikt.parameters.types.long
import com.github.ajalt.clikt.parameters.types.path
import dev.kqat.dsl.Experiment
import dev.kqat.dsl.RunTarget
import dev.kqat.dsl.SoftLabelWriter
import dev.kqat.runtime.distill.SoftLabelGenerator
import java.nio.file.Files
import java.nio.file.Path
import me.tongfei.progressbar.ProgressBarBuilder
import me.tongfei.progressbar.ProgressBarStyle

class SoftLabelsCommand : CliktCommand(name = "softlabels") {
    override fun help(context: Context) =
        "Write stored soft labels (FKD): R random resized crops of every training image, each with the top-k " +
            "probabilities of a run's FP32 network (RUN_DIR's pretrain checkpoint, or a pretrain checkpoint folder), " +
            "or of the teacher a script names (SCRIPT.qat.kts: its distill { teacher(...) }, else its initFrom weights)"

    private val target by argument("RUN_DIR|CHECKPOINT|SCRIPT").path()
    private val out by option("--out", help = "the .kqsl file (default: RUN_DIR/softlabels-r<R>-k<k>.kqsl; for a script, in the current directory)").path()
    private val crops by option("--crops", help = "crops stored per image (R)").int().default(8)
    private val topK by option("--top-k", help = "probabilities kept per crop").int().default(5)
    private val minScale by option("--min-scale", help = "smallest crop area as a fraction of the image").double().default(0.08)
    private val maxScale by option("--max-scale", help = "largest crop area as a fraction of the image").double().default(1.0)
    private val seed by option("--seed", help = "seed of the crop sampler").long().default(0)

    override fun run() = Launch.exitingOnFailure(this) {
        val settings = SoftLabelGenerator.Settings(crops, topK, minScale, maxScale, seed)
        val (experiment, teacher, defaultFile) = if (Files.isRegularFile(target)) {
            val declared = ScriptHost().evaluateDeclaration(target.toFile(), arrayOf()) as? Experiment
                ?: throw ScriptException("$target: declares no experiment (a toy study has no training set to label)")
            Triple(declared, SoftLabelWriter.teacherOf(declared), Path.of(SoftLabelWriter.fileName(settings)))
        } else {
            val run = RunTarget.resolve(target, RunTarget.PRETRAIN)
            Triple(run.experiment, SoftLabelWriter.teacherOf(run),
                SoftLabelWriter.defaultFile(run, settings))
        }
        val file = out ?: defaultFile
        echo("teacher ${teacher.checkpoint()}: $crops crops per image, top $topK, crop area $minScale..$maxScale")
        val started = System.nanoTime()
        val interactive = System.console() != null
        val bar = if (interactive) ProgressBarBuilder().setTaskName("softlabels").setStyle(ProgressBarStyle.ASCII)
            .setUnit(" img", 1).build() else null
        var lastLine = 0
        val header = try {
            SoftLabelWriter.write(experiment, teacher, file, settings) { done, total ->
                bar?.maxHint(total.toLong())
                bar?.stepTo(done.toLong())
                if (bar == null && (done * 10L / total > lastLine || done == total)) {
                    lastLine = (done * 10L / total).toInt()
                    echo("  $done / $total images", err = true)
                }
            }
        } finally {
            bar?.close()
        }
        echo("wrote $file: ${header.images()} images × ${header.crops()} crops, top ${header.topK()} of ${header.classes()} " +
            "classes, in %.0f s".format((System.nanoTime() - started) / 1e9))
    }
}

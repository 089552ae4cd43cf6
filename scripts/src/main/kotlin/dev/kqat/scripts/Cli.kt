package dev.kqat.scripts

import dev.kqat.dsl.RunPlots
import dev.kqat.dsl.ToyRunner

import com.github.ajalt.clikt.core.CliktCommand
import com.github.ajalt.clikt.core.Context
import com.github.ajalt.clikt.core.main
import com.github.ajalt.clikt.core.subcommands
import com.github.ajalt.clikt.parameters.arguments.argument
import com.github.ajalt.clikt.parameters.groups.provideDelegate
import com.github.ajalt.clikt.parameters.arguments.multiple
import com.github.ajalt.clikt.parameters.arguments.optional
import com.github.ajalt.clikt.parameters.options.default
import com.github.ajalt.clikt.parameters.options.flag
import com.github.ajalt.clikt.parameters.options.option
import com.github.ajalt.clikt.parameters.types.choice
import com.github.ajalt.clikt.parameters.types.int
import com.github.ajalt.clikt.parameters.types.path
import dev.kqat.dsl.Experiment
import dev.kqat.dsl.readExperimentFile
import java.nio.file.Files

/** Exit codes: 0 done, 2 bad input (script, settings, data), 3 training diverged. */
fun main(args: Array<String>) =
    Kqat().subcommands(RunCommand(), EvalCommand(), InspectCommand(), ExportCommand(), SoftLabelsCommand(), SearchCommand(), BenchCommand(), ReportCommand(), ClasspathCommand()).main(args)

class Kqat : CliktCommand(name = "kqat") {
    override fun help(context: Context) = "Quantization-aware training driven by Kotlin scripts"
    override fun run() = Unit
}

class RunCommand : CliktCommand(name = "run") {
    override fun help(context: Context) =
        "Run an experiment script (FILE.qat.kts), replay an experiment.json, or --resume a run directory"

    private val script by argument("FILE", help = "experiment script *.qat.kts").path().optional()
    private val scriptArgs by argument("ARGS", help = "arguments passed to the script as `args`").multiple()
    private val options by RunOptions()
    private val experimentFile by option("--experiment", help = "replay an experiment.json").path()

    override fun run() = Launch.exitingOnFailure(this) { echo ->
        val resume = options.resume
        if (resume != null) {
            // A script beside --resume names the experiment the folder must hold.
            val expected = script?.let { load() as? Experiment ?: throw ScriptException("$it: a toy study cannot be resumed") }
            Launch.resume(resume, expected?.let { Overrides.apply(it, options.sets) }, echo)
        } else {
            Launch.declared(experimentFile?.let { readExperimentFile(it) } ?: load(), options, echo)
        }
    }

    /** The script's declaration: an [Experiment] or a [ToyStudy]. */
    private fun load(): Any {
        val file = script ?: throw IllegalArgumentException("give a script FILE.qat.kts, --experiment FILE.json or --resume DIR")
        return ScriptHost().evaluateDeclaration(file.toFile(), scriptArgs.toTypedArray())
    }
}

class ReportCommand : CliktCommand(name = "report") {
    override fun help(context: Context) =
        "Draw a run's oscillation plots (PNG and SVG) into RUN_DIR/plots"

    private val runDir by argument("RUN_DIR", help = "a run directory written by kqat run").path()

    override fun run() = Launch.exitingOnFailure(this) {
        val files = if (Files.isRegularFile(runDir.resolve(ToyRunner.RESULT_FILE))) ToyRunner.draw(runDir)
        else RunPlots.draw(runDir) { echo(it, err = true) }
        files.forEach { echo(it.toString()) }
    }
}

class BenchCommand : CliktCommand(name = "bench") {
    override fun help(context: Context) =
        "Training throughput of a reference model (--model tiny-mbv2 or tiny-vit): FP32 vs W4A4 QAT in one process, with their ratio"

    private val steps by option("--steps", help = "steps per measurement round").int().default(50)
    private val rounds by option("--rounds", help = "alternating measurement rounds (median reported)").int().default(5)
    private val batch by option("--batch", help = "batch size").int().default(128)
    private val model by option("--model", help = "reference model to measure").choice(*Bench.models.toTypedArray()).default("tiny-mbv2")
    private val supernet by option("--supernet", help = "also an RFQuant supernet step (max + 3 random subnets; tiny-mbv2), fused and of TF ops").flag()

    override fun run() = Launch.exitingOnFailure(this) {
        val r = Bench.run(steps, rounds, batch, model, supernet) { echo(it, err = true) }
        echo("$model, Fashion-MNIST, batch $batch, median of $rounds rounds × $steps steps")
        echo("fake_quant_kernel ${r.kernel.name.lowercase()}")
        echo("fp32_images_per_sec %.1f".format(r.fp32))
        echo("qat_w4a4_images_per_sec %.1f".format(r.qat))
        echo("qat_over_fp32_step_time %.3f".format(r.stepTimeRatio))
        echo("qat_oscillation_control_images_per_sec %.1f".format(r.qatOscillationControl))
        echo("oscillation_control_over_qat_step_time %.3f".format(r.oscillationControlRatio))
        r.qatTfOps?.let { echo("qat_w4a4_tf_ops_images_per_sec %.1f".format(it)) }
        r.tfOpsStepTimeRatio?.let { echo("qat_tf_ops_over_fp32_step_time %.3f".format(it)) }
        r.supernet?.let { echo("rfquant_supernet_images_per_sec %.1f".format(it)) }
        r.supernetRatio?.let { echo("supernet_over_qat_step_time %.3f".format(it)) }
        r.supernetTfOps?.let { echo("rfquant_supernet_tf_ops_images_per_sec %.1f".format(it)) }
        r.supernetTfOpsRatio?.let { echo("supernet_tf_ops_over_fused_step_time %.3f".format(it)) }
        echo("peak_rss_mb %.0f".format(r.peakRssMb))
        echo("images_per_measurement ${r.imagesPerMeasurement}")
    }
}

class ClasspathCommand : CliktCommand(name = "classpath") {
    override fun help(context: Context) =
        "Print kqat's class path, for kotlinc -cp \"\$(./kqat classpath)\" -script FILE.qat.kts -- [--out DIR] [--set k=v]"

    override fun run() = echo(System.getProperty("java.class.path"))
}

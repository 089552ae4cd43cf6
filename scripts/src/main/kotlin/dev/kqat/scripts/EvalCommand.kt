package dev.kqat.scripts

import com.github.ajalt.clikt.core.CliktCommand
import com.github.ajalt.clikt.core.Context
import com.github.ajalt.clikt.parameters.arguments.argument
import com.github.ajalt.clikt.parameters.options.flag
import com.github.ajalt.clikt.parameters.options.option
import com.github.ajalt.clikt.parameters.types.int
import com.github.ajalt.clikt.parameters.types.path
import dev.kqat.dsl.CalibrationDraws
import dev.kqat.dsl.CheckpointEvaluator
import dev.kqat.dsl.CheckpointReport
import dev.kqat.dsl.ExperimentJson
import dev.kqat.dsl.FoundConfiguration
import dev.kqat.dsl.RunTarget
import dev.kqat.dsl.SupernetSearch

class EvalCommand : CliktCommand(name = "eval") {
    override fun help(context: Context) =
        "Test top-1 and loss of a run's final checkpoint (RUN_DIR) or of one checkpoint folder, " +
            "with its stored BN statistics and after BN re-estimation"

    private val target by argument("RUN_DIR|CHECKPOINT").path()
    private val bnBatches by option("--bn-batches",
        help = "training batches for BN re-estimation (default: the experiment's, else ${CheckpointEvaluator.DEFAULT_BN_BATCHES}; 0: off); " +
            "with --config, of each BN calibration (default: the search file's)").int()
    private val bnDraws by option("--bn-draws",
        help = "with --config: BN-calibrate and evaluate K times, each on its own training batches, and print the spread").int()
    private val json by option("--json", help = "print the figures as one JSON object").flag()
    private val config by option("--config",
        help = "a supernet run: evaluate configuration N of a search file (search.json#N, relative to RUN_DIR), BN-calibrated, without retraining")

    override fun run() = Launch.exitingOnFailure(this) {
        require(bnBatches == null || bnBatches!! >= 0) { "--bn-batches: must be >= 0, got $bnBatches" }
        require(bnDraws == null || config != null) { "--bn-draws: only with --config (calibration draws of a supernet configuration)" }
        config?.let { reference ->
            val given = java.nio.file.Path.of(reference.substringBefore('#'))
            val inRun = if (java.nio.file.Files.exists(given)) reference else target.resolve(reference).toString()
            val (file, n) = SupernetSearch.read(inRun)
            if (bnDraws != null || bnBatches != null) {
                val draws = SupernetSearch.evaluateDraws(target, file, n, bnDraws ?: 1, bnBatches)
                if (json) echo(ExperimentJson.encodeToString(CalibrationDraws.serializer(), draws))
                else printDraws(n, draws)
                return@exitingOnFailure
            }
            val found = SupernetSearch.evaluate(target, file, n)
            if (json) echo(ExperimentJson.encodeToString(FoundConfiguration.serializer(), found))
            else echo(summary(n, found) + "test_top1 %.4f  test_loss %.4f  MBitOPs %.3f  size_mb %.4f"
                .format(found.testTop1, found.testLoss, found.bitops / 1e6, found.sizeMb))
            return@exitingOnFailure
        }
        val report = CheckpointEvaluator.evaluate(RunTarget.resolve(target), bnBatches)
        if (json) echo(ExperimentJson.encodeToString(CheckpointReport.serializer(), report))
        else {
            echo("checkpoint ${report.checkpoint} (phase ${report.phase}, epoch ${report.epoch})")
            echo("stored BN statistics: test_top1 %.4f  test_loss %.4f".format(report.testTop1, report.testLoss))
            report.testTop1BnReestimated?.let {
                echo("after BN re-estimation over ${report.bnReestimationBatches} batches: test_top1 %.4f  test_loss %.4f"
                    .format(it, report.testLossBnReestimated))
            }
        }
    }

    private fun summary(n: Int, found: FoundConfiguration) = "configuration #$n (${found.kind}${found.budget?.let { " $it" } ?: ""}): "

    private fun printDraws(n: Int, d: CalibrationDraws) {
        val c = d.configuration
        echo(summary(n, c) + "MBitOPs %.3f  size_mb %.4f; BN-calibrated ${d.testTop1.size} times on ${d.bnCalibrationBatches} batches each"
            .format(c.bitops / 1e6, c.sizeMb))
        d.testTop1.indices.forEach { echo("  draw $it: test_top1 %.4f  test_loss %.4f".format(d.testTop1[it], d.testLoss[it])) }
        echo("test_top1 mean %.4f, sd %.4f over ${d.testTop1.size} calibrations".format(d.meanTestTop1, d.sdTestTop1))
    }
}

package dev.kqat.scripts

import com.github.ajalt.clikt.core.CliktCommand
import com.github.ajalt.clikt.core.ProgramResult
import dev.kqat.dsl.Experiment
import dev.kqat.dsl.ExperimentRunner
import dev.kqat.dsl.ExperimentValidationException
import dev.kqat.dsl.Report
import dev.kqat.dsl.ToyRunner
import dev.kqat.dsl.ToyStudy
import dev.kqat.runtime.data.DatasetException
import dev.kqat.runtime.train.CheckpointWriteException
import dev.kqat.runtime.train.DivergenceException
import java.io.UncheckedIOException
import java.nio.file.Path
import java.time.LocalDateTime
import java.time.format.DateTimeFormatter

/**
 * Runs what a script declared, the same way whether the script came through `kqat run` or through
 * `kotlinc -script`: run directory, console lines and exit codes are decided here once.
 */
object Launch {
    /** Exit code for a bad script, setting or dataset (the message names the field or file:line). */
    const val BAD_INPUT = 2

    /** Exit code for a run stopped because its loss stopped being finite. */
    const val DIVERGED = 3

    /**
     * Runs what a script declared with the run's [options]: a toy study, an experiment (with `--set`
     * applied) into `--out`, or the continuation of the run in `--resume`, which must hold that experiment.
     */
    fun declared(declaration: Any, options: RunOptions, echo: (String, Boolean) -> Unit) {
        when (declaration) {
            is ToyStudy -> toy(declaration, options.out, echo)
            is Experiment -> {
                val experiment = Overrides.apply(declaration, options.sets)
                val resume = options.resume
                if (resume != null) resume(resume, experiment, echo) else experiment(experiment, options.out, echo)
            }
            else -> throw ScriptException("the script's value is a ${declaration.javaClass.simpleName}, not an experiment { } block")
        }
    }

    /** Runs [block] for [command]; a failure the user can act on becomes `error: …` and its exit code. */
    fun exitingOnFailure(command: CliktCommand, block: (echo: (String, Boolean) -> Unit) -> Unit) {
        val echo = { line: String, err: Boolean -> command.echo(line, err = err) }
        try {
            block(echo)
        } catch (e: Exception) {
            val code = exitCodeOf(e) ?: throw e
            command.echo("error: ${e.message ?: e.javaClass.simpleName}", err = true)
            throw ProgramResult(code)
        }
    }

    /** Trains [experiment] into [out] (default `runs/<name>-<time>`); prints the run directory and the final figures. */
    fun experiment(experiment: Experiment, out: Path?, echo: (String, Boolean) -> Unit) {
        val dir = out ?: defaultRunDir(experiment.name)
        echo("run directory: $dir", true)
        printFigures(ExperimentRunner(experiment, dir, ConsoleProgress()).run(), echo)
    }

    /** Continues the run in [runDir]; [expected], when given, is the experiment the folder must hold. */
    fun resume(runDir: Path, expected: Experiment?, echo: (String, Boolean) -> Unit) {
        echo("resuming $runDir", true)
        printFigures(ExperimentRunner.resume(runDir, ConsoleProgress(), expected = expected), echo)
    }

    private fun printFigures(report: Report, echo: (String, Boolean) -> Unit) =
        echo("test_top1 %.4f  train_images_per_sec %.0f  peak_rss_mb %.0f".format(
            report.testTop1, report.trainImagesPerSec, report.peakRssMb), false)

    /** Runs the variants of a toy-regression study into [out] and draws its plots. */
    fun toy(study: ToyStudy, out: Path?, echo: (String, Boolean) -> Unit) {
        val dir = out ?: defaultRunDir(study.name)
        echo("run directory: $dir", true)
        for (o in ToyRunner.run(study, dir)) {
            echo("%-24s flips/step %.3f  upper state %.2f  frequency %.3f  final w %.3f%s".format(
                o.variant, o.flipsPerStep, o.upperStateShare, o.finalFrequency, o.finalLatent,
                o.frozenAtStep?.let { "  frozen at step $it" } ?: ""), false)
        }
        ToyRunner.draw(dir).forEach { echo(it.toString(), false) }
    }

    /** The exit code for a failure the user can act on, or null for a bug (which keeps its stack trace). */
    fun exitCodeOf(e: Throwable): Int? = when (e) {
        is DivergenceException -> DIVERGED
        is ScriptException, is ExperimentValidationException, is DatasetException, is IllegalArgumentException,
        is IllegalStateException, is CheckpointWriteException, is UncheckedIOException -> BAD_INPUT
        else -> null
    }

    /** `runs/<name>-<yyyyMMdd-HHmmss>`: where a run goes without `--out` (CLI, kotlinc, notebook). */
    fun defaultRunDir(name: String): Path =
        Path.of("runs", "$name-${LocalDateTime.now().format(DateTimeFormatter.ofPattern("yyyyMMdd-HHmmss"))}")
}

package dev.kqat.scripts.notebook

import dev.kqat.dsl.Experiment
import dev.kqat.dsl.ExperimentRunner
import dev.kqat.dsl.Report
import dev.kqat.dsl.RunPlots
import dev.kqat.scripts.Launch
import java.nio.file.Path

/** A run that finished in a notebook: its directory, report and plots (PNG files under `plots/`). */
data class FinishedRun(val dir: Path, val report: Report, val plots: List<Path>)

/**
 * Trains this experiment from a notebook cell into [out] (default `runs/<name>-<time>`), with a
 * live progress line per phase; the result renders as a table with the run's plots.
 */
fun Experiment.train(out: String? = null): FinishedRun {
    val dir = out?.let { Path.of(it) } ?: Launch.defaultRunDir(name)
    val report = ExperimentRunner(this, dir, NotebookProgress(dir.fileName.toString())).run()
    val plots = RunPlots.draw(dir).filter { it.fileName.toString().endsWith(".png") }
    return FinishedRun(dir, report, plots)
}

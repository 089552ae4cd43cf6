package dev.kqat.scripts.notebook

import dev.kqat.dsl.Experiment
import dev.kqat.dsl.ExperimentRunner
import dev.kqat.dsl.Report
import dev.kqat.dsl.RunPlots
import dev.kqat.dsl.SearchFile
import dev.kqat.dsl.SupernetSearch
import dev.kqat.scripts.Launch
import java.nio.file.Files
import java.nio.file.Path

/**
 * A run that finished in a notebook: its directory, report and plots (PNG files under `plots/`), and a
 * supernet run's `search.json`.
 */
data class FinishedRun(val dir: Path, val report: Report, val plots: List<Path>, val search: SearchFile? = null)

/**
 * Trains this experiment from a notebook cell into [out] (default `runs/<name>-<time>`), with a
 * live progress line per phase; the result renders as a table with the run's plots.
 */
fun Experiment.train(out: String? = null): FinishedRun {
    val dir = out?.let { Path.of(it) } ?: Launch.defaultRunDir(name)
    val report = ExperimentRunner(this, dir, NotebookProgress(dir.fileName.toString())).run()
    val pareto = SupernetSearch.paretoPlot(dir).takeIf { Files.isRegularFile(it) }
    val plots = RunPlots.draw(dir).filter { it.fileName.toString().endsWith(".png") } + listOfNotNull(pareto)
    return FinishedRun(dir, report, plots, SupernetSearch.load(dir))
}

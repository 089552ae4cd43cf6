package dev.kqat.scripts

import com.github.ajalt.clikt.core.CliktCommand
import com.github.ajalt.clikt.core.Context
import com.github.ajalt.clikt.parameters.arguments.argument
import com.github.ajalt.clikt.parameters.options.multiple
import com.github.ajalt.clikt.parameters.options.option
import com.github.ajalt.clikt.parameters.types.int
import com.github.ajalt.clikt.parameters.types.path
import dev.kqat.dsl.Budget
import dev.kqat.dsl.ExperimentRunner
import dev.kqat.dsl.RuntimeMapping
import dev.kqat.dsl.SearchSpec
import dev.kqat.dsl.SupernetSearch
import dev.kqat.runtime.events.RunListener

/** `kqat search RUN_DIR --bitops uniform:4`: RFQuant's retraining-free search in a run's supernet. */
class SearchCommand : CliktCommand(name = "search") {
    override fun help(context: Context) =
        "Search per-layer bit-widths in a run's trained supernet under BitOPs (or size) budgets, without retraining; " +
            "writes RUN_DIR/search.json and RUN_DIR/plots/search-pareto.png"

    private val runDir by argument("RUN_DIR", help = "a run directory whose script declared mixedPrecision { }").path()
    private val bitops by option("--bitops", help = "a BitOPs budget: uniform:B (the uniform B-bit subnet's) or G BitOPs; repeatable").multiple()
    private val size by option("--size", help = "a weight-size budget: uniform:B or MB; repeatable").multiple()
    private val batch by option("--batch", help = "images of the batch each greedy step scores on (default: the script's search { }, else 256)").int()
    private val maxSteps by option("--max-steps", help = "greedy steps before a budget counts as unreached").int()
    private val startBits by option("--start-bits", help = "every layer's bits where the search starts (default: the script's search { }, else 5, as the reference; budgets above the uniform 5-bit subnet need 6)").int()

    override fun run() = Launch.exitingOnFailure(this) { echo ->
        require(bitops.isEmpty() || size.isEmpty()) { "give --bitops or --size budgets, not both" }
        for ((flag, budgets) in listOf("--bitops" to bitops, "--size" to size)) {
            budgets.forEach { b -> Budget.problem(b)?.let { throw IllegalArgumentException("$flag: $it") } }
        }
        require(batch == null || batch!! >= 1) { "--batch: must be >= 1, got $batch" }
        require(maxSteps == null || maxSteps!! >= 1) { "--max-steps: must be >= 1, got $maxSteps" }
        require(startBits == null || startBits!! in 2..8) { "--start-bits: must lie in 2..8, got $startBits" }
        val experiment = ExperimentRunner.storedExperiment(runDir)
        val declared = experiment.search ?: SearchSpec()
        val spec = declared.copy(
            budgets = bitops.ifEmpty { size }.ifEmpty { declared.budgets },
            metric = if (size.isNotEmpty()) "size" else if (bitops.isNotEmpty()) "bitops" else declared.metric,
            batchSize = batch ?: declared.batchSize,
            maxSteps = maxSteps ?: declared.maxSteps,
            startBits = startBits ?: declared.startBits,
        )
        val (train, test) = RuntimeMapping.loadData(experiment)
        val file = try {
            SupernetSearch.run(runDir, experiment, spec, train, test, object : RunListener {}) { echo(it, true) }
        } finally {
            (train as? AutoCloseable)?.close()
            (test as? AutoCloseable)?.close()
        }
        for (c in file.configurations) {
            echo("#${c.index} ${c.kind}${c.budget?.let { " $it" } ?: ""}: test_top1 %.4f  MBitOPs %.3f  size_mb %.4f  mean_bits %.2f%s".format(
                c.testTop1, c.bitops / 1e6, c.sizeMb, c.meanBits, c.searchSeconds?.let { "  search_seconds %.1f".format(it) } ?: ""), false)
        }
        echo("wrote ${runDir.resolve(SupernetSearch.FILE)}", false)
    }
}

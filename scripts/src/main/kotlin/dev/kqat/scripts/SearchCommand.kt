package dev.kqat.scripts

import com.github.ajalt.clikt.core.CliktCommand
import com.github.ajalt.clikt.core.Context
import com.github.ajalt.clikt.parameters.arguments.argument
import com.github.ajalt.clikt.parameters.options.flag
import com.github.ajalt.clikt.parameters.options.multiple
import com.github.ajalt.clikt.parameters.options.option
import com.github.ajalt.clikt.parameters.types.choice
import com.github.ajalt.clikt.parameters.types.double
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
    private val method by option("--method", help = "greedy (the reference's, default), random (its alternative: --samples configurations near each budget scored on one batch, the --keep best evaluated) or evolution (its other: --generations of a --population scored on one batch, the --keep best evaluated)").choice("greedy", "random", "evolution")
    private val samples by option("--samples", help = "random search: configurations within the tolerance scored (default 1000)").int()
    private val keep by option("--keep", help = "random / evolutionary search: best configurations kept and evaluated (default 30 / 3)").int()
    private val generations by option("--generations", help = "evolution: generations (default 20)").int()
    private val population by option("--population", help = "evolution: configurations per generation (default 50)").int()
    private val tolerance by option("--tolerance", help = "random search: accepted cost distance from the budget, a share of it (default 0.0179, the reference's 0.1 G at 5.58 G)").double()
    private val freezeAtFloor by option("--freeze-at-floor", help = "greedy: layers at the floor get no moves (not the reference's, whose search can stall on their up moves at low budgets)").flag()
    private val fillBudget by option("--fill-budget", help = "greedy: once under the budget, go on raising the layer whose up move errs least while one still fits (not the reference's, which stops there)").flag()
    private val startAtLevel by option("--start-at-level", help = "greedy: start each budget's search at its uniform level (the lowest uniform bits whose cost reaches it) instead of --start-bits (not the reference's)").flag()
    private val score by option("--score", help = "what configurations are scored by on a batch: top1 (the reference's error, default) or loss (mean cross-entropy, finer on small batches)").choice("top1", "loss")
    private val bnDraws by option("--bn-draws", help = "evaluate each found configuration and every uniform subnet over K BN calibrations, each on its own training batches, and compare them over those (default: the script's search { }, else 1, the reference's single calibration)").int()
    private val startBits by option("--start-bits", help = "every layer's bits where the search starts (default: the script's search { }, else 5, as the reference; budgets above the uniform 5-bit subnet need 6)").int()

    /** Fields whose flag is not their name; a script-only field (evolution.parents) is named as the script writes it. */
    private val flags = mapOf(
        "search.batchSize" to "--batch",
        "search.evolution.generations" to "--generations",
        "search.evolution.population" to "--population",
        "search.evolution.parents" to "search.evolution.parents (--population)",
    )

    override fun run() = Launch.exitingOnFailure(this) { echo ->
        require(bitops.isEmpty() || size.isEmpty()) { "give --bitops or --size budgets, not both" }
        require(startBits == null || !startAtLevel) { "give --start-bits or --start-at-level, not both" }
        for ((flag, budgets) in listOf("--bitops" to bitops, "--size" to size)) {
            budgets.forEach { b -> Budget.problem(b)?.let { throw IllegalArgumentException("$flag: $it") } }
        }
        val experiment = ExperimentRunner.storedExperiment(runDir)
        val declared = experiment.search ?: SearchSpec()
        val spec = declared.copy(
            budgets = bitops.ifEmpty { size }.ifEmpty { declared.budgets },
            metric = if (size.isNotEmpty()) "size" else if (bitops.isNotEmpty()) "bitops" else declared.metric,
            batchSize = batch ?: declared.batchSize,
            maxSteps = maxSteps ?: declared.maxSteps,
            startBits = startBits ?: declared.startBits,
            method = method ?: declared.method,
            samples = samples ?: declared.samples,
            // A script that declared another method has its keep for that one: evolution keeps 3 unless told.
            keep = keep ?: if (method == "evolution" && declared.method != "evolution") 3 else declared.keep,
            tolerance = tolerance ?: declared.tolerance,
            freezeAtFloor = freezeAtFloor || declared.freezeAtFloor,
            fillBudget = fillBudget || declared.fillBudget,
            // --start-bits names the start: the script's startAtLevel gives way to it.
            startAtLevel = startAtLevel || declared.startAtLevel && startBits == null,
            score = score ?: declared.score,
            bnDraws = bnDraws ?: declared.bnDraws,
            evolution = declared.evolution.copy(
                generations = generations ?: declared.evolution.generations,
                population = population ?: declared.evolution.population,
            ),
        )
        // The script's own fields were checked when it ran: a problem here comes from a flag.
        spec.problems().firstOrNull()?.let { (field, message) ->
            val flag = flags[field] ?: "--" + field.removePrefix("search.").replace(Regex("[A-Z]")) { "-" + it.value.lowercase() }
            throw IllegalArgumentException("$flag: $message")
        }
        val (train, test) = RuntimeMapping.loadData(experiment)
        val file = try {
            SupernetSearch.run(runDir, experiment, spec, train, test, object : RunListener {}) { echo(it, true) }
        } finally {
            (train as? AutoCloseable)?.close()
            (test as? AutoCloseable)?.close()
        }
        for (c in file.configurations) {
            echo("#${c.index} ${c.kind}${c.budget?.let { " $it" } ?: ""}: test_top1 %.4f%s  MBitOPs %.3f  size_mb %.4f  mean_bits %.2f%s%s".format(
                c.testTop1, c.top1OverDraws?.let { " (mean of ${it.size} calibrations %.4f)".format(c.meanTop1()) } ?: "", c.bitops / 1e6, c.sizeMb, c.meanBits, c.searchSeconds?.let { "  search_seconds %.1f".format(it) } ?: "",
                c.vsUniform?.let { vs ->
                    "  vs_uniform_W${vs.bits}A${vs.bits} %+.4f".format(vs.top1Difference) +
                        (vs.meanTop1Difference?.let { " (mean of ${vs.bnDraws} calibrations %+.4f)".format(it) } ?: "")
                } ?: ""), false)
        }
        echo("wrote ${runDir.resolve(SupernetSearch.FILE)}", false)
    }
}

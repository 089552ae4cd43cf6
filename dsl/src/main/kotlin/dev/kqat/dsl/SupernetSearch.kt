package dev.kqat.dsl

import dev.kqat.runtime.data.Dataset
import dev.kqat.runtime.events.EvalMetrics
import dev.kqat.runtime.events.RunListener
import dev.kqat.runtime.mixed.GreedySearch
import dev.kqat.runtime.quant.BitConfiguration
import dev.kqat.runtime.quant.ConfigurationCost
import dev.kqat.runtime.run.SupernetRunner
import dev.kqat.runtime.train.CheckpointStore
import kotlinx.serialization.SerialName
import kotlinx.serialization.Serializable
import kotlinx.serialization.builtins.ListSerializer
import kotlinx.serialization.json.JsonArray
import kotlinx.serialization.json.JsonElement
import kotlinx.serialization.json.JsonPrimitive
import kotlinx.serialization.json.JsonTransformingSerializer
import kotlinx.serialization.json.buildJsonObject
import org.apache.commons.math3.stat.descriptive.SummaryStatistics
import org.jetbrains.letsPlot.geom.geomLine
import org.jetbrains.letsPlot.geom.geomPoint
import org.jetbrains.letsPlot.ggsize
import org.jetbrains.letsPlot.label.labs
import org.jetbrains.letsPlot.letsPlot
import java.nio.file.Files
import java.nio.file.Path

/** One layer's bits in `search.json`. */
@Serializable
data class LayerBitsJson(val w: Int, val a: Int)

/** A configuration of `search.json`: the search's answer to one budget, or a uniform subnet for reference. */
@Serializable
data class FoundConfiguration(
    /** Its place in [SearchFile.configurations], as `search.json#N` names it. */
    val index: Int,
    /** `search` (greedy), `random` or `evolution` (one of those searches' best) or `uniform`. */
    val kind: String,
    /** The budget as given (`uniform:4`, `0.05`); null for a uniform subnet. */
    val budget: String? = null,
    /** What [budget] limits: `bitops` or `size`; null for a uniform subnet. */
    val metric: String? = null,
    /** Bit operations per image (§2.9). */
    val bitops: Double,
    /** Weight size in MB (bits / 8 / 2^20). */
    @SerialName("size_mb") val sizeMb: Double,
    /**
     * The searched layers' equivalent bit-width, sqrt(Σ BitOPs / Σ MACs) over them (the fixed first and
     * last layers left out): uniform WbAb gives b (b = 2: a little more, depth-wise layers stay at 3).
     */
    @SerialName("mean_bits") val meanBits: Double,
    /** Test top-1 after BN calibration (§2.8). */
    @SerialName("test_top1") val testTop1: Double,
    @SerialName("test_loss") val testLoss: Double,
    /** Wall time of the search (not the evaluation; a random search's for all it kept); null for a uniform subnet. */
    @SerialName("search_seconds") val searchSeconds: Double? = null,
    @SerialName("greedy_steps") val greedySteps: Int? = null,
    /** Images per scoring batch, and (greedy) every layer's bits at the start; null for a uniform subnet. */
    @SerialName("search_batch") val searchBatch: Int? = null,
    @SerialName("start_bits") val startBits: Int? = null,
    /**
     * Greedy: steps that lowered a layer, raised one, and changed nothing (the best move was a layer's at
     * the floor); and whether layers at the floor were left out ([SearchSpec.freezeAtFloor]).
     */
    @SerialName("moves_down") val movesDown: Int? = null,
    @SerialName("moves_up") val movesUp: Int? = null,
    @SerialName("moves_unapplied") val movesUnapplied: Int? = null,
    @SerialName("freeze_at_floor") val freezeAtFloor: Boolean? = null,
    /** Greedy: whether it went on raising layers under the budget ([SearchSpec.fillBudget]), and those steps. */
    @SerialName("fill_budget") val fillBudget: Boolean? = null,
    @SerialName("moves_filled") val movesFilled: Int? = null,
    /** What the search scored configurations by on its batches: `top1` or `loss`; null for a uniform subnet. */
    val score: String? = null,
    /** Every searchable layer's bits; the first and last layers run at [SearchFile.fixedBits]. */
    val layers: Map<String, LayerBitsJson>,
    /**
     * A searched entry against the best uniform subnet of the file within its budget (the question a
     * mixed-precision search answers: does it beat uniform bits at this cost?); null for a uniform subnet,
     * or when no uniform subnet of the file fits the budget. Written by `kqat search`, left out by `kqat eval`.
     */
    @SerialName("vs_uniform") val vsUniform: UniformComparison? = null,
    /**
     * With `search { bnDraws = K }`, K > 1: the test top-1 after each of K BN calibrations, each on its own
     * training batches, draw 0 first (that is [testTop1]); `kqat eval --config search.json#N --bn-draws K`
     * gives the same list. Drawn for the entries of that search and for every uniform subnet of the file.
     */
    @SerialName("top1_over_draws") val top1OverDraws: List<Double>? = null,
) {
    /** Top-1 averaged over the BN calibrations drawn, or the one calibration's where none were. */
    fun meanTop1(): Double = top1OverDraws?.average() ?: testTop1

    /** A uniform subnet's bits b (WbAb: its lowest weight bits, as depth-wise layers stay at 3 for b = 2). */
    fun uniformBits(): Int = layers.values.minOf { it.w }
}

/** A budget a search did not meet, with what it tried: `search.json`'s `unreached`. */
@Serializable
data class UnreachedBudget(
    val budget: String,
    /** `search` (greedy), `random` or `evolution`; null in files written before it was recorded. */
    val kind: String? = null,
    val metric: String? = null,
    /** Greedy: the cost where the steps ran out (BitOPs per image, or bits for `size`). */
    @SerialName("cost_reached") val costReached: Double? = null,
    @SerialName("search_seconds") val searchSeconds: Double? = null,
    @SerialName("greedy_steps") val greedySteps: Int? = null,
    @SerialName("search_batch") val searchBatch: Int? = null,
    @SerialName("start_bits") val startBits: Int? = null,
    @SerialName("moves_down") val movesDown: Int? = null,
    @SerialName("moves_up") val movesUp: Int? = null,
    @SerialName("moves_unapplied") val movesUnapplied: Int? = null,
    @SerialName("freeze_at_floor") val freezeAtFloor: Boolean? = null,
    @SerialName("fill_budget") val fillBudget: Boolean? = null,
    val score: String? = null,
)

/** Reads `unreached` of older files too, where each entry was the budget string alone. */
object UnreachedListSerializer : JsonTransformingSerializer<List<UnreachedBudget>>(ListSerializer(UnreachedBudget.serializer())) {
    override fun transformDeserialize(element: JsonElement): JsonElement =
        if (element !is JsonArray) element
        else JsonArray(element.map { if (it is JsonPrimitive) buildJsonObject { put("budget", it) } else it })
}

/**
 * `RUN_DIR/search.json`: what `kqat search` found in a supernet, and the uniform subnets beside it.
 * Later searches of the same checkpoint append to it, so `search.json#N` keeps naming the same entry.
 */
@Serializable
data class SearchFile(
    val experiment: String,
    /** The supernet checkpoint searched (its EMA when it keeps one). */
    val checkpoint: String,
    /** `bitops` or `size`: the metric of the latest search (each searched entry names its own). */
    val metric: String,
    @SerialName("fixed_bits") val fixedBits: Int,
    @SerialName("bn_calibration_batches") val bnCalibrationBatches: Int,
    val configurations: List<FoundConfiguration>,
    /** Budgets a search did not meet (greedy: not within its steps; random, evolution: nothing feasible drawn). */
    @Serializable(with = UnreachedListSerializer::class)
    val unreached: List<UnreachedBudget> = emptyList(),
) {
    fun configuration(n: Int): FoundConfiguration = configurations.getOrNull(n)
        ?: throw IllegalArgumentException("search.json has configurations 0..${configurations.size - 1}, not #$n")
}

/**
 * RFQuant's retraining-free search in a trained supernet (algorithms.md §2.10): for each budget the
 * greedy search's configuration, then BN calibration (§2.8) and evaluation of it and of the uniform
 * subnets, into `RUN_DIR/search.json` and the Pareto plot `RUN_DIR/plots/search-pareto.{png,svg}`.
 */
object SupernetSearch {
    const val FILE = "search.json"

    /** The Pareto plot a search draws, `RUN_DIR/plots/search-pareto.png` (and `.svg`). */
    fun paretoPlot(runDir: Path): Path = runDir.resolve("plots").resolve("$PARETO.png")
    private const val PARETO = "search-pareto"
    private const val PROGRESS_STEPS = 10
    private const val PROGRESS_SECONDS = 30L

    /** Searches the finished supernet of [runDir] ([e] its experiment) under [spec]'s budgets. */
    fun run(runDir: Path, e: Experiment, spec: SearchSpec, train: Dataset, test: Dataset, listener: RunListener,
            log: (String) -> Unit = {}): SearchFile {
        val supernet = requireNotNull(e.mixedPrecision) { "$runDir: the run trained no supernet (no mixedPrecision { })" }
        val checkpoint = finishedCheckpoint(runDir)
        return SupernetRunner.forEvaluation(RuntimeMapping.supernetSetup(e, supernet), supernet.graphSpec()).use { runner ->
            runner.load(checkpoint)
            search(runner, runDir, checkpoint, e, spec, train, test, listener, log)
        }
    }

    /**
     * Searches the supernet [runner] holds (trained, its EMA in place), saved as [checkpoint]: the
     * run's own graph right after training, or one loaded from the checkpoint. Appends to an earlier
     * `search.json` of the same checkpoint (uniform subnets already in it are not evaluated again).
     */
    fun search(runner: SupernetRunner, runDir: Path, checkpoint: Path, e: Experiment, spec: SearchSpec, train: Dataset,
               test: Dataset, listener: RunListener, log: (String) -> Unit = {}): SearchFile {
        val supernet = requireNotNull(e.mixedPrecision) { "$runDir: the run trained no supernet (no mixedPrecision { })" }
        val metric = if (spec.metric == "size") SupernetRunner.Metric.SIZE else SupernetRunner.Metric.BITOPS
        val score = if (spec.score == "loss") SupernetRunner.Score.LOSS else SupernetRunner.Score.TOP1_ERROR
        val earlier = earlierSearch(runDir, checkpoint, log)
        // Entries of searches before mean_bits left out the fixed layers hold the older figure: recomputed once.
        val found = earlier?.configurations.orEmpty()
            .map { it.copy(meanBits = configuration(it).let { c -> meanBits(runner.cost(c), c) }) }.toMutableList()
        val unreached = earlier?.unreached.orEmpty().toMutableList()
        val before = found.size
        // Which test images each entry evaluated here classifies right, for the paired comparison with uniform.
        val right = mutableMapOf<Int, java.util.BitSet>()
        val candidates = runner.candidates()
        fun entry(kind: String, budget: String?, config: BitConfiguration, seconds: Double?, greedy: GreedySearch.Result?,
                  startBits: Int? = null): FoundConfiguration {
            val evaluation = runner.evaluateByExample(config, train, test, e.data.batchSize, supernet.bnCalibrationBatches)
            right[found.size] = evaluation.right()
            val m = evaluation.metrics()
            val cost = runner.cost(config)
            return FoundConfiguration(
                found.size, kind, budget, budget?.let { spec.metric }, cost.bitOps(), cost.megabytes(),
                meanBits(cost, config), m.top1(), m.loss(), seconds, greedy?.steps(),
                budget?.let { spec.batchSize }, startBits,
                greedy?.down(), greedy?.up(), greedy?.unapplied(), greedy?.let { spec.freezeAtFloor }, greedy?.let { spec.fillBudget },
                greedy?.filled(), budget?.let { spec.score },
                config.layers().mapValues { (_, b) -> LayerBitsJson(b.weight(), b.input()) },
            ).also { listener.evaluated("search/${it.index}", 0, m) }
        }
        // Written after every entry, so a search stopped in a later budget keeps the earlier ones.
        fun write(): SearchFile {
            val file = SearchFile(e.name, checkpoint.toString(), spec.metric, supernet.fixedBits, supernet.bnCalibrationBatches,
                againstUniform(found, runner, candidates), unreached)
            AtomicFiles.write(runDir.resolve(FILE), ExperimentJson.encodeToString(SearchFile.serializer(), file))
            return file
        }
        // The random and evolutionary searches' best, each with its score on the one batch (error or loss).
        fun keep(kind: String, budget: String, seconds: Double, kept: List<Pair<BitConfiguration, Double>>) {
            if (kept.isEmpty()) {
                unreached += UnreachedBudget(budget, kind, spec.metric, searchSeconds = seconds, searchBatch = spec.batchSize,
                    score = spec.score)
                write()
            }
            for ((config, batchScore) in kept) {
                found += entry(kind, budget, config, seconds, null)
                write()
                log("budget $budget: $kind #${found.last().index} top-1 %.4f (one batch: %s)".format(found.last().testTop1,
                    batchScoreText(batchScore, score)))
            }
        }
        for (budget in spec.budgets) {
            val value = budgetValue(budget, metric, runner, candidates)
            val start = System.nanoTime()
            if (spec.method == "random") {
                val settings = MixedPrecisionChecks.randomSettings(spec)
                val result = runner.randomSearch(value, metric, settings, score, train, spec.batchSize, e.seed + found.size,
                    throttled(maxOf(1, settings.samples() / 10), log, { it.scored() }) { p ->
                        "budget $budget: ${p.scored()}/${settings.samples()} random configurations scored (${p.drawn()} drawn)"
                    })
                val seconds = (System.nanoTime() - start) / 1e9
                log("budget $budget: ${result.scored()} random configurations within ±%.1f %% scored in %.1f s (%d drawn)"
                    .format(100 * spec.tolerance, seconds, result.drawn()))
                keep("random", budget, seconds, result.kept().map { it.config() to it.error() })
                continue
            }
            if (spec.method == "evolution") {
                val settings = MixedPrecisionChecks.evolutionSettings(spec)
                val result = runner.evolutionSearch(value, metric, settings, score, train, spec.batchSize, e.seed + found.size,
                    throttled(1, log, { it.generation() }) { p ->
                        "budget $budget: generation ${p.generation()}/${settings.generations()}, ${p.scored()} configurations scored; best " +
                            "on the batch ${batchScoreText(-p.best().fitness(), score)} at ${costText(p.best().cost(), metric)}"
                    })
                val seconds = (System.nanoTime() - start) / 1e9
                log("budget $budget: ${result.scored()} configurations scored over ${result.generations()} generations in %.1f s"
                    .format(seconds))
                keep("evolution", budget, seconds, result.best().take(spec.keep).map { it.config() to -it.fitness() })
                continue
            }
            val costOf = GreedySearch.Cost { runner.cost(it, metric) }
            val settings = MixedPrecisionChecks.settings(spec, GreedySearch.uniformLevel(candidates, value, costOf),
                GreedySearch.levelReaching(candidates, value, costOf))
            val result = runner.search(value, metric, settings, score, train, spec.batchSize,
                e.seed + found.size, greedyProgress(budget, value, metric, spec.maxSteps, log))
            val seconds = (System.nanoTime() - start) / 1e9
            val moves = movesText(result.down(), result.up(), result.unapplied(), result.filled().takeIf { spec.fillBudget })
            if (result.config() == null) {
                log("budget $budget: not reached in ${spec.maxSteps} greedy steps, %.1f s ($moves; at ${costText(result.cost(), metric)}, ".format(seconds) +
                    "budget ${costText(value, metric)})" +
                    if (result.unapplied() > 0 && !spec.freezeAtFloor) "; freezeAtFloor (--freeze-at-floor) leaves layers at the floor out" else "")
                unreached += UnreachedBudget(budget, "search", spec.metric, result.cost(), seconds, result.steps(), spec.batchSize,
                    settings.startBits(), result.down(), result.up(), result.unapplied(), spec.freezeAtFloor, spec.fillBudget, spec.score)
                write()
                continue
            }
            found += entry("search", budget, result.config(), seconds, result, settings.startBits())
            write()
            log("budget $budget: ${result.steps()} greedy steps ($moves) in %.1f s, top-1 %.4f".format(seconds, found.last().testTop1))
        }
        for (bits in supernet.evaluateUniform.sorted()) {
            val uniform = BitConfiguration.uniform(candidates, bits)
            if (found.any { it.kind == "uniform" && configuration(it) == uniform }) continue
            found += entry("uniform", null, uniform, null, null)
            write()
            log("uniform W${bits}A$bits: top-1 %.4f".format(found.last().testTop1))
        }
        // With bnDraws > 1, each new entry and every uniform subnet of the file over further BN calibrations (draw k
        // on the same batches for all), so that the uniform subnets are ranked, plotted and compared by their mean.
        if (spec.bnDraws > 1) {
            for (i in found.indices) {
                val c = found[i]
                if (i < before && c.kind != "uniform" || (c.top1OverDraws?.size ?: 0) >= spec.bnDraws) continue
                found[i] = c.copy(top1OverDraws = listOf(c.testTop1) + (1 until spec.bnDraws).map { draw ->
                    runner.evaluate(configuration(c), train, test, e.data.batchSize, supernet.bnCalibrationBatches, draw).top1()
                })
                write()
                if (c.kind == "uniform") log("uniform W${c.uniformBits()}A${c.uniformBits()} (#$i): " +
                    "top-1 over ${spec.bnDraws} BN calibrations %s".format(drawsText(found[i].top1OverDraws!!)))
            }
        }
        // Each new entry against its uniform subnet image by image (that subnet evaluated again if an earlier search did
        // it), and over the calibrations drawn; so is an earlier entry whose uniform subnet changed (ranked by mean now).
        fun rightOf(n: Int) = right.getOrPut(n) {
            runner.evaluateByExample(configuration(found[n]), train, test, e.data.batchSize, supernet.bnCalibrationBatches).right()
        }
        for (c in againstUniform(found, runner, candidates)) {
            var vs = c.vsUniform ?: continue
            if (c.index < before && vs.pValue != null) continue
            vs = vs.paired(rightOf(c.index), rightOf(vs.index))
            val searchedDraws = c.top1OverDraws
            val uniformDraws = found[vs.index].top1OverDraws
            if (spec.bnDraws > 1 && searchedDraws != null && uniformDraws != null) {
                vs = vs.overDraws(searchedDraws.take(spec.bnDraws).zip(uniformDraws.take(spec.bnDraws)) { a, b -> a - b })
            }
            found[c.index] = c.copy(vsUniform = vs)
        }
        val file = write()
        for (c in file.configurations.drop(before)) {
            val vs = c.vsUniform ?: continue
            val overDraws = vs.meanTop1Difference?.let { "; over ${vs.bnDraws} BN calibrations %s (se %.2f)".format(pointsText(it), 100 * vs.seTop1Difference!!) } ?: ""
            log(("budget ${c.budget}: ${c.kind} #${c.index} top-1 %.4f, %s uniform W${vs.bits}A${vs.bits} (#${vs.index}), the best " +
                "uniform subnet within the budget; test images right only here ${vs.onlySearchedRight}, only there " +
                "${vs.onlyUniformRight} (McNemar p = %.3g)%s").format(c.testTop1, pointsText(vs.top1Difference), vs.pValue, overDraws))
        }
        if (found.isNotEmpty()) PngExport.save(pareto(file), paretoPlot(runDir).parent, PARETO)
        return file
    }

    /**
     * [entries] with each searched one compared to the best uniform subnet among them (by [FoundConfiguration.meanTop1]) whose cost, in the
     * search's metric, lies within its budget (`uniform:B`: uniform B itself and those below it).
     */
    private fun againstUniform(entries: List<FoundConfiguration>, runner: SupernetRunner,
                               candidates: Map<String, dev.kqat.runtime.quant.BitRange>): List<FoundConfiguration> {
        val uniform = entries.filter { it.kind == "uniform" }
        return entries.map { entry ->
            val budget = entry.budget ?: return@map entry
            val metric = if (entry.metric == "size") SupernetRunner.Metric.SIZE else SupernetRunner.Metric.BITOPS
            val limit = budgetValue(budget, metric, runner, candidates)
            val best = UniformComparison.best(uniform.filter { runner.cost(configuration(it), metric) <= limit })
                ?: return@map entry.copy(vsUniform = null)
            // The image-by-image counts stay while the uniform subnet compared with is the same one.
            entry.vsUniform?.takeIf { it.index == best.index }?.let { return@map entry }
            entry.copy(vsUniform = UniformComparison(best.index, best.uniformBits(), entry.testTop1 - best.testTop1))
        }
    }

    /** A top-1 difference as the console prints it: "0.25 points under", "0.10 points above", "level with". */
    private fun pointsText(difference: Double): String {
        val points = 100 * difference
        return when {
            Math.abs(points) < 0.005 -> "level with"
            points < 0 -> "%.2f points under".format(-points)
            else -> "%.2f points above".format(points)
        }
    }

    /** Calibration draws' top-1 as the console prints them: "mean 0.9081, sd 0.16 points (0.9074 0.9075 …)", draw 0 first. */
    private fun drawsText(top1: List<Double>): String {
        val stats = SummaryStatistics().apply { top1.forEach(::addValue) }
        return "mean %.4f, sd %.2f points (%s)".format(stats.mean, 100 * stats.standardDeviation, top1.joinToString(" ") { "%.4f".format(it) })
    }

    /** A greedy search's console line every [PROGRESS_STEPS] steps (a step scores 2 moves per layer: minutes per step on ImageNet). */
    private fun greedyProgress(budget: String, value: Double, metric: SupernetRunner.Metric, maxSteps: Int,
                               log: (String) -> Unit) = throttled<GreedySearch.Progress>(PROGRESS_STEPS, log, { it.step() + 1 }) { p ->
        val phase = if (p.filling()) "filling the budget" else if (p.inputsPhase()) "inputs" else "weights"
        "budget $budget: greedy step ${p.step() + 1}/$maxSteps ($phase) at ${costText(p.cost(), metric)} (budget ${costText(value, metric)}); " +
            movesText(p.down(), p.up(), p.unapplied(), p.filled().takeIf { p.filling() })
    }

    /**
     * A search's progress reports as console lines: the report whose [count] is a multiple of [every], or
     * sooner once [PROGRESS_SECONDS] have passed since the last line.
     */
    private fun <T> throttled(every: Int, log: (String) -> Unit, count: (T) -> Int, line: (T) -> String): java.util.function.Consumer<T> {
        var last = System.nanoTime()
        return java.util.function.Consumer { p ->
            if (count(p) % every == 0 || System.nanoTime() - last >= PROGRESS_SECONDS * 1_000_000_000L) {
                last = System.nanoTime()
                log(line(p))
            }
        }
    }

    /** A configuration's score on a search batch ([score]: its error or loss) as the console prints it. */
    private fun batchScoreText(batchScore: Double, score: SupernetRunner.Score) =
        if (score == SupernetRunner.Score.LOSS) "loss %.4f".format(batchScore) else "top-1 %.4f".format(1 - batchScore)

    /** A greedy search's moves so far as the console prints them; [filled] null when it is not filling the budget. */
    private fun movesText(down: Int, up: Int, unapplied: Int, filled: Int?) =
        "$down down, $up up, $unapplied changing nothing" + (filled?.let { ", $it filling the budget" } ?: "")

    /** A cost in [metric]'s unit (BitOPs per image or bits) as the console prints it. */
    private fun costText(cost: Double, metric: SupernetRunner.Metric) =
        if (metric == SupernetRunner.Metric.BITOPS) "%.2f MBitOPs".format(cost / 1e6) else "%.4f MB".format(cost / 8 / (1 shl 20))

    private fun meanBits(cost: ConfigurationCost, config: BitConfiguration): Double {
        val searched = cost.layers().filter { it.layer() in config.layers() }
        return Math.sqrt(searched.sumOf { it.bitOps() } / searched.sumOf { it.bitOps() / (it.weightBits() * it.inputBits()) })
    }

    /**
     * [runDir]'s `search.json` when it searched [checkpoint]; null when there is none, or when it
     * searched another checkpoint: that one is kept aside as `search-<its checkpoint>-<time>.json`.
     */
    private fun earlierSearch(runDir: Path, checkpoint: Path, log: (String) -> Unit): SearchFile? {
        val path = runDir.resolve(FILE)
        if (!Files.isRegularFile(path)) return null
        val file = decode(path, "; move it away to search again")
        if (file.checkpoint == checkpoint.toString()) return file
        val stamp = java.time.LocalDateTime.now().format(java.time.format.DateTimeFormatter.ofPattern("yyyyMMdd-HHmmss"))
        val aside = runDir.resolve("search-${Path.of(file.checkpoint).fileName}-$stamp.json")
        Files.move(path, aside)
        log("$path searched another checkpoint (${file.checkpoint}): kept as ${aside.fileName}")
        return null
    }

    /** `RUN_DIR/search.json` as written, or null where the run searched nothing. */
    fun load(runDir: Path): SearchFile? = runDir.resolve(FILE).takeIf { Files.isRegularFile(it) }?.let { decode(it) }

    private fun decode(path: Path, advice: String = ""): SearchFile = try {
        ExperimentJson.decodeFromString(SearchFile.serializer(), Files.readString(path))
    } catch (ex: kotlinx.serialization.SerializationException) {
        throw IllegalArgumentException("$path: not a search.json (${ex.message})$advice", ex)
    }

    /** The last checkpoint of [runDir]'s supernet phase, which must have finished. */
    fun finishedCheckpoint(runDir: Path): Path {
        val store = CheckpointStore(runDir.resolve("checkpoints").resolve(ExperimentRunner.SUPERNET_PHASE), 2)
        val checkpoint = store.latest().orElseThrow {
            IllegalArgumentException("$runDir: no supernet checkpoint (run the script with mixedPrecision { } first)")
        }
        require(CheckpointStore.state(checkpoint).phaseComplete()) {
            "$runDir: the supernet phase has not finished (${checkpoint.fileName}); continue it with kqat run --resume $runDir"
        }
        return checkpoint
    }

    /** A budget in [metric]'s unit: `uniform:B` is that uniform subnet's cost; a number is G BitOPs or MB. */
    private fun budgetValue(budget: String, metric: SupernetRunner.Metric, runner: SupernetRunner,
                            candidates: Map<String, dev.kqat.runtime.quant.BitRange>): Double {
        Budget.problem(budget)?.let { throw IllegalArgumentException("budget: $it") }
        val bits = Budget.uniformBits(budget)
        if (bits != null) return runner.cost(BitConfiguration.uniform(candidates, bits), metric)
        val v = budget.trim().toDouble()
        return if (metric == SupernetRunner.Metric.BITOPS) v * 1e9 else v * 8 * (1 shl 20)
    }

    /**
     * `kqat eval RUN_DIR --config search.json#N`: configuration [n] of [file] from [runDir]'s supernet,
     * BN-calibrated (§2.8) and evaluated on the experiment's test data, without retraining. Its cost
     * figures come from the model too: a hand-written file's may be anything.
     */
    fun evaluate(runDir: Path, file: SearchFile, n: Int): FoundConfiguration =
        withConfiguration(runDir, file, n) { found, config, evaluate -> costed(found, config, evaluate(file.bnCalibrationBatches, 0)) }

    /**
     * `kqat eval RUN_DIR --config search.json#N --bn-draws K`: as [evaluate], BN-calibrated [draws] times,
     * each time on its own [bnBatches] training batches (default: the file's), each followed by the same
     * test evaluation. Draw 0 is [evaluate]'s.
     */
    fun evaluateDraws(runDir: Path, file: SearchFile, n: Int, draws: Int, bnBatches: Int? = null): CalibrationDraws {
        require(draws >= 1) { "--bn-draws: must be >= 1, got $draws" }
        require(bnBatches == null || bnBatches >= 1) { "--bn-batches: a configuration's BN calibration needs >= 1 batch, got $bnBatches" }
        val batches = bnBatches ?: file.bnCalibrationBatches
        return withConfiguration(runDir, file, n) { found, config, evaluate ->
            CalibrationDraws.of(costed(found, config, evaluate(batches, 0)), batches, (1 until draws).map { evaluate(batches, it) })
        }
    }

    private fun <T> withConfiguration(runDir: Path, file: SearchFile, n: Int,
                                      block: SupernetRunner.(FoundConfiguration, BitConfiguration, (Int, Int) -> EvalMetrics) -> T): T {
        val e = ExperimentRunner.storedExperiment(runDir)
        val supernet = requireNotNull(e.mixedPrecision) { "$runDir: the run trained no supernet (no mixedPrecision { })" }
        val found = file.configuration(n)
        val (train, test) = RuntimeMapping.loadData(e)
        try {
            return SupernetRunner.forEvaluation(RuntimeMapping.supernetSetup(e, supernet), supernet.graphSpec()).use { runner ->
                runner.load(finishedCheckpoint(runDir))
                val config = configuration(found)
                for (layer in config.layers().keys) {
                    require(layer in runner.candidates()) { "search.json#$n: '$layer' is not a searchable layer of $runDir's model" }
                }
                runner.block(found, config) { batches, draw -> runner.evaluate(config, train, test, e.data.batchSize, batches, draw) }
            }
        } finally {
            (train as? AutoCloseable)?.close()
            (test as? AutoCloseable)?.close()
        }
    }

    private fun SupernetRunner.costed(found: FoundConfiguration, config: BitConfiguration, m: EvalMetrics): FoundConfiguration {
        val cost = cost(config)
        return found.copy(testTop1 = m.top1(), testLoss = m.loss(), bitops = cost.bitOps(), sizeMb = cost.megabytes(),
            meanBits = meanBits(cost, config), vsUniform = null, top1OverDraws = null)
    }

    /** The configuration `search.json#N` names, as the runtime feeds it. */
    fun configuration(found: FoundConfiguration): BitConfiguration =
        BitConfiguration(found.layers.mapValues { (_, b) -> BitConfiguration.LayerBits(b.w, b.a) })

    /** Reads `FILE#N` (or `FILE`, meaning `#0`) into the file and N. */
    fun read(reference: String): Pair<SearchFile, Int> {
        val path = Path.of(reference.substringBefore('#'))
        val n = if ('#' in reference) reference.substringAfter('#').toIntOrNull()
            ?: throw IllegalArgumentException("$reference: '#' must be followed by a configuration number") else 0
        require(Files.isRegularFile(path)) { "$path: search file not found (written by kqat search RUN_DIR)" }
        val file = decode(path)
        file.configuration(n)
        return file to n
    }

    private fun pareto(file: SearchFile): org.jetbrains.letsPlot.intern.Plot {
        val rows = file.configurations.sortedBy { it.bitops }
        val data = mapOf(
            "MBitOPs" to rows.map { it.bitops / 1e6 },
            "top-1 %" to rows.map { 100 * it.meanTop1() },
            "kind" to rows.map { it.kind },
        )
        return letsPlot(data) { x = "MBitOPs"; y = "top-1 %"; color = "kind" } + geomLine() + geomPoint(size = 3) +
            ggsize(800, 450) +
            labs(title = "${file.experiment}: searched and uniform subnets, BN-calibrated, no retraining",
                x = "BitOPs per image (M)",
                y = if (rows.any { it.top1OverDraws != null }) "test top-1 (%), mean over BN calibrations where drawn" else "test top-1 (%)")
    }
}

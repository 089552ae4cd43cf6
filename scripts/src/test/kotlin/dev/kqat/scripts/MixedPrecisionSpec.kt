package dev.kqat.scripts

import com.github.ajalt.clikt.core.subcommands
import com.github.ajalt.clikt.testing.test
import dev.kqat.dsl.CalibrationDraws
import dev.kqat.dsl.ExperimentJson
import dev.kqat.dsl.ExperimentRunner
import dev.kqat.dsl.FoundConfiguration
import dev.kqat.dsl.Report
import dev.kqat.dsl.SearchFile
import dev.kqat.dsl.SupernetSearch
import dev.kqat.dsl.UniformComparison
import dev.kqat.dsl.UnreachedBudget
import dev.kqat.scripts.notebook.FinishedRun
import dev.kqat.scripts.notebook.NotebookHtml
import io.kotest.assertions.withClue
import io.kotest.core.spec.style.FunSpec
import io.kotest.engine.spec.tempdir
import io.kotest.matchers.doubles.plusOrMinus
import io.kotest.matchers.doubles.shouldBeGreaterThan
import io.kotest.matchers.doubles.shouldBeLessThan
import io.kotest.matchers.ints.shouldBeGreaterThan
import io.kotest.matchers.shouldBe
import io.kotest.matchers.shouldNotBe
import io.kotest.matchers.string.shouldContain
import io.kotest.matchers.string.shouldNotContain
import java.nio.file.Files
import kotlin.math.sqrt

/**
 * RFQuant through the command line (algorithms.md §2): a script trains the FP32 network and the
 * supernet and searches it; `kqat eval --config` evaluates a found configuration again without
 * retraining; `kqat search` checks budgets of its own (`quantize { fromSearch(...) }`: MixedPrecisionValidationSpec).
 */
class MixedPrecisionSpec : FunSpec({
    val work = tempdir("kqat-rfq").toPath()
    val run = work.resolve("run")

    fun cli(vararg args: String) = Kqat().subcommands(RunCommand(), EvalCommand(), InspectCommand(), SearchCommand())
        .test(args.toList(), envvars = mapOf("KQAT_CACHE" to work.resolve("cache").toString()))

    test("script: FP32 -> supernet -> search; uniform subnets without retraining; search.json round trip into kqat eval") {
        val script = work.resolve("rfq.qat.kts")
        Files.writeString(script, """
            experiment("rfq-small") {
                data { fashionMnist(); batchSize = 64; trainLimit = 3072; testLimit = 500 }
                model { tinyMbv2() }
                pretrain { epochs = 1; optimizer = sgd(lr = cosine(0.05), momentum = 0.9, weightDecay = 2.5e-5, nesterov = true) }
                mixedPrecision {
                    epochs = 1
                    optimizer = sgd(lr = cosine(0.01), momentum = 0.9, weightDecay = 2.5e-5, nesterov = true)
                    quantizerOptimizer = adam(lr = cosine(1e-3))
                    ema(0.0)
                    bnCalibrationBatches = 8
                    evaluateUniform = listOf(2, 4, 5)
                }
                search { bitops(uniform(5)); batchSize = 64 }
            }
        """.trimIndent())
        // The run's console (ConsoleProgress writes to System.err as the run starts it).
        val saved = System.err
        val console = java.io.ByteArrayOutputStream()
        System.setErr(java.io.PrintStream(console, true))
        val r = try { cli("run", script.toString(), "--out", run.toString()) } finally { System.setErr(saved) }
        withClue(r.stderr + console) { r.statusCode shouldBe 0 }
        val report = ExperimentJson.decodeFromString(Report.serializer(), Files.readString(run.resolve("report.json")))
        val fp32 = report.phases.first { it.phase == "pretrain" }.testTop1
        val uniform = report.phases.first { it.phase == "supernet" }.uniformTop1!!
        val before = report.phases.first { it.phase == "supernet" }.uniformTop1BeforeTraining!!
        println("FP32 $fp32, uniform subnets BN-calibrated before the supernet: $before, after 48 steps: $uniform")
        uniform.keys shouldBe setOf("W2A2", "W4A4", "W5A5")
        // Measured: before W2A2 0.154, W4A4 0.596, W5A5 0.628; after these 48 steps 0.420, 0.684, 0.688.
        uniform.getValue("W5A5") shouldBeGreaterThan fp32 - 0.03
        uniform.getValue("W4A4") shouldBeGreaterThan before.getValue("W4A4") + 0.05
        uniform.getValue("W2A2") shouldBeGreaterThan before.getValue("W2A2") + 0.1

        val search = ExperimentJson.decodeFromString(SearchFile.serializer(), Files.readString(run.resolve("search.json")))
        search.configurations.map { it.kind } shouldBe listOf("search", "uniform", "uniform", "uniform")
        val found = search.configurations[0]
        val w5a5 = search.configurations[3] // uniform subnets follow in bit order: 2, 4, 5
        println("search uniform:5: ${found.testTop1} at ${found.bitops / 1e6} MBitOPs in ${found.searchSeconds} s; " +
            "uniform W5A5 ${w5a5.testTop1} at ${w5a5.bitops / 1e6}")
        found.budget shouldBe "uniform:5"
        // Every greedy step lowered a layer, raised one, or (best move at the floor) changed nothing.
        listOf(found.movesDown!!, found.movesUp!!, found.movesUnapplied!!).sum() shouldBe found.greedySteps
        found.movesDown!! shouldBeGreaterThan found.movesUp!!
        listOf(found.score, found.freezeAtFloor, found.startBits, found.searchBatch) shouldBe listOf("top1", false, 5, 64)
        found.layers.size shouldBe 21
        found.bitops shouldBeLessThan w5a5.bitops
        w5a5.testTop1 shouldBe (uniform.getValue("W5A5") plusOrMinus 1e-9)
        // mean_bits over the searched layers: a uniform subnet's own bits (W2A2 a little more: depth-wise stays at 3).
        w5a5.meanBits shouldBe (5.0 plusOrMinus 1e-9)
        search.configurations[2].meanBits shouldBe (4.0 plusOrMinus 1e-9)
        search.configurations[1].meanBits shouldBeGreaterThan 2.0
        found.meanBits shouldBeLessThan 5.0
        // Every layer started at 5 bits; the search moved some, within their candidates.
        found.layers.values.any { it.w != 5 || it.a != 5 } shouldBe true
        found.layers.values.all { it.w in 2..6 && it.a in 2..6 } shouldBe true
        Files.isRegularFile(run.resolve("plots").resolve("search-pareto.png")) shouldBe true
        // Against the best uniform subnet within the budget uniform:5 (W2A2, W4A4 and W5A5 all fit), by top-1.
        val bestUniform = search.configurations.drop(1).maxBy { it.testTop1 }
        val vs = found.vsUniform!!
        listOf(vs.index, vs.bits) shouldBe listOf(bestUniform.index, listOf(2, 4, 5)[bestUniform.index - 1])
        vs.top1Difference shouldBe (found.testTop1 - bestUniform.testTop1 plusOrMinus 1e-12)
        // Image by image on the 500 test images: right only in one of the two, the difference of the counts is the top-1's.
        vs.onlySearchedRight!! - vs.onlyUniformRight!! shouldBe Math.round(500 * vs.top1Difference).toInt()
        vs.pValue shouldBe UniformComparison.mcNemar(vs.onlySearchedRight!!, vs.onlyUniformRight!!)
        search.configurations.drop(1).map { it.vsUniform } shouldBe listOf(null, null, null)
        // In a notebook the finished run shows the uniform subnets and search.json row by row, the summary both blocks.
        val runHtml = NotebookHtml.finishedRun(FinishedRun(run, report, emptyList(), SupernetSearch.load(run))).replace(Regex(">\\s+<"), "><")
        runHtml shouldContain "<th>supernet: uniform subnets</th><td>" + uniform.entries.joinToString("  ") { (b, t) -> "$b %.4f".format(t) }
        runHtml shouldContain listOf("0", "search", "uniform:5", "%.2f".format(found.bitops / 1e6), "%.2f".format(found.meanBits),
            "%.4f".format(found.testTop1), "W${vs.bits}A${vs.bits} %+.2f points".format(100 * vs.top1Difference), "%.3g".format(vs.pValue), "")
            .joinToString("") { "<td>$it</td>" }
        runHtml shouldContain listOf("3", "uniform", "", "%.2f".format(w5a5.bitops / 1e6)).joinToString("") { "<td>$it</td>" }
        val summaryHtml = NotebookHtml.experiment(ExperimentRunner.storedExperiment(run))
        summaryHtml shouldContain "supernet of 6/5/4/3/2 bits (depth-wise from 3, first/last layers 8), 1 epoch(s), max + 3 random subnets per step"
        summaryHtml shouldContain "greedy at bitops uniform:5, batch 64, from 5 bits"
        SupernetSearch.load(work) shouldBe null

        // The script's search reports on the console as kqat search does.
        console.toString() shouldContain Regex("\\[search] budget uniform:5: \\d+ greedy steps \\(\\d+ down, \\d+ up, \\d+ changing nothing\\) in ")
        console.toString() shouldContain Regex("\\[search] budget uniform:5: search #0 top-1 0\\.\\d{4}, (\\d+\\.\\d\\d points (under|above)|level with) " +
            "uniform W${vs.bits}A${vs.bits} \\(#${bestUniform.index}\\), the best uniform subnet within the budget; test images right " +
            "only here ${vs.onlySearchedRight}, only there ${vs.onlyUniformRight} \\(McNemar p = ")

        // kqat eval --config: the same figures from the supernet's checkpoint, BN calibration included; the
        // costs from the model, not the file (a copy with them blanked, named relative to the run directory).
        val blanked = search.copy(configurations = search.configurations.map { it.copy(bitops = 0.0, sizeMb = 0.0, meanBits = 0.0) })
        Files.writeString(run.resolve("blanked.json"), ExperimentJson.encodeToString(SearchFile.serializer(), blanked))
        val again = cli("eval", run.toString(), "--config", "blanked.json#0", "--json")
        withClue(again.stderr) { again.statusCode shouldBe 0 }
        val evaluated = ExperimentJson.decodeFromString(FoundConfiguration.serializer(), again.stdout.trim())
        evaluated.testTop1 shouldBe (found.testTop1 plusOrMinus 1e-9)
        listOf(evaluated.bitops, evaluated.sizeMb, evaluated.meanBits) shouldBe listOf(found.bitops, found.sizeMb, found.meanBits)
        // --bn-draws: draw 0 is the evaluation above; each other draw calibrates on its own batches (another
        // test loss), the same ones every time it is asked for; mean and sd are those of the listed top-1s.
        fun draws(config: String = "search.json#0", vararg extra: String): CalibrationDraws {
            val r = cli("eval", run.toString(), "--config", config, "--bn-draws", "3", "--json", *extra)
            withClue(r.stderr) { r.statusCode shouldBe 0 }
            return ExperimentJson.decodeFromString(CalibrationDraws.serializer(), r.stdout.trim())
        }
        val spread = draws()
        spread.bnCalibrationBatches shouldBe search.bnCalibrationBatches
        spread.testTop1.first() shouldBe (found.testTop1 plusOrMinus 1e-9)
        spread.testLoss.first() shouldBe (found.testLoss plusOrMinus 1e-9)
        spread.testLoss.toSet().size shouldBe 3
        spread.meanTestTop1 shouldBe (spread.testTop1.average() plusOrMinus 1e-12)
        val m = spread.meanTestTop1
        spread.sdTestTop1 shouldBe (sqrt(spread.testTop1.sumOf { (it - m) * (it - m) } / 2) plusOrMinus 1e-12)
        draws().testLoss shouldBe spread.testLoss
        draws("search.json#0", "--bn-batches", "1").testLoss.first() shouldNotBe (found.testLoss plusOrMinus 1e-9)
        cli("eval", run.toString(), "--config", "search.json#0", "--bn-draws", "0").stderr shouldContain "--bn-draws: must be >= 1, got 0"
        cli("eval", run.toString(), "--bn-draws", "2").stderr shouldContain "--bn-draws: only with --config"
        val outOfRange = cli("eval", run.toString(), "--config", "search.json#9")
        outOfRange.statusCode shouldBe 2
        outOfRange.stderr shouldContain "configurations 0..3, not #9"
        val badBudget = cli("search", run.toString(), "--bitops", "uniform:9")
        badBudget.statusCode shouldBe 2
        badBudget.stderr shouldContain "--bitops: uniform:9: bits must lie in 2..8"
        val badStart = cli("search", run.toString(), "--bitops", "uniform:4", "--start-bits", "9")
        badStart.statusCode shouldBe 2
        badStart.stderr shouldContain "--start-bits: must lie in 2..8, got 9"

        // A later search of the same supernet appends: #0..#3 keep their entries (a fine-tuning script's
        // search.json#N still names the same configuration) and the uniform subnets are not evaluated again.
        val both = cli("search", run.toString(), "--bitops", "uniform:4", "--size", "uniform:4")
        both.statusCode shouldBe 2
        both.stderr shouldContain "give --bitops or --size budgets, not both"
        val twoStarts = cli("search", run.toString(), "--start-bits", "4", "--start-at-level")
        twoStarts.statusCode shouldBe 2
        twoStarts.stderr shouldContain "give --start-bits or --start-at-level, not both"
        val badKeep = cli("search", run.toString(), "--method", "random", "--samples", "5", "--keep", "6")
        badKeep.statusCode shouldBe 2
        badKeep.stderr shouldContain "--keep: must lie in 1..samples (5), got 6"
        // The random search (§2.10's alternative): 30 configurations within ±1.79 % of uniform W4A4's BitOPs,
        // ranked by their mean cross-entropy on the batch.
        val random = cli("search", run.toString(), "--method", "random", "--samples", "30", "--keep", "1",
            "--bitops", "uniform:4", "--batch", "32", "--score", "loss")
        withClue(random.stderr) { random.statusCode shouldBe 0 }
        random.stderr shouldContain "30 random configurations within ±1.8 % scored"
        // Progress at every tenth of the samples: 3, 6, …, 30 scored, with the draws so far.
        Regex("budget uniform:4: (\\d+)/30 random configurations scored \\((\\d+) drawn\\)").findAll(random.stderr)
            .map { it.groupValues[1].toInt() }.toList() shouldBe (3..30 step 3).toList()
        random.stderr shouldNotContain "uniform W2A2: top-1"
        random.stderr shouldContain Regex("random #4 top-1 0\\.\\d+ \\(one batch: loss \\d+\\.\\d+\\)")
        random.stderr shouldContain Regex("budget uniform:4: random #4 top-1 0\\.\\d{4}, (\\d+\\.\\d\\d points (under|above)|level with) " +
            "uniform W4A4 \\(#2\\), the best uniform subnet within the budget")
        val appended = ExperimentJson.decodeFromString(SearchFile.serializer(), Files.readString(run.resolve("search.json")))
        appended.configurations.take(4) shouldBe search.configurations
        val picked = appended.configurations.drop(4).single()
        val w4a4 = search.configurations[2]
        println("random search at uniform:4: ${picked.testTop1} at ${picked.bitops / 1e6} MBitOPs; uniform W4A4 ${w4a4.testTop1}")
        picked.kind shouldBe "random"
        picked.score shouldBe "loss"
        picked.index shouldBe 4
        Math.abs(picked.bitops - w4a4.bitops) shouldBeLessThan 0.0179 * w4a4.bitops
        picked.layers.values.any { it.w != it.a } shouldBe true // weights and inputs drawn independently
        // Uniform W2A2 and W4A4 lie within its budget; W4A4 is the better (0.68 against 0.42 measured).
        listOf(picked.vsUniform!!.index, picked.vsUniform!!.bits) shouldBe listOf(2, 4)
        picked.vsUniform!!.onlySearchedRight!! - picked.vsUniform!!.onlyUniformRight!! shouldBe
            Math.round(500 * (picked.testTop1 - w4a4.testTop1)).toInt()
        random.stdout shouldContain "#4 random uniform:4: test_top1 %.4f".format(picked.testTop1)
        random.stdout shouldContain "vs_uniform_W4A4 %+.4f".format(picked.testTop1 - w4a4.testTop1)

        // The evolutionary search (§2.10's other alternative), small: 2 generations, feasible within 1.79 % under uniform W4A4.
        val tooFew = cli("search", run.toString(), "--method", "evolution", "--population", "6", "--bitops", "uniform:4")
        tooFew.statusCode shouldBe 2
        tooFew.stderr shouldContain "search.evolution.parents (--population): must lie in 2..population (6), got 10"
        val evolved = cli("search", run.toString(), "--method", "evolution", "--population", "10", "--generations", "2",
            "--keep", "1", "--bitops", "uniform:4", "--batch", "32")
        withClue(evolved.stderr) { evolved.statusCode shouldBe 0 }
        evolved.stderr shouldContain Regex("budget uniform:4: \\d+ configurations scored over 2 generations")
        // Progress after every generation: the configurations scored so far and the fittest on the batch.
        Regex("budget uniform:4: generation (\\d)/2, \\d+ configurations scored; best on the batch top-1 [01]\\.\\d{4} " +
            "at \\d+\\.\\d\\d MBitOPs").findAll(evolved.stderr).map { it.groupValues[1].toInt() }.toList() shouldBe listOf(1, 2)
        val fittest = ExperimentJson.decodeFromString(SearchFile.serializer(), Files.readString(run.resolve("search.json")))
            .configurations.drop(5).single()
        println("evolution at uniform:4: ${fittest.testTop1} at ${fittest.bitops / 1e6} MBitOPs; uniform W4A4 ${w4a4.testTop1}")
        fittest.kind shouldBe "evolution"
        fittest.bitops shouldBeLessThan w4a4.bitops * (1 + 1e-9)
        fittest.bitops shouldBeGreaterThan w4a4.bitops * (1 - 0.0179)
        fittest.layers.values.all { it.w >= 3 && it.a >= 3 } shouldBe true // the reference leaves 2 bits out

        // --fill-budget: past the budget the greedy search raises one layer's weights or inputs per step while
        // one fits, so every layer's bits are the start's (5) with each step's move: down, up or filled.
        // --bn-draws 3: the comparison with uniform W4A4 also over 3 BN calibrations.
        val fill = cli("search", run.toString(), "--bitops", "uniform:4", "--fill-budget", "--batch", "32", "--bn-draws", "3")
        withClue(fill.stderr) { fill.statusCode shouldBe 0 }
        val filled = ExperimentJson.decodeFromString(SearchFile.serializer(), Files.readString(run.resolve("search.json")))
            .configurations.drop(6).single()
        println("greedy at uniform:4 with --fill-budget: ${filled.testTop1} at ${filled.bitops / 1e6} MBitOPs " +
            "(${filled.movesDown} down, ${filled.movesUp} up, ${filled.movesFilled} filled); uniform W4A4 ${w4a4.testTop1}")
        fill.stderr shouldContain "${filled.movesFilled} filling the budget"
        // Progress every 10 greedy steps: the step, its phase, the cost against the budget, the moves so far.
        fill.stderr shouldContain Regex("budget uniform:4: greedy step 10/200 \\((weights|inputs)\\) at \\d+\\.\\d\\d MBitOPs " +
            "\\(budget ${"%.2f".format(w4a4.bitops / 1e6)} MBitOPs\\); \\d+ down, \\d+ up, \\d+ changing nothing\n")
        filled.fillBudget shouldBe true
        listOf(filled.movesDown!!, filled.movesUp!!, filled.movesUnapplied!!, filled.movesFilled!!).sum() shouldBe filled.greedySteps
        filled.layers.values.sumOf { it.w + it.a } shouldBe
            2 * 5 * filled.layers.size - filled.movesDown!! + filled.movesUp!! + filled.movesFilled!!
        filled.bitops shouldBeLessThan w4a4.bitops
        // Its mean difference is that of kqat eval --bn-draws 3 of the two, draw by draw; draw 0 is the counted one.
        val vsFilled = filled.vsUniform!!
        vsFilled.bnDraws shouldBe 3
        val filledDraws = draws("search.json#6")
        val uniformDraws = draws("search.json#${vsFilled.index}")
        val differences = filledDraws.testTop1.zip(uniformDraws.testTop1) { a, b -> a - b }
        differences.first() shouldBe (vsFilled.top1Difference plusOrMinus 1e-9)
        vsFilled.meanTop1Difference!! shouldBe (differences.average() plusOrMinus 1e-9)
        val d = differences.average()
        vsFilled.seTop1Difference!! shouldBe (sqrt(differences.sumOf { (it - d) * (it - d) } / 2 / 3) plusOrMinus 1e-9)
        fill.stderr shouldContain Regex("over 3 BN calibrations (\\d+\\.\\d\\d points (under|above)|level with) \\(se \\d+\\.\\d\\d\\)")
        fill.stdout shouldContain "(mean of 3 calibrations %+.4f)".format(vsFilled.meanTop1Difference)
        // The entry and every uniform subnet keep their top-1 of each draw, those kqat eval --bn-draws 3 gives; the
        // earlier searches' entries were not drawn again.
        val afterFill = ExperimentJson.decodeFromString(SearchFile.serializer(), Files.readString(run.resolve("search.json")))
        afterFill.configurations[6].top1OverDraws!!.zip(filledDraws.testTop1).forEach { (kept, evaluated) -> kept shouldBe (evaluated plusOrMinus 1e-9) }
        afterFill.configurations[vsFilled.index].top1OverDraws!!.zip(uniformDraws.testTop1).forEach { (kept, evaluated) -> kept shouldBe (evaluated plusOrMinus 1e-9) }
        afterFill.configurations.filter { it.kind == "uniform" }.map { it.top1OverDraws?.size } shouldBe listOf(3, 3, 3)
        afterFill.configurations.filter { it.index in listOf(0, 4, 5) }.map { it.top1OverDraws } shouldBe listOf(null, null, null)
        fill.stdout shouldContain "#6 search uniform:4: test_top1 %.4f (mean of 3 calibrations %.4f)".format(filled.testTop1, filledDraws.meanTestTop1)
        fill.stderr shouldContain Regex("uniform W4A4 \\(#${vsFilled.index}\\): top-1 over 3 BN calibrations mean %.4f, sd \\d+\\.\\d\\d points \\(%s\\)"
            .format(uniformDraws.meanTestTop1, uniformDraws.testTop1.joinToString(" ") { "%.4f".format(it) }))
        NotebookHtml.finishedRun(FinishedRun(run, report, emptyList(), afterFill)).replace(Regex(">\\s+<"), "><") shouldContain
            "<td>%.4f (mean of 3: %.4f)</td>".format(filled.testTop1, filledDraws.meanTestTop1)
        cli("search", run.toString(), "--bitops", "uniform:4", "--bn-draws", "0").stderr shouldContain "--bn-draws: must be >= 1, got 0"

        // --start-at-level: the W4A4 budget's search starts with every layer at 4 bits, as search.json records it.
        val levelled = cli("search", run.toString(), "--bitops", "uniform:4", "--start-at-level", "--batch", "32", "--max-steps", "5")
        withClue(levelled.stderr) { levelled.statusCode shouldBe 0 }
        val afterLevelled = ExperimentJson.decodeFromString(SearchFile.serializer(), Files.readString(run.resolve("search.json")))
        (afterLevelled.configurations.drop(7).map { it.startBits } + afterLevelled.unreached.map { it.startBits }) shouldBe listOf(4)

        // A search.json of another checkpoint (e.g. a supernet trained again) is kept aside, not appended to or lost.
        val other = ExperimentJson.decodeFromString(SearchFile.serializer(), Files.readString(run.resolve("search.json")))
            .copy(checkpoint = run.resolve("checkpoints/supernet/epoch-0009").toString())
        Files.writeString(run.resolve("search.json"), ExperimentJson.encodeToString(SearchFile.serializer(), other))
        val fresh = cli("search", run.toString(), "--bitops", "uniform:2", "--max-steps", "1", "--batch", "32")
        withClue(fresh.stderr) { fresh.statusCode shouldBe 0 }
        val aside = Files.list(run).use { files -> files.filter { it.fileName.toString().startsWith("search-epoch-0009-") }.toList() }.single()
        fresh.stderr shouldContain "kept as ${aside.fileName}"
        ExperimentJson.decodeFromString(SearchFile.serializer(), Files.readString(aside)) shouldBe other
        val restarted = ExperimentJson.decodeFromString(SearchFile.serializer(), Files.readString(run.resolve("search.json")))
        restarted.checkpoint shouldBe search.checkpoint
        // The unreached budget keeps what was tried: one greedy step from 5 bits on batches of 32, the cost it stopped at.
        val missed = restarted.unreached.single()
        listOf(missed.budget, missed.kind, missed.metric) shouldBe listOf("uniform:2", "search", "bitops")
        listOf(missed.greedySteps, missed.startBits, missed.searchBatch) shouldBe listOf(1, 5, 32)
        missed.movesDown!! + missed.movesUp!! + missed.movesUnapplied!! shouldBe 1
        missed.costReached!! shouldBeGreaterThan restarted.configurations[0].bitops // uniform W2A2, the budget
        // Files that listed unreached budgets as strings still read.
        val legacy = ExperimentJson.encodeToString(SearchFile.serializer(), restarted)
            .replace(Regex("\"unreached\":\\s*\\[[^\\]]*]"), "\"unreached\": [\"0.03699\"]")
        ExperimentJson.decodeFromString(SearchFile.serializer(), legacy).unreached shouldBe listOf(UnreachedBudget("0.03699"))
        // Only the uniform subnets, evaluated again from #0.
        restarted.configurations.map { it.index to it.kind } shouldBe listOf(0 to "uniform", 1 to "uniform", 2 to "uniform")
        restarted.configurations.map { it.layers } shouldBe search.configurations.drop(1).map { it.layers }
        for ((now, before) in restarted.configurations.zip(search.configurations.drop(1))) now.testTop1 shouldBe (before.testTop1 plusOrMinus 1e-9)
    }
})

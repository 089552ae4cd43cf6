package dev.kqat.runtime.train

import dev.kqat.runtime.data.FashionMnist
import dev.kqat.runtime.events.RunListener
import dev.kqat.runtime.mixed.BitScheduler
import dev.kqat.runtime.models.TinyMbv2
import dev.kqat.runtime.quant.BitConfiguration
import dev.kqat.runtime.quant.MixedPrecisionPolicy
import dev.kqat.runtime.quant.QuantPolicy
import dev.kqat.runtime.schedule.Schedule
import io.kotest.assertions.throwables.shouldThrow
import io.kotest.core.spec.style.FunSpec
import io.kotest.engine.spec.tempdir
import io.kotest.matchers.collections.shouldNotBeEmpty
import io.kotest.matchers.doubles.plusOrMinus
import io.kotest.matchers.ints.shouldBeLessThanOrEqual
import io.kotest.matchers.shouldBe
import io.kotest.matchers.shouldNotBe
import io.kotest.matchers.string.shouldContain
import java.nio.file.Files
import org.tensorflow.Session
import org.tensorflow.ndarray.buffer.DataBuffers
import org.tensorflow.types.TFloat32

/**
 * The supernet phase's loop (RFQuant, algorithms.md §2.5–2.8): scheduler events mapped onto the
 * reference's 150 epochs, subnets reproduced after a resume, the EMA, BN calibration of one row.
 */
/** Values of a graph variable. */
private fun read(g: SupernetGraph, s: Session, name: String): FloatArray {
    val p = g.params().first { it.name() == name }
    s.runner().fetch(p.variable()).run().use { r ->
        val t = r.get(0) as TFloat32
        return FloatArray(t.shape().size().toInt()).also { t.copyTo(DataBuffers.of(it, false, false)) }
    }
}

/**
 * After training (the model is its EMA now): one more step moves the EMA by 0.1 towards the new
 * weights; BN calibration of one configuration rewrites its rows only, with its batches' statistics.
 */
private fun checkCalibrationAndEma(g: SupernetGraph, s: Session, trainer: SupernetTrainer) {
    val test = FashionMnist.load(FashionMnist.DEBIAN_DIR, false).head(500)
    val kernel = "block2/expand/kernel"
    val emaBefore = read(g, s, "ema/$kernel")
    test.batches(64, true, 3, true).next().use { b ->
        val subnets = dev.kqat.runtime.mixed.SubnetSampler.draw(trainer.candidates(), 3, 7, 999)
        g.trainStep(s, b, subnets, trainer.candidates(), 0.02, 1e-3, 0.9, 7, 999)
    }
    val weights = read(g, s, kernel)
    val ema = read(g, s, "ema/$kernel")
    weights shouldNotBe emaBefore
    for (i in ema.indices) ema[i].toDouble() shouldBe ((0.9 * emaBefore[i] + 0.1 * weights[i]) plusOrMinus 1e-6)

    val table = "block2/expand_bn/moving_mean_per_bits"
    val before = read(g, s, table)
    val w3a5 = BitConfiguration.of(g.candidates()) { BitConfiguration.LayerBits(3, 5) }
    // One batch of 500 test images: the calibrated statistics are that batch's, so the evaluation with
    // running statistics equals the batch-statistics pass on it (up to the unbiased variance).
    test.batches(500, false, 0, false).next().use { b ->
        // calibrateBn closes the batches it takes: the same 500 images once more.
        g.calibrateBn(s, test.batches(500, false, 0, false), 1, w3a5) shouldBe 1
        val after = read(g, s, table)
        val channels = before.size / 25
        val row = (3 - 2) * 5 + (5 - 2)
        var changed = 0
        for (i in before.indices) {
            if (i / channels == row) { if (after[i] != before[i]) changed++ } else after[i] shouldBe before[i]
        }
        changed shouldBe channels
        val running = g.evaluate(s, b, w3a5).correct().toDouble()
        val batchStatistics = g.batchStatisticsCorrect(s, b, w3a5).toDouble()
        println("W3A5 on 500 test images: calibrated running statistics $running correct, batch statistics $batchStatistics")
        Math.abs(running - batchStatistics).toInt() shouldBeLessThanOrEqual 3
    }
    val first = trainer.calibratedEvaluation(w3a5, test, test, 250, 2).top1()
    trainer.calibratedEvaluation(w3a5, test, test, 250, 2).top1() shouldBe (first plusOrMinus 1e-9)
}

class SupernetTrainerSpec : FunSpec({
    val train = FashionMnist.load(FashionMnist.DEBIAN_DIR, true).head(512)
    val test = FashionMnist.load(FashionMnist.DEBIAN_DIR, false).head(250)
    val setup = TrainingSetup(TinyMbv2(), MixedPrecisionPolicy.DEFAULT,
        OptimizerConfig.sgd(Schedule.Cosine(0.02, 0.0), 0.9, 2.5e-5, true),
        OptimizerConfig.adam(Schedule.Cosine(1e-3, 0.0), 0.0), 0.0, 7)

    class Recorder : RunListener {
        val subnets = sortedMapOf<Long, List<BitConfiguration>>()
        val events = mutableListOf<Triple<Long, Int, List<String>>>()
        override fun subnetsSampled(phase: String, step: Long, subnets: List<BitConfiguration>) {
            this.subnets[step] = subnets
        }
        override fun bitWidthsScheduled(phase: String, step: Long, referenceEpoch: Int, dropped: List<String>) {
            events += Triple(step, referenceEpoch, dropped)
        }
    }

    // EMA decay 0.9: its update is checked below against the formula.
    val spec = SupernetGraph.Spec(3, 0.01, 1.0, 0.9, 0.1, 40.0 / 150, -2.5e-5)

    fun plan(store: CheckpointStore) =
        SupernetTrainer.Plan("supernet", 2, 32, train, test, store, 1, true, 2, listOf())

    // One graph for the spec (building it takes ~25 s).
    val graph = lazy { SupernetGraph(setup, spec) }
    val dir = tempdir("kqat-supernet-resume").toPath()
    afterSpec { if (graph.isInitialized()) graph.value.close() }

    test("a run resumed from its checkpoint after epoch 1 draws the subnets and takes the scheduler events of the uninterrupted run") {
        // Two sessions: the resumed run starts from nothing but the checkpoint, as a new process would.
        val g = graph.value
        val whole = Recorder()
        val wholeResult = g.newSession().use { s -> SupernetTrainer(g, s, whole).run(plan(CheckpointStore(dir.resolve("whole"), 2)), null, null) }
        wholeResult.steps() shouldBe 32L
        whole.subnets.keys.toList() shouldBe (0L until 32L).toList()
        // 32 steps over the reference's 150 epochs: events at reference epochs 7, 9, …, 107 that a step starts in.
        whole.events.map { it.second }.forEach { BitScheduler.runsAt(it, 150) shouldBe true }
        whole.events.size shouldBe whole.events.map { it.first }.distinct().size
        val dropping = whole.events.filter { it.third.isNotEmpty() }
        dropping.shouldNotBeEmpty()
        // After an event, no subnet draws the dropped lowest weight bit-width of those layers until the next one.
        for ((i, event) in whole.events.withIndex()) {
            val until = whole.events.getOrNull(i + 1)?.first ?: 32L
            for (step in event.first until until) for (subnet in whole.subnets.getValue(step)) for (layer in event.third) {
                val lowest = if (layer.contains("/dw")) 3 else 2
                subnet.layers().getValue(layer).weight() shouldNotBe lowest
            }
        }

        // The uninterrupted run's checkpoint after epoch 1 is what a run killed in epoch 2 resumes from.
        val checkpoint = dir.resolve("whole").resolve("epoch-0001")
        CheckpointStore.state(checkpoint).globalStep() shouldBe 16L
        val stateAtKill = whole.events.lastOrNull { it.first < 16 }?.third ?: emptyList()
        Files.readAllLines(checkpoint.resolve(SupernetTrainer.DROPPED_FILE)).filter { it.isNotBlank() }.sorted() shouldBe stateAtKill.sorted()
        val store = CheckpointStore(dir.resolve("resumed"), 2)
        val resumed = Recorder()
        val resumedResult = g.newSession().use { s ->
            val trainer = SupernetTrainer(g, s, resumed)
            trainer.run(plan(store), checkpoint, null).also { checkCalibrationAndEma(g, s, trainer) }
        }
        resumed.subnets.keys.toList() shouldBe (16L until 32L).toList()
        resumed.subnets shouldBe whole.subnets.tailMap(16L)
        resumed.events shouldBe whole.events.filter { it.first >= 16 }
        resumedResult.dropped() shouldBe wholeResult.dropped()
        resumedResult.steps() shouldBe 32L
    }

    test("an evaluation graph loads the finished checkpoint's moving average: it evaluates as the training graph after useEma") {
        // The checkpoint of the run above (EMA decay 0.9 over 32 steps).
        val finished = CheckpointStore(dir.resolve("whole"), 2).latest().get()
        val w3a5 = BitConfiguration.of(graph.value.candidates()) { BitConfiguration.LayerBits(3, 5) }
        val w4a3 = BitConfiguration.of(graph.value.candidates()) { BitConfiguration.LayerBits(4, 3) }
        test.batches(250, false, 0, false).next().use { b ->
            val g = graph.value
            val (raw, averaged) = g.newSession().use { s ->
                s.initialize()
                SupernetTrainer(g, s, object : RunListener {}).restore(finished)
                val raw = g.evaluate(s, b, w3a5).lossSum()
                g.useEma(s)
                raw to Triple(g.evaluate(s, b, w3a5).lossSum(), g.evaluate(s, b, w3a5).correct(), g.batchStatisticsCorrect(s, b, w4a3))
            }
            raw shouldNotBe averaged.first // the EMA is not the trained weights: loading either is told apart
            SupernetGraph.forEvaluation(setup, spec).use { e ->
                e.trains() shouldBe false
                e.newSession().use { s ->
                    s.initialize()
                    e.loadTrained(s, finished)
                    Triple(e.evaluate(s, b, w3a5).lossSum(), e.evaluate(s, b, w3a5).correct(), e.batchStatisticsCorrect(s, b, w4a3)) shouldBe averaged
                    train.batches(32, true, 1, true).next().use { tb ->
                        val current = dev.kqat.runtime.mixed.Candidates(e.candidates())
                        val subnets = dev.kqat.runtime.mixed.SubnetSampler.draw(current, 3, 7, 0)
                        shouldThrow<IllegalStateException> {
                            e.trainStep(s, tb, subnets, current, 0.02, 1e-3, 0.0, 7, 0)
                        }.message shouldContain "built for evaluation"
                    }
                }
            }
        }
    }

    test("a greedy step's moves scored from the step's kept layer inputs count and lose what their whole passes do") {
        val g = graph.value
        // A network whose answers depend on the bits: two FP32 epochs on 2,048 images (the supernet run
        // above, 32 steps from random weights, answers one class whatever the bits).
        val fp32 = CheckpointStore(dir.resolve("fp32"), 1)
        TrainingGraph(TrainingSetup(TinyMbv2(), QuantPolicy.FLOAT, OptimizerConfig.sgd(Schedule.Constant(0.05), 0.9, 5e-5),
            OptimizerConfig.adam(Schedule.Constant(1e-3), 0.0), 0.0, 0)).use { f ->
            Session(f.graph()).use { s ->
                Trainer(f, s, object : RunListener {}).run(PhasePlan("pretrain", 2, 64,
                    FashionMnist.load(FashionMnist.DEBIAN_DIR, true).head(2048), test, fp32, 1, false), null, null)
            }
        }
        g.newSession().use { s ->
            s.initialize()
            g.initFrom(s, fp32.latest().get())
            train.batches(64, true, 1, true).next().use { g.calibrate(s, listOf(it)) }
            val current = BitConfiguration.of(g.candidates()) { BitConfiguration.LayerBits(4, 4) }
            train.batches(64, true, 5, true).next().use { b ->
                g.searchBatch(s, b, current).use { scores ->
                    scores.correct(current) shouldBe g.batchStatisticsCorrect(s, b, current)
                    val counts = mutableSetOf<Float>()
                    // Every layer, first to last: the kept inputs fed range from one layer's to all of them.
                    for (layer in g.candidates().keys) for ((w, a) in listOf(3 to 4, 5 to 4, 4 to 3, 4 to 2)) {
                        if (a < g.candidates().getValue(layer).lowest()) continue
                        val move = BitConfiguration(current.layers().toMutableMap().apply { put(layer, BitConfiguration.LayerBits(w, a)) })
                        val fromKept = scores.score(move)
                        val whole = g.batchStatisticsScore(s, b, move)
                        fromKept.correct() shouldBe whole.correct()
                        fromKept.lossSum().toDouble() shouldBe (whole.lossSum().toDouble() plusOrMinus 1e-4 * whole.lossSum())
                        counts += fromKept.correct()
                    }
                    // The moves change the counts: the fed-in inputs do not hide the moved layer's bits.
                    println("correct counts of the moves: ${counts.sorted()}")
                    counts.size shouldNotBe 1
                }
            }
        }
    }

})

package dev.kqat.runtime.distill

import dev.kqat.runtime.data.FashionMnist
import dev.kqat.runtime.data.InMemoryDataset
import dev.kqat.runtime.events.RunListener
import dev.kqat.runtime.floats
import dev.kqat.runtime.models.TinyMbv2
import dev.kqat.runtime.models.VisionTransformer
import dev.kqat.runtime.quant.QuantPolicy
import dev.kqat.runtime.runGraph
import dev.kqat.runtime.schedule.Schedule
import dev.kqat.runtime.toFloatArray
import dev.kqat.runtime.train.CheckpointStore
import dev.kqat.runtime.train.Losses
import dev.kqat.runtime.train.OptimizerConfig
import dev.kqat.runtime.train.PhasePlan
import dev.kqat.runtime.train.Trainer
import dev.kqat.runtime.train.TrainingGraph
import dev.kqat.runtime.train.TrainingSetup
import io.kotest.assertions.throwables.shouldThrow
import io.kotest.core.spec.style.FunSpec
import io.kotest.engine.spec.tempdir
import io.kotest.matchers.doubles.plusOrMinus
import io.kotest.matchers.doubles.shouldBeGreaterThan
import io.kotest.matchers.doubles.shouldBeLessThan
import io.kotest.matchers.shouldBe
import io.kotest.matchers.string.shouldContain
import kotlin.math.exp
import kotlin.math.ln
import org.tensorflow.Session
import org.tensorflow.ndarray.Shape
import org.tensorflow.types.TFloat32

/** Distillation from an online teacher (algorithms.md §3.4): the soft cross-entropy, and students that learn only what the teacher says. */
class DistillationSpec : FunSpec({
    test("soft cross-entropy -Σ t log softmax(z) and its gradient softmax(z) - t, against the formula") {
        val z = floatArrayOf(1.5f, -0.5f, 0.25f, 2.0f, 0f, -1f)
        val t = floatArrayOf(0.7f, 0.1f, 0.2f, 0.05f, 0.05f, 0.9f)
        val (loss, grad) = runGraph { tf ->
            val logits = tf.identity(tf.floats(Shape.of(2, 3), z))
            val ce = Losses.softCrossEntropy(tf, logits, tf.floats(Shape.of(2, 3), t))
            listOf(ce, tf.gradients(tf.reduceSum(ce, tf.constant(0)), listOf(logits)).dy<TFloat32>(0))
        }
        for (row in 0 until 2) {
            val e = (0 until 3).map { exp(z[3 * row + it].toDouble()) }
            val p = e.map { it / e.sum() }
            loss[row].toDouble() shouldBe (-(0 until 3).sumOf { t[3 * row + it] * ln(p[it]) } plusOrMinus 1e-6)
            for (c in 0 until 3) grad[3 * row + c].toDouble() shouldBe (p[c] - t[3 * row + c] plusOrMinus 1e-6)
        }
    }

    val train = FashionMnist.load(FashionMnist.DEBIAN_DIR, true).head(3072)
    val test = FashionMnist.load(FashionMnist.DEBIAN_DIR, false).head(512)
    // The teacher learns label (y + 1) mod 10: a student that followed the labels instead would disagree with it.
    fun shifted(d: InMemoryDataset): InMemoryDataset = d.batches(d.size(), false, 0, false).next().use { b ->
        InMemoryDataset(b.images().toFloatArray(), IntArray(d.size()) { (d.label(it) + 1) % 10 }, d.imageShape(), 10)
    }
    val sgd = OptimizerConfig.sgd(Schedule.Cosine(0.05, 0.0), 0.9, 5e-5)
    val adam = OptimizerConfig.adam(Schedule.Constant(1e-5), 0.0)
    val dir = tempdir("kqat-kd").toPath()
    val teacherModel = TinyMbv2()
    val checkpoint by lazy {
        val teacherTop1 = TrainingGraph(TrainingSetup(teacherModel, QuantPolicy.FLOAT, sgd, adam, 0.0, 0)).use { g ->
            Session(g.graph()).use { s ->
                Trainer(g, s, object : RunListener {}).run(
                    PhasePlan("pretrain", 2, 64, shifted(train), shifted(test), CheckpointStore(dir.resolve("teacher"), 1), 1, false),
                    null, null).test().top1()
            }
        }
        println("teacher (tiny-MBV2) on shifted labels: $teacherTop1")
        teacherTop1 shouldBeGreaterThan 0.6
        CheckpointStore(dir.resolve("teacher"), 1).latest().get()
    }

    test("a student trained only on a teacher's soft labels learns the teacher, not the labels: a teacher taught shifted labels, a ViT student") {
        val vit = VisionTransformer("tiny-vit", VisionTransformer.Config.tiny(0.0), 10, intArrayOf(28, 28, 1))
        val adamW = OptimizerConfig.adamW(Schedule.Warmup(0.1, Schedule.Cosine(2e-3, 0.0)), 0.05)
        val student = TrainingSetup(vit, QuantPolicy.FLOAT, adamW, adam, 0.0, 0).withDistillation(OnlineTeacher(teacherModel, checkpoint))
        // Reported accuracy counts the true labels; the same network measured on shifted labels shows what it learned.
        val (onLabels, onTeacher) = TrainingGraph(student).use { g ->
            Session(g.graph()).use { s ->
                val trainer = Trainer(g, s, object : RunListener {})
                val result = trainer.run(PhasePlan("qat", 3, 64, train, test, null, 1, false), null, null)
                result.test().top1() to trainer.evaluate(shifted(test), 64).top1()
            }
        }
        println("ViT student by distillation only: top-1 on the labels $onLabels, on the teacher's shifted labels $onTeacher")
        onLabels shouldBeLessThan 0.15
        onTeacher shouldBeGreaterThan 0.45 // trained on the labels, the same 144 steps give 0.57 on them

        // A resumed run loads the teacher again (it is not in the student's checkpoints): it ends where
        // the uninterrupted run ends.
        val small = train.head(1024)
        val mbv2 = TrainingSetup(TinyMbv2(), QuantPolicy.FLOAT, sgd, adam, 0.0, 0).withDistillation(OnlineTeacher(teacherModel, checkpoint))
        fun plan(store: CheckpointStore) = PhasePlan("qat", 2, 64, small, test, store, 1, false)
        fun run(store: CheckpointStore, resume: java.nio.file.Path?, stopAfter: Int?) = TrainingGraph(mbv2).use { g ->
            Session(g.graph()).use { s ->
                Trainer(g, s, object : RunListener {
                    override fun checkpointSaved(phase: String, epoch: Int, dir: java.nio.file.Path) {
                        if (epoch == stopAfter) throw StoppedForTest()
                    }
                }).run(plan(store), resume, null).test().loss()
            }
        }
        val straight = run(CheckpointStore(dir.resolve("straight"), 2), null, null)
        val store = CheckpointStore(dir.resolve("stopped"), 2)
        try {
            run(store, null, 1)
        } catch (_: StoppedForTest) {
        }
        val resumed = run(store, store.latest().get(), null)
        resumed shouldBe (straight plusOrMinus 1e-5)
    }
    test("stored soft labels: kqat writes R crops per image with the teacher's top-k, replays them exactly and deterministically, and a student trained on them learns the teacher") {
        val file = dir.resolve("shifted-teacher.kqsl")
        var reported = 0
        val header = SoftLabelGenerator.generate(OnlineTeacher(teacherModel, checkpoint), train, file,
            SoftLabelGenerator.Settings(4, 5, 0.35, 1.0, 0), { reported = it })
        reported shouldBe 3072
        header.images() shouldBe 3072
        SoftLabelFile.open(file).use { f ->
            f.header().crops() shouldBe 4
            f.read(3071).all { c -> c.probabilities().toList().zipWithNext().all { (a, b) -> a >= b } } shouldBe true
        }
        val stored = StoredSoftLabels(file, 2, SoftLabelDecoding.MARGINAL_SMOOTHING)

        // Replay cuts exactly the crops the teacher labelled: the teacher's probabilities on the replayed
        // crops are the stored top-k.
        SoftLabelReplay.open(stored, train).use { replay ->
            train.batches(16, true, 5, true).next().use { batch ->
                val (boxes, targets) = replay.crops(batch, 2, 99L).use { it.boxes().toFloatArray() to it.targets().toFloatArray() }
                replay.crops(batch, 2, 99L).use { again ->
                    again.boxes().toFloatArray().toList() shouldBe boxes.toList()
                    again.targets().toFloatArray().toList() shouldBe targets.toList()
                }
                replay.crops(batch, 2, 100L).use { other -> (other.boxes().toFloatArray().toList() != boxes.toList()) shouldBe true }
                val teacherOnCrops = replay.crops(batch, 2, 99L).use { crops ->
                    teacherOnCrops(OnlineTeacher(teacherModel, checkpoint), batch.images(), crops, intArrayOf(28, 28, 1))
                }
                var checked = 0
                for (row in 0 until 32) {
                    // The stored top-5 are the 5 largest of the teacher's probabilities on that crop.
                    val probs = teacherOnCrops.copyOfRange(row * 10, row * 10 + 10)
                    val top = probs.indices.sortedByDescending { probs[it] }.take(5)
                    for (c in top) {
                        targets[row * 10 + c].toDouble() shouldBe (probs[c].toDouble() plusOrMinus 1e-5)
                        checked++
                    }
                }
                checked shouldBe 160
            }
        }

        // FKD's accounting: 3 epochs at 2 crops are one pass of 2 (32 images × 2 crops per step) and one single-crop epoch.
        val epochs = mutableListOf<Int>()
        val student = TrainingSetup(TinyMbv2(), QuantPolicy.FLOAT, sgd, adam, 0.0, 0).withDistillation(stored)
        fun plan(data: InMemoryDataset, store: CheckpointStore?) = PhasePlan("qat", 3, 64, data, test, store, 1, false)
        val (steps, onLabels, onTeacher) = TrainingGraph(student).use { g ->
            Session(g.graph()).use { s ->
                val trainer = Trainer(g, s, object : RunListener {
                    override fun epochEnded(m: dev.kqat.runtime.events.EpochMetrics) { epochs += m.epoch() }
                })
                val result = trainer.run(plan(train, null), null, null)
                Triple(result.steps(), result.test().top1(), trainer.evaluate(shifted(test), 64).top1())
            }
        }
        println("tiny-MBV2 student on stored soft labels (4 crops stored, 2 replayed): top-1 on the labels $onLabels, on the teacher's shifted labels $onTeacher")
        epochs shouldBe listOf(2, 3)
        steps shouldBe 3072L / 32 + 3072L / 64
        onLabels shouldBeLessThan 0.15
        onTeacher shouldBeGreaterThan 0.45

        // A run resumed at the pass boundary replays the same crops: it ends where the uninterrupted run ends.
        val small = train.head(1024)
        val smallFile = dir.resolve("small.kqsl")
        SoftLabelGenerator.generate(OnlineTeacher(teacherModel, checkpoint), small, smallFile,
            SoftLabelGenerator.Settings(4, 5, 0.35, 1.0, 0), {})
        val smallSetup = student.withDistillation(StoredSoftLabels(smallFile, 2, SoftLabelDecoding.MARGINAL_SMOOTHING))
        fun run(store: CheckpointStore, resume: java.nio.file.Path?, stopAfter: Int?) = TrainingGraph(smallSetup).use { g ->
            Session(g.graph()).use { s ->
                Trainer(g, s, object : RunListener {
                    override fun checkpointSaved(phase: String, epoch: Int, dir: java.nio.file.Path) {
                        if (epoch == stopAfter) throw StoppedForTest()
                    }
                }).run(plan(small, store), resume, null).test().loss()
            }
        }
        val straight = run(CheckpointStore(dir.resolve("stored-straight"), 2), null, null)
        val store = CheckpointStore(dir.resolve("stored-stopped"), 2)
        try {
            run(store, null, 2)
        } catch (_: StoppedForTest) {
        }
        val resumed = run(store, store.latest().get(), null)
        println("stored soft labels, resumed at epoch 2: test loss $resumed, uninterrupted $straight")
        resumed shouldBe (straight plusOrMinus 1e-5)

        // A file made for another training set is refused by name.
        shouldThrow<IllegalArgumentException> { SoftLabelReplay.open(stored, small).close() }.message shouldContain
            "written for 3072 training images, this training set has 1024"
    }
})

private class StoppedForTest : RuntimeException()

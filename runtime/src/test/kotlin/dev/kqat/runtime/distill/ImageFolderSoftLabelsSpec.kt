package dev.kqat.runtime.distill

import dev.kqat.runtime.data.ImageFolderDataset
import dev.kqat.runtime.data.ImagePipeline
import dev.kqat.runtime.data.PixelCrop
import dev.kqat.runtime.data.writeImage
import dev.kqat.runtime.events.EpochMetrics
import dev.kqat.runtime.events.RunListener
import dev.kqat.runtime.models.TinyMbv2
import dev.kqat.runtime.quant.QuantPolicy
import dev.kqat.runtime.schedule.Schedule
import dev.kqat.runtime.toFloatArray
import dev.kqat.runtime.train.CheckpointStore
import dev.kqat.runtime.train.OptimizerConfig
import dev.kqat.runtime.train.PhasePlan
import dev.kqat.runtime.train.Trainer
import dev.kqat.runtime.train.TrainingGraph
import dev.kqat.runtime.train.TrainingSetup
import io.kotest.core.spec.style.FunSpec
import io.kotest.engine.spec.tempdir
import io.kotest.matchers.doubles.plusOrMinus
import io.kotest.matchers.ints.shouldBeGreaterThan
import io.kotest.matchers.ints.shouldBeLessThanOrEqual
import io.kotest.matchers.shouldBe
import io.kotest.matchers.shouldNotBe
import kotlin.math.abs
import kotlin.math.roundToInt
import org.tensorflow.Session

/**
 * Stored soft labels on an image folder (algorithms.md §3.4, FKD): crops are drawn on each file's
 * full-size image and cut while it is decoded, when written and when replayed.
 */
class ImageFolderSoftLabelsSpec : FunSpec({
    val mean = floatArrayOf(0.5f, 0.5f, 0.5f)
    val std = floatArrayOf(0.25f, 0.25f, 0.25f)

    test("a stored crop is a crop of the file's own pixels; it is cut from them, mirrored when asked") {
        StoredCrop(0.25f, 0.5f, 0.5f, 0.25f, true, IntArray(0), FloatArray(0)).pixels(40, 56) shouldBe PixelCrop(10, 28, 20, 14, true)
        StoredCrop(0.9f, 0f, 0.2f, 1f, false, IntArray(0), FloatArray(0)).pixels(10, 7) shouldBe PixelCrop(8, 0, 2, 7, false)
        // Left half red, right half blue, a green column at x = 5 to see the mirror.
        val file = tempdir("kqat-crop").toPath().resolve("a/img.png")
        writeImage(file, 40, 30) { x, _ -> if (x == 5) 0x00FF00 else if (x < 20) 0xFF0000 else 0x0000FF }
        ImagePipeline(8, 8, mean, std).use { p ->
            p.decode(file.toString()).use { image ->
                image.height() shouldBe 30
                image.width() shouldBe 40
                fun cut(c: PixelCrop) = FloatArray(8 * 8 * 3).also { p.crop(image, c, it, 0) }
                fun level(v: Int) = (v / 255f - 0.5f) / 0.25f
                val blue = cut(PixelCrop(0, 20, 30, 20, false))
                for (px in 0 until 64) for ((c, v) in listOf(0, 0, 255).withIndex()) {
                    blue[px * 3 + c].toDouble() shouldBe (level(v).toDouble() plusOrMinus 1e-5)
                }
                val plain = cut(PixelCrop(2, 0, 24, 16, false))
                val mirrored = cut(PixelCrop(2, 0, 24, 16, true))
                for (y in 0 until 8) for (x in 0 until 8) for (c in 0 until 3) {
                    mirrored[(y * 8 + x) * 3 + c] shouldBe plain[(y * 8 + 7 - x) * 3 + c]
                }
                // The green column lies in the left part of the unmirrored crop only.
                plain[(4 * 8 + 2) * 3 + 1] shouldNotBe level(0)
                mirrored[(4 * 8 + 2) * 3 + 1].toDouble() shouldBe (level(0).toDouble() plusOrMinus 1e-5)
            }
        }
    }

    test("kqat writes crops of the full-size files and replays them exactly: the teacher on the replayed crops gives the stored top-k") {
        // Four classes by dominant colour, images of several sizes larger than the 16-pixel view.
        val root = tempdir("kqat-folder-kd").toPath()
        val rnd = java.util.Random(3)
        val sizes = listOf(48 to 36, 30 to 52, 40 to 40)
        for (k in 0 until 4) for (i in 0 until 6) for (split in listOf("train", "val")) {
            val (w, h) = sizes[(k + i) % sizes.size]
            writeImage(root.resolve("$split/c$k/$i.png"), w, h) { x, y ->
                val c = IntArray(3) { ch -> (if (ch == k % 3) 150 else 40) + (x * 3 + y * (k + 1)) % 60 + rnd.nextInt(40) }
                (c[0] shl 16) or (c[1] shl 8) or c[2]
            }
        }
        val classes = ImageFolderDataset.classNames(root.resolve("train"))
        fun open(split: String, t: ImageFolderDataset.Transform) =
            ImageFolderDataset.open(root.resolve(split), classes, t, ImagePipeline(16, 18, mean, std))
        val dir = tempdir("kqat-folder-kd-runs").toPath()
        val sgd = OptimizerConfig.sgd(Schedule.Cosine(0.05, 0.0), 0.9, 5e-5)
        val adam = OptimizerConfig.adam(Schedule.Constant(1e-5), 0.0)
        val teacher = TinyMbv2(4, intArrayOf(16, 16, 3))
        open("train", ImageFolderDataset.Transform.TRAIN_AUGMENT).use { train ->
            open("val", ImageFolderDataset.Transform.EVAL_CENTER_CROP).use { test ->
                TrainingGraph(TrainingSetup(teacher, QuantPolicy.FLOAT, sgd, adam, 0.0, 0)).use { g ->
                    Session(g.graph()).use { s ->
                        Trainer(g, s, object : RunListener {}).run(
                            PhasePlan("pretrain", 2, 8, train, test, CheckpointStore(dir.resolve("teacher"), 1), 1, false), null, null)
                    }
                }
                val checkpoint = CheckpointStore(dir.resolve("teacher"), 1).latest().get()
                val file = dir.resolve("folder.kqsl")
                val header = SoftLabelGenerator.generate(OnlineTeacher(teacher, checkpoint), train, file,
                    SoftLabelGenerator.Settings(3, 3, 0.1, 1.0, 7), {})
                header.images() shouldBe 24
                header.imageShape().toList() shouldBe listOf(16, 16, 3)

                // Boxes are whole pixels of the file's own size (not of the 16-pixel view), inside it.
                var largerThanView = 0
                SoftLabelFile.open(file).use { f ->
                    for (image in 0 until 24) {
                        val (w, h) = sizes[(image / 6 + image % 6) % sizes.size]
                        for (c in f.read(image)) {
                            for ((fraction, side) in listOf(c.top() to h, c.height() to h, c.left() to w, c.width() to w)) {
                                abs(fraction * side - (fraction * side).roundToInt()).toDouble() shouldBe (0.0 plusOrMinus 1e-3)
                            }
                            ((c.top() + c.height()) * h).roundToInt() shouldBeLessThanOrEqual h
                            ((c.left() + c.width()) * w).roundToInt() shouldBeLessThanOrEqual w
                            if ((c.height() * h).roundToInt() > 16) largerThanView++
                        }
                    }
                }
                largerThanView shouldBeGreaterThan 10

                val stored = StoredSoftLabels(file, 2, SoftLabelDecoding.MARGINAL_SMOOTHING)
                SoftLabelReplay.open(stored, train).use { replay ->
                    val (pixels, targets) = replay.batches(train, 4, 2, 11L).next().use { b ->
                        b.size() shouldBe 8
                        b.indices().size shouldBe 4
                        replay.crops(b, 2, 11L).use { crops ->
                            // The teacher on the replayed crops, through the graph's crop op with the replay's boxes.
                            val probabilities = teacherOnCrops(OnlineTeacher(teacher, checkpoint), b.images(), crops, intArrayOf(16, 16, 3))
                            val targets = crops.targets().toFloatArray()
                            for (row in 0 until 8) {
                                val p = probabilities.copyOfRange(row * 4, row * 4 + 4)
                                for (c in p.indices.sortedByDescending { p[it] }.take(3)) {
                                    targets[row * 4 + c].toDouble() shouldBe (p[c].toDouble() plusOrMinus 1e-5)
                                }
                            }
                            b.images().toFloatArray() to targets
                        }
                    }
                    // The same pass seed replays the same pixels; another draws other crops.
                    replay.batches(train, 4, 2, 11L).next().use { again ->
                        again.images().toFloatArray().toList() shouldBe pixels.toList()
                        replay.crops(again, 2, 11L).use { it.targets().toFloatArray().toList() shouldBe targets.toList() }
                    }
                    replay.batches(train, 4, 2, 12L).next().use { other ->
                        other.images().toFloatArray().toList() shouldNotBe pixels.toList()
                    }
                }

                // Training replays them: 3 epochs at 2 crops are a pass of 2 (4 images × 2 crops per step) and one single-crop epoch.
                val epochs = mutableListOf<Int>()
                val steps = TrainingGraph(TrainingSetup(TinyMbv2(4, intArrayOf(16, 16, 3)), QuantPolicy.FLOAT, sgd, adam, 0.0, 1).withDistillation(stored)).use { g ->
                    Session(g.graph()).use { s ->
                        Trainer(g, s, object : RunListener {
                            override fun epochEnded(m: EpochMetrics) {
                                epochs += m.epoch()
                                m.trainLoss().isFinite() shouldBe true
                            }
                        }).run(PhasePlan("qat", 3, 8, train, test, null, 1, false), null, checkpoint).steps()
                    }
                }
                epochs shouldBe listOf(2, 3)
                steps shouldBe 24L / 4 + 24L / 8
            }
        }
    }
})

package dev.kqat.dsl

import io.kotest.core.spec.style.FunSpec
import io.kotest.engine.spec.tempdir
import io.kotest.matchers.doubles.shouldBeGreaterThan
import io.kotest.matchers.shouldBe
import java.nio.file.Files

/** An experiment on an ImageNet-style image folder, end to end (a class of its own so that the two test JVMs share the work). */
class ImageFolderExperimentSpec : FunSpec({
    test("an image-folder experiment decodes, augments and learns: FP32, W4A4 QAT, and W4A4 QAT on stored soft labels of its files") {
        // Three classes told apart by their dominant colour channel, under pixel noise.
        val root = tempdir("kqat-images").toPath()
        val rnd = java.util.Random(5)
        for ((split, count) in listOf("train" to 64, "val" to 8)) for (k in 0 until 3) for (i in 0 until count) {
            val img = java.awt.image.BufferedImage(40, 36, java.awt.image.BufferedImage.TYPE_INT_RGB)
            for (y in 0 until 36) for (x in 0 until 40) {
                val c = IntArray(3) { ch -> (if (ch == k) 170 else 60) + rnd.nextInt(60) }
                img.setRGB(x, y, (c[0] shl 16) or (c[1] shl 8) or c[2])
            }
            val file = root.resolve("$split/class$k/$i.png")
            Files.createDirectories(file.parent)
            javax.imageio.ImageIO.write(img, "png", file.toFile())
        }
        val e = experiment("folders") {
            data { imageFolder(root.toString(), imageSize = 32, resizeSize = 36); batchSize = 16 }
            model { tinyMbv2() }
            pretrain { epochs = 6; optimizer = sgd(lr = cosine(0.05)) }
            quantize { weights { bits = 4 }; activations { bits = 4 } }
            qat { epochs = 1; optimizer = sgd(lr = cosine(0.005)) }
        }
        val runDir = tempdir("kqat-folder-run").toPath()
        val report = ExperimentRunner(e, runDir).run()
        report.fp32TestTop1!! shouldBeGreaterThan 0.9
        report.testTop1 shouldBeGreaterThan 0.9

        // FKD on the folder: the FP32 network labels 4 crops of each full-size file, QAT replays 2 per image.
        val settings = dev.kqat.runtime.distill.SoftLabelGenerator.Settings(4, 2, 0.25, 1.0, 0)
        val labels = runDir.resolve("folder.kqsl")
        var done = 0
        val header = SoftLabelWriter.write(RunTarget.resolve(runDir, "pretrain"), labels, settings) { images, all ->
            done = images
            all shouldBe 192
        }
        done shouldBe 192
        header.imageShape().toList() shouldBe listOf(32, 32, 3)
        val stored = experiment("folders-stored-kd") {
            data { imageFolder(root.toString(), imageSize = 32, resizeSize = 36); batchSize = 16 }
            model { tinyMbv2() }
            initFrom = RunTarget.resolve(runDir, "pretrain").checkpoint.toString()
            quantize { weights { bits = 4 }; activations { bits = 4 } }
            qat { epochs = 2; optimizer = sgd(lr = cosine(0.005)) }
            distill { softLabels(labels.toString(), crops = 2) }
        }
        val kd = ExperimentRunner(stored, tempdir("kqat-folder-kd-run").toPath()).run()
        // One pass of 2 crops: 8 images × 2 crops per step.
        kd.phases.single { it.phase == "qat" }.steps shouldBe 192L / 8
        kd.testTop1 shouldBeGreaterThan 0.9
    }
})

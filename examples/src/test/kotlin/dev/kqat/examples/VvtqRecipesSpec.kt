package dev.kqat.examples

import dev.kqat.dsl.DatasetSpec
import dev.kqat.dsl.DistillationSpec
import dev.kqat.dsl.ModelSpec
import dev.kqat.dsl.adam
import dev.kqat.dsl.adamW
import dev.kqat.dsl.architecture
import dev.kqat.dsl.cosine
import dev.kqat.dsl.perEpoch
import dev.kqat.runtime.distill.SoftLabelFile
import dev.kqat.runtime.distill.StoredCrop
import dev.kqat.runtime.oscillation.OscillationSpec
import dev.kqat.runtime.quant.QuantMap
import dev.kqat.runtime.quant.QuantizerSpec
import dev.kqat.scripts.ScriptHost
import io.kotest.core.TestConfiguration
import io.kotest.core.spec.style.FunSpec
import io.kotest.engine.spec.tempdir
import io.kotest.engine.spec.tempfile
import io.kotest.matchers.shouldBe
import java.io.File
import java.nio.file.Files

/** VVTQ's published ImageNet recipes (algorithms.md §3.5–3.6) as scripts: DeiT-T and Swin-T at W4A4, W3A3, W2A2. */
class VvtqRecipesSpec : FunSpec({
    val root = generateSequence(File("").absoluteFile) { it.parentFile }.first { File(it, "examples/quickstart.qat.kts").isFile }
    val host = ScriptHost(tempdir("kqat-vvtq-cache").toPath())

    test("the six recipes declare §3.5–3.6: VVTQ map and bits, AdamW 5e-4 / 1e-4 cosine, 150 epochs, batch 512, drop-path 0.1, bin regulariser, distillation (stored crops when given)") {
        val images = tempdir("kqat-vvtq-images").toPath()
        for (split in listOf("train", "val")) for (c in listOf("a", "b")) Files.createDirectories(images.resolve(split).resolve(c))
        val weights = Files.writeString(tempfile("deit", ".safetensors").toPath(), "read only when a run starts")
        System.setProperty("kqat.imagenet", images.toString())
        System.setProperty("kqat.fp32_weights", weights.toString())
        try {
            for (model in listOf("deit-tiny", "swin-tiny")) for (bits in listOf(4, 3, 2)) {
                val e = host.evaluate(File(root, "examples/vvtq/$model-w${bits}a$bits.qat.kts"))
                e.model.architecture shouldBe model
                (e.model as ModelSpec.Transformer).dropPath shouldBe 0.1
                e.initFrom shouldBe weights.toString()
                e.data.batchSize shouldBe 512
                (e.data.dataset as DatasetSpec.ImageFolder).resizeSize shouldBe 256
                val q = e.quantization!!
                q.map() shouldBe QuantMap.VVTQ
                q.weights() shouldBe QuantizerSpec.vvtqWeights(bits)
                q.activations() shouldBe QuantizerSpec.vvtqActivations(bits)
                q.firstLastBits() shouldBe 8
                e.qat!!.epochs shouldBe 150
                e.qat!!.optimizer shouldBe adamW(lr = cosine(5e-4, 0.0), weightDecay = 1e-4)
                e.qat!!.quantizerOptimizer shouldBe adam(lr = cosine(5e-4, 0.0))
                e.oscillations!!.binRegularizer() shouldBe OscillationSpec.BinRegularizer.DEFAULT
                e.distillation shouldBe DistillationSpec()
            }
            // With FKD soft labels of the folder, the recipes replay 4 stored crops per image as the reference does.
            val labels = softLabelFile(1000, intArrayOf(224, 224, 3))
            System.setProperty("kqat.soft_labels", labels.toString())
            try {
                host.evaluate(File(root, "examples/vvtq/swin-tiny-w2a2.qat.kts")).distillation shouldBe
                    DistillationSpec(softLabels = labels.toString(), crops = 4)
            } finally {
                System.clearProperty("kqat.soft_labels")
            }
        } finally {
            System.clearProperty("kqat.imagenet")
            System.clearProperty("kqat.fp32_weights")
        }
    }

    test("the tiny-ViT scripts: one cached FP32 recipe, then VVTQ W4A4/W3A3 plain, + regulariser, + distillation, + both") {
        val fp32 = host.evaluate(File(root, "examples/vvtq/tiny-vit-fp32.qat.kts"))
        for ((name, expected) in mapOf(
            "w4a4" to Triple(4, false, false), "w3a3" to Triple(3, false, false), "w3a3-reg" to Triple(3, true, false),
            "w3a3-kd" to Triple(3, false, true), "w3a3-reg-kd" to Triple(3, true, true), "w4a4-reg-kd" to Triple(4, true, true),
            "w3a3-reg-1" to Triple(3, true, false), "w3a3-reg-100" to Triple(3, true, false),
        )) {
            val e = host.evaluate(File(root, "examples/vvtq/tiny-vit-$name.qat.kts"))
            val (bits, regularized, distilled) = expected
            e.pretrain shouldBe fp32.pretrain // the same cached FP32 checkpoint for every row
            e.model shouldBe fp32.model
            e.quantization!!.map() shouldBe QuantMap.VVTQ
            e.quantization!!.weights()!!.bits() shouldBe bits
            e.quantization!!.activations()!!.bits() shouldBe bits
            e.qat!!.epochs shouldBe 3
            (e.oscillations!!.binRegularizer() != null) shouldBe regularized
            (e.distillation != null) shouldBe distilled
        }
        // The two weights chosen for this task beside the paper's 0.01, each the same cosine from a quarter of the epochs.
        for ((name, top) in mapOf("w3a3-reg-1" to 1.0, "w3a3-reg-100" to 100.0)) {
            host.evaluate(File(root, "examples/vvtq/tiny-vit-$name.qat.kts")).oscillations!!.binRegularizer()!!.weight() shouldBe
                perEpoch(cosine(0.0, top, delay = 0.25))
        }
    }

    test("the stored-soft-label tiny-ViT script replays 2 crops per image from the file KQAT_SOFT_LABELS names") {
        val file = softLabelFile(10, intArrayOf(28, 28, 1))
        System.setProperty("kqat.soft_labels", file.toString())
        try {
            val e = host.evaluate(File(root, "examples/vvtq/tiny-vit-w3a3-stored-kd.qat.kts"))
            e.distillation shouldBe DistillationSpec(softLabels = file.toString(), crops = 2)
            e.quantization!!.weights()!!.bits() shouldBe 3
            e.qat!!.epochs shouldBe 3
        } finally {
            System.clearProperty("kqat.soft_labels")
        }
    }
})

/** A soft-label file of one image with 8 crops, enough for a script's validation to read its header. */
private fun TestConfiguration.softLabelFile(classes: Int, imageShape: IntArray): java.nio.file.Path {
    val file = tempdir("kqat-vvtq-kqsl").toPath().resolve("labels.kqsl")
    SoftLabelFile.Writer(file, SoftLabelFile.Header(1, 8, classes, 5, imageShape, 0, "t", 0, 0.35, 1.0)).use { w ->
        w.append(List(8) { StoredCrop(0f, 0f, 1f, 1f, false, IntArray(5) { it }, FloatArray(5) { 0.1f }) })
        w.finish()
    }
    return file
}

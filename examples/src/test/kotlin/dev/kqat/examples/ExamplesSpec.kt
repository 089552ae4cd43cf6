package dev.kqat.examples

import dev.kqat.dsl.DatasetSpec
import dev.kqat.dsl.ExperimentRunner
import dev.kqat.dsl.PretrainCache
import dev.kqat.dsl.ToyRunner
import dev.kqat.dsl.ToyStudy
import dev.kqat.dsl.architecture
import dev.kqat.dsl.constant
import dev.kqat.dsl.cosine
import dev.kqat.dsl.experiment
import dev.kqat.dsl.perEpoch
import dev.kqat.dsl.sgd
import dev.kqat.runtime.oscillation.OscillationSpec
import dev.kqat.runtime.quant.RangeInit
import dev.kqat.runtime.train.OptimizerConfig
import dev.kqat.scripts.Overrides
import dev.kqat.scripts.ScriptException
import dev.kqat.scripts.ScriptHost
import io.kotest.core.spec.style.FunSpec
import io.kotest.engine.spec.tempdir
import io.kotest.matchers.doubles.plusOrMinus
import io.kotest.matchers.doubles.shouldBeGreaterThan
import io.kotest.matchers.shouldBe
import io.kotest.matchers.string.shouldContain
import java.io.File

/** The shipped scripts compile and declare what they say, and the toy study runs (paper recipes: PaperRecipesSpec; the quickstart: QuickstartSpec). */
class ExamplesSpec : FunSpec({
    val root = generateSequence(File("").absoluteFile) { it.parentFile }.first { File(it, "examples/quickstart.qat.kts").isFile }
    val host = ScriptHost(tempdir("kqat-examples-cache").toPath())

    test("reference scripts declare benchmark.md's task") {
        val fp32 = host.evaluate(File(root, "examples/reference/fp32.qat.kts"))
        fp32.pretrain!!.epochs shouldBe 8
        fp32.qat shouldBe null
        val variants = listOf(3, 4).flatMap { bits -> listOf("lsq", "dampen", "freeze").map { "w${bits}a$bits-$it" to 3 } } +
            listOf("lsq", "dampen", "freeze").map { "w3a3-$it-long" to 10 }
        for ((name, epochs) in variants) {
            val q = host.evaluate(File(root, "examples/reference/$name.qat.kts"))
            val bits = name[1].digitToInt()
            q.pretrain shouldBe fp32.pretrain
            q.quantization!!.weights!!.bits shouldBe bits
            q.quantization!!.activations!!.bits shouldBe bits
            q.quantization!!.firstLastBits shouldBe 8
            q.qat!!.epochs shouldBe epochs
            // benchmark.md: the published MobileNetV2 per-bit lr and weight decay (5e-5 for 4-bit freezing).
            q.qat!!.optimizer.learningRate shouldBe perEpoch(cosine(if (bits == 3) 0.01 else 0.0033, 0.0))
            q.qat!!.optimizer.weightDecay shouldBe if (bits == 4 && "freeze" in name) 5e-5 else 2.5e-5
            q.evaluation.bnReestimationBatches shouldBe 50
            q.oscillations!!.tracking!!.threshold shouldBe 0.005
            // benchmark.md variants: (b) dampening cosine 0 -> 0.1, (c) freezing cosine 0.1 -> 0.01 after 25 %.
            q.oscillations!!.dampening shouldBe if ("dampen" in name) OscillationSpec.Dampening(cosine(0.0, 0.1), OscillationSpec.Aggregation.KERNEL_MEAN, 0.25) else null
            q.oscillations!!.freezing shouldBe if ("freeze" in name) OscillationSpec.Freezing(cosine(0.1, 0.01), 0.25, true) else null
        }
    }

    test("the tiny-ViT script declares docs/benchmarks.md's ViT task: tiny ViT, at most 15 epochs, AdamW with warm-up and cosine") {
        val vit = host.evaluate(File(root, "examples/vvtq/tiny-vit-fp32.qat.kts"))
        vit.model.architecture shouldBe "tiny-vit"
        vit.data.dataset shouldBe DatasetSpec.FashionMnist()
        vit.data.batchSize shouldBe 128
        vit.pretrain!!.epochs shouldBe 15
        vit.pretrain!!.optimizer.kind() shouldBe OptimizerConfig.Kind.ADAMW
        vit.pretrain!!.optimizer.weightDecay() shouldBe 0.05
        vit.pretrain!!.optimizer.learningRate() shouldBe dev.kqat.dsl.warmup(0.05, cosine(1e-3, 0.0))
        vit.quantization shouldBe null
    }

    test("the toy-regression script shows the oscillation under plain STE and its removal, in pictures") {
        val study = host.evaluateDeclaration(File(root, "examples/toy-regression.qat.kts")) as ToyStudy
        study.variants.keys shouldBe setOf("plain STE", "dampening", "freezing")
        val dir = tempdir("kqat-toy").toPath()
        val outcomes = ToyRunner.run(study, dir).associateBy { it.variant }
        outcomes.getValue("plain STE").flipsPerStep shouldBe (0.8 plusOrMinus 0.02)
        outcomes.getValue("plain STE").upperStateShare shouldBe (0.6 plusOrMinus 0.02)
        // Dampening flips until λ passes 0.4, then never again; freezing stops them early.
        outcomes.getValue("dampening").integer.takeLast(1000).toSet() shouldBe setOf(1f)
        outcomes.getValue("freezing").flipsPerStep shouldBe 0.0
        outcomes.getValue("freezing").integer.takeLast(4000).toSet() shouldBe setOf(1f)
        val pictures = ToyRunner.draw(dir)
        pictures.map { it.fileName.toString() } shouldBe listOf("toy-trajectory.png", "toy-integers.png")
        pictures.forEach { (javax.imageio.ImageIO.read(it.toFile()).width > 400) shouldBe true }
    }
})

package dev.kqat.examples

import dev.kqat.dsl.DampeningSpec
import dev.kqat.dsl.ExperimentRunner
import dev.kqat.dsl.FreezingSpec
import dev.kqat.dsl.cosine
import dev.kqat.dsl.PretrainCache
import dev.kqat.dsl.ToyRunner
import dev.kqat.dsl.ToyStudy
import dev.kqat.scripts.Overrides
import dev.kqat.scripts.ScriptHost
import io.kotest.core.spec.style.FunSpec
import io.kotest.matchers.doubles.plusOrMinus
import io.kotest.matchers.doubles.shouldBeGreaterThan
import io.kotest.matchers.shouldBe
import java.io.File
import java.nio.file.Files

/** The shipped scripts compile, declare what they say, and the quickstart trains on real data. */
class ExamplesSpec : FunSpec({
    val root = generateSequence(File("").absoluteFile) { it.parentFile }.first { File(it, "examples/quickstart.qat.kts").isFile }
    val host = ScriptHost(Files.createTempDirectory("kqat-examples-cache"))

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
            q.evaluation.bnReestimationBatches shouldBe 50
            q.oscillations!!.tracking!!.threshold shouldBe 0.005
            // benchmark.md variants: (b) dampening cosine 0 -> 0.1, (c) freezing cosine 0.1 -> 0.01 after 25 %.
            q.oscillations!!.dampening shouldBe if ("dampen" in name) DampeningSpec(cosine(0.0, 0.1)) else null
            q.oscillations!!.freezing shouldBe if ("freeze" in name) FreezingSpec(cosine(0.1, 0.01), after = 0.25) else null
        }
    }

    test("the toy-regression script shows the oscillation under plain STE and its removal, in pictures") {
        val study = host.evaluateDeclaration(File(root, "examples/toy-regression.qat.kts")) as ToyStudy
        study.variants.keys shouldBe setOf("plain STE", "dampening", "freezing")
        val dir = Files.createTempDirectory("kqat-toy")
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

    test("the quickstart script trains FP32 then W4A4 on a Fashion-MNIST subset") {
        val e = Overrides.apply(
            host.evaluate(File(root, "examples/quickstart.qat.kts")),
            listOf("data.trainLimit=4096", "data.testLimit=1000", "pretrain.epochs=2", "qat.epochs=1"),
        )
        val dir = Files.createTempDirectory("kqat-quickstart")
        val report = ExperimentRunner(e, dir, cache = PretrainCache(Files.createTempDirectory("kqat-pc"))).run()
        report.fp32TestTop1!! shouldBeGreaterThan 0.55 // chance is 0.1
        report.testTop1 shouldBeGreaterThan 0.50
    }
})

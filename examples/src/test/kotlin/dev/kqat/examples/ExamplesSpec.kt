package dev.kqat.examples

import dev.kqat.dsl.ExperimentRunner
import dev.kqat.dsl.PretrainCache
import dev.kqat.scripts.Overrides
import dev.kqat.scripts.ScriptHost
import io.kotest.core.spec.style.FunSpec
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
        for (bits in listOf(3, 4)) {
            val q = host.evaluate(File(root, "examples/reference/w${bits}a${bits}-lsq.qat.kts"))
            q.pretrain shouldBe fp32.pretrain
            q.quantization!!.weights!!.bits shouldBe bits
            q.quantization!!.activations!!.bits shouldBe bits
            q.quantization!!.firstLastBits shouldBe 8
            q.qat!!.epochs shouldBe 3
        }
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

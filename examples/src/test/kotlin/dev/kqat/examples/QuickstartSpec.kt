package dev.kqat.examples

import dev.kqat.dsl.ExperimentRunner
import dev.kqat.dsl.PretrainCache
import dev.kqat.scripts.Overrides
import dev.kqat.scripts.ScriptHost
import io.kotest.core.spec.style.FunSpec
import io.kotest.engine.spec.tempdir
import io.kotest.matchers.doubles.shouldBeGreaterThan
import java.io.File

/** The quickstart trains on real data (its own spec, so that it runs beside ExamplesSpec in the second test JVM). */
class QuickstartSpec : FunSpec({
    val root = generateSequence(File("").absoluteFile) { it.parentFile }.first { File(it, "examples/quickstart.qat.kts").isFile }
    val host = ScriptHost(tempdir("kqat-quickstart-cache").toPath())

    test("the quickstart script trains FP32 then W4A4 on a Fashion-MNIST subset") {
        val e = Overrides.apply(
            host.evaluate(File(root, "examples/quickstart.qat.kts")),
            listOf("data.trainLimit=4096", "data.testLimit=1000", "pretrain.epochs=2", "qat.epochs=1"),
        )
        val dir = tempdir("kqat-quickstart").toPath()
        val report = ExperimentRunner(e, dir, cache = PretrainCache(tempdir("kqat-pc").toPath())).run()
        report.fp32TestTop1!! shouldBeGreaterThan 0.55 // chance is 0.1
        report.testTop1 shouldBeGreaterThan 0.50
    }
})

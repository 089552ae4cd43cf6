package dev.kqat.scripts

import dev.kqat.dsl.DatasetSpec
import io.kotest.assertions.throwables.shouldThrow
import io.kotest.core.spec.style.FunSpec
import io.kotest.engine.spec.tempdir
import io.kotest.matchers.shouldBe
import io.kotest.matchers.string.shouldContain
import java.io.File

class ScriptHostSpec : FunSpec({
    val dir = tempdir("kqat-scripts").toPath().toFile()
    val host = ScriptHost(tempdir("kqat-script-cache").toPath())

    fun script(name: String, text: String) = File(dir, name).apply { writeText(text.trimIndent()) }

    test("a script's last expression is its experiment; args reach the script") {
        val f = script("ok.qat.kts", """
            experiment("from-script") {
                seed = args.size.toLong()
                data { synthetic(trainSize = 64, testSize = 16) ; batchSize = 16 }
                pretrain { epochs = 1 }
            }
        """)
        val e = host.evaluate(f, arrayOf("a", "b"))
        e.name shouldBe "from-script"
        e.seed shouldBe 2L
        (e.data.dataset is DatasetSpec.Synthetic) shouldBe true
        e.sourceLines["data"] shouldBe 3
        // A second evaluation comes from the compiled-script cache and gives the same value.
        host.evaluate(f, arrayOf("a", "b")) shouldBe e
    }

    test("a type error is reported with file:line:col") {
        val f = script("typo.qat.kts", """
            experiment("typo") {
                data { synthetic() }
                pretrain { epochs = "three" }
            }
        """)
        val e = shouldThrow<ScriptException> { host.evaluate(f) }
        e.message shouldContain "typo.qat.kts:3:"
        e.message shouldContain "String"
    }

    test("validation problems name the field and the script line of its block") {
        val f = script("invalid.qat.kts", """
            experiment("invalid") {
                data { synthetic() }
                pretrain {
                    epochs = 0
                }
            }
        """)
        val e = shouldThrow<ScriptException> { host.evaluate(f) }
        e.message shouldContain "invalid.qat.kts:3: pretrain.epochs: must be >= 1, got 0"
    }

    test("a script that does not end with an experiment is refused") {
        val f = script("nothing.qat.kts", "val x = 1")
        shouldThrow<ScriptException> { host.evaluate(f) }.message shouldContain "must end with an experiment"
    }
})

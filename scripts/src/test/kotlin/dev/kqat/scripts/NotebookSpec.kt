package dev.kqat.scripts

import dev.kqat.dsl.Experiment
import dev.kqat.dsl.ExperimentJson
import dev.kqat.dsl.Report
import dev.kqat.scripts.notebook.FinishedRun
import io.kotest.core.spec.style.FunSpec
import io.kotest.engine.spec.tempdir
import io.kotest.matchers.collections.shouldContainAll
import io.kotest.matchers.collections.shouldContainExactly
import io.kotest.matchers.shouldBe
import io.kotest.matchers.string.shouldContain
import io.kotest.matchers.string.shouldStartWith
import io.kotest.matchers.types.shouldBeInstanceOf
import java.nio.file.Files
import java.nio.file.Path
import kotlinx.serialization.json.jsonArray
import kotlinx.serialization.json.jsonObject
import kotlinx.serialization.json.jsonPrimitive

/**
 * `examples/notebooks/quickstart.ipynb` run cell by cell in one REPL session with the `kqat.json`
 * descriptor, as the Kotlin Jupyter kernel runs it; only the run directory is moved to a temporary folder.
 */
class NotebookSpec : FunSpec({
    val folder = Path.of("../examples/notebooks")
    val descriptor = NotebookSession.readJson(folder.resolve("kqat.json"))
    val cells = NotebookSession.codeCells(NotebookSession.readJson(folder.resolve("quickstart.ipynb")))
    val runDir = tempdir("kqat-notebook").toPath().resolve("run")

    test("the descriptor depends on this build's kqat-scripts and imports what a script sees") {
        val version = descriptor.getValue("properties").jsonArray.map { it.jsonObject }
            .single { it.getValue("name").jsonPrimitive.content == "v" }.getValue("value").jsonPrimitive.content
        version shouldBe System.getProperty("kqat.version")
        descriptor.getValue("dependencies").jsonArray.map { it.jsonPrimitive.content } shouldContainExactly listOf("dev.kqat:kqat-scripts:\$v")
        descriptor.getValue("imports").jsonArray.map { it.jsonPrimitive.content } shouldContainAll scriptImports
    }

    test("the quickstart notebook runs in one REPL session: summary, live progress, finished run with plots") {
        cells.size shouldBe 4
        cells[0] shouldStartWith "%use kqat"
        val session = NotebookSession(descriptor)
        session.run(cells[0]).value shouldBe null

        val summary = session.run(cells[1])
        summary.value.shouldBeInstanceOf<Experiment>()
        val html = summary.bundle!!.getValue("text/html")
        html shouldContain "experiment notebook-quickstart"
        html shouldContain "W4A4, first/last layers 8 bits"
        html shouldContain "calibrate and evaluate, no training"
        html shouldContain "BN re-estimation over 4 batches"
        html shouldContain "experiment.json"

        val trained = session.run(cells[2].replace("\"runs/notebook-quickstart\"", "\"$runDir\""))
        val run = trained.value.shouldBeInstanceOf<FinishedRun>()
        val report = ExperimentJson.decodeFromString(Report.serializer(), Files.readString(runDir.resolve("report.json")))
        run.report shouldBe report
        // One live line per phase: shown once, then only replaced.
        for (phase in listOf("pretrain", "ptq", "qat")) {
            val events = trained.displayed.filter { it.id?.endsWith("-$phase") == true }
            events.first().kind shouldBe "display"
            events.drop(1).map { it.kind }.toSet() shouldBe setOf("update")
            (events.last().value as Map<*, *>)["text/html"].toString() shouldContain "[$phase] done"
        }
        val qatLast = (trained.displayed.last { it.id?.endsWith("-qat") == true }.value as Map<*, *>)["text/html"].toString()
        qatLast shouldContain "top-1 %.4f".format(report.testTop1)
        val runHtml = trained.bundle!!.getValue("text/html")
        runHtml shouldContain "%.4f".format(report.testTop1)
        runHtml shouldContain "%.4f".format(report.ptqTestTop1)
        for (phase in listOf("pretrain", "ptq", "qat")) runHtml shouldContain "<td>$phase</td>"
        run.plots.size shouldBe 2
        runHtml.split("<img").size - 1 shouldBe 2
        runHtml shouldContain "src=\"data:image/png;base64,iVBOR" // PNG signature, base64

        val figures = session.run(cells[3])
        figures.bundle!!.getValue("text/plain") shouldBe
            "QAT %.4f, PTQ %.4f, FP32 %.4f".format(report.testTop1, report.ptqTestTop1, report.fp32TestTop1)
    }

})

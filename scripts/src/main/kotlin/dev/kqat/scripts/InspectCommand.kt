package dev.kqat.scripts

import com.github.ajalt.clikt.core.CliktCommand
import com.github.ajalt.clikt.core.Context
import com.github.ajalt.clikt.parameters.arguments.argument
import com.github.ajalt.clikt.parameters.options.flag
import com.github.ajalt.clikt.parameters.options.option
import com.github.ajalt.clikt.parameters.types.path
import dev.kqat.dsl.ExperimentJson
import dev.kqat.dsl.Inspection
import dev.kqat.dsl.RunInspector
import dev.kqat.dsl.RunTarget

class InspectCommand : CliktCommand(name = "inspect") {
    override fun help(context: Context) =
        "One row per weight layer of a run's final checkpoint (RUN_DIR) or of one checkpoint folder: " +
            "bits, signedness, step sizes, oscillating and frozen share, BitOPs, size; and totals"

    private val target by argument("RUN_DIR|CHECKPOINT").path()
    private val json by option("--json", help = "print the table as one JSON object").flag()

    override fun run() = Launch.exitingOnFailure(this) {
        val inspection = RunInspector.inspect(RunTarget.resolve(target))
        if (json) echo(ExperimentJson.encodeToString(Inspection.serializer(), inspection))
        else InspectionTable.lines(inspection).forEach { echo(it) }
    }
}

/** The inspection as a fixed-width text table. */
internal object InspectionTable {
    private const val FORMAT = "%-24s %-14s %9s %4s %4s %-5s %-4s %-19s %8s %7s %10s %9s"

    fun lines(i: Inspection): List<String> = buildList {
        add("checkpoint ${i.checkpoint} (phase ${i.phase}, epoch ${i.epoch})")
        add(FORMAT.format("layer", "kind", "weights", "W", "A", "sign", "chan", "weight step", "osc %", "frozen %", "MBitOPs", "size KiB"))
        for (r in i.layers) {
            add(FORMAT.format(
                r.name, r.kind, r.weights, r.weightBits ?: "fp", r.activationBits ?: "fp",
                "${sign(r.weightSigned)}/${sign(r.activationSigned)}",
                when (r.perChannel) { true -> "ch"; false -> "t"; null -> "-" },
                if (r.weightStepMin == null) "-" else "%.2e..%.2e".format(r.weightStepMin, r.weightStepMax),
                r.oscillatingFraction?.let { "%.2f".format(100 * it) } ?: "-",
                r.frozenFraction?.let { "%.2f".format(100 * it) } ?: "-",
                "%.2f".format(r.bitOps / 1e6), "%.2f".format(r.sizeBytes / 1024),
            ))
        }
        val t = i.totals
        add(FORMAT.format(
            "total (${i.layers.size} layers)", "", t.weights, "", "", "", "", "",
            t.oscillatingFraction?.let { "%.2f".format(100 * it) } ?: "-",
            t.frozenFraction?.let { "%.2f".format(100 * it) } ?: "-",
            "%.2f".format(t.bitOps / 1e6), "%.2f".format(t.sizeBytes / 1024),
        ))
        add("W/A: bits of weights/inputs (fp: floating point, counted at 32 bits); sign: s signed, u unsigned; " +
            "chan: ch per-channel, t per-tensor; MBitOPs per image = MACs × W × A / 1e6")
    }

    private fun sign(signed: Boolean?) = when (signed) { true -> "s"; false -> "u"; null -> "-" }
}

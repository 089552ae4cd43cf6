package dev.kqat.scripts

import com.github.ajalt.clikt.core.CliktCommand
import com.github.ajalt.clikt.core.Context
import com.github.ajalt.clikt.core.main
import com.github.ajalt.clikt.parameters.arguments.argument
import com.github.ajalt.clikt.parameters.groups.provideDelegate
import com.github.ajalt.clikt.parameters.arguments.multiple
import kotlin.system.exitProcess

/**
 * A `*.qat.kts` script run by `kotlinc -script FILE -- [--out DIR] [--set k=v] [--resume DIR]`:
 * the script's `experiment { }` call becomes `kqat run FILE` — same options, run directory,
 * console and exit codes — and then ends the process, since kotlinc would only print the value.
 */
internal object StandaloneScript {
    fun run(args: Array<String>, declare: () -> Any): Nothing {
        StandaloneCommand(declare).main(args)
        exitProcess(0)
    }
}

private class StandaloneCommand(private val declare: () -> Any) : CliktCommand(name = "kotlinc -script FILE.qat.kts --") {
    override fun help(context: Context) = "Run this experiment script as `kqat run` would"

    // The script may read options of its own from `args`; they reach it untouched.
    override val treatUnknownOptionsAsArgs = true

    private val options by RunOptions()
    private val scriptArgs by argument("ARGS", help = "the script's own arguments").multiple()

    override fun run() = Launch.exitingOnFailure(this) { echo -> Launch.declared(declareAtScriptLine(), options, echo) }

    /** The declaration, with a failure inside the script's blocks named by its `file:line`, as [ScriptHost] names it. */
    private fun declareAtScriptLine(): Any = try {
        declare()
    } catch (e: Exception) {
        val frame = e.stackTrace.firstOrNull { it.fileName?.endsWith(".kts") == true } ?: throw e
        throw ScriptException("${frame.fileName}:${frame.lineNumber}: ${e.message ?: e.javaClass.simpleName}", e)
    }
}

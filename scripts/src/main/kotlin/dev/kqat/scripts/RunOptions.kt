package dev.kqat.scripts

import com.github.ajalt.clikt.parameters.groups.OptionGroup
import com.github.ajalt.clikt.parameters.options.multiple
import com.github.ajalt.clikt.parameters.options.option
import com.github.ajalt.clikt.parameters.types.path

/** The options of a run, the same for `kqat run FILE` and for `kotlinc -script FILE --`. */
class RunOptions : OptionGroup() {
    val out by option("--out", help = "run directory (default runs/<name>-<time>)").path()
    val sets by option("--set", help = "override a field, e.g. --set qat.epochs=1").multiple()
    val resume by option("--resume", help = "continue the run in this directory").path()
}

package dev.kqat.dsl

/**
 * Finds the script line that called a builder, by walking the stack to the first frame whose
 * source file is a `.kts` script; 0 when called from compiled code (notebooks, tests).
 */
internal object ScriptLine {
    fun caller(): Int = frame()?.lineNumber ?: 0

    fun file(): String? = frame()?.fileName

    private fun frame(): StackTraceElement? =
        Throwable().stackTrace.firstOrNull { it.fileName?.endsWith(".kts") == true }
}

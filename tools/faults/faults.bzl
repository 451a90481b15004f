"""A binary rebuilt with the launcher's test-only faults compiled in.

`with_test_faults(name, binary)` builds `binary` (and everything it links)
a second time with -DCELL_TEST_FAULTS, through a configuration transition,
and exposes it as `name`. The faults (base/test_faults.h) then switch off
one protection each when named in the CELL_TEST_FAULTS environment
variable. Only testonly targets can depend on the result: the `cell` that
installs and ships never contains a fault point (the define is absent, so
TestFault() is the constant false and the code behind it is gone), which
//tests/integration:faults_absent_test checks on the built binary.
"""

def _faults_transition_impl(settings, attr):
    return {
        "//command_line_option:copt": settings["//command_line_option:copt"] +
                                      ["-DCELL_TEST_FAULTS=1"],
    }

_faults_transition = transition(
    implementation = _faults_transition_impl,
    inputs = ["//command_line_option:copt"],
    outputs = ["//command_line_option:copt"],
)

def _with_test_faults_impl(ctx):
    binary = ctx.attr.binary[0][DefaultInfo].files_to_run.executable
    out = ctx.actions.declare_file(ctx.label.name)

    # A copy, and only the copy in the runfiles: the transitioned binary has
    # the same short path as the shipped one (launcher/cell), and a test
    # holding both would otherwise get whichever the runfiles tree kept.
    ctx.actions.run_shell(
        inputs = [binary],
        outputs = [out],
        command = "cp \"$1\" \"$2\" && chmod 0755 \"$2\"",
        arguments = [binary.path, out.path],
        mnemonic = "CopyFaultBuild",
    )
    return [DefaultInfo(
        executable = out,
        files = depset([out]),
        runfiles = ctx.runfiles(files = [out]),
    )]

with_test_faults = rule(
    implementation = _with_test_faults_impl,
    executable = True,
    attrs = {
        "binary": attr.label(
            cfg = _faults_transition,
            executable = True,
            mandatory = True,
        ),
        "_allowlist_function_transition": attr.label(
            default = "@bazel_tools//tools/allowlists/function_transition_allowlist",
        ),
    },
)

"""cell_fuzzer: one fuzz target, two ways to build it.

- `NAME`: under `--config=fuzz` a libFuzzer binary (clang, ASan, UBSan); in
  a normal build the same target linked with a corpus-replaying main.
- `NAME_corpus_test`: replays `corpus` through the target in every
  `bazel test //...`, so seed inputs and every crash found (added to the
  corpus) stay regression tests.
"""

load("@rules_cc//cc:defs.bzl", "cc_binary", "cc_test")

def cell_fuzzer(name, srcs, deps, corpus):
    """`corpus`: the seed input files (a glob)."""
    cc_binary(
        name = name,
        testonly = True,
        srcs = srcs,
        deps = deps + select({
            "//tests/fuzz:fuzz_build": [],
            "//conditions:default": ["//tests/fuzz:corpus_main"],
        }),
        linkopts = select({
            "//tests/fuzz:fuzz_build": ["-fsanitize=fuzzer"],
            "//conditions:default": [],
        }),
    )
    cc_test(
        name = name + "_corpus_test",
        size = "small",
        srcs = srcs,
        deps = deps + ["//tests/fuzz:corpus_main"],
        data = corpus,
        args = ["$(location %s)" % f for f in corpus],
    )

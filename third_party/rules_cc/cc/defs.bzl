"""Re-exports Bazel's native C++ rules under the rules_cc names.

Debian's rules_cc 0.0.4 needs a newer Bazel than Debian's 4.2.3. Our BUILD
files load from @rules_cc//cc:defs.bzl as upstream code does, so they stay
valid on a newer Bazel with the real rules_cc.
"""

cc_binary = native.cc_binary
cc_import = native.cc_import
cc_library = native.cc_library
cc_proto_library = native.cc_proto_library
cc_test = native.cc_test
cc_toolchain = native.cc_toolchain
cc_toolchain_suite = native.cc_toolchain_suite
objc_library = native.objc_library

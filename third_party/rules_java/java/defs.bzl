"""Re-exports Bazel's native Java rules under the rules_java names.

Bazel 4.2.3's own @bazel_tools packages load these names from @rules_java at
analysis time, even for C++-only builds. This project builds no Java; a
stand-in keeps the workspace free of host paths, so the same WORKSPACE works
on Debian and inside a Nix build.
"""

java_binary = native.java_binary
java_import = native.java_import
java_library = native.java_library
java_lite_proto_library = native.java_lite_proto_library
java_proto_library = native.java_proto_library
java_test = native.java_test
java_package_configuration = native.java_package_configuration
java_plugin = native.java_plugin
java_runtime = native.java_runtime
java_toolchain = native.java_toolchain

"""A repository rule that turns pkg-config modules into cc_library targets.

Debian and Nix both ship .pc files for abseil, RE2, GoogleTest and
nlohmann-json, so asking pkg-config is the one lookup that works on both
without downloading anything. Each target becomes a cc_library carrying the
modules' link flags (in pkg-config's order, which abseil needs), defines, and
headers from any non-system include dir (symlinked into the repository so that
Bazel's inclusion checking sees them as declared).
"""

def _run_pkg_config(ctx, pkg_config, args):
    result = ctx.execute([pkg_config] + args)
    if result.return_code != 0:
        fail("pkg-config %s failed (%s). Install the -dev package that provides it " %
             (" ".join(args), result.stderr.strip()) +
             "(on Debian run ./setup.sh) or set PKG_CONFIG_PATH.")
    return result.stdout.strip()

def _split_flags(text):
    return [flag for flag in text.split(" ") if flag]

# Parts of the C runtime: always linked the way the toolchain links libc.
_RUNTIME_LIBS = ["c", "m", "dl", "rt", "pthread", "atomic", "stdc++", "gcc_s"]

def _prefer_static(ctx, libs, libdirs):
    """-lNAME -> -l:libNAME.a where that archive exists in a library dir.

    Abseil alone is ~30 shared objects; resolving them costs a launch about
    10 ms, more than the whole sandbox setup. Static archives remove that.
    """
    result = []
    for flag in libs:
        if flag.startswith("-L"):
            libdirs.append(flag[2:])
        name = flag[2:] if flag.startswith("-l") and not flag.startswith("-l:") else None
        if name and name not in _RUNTIME_LIBS:
            for libdir in libdirs:
                if ctx.path("%s/lib%s.a" % (libdir, name)).exists:
                    flag = "-l:lib%s.a" % name
                    break
        result.append(flag)
    return result

def _impl(ctx):
    pkg_config = ctx.which("pkg-config")
    if not pkg_config:
        fail("pkg-config is not on PATH; install it (on Debian run ./setup.sh).")

    include_links = {}  # host include dir -> symlink inside this repository
    lines = [
        'load("@rules_cc//cc:defs.bzl", "cc_library")',
        "",
        'package(default_visibility = ["//visibility:public"])',
        "",
    ]
    for target, modules in sorted(ctx.attr.targets.items()):
        args = list(modules)
        cflags = _split_flags(_run_pkg_config(ctx, pkg_config, ["--cflags"] + args))
        libs = _split_flags(_run_pkg_config(ctx, pkg_config, ["--libs"] + args))
        if ctx.attr.prefer_static:
            libdirs = [
                _run_pkg_config(ctx, pkg_config, ["--variable=libdir", module])
                for module in modules
            ]
            libs = _prefer_static(ctx, libs, [d for d in libdirs if d])

        includes = []
        defines = []
        linkopts = list(libs)
        pending_isystem = False
        for flag in cflags:
            include_dir = None
            if pending_isystem:
                include_dir = flag
                pending_isystem = False
            elif flag == "-isystem":
                pending_isystem = True
            elif flag.startswith("-isystem"):
                include_dir = flag[len("-isystem"):]
            elif flag.startswith("-I"):
                include_dir = flag[2:]
            elif flag.startswith("-D"):
                defines.append(flag[2:])
            elif flag == "-pthread":
                if flag not in linkopts:
                    linkopts.append(flag)
            else:
                fail("pkg-config %s: unsupported compile flag %r" % (" ".join(args), flag))
            if include_dir:
                if include_dir not in include_links:
                    link = "include/%d" % len(include_links)
                    ctx.symlink(include_dir, link)
                    include_links[include_dir] = link
                if include_links[include_dir] not in includes:
                    includes.append(include_links[include_dir])

        hdrs = ["glob([%r])" % (include + "/**") for include in includes]
        lines += [
            "cc_library(",
            "    name = %r," % target,
            "    hdrs = %s," % (" + ".join(hdrs) if hdrs else "[]"),
            "    includes = %r," % includes,
            "    defines = %r," % defines,
            "    linkopts = %r," % linkopts,
            ")",
            "",
        ]
    ctx.file("WORKSPACE", 'workspace(name = "%s")\n' % ctx.name)
    ctx.file("BUILD.bazel", "\n".join(lines))

pkg_config_repository = repository_rule(
    implementation = _impl,
    attrs = {
        "targets": attr.string_list_dict(
            mandatory = True,
            doc = "cc_library name -> pkg-config modules it links.",
        ),
        "prefer_static": attr.bool(
            default = True,
            doc = "Link a library's static archive when one exists.",
        ),
    },
    environ = ["PATH", "PKG_CONFIG_PATH", "PKG_CONFIG_LIBDIR"],
    local = True,
)

def _system_library_impl(ctx):
    """A library that ships no .pc file (Debian's libhttp-parser-dev)."""
    include_dirs = ["/usr/include", "/usr/local/include"]
    lib_dirs = ["/usr/lib/x86_64-linux-gnu", "/usr/lib/aarch64-linux-gnu", "/usr/lib64", "/usr/lib", "/usr/local/lib"]

    # Nix's compiler wrappers say where inputs live through these.
    for var, flag, dirs in [("NIX_CFLAGS_COMPILE", "-isystem", include_dirs), ("NIX_LDFLAGS", "-L", lib_dirs)]:
        words = _split_flags(ctx.os.environ.get(var, ""))
        for i, word in enumerate(words):
            if word == flag and i + 1 < len(words):
                dirs.insert(0, words[i + 1])
            elif word.startswith(flag) and len(word) > len(flag):
                dirs.insert(0, word[len(flag):])
    for var, dirs in [("CPATH", include_dirs), ("LIBRARY_PATH", lib_dirs)]:
        for entry in ctx.os.environ.get(var, "").split(":"):
            if entry:
                dirs.insert(0, entry)

    header_dir = None
    for d in include_dirs:
        if ctx.path("%s/%s" % (d, ctx.attr.header)).exists:
            header_dir = d
            break
    if not header_dir:
        fail("%s not found (looked in %s); install %s (on Debian run ./setup.sh)" %
             (ctx.attr.header, ", ".join(include_dirs), ctx.attr.package))
    linkopt = None
    for d in lib_dirs:
        if ctx.path("%s/lib%s.a" % (d, ctx.attr.library)).exists:
            linkopt = "-l:lib%s.a" % ctx.attr.library
            if d not in ["/usr/lib", "/usr/lib64", "/usr/lib/x86_64-linux-gnu", "/usr/lib/aarch64-linux-gnu"]:
                linkopt = "-L%s %s" % (d, linkopt)
            break
    if not linkopt:
        fail("lib%s.a not found (looked in %s); install %s (on Debian run ./setup.sh)" %
             (ctx.attr.library, ", ".join(lib_dirs), ctx.attr.package))
    hdrs = "[]"
    includes = []
    if header_dir not in ["/usr/include", "/usr/local/include"]:
        ctx.symlink("%s/%s" % (header_dir, ctx.attr.header), "include/" + ctx.attr.header)
        hdrs = repr(["include/" + ctx.attr.header])
        includes = ["include"]
    ctx.file("WORKSPACE", 'workspace(name = "%s")\n' % ctx.name)
    ctx.file("BUILD.bazel", "\n".join([
        'load("@rules_cc//cc:defs.bzl", "cc_library")',
        "",
        'package(default_visibility = ["//visibility:public"])',
        "",
        "cc_library(",
        "    name = %r," % ctx.name,
        "    hdrs = %s," % hdrs,
        "    includes = %r," % includes,
        "    linkopts = %r," % _split_flags(linkopt),
        ")",
        "",
    ]))

system_library_repository = repository_rule(
    implementation = _system_library_impl,
    attrs = {
        "header": attr.string(mandatory = True, doc = "The header to find."),
        "library": attr.string(mandatory = True, doc = "NAME of libNAME.a."),
        "package": attr.string(mandatory = True, doc = "What to install when missing."),
    },
    environ = ["CPATH", "LIBRARY_PATH", "NIX_CFLAGS_COMPILE", "NIX_LDFLAGS"],
    local = True,
)

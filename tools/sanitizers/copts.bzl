"""Copts for code that runs inside cells and so must stay fully static.

ASan cannot be linked statically, so under --config=asan the probe, the
test helpers run inside cells and what they link are built without
sanitizers (their unit tests and the fuzz config still instrument them).
"""

NO_SANITIZER_COPTS = select({
    "//tools/sanitizers:asan_build": ["-fno-sanitize=all"],
    "//conditions:default": [],
})

# For code that must keep working when its process has no descriptor left
# (the builtin engine under a cell that holds many connections). UBSan's
# vptr check reads the object's vtable only after proving the memory
# readable by writing it to a pipe; with no descriptor for the pipe it
# reports a type mismatch that is not there, in std::thread's own state.
# Everything else stays checked; these files keep ASan and the rest of UBSan.
NO_VPTR_CHECK_COPTS = select({
    "//tools/sanitizers:asan_build": ["-fno-sanitize=vptr"],
    "//conditions:default": [],
})
